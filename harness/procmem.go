package harness

import (
	"bufio"
	"bytes"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"
)

// ProcMem is this process's memory as /proc/self/status states it, in
// bytes: the resident set (VmRSS), its anonymous part (RssAnon: heap and
// anonymous mappings) and its file-backed part (RssFile: mapped files such
// as a model), and the peak resident set (VmHWM).
type ProcMem struct {
	RSS, Anon, File, Peak int64
}

// ProcStatusPath is the file ReadProcMem reads.
const ProcStatusPath = "/proc/self/status"

// ReadProcMem reads this process's memory (Linux); elsewhere, or when the
// file lacks VmRSS, it returns an error naming the file.
func ReadProcMem() (ProcMem, error) {
	data, err := os.ReadFile(ProcStatusPath)
	if err != nil {
		return ProcMem{}, fmt.Errorf("reading resident memory: %w", err)
	}
	return ParseProcStatus(ProcStatusPath, data)
}

// ParseProcStatus reads the memory lines of a /proc/<pid>/status file's
// content (values in kB). VmRSS is required; a malformed value of any of
// the lines read is an error naming the file and the line.
func ParseProcStatus(name string, data []byte) (ProcMem, error) {
	var m ProcMem
	fields := map[string]*int64{"VmRSS:": &m.RSS, "RssAnon:": &m.Anon, "RssFile:": &m.File, "VmHWM:": &m.Peak}
	seen := false
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 0 {
			continue
		}
		dst, ok := fields[f[0]]
		if !ok {
			continue
		}
		if len(f) != 3 || f[2] != "kB" {
			return ProcMem{}, fmt.Errorf("%s: line %q: want \"<name> <number> kB\"", name, sc.Text())
		}
		kb, err := strconv.ParseInt(f[1], 10, 64)
		if err != nil || kb < 0 || kb > math.MaxInt64/1024 {
			return ProcMem{}, fmt.Errorf("%s: line %q: %q is not a size in kB", name, sc.Text(), f[1])
		}
		*dst = kb * 1024
		seen = seen || f[0] == "VmRSS:"
	}
	if !seen {
		return ProcMem{}, fmt.Errorf("%s: no VmRSS line", name)
	}
	return m, nil
}

// MiB converts bytes to MiB rounded to 0.1, as the report's *_mb fields.
func MiB(b int64) float64 { return math.Round(float64(b)/(1<<20)*10) / 10 }

package host

import (
	"bufio"
	"errors"
	"io"
	"os"
	"strconv"
	"strings"
)

// MemInfoPath is where Linux describes the memory.
const MemInfoPath = "/proc/meminfo"

// MemInfo is what /proc/meminfo says, in bytes; 0 where it does not say.
type MemInfo struct {
	// TotalBytes is MemTotal.
	TotalBytes int64
	// AvailableBytes is MemAvailable: what can be allocated without
	// swapping.
	AvailableBytes int64
}

// ParseMemInfo reads a /proc/meminfo listing. A line that does not parse
// leaves its figure 0; it is an error when neither MemTotal nor
// MemAvailable is given.
func ParseMemInfo(r io.Reader) (MemInfo, error) {
	var m MemInfo
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 2 {
			continue
		}
		var dst *int64
		switch fields[0] {
		case "MemTotal:":
			dst = &m.TotalBytes
		case "MemAvailable:":
			dst = &m.AvailableBytes
		default:
			continue
		}
		if kb, err := strconv.ParseInt(fields[1], 10, 64); err == nil && kb > 0 {
			*dst = kb * 1024
		}
	}
	if err := sc.Err(); err != nil {
		return m, err
	}
	if m.TotalBytes == 0 && m.AvailableBytes == 0 {
		return m, errors.New("meminfo gives neither MemTotal nor MemAvailable")
	}
	return m, nil
}

// Memory reads MemInfoPath now (MemAvailable changes as the node runs).
func Memory() (MemInfo, error) {
	f, err := os.Open(MemInfoPath)
	if err != nil {
		return MemInfo{}, err
	}
	defer f.Close()
	return ParseMemInfo(f)
}

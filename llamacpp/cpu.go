package llamacpp

import (
	"bufio"
	"io"
	"os"
	"runtime"
	"strings"
)

// physicalCores is the number of physical cores this process may use: the
// distinct (physical id, core id) pairs of /proc/cpuinfo, bounded by the
// CPUs the scheduler gives the process. SMT siblings share a core's
// execution units, so llama.cpp runs best with one thread per core.
func physicalCores() int {
	n := runtime.NumCPU()
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return n
	}
	defer f.Close()
	if c := countCores(f); c > 0 && c < n {
		return c
	}
	return n
}

// countCores counts distinct (physical id, core id) pairs in cpuinfo text;
// 0 when the file does not say.
func countCores(r io.Reader) int {
	seen := map[[2]string]bool{}
	phys, core := "", ""
	flush := func() {
		if core != "" {
			seen[[2]string{phys, core}] = true
		}
		phys, core = "", ""
	}
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := sc.Text()
		if strings.TrimSpace(line) == "" {
			flush()
			continue
		}
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		switch strings.TrimSpace(k) {
		case "physical id":
			phys = strings.TrimSpace(v)
		case "core id":
			core = strings.TrimSpace(v)
		}
	}
	flush()
	return len(seen)
}

package host

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
)

// CPUInfoPath is where Linux describes the CPUs.
const CPUInfoPath = "/proc/cpuinfo"

// CPUInfo is what /proc/cpuinfo says about the processors.
type CPUInfo struct {
	// Model is the first "model name" line.
	Model string
	// Flags are the feature names that every processor lists, sorted and
	// de-duplicated: the x86 "flags" lines, or, where there is none, the
	// arm64 "Features" lines. Threads may land on any processor, so a
	// feature one of them lacks (a hypervisor may mask one vCPU) is not
	// usable and not listed.
	Flags []string
	// FlagsKey is the kind of line Flags came from: "flags" (x86),
	// "Features" (arm64), or "" when the listing has neither.
	FlagsKey string
	// Logical is the number of "processor" entries.
	Logical int
	// Physical is the number of distinct (physical id, core id) pairs, or 0
	// when the listing does not give them (some VMs, arm64).
	Physical int
}

// Has reports whether every processor lists the feature name.
func (c CPUInfo) Has(name string) bool {
	_, ok := slices.BinarySearch(c.Flags, name)
	return ok
}

// ParseCPUInfo reads a /proc/cpuinfo listing. The error is the reader's
// (or a line longer than 1 MiB); a listing without flags or core ids is
// not an error, those fields stay empty.
func ParseCPUInfo(r io.Reader) (CPUInfo, error) {
	var info CPUInfo
	cores := map[[2]string]bool{}
	physID, coreID := "", ""
	endProcessor := func() {
		if coreID != "" {
			cores[[2]string{physID, coreID}] = true
		}
		physID, coreID = "", ""
	}
	lines := map[string]int{}
	count := map[string]map[string]int{"flags": {}, "Features": {}}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if strings.TrimSpace(line) == "" {
			endProcessor()
			continue
		}
		key, val, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		key, val = strings.TrimSpace(key), strings.TrimSpace(val)
		switch key {
		case "processor":
			info.Logical++
		case "model name":
			if info.Model == "" {
				info.Model = val
			}
		case "physical id":
			physID = val
		case "core id":
			coreID = val
		case "flags", "Features":
			lines[key]++
			seen := map[string]bool{}
			for _, f := range strings.Fields(val) {
				if !seen[f] {
					seen[f] = true
					count[key][f]++
				}
			}
		}
	}
	endProcessor()
	if err := sc.Err(); err != nil {
		return CPUInfo{}, err
	}
	info.Physical = len(cores)
	for _, key := range []string{"flags", "Features"} {
		if lines[key] == 0 {
			continue
		}
		info.FlagsKey = key
		for f, n := range count[key] {
			if n == lines[key] {
				info.Flags = append(info.Flags, f)
			}
		}
		slices.Sort(info.Flags)
		break
	}
	return info, nil
}

// ReadCPUInfo parses the cpuinfo file at path.
func ReadCPUInfo(path string) (CPUInfo, error) {
	f, err := os.Open(path)
	if err != nil {
		return CPUInfo{}, err
	}
	defer f.Close()
	info, err := ParseCPUInfo(f)
	if err != nil {
		return CPUInfo{}, fmt.Errorf("reading %s: %w", path, err)
	}
	return info, nil
}

var current = sync.OnceValues(func() (CPUInfo, error) { return ReadCPUInfo(CPUInfoPath) })

// CPU is this machine's CPUInfoPath, read once per process.
func CPU() (CPUInfo, error) { return current() }

// PhysicalCores is the number of physical cores this process may use: the
// distinct (physical id, core id) pairs of /proc/cpuinfo, bounded by the
// CPUs the scheduler gives the process (runtime.NumCPU), which is also the
// answer when cpuinfo does not list cores. SMT siblings share a core's
// execution units, so compute-bound kernels run best with one thread per
// core.
func PhysicalCores() int {
	n := runtime.NumCPU()
	if c, err := CPU(); err == nil && c.Physical > 0 && c.Physical < n {
		return c.Physical
	}
	return n
}

// Threads is the thread count a backend or command uses when asked for
// requested threads: requested when positive, else PhysicalCores.
func Threads(requested int) int {
	if requested > 0 {
		return requested
	}
	return PhysicalCores()
}

// CheckThreads refuses more threads than this node has logical cores
// unless oversubscribe is set: past the cores, threads that spin-wait for
// each other (llama.cpp's) slow a run down by orders of magnitude, and
// every figure of it with them.
func CheckThreads(threads int, oversubscribe bool) error {
	if n := runtime.NumCPU(); threads > n && !oversubscribe {
		return fmt.Errorf("--threads %d: this node has %d logical cores; more threads than cores distort every figure (give --oversubscribe to measure that anyway)", threads, n)
	}
	return nil
}

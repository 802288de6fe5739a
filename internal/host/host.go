// Package host reads the facts about the machine a benchmark runs on, each
// in one place: /proc/cpuinfo (CPU model, feature flags, logical and
// physical cores), /proc/meminfo (total and available memory), the C
// compiler, and the memory bandwidth the decode roofline divides by.
//
// A thread count of 0 means the physical cores this process may use
// (PhysicalCores, through Threads) everywhere: in the CLI and in every
// backend. The report's record of the facts (report.Host, JSON) stays in
// report; internal/cpuid computes the CPU fingerprint from this package's
// cpuinfo reader. The package is pure Go and imports nothing of the module.
package host

import (
	"context"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"time"
)

// Facts describe this machine. Facts that cannot be read are left zero.
type Facts struct {
	// Name is the host name.
	Name string
	// OS and Arch are runtime.GOOS and runtime.GOARCH.
	OS, Arch string
	// CPU is /proc/cpuinfo.
	CPU CPUInfo
	// Cores is PhysicalCores.
	Cores int
	// MemoryBytes is MemTotal of /proc/meminfo.
	MemoryBytes int64
	// GoVersion is the Go toolchain the binary was built with.
	GoVersion string
	// CCompiler is the first line of `cc --version`.
	CCompiler string
}

// Collect describes this machine: host name, OS and architecture, the CPU
// (/proc/cpuinfo), its physical cores, memory (/proc/meminfo), the Go
// version and the C compiler. Memory bandwidth is measured separately
// (MeasureMemBandwidth): it takes seconds.
func Collect() Facts {
	f := Facts{OS: runtime.GOOS, Arch: runtime.GOARCH, GoVersion: runtime.Version(), Cores: PhysicalCores()}
	if name, err := os.Hostname(); err == nil {
		f.Name = name
	}
	if cpu, err := CPU(); err == nil {
		f.CPU = cpu
	}
	if m, err := Memory(); err == nil {
		f.MemoryBytes = m.TotalBytes
	}
	f.CCompiler = CCompilerVersion()
	return f
}

// CCompilerVersion returns the first line of `cc --version`, or "" when no C
// compiler answers within a few seconds.
func CCompilerVersion() string {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "cc", "--version").Output()
	if err != nil {
		return ""
	}
	line, _, _ := strings.Cut(string(out), "\n")
	return strings.TrimSpace(line)
}

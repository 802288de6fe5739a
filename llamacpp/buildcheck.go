package llamacpp

import (
	"fmt"
	"strings"
	"sync"

	"github.com/fakbench/fakbench/internal/buildisa"
	"github.com/fakbench/fakbench/internal/cpuid"
	"github.com/fakbench/fakbench/transport"
)

// buildCPU compares the CPU the native code of this binary was compiled for
// with the CPU it runs on. llama.cpp is compiled with -march=native, so a
// binary built on one node (or objects taken from a build cache another
// node filled) can target features this CPU lacks, and would die with
// SIGILL in the first kernel that uses one. Available refuses such a binary
// before any of llama.cpp runs.
type buildCPU struct {
	// targeted are the features the C and C++ compilers targeted
	// (internal/buildisa), with /proc/cpuinfo's names.
	targeted []string
	// buildFP is the CPU fingerprint the build flags carried, "" when none.
	buildFP string
	// cpu is this CPU; cpuErr says why it could not be read.
	cpu    cpuid.CPU
	cpuErr error
}

var currentBuildCPU = sync.OnceValue(func() buildCPU {
	b := buildisa.Read()
	cpu, err := cpuid.Current()
	return buildCPU{targeted: b.Targeted(), buildFP: b.Fingerprint(), cpu: cpu, cpuErr: err}
})

// checkBuildCPU is Available's check that this CPU can run the native code.
func checkBuildCPU() error { return currentBuildCPU().err() }

// addBuildCPUSettings records the build's and this CPU's fingerprints (and
// what the native code targets) in a backend's settings.
func addBuildCPUSettings(settings map[string]string) {
	for k, v := range currentBuildCPU().settings() {
		settings[k] = v
	}
}

// missing lists the targeted features this CPU lacks (none when the CPU
// could not be read: then nothing is known to be missing).
func (b buildCPU) missing() []string {
	if b.cpuErr != nil {
		return nil
	}
	return b.cpu.Missing(b.targeted)
}

// err is a *transport.UnavailableError naming the features the native code
// needs and this CPU lacks, with the fix; nil when the CPU has them all or
// cannot be read.
func (b buildCPU) err() error {
	miss := b.missing()
	if len(miss) == 0 {
		return nil
	}
	built := "a CPU fingerprint this binary does not record"
	if b.buildFP != "" {
		built = "CPU fingerprint " + b.buildFP
	}
	return &transport.UnavailableError{Backend: Name, Reason: fmt.Sprintf(
		"this binary's llama.cpp code was compiled for CPU features this CPU lacks (%s), so it would die with SIGILL (illegal instruction): "+
			"it was built for %s, this CPU is %s; rebuild on this node with `make build` (it compiles with -march=native for this CPU)",
		strings.Join(miss, ", "), built, b.cpu.Fingerprint)}
}

// settings are the build_cpu_* entries of Backend.Settings.
func (b buildCPU) settings() map[string]string {
	s := map[string]string{
		"build_cpu_fingerprint": b.buildFP,
		"cpu_fingerprint":       b.cpu.Fingerprint,
		"build_isa":             strings.Join(b.targeted, ","),
	}
	if b.buildFP == "" {
		s["build_cpu_fingerprint"] = "not recorded (built without the Makefile's -D" + cpuid.Define + ")"
	}
	switch {
	case b.cpuErr != nil:
		s["cpu_fingerprint"] = "unknown: " + b.cpuErr.Error()
		s["build_cpu_match"] = "unknown"
	case b.buildFP == "":
		s["build_cpu_match"] = "unknown"
	default:
		s["build_cpu_match"] = fmt.Sprint(b.buildFP == b.cpu.Fingerprint)
	}
	if miss := b.missing(); len(miss) > 0 {
		s["build_isa_missing"] = strings.Join(miss, ",")
	}
	return s
}

package nodebench

import (
	"errors"
	"fmt"
	"strings"

	"github.com/fakbench/fakbench/internal/buildisa"
	"github.com/fakbench/fakbench/internal/cpuid"
)

// Values of BuildCPU.Status.
const (
	// BuildCPUMatch: the binary was built for this CPU.
	BuildCPUMatch = "match"
	// BuildCPUMismatch: it was built for another CPU, or its native code
	// targets features this CPU lacks. The run stops.
	BuildCPUMismatch = "mismatch"
	// BuildCPUNotRecorded: its cgo flags carry no CPU fingerprint (not built
	// by make build, e.g. a test binary of a plain go test).
	BuildCPUNotRecorded = "not_recorded"
	// BuildCPUUnknown: this CPU's features could not be read.
	BuildCPUUnknown = "unknown"
)

// BuildCPU says whether the binary's native code (llama.cpp compiled with
// -march=native) was built for the CPU the run is on. The Makefile puts the
// CPU fingerprint into CGO_CFLAGS and CGO_CXXFLAGS, and the binary's build
// info records them.
type BuildCPU struct {
	// BuildFingerprint is the fingerprint in the binary's build info
	// (-DFAK_CPU_FINGERPRINT=<fp>), "" when none is recorded.
	BuildFingerprint string `json:"build_fingerprint"`
	// CPUFingerprint is this CPU's (scripts/cpu_fingerprint.sh, internal/cpuid).
	CPUFingerprint string `json:"cpu_fingerprint"`
	// Status is one of BuildCPUMatch, BuildCPUMismatch, BuildCPUNotRecorded
	// and BuildCPUUnknown.
	Status string `json:"status"`
	// NativeISA are the x86 features the binary's C and C++ code targets
	// (the compilers' predefined macros), named as /proc/cpuinfo names them.
	NativeISA []string `json:"native_isa"`
	// CPUISA are this CPU's features that the fingerprint covers.
	CPUISA []string `json:"cpu_isa"`
	// Missing are the NativeISA features this CPU lacks.
	Missing []string `json:"missing_features,omitempty"`
	// Detail says what was found, and the fix when it is a mismatch.
	Detail string `json:"detail"`
}

// CheckBuildCPU compares the fingerprint a binary was built for (buildFP, or
// buildErr when its C and C++ flags disagree) and the features its native
// code targets with this CPU (or cpuErr when it cannot be read).
func CheckBuildCPU(buildFP string, buildErr error, native []string, cpu cpuid.CPU, cpuErr error) BuildCPU {
	b := BuildCPU{BuildFingerprint: buildFP, CPUFingerprint: cpu.Fingerprint, NativeISA: native, CPUISA: cpu.ISA}
	if b.NativeISA == nil {
		b.NativeISA = []string{}
	}
	if b.CPUISA == nil {
		b.CPUISA = []string{}
	}
	if cpuErr == nil {
		b.Missing = cpu.Missing(native)
	}
	const fix = "rebuild it on this node with `make build` (scripts/node_bench.sh does), which compiles with -march=native and this CPU's fingerprint"
	switch {
	case buildErr != nil:
		b.Status = BuildCPUMismatch
		b.Detail = fmt.Sprintf("%v; %s", buildErr, fix)
	case len(b.Missing) > 0:
		b.Status = BuildCPUMismatch
		b.Detail = fmt.Sprintf("the binary's native code targets CPU features this CPU lacks (%s) and would die with SIGILL; it was built for CPU fingerprint %s, this CPU is %s; %s",
			strings.Join(b.Missing, ", "), orNone(buildFP), cpu.Fingerprint, fix)
	case cpuErr != nil:
		b.Status = BuildCPUUnknown
		b.Detail = "cannot read this CPU's features: " + cpuErr.Error()
	case buildFP == "":
		b.Status = BuildCPUNotRecorded
		b.Detail = "the binary's cgo flags carry no -D" + cpuid.Define + " (it was not built by make build), so the CPU it was built for is not known; this CPU is " + cpu.Fingerprint
	case buildFP != cpu.Fingerprint:
		b.Status = BuildCPUMismatch
		b.Detail = fmt.Sprintf("the binary was built for CPU fingerprint %s, but this CPU is %s: its -march=native code is another CPU's (tuned for it, and it may use instructions this CPU lacks); %s",
			buildFP, cpu.Fingerprint, fix)
	default:
		b.Status = BuildCPUMatch
		b.Detail = "the binary was built for this CPU (fingerprint " + cpu.Fingerprint + ")"
	}
	return b
}

// CollectBuildCPU is CheckBuildCPU for this binary (its build info) on this
// machine (/proc/cpuinfo); native are the features its native code targets
// (internal/buildisa).
func CollectBuildCPU(native []string) BuildCPU {
	fp, err := cpuid.BinaryFingerprint()
	cpu, cerr := cpuid.Current()
	return CheckBuildCPU(fp, err, native, cpu, cerr)
}

// CurrentBuildCPU is CollectBuildCPU with the features this binary's C and
// C++ compilers targeted.
func CurrentBuildCPU() BuildCPU { return CollectBuildCPU(buildisa.Read().Targeted()) }

// Err is the reason a run must stop (Status BuildCPUMismatch), else nil.
func (b BuildCPU) Err() error {
	if b.Status == BuildCPUMismatch {
		return errors.New("binary built for another CPU: " + b.Detail)
	}
	return nil
}

func orNone(s string) string {
	if s == "" {
		return "(none recorded)"
	}
	return s
}

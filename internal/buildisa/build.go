package buildisa

import (
	"slices"
	"strings"
)

// Build is what the compilers of this binary's native code targeted.
type Build struct {
	// C and CXX are the features the C compiler (CGO_CFLAGS) and the C++
	// compiler (CGO_CXXFLAGS) targeted, in isa_features.txt order.
	C, CXX []string
	// CFingerprint and CXXFingerprint are the CPU fingerprints the flags
	// defined (-DFAK_CPU_FINGERPRINT=<fp>), "" when none.
	CFingerprint, CXXFingerprint string
	// Compiled is false when the binary was built without cgo (no native
	// code, nothing targeted).
	Compiled bool
}

// Targeted is every feature either compiler targeted, sorted: the features
// the CPU needs to run the native code.
func (b Build) Targeted() []string {
	out := append(slices.Clone(b.C), b.CXX...)
	slices.Sort(out)
	return slices.Compact(out)
}

// Fingerprint is the CPU fingerprint the native code was compiled with: the
// one both compilers saw, or, when they differ, both ("c=<fp> c++=<fp>").
func (b Build) Fingerprint() string {
	if b.CFingerprint == b.CXXFingerprint {
		return b.CFingerprint
	}
	return "c=" + b.CFingerprint + " c++=" + b.CXXFingerprint
}

func fields(s string) []string {
	f := strings.Fields(s)
	if len(f) == 0 {
		return nil
	}
	return f
}

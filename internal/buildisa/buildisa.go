//go:build cgo

// Package buildisa reports the x86 instruction-set features that the C and
// C++ compilers targeted when they compiled this binary's native code, and
// the CPU fingerprint its build flags carried. It is compiled with the same
// CGO_CFLAGS and CGO_CXXFLAGS as llama.cpp and ggml (the Makefile exports
// them to every cgo package), so what it reports is what -march=native (or
// any other -m flag) made them target. The feature names are those of
// /proc/cpuinfo (see internal/cpuid), so a caller can tell whether the CPU
// it runs on has them all, before any of that code runs.
//
// This file holds every cgo call of the package.
package buildisa

/*
#include "buildisa.h"

static const char *fak_buildisa_c_features(void) { return fak_buildisa_features(); }
static const char *fak_buildisa_c_fingerprint(void) { return fak_buildisa_fingerprint(); }

const char *fak_buildisa_cxx_features(void);
const char *fak_buildisa_cxx_fingerprint(void);
*/
import "C"

// Read returns what the two compilers targeted.
func Read() Build {
	return Build{
		C:              fields(C.GoString(C.fak_buildisa_c_features())),
		CXX:            fields(C.GoString(C.fak_buildisa_cxx_features())),
		CFingerprint:   C.GoString(C.fak_buildisa_c_fingerprint()),
		CXXFingerprint: C.GoString(C.fak_buildisa_cxx_fingerprint()),
		Compiled:       true,
	}
}

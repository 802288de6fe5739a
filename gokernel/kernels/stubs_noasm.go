//go:build !amd64 || noasm

package kernels

// archSets returns no SIMD set: on this architecture (or with the noasm
// build tag) only the pure-Go "generic" set exists.
func archSets() []*kernelSet { return nil }

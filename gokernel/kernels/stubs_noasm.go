//go:build !amd64 || noasm

package kernels

import "errors"

var errNoAsm = errors.New("this build has no assembly kernels (another architecture than amd64, or the noasm tag)")

// archSets returns no SIMD set: on this architecture (or with the noasm
// build tag) only the pure-Go "generic" set exists.
func archSets() []*kernelSet {
	for _, n := range []string{"avx2", "avx512", "amx"} {
		unavailable[n] = errNoAsm
	}
	return nil
}

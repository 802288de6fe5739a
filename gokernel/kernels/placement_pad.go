//go:build fakpad

package kernels

// Built only with -tags fakpad: a small function linked ahead of the asm
// kernels, so a binary built with the tag has every kernel at another
// address (by a multiple of 32 bytes, the linker's function alignment)
// than the same binary built without it. Timing a kernel in both shows
// how much of its speed is its placement (docs/kernels.md, "Loop
// alignment").

var placementSink [4]int

//go:noinline
func placementPad(i int) {
	placementSink[0] += i
	placementSink[1] ^= i
	placementSink[2] -= i
	placementSink[3] |= i
}

func init() { placementPad(1) }

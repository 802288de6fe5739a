package kernels

import "unsafe"

// bytesAsF32 views little-endian float32 bytes as []float32 without a copy.
// GGUF data is aligned (32 bytes by default), so the view is aligned.
func bytesAsF32(b []byte) []float32 {
	if len(b) == 0 {
		return nil
	}
	return unsafe.Slice((*float32)(unsafe.Pointer(&b[0])), len(b)/4)
}

// F32Bytes views a []float32 as its little-endian bytes without a copy.
func F32Bytes(f []float32) []byte {
	if len(f) == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(&f[0])), len(f)*4)
}

// BytesF32 views little-endian float32 bytes as []float32 without a copy.
func BytesF32(b []byte) []float32 { return bytesAsF32(b) }

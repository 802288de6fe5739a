//go:build amd64 && !noasm

package kernels

import "golang.org/x/sys/cpu"

// The amx set's bf16 tile kernels (amxbf16_amd64.s) for the prefill of f16
// and f32 weights; amxbf16.go has the split, the layouts and the pure-Go
// twins (splitBF16Generic, packF16BF16Generic, packF32BF16Generic,
// tileBF16Generic).

// splitBF16AVX512 is splitBF16Generic for nkb > 0:
//
//	for kb := 0; kb < nkb; kb++ {
//		for k := 0; k < 32; k++ {
//			hi, lo := splitBF16(x[32*kb+k])
//			binary.LittleEndian.PutUint16(dst[kb*step+2*k:], hi)
//			binary.LittleEndian.PutUint16(dst[kb*step+1024+2*k:], lo)
//		}
//	}
//
//go:noescape
func splitBF16AVX512(x *float32, nkb int, dst *byte, step int)

// packF16BF16AVX512 is packF16BF16Generic for nkb > 0:
//
//	for kb := 0; kb < nkb; kb++ {
//		for n := 0; n < 16; n++ {
//			for k := 0; k < 32; k++ {
//				hi, lo := splitBF16(f16At(w, n*ldw+2*(32*kb+k)))
//				o := kb*step + 64*(k/2) + 4*n + 2*(k%2)
//				binary.LittleEndian.PutUint16(dst[o:], hi)
//				binary.LittleEndian.PutUint16(dst[o+1024:], lo)
//			}
//		}
//	}
//
//go:noescape
func packF16BF16AVX512(w *byte, ldw int, nkb int, dst *byte, step int)

// packF32BF16AVX512 is packF16BF16AVX512 for f32 rows (f32le(w[n*ldw+
// 4*(32*kb+k):]) in place of the f16 value).
//
//go:noescape
func packF32BF16AVX512(w *byte, ldw int, nkb int, dst *byte, step int)

// amxBF16 is tileBF16Generic for ng > 0, nkb > 0, nt > 0, with cfg the
// tile configuration bf16Config (the sums' order within a block may
// differ):
//
//	for T := 0; T < nt; T++ {
//		for m := 0; m < 16; m++ {
//			for n := 0; n < 32*ng; n++ {
//				var acc float32
//				for kb := 0; kb < nkb; kb++ {
//					at := a[T*lda+kb*2048+64*m:]                              // hi; lo at +1024
//					bt := b[(n/32*nkb+kb)*4096+2048*(n%32/16)+4*(n%16):] // hi; lo at +1024
//					for _, p := range [][2]int{{0, 0}, {0, 1024}, {1024, 0}} {
//						for k := 0; k < 32; k++ {
//							acc += bf16At(at, p[0]+2*k) * bf16At(bt, p[1]+64*(k/2)+2*(k%2))
//						}
//					}
//				}
//				c[(16*T+m)*ldc+n] = acc
//			}
//		}
//	}
//
//go:noescape
func amxBF16(b *byte, ng int, nkb int, a *byte, lda int, nt int, c *float32, ldc int, cfg *byte)

// bf16Config is the tile configuration amxBF16 loads (palette 1): all
// eight tiles 16 rows of 64 bytes (tmm0-3 results, 4-5 activations, 6-7
// weights).
var bf16Config = func() (c [64]byte) {
	c[0] = 1
	for t := 0; t < 8; t++ {
		c[16+2*t] = 64
		c[48+t] = bf16Tile
	}
	return c
}()

// hasBF16Tiles says whether the CPU has what the bf16 kernels execute
// beyond the amx set's base (whose avx512 part already has AVX-512 BW for
// VPMOVZXWD on 512 bits): AMX-BF16 (TDPBF16PS) and AVX-512 BF16
// (VCVTNE2PS2BF16). The tile data permission is the amx set's.
func hasBF16Tiles() bool {
	return cpu.X86.HasAMXBF16 && cpu.X86.HasAVX512BF16
}

var bf16AMX = &bf16Kernels{split: splitBF16Asm, packF16: packF16BF16Asm, packF32: packF32BF16Asm, tile: tileBF16Asm}

func splitBF16Asm(x []float32, nkb int, dst []byte, step int) {
	if nkb <= 0 {
		return
	}
	checkStride("splitBF16", "step", step, 2*bf16TileBytes)
	checkBF16("splitBF16", len(x), 32*nkb, "x")
	checkBF16("splitBF16", len(dst), (nkb-1)*step+bf16TileBytes+64, "dst")
	splitBF16AVX512(&x[0], nkb, &dst[0], step)
}

func packBF16Check(kernel string, w []byte, ldw, nkb, bytesPerValue int, dst []byte, step int) {
	checkStride(kernel, "ldw", ldw, 0)
	checkStride(kernel, "step", step, 2*bf16TileBytes)
	checkBF16(kernel, len(w), (bf16Tile-1)*ldw+32*nkb*bytesPerValue, "w")
	checkBF16(kernel, len(dst), (nkb-1)*step+2*bf16TileBytes, "dst")
}

func packF16BF16Asm(w []byte, ldw, nkb int, dst []byte, step int) {
	if nkb <= 0 {
		return
	}
	packBF16Check("packF16BF16", w, ldw, nkb, 2, dst, step)
	packF16BF16AVX512(&w[0], ldw, nkb, &dst[0], step)
}

func packF32BF16Asm(w []byte, ldw, nkb int, dst []byte, step int) {
	if nkb <= 0 {
		return
	}
	packBF16Check("packF32BF16", w, ldw, nkb, 4, dst, step)
	packF32BF16AVX512(&w[0], ldw, nkb, &dst[0], step)
}

func tileBF16Asm(b []byte, ng, nkb int, a []byte, lda, nt int, c []float32, ldc int) {
	if nt <= 0 || ng <= 0 {
		return
	}
	checkStride("tileBF16", "ldc", ldc, bf16GroupRows*ng)
	checkBF16("tileBF16", len(c), (bf16Tile*nt-1)*ldc+bf16GroupRows*ng, "c")
	if nkb <= 0 {
		for i := 0; i < bf16Tile*nt; i++ {
			clear(c[i*ldc : i*ldc+bf16GroupRows*ng])
		}
		return
	}
	checkStride("tileBF16", "lda", lda, nkb*bf16BlockA)
	checkBF16("tileBF16", len(b), ng*nkb*bf16BlockB, "b")
	checkBF16("tileBF16", len(a), (nt-1)*lda+nkb*bf16BlockA, "a")
	amxBF16(&b[0], ng, nkb, &a[0], lda, nt, &c[0], ldc, &bf16Config[0])
}

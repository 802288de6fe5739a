//go:build amd64 && !noasm

package kernels

import (
	"fmt"

	"golang.org/x/sys/cpu"
)

// The avx512 and amx sets (avx512_amd64.s): the avx2 set with q8_0 re-laid
// as q8r16 (q8r16.go) and multiplied with AVX-512 VNNI, and, in the amx
// set, prefill by 16-token tiles on the AMX tile unit. Every other kernel
// is the avx2 set's.

// vnniQ8R16 is q8r16Generic for nb > 0, ng > 0 with xc from
// q8r16Correction:
//
//	for g := 0; g < ng; g++ {
//		for n := 0; n < 16; n++ {
//			var s float32
//			for b := 0; b < nb; b++ {
//				blk := p[(g*nb+b)*576:]
//				var sum int32 // (w+128) . x - 128*sum(x): w . x exactly
//				for k := 0; k < 32; k++ {
//					sum += int32(uint8(blk[64*(k/4)+4*n+k%4]^0x80)) * int32(int8(xq[32*b+k]))
//				}
//				sum -= xc[b]
//				s += float32(sum) * (f32At(blk, 512+4*n) * xd[b])
//			}
//			out[16*g+n] = s
//		}
//	}
//
//go:noescape
func vnniQ8R16(p *byte, ng int, xq *byte, xd *float32, xc *int32, nb int, out *float32)

// amxQ8R16 is q8r16TileGeneric for nb > 0, ng > 0, 1 <= mrows <= 16, with
// xq readable for 16 rows (the tile loads whole tiles; rows past mrows are
// multiplied and never stored) and cfg the tile configuration amxConfig:
//
//	for g := 0; g < ng; g++ {
//		for m := 0; m < mrows; m++ {
//			for n := 0; n < 16; n++ {
//				var s float32
//				for b := 0; b < nb; b++ {
//					blk := p[(g*nb+b)*576:]
//					var sum int32
//					for k := 0; k < 32; k++ {
//						sum += int32(int8(blk[64*(k/4)+4*n+k%4])) * int32(int8(xq[m*ldx+32*b+k]))
//					}
//					s += float32(sum) * (f32At(blk, 512+4*n) * xdT[16*b+m])
//				}
//				c[m*ldc+16*g+n] = s
//			}
//		}
//	}
//
// buf is 2048 bytes of scratch for the tiles of sums.
//
//go:noescape
func amxQ8R16(p *byte, ng int, xq *byte, ldx int, xdT *float32, nb int, mrows int, c *float32, ldc int, cfg *byte, buf *byte)

// amxQ8R16B is q8r16BTileGeneric for nb > 0, ng > 0, 1 <= mrows <= 16,
// with xq readable for 16 rows, as amxQ8R16 for 640-byte blocks with
// biases: each block's sums also get bias[n] * xds[32*b+16+m].
//
//go:noescape
func amxQ8R16B(p *byte, ng int, xq *byte, ldx int, xds *float32, nb int, mrows int, c *float32, ldc int, cfg *byte, buf *byte)

// amxQ8R16H is q8r16HTileGeneric for nb > 0 half blocks, ng > 0,
// 1 <= mrows <= 16, with xq readable for 16 rows; cfg is amxConfigHalf.
//
//go:noescape
func amxQ8R16H(p *byte, ng int, xq *byte, ldx int, xds *float32, nb int, mrows int, c *float32, ldc int, cfg *byte, buf *byte)

// xgetbv0 reads XCR0, the state components the OS saves and restores.
func xgetbv0() (eax, edx uint32)

// amxConfig is the tile configuration amxQ8R16 and amxQ8R16B load
// (palette 1): tiles 0-1 the 16x16 int32 sums, 2-3 16 tokens x 32 int8
// activations, 4-5 8 rows x 64 bytes of weights (32 values of 16 rows,
// VNNI order). amxConfigHalf is amxQ8R16H's: 16 activations per token and
// 4 rows of weights (16 values of 16 rows).
var (
	amxConfig     = tileConfig([6][2]int{{16, 64}, {16, 64}, {16, 32}, {16, 32}, {8, 64}, {8, 64}})
	amxConfigHalf = tileConfig([6][2]int{{16, 64}, {16, 64}, {16, 16}, {16, 16}, {4, 64}, {4, 64}})
)

// tileConfig is the 64-byte LDTILECFG operand for palette 1 with tiles
// 0-5 of the given rows and bytes per row.
func tileConfig(shape [6][2]int) (c [64]byte) {
	c[0] = 1 // palette
	for t, s := range shape {
		c[48+t] = byte(s[0])
		c[16+2*t] = byte(s[1]) // bytes per row, little-endian uint16
	}
	return c
}

func q8r16VNNI(p []byte, ng int, xq []byte, xd []float32, xc []int32, nb int, out []float32) {
	if ng <= 0 {
		return
	}
	_ = out[q8r16Rows*ng-1]
	if nb <= 0 {
		clear(out[:q8r16Rows*ng])
		return
	}
	_ = p[ng*nb*q8r16BlockBytes-1]
	_ = xq[32*nb-1]
	_ = xd[nb-1]
	_ = xc[nb-1]
	vnniQ8R16(&p[0], ng, &xq[0], &xd[0], &xc[0], nb, &out[0])
}

func q8r16AMX(p []byte, ng int, xq []byte, ldx int, xdT []float32, nb, mrows int, c []float32, ldc int) {
	if !tileReady(ng, mrows, nb, c, ldc) {
		return
	}
	_ = p[ng*nb*q8r16BlockBytes-1]
	_ = xq[(q8r16Rows-1)*ldx+32*nb-1]
	_ = xdT[q8r16Rows*nb-1]
	var buf [2048]byte
	amxQ8R16(&p[0], ng, &xq[0], ldx, &xdT[0], nb, mrows, &c[0], ldc, &amxConfig[0], &buf[0])
}

// tileReady checks the output of a tile kernel (mrows tokens ldc apart,
// 16*ng rows each) and reports whether there is anything to multiply:
// nothing for ng or mrows <= 0, a panic for more than 16 tokens, and with
// no blocks (nb <= 0) the output cleared.
func tileReady(ng, mrows, nb int, c []float32, ldc int) bool {
	if ng <= 0 || mrows <= 0 {
		return false
	}
	if mrows > q8r16Rows {
		panic(fmt.Sprintf("kernels: tile of %d tokens, want at most %d", mrows, q8r16Rows))
	}
	_ = c[(mrows-1)*ldc+q8r16Rows*ng-1]
	if nb <= 0 {
		for m := 0; m < mrows; m++ {
			clear(c[m*ldc : m*ldc+q8r16Rows*ng])
		}
		return false
	}
	return true
}

func q8r16BAMX(p []byte, ng int, xq []byte, ldx int, xds []float32, nb, mrows int, c []float32, ldc int) {
	biasedAMX(p, ng, xq, ldx, xds, nb, mrows, c, ldc, QK8_0)
}

func q8r16HAMX(p []byte, ng int, xq []byte, ldx int, xds []float32, nb, mrows int, c []float32, ldc int) {
	biasedAMX(p, ng, xq, ldx, xds, nb, mrows, c, ldc, 16)
}

// biasedAMX checks the operands of the biased tile kernels (blocks of sub
// values, 32 or 16) and runs the one for sub.
func biasedAMX(p []byte, ng int, xq []byte, ldx int, xds []float32, nb, mrows int, c []float32, ldc, sub int) {
	if !tileReady(ng, mrows, nb, c, ldc) {
		return
	}
	bb := sub*q8r16Rows + 8*q8r16Rows
	_ = p[ng*nb*bb-1]
	_ = xq[(q8r16Rows-1)*ldx+sub*nb-1]
	_ = xds[2*q8r16Rows*nb-1]
	var buf [2048]byte
	if sub == QK8_0 {
		amxQ8R16B(&p[0], ng, &xq[0], ldx, &xds[0], nb, mrows, &c[0], ldc, &amxConfig[0], &buf[0])
	} else {
		amxQ8R16H(&p[0], ng, &xq[0], ldx, &xds[0], nb, mrows, &c[0], ldc, &amxConfigHalf[0], &buf[0])
	}
}

// hasAVX512Set reports whether the CPU and OS support the avx512 set: the
// avx2 set's features, AVX-512 F with the OS saving the 512-bit state
// (x/sys/cpu checks XCR0), BW and VL (byte operations, the EVEX forms on
// 256-bit registers) and AVX-512 VNNI. Every CPU with AVX-512 VNNI seen so
// far (Intel since Cascade Lake, AMD Zen 4) has all of them.
func hasAVX512Set() bool {
	return hasAVX2Set() && cpu.X86.HasAVX512F && cpu.X86.HasAVX512BW && cpu.X86.HasAVX512VL && cpu.X86.HasAVX512VNNI
}

// amxStatus says whether the amx set can run, and why not: CPUID must list
// AMX-TILE and AMX-INT8, XCR0 must enable the tile configuration and tile
// data state (bits 17 and 18), and Linux must grant this process the
// tile data state (arch_prctl ARCH_REQ_XCOMP_PERM, amxperm_*.go).
func amxStatus() error {
	switch {
	case !hasAVX512Set():
		return fmt.Errorf("no avx512 set (AVX-512 F, BW, VL and VNNI)")
	case !cpu.X86.HasAMXTile || !cpu.X86.HasAMXInt8:
		return fmt.Errorf("CPUID lists no AMX-TILE and AMX-INT8")
	}
	if eax, _ := xgetbv0(); eax&(3<<17) != 3<<17 {
		return fmt.Errorf("XCR0 %#x does not enable the AMX tile state (bits 17, 18)", eax)
	}
	return requestAMX()
}

// amxErr is why the amx set is missing on this CPU (nil when present).
var amxErr error

func archSets() []*kernelSet {
	if !hasAVX2Set() {
		unavailable["avx2"] = fmt.Errorf("needs AVX2, FMA and F16C")
		unavailable["avx512"] = unavailable["avx2"]
		unavailable["amx"] = unavailable["avx2"]
		return nil
	}
	out := []*kernelSet{avx2Set}
	if !hasAVX512Set() {
		unavailable["avx512"] = fmt.Errorf("needs AVX-512 F, BW, VL and VNNI (HasAVX512F=%v, HasAVX512BW=%v, HasAVX512VL=%v, HasAVX512VNNI=%v)",
			cpu.X86.HasAVX512F, cpu.X86.HasAVX512BW, cpu.X86.HasAVX512VL, cpu.X86.HasAVX512VNNI)
		unavailable["amx"] = unavailable["avx512"]
		return out
	}
	avx512 := *avx2Set
	avx512.name = "avx512"
	avx512.isa = avx2Set.isa + ",avx512f,avx512bw,avx512vl,avx512_vnni"
	avx512.packQ8 = true
	avx512.q8r16 = q8r16VNNI
	avx512.q8x4 = q8x4VNNI
	avx512.r4x4 = r4x4VNNI
	avx512.r4x4x3 = r4x4x3VNNI
	avx512.r8x4 = r8x4VNNI
	avx512.r8x4x3 = r8x4x3VNNI
	avx512.f16x4 = fx4(gemvF16x4AVX512, 2, 16)
	avx512.f32x4 = fx4(gemvF32x4AVX512, 4, 16)
	avx512.f16x4x3 = fx4x3(gemmF16x4x3AVX512, 2, 16)
	avx512.f32x4x3 = fx4x3(gemmF32x4x3AVX512, 4, 16)
	avx512.scoresT3 = scoresT3Of(scoresT3AVX512)
	avx512.scoresT1 = scoresT1Of(scoresT1AVX512)
	avx512.axpyRowsF16x3 = axpyRowsF16x3Asm512
	out = append(out, &avx512)
	if amxErr = amxStatus(); amxErr != nil {
		unavailable["amx"] = amxErr
		return out
	}
	amx := avx512
	amx.name = "amx"
	amx.isa = avx512.isa + ",amx_tile,amx_int8"
	amx.q8r16Tile = q8r16AMX
	amx.r4Tile = q8r16BAMX
	// amx.r8Tile (q8r16HAMX, half blocks of 16 values) is not switched
	// on: it measured slower than the avx512 set's VNNI kernel token by
	// token (q5_K 576x1536 at 512 tokens, 2 threads: 112-117 against
	// 169 GFLOP/s), as its tiles carry a quarter of the full K depth and
	// twice the scaling steps of the q8_0 tiles.
	if hasBF16Tiles() {
		amx.bf16 = bf16AMX
		amx.isa += ",amx_bf16,avx512_bf16"
	}
	return append(out, &amx)
}

// scoresT3AVX512 and scoresT1AVX512 are scoresT3Generic and
// scoresT1Generic for d > 0 (each key's sum in its own lane, over the
// dimensions in order, with fused multiply-adds):
//
//	for i := 0; i < 3; i++ { // 1 for scoresT1AVX512
//		for j := 0; j < 64; j++ {
//			var s float32
//			for x := 0; x < d; x++ {
//				s += q[i*ldq+x] * f16At(kt, 2*(x*64+j))
//			}
//			out[i*64+j] = s
//		}
//	}
//
//go:noescape
func scoresT3AVX512(out *float32, q *float32, ldq int, kt *byte, d int)

//go:noescape
func scoresT1AVX512(out *float32, q *float32, kt *byte, d int)

// axpyRowsF16x3AVX512 is AxpyRowsF16Heads's kernel for three heads of 64
// values and rows > 0:
//
//	for h := 0; h < 3; h++ {
//		for j := 0; j < rows; j++ {
//			for i := 0; i < 64; i++ {
//				dst[h*ldd+i] += w[h*ldw+j] * f16At(x, 2*(j*stride+i))
//			}
//		}
//	}
//
//go:noescape
func axpyRowsF16x3AVX512(dst *float32, ldd int, w *float32, ldw int, x *byte, stride int, rows int)

func axpyRowsF16x3Asm512(dst []float32, ldd int, w []float32, ldw int, x []byte, stride, rows int) {
	_ = dst[2*ldd+KeyBlock-1]
	_ = w[2*ldw+rows-1]
	_ = x[2*((rows-1)*stride+KeyBlock)-1]
	axpyRowsF16x3AVX512(&dst[0], ldd, &w[0], ldw, &x[0], stride, rows)
}

// gemvF16x4AVX512, gemvF32x4AVX512, gemmF16x4x3AVX512 and gemmF32x4x3AVX512
// are gemvF16x4AVX2, gemvF32x4AVX2, gemmF16x4x3AVX2 and gemmF32x4x3AVX2
// (the loops in gemv_amd64.go and gemm_amd64.go) for n a positive multiple
// of 16, with 16 float32 lanes per row: the x4 and x4x3 kernels of a set
// keep one summation order, so a token's dot products do not depend on the
// tokens computed beside it.
//
//go:noescape
func gemvF16x4AVX512(w *byte, ldw int, x *float32, n int, out *float32)

//go:noescape
func gemvF32x4AVX512(w *byte, ldw int, x *float32, n int, out *float32)

//go:noescape
func gemmF16x4x3AVX512(w *byte, ldw int, x *float32, ldx int, n int, c *float32, ldc int)

//go:noescape
func gemmF32x4x3AVX512(w *byte, ldw int, x *float32, ldx int, n int, c *float32, ldc int)

// gemvQ8x4VNNI is gemvQ8x4AVX2 (q8x4Generic's loop, gemv_amd64.go) with
// VPDPBUSD, for the avx512 set's q8_0 matrices left in the file's layout
// (kernels.UseQ8FileLayout); its lane sums and scaling are the AVX2
// kernel's, so its results are the same bits.
//
//go:noescape
func gemvQ8x4VNNI(w *byte, ldw int, xq *byte, xd *float32, nb int, out *float32)

func q8x4VNNI(w []byte, ldw int, xq []byte, xd []float32, nb int, out []float32) {
	if q8x4Ready(w, ldw, xq, xd, nb, out) {
		gemvQ8x4VNNI(&w[0], ldw, &xq[0], &xd[0], nb, &out[0])
	}
}

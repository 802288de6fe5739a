package kernels

import (
	"encoding/binary"
	"fmt"
	"math"
)

// Prefill of f16 and f32 weights on bf16 tiles (the amx set,
// amxbf16_amd64.s). The tile unit multiplies bf16 (8-bit significand)
// values and accumulates in float32; a bf16 product alone would round
// every weight and activation to 8 bits, far below the f16 weights' 11 and
// the exact float32 products of the other sets. So every value v is split
// into two bf16 parts,
//
//	hi = bf16(v), lo = bf16(v - hi)   (round to nearest even; v - hi is exact)
//
// and the three products hi*hi + hi*lo + lo*hi of each weight and
// activation are accumulated into one float32 result per output over the
// whole row (no per-block fixup). An f16 weight splits exactly (its 11
// significant bits fit in hi's 8 and lo's 3), a float32 value up to
// u^2 = 2^-16 of its magnitude (u = 2^-8, bf16's unit roundoff), and the
// dropped lo*lo term is at most u^2(1+u)^2 of the product, so for a row of
// K values (Higham's gamma_n = n*2^-24/(1-n*2^-24) for the float32 sums of
// the 3K exact products):
//
//	|result - w.x| <= (e + gamma_3K*(1+u)^3) * sum|w_k*x_k|,
//	e = 2u^2(1+u)^2 for f16 weights, 3u^2(1+u)^2 for f32 weights.
//
// That is at most about 2^-15 of sum|w_k*x_k| plus the float32 summation,
// where llama.cpp's f16 path rounds each activation to f16 (2^-11). Values
// whose parts fall below 2^-126 are flushed to zero by the conversion and
// the tile multiply; values within 2^-8 of float32's largest round to Inf.
//
// Layouts (the unit is a 1 KiB tile: 16 rows of 64 bytes):
//
//	A (activations, converted once per MatMul): per 16-token tile and
//	    block kb of 32 columns, a hi tile then a lo tile, row m holding
//	    token m's 32 values as bf16; tiles of token tile T at T*lda,
//	    lda = nkb*2048 bytes. Padding tokens and columns are zero.
//	B (weights, converted per task into scratch): per 32 weight rows and
//	    block kb, four tiles B0 hi, B0 lo, B1 hi, B1 lo (B0 rows 0-15, B1
//	    rows 16-31), each in the pair ("VNNI") order the tile multiply
//	    reads: byte 64kk + 4n + 2j holds row n's column 32kb + 2kk + j.
//
// A kernel call multiplies token tiles with a task's 32-row groups and
// writes the 16 x 32 results of each tile pair straight into dst.
const (
	bf16Tile      = 16   // tokens per A tile, weight rows per B tile
	bf16TileBytes = 1024 // one tile
	bf16GroupRows = 32   // weight rows per scratch (two B tiles)
	bf16BlockA    = 2048 // A bytes per token tile and block (hi, lo)
	bf16BlockB    = 4096 // B bytes per 32 rows and block (4 tiles)
	// bf16WeightBytes bounds a task's B tiles (they stay in L2).
	bf16WeightBytes = 1 << 20

	// bf16MinTokens is the fewest tokens MatMul gives the bf16 tiles: the
	// per-task weight conversion must be shared by enough token tiles.
	bf16MinTokens = 16
	// bf16MinCols is the shortest row the bf16 tiles take. The split's
	// error (up to 2^-15 of sum|w*x| per output) is below the float32
	// summation bound of the exact path it replaces (2(K+2)2^-24) only
	// for rows of a few hundred values; shorter rows (whose tiles would
	// also carry more padding) stay on the exact float32 kernels.
	bf16MinCols = 256
)

// bf16Kernels are a set's kernels for the bf16 tile path; bf16Twins are
// their pure-Go versions (the reference in the tests).
type bf16Kernels struct {
	// split writes the hi and lo parts of x[:32*nkb] as one row of A
	// tile pairs: block kb's 32 hi parts at dst[kb*step:], its lo parts
	// 1024 bytes further.
	split func(x []float32, nkb int, dst []byte, step int)
	// packF16 and packF32 write 16 weight rows (ldw bytes apart in w) as
	// B tile pairs: block kb's hi tile at dst[kb*step:], lo 1024 further.
	packF16 func(w []byte, ldw, nkb int, dst []byte, step int)
	packF32 func(w []byte, ldw, nkb int, dst []byte, step int)
	// tile multiplies nt token tiles (a[T*lda:]) with ng groups of 32
	// weight rows (b, nkb blocks per group, group after group):
	// c[(16T+m)*ldc+n] = row n . token 16T+m.
	tile func(b []byte, ng, nkb int, a []byte, lda, nt int, c []float32, ldc int)
}

var bf16Twins = &bf16Kernels{
	split:   splitBF16Generic,
	packF16: packF16BF16Generic,
	packF32: packF32BF16Generic,
	tile:    tileBF16Generic,
}

// bf16RNE is VCVTNEPS2BF16's conversion: round to nearest even, zero and
// subnormal inputs to a zero of the same sign, NaN to a quiet NaN.
func bf16RNE(v float32) uint16 {
	b := math.Float32bits(v)
	switch {
	case b&0x7f800000 == 0:
		return uint16(b>>16) & 0x8000
	case b&0x7fffffff > 0x7f800000:
		return uint16(b>>16) | 0x40
	}
	return uint16((b + 0x7fff + (b>>16)&1) >> 16)
}

// splitBF16 returns v's hi and lo parts.
func splitBF16(v float32) (hi, lo uint16) {
	hi = bf16RNE(v)
	return hi, bf16RNE(v - BF16ToF32(hi))
}

// putSplitA writes v's parts as column k of an A tile row at dst (hi) and
// dst[1024:] (lo).
func putSplitA(dst []byte, k int, v float32) {
	hi, lo := splitBF16(v)
	binary.LittleEndian.PutUint16(dst[2*k:], hi)
	binary.LittleEndian.PutUint16(dst[bf16TileBytes+2*k:], lo)
}

// putSplitB writes v's parts as (row n, column k) of a B tile pair at dst.
func putSplitB(dst []byte, n, k int, v float32) {
	hi, lo := splitBF16(v)
	o := 64*(k/2) + 4*n + 2*(k%2)
	binary.LittleEndian.PutUint16(dst[o:], hi)
	binary.LittleEndian.PutUint16(dst[bf16TileBytes+o:], lo)
}

func splitBF16Generic(x []float32, nkb int, dst []byte, step int) {
	for kb := 0; kb < nkb; kb++ {
		for k := 0; k < 32; k++ {
			putSplitA(dst[kb*step:], k, x[32*kb+k])
		}
	}
}

func packF16BF16Generic(w []byte, ldw, nkb int, dst []byte, step int) {
	for kb := 0; kb < nkb; kb++ {
		for n := 0; n < bf16Tile; n++ {
			for k := 0; k < 32; k++ {
				putSplitB(dst[kb*step:], n, k, f16At(w, n*ldw+2*(32*kb+k)))
			}
		}
	}
}

func packF32BF16Generic(w []byte, ldw, nkb int, dst []byte, step int) {
	for kb := 0; kb < nkb; kb++ {
		for n := 0; n < bf16Tile; n++ {
			for k := 0; k < 32; k++ {
				putSplitB(dst[kb*step:], n, k, f32le(w[n*ldw+4*(32*kb+k):]))
			}
		}
	}
}

func bf16At(b []byte, o int) float32 { return BF16ToF32(binary.LittleEndian.Uint16(b[o:])) }

// tileBF16Generic is the tile kernel's contract, summed in the kernel's
// order: per block, all 32 columns of hi*hi, then hi*lo, then lo*hi, each
// pair of columns added as the tile multiply adds them.
func tileBF16Generic(b []byte, ng, nkb int, a []byte, lda, nt int, c []float32, ldc int) {
	parts := [3][2]int{{0, 0}, {0, bf16TileBytes}, {bf16TileBytes, 0}} // A, B offsets
	for T := 0; T < nt; T++ {
		for m := 0; m < bf16Tile; m++ {
			for n := 0; n < bf16GroupRows*ng; n++ {
				var acc float32
				for kb := 0; kb < nkb; kb++ {
					at := a[T*lda+kb*bf16BlockA+64*m:]
					g, j := n/bf16GroupRows, n%bf16GroupRows
					bt := b[(g*nkb+kb)*bf16BlockB+2*bf16TileBytes*(j/bf16Tile)+4*(j%bf16Tile):]
					for _, p := range parts {
						for kk := 0; kk < 16; kk++ {
							acc += bf16At(at, p[0]+4*kk) * bf16At(bt, p[1]+64*kk)
							acc += bf16At(at, p[0]+4*kk+2) * bf16At(bt, p[1]+64*kk+2)
						}
					}
				}
				c[(bf16Tile*T+m)*ldc+n] = acc
			}
		}
	}
}

// bf16Eligible says whether MatMul runs w times nTok tokens on the bf16
// tiles (given a set that has them).
func bf16Eligible(w *Matrix, nTok int) bool {
	return (w.Type == TypeF16 || w.Type == TypeF32) && w.pk == nil && nTok >= bf16MinTokens && w.Cols >= bf16MinCols
}

// prepBF16 splits the activations into A tiles once (in the pool's
// buffer; split by tokens across the workers when there are enough) and
// zeroes the padding tokens of the last tile.
func (p *Pool) prepBF16(m *mmJob) {
	m.nkb = (m.w.Cols + 31) / 32
	lda := m.nkb * bf16BlockA
	nTT := (m.nTok + bf16Tile - 1) / bf16Tile
	if cap(p.xb) < nTT*lda {
		p.xb = make([]byte, nTT*lda)
	}
	m.xb = p.xb[:nTT*lda]
	if m.nTok >= 8 && p.threads > 1 {
		m.quantCh = (m.nTok + p.threads - 1) / p.threads
		p.kind = jobQuant
		p.run((m.nTok + m.quantCh - 1) / m.quantCh)
	} else {
		m.splitBF16Tokens(0, m.nTok)
	}
	for t := m.nTok; t < nTT*bf16Tile; t++ {
		row := m.xb[t/bf16Tile*lda+64*(t%bf16Tile):]
		for kb := 0; kb < m.nkb; kb++ {
			clear(row[kb*bf16BlockA : kb*bf16BlockA+64])
			clear(row[kb*bf16BlockA+bf16TileBytes : kb*bf16BlockA+bf16TileBytes+64])
		}
	}
}

// splitBF16Tokens writes the A tile rows of tokens [t0, t1): whole blocks
// by the set's kernel, a last partial block here with zeros after it.
func (m *mmJob) splitBF16Tokens(t0, t1 int) {
	cols, nkb := m.w.Cols, m.nkb
	full := cols / 32
	lda := nkb * bf16BlockA
	for t := t0; t < t1; t++ {
		row := m.xb[t/bf16Tile*lda+64*(t%bf16Tile):]
		x := m.x[t*cols : (t+1)*cols]
		if full > 0 {
			m.ks.bf16.split(x, full, row, bf16BlockA)
		}
		if full < nkb {
			dst := row[full*bf16BlockA:]
			for k := 0; k < 32; k++ {
				v := float32(0)
				if 32*full+k < cols {
					v = x[32*full+k]
				}
				putSplitA(dst, k, v)
			}
		}
	}
}

// bf16Grid sets the tasks of a bf16 multiply: all tokens in one chunk (so
// every weight is converted once), row chunks of whole 32-row groups,
// about four per thread, each chunk's B tiles at most bf16WeightBytes so
// they stay in L2 while every token tile passes.
func (m *mmJob) bf16Grid(threads int) {
	groups := (m.w.Rows + bf16GroupRows - 1) / bf16GroupRows
	per := (groups + 4*threads - 1) / (4 * threads)
	per = max(1, min(per, bf16WeightBytes/(m.nkb*bf16BlockB)))
	m.rowChunk, m.nRC = bf16GroupRows*per, (groups+per-1)/per
	m.tokChunk, m.nTC = m.nTok, 1
}

// tileBF16 computes rows [r0, r1) (r0 a multiple of 32) for tokens
// [t0, t1) (t0 a multiple of 16): the rows are converted once into
// scratch, then one kernel call multiplies every whole token tile with
// every whole group straight into dst; a last partial token tile or row
// group goes through a scratch tile.
func (m *mmJob) tileBF16(r0, r1, t0, t1 int) {
	k, rows, nkb := m.ks.bf16, m.w.Rows, m.nkb
	lda, gb := nkb*bf16BlockA, nkb*bf16BlockB
	ng := (r1 - r0 + bf16GroupRows - 1) / bf16GroupRows
	fullG := (r1 - r0) / bf16GroupRows
	tb := 4 * bf16Tile * bf16GroupRows
	bufp := m.getScratch(ng*gb + tb)
	b := (*bufp)[:ng*gb]
	tmp := bytesAsF32((*bufp)[ng*gb : ng*gb+tb])
	for g := 0; g < ng; g++ {
		m.packBF16(b[g*gb:(g+1)*gb], r0+bf16GroupRows*g)
	}
	a := m.xb[t0/bf16Tile*lda:]
	full := (t1 - t0) / bf16Tile
	if fullG > 0 && full > 0 {
		k.tile(b, fullG, nkb, a, lda, full, m.dst[t0*rows+r0:], rows)
	}
	for g := 0; g < ng; g++ {
		r := r0 + bf16GroupRows*g
		nr := min(bf16GroupRows, rows-r)
		T := 0
		if g < fullG {
			T = full // the whole tiles are done
		}
		for ; T*bf16Tile < t1-t0; T++ {
			k.tile(b[g*gb:(g+1)*gb], 1, nkb, a[T*lda:], lda, 1, tmp, bf16GroupRows)
			for i := 0; i < min(bf16Tile, t1-t0-T*bf16Tile); i++ {
				t := t0 + T*bf16Tile + i
				copy(m.dst[t*rows+r:t*rows+r+nr], tmp[i*bf16GroupRows:])
			}
		}
	}
	m.putScratch(bufp)
}

// packBF16 converts weight rows [r, r+32) into the scratch b: each half
// of 16 rows by the set's kernel where all its rows exist, the last
// partial block and rows past the matrix (zeros) here.
func (m *mmJob) packBF16(b []byte, r int) {
	w, k, nkb := m.w, m.ks.bf16, m.nkb
	full := w.Cols / 32
	for h := 0; h < 2; h++ {
		r0 := r + bf16Tile*h
		dst := b[2*bf16TileBytes*h:]
		kb := 0
		if r0+bf16Tile <= w.Rows && full > 0 {
			src := w.Data[r0*w.RowBytes:]
			if w.Type == TypeF16 {
				k.packF16(src, w.RowBytes, full, dst, bf16BlockB)
			} else {
				k.packF32(src, w.RowBytes, full, dst, bf16BlockB)
			}
			kb = full
		}
		for ; kb < nkb; kb++ {
			tp := dst[kb*bf16BlockB : kb*bf16BlockB+2*bf16TileBytes]
			if r0 >= w.Rows {
				clear(tp)
				continue
			}
			for n := 0; n < bf16Tile; n++ {
				for c := 0; c < 32; c++ {
					v := float32(0)
					if col := 32*kb + c; r0+n < w.Rows && col < w.Cols {
						row := w.Data[(r0+n)*w.RowBytes:]
						if w.Type == TypeF16 {
							v = f16At(row, 2*col)
						} else {
							v = f32le(row[4*col:])
						}
					}
					putSplitB(tp, n, c, v)
				}
			}
		}
	}
}

// checkBF16 panics, naming the sizes, when a bf16 kernel's operands are
// too short; the wrappers call it before any tile instruction runs.
func checkBF16(kernel string, have, want int, what string) {
	if have < want {
		panic(fmt.Sprintf("kernels: %s: %s has %d elements, want %d", kernel, what, have, want))
	}
}

// checkStride panics when a bf16 kernel's stride is below the least that
// keeps its rows or blocks apart (a negative one would reach before the
// operand).
func checkStride(kernel, name string, v, least int) {
	if v < least {
		panic(fmt.Sprintf("kernels: %s: %s %d, want at least %d", kernel, name, v, least))
	}
}

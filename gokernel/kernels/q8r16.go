package kernels

import (
	"encoding/binary"
	"fmt"
	"sync/atomic"
)

// The q8r16 layout: q8_0 weights re-laid for the 512-bit and tile kernels
// (the avx512 and amx sets; Prepare uses it when the active set asks for
// it, see kernelSet.packQ8). Rows go in groups of 16 (the last group
// padded with zero rows); within a group, each block of 32 columns is
//
//	512 bytes of int8 values: 8 runs of 64 bytes, run kk holding for each
//	    row n the four values 4kk..4kk+3 (byte 64kk + 4n + j is row n's
//	    value 4kk+j), the order both VPDPBUSD (one 32-bit lane per row) and
//	    the AMX tile multiply (a B tile in its four-byte "VNNI" order) read;
//	64 bytes of scales: the 16 rows' f16 block scales widened to float32.
//
// A group's blocks follow each other, so a thread streams one run of
// memory per 16 rows, and the copy is 576/544 of the file's size. Weight
// (n, 32b+k) is scale*value exactly as in the file.
const (
	q8r16Rows       = 16
	q8r16ValueBytes = 32 * q8r16Rows
	q8r16BlockBytes = q8r16ValueBytes + 4*q8r16Rows
)

// repackQ8 re-lays a q8_0 matrix into q8r16 groups.
func repackQ8(m *Matrix) *packedMatrix {
	p := &packedMatrix{kind: packQ8R16, nb: m.Cols / QK8_0, stride: q8r16BlockBytes, groups: (m.Rows + q8r16Rows - 1) / q8r16Rows}
	if m.Cols%QK8_0 != 0 {
		p.err = fmt.Errorf("kernels: q8_0 matrix with %d columns: not a multiple of %d", m.Cols, QK8_0)
		return p
	}
	p.data = make([]byte, p.groups*p.nb*q8r16BlockBytes)
	for r := 0; r < m.Rows; r++ {
		row := m.Row(r)
		g, n := r/q8r16Rows, r%q8r16Rows
		for b := 0; b < p.nb; b++ {
			src := row[b*BlockQ8_0Bytes:]
			dst := p.data[(g*p.nb+b)*q8r16BlockBytes:]
			for k := 0; k < QK8_0; k++ {
				dst[64*(k/4)+4*n+k%4] = src[2+k]
			}
			putF32(dst[q8r16ValueBytes+4*n:], f16At(src, 0))
		}
	}
	return p
}

// q8r16Correction fills xc[b] = 128 * the sum of block b's int8 activations,
// the term the VNNI kernel takes off (it multiplies the weights offset by
// 128, as unsigned bytes, with the activations).
func q8r16Correction(xc []int32, xq []byte) {
	for b := range xc {
		var s int32
		for _, v := range xq[32*b : 32*b+32] {
			s += int32(int8(v))
		}
		xc[b] = 128 * s
	}
}

// q8r16Generic dots ng groups of 16 rows (nb blocks each, at p) with one
// token (int8 xq, block scales xd; xc is the VNNI kernel's correction and
// is not read here): out[16g+n] = sum over b of scale*xd[b]*sum(w*xq).
func q8r16Generic(p []byte, ng int, xq []byte, xd []float32, xc []int32, nb int, out []float32) {
	_ = xc
	for g := 0; g < ng; g++ {
		var acc [q8r16Rows]float32
		for b := 0; b < nb; b++ {
			blk := p[(g*nb+b)*q8r16BlockBytes : (g*nb+b+1)*q8r16BlockBytes]
			x := xq[32*b : 32*b+32]
			for n := 0; n < q8r16Rows; n++ {
				var s int32
				for k := 0; k < QK8_0; k++ {
					s += int32(int8(blk[64*(k/4)+4*n+k%4])) * int32(int8(x[k]))
				}
				acc[n] += float32(s) * (f32le(blk[q8r16ValueBytes+4*n:]) * xd[b])
			}
		}
		copy(out[q8r16Rows*g:q8r16Rows*(g+1)], acc[:])
	}
}

// q8r16TileGeneric is the tile kernels' contract: ng groups of 16 rows
// times the tokens m < mrows (at most 16) of one token tile, whose int8
// activations are rows ldx bytes apart in xq and whose block scales are
// transposed, xdT[16*b+m]: c[m*ldc+16g+n] = row 16g+n . token m.
func q8r16TileGeneric(p []byte, ng int, xq []byte, ldx int, xdT []float32, nb, mrows int, c []float32, ldc int) {
	xd := make([]float32, nb)
	for m := 0; m < mrows; m++ {
		for b := range xd {
			xd[b] = xdT[q8r16Rows*b+m]
		}
		q8r16Generic(p, ng, xq[m*ldx:], xd, nil, nb, c[m*ldc:])
	}
}

// tileQ8R16 computes rows [r0, r1) (r0 a multiple of 16) for tokens
// [t0, t1) from a q8r16 matrix: with the set's tile kernel 16 tokens at a
// time where it has one (t0 then a multiple of 16), else token by token;
// a last group of fewer than 16 rows goes through a scratch row.
func (m *mmJob) tileQ8R16(r0, r1, t0, t1 int) {
	pk, ks := m.pk, m.ks
	cols, rows, nb := m.w.Cols, m.w.Rows, pk.nb
	gb := nb * q8r16BlockBytes
	full := (min(r1, rows) - r0) / q8r16Rows // whole groups
	g0 := r0 / q8r16Rows
	if full > 0 {
		pg := pk.data[g0*gb : (g0+full)*gb]
		if m.xdT != nil {
			for t := t0; t < t1; t += q8r16Rows {
				ks.q8r16Tile(pg, full, m.xq[t*cols:], cols, m.xdT[t*nb:], nb, min(q8r16Rows, t1-t), m.dst[t*rows+r0:], rows)
			}
		} else if t1-t0 == 1 {
			ks.q8r16(pg, full, m.xq[t0*cols:], m.xd[t0*nb:], m.xc[t0*nb:], nb, m.dst[t0*rows+r0:])
		} else {
			// Several tokens without tiles: one group at a time, so its
			// weights stay in cache across the tokens.
			for g := 0; g < full; g++ {
				for t := t0; t < t1; t++ {
					ks.q8r16(pg[g*gb:(g+1)*gb], 1, m.xq[t*cols:], m.xd[t*nb:], m.xc[t*nb:], nb, m.dst[t*rows+r0+q8r16Rows*g:])
				}
			}
		}
	}
	if r := r0 + q8r16Rows*full; r < r1 {
		var tmp [q8r16Rows * q8r16Rows]float32
		g := pk.data[r/q8r16Rows*gb : (r/q8r16Rows+1)*gb]
		for t := t0; t < t1; t++ {
			if m.xdT != nil {
				if (t-t0)%q8r16Rows == 0 {
					ks.q8r16Tile(g, 1, m.xq[t*cols:], cols, m.xdT[t*nb:], nb, min(q8r16Rows, t1-t), tmp[:], q8r16Rows)
				}
				copy(m.dst[t*rows+r:t*rows+r1], tmp[(t-t0)%q8r16Rows*q8r16Rows:])
				continue
			}
			ks.q8r16(g, 1, m.xq[t*cols:], m.xd[t*nb:], m.xc[t*nb:], nb, tmp[:])
			copy(m.dst[t*rows+r:t*rows+r1], tmp[:])
		}
	}
}

// tileMinTokens is the fewest tokens MatMul gives the tile kernel; fewer
// go token by token (a tile costs the same for 1 token as for 16).
const tileMinTokens = 4

// transposeTileScales lays the block scales of nTok tokens (xd[t*nb+b])
// out per 16-token tile, xdT[16*(T*nb+b)+m] for token 16T+m, with zeros
// for the padding tokens of the last tile.
func transposeTileScales(xdT, xd []float32, nTok, nb int) {
	for T := 0; T*q8r16Rows < nTok; T++ {
		tile := xdT[T*q8r16Rows*nb : (T+1)*q8r16Rows*nb]
		for m := 0; m < q8r16Rows; m++ {
			t := T*q8r16Rows + m
			for b := 0; b < nb; b++ {
				v := float32(0)
				if t < nTok {
					v = xd[t*nb+b]
				}
				tile[q8r16Rows*b+m] = v
			}
		}
	}
}

// Q8_0MatrixBytes is the size of the layout the active set's matrix
// kernels read for a rows x cols q8_0 matrix: the file's blocks, or the
// q8r16 copy (rows padded to 16, scales widened to float32).
func Q8_0MatrixBytes(rows, cols int) int {
	if !cur().packQ8 || q8FileLayout.Load() {
		return rows * (cols / QK8_0) * BlockQ8_0Bytes
	}
	return (rows + q8r16Rows - 1) / q8r16Rows * (cols / QK8_0) * q8r16BlockBytes
}

// The biased q8r16 layout ("q8r16b") is q8r16 with the 16 rows' float32
// biases after the scales (640-byte blocks): weight (n, 32b+k) is
// scale*value + bias. It is not kept: the amx set's prefill builds it from
// r4 groups (q4_0, q4_1, q4_K: four-bit codes with a scale and a bias per
// 32 values) into per-task scratch, where every token tile reuses it.
const q8r16BBlockBytes = q8r16BlockBytes + 4*q8r16Rows

// r4ToQ8R16B writes the 16-row groups [g0, g0+ng) of the r4 matrix pk into
// dst (ng*nb*640 bytes) as q8r16b; rows past the matrix's padding are zero.
func r4ToQ8R16B(dst []byte, pk *packedMatrix, g0, ng int) {
	nb := pk.nb
	clear(dst[:ng*nb*q8r16BBlockBytes])
	for g := 0; g < ng; g++ {
		for quad := 0; quad < 4; quad++ {
			src := (g0+g)*4 + quad // the r4 group of rows 16(g0+g)+4quad..+3
			if src >= pk.groups {
				break
			}
			for b := 0; b < nb; b++ {
				in := pk.data[(src*nb+b)*r4BlockBytes : (src*nb+b+1)*r4BlockBytes]
				out := dst[(g*nb+b)*q8r16BBlockBytes:]
				// Four codes at a time: bytes 4kk..4kk+3 of row r hold
				// values 4kk..4kk+3 (low nibbles) and 16+4kk.. (high).
				for r := 0; r < 4; r++ {
					n := 4*quad + r
					for kk := 0; kk < 4; kk++ {
						w := binary.LittleEndian.Uint32(in[16*r+4*kk:])
						binary.LittleEndian.PutUint32(out[64*kk+4*n:], w&0x0f0f0f0f)
						binary.LittleEndian.PutUint32(out[64*(kk+4)+4*n:], w>>4&0x0f0f0f0f)
					}
					copy(out[q8r16ValueBytes+4*n:q8r16ValueBytes+4*n+4], in[64+4*r:68+4*r])
					copy(out[q8r16BlockBytes+4*n:q8r16BlockBytes+4*n+4], in[80+4*r:84+4*r])
				}
			}
		}
	}
}

// q8r16BTileGeneric is the biased tile kernels' contract: q8r16TileGeneric
// on q8r16b groups, with xds holding per block the 16 tokens' scales then
// their bias terms (scale times the block's activation sum):
// c[m*ldc+16g+n] = sum over b of scale*xd*sum(v*xq) + bias*xs.
func q8r16BTileGeneric(p []byte, ng int, xq []byte, ldx int, xds []float32, nb, mrows int, c []float32, ldc int) {
	biasedTileGeneric(p, ng, xq, ldx, xds, nb, mrows, c, ldc, QK8_0)
}

// q8r16HTileGeneric is q8r16BTileGeneric for half blocks ("q8r16h":
// 384-byte blocks of 16 values, 256 bytes of values in four 64-byte runs,
// then scales and biases), the layout the r8 types' prefill converts to;
// nb counts half blocks, and the activations of half block b start at
// xq[16*b].
func q8r16HTileGeneric(p []byte, ng int, xq []byte, ldx int, xds []float32, nb, mrows int, c []float32, ldc int) {
	biasedTileGeneric(p, ng, xq, ldx, xds, nb, mrows, c, ldc, 16)
}

// biasedTileGeneric computes the biased tiles for blocks of sub values
// (32 or 16): values in runs of 64 bytes (byte 64*(k/4)+4n+k%4), then 16
// float32 scales and 16 float32 biases.
func biasedTileGeneric(p []byte, ng int, xq []byte, ldx int, xds []float32, nb, mrows int, c []float32, ldc, sub int) {
	vals := sub * q8r16Rows
	bb := vals + 8*q8r16Rows
	for g := 0; g < ng; g++ {
		for m := 0; m < mrows; m++ {
			var acc [q8r16Rows]float32
			for b := 0; b < nb; b++ {
				blk := p[(g*nb+b)*bb : (g*nb+b+1)*bb]
				x := xq[m*ldx+sub*b : m*ldx+sub*(b+1)]
				xd, xs := xds[32*b+m], xds[32*b+16+m]
				for n := 0; n < q8r16Rows; n++ {
					var s int32
					for k := 0; k < sub; k++ {
						s += int32(int8(blk[64*(k/4)+4*n+k%4])) * int32(int8(x[k]))
					}
					acc[n] += float32(s) * (f32le(blk[vals+4*n:]) * xd)
					acc[n] += f32le(blk[vals+64+4*n:]) * xs
				}
			}
			copy(c[m*ldc+q8r16Rows*g:m*ldc+q8r16Rows*(g+1)], acc[:])
		}
	}
}

// q8r16HBlockBytes is the size of a q8r16h half block.
const q8r16HBlockBytes = 16*q8r16Rows + 8*q8r16Rows

// r8ToQ8R16H writes the 16-row groups [g0, g0+ng) of the r8 matrix pk
// (biased or not) into dst (ng*2*nb*384 bytes) as q8r16h half blocks; rows
// past the matrix's padding are zero, and so are the biases of the types
// without them.
func r8ToQ8R16H(dst []byte, pk *packedMatrix, g0, ng int) {
	nb := pk.nb
	clear(dst[:ng*2*nb*q8r16HBlockBytes])
	for g := 0; g < ng; g++ {
		for quad := 0; quad < 4; quad++ {
			src := (g0+g)*4 + quad
			if src >= pk.groups {
				break
			}
			for b := 0; b < nb; b++ {
				in := pk.data[(src*nb+b)*pk.stride : (src*nb+b+1)*pk.stride]
				for h := 0; h < 2; h++ {
					out := dst[(g*2*nb+2*b+h)*q8r16HBlockBytes:]
					for r := 0; r < 4; r++ {
						n := 4*quad + r
						for kk := 0; kk < 4; kk++ {
							copy(out[64*kk+4*n:64*kk+4*n+4], in[32*r+16*h+4*kk:])
						}
						copy(out[256+4*n:260+4*n], in[128+16*h+4*r:])
						if pk.stride == r8BiasBlockBytes {
							copy(out[320+4*n:324+4*n], in[160+16*h+4*r:])
						}
					}
				}
			}
		}
	}
}

// transposeTileTerms is transposeTileScales for the biased tiles: per
// 16-token tile and term block of sub values (32, or 16 for half blocks),
// the 16 tokens' scales then their bias terms xd*sum(xq over the term
// block) (xds[32*(T*nt+b)+m] and [32*(T*nt+b)+16+m], nt = nb*32/sub).
func transposeTileTerms(xds, xd []float32, xq []byte, nTok, nb, sub int) {
	cols, nt := 32*nb, nb*32/sub
	for T := 0; T*q8r16Rows < nTok; T++ {
		tile := xds[2*T*q8r16Rows*nt : 2*(T+1)*q8r16Rows*nt]
		for m := 0; m < q8r16Rows; m++ {
			t := T*q8r16Rows + m
			for b := 0; b < nt; b++ {
				var d, s float32
				if t < nTok {
					var sum int32
					for _, v := range xq[t*cols+sub*b : t*cols+sub*(b+1)] {
						sum += int32(int8(v))
					}
					d = xd[t*nb+b*sub/32]
					s = d * float32(sum)
				}
				tile[32*b+m], tile[32*b+16+m] = d, s
			}
		}
	}
}

// tileConv computes rows [r0, r1) (r0 a multiple of 16) for tokens
// [t0, t1) (t0 a multiple of 16) of an r4 or r8 matrix with the set's
// biased tile kernel: the row chunk is converted once (r4 to q8r16b, r8 to
// q8r16h), then every token tile multiplies it.
func (m *mmJob) tileConv(r0, r1, t0, t1 int) {
	pk, ks := m.pk, m.ks
	cols, rows := m.w.Cols, m.w.Rows
	nt, bb, tile := pk.nb, q8r16BBlockBytes, ks.r4Tile // term blocks, their bytes, kernel
	convert := r4ToQ8R16B
	if pk.kind != packR4 {
		nt, bb, tile, convert = 2*pk.nb, q8r16HBlockBytes, ks.r8Tile, r8ToQ8R16H
	}
	g0 := r0 / q8r16Rows
	ng := (r1 - r0 + q8r16Rows - 1) / q8r16Rows
	full := (min(r1, rows) - r0) / q8r16Rows
	bufp := m.getScratch(ng * nt * bb)
	buf := (*bufp)[:ng*nt*bb]
	convert(buf, pk, g0, ng)
	for t := t0; t < t1; t += q8r16Rows {
		mr := min(q8r16Rows, t1-t)
		xq, xds := m.xq[t*cols:], m.xdT[2*t*nt:]
		if full > 0 {
			tile(buf, full, xq, cols, xds, nt, mr, m.dst[t*rows+r0:], rows)
		}
		if r := r0 + q8r16Rows*full; r < r1 {
			var tmp [q8r16Rows * q8r16Rows]float32
			tile(buf[full*nt*bb:], 1, xq, cols, xds, nt, mr, tmp[:], q8r16Rows)
			for i := 0; i < mr; i++ {
				copy(m.dst[(t+i)*rows+r:(t+i)*rows+r1], tmp[i*q8r16Rows:])
			}
		}
	}
	m.putScratch(bufp)
}

// q8FileLayout is UseQ8FileLayout's setting.
var q8FileLayout atomic.Bool

// UseQ8FileLayout makes the matrices prepared from now on keep q8_0 in the
// file's layout even in the sets that re-lay it as q8r16 (the layout
// ablation: their decode then runs the 4-row VNNI kernel on the file's
// rows, their prefill the avx2 set's 4x3 tiles). It returns the previous
// setting. Matrices already prepared keep their layout.
func UseQ8FileLayout(on bool) bool { return q8FileLayout.Swap(on) }

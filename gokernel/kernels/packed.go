package kernels

import (
	"encoding/binary"
	"fmt"
	"math"
	"sync"
)

// Packed layouts. A matrix of a block-quantized type other than q8_0 is
// re-laid once, before its first multiply, into one of two layouts that
// the matrix kernels stream in one pass: rows in groups of four (the last
// group padded with zero rows), and within a group, for each block of 32
// columns, the four rows' values followed by their scales and biases.
//
//	r4 (q4_0, q4_1, q4_K): 4 x 16 bytes of nibbles (byte j: value j in the
//	   low nibble, value j+16 in the high one), 4 float32 scales, 4 float32
//	   biases: 96 bytes per block.
//	r8 (q5_0, q5_1, q2_K, q3_K, q5_K, q6_K, iq4_nl): 4 x 32 int8 values, 8 float32
//	   scales (rows 0-3 for values 0-15, then rows 0-3 for values 16-31)
//	   and, for the types with biases, 8 float32 biases in the same order:
//	   160 or 192 bytes per block.
//
// Weight i of a row is scale*value + bias, exactly ggml's dequantized
// value (quant.go). The kernels quantize the activations to int8 per 32
// values (as for q8_0) and multiply int8 by int8; the bias term uses each
// block's activation sum. bf16 matrices are widened to f32 instead.
const (
	packR4 = iota + 1
	packR8
	packR8Bias
	packQ8R16 // q8_0 for the 512-bit and tile kernels (q8r16.go)
)

const (
	r4BlockBytes     = 4*16 + 4*4 + 4*4
	r8BlockBytes     = 4*32 + 8*4
	r8BiasBlockBytes = r8BlockBytes + 8*4
)

type packedMatrix struct {
	kind   int
	nb     int // 32-column blocks per row
	stride int // bytes per block of a group
	groups int // ceil(Rows/4)
	data   []byte
	f32    *Matrix // bf16 widened
	err    error
}

// PackedBytes is the size of the layout the matrix kernels read for m: the
// packed or widened copy, or the file's bytes for f32, f16 and q8_0.
func (m *Matrix) PackedBytes() int {
	if m.pk == nil {
		return len(m.Data)
	}
	if m.pk.f32 != nil {
		return len(m.pk.f32.Data)
	}
	return len(m.pk.data)
}

// Prepare re-lays the matrix for the matrix kernels when its type needs it
// (see packed.go; q8_0 when the active kernel set reads q8r16, q8r16.go);
// MatMul calls it on first use, and the layout chosen then stays (every
// set can read every layout). It is safe to call from
// several goroutines and returns the same error every time.
func (m *Matrix) Prepare() error {
	m.once.Do(func() { m.pk = pack(m) })
	if m.pk != nil {
		return m.pk.err
	}
	return nil
}

func pack(m *Matrix) *packedMatrix {
	if m.Type == TypeBF16 {
		out := make([]byte, 4*m.Rows*m.Cols)
		row := make([]float32, m.Cols)
		for r := 0; r < m.Rows; r++ {
			m.DequantRow(r, row)
			for i, v := range row {
				binary.LittleEndian.PutUint32(out[4*(r*m.Cols+i):], math.Float32bits(v))
			}
		}
		return &packedMatrix{f32: &Matrix{Type: TypeF32, Rows: m.Rows, Cols: m.Cols, RowBytes: 4 * m.Cols, Data: out}}
	}
	if m.Type == TypeQ8_0 {
		if !cur().packQ8 || q8FileLayout.Load() {
			return nil // the file's layout
		}
		return repackQ8(m)
	}
	qt := quantTypes[m.Type]
	if qt == nil {
		return nil
	}
	p := &packedMatrix{nb: m.Cols / 32, groups: (m.Rows + 3) / 4}
	switch {
	case qt.nibbles:
		p.kind, p.stride = packR4, r4BlockBytes
	case qt.biased:
		p.kind, p.stride = packR8Bias, r8BiasBlockBytes
	default:
		p.kind, p.stride = packR8, r8BlockBytes
	}
	if m.Cols%32 != 0 {
		p.err = fmt.Errorf("kernels: %v matrix with %d columns: not a multiple of 32", m.Type, m.Cols)
		return p
	}
	p.data = make([]byte, p.groups*p.nb*p.stride)
	q := make([]int8, m.Cols)
	s := make([]float32, m.Cols/sub)
	b := make([]float32, m.Cols/sub)
	for r := 0; r < m.Rows; r++ {
		row := m.Row(r)
		for o := 0; o < m.Cols; o += qt.block {
			qt.unpack(row[o/qt.block*qt.size:], q[o:], s[o/sub:], b[o/sub:])
		}
		g, k := r/4, r%4
		for blk := 0; blk < p.nb; blk++ {
			dst := p.data[(g*p.nb+blk)*p.stride:]
			vals := q[32*blk : 32*blk+32]
			sa, sb := s[2*blk], s[2*blk+1]
			ba, bb := b[2*blk], b[2*blk+1]
			switch p.kind {
			case packR4:
				off := qt.offset // codes in [0, 15]; the bias takes the offset back
				for j := 0; j < 16; j++ {
					dst[16*k+j] = byte(vals[j]+off) | byte(vals[j+16]+off)<<4
				}
				putF32(dst[64+4*k:], sa)
				putF32(dst[80+4*k:], ba-float32(off)*sa)
			default:
				for j := 0; j < 32; j++ {
					dst[32*k+j] = byte(vals[j])
				}
				putF32(dst[128+4*k:], sa)
				putF32(dst[144+4*k:], sb)
				if p.kind == packR8Bias {
					putF32(dst[160+4*k:], ba)
					putF32(dst[176+4*k:], bb)
				}
			}
		}
	}
	return p
}

func putF32(b []byte, v float32) { binary.LittleEndian.PutUint32(b, math.Float32bits(v)) }

// packedAct fills the per-block activation terms the packed kernels read,
// from the split-layout activations (xq, xd) of one token: for r4, eight
// floats per block [xd x4, xd*sum(q) x4]; for r8, eight floats per block
// [xd*sum(q[0:16]) x4, xd*sum(q[16:32]) x4].
func packedAct(kind int, act []float32, xq []byte, xd []float32) {
	for b := range xd {
		var lo, hi int32
		for j := 0; j < 16; j++ {
			lo += int32(int8(xq[32*b+j]))
			hi += int32(int8(xq[32*b+16+j]))
		}
		a := act[8*b : 8*b+8]
		if kind == packR4 {
			s := xd[b] * float32(lo+hi)
			a[0], a[1], a[2], a[3] = xd[b], xd[b], xd[b], xd[b]
			a[4], a[5], a[6], a[7] = s, s, s, s
			continue
		}
		sa, sb := xd[b]*float32(lo), xd[b]*float32(hi)
		a[0], a[1], a[2], a[3] = sa, sa, sa, sa
		a[4], a[5], a[6], a[7] = sb, sb, sb, sb
	}
}

// r4x4Generic dots the four rows of one r4 group (nb blocks at p) with one
// token: out[r] = sum over blocks of scale*xd*sum(v*xq) + bias*xd*sum(xq).
func r4x4Generic(p []byte, xq []byte, act []float32, nb int, out []float32) {
	var acc, bias [4]float32
	for b := 0; b < nb; b++ {
		blk := p[b*r4BlockBytes : (b+1)*r4BlockBytes]
		x := xq[32*b : 32*b+32]
		a := act[8*b : 8*b+8]
		for r := 0; r < 4; r++ {
			var sum int32
			for j := 0; j < 16; j++ {
				v := blk[16*r+j]
				sum += int32(v&15)*int32(int8(x[j])) + int32(v>>4)*int32(int8(x[j+16]))
			}
			acc[r] += f32le(blk[64+4*r:]) * a[0] * float32(sum)
			bias[r] += f32le(blk[80+4*r:]) * a[4]
		}
	}
	for r := range 4 {
		out[r] = acc[r] + bias[r]
	}
}

// r8x4Generic is r4x4Generic for an r8 group (stride bytes per block; the
// biases are read when stride is r8BiasBlockBytes): each half of a block
// has its own scale and bias.
func r8x4Generic(p []byte, stride int, xq []byte, xd, act []float32, nb int, out []float32) {
	var acc, bias [4]float32
	for b := 0; b < nb; b++ {
		blk := p[b*stride : (b+1)*stride]
		x := xq[32*b : 32*b+32]
		a := act[8*b : 8*b+8]
		for r := 0; r < 4; r++ {
			var lo, hi int32
			for j := 0; j < 16; j++ {
				lo += int32(int8(blk[32*r+j])) * int32(int8(x[j]))
				hi += int32(int8(blk[32*r+16+j])) * int32(int8(x[j+16]))
			}
			acc[r] += f32le(blk[128+4*r:])*xd[b]*float32(lo) + f32le(blk[144+4*r:])*xd[b]*float32(hi)
			if stride == r8BiasBlockBytes {
				bias[r] += f32le(blk[160+4*r:])*a[0] + f32le(blk[176+4*r:])*a[4]
			}
		}
	}
	for r := range 4 {
		out[r] = acc[r] + bias[r]
	}
}

// packedOnce guards the lazy packing of each matrix (Matrix.once).
type packedOnce = sync.Once

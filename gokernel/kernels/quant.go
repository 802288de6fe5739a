package kernels

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/fakbench/fakbench/gguf"
)

// The quantized and 16-bit tensor types the Go kernel reads besides f32,
// f16 and q8_0 (kernels.go): the types of the GGUF files people download.
// Their ids are ggml.h's.
const (
	TypeQ4_0   = Type(gguf.TypeQ4_0)
	TypeQ4_1   = Type(gguf.TypeQ4_1)
	TypeQ5_0   = Type(gguf.TypeQ5_0)
	TypeQ5_1   = Type(gguf.TypeQ5_1)
	TypeQ2_K   = Type(gguf.TypeQ2_K)
	TypeQ3_K   = Type(gguf.TypeQ3_K)
	TypeQ4_K   = Type(gguf.TypeQ4_K)
	TypeQ5_K   = Type(gguf.TypeQ5_K)
	TypeQ6_K   = Type(gguf.TypeQ6_K)
	TypeIQ4_NL = Type(gguf.TypeIQ4_NL)
	TypeBF16   = Type(gguf.TypeBF16)
)

// QK_K is the number of weights in one k-quant super-block.
const QK_K = 256

// A quantized block unpacks to integer values q, one scale and one bias
// per 16 values (sub): weight i is s[i/16]*q[i] + b[i/16] (s[i/16]*q[i]
// for the types without bias), evaluated in
// float32 exactly as ggml's dequantization evaluates it (every product of a
// scale and its integer is exact in float32 for these types, so the value
// is ggml's bit for bit).
const sub = 16

// quantType describes one block-quantized type; name, block and size are
// gguf's, filled in at init.
type quantType struct {
	name  string
	block int // weights per block
	size  int // bytes per block
	// unpack writes the block's values into q[:block], its scales into
	// s[:block/16] and its biases into b[:block/16].
	unpack func(src []byte, q []int8, s, b []float32)
	// nibbles says every value is in [0, 15] and the scale and bias are
	// the same for both halves of each 32 values (the packed 4-bit
	// layout); otherwise values are int8 with one scale per 16.
	nibbles bool
	// biased says b may be non-zero.
	biased bool
	// offset is added to each value to make the 4-bit codes of the
	// packed layout (q4_0 unpacks to nibble-8 so that its weights are
	// d*(nibble-8), signed zeros included, as ggml computes them).
	offset int8
}

var quantTypes = map[Type]*quantType{
	TypeQ4_0: {unpack: unpackQ4_0, nibbles: true, offset: 8},
	TypeQ4_1: {unpack: unpackQ4_1, nibbles: true, biased: true},
	TypeQ5_0: {unpack: unpackQ5_0},
	TypeQ5_1: {unpack: unpackQ5_1, biased: true},
	TypeQ2_K: {unpack: unpackQ2_K, biased: true},
	TypeQ3_K: {unpack: unpackQ3_K},
	TypeQ4_K: {unpack: unpackQ4_K, nibbles: true, biased: true},
	TypeQ5_K: {unpack: unpackQ5_K, biased: true},
	TypeQ6_K: {unpack: unpackQ6_K},
	// iq4_nl is what llama.cpp's k-quant mixes fall back to for rows that
	// are not a multiple of 256 in the q2_K and q3_K mixes.
	TypeIQ4_NL: {unpack: unpackIQ4_NL},
}

func init() {
	for t, qt := range quantTypes {
		g := gguf.TensorType(t)
		qt.name, qt.block, qt.size = g.String(), g.BlockSize(), g.TypeSize()
	}
}

// Supported lists the types the Go kernel computes with, as ggml names
// them.
func Supported() []string {
	return []string{"f32", "f16", "bf16", "q8_0", "q4_0", "q4_1", "q5_0", "q5_1", "q2_K", "q3_K", "q4_K", "q5_K", "q6_K", "iq4_nl"}
}

// IsSupported says whether the Go kernel computes with weights of type t.
func IsSupported(t Type) bool {
	switch t {
	case TypeF32, TypeF16, TypeBF16, TypeQ8_0:
		return true
	}
	return quantTypes[t] != nil
}

func f16le(b []byte, o int) float32 { return F16ToF32(binary.LittleEndian.Uint16(b[o:])) }

// BF16ToF32 widens a bfloat16 (the top half of a float32) exactly.
func BF16ToF32(h uint16) float32 { return math.Float32frombits(uint32(h) << 16) }

// q4_0: f16 d, 16 bytes of nibbles; weight j is d*(nibble-8), low nibbles
// first.
func unpackQ4_0(src []byte, q []int8, s, b []float32) {
	d := f16le(src, 0)
	for j := 0; j < 16; j++ {
		v := src[2+j]
		q[j], q[j+16] = int8(v&15)-8, int8(v>>4)-8
	}
	s[0], s[1] = d, d
	b[0], b[1] = 0, 0
}

// q4_1: f16 d, f16 m, 16 bytes of nibbles; weight j is d*nibble + m.
func unpackQ4_1(src []byte, q []int8, s, b []float32) {
	d, m := f16le(src, 0), f16le(src, 2)
	for j := 0; j < 16; j++ {
		v := src[4+j]
		q[j], q[j+16] = int8(v&15), int8(v>>4)
	}
	s[0], s[1] = d, d
	b[0], b[1] = m, m
}

// fifth returns the 5-bit values of a q5 block: nibbles qs, high bits qh.
func fifth(qs []byte, qh uint32, q []int8, off int8) {
	for j := 0; j < 16; j++ {
		h0 := byte(qh>>uint(j)) & 1
		h1 := byte(qh>>uint(j+16)) & 1
		q[j] = int8(qs[j]&15|h0<<4) - off
		q[j+16] = int8(qs[j]>>4|h1<<4) - off
	}
}

// q5_0: f16 d, 32 high bits, 16 bytes of nibbles; weight is d*(v-16).
func unpackQ5_0(src []byte, q []int8, s, b []float32) {
	d := f16le(src, 0)
	fifth(src[6:22], binary.LittleEndian.Uint32(src[2:]), q, 16)
	s[0], s[1] = d, d
	b[0], b[1] = 0, 0
}

// q5_1: f16 d, f16 m, 32 high bits, 16 bytes of nibbles; weight is d*v + m.
func unpackQ5_1(src []byte, q []int8, s, b []float32) {
	d, m := f16le(src, 0), f16le(src, 2)
	fifth(src[8:24], binary.LittleEndian.Uint32(src[4:]), q, 0)
	s[0], s[1] = d, d
	b[0], b[1] = m, m
}

// q2_K: 16 scale bytes (low nibble scale, high nibble min), 64 bytes of
// 2-bit values, f16 d, f16 dmin. Sixteen groups of 16: weight is
// d*sc*v - dmin*m.
func unpackQ2_K(src []byte, q []int8, s, b []float32) {
	scales, qs := src[0:16], src[16:80]
	d, dmin := f16le(src, 80), f16le(src, 82)
	g := 0 // group of 16 in output order
	for n := 0; n < 2; n++ {
		qq := qs[32*n : 32*n+32]
		for shift := uint(0); shift < 8; shift += 2 {
			for half := 0; half < 2; half++ {
				sc := scales[g]
				s[g] = d * float32(sc&15)
				b[g] = -(dmin * float32(sc>>4))
				for l := 0; l < 16; l++ {
					q[16*g+l] = int8(qq[16*half+l] >> shift & 3)
				}
				g++
			}
		}
	}
}

// q3K scales unpacks the sixteen 6-bit scales of a q3_K block.
func q3KScales(p []byte) (sc [16]int8) {
	var aux [4]uint32
	aux[0] = binary.LittleEndian.Uint32(p[0:])
	aux[1] = binary.LittleEndian.Uint32(p[4:])
	aux[2] = binary.LittleEndian.Uint32(p[8:])
	const m1, m2 = 0x03030303, 0x0f0f0f0f
	tmp := aux[2]
	aux[2] = (aux[0]>>4)&m2 | ((tmp>>4)&m1)<<4
	aux[3] = (aux[1]>>4)&m2 | ((tmp>>6)&m1)<<4
	aux[0] = aux[0]&m2 | (tmp&m1)<<4
	aux[1] = aux[1]&m2 | ((tmp>>2)&m1)<<4
	for i := 0; i < 16; i++ {
		sc[i] = int8(byte(aux[i/4] >> (8 * uint(i%4))))
	}
	return sc
}

// q3_K: 32 bytes of high bits, 64 bytes of 2-bit values, 12 bytes of
// 6-bit scales, f16 d. Sixteen groups of 16: weight is
// d*(sc-32)*(v - (high bit ? 0 : 4)).
func unpackQ3_K(src []byte, q []int8, s, b []float32) {
	hm, qs := src[0:32], src[32:96]
	sc := q3KScales(src[96:108])
	d := f16le(src, 108)
	g := 0
	mask := byte(1)
	for n := 0; n < 2; n++ {
		qq := qs[32*n : 32*n+32]
		for shift := uint(0); shift < 8; shift += 2 {
			for half := 0; half < 2; half++ {
				s[g] = d * float32(sc[g]-32)
				b[g] = 0
				for l := 0; l < 16; l++ {
					v := int8(qq[16*half+l] >> shift & 3)
					if hm[16*half+l]&mask == 0 {
						v -= 4
					}
					q[16*g+l] = v
				}
				g++
			}
			mask <<= 1
		}
	}
}

// scaleMinK4 returns the j-th 6-bit scale and min of a q4_K or q5_K block.
func scaleMinK4(j int, p []byte) (sc, m byte) {
	if j < 4 {
		return p[j] & 63, p[j+4] & 63
	}
	return p[j+4]&15 | (p[j-4]>>6)<<4, p[j+4]>>4 | (p[j]>>6)<<4
}

// q4_K: f16 d, f16 dmin, 12 bytes of 6-bit scales and mins, 128 bytes of
// nibbles. Eight groups of 32 (in each 64, the low nibbles then the high
// ones): weight is d*sc*v - dmin*m.
func unpackQ4_K(src []byte, q []int8, s, b []float32) { unpackK4(src, src[16:144], nil, q, s, b) }

// q5_K: q4_K's layout plus 32 bytes of fifth bits before the nibbles.
func unpackQ5_K(src []byte, q []int8, s, b []float32) {
	unpackK4(src, src[48:176], src[16:48], q, s, b)
}

// unpackK4 unpacks a q4_K block (qh nil) or a q5_K block (qh its fifth
// bits, bit g of byte l for value l of group g) whose nibbles are qs.
func unpackK4(src, qs, qh []byte, q []int8, s, b []float32) {
	d, dmin := f16le(src, 0), f16le(src, 2)
	scales := src[4:16]
	for g := 0; g < 8; g++ {
		sc, m := scaleMinK4(g, scales)
		sv, bv := d*float32(sc), -(dmin * float32(m))
		s[2*g], s[2*g+1], b[2*g], b[2*g+1] = sv, sv, bv, bv
		qq, shift := qs[32*(g/2):32*(g/2)+32], 4*uint(g%2)
		for l := 0; l < 32; l++ {
			v := qq[l] >> shift & 15
			if qh != nil {
				v |= (qh[l] >> uint(g) & 1) << 4
			}
			q[32*g+l] = int8(v)
		}
	}
}

// q6_K: 128 bytes of low nibbles, 64 bytes of high 2-bit pairs, 16 int8
// scales, f16 d. Sixteen groups of 16: weight is d*sc*(v-32).
func unpackQ6_K(src []byte, q []int8, s, b []float32) {
	ql, qh, sc := src[0:128], src[128:192], src[192:208]
	d := f16le(src, 208)
	for g := 0; g < 16; g++ {
		s[g] = d * float32(int8(sc[g]))
		b[g] = 0
	}
	for n := 0; n < 2; n++ {
		l4, h2, out := ql[64*n:], qh[32*n:], q[128*n:]
		for l := 0; l < 32; l++ {
			out[l] = int8(l4[l]&15|(h2[l]&3)<<4) - 32
			out[l+32] = int8(l4[l+32]&15|(h2[l]>>2&3)<<4) - 32
			out[l+64] = int8(l4[l]>>4|(h2[l]>>4&3)<<4) - 32
			out[l+96] = int8(l4[l+32]>>4|(h2[l]>>6&3)<<4) - 32
		}
	}
}

// iq4nlValues is ggml's non-linear 4-bit codebook of iq4_nl.
var iq4nlValues = [16]int8{-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113}

// iq4_nl: f16 d, 16 bytes of nibbles indexing the codebook; weight j is
// d*codebook[nibble], low nibbles first.
func unpackIQ4_NL(src []byte, q []int8, s, b []float32) {
	d := f16le(src, 0)
	for j := 0; j < 16; j++ {
		v := src[2+j]
		q[j], q[j+16] = iq4nlValues[v&15], iq4nlValues[v>>4]
	}
	s[0], s[1] = d, d
	b[0], b[1] = 0, 0
}

// dequantBlocks writes the n weights of row (blocks of type qt) to dst.
func dequantBlocks(qt *quantType, dst []float32, row []byte, n int) {
	var q [QK_K]int8
	var s, b [QK_K / sub]float32
	for o := 0; o < n; o += qt.block {
		qt.unpack(row[o/qt.block*qt.size:], q[:], s[:], b[:])
		if !qt.biased { // scale*value alone: ggml's signed zeros
			for i := 0; i < qt.block; i++ {
				dst[o+i] = s[i/sub] * float32(q[i])
			}
			continue
		}
		for i := 0; i < qt.block; i++ {
			dst[o+i] = s[i/sub]*float32(q[i]) + b[i/sub]
		}
	}
}

// Dequantize writes the n weights stored in data with type t (a whole
// number of blocks) to a new slice, as ggml's dequantization does; it is
// the reference the tests hold llama.cpp's against.
func Dequantize(t Type, data []byte, n int) ([]float32, error) {
	rb, err := RowBytes(t, n)
	if err != nil {
		return nil, err
	}
	if len(data) != rb {
		return nil, fmt.Errorf("kernels: Dequantize: %d %v values take %d bytes, have %d", n, t, rb, len(data))
	}
	m := &Matrix{Type: t, Rows: 1, Cols: n, RowBytes: rb, Data: data}
	out := make([]float32, n)
	m.DequantRow(0, out)
	return out, nil
}

//go:build amd64 && !noasm

package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// vnniNBs are the block counts the packed VNNI kernels are tested at: one
// block, the two-block step, odd counts (the single-block tail) and
// model-sized rows.
var vnniNBs = []int{1, 2, 3, 5, 8, 17, 48}

// randPackedGroup returns nb blocks of one packed group: random bytes for
// the values (every code and every int8, -128 included) and float32
// scales and biases of mixed sign and magnitude.
func randPackedGroup(rng *rand.Rand, stride, nb int) []byte {
	p := make([]byte, nb*stride)
	vals := 128 // r8: 4 x 32 int8
	if stride == r4BlockBytes {
		vals = 64
	}
	for b := 0; b < nb; b++ {
		blk := p[b*stride : (b+1)*stride]
		for i := 0; i < vals; i++ {
			blk[i] = byte(rng.IntN(256))
		}
		for o := vals; o < stride; o += 4 {
			putF32(blk[o:], float32(rng.NormFloat64())*float32(math.Pow(2, float64(rng.IntN(8)-8))))
		}
	}
	return p
}

// packedToken returns one token's activations as MatMul hands them to the
// packed kernels: int8 in [-127, 127], block scales, and packedAct's terms.
func packedToken(rng *rand.Rand, kind, nb int) (xq []byte, xd, act []float32) {
	xq = randActs(rng, 32*nb)
	xd = make([]float32, nb)
	for b := range xd {
		xd[b] = float32(rng.Float64()*0.05 + 1e-3)
	}
	act = make([]float32, 8*nb)
	packedAct(kind, act, xq, xd)
	return xq, xd, act
}

// r4Ref is row r of an r4 group times a token in float64, from the same
// float32 inputs, and the sum of the magnitudes of every term the kernels
// add (each product's, not each block sum's: the vector lanes hold partial
// sums).
func r4Ref(p, xq []byte, act []float32, nb, r int) (float64, float64) {
	var s, abs float64
	for b := 0; b < nb; b++ {
		blk := p[b*r4BlockBytes:]
		var dot, mag int64
		for j := 0; j < 16; j++ {
			v := blk[16*r+j]
			lo, hi := int64(v&15)*int64(int8(xq[32*b+j])), int64(v>>4)*int64(int8(xq[32*b+16+j]))
			dot += lo + hi
			mag += abs64(lo) + abs64(hi)
		}
		sc := float64(f32le(blk[64+4*r:])) * float64(act[8*b])
		bias := float64(f32le(blk[80+4*r:])) * float64(act[8*b+4])
		s += sc*float64(dot) + bias
		abs += math.Abs(sc)*float64(mag) + math.Abs(bias)
	}
	return s, abs
}

// r8Ref is r4Ref for an r8 group. abs also counts what the VNNI kernel
// adds and takes off again: the weights offset by 128 multiplied with the
// activations, and 128 * scale * each half's activation term.
func r8Ref(p []byte, stride int, xq []byte, xd, act []float32, nb, r int) (float64, float64) {
	var s, abs float64
	for b := 0; b < nb; b++ {
		blk := p[b*stride:]
		for h := 0; h < 2; h++ {
			var dot, mag int64
			for j := 16 * h; j < 16*h+16; j++ {
				w, x := int64(int8(blk[32*r+j])), int64(int8(xq[32*b+j]))
				dot += w * x
				mag += abs64(w*x) + abs64((w+128)*x)
			}
			sc := float64(f32le(blk[128+16*h+4*r:]))
			term := float64(act[8*b+4*h])
			s += sc * float64(xd[b]) * float64(dot)
			abs += math.Abs(sc*float64(xd[b]))*float64(mag) + 128*math.Abs(sc*term)
			if stride == r8BiasBlockBytes {
				bias := float64(f32le(blk[160+16*h+4*r:])) * float64(term)
				s += bias
				abs += math.Abs(bias)
			}
		}
	}
	return s, abs
}

func abs64(v int64) int64 {
	if v < 0 {
		return -v
	}
	return v
}

// vnniTol: the kernels and the twins add the same kind of rounded terms
// (a product of scales, its product with an exact int32 sum, a bias term)
// over nb blocks in different orders, then at most eight lanes; the
// recursive-summation bound 2*(n+2)*u*sum|terms| (helpers_test.go) with n
// = nb + 8 covers both.
func vnniTol(nb int, abs float64) float64 { return 2*float64(nb+10)*u32*abs + 1e-30 }

func TestR4x4VNNIMatchesGenericAndFloat64(t *testing.T) {
	requireAVX512(t)
	rng := rand.New(rand.NewPCG(91, 92))
	for _, nb := range vnniNBs {
		for rep := 0; rep < 4; rep++ {
			p := randPackedGroup(rng, r4BlockBytes, nb)
			xq, _, act := packedToken(rng, packR4, nb)
			if rep == 0 { // the largest sums: every code 15, every activation -127
				largestSums(packR4, p, r4BlockBytes, xq)
				packedAct(packR4, act, xq, make([]float32, nb))
				for b := 0; b < nb; b++ {
					act[8*b], act[8*b+1], act[8*b+2], act[8*b+3] = 0.01, 0.01, 0.01, 0.01
				}
			}
			got := []float32{1, 2, 3, 4, 42}
			want := make([]float32, 4)
			r4x4VNNI(p, xq, act, nb, got)
			r4x4Generic(p, xq, act, nb, want)
			assert.Equal(t, float32(42), got[4], "nb=%d: wrote past the output", nb)
			for r := 0; r < 4; r++ {
				ref, abs := r4Ref(p, xq, act, nb, r)
				tol := vnniTol(nb, abs)
				require.InDelta(t, ref, float64(got[r]), tol, "vnni nb=%d rep=%d row %d", nb, rep, r)
				require.InDelta(t, ref, float64(want[r]), tol, "generic nb=%d rep=%d row %d", nb, rep, r)
			}
		}
	}
}

func TestR8x4VNNIMatchesGenericAndFloat64(t *testing.T) {
	requireAVX512(t)
	rng := rand.New(rand.NewPCG(93, 94))
	for _, stride := range []int{r8BlockBytes, r8BiasBlockBytes} {
		for _, nb := range vnniNBs {
			for rep := 0; rep < 4; rep++ {
				p := randPackedGroup(rng, stride, nb)
				xq, xd, act := packedToken(rng, packR8, nb)
				if rep == 0 { // the largest sums: every weight -128, every activation -127
					largestSums(packR8, p, stride, xq)
					packedAct(packR8, act, xq, xd)
				}
				got := []float32{1, 2, 3, 4, 42}
				want := make([]float32, 4)
				r8x4VNNI(p, stride, xq, xd, act, nb, got)
				r8x4Generic(p, stride, xq, xd, act, nb, want)
				assert.Equal(t, float32(42), got[4], "stride=%d nb=%d: wrote past the output", stride, nb)
				for r := 0; r < 4; r++ {
					ref, abs := r8Ref(p, stride, xq, xd, act, nb, r)
					tol := vnniTol(nb, abs)
					require.InDelta(t, ref, float64(got[r]), tol, "vnni stride=%d nb=%d rep=%d row %d", stride, nb, rep, r)
					require.InDelta(t, ref, float64(want[r]), tol, "generic stride=%d nb=%d rep=%d row %d", stride, nb, rep, r)
				}
			}
		}
	}
}

// TestPackedVNNIBoundsChecked: the wrappers refuse operands the kernels
// would read past, in Go, before the assembly runs; nb = 0 gives zeros.
func TestPackedVNNIBoundsChecked(t *testing.T) {
	requireAVX512(t)
	rng := rand.New(rand.NewPCG(95, 96))
	const nb = 3
	p4 := randPackedGroup(rng, r4BlockBytes, nb)
	p8 := randPackedGroup(rng, r8BiasBlockBytes, nb)
	xq, xd, act := packedToken(rng, packR8, nb)
	out := make([]float32, 4)
	assert.Panics(t, func() { r4x4VNNI(p4[:len(p4)-1], xq, act, nb, out) }, "r4 weights one byte short")
	assert.Panics(t, func() { r4x4VNNI(p4, xq[:32*nb-1], act, nb, out) }, "r4 activations one byte short")
	assert.Panics(t, func() { r4x4VNNI(p4, xq, act[:8*nb-1], nb, out) }, "r4 terms one short")
	assert.Panics(t, func() { r4x4VNNI(p4, xq, act, nb, out[:3]) }, "r4 output of three")
	assert.Panics(t, func() { r8x4VNNI(p8[:len(p8)-1], r8BiasBlockBytes, xq, xd, act, nb, out) }, "r8 weights one byte short")
	assert.Panics(t, func() { r8x4VNNI(p8, r8BiasBlockBytes, xq, xd[:nb-1], act, nb, out) }, "r8 scales one short")
	assert.Panics(t, func() { r8x4VNNI(p8, r8BiasBlockBytes, xq, xd, act[:8*nb-1], nb, out) }, "r8 terms one short")
	assert.Panics(t, func() { r8x4VNNI(p8, 176, xq, xd, act, nb, out) }, "a stride of no r8 layout")
	for i := range out {
		out[i] = 42
	}
	r4x4VNNI(nil, nil, nil, 0, out)
	assert.Equal(t, []float32{0, 0, 0, 0}, out)
	out[0] = 42
	r8x4VNNI(nil, r8BlockBytes, nil, nil, nil, 0, out)
	assert.Equal(t, []float32{0, 0, 0, 0}, out)
}

// TestPoolMatMulPackedVNNI runs every packed type through the avx512 and
// amx sets' MatMul at the smallest shapes (one block per row, two, an odd
// count; a K-quant's 8 and 24), rows not a multiple of four, one token and
// several, against the float64 product.
func TestPoolMatMulPackedVNNI(t *testing.T) {
	requireAVX512(t)
	rng := rand.New(rand.NewPCG(97, 98))
	for _, set := range []string{"avx512", "amx"} {
		if Check(set) != nil {
			continue
		}
		useSet(t, set)
		for _, typ := range packedTypes {
			if typ == TypeBF16 {
				continue
			}
			colsList := []int{32, 64, 96}
			if quantTypes[typ].block == 256 {
				colsList = []int{256, 768}
			}
			for _, cols := range colsList {
				for _, rows := range []int{4, 7} {
					m, err := NewMatrix(typ, rows, cols, randBlocks(t, rng, typ, rows*cols))
					require.NoError(t, err)
					for _, nTok := range []int{1, 5} {
						x := randF32(rng, nTok*cols)
						want, abs := refMatMul(m, x, nTok)
						off := r8OffsetMag(m, x, nTok)
						// As TestPoolMatMulPackedTypes, with the terms of
						// the r8 kernels' offset (taken off again).
						tol := func(i int) float64 { return 4*float64(cols+4)*u32*(abs[i]+off[i]) + 1e-6 }
						p := NewPool(1)
						requireMatMul(t, p, m, x, nTok, want, tol, fmt.Sprintf("%s %v %dx%d nTok=%d", set, typ, rows, cols, nTok))
						p.Close()
					}
				}
			}
		}
	}
}

// r8OffsetMag is, for an r8 type, the magnitude of what the VNNI kernel
// adds and takes off again per output: 128 * sum over i of |scale_i *
// x_i|, x quantized to q8_0 and back as refMatMul does (zeros for r4).
func r8OffsetMag(m *Matrix, x []float32, nTok int) []float64 {
	out := make([]float64, nTok*m.Rows)
	qt := quantTypes[m.Type]
	if qt.nibbles {
		return out
	}
	xt := make([]float32, m.Cols)
	qb := make([]byte, m.Cols/32*BlockQ8_0Bytes)
	q := make([]int8, m.Cols)
	s := make([]float32, m.Cols/sub)
	b := make([]float32, m.Cols/sub)
	for tk := 0; tk < nTok; tk++ {
		quantizeQ8_0Generic(qb, x[tk*m.Cols:(tk+1)*m.Cols])
		DequantizeQ8_0(xt, qb)
		for r := 0; r < m.Rows; r++ {
			for o := 0; o < m.Cols; o += qt.block {
				qt.unpack(m.Row(r)[o/qt.block*qt.size:], q[o:], s[o/sub:], b[o/sub:])
			}
			var a float64
			for i, v := range xt {
				a += 128 * math.Abs(float64(s[i/sub])*float64(v))
			}
			out[tk*m.Rows+r] = a
		}
	}
	return out
}

// BenchmarkPackedKernels times the avx2 and VNNI packed kernels alone on
// 64 groups of 4 rows x 1536 columns (r4 0.6 MB, r8 1-1.2 MB: in L2) and
// one token; G weights/s counts rows x columns per second.
func BenchmarkPackedKernels(b *testing.B) {
	if !hasAVX512Set() {
		b.Skip("needs the avx512 set")
	}
	rng := rand.New(rand.NewPCG(99, 100))
	const groups, nb = 64, 48
	type kern struct {
		name   string
		stride int
		fn     func(g []byte, xq []byte, xd, act []float32, out []float32)
	}
	r4 := func(f func([]byte, []byte, []float32, int, []float32)) func([]byte, []byte, []float32, []float32, []float32) {
		return func(g, xq []byte, _, act []float32, out []float32) { f(g, xq, act, nb, out) }
	}
	r8 := func(f func([]byte, int, []byte, []float32, []float32, int, []float32), stride int) func([]byte, []byte, []float32, []float32, []float32) {
		return func(g, xq []byte, xd, act []float32, out []float32) { f(g, stride, xq, xd, act, nb, out) }
	}
	for _, k := range []kern{
		{"r4/avx2", r4BlockBytes, r4(r4x4Asm)},
		{"r4/vnni", r4BlockBytes, r4(r4x4VNNI)},
		{"r8/avx2", r8BlockBytes, r8(r8x4Asm, r8BlockBytes)},
		{"r8/vnni", r8BlockBytes, r8(r8x4VNNI, r8BlockBytes)},
		{"r8bias/avx2", r8BiasBlockBytes, r8(r8x4Asm, r8BiasBlockBytes)},
		{"r8bias/vnni", r8BiasBlockBytes, r8(r8x4VNNI, r8BiasBlockBytes)},
	} {
		p := randPackedGroup(rng, k.stride, groups*nb)
		kind := packR8
		if k.stride == r4BlockBytes {
			kind = packR4
		}
		xq, xd, act := packedToken(rng, kind, nb)
		out := make([]float32, 4*groups)
		b.Run(k.name, func(b *testing.B) {
			for b.Loop() {
				for g := 0; g < groups; g++ {
					k.fn(p[g*nb*k.stride:(g+1)*nb*k.stride], xq, xd, act, out[4*g:])
				}
			}
			b.ReportMetric(float64(4*groups*32*nb)*float64(b.N)/b.Elapsed().Seconds()/1e9, "Gweights/s")
		})
	}
}

// largestSums sets a packed group and its quantized activations to the
// case of the largest sums: in the r4 layout every code 15, in the r8
// layouts every weight -128 (0x80 before the XOR with 0x80), and every
// activation -127.
func largestSums(kind int, p []byte, stride int, xq []byte) {
	codes, fill := 128, byte(0x80)
	if kind == packR4 {
		codes, fill = 64, 0xff
	}
	for i := range p {
		if i%stride < codes {
			p[i] = fill
		}
	}
	for i := range xq {
		xq[i] = byte(0x81)
	}
}

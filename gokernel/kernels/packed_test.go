package kernels

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// packedTypes are the types MatMul re-lays (packed.go), bf16 included.
var packedTypes = []Type{TypeQ4_0, TypeQ4_1, TypeQ5_0, TypeQ5_1, TypeQ2_K, TypeQ3_K, TypeQ4_K, TypeQ5_K, TypeQ6_K, TypeIQ4_NL, TypeBF16}

// f16Fields are the byte offsets of each type's f16 block scales: random
// bytes make valid blocks of every type once these hold finite values.
var f16Fields = map[Type][]int{
	TypeQ4_0: {0}, TypeQ4_1: {0, 2}, TypeQ5_0: {0}, TypeQ5_1: {0, 2},
	TypeQ2_K: {80, 82}, TypeQ3_K: {108}, TypeQ4_K: {0, 2}, TypeQ5_K: {0, 2}, TypeQ6_K: {208}, TypeIQ4_NL: {0},
}

// randBlocks returns n values of type typ: random bits, scales finite and
// of a realistic size.
func randBlocks(t testing.TB, rng *rand.Rand, typ Type, n int) []byte {
	t.Helper()
	rb, err := RowBytes(typ, n)
	require.NoError(t, err)
	out := make([]byte, rb)
	for i := range out {
		out[i] = byte(rng.IntN(256))
	}
	if typ == TypeBF16 {
		for i := 0; i < n; i++ {
			h := uint16(math.Float32bits(float32(rng.NormFloat64())) >> 16)
			binary.LittleEndian.PutUint16(out[2*i:], h)
		}
		return out
	}
	qt := quantTypes[typ]
	for b := 0; b < n/qt.block; b++ {
		for _, o := range f16Fields[typ] {
			v := float32(rng.Float64()*0.05 + 1e-3)
			if rng.IntN(2) == 0 && o > 0 && typ != TypeQ4_1 && typ != TypeQ5_1 {
				v = -v
			}
			binary.LittleEndian.PutUint16(out[b*qt.size+o:], F32ToF16(v))
		}
	}
	return out
}

func TestQuantTypesSizesAndNames(t *testing.T) {
	// Block sizes as ggml-common.h lays the blocks out.
	want := map[Type][3]any{
		TypeQ4_0: {"q4_0", 32, 18}, TypeQ4_1: {"q4_1", 32, 20}, TypeQ5_0: {"q5_0", 32, 22},
		TypeQ5_1: {"q5_1", 32, 24}, TypeQ2_K: {"q2_K", 256, 84}, TypeQ3_K: {"q3_K", 256, 110},
		TypeQ4_K: {"q4_K", 256, 144}, TypeQ5_K: {"q5_K", 256, 176}, TypeQ6_K: {"q6_K", 256, 210},
		TypeIQ4_NL: {"iq4_nl", 32, 18},
	}
	for typ, w := range want {
		assert.Equal(t, w[0], typ.String())
		rb, err := RowBytes(typ, 2*w[1].(int))
		require.NoError(t, err)
		assert.Equal(t, 2*w[2].(int), rb, "%v", typ)
		_, err = RowBytes(typ, w[1].(int)+16)
		assert.ErrorContains(t, err, "not a multiple of", "%v", typ)
		assert.True(t, IsSupported(typ))
	}
	assert.Equal(t, "bf16", TypeBF16.String())
	assert.False(t, IsSupported(Type(23)), "iq4_xs is not supported")
	assert.Len(t, Supported(), 14)
}

func TestDequantizeKnownBlocks(t *testing.T) {
	// q4_0: d = 0.5, nibbles j | (31-j)<<4 -> (j-8)*0.5 then ((15-j)-8)*0.5.
	blk := make([]byte, 18)
	binary.LittleEndian.PutUint16(blk, F32ToF16(0.5))
	for j := 0; j < 16; j++ {
		blk[2+j] = byte(j) | byte(15-j)<<4
	}
	got, err := Dequantize(TypeQ4_0, blk, 32)
	require.NoError(t, err)
	for j := 0; j < 16; j++ {
		assert.Equal(t, float32(j-8)*0.5, got[j])
		assert.Equal(t, float32(15-j-8)*0.5, got[j+16])
	}
	// q6_K: d = 1, scales g+1, all values 32+1 -> weight (g+1)*1 for the
	// 16 values of group g.
	q6 := make([]byte, 210)
	for i := 0; i < 128; i++ {
		q6[i] = 0x11 // low nibbles 1
	}
	for i := 128; i < 192; i++ {
		q6[i] = 0xaa // high pairs 2 -> +32
	}
	for g := 0; g < 16; g++ {
		q6[192+g] = byte(g + 1)
	}
	binary.LittleEndian.PutUint16(q6[208:], F32ToF16(1))
	got, err = Dequantize(TypeQ6_K, q6, 256)
	require.NoError(t, err)
	for i, v := range got {
		assert.Equal(t, float32(i/16+1), v, "q6_K value %d", i)
	}
	// bf16 widens exactly.
	got, err = Dequantize(TypeBF16, []byte{0x80, 0x3f, 0x00, 0xc0}, 2)
	require.NoError(t, err)
	assert.Equal(t, []float32{1, -2}, got)

	_, err = Dequantize(TypeQ4_K, make([]byte, 100), 256)
	assert.ErrorContains(t, err, "take 144 bytes, have 100")
	_, err = Dequantize(TypeQ4_K, make([]byte, 144), 100)
	assert.ErrorContains(t, err, "not a multiple of 256")
}

func TestPoolMatMulPackedTypes(t *testing.T) {
	rng := rand.New(rand.NewPCG(61, 62))
	for _, set := range Available() {
		useSet(t, set)
		for _, typ := range packedTypes {
			cols := 512
			if typ == TypeQ4_0 || typ == TypeQ5_1 || typ == TypeBF16 {
				cols = 96
			}
			for _, rows := range []int{1, 4, 6, 37} {
				m, err := NewMatrix(typ, rows, cols, randBlocks(t, rng, typ, rows*cols))
				require.NoError(t, err)
				tol := func(abs float64) float64 { return 4*float64(cols+4)*u32*abs + 1e-6 }
				requireMatMulTokens(t, rng, m, []int{1, 2, 9, 33}, []int{1, 2}, tol, fmt.Sprintf("%s %v %dx%d", set, typ, rows, cols))
			}
		}
	}
}

func TestPackedDotAgainstFloat64(t *testing.T) {
	// The dot product against the exact float64 one, activations not
	// quantized: the error is the activations' int8 rounding (at most half
	// a step of each block's scale max|x|/127 per value) plus float32 sums.
	rng := rand.New(rand.NewPCG(63, 64))
	const rows, cols = 8, 512
	p := NewPool(1)
	defer p.Close()
	for _, typ := range packedTypes {
		m, err := NewMatrix(typ, rows, cols, randBlocks(t, rng, typ, rows*cols))
		require.NoError(t, err)
		x := randF32(rng, cols)
		dst := make([]float32, rows)
		p.MatMul(dst, m, x, 1, nil)
		w := make([]float32, cols)
		for r := 0; r < rows; r++ {
			m.DequantRow(r, w)
			var exact, bound float64
			for b := 0; b < cols/32; b++ {
				var xmax, wabs float64
				for i := 32 * b; i < 32*(b+1); i++ {
					exact += float64(w[i]) * float64(x[i])
					xmax = math.Max(xmax, math.Abs(float64(x[i])))
					wabs += math.Abs(float64(w[i]))
				}
				bound += wabs * xmax / 127 * 0.51
			}
			bound += 1e-3 * math.Abs(exact)
			if typ == TypeBF16 {
				bound = 1e-5 * (1 + math.Abs(exact))
			}
			assert.InDelta(t, exact, float64(dst[r]), bound, "%v row %d", typ, r)
		}
	}
}

func TestPackedLayoutSizesAndErrors(t *testing.T) {
	rng := rand.New(rand.NewPCG(65, 66))
	m, err := NewMatrix(TypeQ4_K, 6, 256, randBlocks(t, rng, TypeQ4_K, 6*256))
	require.NoError(t, err)
	require.NoError(t, m.Prepare())
	assert.Equal(t, 2*8*r4BlockBytes, m.PackedBytes(), "two groups of four rows, eight blocks each")
	m6, err := NewMatrix(TypeQ6_K, 4, 256, randBlocks(t, rng, TypeQ6_K, 4*256))
	require.NoError(t, err)
	require.NoError(t, m6.Prepare())
	assert.Equal(t, 8*r8BlockBytes, m6.PackedBytes(), "q6_K has no biases")
	for _, set := range Available() {
		useSet(t, set)
		q8, err := NewMatrix(TypeQ8_0, 4, 64, make([]byte, 4*2*BlockQ8_0Bytes))
		require.NoError(t, err)
		require.NoError(t, q8.Prepare())
		if cur().packQ8 {
			assert.Equal(t, 2*q8r16BlockBytes, q8.PackedBytes(), "%s: one group of 16 rows (12 of them padding), two blocks", set)
		} else {
			assert.Equal(t, len(q8.Data), q8.PackedBytes(), "%s: q8_0 is read as stored", set)
		}
	}
	// bf16 with 7 columns widens to f32 (no block constraint).
	bf, err := NewMatrix(TypeBF16, 2, 7, randBlocks(t, rng, TypeBF16, 14))
	require.NoError(t, err)
	require.NoError(t, bf.Prepare())
	assert.Equal(t, 2*7*4, bf.PackedBytes())
}

func TestPoolMatMulPackedDoesNotAllocate(t *testing.T) {
	rng := rand.New(rand.NewPCG(67, 68))
	p := NewPool(2)
	defer p.Close()
	m, err := NewMatrix(TypeQ4_K, 64, 512, randBlocks(t, rng, TypeQ4_K, 64*512))
	require.NoError(t, err)
	x := randF32(rng, 4*512)
	dst := make([]float32, 4*64)
	p.MatMul(dst, m, x, 4, nil) // packs and grows the buffers
	allocs := testing.AllocsPerRun(20, func() { p.MatMul(dst, m, x, 4, nil) })
	assert.LessOrEqual(t, allocs, 1.0)
	// The tile paths' conversion buffers (the amx set's r4 and bf16
	// prefill) come from the pool too: none per call once grown, race
	// detector included (which empties a sync.Pool at random).
	f16 := randMatrix(t, rng, TypeF16, 64, 512)
	xs := randF32(rng, 32*512)
	ds := make([]float32, 32*64)
	p.MatMul(ds, f16, xs, 32, nil)
	p.MatMul(dst, m, x, 4, nil)
	allocs = testing.AllocsPerRun(20, func() {
		p.MatMul(ds, f16, xs, 32, nil)
		p.MatMul(dst, m, x, 4, nil)
	})
	assert.LessOrEqual(t, allocs, 2.0)
}

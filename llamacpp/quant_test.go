package llamacpp

import (
	"context"
	"encoding/binary"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fakbench/fakbench/adapters"
	"github.com/fakbench/fakbench/gguf"
	"github.com/fakbench/fakbench/transport"
)

// quantCase is a type with its block layout, as ggml-common.h defines it
// (written out here, not read from ggml), and the relative RMS error a
// round trip of 1,024 Gaussian values (a fixed seed) stays under; the
// measured errors are 1.3 to 1.9 times lower.
type quantCase struct {
	name       string
	typ        int
	block      int // values per block
	blockBytes int
	relRMS     float64
}

var quantCases = []quantCase{
	{"f32", ggmlF32, 1, 4, 0},
	{"f16", ggmlF16, 1, 2, 4e-4},
	{"bf16", ggmlBF16, 1, 2, 3e-3},
	{"q8_0", ggmlQ8_0, 32, 34, 0.008},
	{"q5_0", ggmlQ5_0, 32, 22, 0.06},
	{"q5_1", ggmlQ5_1, 32, 24, 0.05},
	{"q4_0", ggmlQ4_0, 32, 18, 0.12},
	{"q4_1", ggmlQ4_1, 32, 20, 0.11},
	{"q6_K", ggmlQ6_K, 256, 210, 0.025},
	{"q5_K", ggmlQ5_K, 256, 176, 0.05},
	{"q4_K", ggmlQ4_K, 256, 144, 0.10},
	{"q3_K", ggmlQ3_K, 256, 110, 0.2},
	{"q2_K", ggmlQ2_K, 256, 84, 0.4},
}

func gaussian(n int, seed uint64) []float32 {
	r := rand.New(rand.NewPCG(seed, 7))
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(r.NormFloat64())
	}
	return v
}

func relRMS(want, got []float32) float64 {
	var num, den float64
	for i := range want {
		d := float64(want[i]) - float64(got[i])
		num += d * d
		den += float64(want[i]) * float64(want[i])
	}
	return math.Sqrt(num / den)
}

func TestQuantizeDequantRoundTrip(t *testing.T) {
	requireNative(t)
	const n = 4 * 256
	src := gaussian(n, 1)
	for _, c := range quantCases {
		t.Run(c.name, func(t *testing.T) {
			q, err := QuantizeRef(c.typ, src)
			require.NoError(t, err)
			assert.Len(t, q, n/c.block*c.blockBytes, "bytes of %d values", n)
			again, err := QuantizeRef(c.typ, src)
			require.NoError(t, err)
			assert.Equal(t, q, again, "the quantizer is deterministic")

			back, err := Dequantize(c.typ, q, n)
			require.NoError(t, err)
			require.Len(t, back, n)
			e := relRMS(src, back)
			t.Logf("%s: relative RMS error %.5f", c.name, e)
			assert.LessOrEqual(t, e, c.relRMS)
			if c.typ != ggmlF32 {
				assert.Greater(t, e, 0.0, "a lossy type loses something on Gaussian values")
			}
		})
	}
}

// TestDequantizeKnownBlocks builds blocks by hand from the layouts in
// ggml-common.h and checks ggml's values against the formulas.
func TestDequantizeKnownBlocks(t *testing.T) {
	requireNative(t)
	const half = 0x3800 // 0.5 as IEEE half

	// q8_0: d (f16), then 32 int8 quants; x = d*q.
	blk := binary.LittleEndian.AppendUint16(nil, half)
	for i := range 32 {
		blk = append(blk, byte(int8(i-16)))
	}
	got, err := Dequantize(ggmlQ8_0, blk, 32)
	require.NoError(t, err)
	for i := range 32 {
		assert.Equal(t, 0.5*float32(i-16), got[i], "q8_0 value %d", i)
	}

	// q4_0: d (f16), then 16 bytes; value j is the low nibble of byte j,
	// value j+16 its high nibble; x = d*(nibble-8).
	blk = binary.LittleEndian.AppendUint16(nil, half)
	for j := range 16 {
		blk = append(blk, byte(j)|byte(15-j)<<4)
	}
	got, err = Dequantize(ggmlQ4_0, blk, 32)
	require.NoError(t, err)
	for j := range 16 {
		assert.Equal(t, 0.5*float32(j-8), got[j], "q4_0 low nibble %d", j)
		assert.Equal(t, 0.5*float32(15-j-8), got[j+16], "q4_0 high nibble %d", j)
	}

	// f16 and bf16: 1.5 and -2.
	got, err = Dequantize(ggmlF16, []byte{0x00, 0x3e, 0x00, 0xc0}, 2)
	require.NoError(t, err)
	assert.Equal(t, []float32{1.5, -2}, got)
	got, err = Dequantize(ggmlBF16, []byte{0xc0, 0x3f, 0x00, 0xc0}, 2)
	require.NoError(t, err)
	assert.Equal(t, []float32{1.5, -2}, got)

	got, err = Dequantize(ggmlQ4_K, nil, 0)
	require.NoError(t, err)
	assert.Empty(t, got)
}

func TestDequantizeErrors(t *testing.T) {
	if Available() != nil {
		_, err := Dequantize(ggmlQ8_0, make([]byte, 34), 32)
		var ue *transport.UnavailableError
		require.ErrorAs(t, err, &ue)
		_, err = QuantizeRef(ggmlQ8_0, make([]float32, 32))
		require.ErrorAs(t, err, &ue)
		t.Skip("llama.cpp not compiled in: the rest needs it")
	}
	// Not a ggml type: negative, removed (4, 5, 31) or past the end.
	for _, typ := range []int{-1, 4, 5, 31, 40, 1000} {
		_, err := Dequantize(typ, make([]byte, 64), 32)
		assert.ErrorContains(t, err, "unknown ggml type", "type %d", typ)
		_, err = QuantizeRef(typ, make([]float32, 256))
		assert.ErrorContains(t, err, "unknown ggml type", "type %d", typ)
	}
	// Sizes: the data must be exactly the row size; n a block multiple.
	_, err := Dequantize(ggmlQ8_0, make([]byte, 33), 32)
	assert.ErrorContains(t, err, "32 values take 34 bytes, got 33")
	_, err = Dequantize(ggmlQ8_0, make([]byte, 35), 32)
	assert.ErrorContains(t, err, "got 35")
	_, err = Dequantize(ggmlQ4_K, make([]byte, 144), 100)
	assert.ErrorContains(t, err, "not a multiple of its block size 256")
	_, err = Dequantize(ggmlQ4_K, make([]byte, 144), -256)
	assert.Error(t, err)
	_, err = Dequantize(ggmlF32, make([]byte, 7), 2)
	assert.ErrorContains(t, err, "got 7")
	// A type ggml cannot turn into floats.
	_, err = Dequantize(26, make([]byte, 8), 2) // GGML_TYPE_I32
	assert.ErrorContains(t, err, "no dequantization")

	_, err = QuantizeRef(ggmlQ4_K, make([]float32, 100))
	assert.ErrorContains(t, err, "block size 256")
	_, err = QuantizeRef(ggmlQ4_0, nil)
	assert.ErrorContains(t, err, "positive multiple")
	for _, typ := range []int{9, 16, 26} { // q8_1, iq2_xxs (needs an importance matrix), i32
		_, err = QuantizeRef(typ, make([]float32, 256))
		assert.ErrorContains(t, err, "not one QuantizeRef makes", "type %d", typ)
	}
}

func TestQuantizeTypesMapToLlamaH(t *testing.T) {
	requireNative(t)
	seen := map[int]string{}
	for _, name := range QuantizeTypes() {
		v, ok := nativeFtype(name)
		require.True(t, ok, name)
		if prev, dup := seen[v]; dup {
			t.Errorf("%s and %s map to the same llama_ftype %d", prev, name, v)
		}
		seen[v] = name
	}
	// Spot checks against llama.h's enum llama_ftype.
	for name, want := range map[string]int{"q4_0": 2, "q8_0": 7, "q2_k": 10, "q4_k_m": 15, "q6_k": 18, "bf16": 32} {
		v, _ := nativeFtype(name)
		assert.Equal(t, want, v, name)
	}
}

// tensorTypes counts the tensors of a GGUF file per type name.
func tensorTypes(t *testing.T, path string) map[string]int {
	t.Helper()
	f, err := gguf.Open(path)
	require.NoError(t, err)
	defer f.Close()
	n := map[string]int{}
	for _, ti := range f.Tensors {
		n[ti.Type.String()]++
	}
	return n
}

func TestQuantizeModel(t *testing.T) {
	requireNative(t)
	in := tinyModel(t, "f16")
	dir := t.TempDir()
	out := filepath.Join(dir, "tiny-q8_0.gguf")
	require.NoError(t, QuantizeModel(context.Background(), in, out, "q8_0", 1))
	inTypes, types := tensorTypes(t, in), tensorTypes(t, out)
	require.NotZero(t, inTypes["f16"])
	assert.Equal(t, map[string]int{"q8_0": inTypes["f16"], "f32": inTypes["f32"]}, types,
		"every f16 matrix is q8_0 (the tiny preset's rows are multiples of 32), the f32 norms stay")

	// llama.cpp loads what it wrote.
	be := open(t, out, adapters.Options{})
	assert.Equal(t, "q8_0", be.Info().WeightType)
	require.NoError(t, be.Close())

	// The thread count does not change the file (models' quantized specs
	// rely on it).
	for _, ft := range []string{"q8_0", "q4_k_m", "q3_k_m"} {
		var files [2][]byte
		for i, threads := range []int{1, 4} {
			p := filepath.Join(dir, ft+"-threads.gguf")
			require.NoError(t, QuantizeModel(context.Background(), in, p, ft, threads))
			var err error
			files[i], err = os.ReadFile(p)
			require.NoError(t, err)
		}
		assert.Equal(t, files[0], files[1], "%s: 1 and 4 threads", ft)
	}
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Len(t, entries, 4, "no temporary file left behind")
}

func TestQuantizeModelErrors(t *testing.T) {
	ctx := context.Background()
	if Available() != nil {
		err := QuantizeModel(ctx, "in.gguf", "out.gguf", "q4_k_m", 1)
		var ue *transport.UnavailableError
		require.ErrorAs(t, err, &ue)
		t.Skip("llama.cpp not compiled in: the rest needs it")
	}
	dir := t.TempDir()
	out := filepath.Join(dir, "out.gguf")
	in := tinyModel(t, "f16")

	err := QuantizeModel(ctx, in, out, "q4_k_x", 1)
	assert.ErrorContains(t, err, `unknown quantization type "q4_k_x"`)
	assert.ErrorContains(t, err, "q4_k_m")
	assert.ErrorContains(t, err, "q6_k")

	missing := filepath.Join(dir, "missing.gguf")
	err = QuantizeModel(ctx, missing, out, "q8_0", 1)
	var bad *transport.BadModelError
	require.ErrorAs(t, err, &bad)
	assert.Contains(t, err.Error(), missing)

	junk := filepath.Join(dir, "junk.gguf")
	require.NoError(t, os.WriteFile(junk, []byte("GGUF but not really"), 0o644))
	err = QuantizeModel(ctx, junk, out, "q8_0", 1)
	require.ErrorAs(t, err, &bad)
	assert.Contains(t, err.Error(), junk)

	err = QuantizeModel(ctx, in, out, "q8_0", -1)
	assert.ErrorContains(t, err, "threads -1")
	err = QuantizeModel(ctx, in, "", "q8_0", 1)
	assert.ErrorContains(t, err, "no output file")
	err = QuantizeModel(ctx, in, in, "q8_0", 1)
	assert.ErrorContains(t, err, "is the input file")
	err = QuantizeModel(ctx, in, filepath.Join(dir, "no", "such", "dir.gguf"), "q8_0", 1)
	assert.ErrorContains(t, err, "cannot write the output")

	cctx, cancel := context.WithCancel(ctx)
	cancel()
	err = QuantizeModel(cctx, in, out, "q8_0", 1)
	assert.ErrorIs(t, err, context.Canceled)

	_, statErr := os.Stat(out)
	assert.True(t, os.IsNotExist(statErr), "no output written by a failed call")
}

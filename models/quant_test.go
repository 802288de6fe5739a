package models

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fakbench/fakbench/gokernel/kernels"
	"github.com/fakbench/fakbench/internal/env"
)

// copyQuantizer stands in for llama.cpp's quantizer (package models cannot
// link it): it copies the input, a real GGUF file, and records each call,
// so the tests see when the cache asks for a file to be made. The real
// quantizer's output is tested in package llamacpp.
type copyQuantizer struct {
	mu    sync.Mutex
	calls []string // "in -> out ftype"
	fail  error
}

func (c *copyQuantizer) quantize(ctx context.Context, in, out, ftype string, threads int) error {
	c.mu.Lock()
	c.calls = append(c.calls, filepath.Base(in)+" -> "+filepath.Base(out)+" "+ftype)
	c.mu.Unlock()
	if c.fail != nil {
		return c.fail
	}
	src, err := os.Open(in)
	if err != nil {
		return err
	}
	defer src.Close()
	dst, err := os.Create(out)
	if err != nil {
		return err
	}
	if _, err := io.Copy(dst, src); err != nil {
		dst.Close()
		return err
	}
	return dst.Close()
}

// withQuantizer registers q for the test and restores the previous one.
func withQuantizer(t *testing.T, q Quantizer) {
	t.Helper()
	prev := registeredQuantizer()
	RegisterQuantizer(q)
	t.Cleanup(func() { RegisterQuantizer(prev) })
}

// tempCache points the model cache (FAK_CACHE_DIR) at a new empty folder
// for the test and returns it.
func tempCache(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	t.Setenv(env.CacheDir.Name, dir)
	return dir
}

func TestParseQuantSpec(t *testing.T) {
	for _, ft := range []string{"q4_k_m", "q4_0", "q4_1", "q5_0", "q5_1", "q2_k", "q3_k_m", "q4_k_s", "q5_k_m", "q6_k", "bf16"} {
		s, ok, err := ParseQuantSpec("synthetic:smol135m-untied:" + ft)
		require.NoError(t, err, ft)
		require.True(t, ok, ft)
		assert.Equal(t, QuantSpec{Preset: "smol135m-untied", FType: ft}, s)
		assert.Equal(t, "synthetic:smol135m-untied:"+ft, s.String())
		assert.Equal(t, Spec{Preset: "smol135m-untied", Type: kernels.TypeF16}, s.Source())
		// The old name is an alias: the same spec.
		old, ok, err := ParseQuantSpec("synthetic:smol135m:" + ft)
		require.NoError(t, err, ft)
		require.True(t, ok, ft)
		assert.Equal(t, s, old)
	}
	// Not quantized specs: ParseSpec reads them, as before.
	for _, spec := range []string{"synthetic:tiny", "synthetic:tiny:f32", "synthetic:tiny:f16", "synthetic:tiny:q8_0",
		"real:smollm2", "model.gguf", "synthetic::q4_k_m", "synthetic:tiny:q4_k_m:x"} {
		_, ok, err := ParseQuantSpec(spec)
		assert.False(t, ok, spec)
		assert.NoError(t, err, spec)
	}
	_, ok, err := ParseQuantSpec("synthetic:huge:q4_k_m")
	assert.True(t, ok)
	assert.ErrorContains(t, err, `unknown synthetic preset "huge"`)
	_, ok, err = ParseQuantSpec("synthetic:tiny:Q4_K_M")
	assert.True(t, ok)
	assert.ErrorContains(t, err, `unknown weight type "Q4_K_M"`)
	assert.ErrorContains(t, err, "q4_k_m, q5_k_s")

	assert.NotContains(t, QuantSpecTypes(), "q8_0", "the generator writes q8_0 itself")
	assert.NotContains(t, QuantSpecTypes(), "f16")
	assert.Contains(t, QuantizeTypes(), "q8_0", "model quantize makes every type")
	assert.Len(t, QuantizeTypes(), len(QuantSpecTypes())+3)
}

func TestQuantSpecWithoutQuantizer(t *testing.T) {
	withQuantizer(t, nil)
	dir := tempCache(t)
	_, err := Path("synthetic:tiny:q4_k_m")
	require.ErrorIs(t, err, ErrNoQuantizer)
	assert.ErrorContains(t, err, "synthetic:tiny:q4_k_m: quantizing needs llama.cpp's quantizer")

	var progress bytes.Buffer
	_, err = Resolve(context.Background(), "synthetic:tiny:q4_k_m", &progress)
	var se *SpecError
	require.ErrorAs(t, err, &se)
	assert.ErrorIs(t, err, ErrNoQuantizer)
	assert.Empty(t, progress.String(), "no 'quantizing' line when nothing can quantize")
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Empty(t, entries, "nothing generated for a spec that cannot be made")

	_, err = QuantizeFile(context.Background(), "in.gguf", filepath.Join(dir, "out.gguf"), "q4_k_m", 0)
	assert.ErrorIs(t, err, ErrNoQuantizer)
}

func TestQuantSpecCache(t *testing.T) {
	q := &copyQuantizer{}
	withQuantizer(t, q.quantize)
	dir := tempCache(t)
	ctx := context.Background()

	var progress bytes.Buffer
	m, err := Resolve(ctx, "synthetic:tiny:q4_k_m", &progress)
	require.NoError(t, err)
	want := QuantCachePath(QuantSpec{"tiny", "q4_k_m"})
	assert.Equal(t, filepath.Join(dir, "synthetic-tiny-q4_k_m-g1.gguf"), want)
	assert.Equal(t, want, m.Path)
	assert.Contains(t, progress.String(), "fakbench: quantizing synthetic:tiny:q4_k_m from synthetic:tiny:f16 with llama.cpp into the cache "+dir)
	assert.Equal(t, []string{"synthetic-tiny-f16-g1.gguf -> synthetic-tiny-q4_k_m-g1.gguf q4_k_m"}, q.calls,
		"quantized once, from the preset's f16 file")
	side, err := os.ReadFile(want + ".sum")
	require.NoError(t, err)
	assert.Contains(t, string(side), m.Digest, "the sidecar records the digest")

	// A cache hit: no second quantization, the same file and digest.
	progress.Reset()
	again, err := Resolve(ctx, "synthetic:tiny:q4_k_m", &progress)
	require.NoError(t, err)
	assert.Equal(t, m, again)
	assert.Len(t, q.calls, 1)
	assert.Empty(t, progress.String())

	// Another type is another file; the f16 source is reused.
	p, err := Path("synthetic:tiny:q6_k")
	require.NoError(t, err)
	assert.Equal(t, QuantCachePath(QuantSpec{"tiny", "q6_k"}), p)
	assert.Len(t, q.calls, 2)

	// A changed cached file (its digest no longer matches) is made again.
	f, err := os.OpenFile(want, os.O_APPEND|os.O_WRONLY, 0)
	require.NoError(t, err)
	_, err = f.Write([]byte{0})
	require.NoError(t, err)
	require.NoError(t, f.Close())
	_, err = Path("synthetic:tiny:q4_k_m")
	require.NoError(t, err)
	assert.Len(t, q.calls, 3)
	d, err := FileDigest(want)
	require.NoError(t, err)
	assert.Equal(t, m.Digest, d)

	// The existing specs never reach the quantizer.
	p, err = Path("synthetic:tiny:q8_0")
	require.NoError(t, err)
	assert.Equal(t, CachePath(Spec{"tiny", kernels.TypeQ8_0}), p)
	assert.Len(t, q.calls, 3)

	// A quantizer failure is reported and leaves no sidecar.
	q.fail = errors.New("llama_model_quantize returned 1")
	_, err = Path("synthetic:tiny:q5_k_m")
	assert.ErrorContains(t, err, "quantizing synthetic:tiny:q5_k_m from ")
	assert.ErrorContains(t, err, "llama_model_quantize returned 1")
	assert.NoFileExists(t, QuantCachePath(QuantSpec{"tiny", "q5_k_m"})+".sum")

	// A cancelled context stops before the quantizer runs.
	q.fail = nil
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	_, err = EnsureQuant(cctx, QuantSpec{"tiny", "q5_k_m"})
	assert.ErrorIs(t, err, context.Canceled)
	assert.Len(t, q.calls, 4)
}

func TestQuantizeFile(t *testing.T) {
	q := &copyQuantizer{}
	withQuantizer(t, q.quantize)
	dir := tempCache(t)
	ctx := context.Background()
	in, err := Path("synthetic:tiny:f16")
	require.NoError(t, err)
	out := filepath.Join(dir, "out.gguf")

	got, err := QuantizeFile(ctx, in, out, "q8_0", 2)
	require.NoError(t, err)
	d, err := FileDigest(out)
	require.NoError(t, err)
	st, err := os.Stat(out)
	require.NoError(t, err)
	assert.Equal(t, Quantized{Path: out, Type: "q8_0", Size: st.Size(), Digest: d}, got)

	_, err = QuantizeFile(ctx, in, out, "q4_k", 0)
	assert.ErrorContains(t, err, `unknown quantization type "q4_k" (known: f32, f16, q4_0,`)
	_, err = QuantizeFile(ctx, in, out, "q4_k_m", -2)
	assert.ErrorContains(t, err, "threads -2 is negative")
	assert.Len(t, q.calls, 1, "bad arguments never reach the quantizer")

	q.fail = errors.New("bad model file in.gguf")
	_, err = QuantizeFile(ctx, in, out, "q4_k_m", 0)
	assert.ErrorContains(t, err, "bad model file in.gguf")
}

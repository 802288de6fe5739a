package gokernel

import (
	"context"
	"fmt"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fakbench/fakbench/adapters"
	"github.com/fakbench/fakbench/gguf"
	"github.com/fakbench/fakbench/gokernel/kernels"
	"github.com/fakbench/fakbench/internal/host"
	"github.com/fakbench/fakbench/models"
	"github.com/fakbench/fakbench/transport"
)

// modelKVs are the metadata of the tiny test model.
func modelKVs(hp HParams) map[string]any {
	return map[string]any{
		"general.architecture":                   "llama",
		"general.name":                           "tiny-test",
		"llama.embedding_length":                 uint32(hp.Embd),
		"llama.block_count":                      uint32(hp.Layers),
		"llama.feed_forward_length":              uint32(hp.FFN),
		"llama.attention.head_count":             uint32(hp.Heads),
		"llama.attention.head_count_kv":          uint32(hp.KVHeads),
		"llama.context_length":                   uint32(hp.CtxTrain),
		"llama.rope.dimension_count":             uint32(hp.Embd / hp.Heads),
		"llama.rope.freq_base":                   float32(hp.RopeBase),
		"llama.attention.layer_norm_rms_epsilon": float32(hp.NormEps),
	}
}

// writeModel writes kvs and tensors as a GGUF file and returns its path.
func writeModel(t *testing.T, kvs map[string]any, mt memTensors) string {
	t.Helper()
	w := gguf.NewWriter()
	for _, k := range slices.Sorted(maps.Keys(kvs)) {
		require.NoError(t, w.AddKV(k, kvs[k]))
	}
	for _, n := range slices.Sorted(maps.Keys(mt)) {
		rt := mt[n]
		require.NoError(t, w.AddTensor(n, gguf.TensorType(rt.typ), rt.dims, rt.data))
	}
	path := filepath.Join(t.TempDir(), "model.gguf")
	require.NoError(t, w.WriteFile(path))
	return path
}

func tinyFile(t *testing.T, typ kernels.Type) (string, HParams, memTensors) {
	hp := tinyHP()
	hp.Vocab = 512
	mt := randomTensors(hp, typ, 7, false)
	return writeModel(t, modelKVs(hp), mt), hp, mt
}

func TestLoadMatchesInMemoryModel(t *testing.T) {
	for _, typ := range []kernels.Type{kernels.TypeF32, kernels.TypeF16, kernels.TypeQ8_0} {
		t.Run(typ.String(), func(t *testing.T) {
			path, hp, _ := tinyFile(t, typ)
			m, err := Load(path, Options{Threads: 2})
			require.NoError(t, err)
			defer m.Close()
			assert.Equal(t, "tiny-test", m.Name)
			assert.Equal(t, 512, m.HP.Vocab)
			assert.Equal(t, 16, m.HP.HeadDim)
			assert.Equal(t, 16, m.HP.RopeDim)
			assert.Equal(t, hp.CtxTrain, m.ContextLength(), "min(512, 4096)")
			assert.Equal(t, typ.String(), m.WeightType())
			assert.False(t, m.Tied)

			mem := newTestModel(t, typ, Options{Threads: 2})
			toks := testTokens(30, 512, 71)
			assert.Equal(t, coldLogits(t, mem, toks), coldLogits(t, m, toks))
			assert.Equal(t, mem.Parameters(), m.Parameters())
			assert.Equal(t, mem.WeightBytes(), m.WeightBytes())
		})
	}
}

// Linear rope scaling and per-pair frequency factors (rope_freqs.weight),
// as llama.cpp applies them, against the reference.
func TestRopeScalingAndFreqFactors(t *testing.T) {
	hp := tinyHP()
	hp.Vocab = 512
	mt := randomTensors(hp, kernels.TypeF32, 7, false)
	freqs := []float32{1, 1, 1.5, 2, 4, 8, 8, 16}
	mt["rope_freqs.weight"] = rawTensor{dims: []uint64{8}, typ: kernels.TypeF32, data: encode(kernels.TypeF32, freqs, 8)}
	for _, c := range []struct {
		name  string
		kv    map[string]any
		scale float32
	}{
		{"linear factor 4", map[string]any{"llama.rope.scaling.type": "linear", "llama.rope.scaling.factor": float32(4)}, 0.25},
		{"old scale_linear key", map[string]any{"llama.rope.scale_linear": float32(2)}, 0.5},
		{"type none ignores the factor", map[string]any{"llama.rope.scaling.type": "none", "llama.rope.scaling.factor": float32(4)}, 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			kvs := modelKVs(hp)
			for k, v := range c.kv {
				kvs[k] = v
			}
			m, err := Load(writeModel(t, kvs, mt), Options{Threads: 1})
			require.NoError(t, err)
			defer m.Close()
			assert.Equal(t, c.scale, m.HP.RopeFreqScale)
			assert.Equal(t, freqs, m.RopeFreqs)
			toks := testTokens(40, 512, 77)
			want := newRefModel(m).Logits(toks)
			got := coldLogits(t, m, toks)
			diff, scale := maxAbsDiff(got, want[len(toks)-1])
			assert.Less(t, diff/scale, logitTol[kernels.TypeF32])
		})
	}
	// Without factors and scaling the logits differ: the test can fail.
	plain := newTestModel(t, kernels.TypeF32, Options{Threads: 1})
	m, err := Load(writeModel(t, modelKVs(hp), mt), Options{Threads: 1})
	require.NoError(t, err)
	defer m.Close()
	toks := testTokens(40, 512, 77)
	assert.NotEqual(t, coldLogits(t, plain, toks), coldLogits(t, m, toks))
}

func TestWeightAccounting(t *testing.T) {
	m := newTestModel(t, kernels.TypeQ8_0, Options{Threads: 1})
	hp := m.HP
	perLayer := int64(hp.Embd*hp.QDim() + 2*hp.Embd*hp.KVDim() + hp.QDim()*hp.Embd + 3*hp.Embd*hp.FFN)
	params := int64(hp.Layers)*(perLayer+2*int64(hp.Embd)) + 2*int64(hp.Vocab*hp.Embd) + int64(hp.Embd)
	assert.Equal(t, params, m.Parameters())
	// Matrices are read in the layout of the active kernel set (the
	// file's, or q8r16 for avx512 and amx); the embedding row as stored.
	mat := func(rows, cols int) int64 { return int64(kernels.Q8_0MatrixBytes(rows, cols)) }
	layer := mat(hp.QDim(), hp.Embd) + 2*mat(hp.KVDim(), hp.Embd) + mat(hp.Embd, hp.QDim()) + 2*mat(hp.FFN, hp.Embd) + mat(hp.Embd, hp.FFN)
	read := int64(hp.Layers)*(layer+2*4*int64(hp.Embd)) + mat(hp.Vocab, hp.Embd) + 4*int64(hp.Embd) + int64(hp.Embd)/32*34
	assert.Equal(t, read, m.WeightBytes(), "layers + norms + head + one embedding row")
}

func TestLoadOptions(t *testing.T) {
	path, _, _ := tinyFile(t, kernels.TypeF32)
	m, err := Load(path, Options{Threads: 3, ContextLength: 100, ChunkSize: 1000})
	require.NoError(t, err)
	assert.Equal(t, 3, m.Threads())
	assert.Equal(t, 100, m.ContextLength())
	assert.Equal(t, 100, m.ChunkSize(), "chunk capped by the context")
	require.NoError(t, m.Close())

	_, err = Load(path, Options{ContextLength: 513})
	assert.ErrorContains(t, err, "context length 513 exceeds the model's context length 512")
	_, err = Load(path, Options{Threads: -1})
	assert.ErrorContains(t, err, "negative option")
}

func TestBadModelFiles(t *testing.T) {
	hp := tinyHP()
	hp.Vocab = 512
	good := func() (map[string]any, memTensors) { return modelKVs(hp), randomTensors(hp, kernels.TypeF32, 7, false) }

	cases := []struct {
		name   string
		edit   func(kv map[string]any, mt memTensors)
		substr []string
	}{
		{"wrong architecture", func(kv map[string]any, _ memTensors) { kv["general.architecture"] = "gpt2" },
			[]string{`"gpt2"`, "llama"}},
		{"no architecture", func(kv map[string]any, _ memTensors) { delete(kv, "general.architecture") },
			[]string{"general.architecture"}},
		{"missing hparam", func(kv map[string]any, _ memTensors) { delete(kv, "llama.block_count") },
			[]string{"llama.block_count"}},
		{"hparam of the wrong type", func(kv map[string]any, _ memTensors) { kv["llama.embedding_length"] = "64" },
			[]string{"llama.embedding_length"}},
		{"inconsistent heads", func(kv map[string]any, _ memTensors) { kv["llama.attention.head_count_kv"] = uint32(3) },
			[]string{"head_count_kv = 3"}},
		{"odd rope dims", func(kv map[string]any, _ memTensors) { kv["llama.rope.dimension_count"] = uint32(7) },
			[]string{"rope.dimension_count = 7"}},
		{"key length differs", func(kv map[string]any, _ memTensors) { kv["llama.attention.key_length"] = uint32(32) },
			[]string{"llama.attention.key_length = 32"}},
		{"heads narrower than embedding_length/head_count", func(kv map[string]any, mt memTensors) {
			// A file llama.cpp runs (tensors shaped by key_length 8) but
			// the Go kernel does not.
			for _, k := range []string{"llama.attention.key_length", "llama.attention.value_length", "llama.rope.dimension_count"} {
				kv[k] = uint32(8)
			}
			for i := range 2 {
				for name, dims := range map[string][]uint64{"attn_q": {64, 32}, "attn_k": {64, 16}, "attn_v": {64, 16}, "attn_output": {32, 64}} {
					mt.putZeros(fmt.Sprintf("blk.%d.%s.weight", i, name), dims...)
				}
			}
		}, []string{"llama.attention.key_length = 8 differs from embedding_length/head_count = 16; the Go kernel needs them equal"}},
		{"yarn scaling", func(kv map[string]any, _ memTensors) { kv["llama.rope.scaling.type"] = "yarn" },
			[]string{`"yarn"`, "llama.rope.scaling.type"}},
		{"negative rope factor", func(kv map[string]any, _ memTensors) { kv["llama.rope.scaling.factor"] = float32(-2) },
			[]string{"llama.rope.scaling.factor = -2"}},
		{"NaN epsilon", func(kv map[string]any, _ memTensors) {
			kv["llama.attention.layer_norm_rms_epsilon"] = float32(math.NaN())
		}, []string{"llama.attention.layer_norm_rms_epsilon = NaN, want a finite value > 0"}},
		{"bad rope_freqs", func(_ map[string]any, mt memTensors) { mt.putZeros("rope_freqs.weight", 8) },
			[]string{"rope_freqs.weight[0] = 0"}},
		{"rope_freqs of the wrong length", func(_ map[string]any, mt memTensors) { mt.putZeros("rope_freqs.weight", 16) },
			[]string{"rope_freqs.weight", "[16]", "[8]"}},
		{"missing tensor", func(_ map[string]any, mt memTensors) { delete(mt, "blk.1.ffn_up.weight") },
			[]string{"tensor blk.1.ffn_up.weight is missing"}},
		{"missing head and embeddings", func(_ map[string]any, mt memTensors) {
			delete(mt, "output.weight")
			delete(mt, "token_embd.weight")
		}, []string{"tensor token_embd.weight is missing"}},
		{"wrong shape", func(_ map[string]any, mt memTensors) { mt.putZeros("blk.0.attn_k.weight", 64, 16) },
			[]string{"blk.0.attn_k.weight", "[64 16]", "[64 32]"}},
		{"wrong embedding rows", func(_ map[string]any, mt memTensors) { mt.putZeros("token_embd.weight", 64, 500) },
			[]string{"token_embd.weight", "[64 500]", "[64 512]"}},
		{"unsupported type", func(_ map[string]any, mt memTensors) {
			// q8_1: blocks of 32 weights in 36 bytes, not one the kernel runs.
			mt["blk.0.attn_q.weight"] = rawTensor{dims: []uint64{64, 64}, typ: kernels.Type(gguf.TypeQ8_1), data: make([]byte, 64*64/32*36)}
		}, []string{"blk.0.attn_q.weight", "q8_1", "q4_K"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			kv, mt := good()
			c.edit(kv, mt)
			path := writeModel(t, kv, mt)
			m, err := Load(path, Options{Threads: 1})
			require.Error(t, err)
			assert.Nil(t, m)
			var bm *transport.BadModelError
			require.ErrorAs(t, err, &bm, "%v", err)
			assert.Equal(t, path, bm.File)
			for _, s := range c.substr {
				assert.Contains(t, err.Error(), s)
			}
		})
	}

	t.Run("truncated file", func(t *testing.T) {
		kv, mt := good()
		path := writeModel(t, kv, mt)
		data, err := os.ReadFile(path)
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(path, data[:len(data)-1000], 0o644))
		_, err = Load(path, Options{})
		require.True(t, transport.IsBadModel(err), "%v", err)
		assert.Contains(t, err.Error(), path)
	})
	t.Run("not a file", func(t *testing.T) {
		_, err := Load(filepath.Join(t.TempDir(), "absent.gguf"), Options{})
		assert.True(t, transport.IsBadModel(err), "%v", err)
	})
}

func TestBackendContract(t *testing.T) {
	ctx := context.Background()
	path, _, _ := tinyFile(t, kernels.TypeQ8_0)
	e, err := adapters.Lookup(BackendName)
	require.NoError(t, err)
	assert.True(t, e.Caps.Logits)

	b, err := adapters.Open(ctx, BackendName, adapters.Options{ModelPath: path, Threads: 2,
		Extra: map[string]string{ExtraChunkSize: "32"}})
	require.NoError(t, err)
	defer b.Close()
	assert.Equal(t, "gokernel", b.Name())
	assert.True(t, strings.HasPrefix(b.Version(), "gokernel/"+kernels.Name()), b.Version())
	st := b.Settings()
	assert.Equal(t, "2", st["threads"])
	assert.Equal(t, "32", st["chunk_size"])
	assert.Equal(t, "f16", st["type_k"])
	assert.Equal(t, "f16", st["type_v"])
	assert.Equal(t, "512", st["n_ctx"])
	assert.Equal(t, kernels.Name(), st["kernels"])
	info := b.Info()
	assert.Equal(t, path, info.Path)
	assert.Equal(t, "tiny-test", info.Name)
	assert.Equal(t, "llama", info.Architecture)
	assert.Equal(t, 512, info.VocabSize)
	assert.Equal(t, 512, info.ContextLength)
	assert.Equal(t, "q8_0", info.WeightType)
	assert.Positive(t, info.Parameters)
	assert.Positive(t, info.WeightBytes)

	s, err := b.NewSession(ctx)
	require.NoError(t, err)
	_, ok := s.(transport.LogitsReader)
	assert.True(t, ok)
	_, err = s.EnsurePrefix(ctx, transport.PrefixInput{Tokens: testTokens(40, 512, 81)})
	require.NoError(t, err)
	_, err = s.PrefillSuffix(ctx, transport.SuffixInput{Tokens: testTokens(3, 512, 82)})
	require.NoError(t, err)
	d, err := s.Decode(ctx, 4)
	require.NoError(t, err)
	assert.Len(t, d.Tokens, 4)
	require.NoError(t, s.Close())
	require.NoError(t, b.Close())
	_, err = b.NewSession(ctx)
	assert.ErrorIs(t, err, transport.ErrClosed)
	require.NoError(t, b.Close(), "idempotent")
}

func TestOpenErrors(t *testing.T) {
	ctx := context.Background()
	path, _, _ := tinyFile(t, kernels.TypeF32)
	_, err := Open(ctx, adapters.Options{})
	assert.ErrorContains(t, err, "no model path")
	_, err = Open(ctx, adapters.Options{ModelPath: path, Extra: map[string]string{"chunk_size": "x"}})
	assert.ErrorContains(t, err, `chunk_size="x"`)
	_, err = Open(ctx, adapters.Options{ModelPath: path, Extra: map[string]string{"flash": "1"}})
	assert.ErrorContains(t, err, `unknown option "flash"`)
	_, err = Open(ctx, adapters.Options{ModelPath: path, Threads: -2})
	assert.ErrorContains(t, err, "threads -2")
	_, err = Open(ctx, adapters.Options{ModelPath: path, ContextLength: 4096})
	assert.ErrorContains(t, err, "exceeds the model's context length 512")
	_, err = Open(ctx, adapters.Options{ModelPath: filepath.Join(t.TempDir(), "none.gguf")})
	assert.True(t, transport.IsBadModel(err))
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	_, err = Open(cctx, adapters.Options{ModelPath: path})
	assert.ErrorIs(t, err, context.Canceled)

	// Open takes a file: model specs are resolved (models.Resolve) before
	// any backend sees them, so a spec is a file that does not exist.
	_, err = Open(ctx, adapters.Options{ModelPath: "synthetic:tiny:f16", Threads: 1})
	var bm *transport.BadModelError
	require.ErrorAs(t, err, &bm)
	assert.Equal(t, "synthetic:tiny:f16", bm.File)

	// Default threads: the physical cores.
	b, err := Open(ctx, adapters.Options{ModelPath: path})
	require.NoError(t, err)
	defer b.Close()
	assert.Equal(t, "physical cores", b.Settings()["threads_source"])
	assert.Equal(t, strconv.Itoa(host.PhysicalCores()), b.Settings()["threads"])
	_, err = b.NewSession(cctx)
	assert.ErrorIs(t, err, context.Canceled)
}

// benchModel opens spec (a synthetic:PRESET:TYPE spec) with 2 threads, or
// the in-memory tiny q8_0 model when spec is empty.
func benchModel(b *testing.B, spec string) *Model {
	b.Helper()
	var m *Model
	var err error
	if spec == "" {
		hp := tinyHP()
		hp.Vocab = 512
		m, err = assemble("mem:tiny", "tiny", hp, randomTensors(hp, kernels.TypeQ8_0, 7, false).lookup, Options{Threads: 2})
	} else {
		var path string
		path, err = models.Path(spec)
		require.NoError(b, err)
		m, err = Load(path, Options{Threads: 2, ContextLength: 2048})
	}
	require.NoError(b, err)
	b.Cleanup(func() { _ = m.Close() })
	return m
}

// benchDecode measures greedy decode after a 64-token prefix.
func benchDecode(b *testing.B, spec string) { benchDecodeAt(b, spec, 64) }

// benchDecodeAt measures greedy decode after a prefix of prefix tokens (the
// harness's decode scenario runs at a context of about 1100).
func benchDecodeAt(b *testing.B, spec string, prefix int) {
	m := benchModel(b, spec)
	s := newTestSession(b, m)
	ctx := context.Background()
	_, err := s.EnsurePrefix(ctx, transport.PrefixInput{Tokens: testTokens(prefix, m.HP.Vocab, 91)})
	require.NoError(b, err)
	const steps = 32
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		_, err := s.PrefillSuffix(ctx, transport.SuffixInput{Tokens: []transport.Token{1}})
		require.NoError(b, err)
		_, err = s.Decode(ctx, steps)
		require.NoError(b, err)
	}
	b.ReportMetric(float64(b.N*steps)/b.Elapsed().Seconds(), "tokens/s")
}

// benchPrefill measures a cold prefill of n tokens.
func benchPrefill(b *testing.B, spec string, n int) {
	m := benchModel(b, spec)
	s := newTestSession(b, m)
	ctx := context.Background()
	toks := testTokens(n, m.HP.Vocab, 92)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		_, err := s.EnsurePrefix(ctx, transport.PrefixInput{})
		require.NoError(b, err)
		res, err := s.EnsurePrefix(ctx, transport.PrefixInput{Tokens: toks})
		require.NoError(b, err)
		require.Equal(b, n, res.ComputedTokens)
	}
	b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds(), "tokens/s")
}

// BenchmarkDecode is decode on the tiny model (2 threads).
func BenchmarkDecode(b *testing.B) { benchDecode(b, "") }

// BenchmarkDecodeSmol135mQ8 is decode on synthetic:smol135m-untied:q8_0 (the
// default bench model; generated and cached on first use, ~150 MB).
func BenchmarkDecodeSmol135mQ8(b *testing.B) { benchDecode(b, "synthetic:smol135m-untied:q8_0") }

// BenchmarkDecodeSmol135mQ8Ctx1k is that decode after a 1024-token prefix,
// where attention reads ~1k cached keys per layer and head group.
func BenchmarkDecodeSmol135mQ8Ctx1k(b *testing.B) {
	benchDecodeAt(b, "synthetic:smol135m-untied:q8_0", 1024)
}

// BenchmarkPrefillSmol135mQ8 is a cold 512-token prefill on
// synthetic:smol135m-untied:q8_0.
func BenchmarkPrefillSmol135mQ8(b *testing.B) { benchPrefill(b, "synthetic:smol135m-untied:q8_0", 512) }

// BenchmarkPrefillSmol135mF16 is that prefill on the f16 file (its
// matrices on the amx set's bf16 tiles where the set has them).
func BenchmarkPrefillSmol135mF16(b *testing.B) { benchPrefill(b, "synthetic:smol135m-untied:f16", 512) }

// BenchmarkPrefillSmol135mQ8Len1k is the report's cold prefill: 1024 tokens.
func BenchmarkPrefillSmol135mQ8Len1k(b *testing.B) {
	benchPrefill(b, "synthetic:smol135m-untied:q8_0", 1024)
}

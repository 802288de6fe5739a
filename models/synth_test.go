package models

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fakbench/fakbench/gguf"
	"github.com/fakbench/fakbench/gokernel/kernels"
)

// Pinned digests of the tiny model: any change to the generator's output
// must bump GeneratorVersion and update these.
var tinyDigests = map[kernels.Type]string{
	kernels.TypeF32:  "e8a607391438d69c2f251685aec94c3c2812c0a7f676c8ecda3d0e84ad8d643b",
	kernels.TypeF16:  "43ae77a1fd493815921d65d32f56658cda0b5b38640c93357cc5c70625c7d479",
	kernels.TypeQ8_0: "66d6485a469aca93df30077f57d4ad48b53f42088f72a2564dc854d921970e69",
}

func tinyBytes(t *testing.T, typ kernels.Type) []byte {
	p, err := LookupPreset("tiny")
	require.NoError(t, err)
	var buf bytes.Buffer
	require.NoError(t, Generate(&buf, p, typ))
	return buf.Bytes()
}

func TestTinyDigest(t *testing.T) {
	for typ, want := range tinyDigests {
		a := tinyBytes(t, typ)
		b := tinyBytes(t, typ)
		require.Equal(t, a, b, "%v: two generations differ", typ)
		if runtime.GOARCH != "amd64" {
			continue // pinned on amd64; libm-level rounding may differ elsewhere
		}
		sum := sha256.Sum256(a)
		assert.Equal(t, want, hex.EncodeToString(sum[:]), "%v digest (bump GeneratorVersion when the output changes on purpose)", typ)
	}
}

func TestTinyFile(t *testing.T) {
	p, err := LookupPreset("tiny")
	require.NoError(t, err)
	for _, typ := range []kernels.Type{kernels.TypeF32, kernels.TypeF16, kernels.TypeQ8_0} {
		f, err := gguf.Parse("tiny.gguf", tinyBytes(t, typ))
		require.NoError(t, err)
		str := func(k string) string {
			v, err := f.String(k)
			require.NoError(t, err, k)
			return v
		}
		u := func(k string) uint64 {
			v, err := f.Uint(k)
			require.NoError(t, err, k)
			return v
		}
		fl := func(k string) float64 {
			v, err := f.Float(k)
			require.NoError(t, err, k)
			return v
		}
		assert.Equal(t, "llama", str("general.architecture"))
		assert.Equal(t, "fakbench synthetic tiny", str("general.name"))
		assert.Equal(t, map[kernels.Type]uint64{kernels.TypeF32: 0, kernels.TypeF16: 1, kernels.TypeQ8_0: 7}[typ], u("general.file_type"))
		assert.Equal(t, uint64(p.Ctx), u("llama.context_length"))
		assert.Equal(t, uint64(p.Embd), u("llama.embedding_length"))
		assert.Equal(t, uint64(p.Layers), u("llama.block_count"))
		assert.Equal(t, uint64(p.FFN), u("llama.feed_forward_length"))
		assert.Equal(t, uint64(p.Heads), u("llama.attention.head_count"))
		assert.Equal(t, uint64(p.KVHeads), u("llama.attention.head_count_kv"))
		assert.Equal(t, uint64(p.HeadDim()), u("llama.rope.dimension_count"))
		assert.Equal(t, uint64(p.Vocab), u("llama.vocab_size"))
		assert.InDelta(t, float64(p.RopeBase), fl("llama.rope.freq_base"), 0)
		assert.InDelta(t, float64(p.NormEps), fl("llama.attention.layer_norm_rms_epsilon"), 0)
		assert.Equal(t, "llama", str("tokenizer.ggml.model"))
		assert.Equal(t, uint64(TokenBOS), u("tokenizer.ggml.bos_token_id"))
		assert.Equal(t, uint64(TokenEOS), u("tokenizer.ggml.eos_token_id"))
		assert.Equal(t, uint64(TokenUnk), u("tokenizer.ggml.unknown_token_id"))

		toks, err := f.Strings("tokenizer.ggml.tokens")
		require.NoError(t, err)
		require.Len(t, toks, p.Vocab)
		assert.Equal(t, []string{"<unk>", "<s>", "</s>", "<0x00>"}, toks[:4])
		assert.Equal(t, "<0xFF>", toks[firstByte+255])
		assert.Equal(t, "<0x0A>", toks[firstByte+10])
		seen := map[string]bool{}
		for _, s := range toks {
			assert.False(t, seen[s], "duplicate token %q", s)
			seen[s] = true
		}
		kv, ok := f.Get("tokenizer.ggml.token_type")
		require.True(t, ok)
		types := kv.Value.([]int32)
		require.Len(t, types, p.Vocab)
		assert.Equal(t, []int32{2, 3, 3, 6}, types[:4])
		assert.Equal(t, int32(6), types[firstByte+255])
		assert.Equal(t, int32(1), types[firstFiller])
		kv, ok = f.Get("tokenizer.ggml.scores")
		require.True(t, ok)
		assert.Len(t, kv.Value.([]float32), p.Vocab)

		d, hd := uint64(p.Embd), uint64(p.HeadDim())
		want := map[string][]uint64{
			"token_embd.weight":  {d, uint64(p.Vocab)},
			"output_norm.weight": {d},
			"output.weight":      {d, uint64(p.Vocab)},
		}
		for l := 0; l < p.Layers; l++ {
			n := func(s string) string { return fmt.Sprintf("blk.%d.%s.weight", l, s) }
			want[n("attn_norm")] = []uint64{d}
			want[n("attn_q")] = []uint64{d, uint64(p.Heads) * hd}
			want[n("attn_k")] = []uint64{d, uint64(p.KVHeads) * hd}
			want[n("attn_v")] = []uint64{d, uint64(p.KVHeads) * hd}
			want[n("attn_output")] = []uint64{uint64(p.Heads) * hd, d}
			want[n("ffn_norm")] = []uint64{d}
			want[n("ffn_gate")] = []uint64{d, uint64(p.FFN)}
			want[n("ffn_up")] = []uint64{d, uint64(p.FFN)}
			want[n("ffn_down")] = []uint64{uint64(p.FFN), d}
		}
		require.Len(t, f.Tensors, len(want))
		for name, dims := range want {
			info, ok := f.Tensor(name)
			require.True(t, ok, name)
			assert.Equal(t, dims, info.Dims, name)
			if len(dims) == 1 {
				assert.Equal(t, gguf.TypeF32, info.Type, "%s: norms are always f32", name)
			} else {
				assert.Equal(t, gguf.TensorType(typ), info.Type, name)
			}
		}
		assert.Equal(t, "token_embd.weight", f.Tensors[0].Name)
		assert.Equal(t, "output.weight", f.Tensors[len(f.Tensors)-1].Name)
	}
}

func TestPresets(t *testing.T) {
	assert.Equal(t, []string{"llama1b-untied", "smol135m-untied", "tiny"}, PresetNames())
	seeds := map[string]string{}
	for _, n := range PresetNames() {
		p, err := LookupPreset(n)
		require.NoError(t, err)
		assert.Equal(t, n, p.Name)
		assert.NoError(t, p.Validate(), n)
		other, dup := seeds[p.seedName()]
		assert.False(t, dup, "%s and %s share the seed name %q: their cache files would collide", n, other, p.seedName())
		seeds[p.seedName()] = n
		if p.Namesake != "" && slices.Contains(p.Differs, untiedHead(p.Namesake)) {
			assert.Contains(t, n, "-untied", "%s: the name says that the head is untied, unlike %s's", n, p.Namesake)
		}
	}
	s, err := LookupPreset("smol135m-untied")
	require.NoError(t, err)
	assert.Equal(t, Preset{Name: "smol135m-untied", Seed: "smol135m", Namesake: "SmolLM2-135M",
		Differs: []string{"output head untied: a separate output.weight (SmolLM2-135M ties it to token_embd.weight)",
			"context length 2048 (SmolLM2-135M: 8192)"},
		Embd: 576, Layers: 30, Heads: 9, KVHeads: 3, FFN: 1536, Vocab: 49152,
		Ctx: 2048, RopeBase: 100000, NormEps: 1e-5}, s)
	l, err := LookupPreset("llama1b-untied")
	require.NoError(t, err)
	assert.Equal(t, []int{2048, 16, 32, 8, 8192, 128256}, []int{l.Embd, l.Layers, l.Heads, l.KVHeads, l.FFN, l.Vocab})
	_, err = LookupPreset("huge")
	assert.EqualError(t, err, `unknown synthetic preset "huge" (known: llama1b-untied, smol135m-untied, tiny; `+
		`old names: llama1b = llama1b-untied, smol135m = smol135m-untied)`)

	tiny, _ := LookupPreset("tiny")
	bad := []struct {
		mut func(*Preset)
		msg string
	}{
		{func(p *Preset) { p.Layers = 0 }, "must be positive"},
		{func(p *Preset) { p.Heads = 3 }, "not a multiple of heads"},
		{func(p *Preset) { p.KVHeads = 3 }, "not a multiple of kv heads"},
		{func(p *Preset) { p.FFN = 100 }, "multiples of 32"},
		{func(p *Preset) { p.Vocab = 100 }, "vocab 100 is too small"},
		{func(p *Preset) { p.RopeBase = 0 }, "rope base"},
		{func(p *Preset) { p.Heads, p.KVHeads = 32, 32 }, "head dim 2"},
	}
	for _, b := range bad {
		p := tiny
		b.mut(&p)
		assert.ErrorContains(t, p.Validate(), b.msg)
		assert.ErrorContains(t, Generate(&bytes.Buffer{}, p, kernels.TypeF32), b.msg)
	}
	assert.ErrorContains(t, Generate(&bytes.Buffer{}, tiny, kernels.Type(2)), "unsupported weight type")
}

func TestParseSpec(t *testing.T) {
	good := map[string]Spec{
		"synthetic:tiny":                 {"tiny", kernels.TypeF32},
		"synthetic:tiny:f32":             {"tiny", kernels.TypeF32},
		"synthetic:tiny:f16":             {"tiny", kernels.TypeF16},
		"synthetic:smol135m-untied:q8_0": {"smol135m-untied", kernels.TypeQ8_0},
		"synthetic:llama1b-untied:q8_0":  {"llama1b-untied", kernels.TypeQ8_0},
		"synthetic:llama1b-untied":       {"llama1b-untied", kernels.TypeF32},
		// Old names (aliases) give the current one.
		"synthetic:smol135m:q8_0": {"smol135m-untied", kernels.TypeQ8_0},
		"synthetic:llama1b":       {"llama1b-untied", kernels.TypeF32},
	}
	for in, want := range good {
		s, err := ParseSpec(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, s, in)
		again, err := ParseSpec(s.String())
		require.NoError(t, err)
		assert.Equal(t, s, again)
	}
	assert.Equal(t, "synthetic:tiny:f32", Spec{"tiny", kernels.TypeF32}.String())
	bad := map[string]string{
		"tiny":                    "want synthetic:PRESET[:TYPE]",
		"synthetic:":              "want synthetic:PRESET[:TYPE]",
		"synthetic:huge":          `unknown synthetic preset "huge"`,
		"synthetic:tiny:q4_0":     `unknown weight type "q4_0" (want f32, f16 or q8_0)`,
		"synthetic:tiny:":         `unknown weight type ""`,
		"synthetic:tiny:f32:x":    "want synthetic:PRESET[:TYPE]",
		"Synthetic:tiny":          "want synthetic:PRESET[:TYPE]",
		"synthetic:smol135m:F32":  `unknown weight type "F32"`,
		"synthetic:smol135m-tied": `unknown synthetic preset "smol135m-tied" (known: llama1b-untied, smol135m-untied, tiny; old names:`,
	}
	for in, msg := range bad {
		_, err := ParseSpec(in)
		assert.ErrorContains(t, err, msg, in)
		if err != nil {
			assert.Contains(t, err.Error(), fmt.Sprintf("%q", in))
		}
	}
}

func TestCacheDir(t *testing.T) {
	t.Setenv("FAK_CACHE_DIR", "/x/fak")
	t.Setenv("XDG_CACHE_HOME", "/x/xdg")
	assert.Equal(t, "/x/fak", CacheDir())
	t.Setenv("FAK_CACHE_DIR", "")
	assert.Equal(t, "/x/xdg/fakbench", CacheDir())
	t.Setenv("XDG_CACHE_HOME", "")
	t.Setenv("HOME", "/x/home")
	assert.Equal(t, "/x/home/.cache/fakbench", CacheDir())
}

func TestEnsure(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("FAK_CACHE_DIR", filepath.Join(dir, "cache"))
	spec := Spec{"tiny", kernels.TypeQ8_0}
	path, err := Ensure(spec)
	require.NoError(t, err)
	assert.Equal(t, filepath.Join(dir, "cache", fmt.Sprintf("synthetic-tiny-q8_0-g%d.gguf", GeneratorVersion)), path)
	digest, err := FileDigest(path)
	require.NoError(t, err)
	sum := sha256.Sum256(tinyBytes(t, kernels.TypeQ8_0))
	assert.Equal(t, "sha256:"+hex.EncodeToString(sum[:]), digest, "the cached file is the generator's output")
	side, err := os.ReadFile(path + ".sum")
	require.NoError(t, err)
	st, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, fmt.Sprintf("%s %d\n", digest, st.Size()), string(side))

	// A second call reuses the file: mark it with an old mtime and check
	// the mtime survives.
	old := time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC)
	require.NoError(t, os.Chtimes(path, old, old))
	again, err := Ensure(spec)
	require.NoError(t, err)
	assert.Equal(t, path, again)
	st, err = os.Stat(path)
	require.NoError(t, err)
	assert.True(t, st.ModTime().Equal(old), "cached file was regenerated")

	// A corrupted file (same size) is detected by its digest and regenerated.
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	data[len(data)/2] ^= 0xff
	require.NoError(t, os.WriteFile(path, data, 0o644))
	require.NoError(t, os.Chtimes(path, old, old))
	_, err = Ensure(spec)
	require.NoError(t, err)
	d2, err := FileDigest(path)
	require.NoError(t, err)
	assert.Equal(t, digest, d2)

	// A truncated file and a missing sidecar are regenerated too.
	require.NoError(t, os.Truncate(path, 100))
	_, err = Ensure(spec)
	require.NoError(t, err)
	d3, err := FileDigest(path)
	require.NoError(t, err)
	assert.Equal(t, digest, d3)
	require.NoError(t, os.Remove(path+".sum"))
	require.NoError(t, os.Chtimes(path, old, old))
	_, err = Ensure(spec)
	require.NoError(t, err)
	st, err = os.Stat(path)
	require.NoError(t, err)
	assert.False(t, st.ModTime().Equal(old), "file without a sidecar must be regenerated")
	_, err = os.Stat(path + ".sum")
	assert.NoError(t, err)

	// A malformed sidecar also triggers regeneration.
	require.NoError(t, os.WriteFile(path+".sum", []byte("garbage"), 0o644))
	_, err = Ensure(spec)
	require.NoError(t, err)
	side, err = os.ReadFile(path + ".sum")
	require.NoError(t, err)
	assert.Contains(t, string(side), digest)

	_, err = Ensure(Spec{"huge", kernels.TypeF32})
	assert.ErrorContains(t, err, "unknown synthetic preset")

	// An unwritable cache location is reported.
	blocker := filepath.Join(dir, "file")
	require.NoError(t, os.WriteFile(blocker, nil, 0o644))
	t.Setenv("FAK_CACHE_DIR", filepath.Join(blocker, "sub"))
	_, err = Ensure(spec)
	assert.ErrorContains(t, err, "synthetic model cache")
}

func TestFileDigest(t *testing.T) {
	p := filepath.Join(t.TempDir(), "x")
	require.NoError(t, os.WriteFile(p, []byte("abc"), 0o644))
	d, err := FileDigest(p)
	require.NoError(t, err)
	assert.Equal(t, "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", d)
	_, err = FileDigest(p + "-missing")
	assert.Error(t, err)
}

func TestVocabulary(t *testing.T) {
	assert.Equal(t, "a", letters(0))
	assert.Equal(t, "z", letters(25))
	assert.Equal(t, "aa", letters(26))
	assert.Equal(t, "az", letters(51))
	assert.Equal(t, "ba", letters(52))
	toks, scores, types := vocabulary(300)
	assert.Equal(t, "\u2581a", toks[firstFiller])
	assert.Equal(t, "a", toks[firstFiller+1])
	assert.Equal(t, "\u2581b", toks[firstFiller+2])
	assert.Equal(t, float32(-1), scores[firstFiller])
	assert.Equal(t, int32(1), types[299])
}

// TestTokenMap checks the construction invariants the margins rely on:
// every token has exactly one +1 and one -1 output sharing its group, and
// control tokens are never outputs.
func TestTokenMap(t *testing.T) {
	for _, name := range []string{"tiny", "smol135m-untied"} {
		p, err := LookupPreset(name)
		require.NoError(t, err)
		m, err := newModel(p)
		require.NoError(t, err)
		plus := make([]int, p.Vocab)
		minus := make([]int, p.Vocab)
		for v := 0; v < p.Vocab; v++ {
			if v < firstByte {
				assert.Zero(t, m.sign[v])
				assert.Empty(t, m.pre[v])
			}
			for _, tok := range m.pre[v] {
				switch m.sign[v] {
				case 1:
					plus[tok]++
				case -1:
					minus[tok]++
				default:
					t.Fatalf("output %d has preimages but no sign", v)
				}
			}
			if len(m.pre[v]) > 0 {
				assert.LessOrEqual(t, len(m.pre[v]), 3)
			}
		}
		for tok := 0; tok < p.Vocab; tok++ {
			require.Equal(t, 1, plus[tok], "token %d", tok)
			require.Equal(t, 1, minus[tok], "token %d", tok)
		}
		assert.Greater(t, m.minGap, 0.05, name)
	}
}

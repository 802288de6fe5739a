package models

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"runtime"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fakbench/fakbench/gguf"
	"github.com/fakbench/fakbench/gokernel/kernels"
)

// Digests of the renamed presets' files, pinned when they were still
// called smol135m and llama1b: the rename keeps the bytes (Seed), so the
// digests recorded in reports, sidecars and llamacpp's quantized-spec pins
// still hold. llama1b's is over the first 8 MiB (the metadata and the
// first rows of token_embd, which come from the seed name): the whole file
// takes 10 s to generate.
const (
	smolQ8Digest       = "sha256:7abc21bafd7476b3e4b49426fc8944a594b28690fdd74f86b62a57afeaa98f85"
	smolF16Digest      = "8555272d660af8e92002c72af7e10d00947acd80cfe290d29a63660435955201"
	llama1bQ8Head8MiB  = "22e60b53ee4e49115bc14bae3eb42df1a56756a257a3b6bc1235bdcd2a07bacb"
	pinnedPrefixLength = 8 << 20
)

// errEnough stops a generation once prefixWriter has what it needs.
var errEnough = errors.New("prefix complete")

// prefixWriter hashes the first n bytes written to it, then refuses more.
type prefixWriter struct {
	h io.Writer
	n int
}

func (w *prefixWriter) Write(p []byte) (int, error) {
	if len(p) >= w.n {
		w.h.Write(p[:w.n])
		w.n = 0
		return 0, errEnough
	}
	w.n -= len(p)
	return w.h.Write(p)
}

// The renamed presets write the bytes they wrote under their old names.
func TestRenamedPresetsKeepTheirBytes(t *testing.T) {
	if runtime.GOARCH != "amd64" {
		t.Skip("digests are pinned on amd64 (TestTinyDigest says why)")
	}
	smol, err := LookupPreset("smol135m-untied")
	require.NoError(t, err)
	h := sha256.New()
	require.NoError(t, Generate(h, smol, kernels.TypeF16))
	assert.Equal(t, smolF16Digest, hex.EncodeToString(h.Sum(nil)), "smol135m-untied f16 (the source of its quantized specs)")

	llama, err := LookupPreset("llama1b-untied")
	require.NoError(t, err)
	h = sha256.New()
	err = Generate(&prefixWriter{h: h, n: pinnedPrefixLength}, llama, kernels.TypeQ8_0)
	require.ErrorIs(t, err, errEnough, "the file is longer than the pinned prefix")
	assert.Equal(t, llama1bQ8Head8MiB, hex.EncodeToString(h.Sum(nil)), "llama1b-untied q8_0, first 8 MiB")

	// The pin can fail: the same shape under another seed name is other bytes.
	other := llama
	other.Seed = ""
	h = sha256.New()
	_ = Generate(&prefixWriter{h: h, n: pinnedPrefixLength}, other, kernels.TypeQ8_0)
	assert.NotEqual(t, llama1bQ8Head8MiB, hex.EncodeToString(h.Sum(nil)), "the seed name decides the bytes")
}

// synthetic:smol135m:q8_0 (the old name) and synthetic:smol135m-untied:q8_0
// are one cached file with the digest it always had; its shape is
// SmolLM2-135M's but for the documented differences, checked against the
// real file's metadata when `make setup` has fetched it.
func TestSmol135mUntied(t *testing.T) {
	dir := tempCache(t)
	ctx := context.Background()

	var progress bytes.Buffer
	old, err := Resolve(ctx, "synthetic:smol135m:q8_0", &progress)
	require.NoError(t, err)
	assert.Contains(t, progress.String(), "generating synthetic:smol135m-untied:q8_0 into the cache")
	assert.Equal(t, filepath.Join(dir, "synthetic-smol135m-q8_0-g1.gguf"), old.Path, "the cache file keeps its name")
	assert.Equal(t, "fakbench synthetic smol135m", old.Name, "general.name keeps the old name")
	if runtime.GOARCH == "amd64" {
		assert.Equal(t, smolQ8Digest, old.Digest)
	}
	progress.Reset()
	cur, err := Resolve(ctx, "synthetic:smol135m-untied:q8_0", &progress)
	require.NoError(t, err)
	assert.Empty(t, progress.String(), "the new name finds the file the old one made")
	assert.Equal(t, "synthetic:smol135m-untied:q8_0", cur.Spec)
	cur.Spec = old.Spec
	assert.Equal(t, old, cur, "same path, digest, size and name")

	// model info says what the old name is.
	var info bytes.Buffer
	require.NoError(t, DescribeSpec(ctx, &info, "synthetic:smol135m:q8_0", nil))
	assert.Contains(t, info.String(), "preset:        smol135m-untied: the shape of SmolLM2-135M except output head untied: "+
		"a separate output.weight (SmolLM2-135M ties it to token_embd.weight); context length 2048 (SmolLM2-135M: 8192)\n")
	assert.Contains(t, info.String(), "alias:         preset smol135m is an alias of smol135m-untied")
	info.Reset()
	require.NoError(t, DescribeSpec(ctx, &info, "synthetic:smol135m-untied:q8_0", nil))
	assert.Contains(t, info.String(), "preset:        smol135m-untied: the shape of SmolLM2-135M except")
	assert.NotContains(t, info.String(), "alias:")

	f, err := gguf.Open(cur.Path)
	require.NoError(t, err)
	defer f.Close()
	seed, err := f.String("fakbench.synthetic.preset")
	require.NoError(t, err)
	assert.Equal(t, "smol135m", seed)
	ours, err := gguf.ReadLlamaParams(f)
	require.NoError(t, err)
	preset, err := LookupPreset("smol135m-untied")
	require.NoError(t, err)
	assert.False(t, ours.TiedOutput, "the generator writes its own output.weight")
	assert.Equal(t, []int{preset.Embd, preset.Layers, preset.Heads, preset.KVHeads, preset.FFN, preset.Vocab, preset.Ctx},
		[]int{ours.Embd, ours.Layers, ours.Heads, ours.KVHeads, ours.FFN, ours.Vocab, ours.CtxTrain})

	realPath, err := RealPath("smollm2")
	if err != nil {
		t.Skipf("SmolLM2-135M's file is absent, so the shape is not compared with it (%v)", err)
	}
	rf, err := gguf.Open(realPath)
	require.NoError(t, err)
	defer rf.Close()
	theirs, err := gguf.ReadLlamaParams(rf)
	require.NoError(t, err)
	// The documented differences, with SmolLM2-135M's values as stated.
	assert.True(t, theirs.TiedOutput, "SmolLM2-135M ties its head")
	assert.Equal(t, 8192, theirs.CtxTrain)
	assert.Contains(t, preset.Differs, untiedHead("SmolLM2-135M"))
	assert.Contains(t, preset.Differs, fmt.Sprintf("context length %d (SmolLM2-135M: %d)", ours.CtxTrain, theirs.CtxTrain))
	assert.Len(t, preset.Differs, 2)
	// Everything else is equal: width, depth, heads, KV heads, FFN,
	// vocabulary, RoPE base and dimensions, epsilon, (no) RoPE scaling.
	same := theirs
	same.TiedOutput, same.CtxTrain = ours.TiedOutput, ours.CtxTrain
	assert.Equal(t, same, ours)
}

// llama1b-untied against Llama-3.2-1B's published configuration (Meta's
// config.json: hidden_size 2048, num_hidden_layers 16, num_attention_heads
// 32, num_key_value_heads 8, intermediate_size 8192, vocab_size 128256,
// rope_theta 500000, rms_norm_eps 1e-5, head_dim 64, max_position_embeddings
// 131072, rope_scaling llama3 with factor 32, tie_word_embeddings true).
// No file of it is fetched, so the figures are written here.
func TestLlama1bUntiedShape(t *testing.T) {
	p, err := LookupPreset("llama1b-untied")
	require.NoError(t, err)
	assert.Equal(t, "Llama-3.2-1B", p.Namesake)
	assert.Equal(t, []int{2048, 16, 32, 8, 8192, 128256, 64}, []int{p.Embd, p.Layers, p.Heads, p.KVHeads, p.FFN, p.Vocab, p.HeadDim()})
	assert.Equal(t, float32(500000), p.RopeBase)
	assert.Equal(t, float32(1e-5), p.NormEps)
	assert.Equal(t, []string{
		untiedHead("Llama-3.2-1B"),
		"no long-context RoPE scaling (Llama-3.2-1B: llama3 scaling, factor 32, rope_freqs)",
		fmt.Sprintf("context length %d (Llama-3.2-1B: 131072)", p.Ctx),
	}, p.Differs)
}

func TestAliases(t *testing.T) {
	assert.Equal(t, map[string]string{"smol135m": "smol135m-untied", "llama1b": "llama1b-untied"}, PresetAliases())
	for old, cur := range PresetAliases() {
		assert.NotContains(t, PresetNames(), old, "an alias is no preset name")
		require.Contains(t, PresetNames(), cur)
		a, err := LookupPreset(old)
		require.NoError(t, err)
		b, err := LookupPreset(cur)
		require.NoError(t, err)
		assert.Equal(t, b, a)
		assert.Equal(t, old, a.Seed, "%s keeps the bytes it had as %s", cur, old)

		for _, typ := range []string{"f32", "f16", "q8_0"} {
			s, err := ParseSpec(SpecPrefix + old + ":" + typ)
			require.NoError(t, err)
			assert.Equal(t, cur, s.Preset)
			assert.Equal(t, SpecPrefix+cur+":"+typ, s.String())
			assert.Equal(t, CachePath(s), CachePath(Spec{Preset: old, Type: s.Type}))
			assert.Equal(t, fmt.Sprintf("synthetic-%s-%s-g%d.gguf", old, typ, GeneratorVersion), filepath.Base(CachePath(s)),
				"cache files keep their names")
		}
		for _, ft := range QuantSpecTypes() {
			q, ok, err := ParseQuantSpec(SpecPrefix + old + ":" + ft)
			require.NoError(t, err)
			require.True(t, ok)
			assert.Equal(t, QuantSpec{Preset: cur, FType: ft}, q)
			assert.Equal(t, fmt.Sprintf("synthetic-%s-%s-g%d.gguf", old, ft, GeneratorVersion), filepath.Base(QuantCachePath(q)))
		}

		note := AliasNote(old)
		assert.Contains(t, note, "preset "+old+" is an alias of "+cur+", renamed to say that it is not "+b.Namesake+"'s exact shape: ")
		for _, d := range b.Differs {
			assert.Contains(t, note, d)
		}
		assert.Contains(t, note, "Both names give the same file.")
		assert.Regexp(t, `\.\n$`, note)
	}
	for _, n := range append(PresetNames(), "huge", "") {
		assert.Empty(t, AliasNote(n), n)
	}

	// model gen's spec: the note for an old name only.
	var notes bytes.Buffer
	s, err := GenSpec("smol135m", "q8_0", &notes)
	require.NoError(t, err)
	assert.Equal(t, Spec{Preset: "smol135m-untied", Type: kernels.TypeQ8_0}, s)
	assert.Equal(t, AliasNote("smol135m"), notes.String())
	notes.Reset()
	s, err = GenSpec("smol135m-untied", "f16", &notes)
	require.NoError(t, err)
	assert.Equal(t, Spec{Preset: "smol135m-untied", Type: kernels.TypeF16}, s)
	assert.Empty(t, notes.String())
	_, err = GenSpec("smol135m", "q4_0", &notes)
	assert.ErrorContains(t, err, `model spec "synthetic:smol135m:q4_0": unknown weight type "q4_0"`)
	_, err = GenSpec("smol", "q8_0", &notes)
	assert.ErrorContains(t, err, `unknown synthetic preset "smol" (known: llama1b-untied, smol135m-untied, tiny; old names: llama1b = llama1b-untied, smol135m = smol135m-untied)`)
	assert.Empty(t, notes.String(), "no note for a spec that is refused")

	tiny, err := LookupPreset("tiny")
	require.NoError(t, err)
	assert.Equal(t, "tiny: a shape of its own", tiny.About())
	tiny.Namesake = "X"
	assert.Equal(t, "tiny: the shape of X", tiny.About())
}

// An alias resolves, generates and quantizes to the file of the preset it
// names: one file, made once, whichever name comes first. A test alias of
// tiny keeps this fast.
func TestAliasResolvesToOneFile(t *testing.T) {
	aliases["tiny-old"] = "tiny"
	t.Cleanup(func() { delete(aliases, "tiny-old") })
	q := &copyQuantizer{}
	withQuantizer(t, q.quantize)
	dir := tempCache(t)
	ctx := context.Background()

	for _, typ := range []string{"q8_0", "q4_k_m"} {
		var progress bytes.Buffer
		viaOld, err := Resolve(ctx, "synthetic:tiny-old:"+typ, &progress)
		require.NoError(t, err, typ)
		assert.NotEmpty(t, progress.String(), "%s: made on first use", typ)
		progress.Reset()
		viaCur, err := Resolve(ctx, "synthetic:tiny:"+typ, &progress)
		require.NoError(t, err, typ)
		assert.Empty(t, progress.String(), "%s: the old name's file is the current name's", typ)
		assert.Equal(t, viaOld.Path, viaCur.Path, typ)
		assert.Equal(t, viaOld.Digest, viaCur.Digest, typ)
		assert.Equal(t, "synthetic-tiny-"+typ+"-g1.gguf", filepath.Base(viaCur.Path))
	}
	if runtime.GOARCH == "amd64" {
		d, err := FileDigest(filepath.Join(dir, "synthetic-tiny-q8_0-g1.gguf"))
		require.NoError(t, err)
		assert.Equal(t, "sha256:"+tinyDigests[kernels.TypeQ8_0], d)
	}
	assert.Equal(t, []string{"synthetic-tiny-f16-g1.gguf -> synthetic-tiny-q4_k_m-g1.gguf q4_k_m"}, q.calls, "quantized once")
	assert.True(t, slices.Contains(PresetNames(), "tiny"))
	assert.NotContains(t, PresetNames(), "tiny-old")
}

package openvino

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fakbench/fakbench/adapters"
	"github.com/fakbench/fakbench/adapters/conformance"
	"github.com/fakbench/fakbench/gguf"
	"github.com/fakbench/fakbench/models/modeltest"
	"github.com/fakbench/fakbench/transport"
)

var bg = context.Background()

func newSess(t *testing.T, b *Backend) *Session {
	t.Helper()
	s, err := b.NewSession(bg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	return s.(*Session)
}

// Logit threshold, with the precisions pinned (exact()): f32 weights and f32
// inference differ from the float64 reference only in rounding and
// summation order; with |logit| of order 1-10 and dot products of 64-192
// terms that stays near 1e-6 relative (measured on the AMX Xeon, worst over
// the steps: f32 4.8e-7, f16 4.4e-7, q8_0 3.6e-7, q4_0 2.9e-7, q4_1 3.5e-7),
// so 1e-4 of the largest logit is loose enough for any summation order and
// tight enough to catch a wrong rope pair, head mapping, mask or norm (each
// of those moves logits by whole percent). It holds only pinned: the
// plugin's defaults there (bf16, int8 activations) give 7.1e-3 to 1.27e-2.
const logitTol = 1e-4

// tunedTol bounds the same comparison under the plugin's tuned defaults,
// which differ per CPU: bf16 inference on AVX512-BF16/AMX CPUs, int8
// activations (dynamic quantization, group 32) for compressed weights. On
// the AMX Xeon (bf16, group 32) the worst was 9.1e-3 (f32), 8.7e-3 (f16),
// 8.8e-3 (q8_0), 7.8e-3 (q4_0), 7.1e-3 (q4_1); with f32 precision and
// group-32 quantization (what an AVX2-only CPU gets) q8_0 measured 1.27e-2.
// bf16 keeps 8 mantissa bits (2^-9 relative per rounding), so a few
// rounded operations per layer land near 1e-2. 5e-2 leaves about 4x
// headroom over the worst measured and still fails a broken graph, whose
// logits are off by the order of the logits themselves.
const tunedTol = 5e-2

// TestLogitsMatchReference checks the logits after a prefix, after a suffix
// and after each of several decode steps (so the KV cache, positions and
// mask are exercised), for f32, f16, q8_0, q4_0 and q4_1 weights, on the
// stateful IR (the default) and on the explicit one (kv_cache=explicit);
// TestFrontendMatchesReference does the same for the GGUF frontend. For the
// encoded types the reference runs on an f32 twin holding exactly the
// decoded weights, so the decompression subgraphs are checked at f32
// precision too. The backend is opened with exact(): f32 inference
// precision, dynamic quantization off, f32 KV cache, ACCURACY mode; the
// test checks that the compiled model reports them.
func TestLogitsMatchReference(t *testing.T) {
	for _, kv := range []string{kvStateful, kvExplicit} {
		for _, wt := range []gguf.TensorType{gguf.TypeF32, gguf.TypeF16, gguf.TypeQ8_0, gguf.TypeQ4_0, gguf.TypeQ4_1} {
			t.Run(kv+"/"+wt.String(), func(t *testing.T) {
				extra := exact()
				extra[ExtraKVCache] = kv
				checkReference(t, wt, logitTol, func(path string) (*Backend, error) {
					return Open(bg, adapters.Options{ModelPath: path, Threads: 2, Extra: extra})
				})
			})
		}
	}
}

// frontendQ41Tol bounds the GGUF frontend on q4_1: it decodes q4_1 with
// an integer (u8) zero point, round(-m/d), instead of the block minimum m,
// so every weight may move by up to half a quantization step (its own
// conversion notice says as much for Q4_K). Measured worst 1.9e-3 of the
// largest logit on the tiny model (f32, f16, q8_0, q4_0: 3.0e-7 to
// 4.0e-7, within logitTol); 5e-3 leaves 2.6x headroom and stays below the
// whole percent a wrong graph gives.
const frontendQ41Tol = 5e-3

// TestFrontendMatchesReference is TestLogitsMatchReference for the GGUF
// frontend's row, which decodes the same weight types itself.
func TestFrontendMatchesReference(t *testing.T) {
	for _, wt := range []gguf.TensorType{gguf.TypeF32, gguf.TypeF16, gguf.TypeQ8_0, gguf.TypeQ4_0, gguf.TypeQ4_1} {
		t.Run(wt.String(), func(t *testing.T) {
			tol := logitTol
			if wt == gguf.TypeQ4_1 {
				tol = frontendQ41Tol
			}
			checkReference(t, wt, tol, func(path string) (*Backend, error) {
				return OpenGGUF(bg, adapters.Options{ModelPath: path, Threads: 2, Extra: exact()})
			})
		})
	}
}

// checkReference opens a tiny model of type wt with open (precisions
// pinned) and compares its logits with the float64 reference within tol
// of the largest logit, and its greedy tokens with the reference's.
func checkReference(t *testing.T, wt gguf.TensorType, tol float64, open func(path string) (*Backend, error)) {
	requireStateful(t)
	b, ref := openReference(t, wt, open)
	requireExact(t, b)
	worst := 0.0
	for _, st := range referenceSteps(t, b, ref) {
		worst = max(worst, st.diff)
		assert.Less(t, st.diff, tol, st.what)
		assert.Equal(t, st.want, st.token, st.what)
	}
	t.Logf("worst logit difference relative to the largest logit: %.3g", worst)
}

// openReference writes a tiny model of type wt and its f32 twin, opens the
// model with open (closed at the end of the test) and loads the twin as
// the float64 reference.
func openReference(t *testing.T, wt gguf.TensorType, open func(path string) (*Backend, error)) (*Backend, *modeltest.Model) {
	t.Helper()
	dir := t.TempDir()
	path := writeTinyGGUF(t, dir, tiny, wt, 11, false)
	twin := writeTinyGGUF(t, dir, tiny, wt, 11, true)
	b, err := open(path)
	require.NoError(t, err)
	t.Cleanup(func() { _ = b.Close() })
	return b, loadRef(t, twin)
}

// refStep is one step of referenceSteps: what it computed, the largest
// difference of its logits from the reference's relative to the largest
// logit, and the greedy token the backend chose and the reference's (both
// -1 after the prefix, which chooses none).
type refStep struct {
	what        string
	diff        float64
	token, want transport.Token
}

// referenceSteps drives a session of b over a 5-token prefix, a 3-token
// suffix and 4 greedy decode steps, comparing each with ref.
func referenceSteps(t *testing.T, b *Backend, ref *modeltest.Model) []refStep {
	t.Helper()
	toks := []transport.Token{3, 17, 200, 511, 0, 42, 42, 9}
	want := ref.Logits(toks)
	s := newSess(t, b)
	_, err := s.EnsurePrefix(bg, transport.PrefixInput{Tokens: toks[:5]})
	require.NoError(t, err)
	got, err := s.LastLogits()
	require.NoError(t, err)
	steps := []refStep{{what: "after the prefix", diff: maxRelDiff(got, want[4]), token: -1, want: -1}}
	r, err := s.PrefillSuffix(bg, transport.SuffixInput{Tokens: toks[5:]})
	require.NoError(t, err)
	got, err = s.LastLogits()
	require.NoError(t, err)
	steps = append(steps, refStep{"after the suffix", maxRelDiff(got, want[7]), r.FirstToken, transport.Token(modeltest.Argmax(want[7]))})

	seq := append(append([]transport.Token{}, toks...), r.FirstToken)
	for i := 0; i < 4; i++ {
		d, err := s.Decode(bg, 1)
		require.NoError(t, err)
		require.Len(t, d.Tokens, 1)
		got, err = s.LastLogits()
		require.NoError(t, err)
		all := ref.Logits(seq)
		last := all[len(all)-1]
		steps = append(steps, refStep{fmt.Sprintf("decode step %d", i), maxRelDiff(got, last), d.Tokens[0], transport.Token(modeltest.Argmax(last))})
		seq = append(seq, d.Tokens[0])
	}
	return steps
}

// requireExact checks that the compiled model computes with the pinned
// precisions, so an exactness test never passes or fails on a setting the
// plugin chose for this CPU.
func requireExact(t *testing.T, b *Backend) {
	t.Helper()
	st := b.Settings()
	require.Equal(t, "f32", st["effective.INFERENCE_PRECISION_HINT"], "inference precision")
	require.Equal(t, "0", st["effective.DYNAMIC_QUANTIZATION_GROUP_SIZE"], "dynamic quantization off")
	require.Equal(t, "f32", st["effective.KV_CACHE_PRECISION"], "KV cache precision")
	require.Equal(t, "ACCURACY", st["effective.EXECUTION_MODE_HINT"], "execution mode")
}

// TestTunedDefaultsNearReference runs TestLogitsMatchReference's
// comparison on the plugin's tuned defaults (what the benchmark rows run),
// within tunedTol: whatever precisions the plugin picks for this CPU, the
// graph it runs is the model's. The greedy tokens are not compared: a near
// tie may flip under bf16.
func TestTunedDefaultsNearReference(t *testing.T) {
	for _, wt := range []gguf.TensorType{gguf.TypeF32, gguf.TypeF16, gguf.TypeQ8_0, gguf.TypeQ4_0, gguf.TypeQ4_1} {
		t.Run(wt.String(), func(t *testing.T) {
			requireRuntime(t)
			b, ref := openReference(t, wt, func(path string) (*Backend, error) {
				return Open(bg, adapters.Options{ModelPath: path, Threads: 2,
					Extra: map[string]string{ExtraPrecisionPolicy: policyPlugin}})
			})
			st := b.Settings()
			t.Logf("effective: INFERENCE_PRECISION_HINT=%s DYNAMIC_QUANTIZATION_GROUP_SIZE=%s KV_CACHE_PRECISION=%s",
				st["effective.INFERENCE_PRECISION_HINT"], st["effective.DYNAMIC_QUANTIZATION_GROUP_SIZE"], st["effective.KV_CACHE_PRECISION"])
			worst := 0.0
			for _, step := range referenceSteps(t, b, ref) {
				worst = max(worst, step.diff)
			}
			t.Logf("worst logit difference relative to the largest logit: %.3g", worst)
			assert.Less(t, worst, tunedTol)
		})
	}
}

// TestGreedy32 checks 32 greedy steps against the float64 reference, with
// the precisions pinned (exact()): under the AMX Xeon's defaults (bf16) the
// tokens left the reference's after 9 steps.
func TestGreedy32(t *testing.T) {
	b, path := openTiny(t, gguf.TypeF32, exact())
	ref := loadRef(t, path)
	prompt := []transport.Token{5, 6, 7, 8, 100, 300}
	want := ref.Greedy(prompt, 33)
	s := newSess(t, b)
	_, err := s.EnsurePrefix(bg, transport.PrefixInput{Tokens: prompt[:4]})
	require.NoError(t, err)
	r, err := s.PrefillSuffix(bg, transport.SuffixInput{Tokens: prompt[4:]})
	require.NoError(t, err)
	d, err := s.Decode(bg, 32)
	require.NoError(t, err)
	assert.Equal(t, want, append([]transport.Token{r.FirstToken}, d.Tokens...))
	assert.Equal(t, len(prompt)+32, s.Resident())
}

// TestPrefixReuse checks hit, partial hit (edit) and the equality of warm
// and cold results. It compares the backend with itself, so it runs on the
// plugin's tuned defaults, as the benchmark's warm-equals-cold check does.
func TestPrefixReuse(t *testing.T) {
	b, _ := openTiny(t, gguf.TypeF32, nil)
	prefix := make([]transport.Token, 40)
	for i := range prefix {
		prefix[i] = transport.Token((i*37 + 5) % 512)
	}
	suffix := []transport.Token{9, 8, 7}
	run := func(s *Session, p []transport.Token) (transport.PrefixResult, []transport.Token) {
		pr, err := s.EnsurePrefix(bg, transport.PrefixInput{Key: "k", Tokens: p})
		require.NoError(t, err)
		r, err := s.PrefillSuffix(bg, transport.SuffixInput{Tokens: suffix})
		require.NoError(t, err)
		d, err := s.Decode(bg, 6)
		require.NoError(t, err)
		return pr, append([]transport.Token{r.FirstToken}, d.Tokens...)
	}
	warm := newSess(t, b)
	pr, first := run(warm, prefix)
	assert.Equal(t, 0, pr.ReusedTokens)
	assert.Equal(t, 40, pr.ComputedTokens)

	pr, again := run(warm, prefix)
	assert.Equal(t, 40, pr.ReusedTokens, "same prefix is a full hit")
	assert.Equal(t, 0, pr.ComputedTokens)
	assert.Equal(t, first, again, "warm equals the first run")

	edited := append([]transport.Token{}, prefix...)
	edited[25] = 1
	pr, warmEdited := run(warm, edited)
	assert.Equal(t, 25, pr.ReusedTokens, "reuse stops at the edit")
	assert.Equal(t, 15, pr.ComputedTokens)

	cold := newSess(t, b)
	_, coldEdited := run(cold, edited)
	assert.Equal(t, coldEdited, warmEdited, "warm after an edit equals cold")

	// A shorter prefix that is a prefix of the resident tokens is all reuse.
	pr, err := warm.EnsurePrefix(bg, transport.PrefixInput{Tokens: edited[:10]})
	require.NoError(t, err)
	assert.Equal(t, 10, pr.ReusedTokens)
	assert.Equal(t, 0, pr.ComputedTokens)
	assert.Equal(t, 10, warm.Resident())
}

// countdownCtx reports cancellation after its Err has been asked n times.
type countdownCtx struct {
	context.Context
	left atomic.Int32
}

func (c *countdownCtx) Err() error {
	if c.left.Add(-1) < 0 {
		return context.Canceled
	}
	return nil
}

// TestDecodeCancel checks that a cancelled Decode returns what it made and
// leaves the session usable (the plugin's defaults: it compares the
// backend with itself).
func TestDecodeCancel(t *testing.T) {
	b, _ := openTiny(t, gguf.TypeF32, nil)
	s := newSess(t, b)
	_, err := s.EnsurePrefix(bg, transport.PrefixInput{Tokens: []transport.Token{1, 2, 3}})
	require.NoError(t, err)
	_, err = s.PrefillSuffix(bg, transport.SuffixInput{Tokens: []transport.Token{4}})
	require.NoError(t, err)
	ctx := &countdownCtx{Context: bg}
	ctx.left.Store(3)
	d, err := s.Decode(ctx, 10)
	require.Error(t, err)
	assert.True(t, errors.Is(err, context.Canceled))
	assert.Len(t, d.Tokens, 3, "tokens made before the cancel are returned")
	assert.Equal(t, 4+3, s.Resident(), "the cache holds exactly the tokens fed")

	// Still usable, and continuing equals an uninterrupted run.
	more, err := s.Decode(bg, 2)
	require.NoError(t, err)
	ref := newSess(t, b)
	_, err = ref.EnsurePrefix(bg, transport.PrefixInput{Tokens: []transport.Token{1, 2, 3}})
	require.NoError(t, err)
	_, err = ref.PrefillSuffix(bg, transport.SuffixInput{Tokens: []transport.Token{4}})
	require.NoError(t, err)
	full, err := ref.Decode(bg, 5)
	require.NoError(t, err)
	assert.Equal(t, full.Tokens, append(d.Tokens, more.Tokens...))

	// A context cancelled before the call stops prefill too, with the count.
	cctx, cancel := context.WithCancel(bg)
	cancel()
	pr, err := s.EnsurePrefix(cctx, transport.PrefixInput{Tokens: []transport.Token{9, 9, 9}})
	assert.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, 0, pr.ComputedTokens)
}

func TestOverContext(t *testing.T) {
	requireRuntime(t)
	path := writeTinyGGUF(t, t.TempDir(), tiny, gguf.TypeF32, 3, false)
	b, err := Open(bg, adapters.Options{ModelPath: path, Threads: 1, ContextLength: 16})
	require.NoError(t, err)
	defer b.Close()
	s := newSess(t, b)
	long := make([]transport.Token, 17)
	_, err = s.EnsurePrefix(bg, transport.PrefixInput{Tokens: long})
	var oc *transport.OverContextError
	require.ErrorAs(t, err, &oc)
	assert.Equal(t, 16, oc.Limit)
	assert.Equal(t, 0, s.Resident(), "refused before any state change")

	_, err = s.EnsurePrefix(bg, transport.PrefixInput{Tokens: long[:10]})
	require.NoError(t, err)
	_, err = s.PrefillSuffix(bg, transport.SuffixInput{Tokens: long[:7]})
	require.ErrorAs(t, err, &oc)
	assert.Equal(t, 10, s.Resident())
	_, err = s.PrefillSuffix(bg, transport.SuffixInput{Tokens: long[:4]})
	require.NoError(t, err)
	_, err = s.Decode(bg, 3)
	require.ErrorAs(t, err, &oc)
	assert.Equal(t, 14, s.Resident())
	d, err := s.Decode(bg, 2)
	require.NoError(t, err)
	assert.Len(t, d.Tokens, 2)
}

func TestBadInputAndClose(t *testing.T) {
	b, _ := openTiny(t, gguf.TypeF32, nil)
	s := newSess(t, b)
	_, err := s.EnsurePrefix(bg, transport.PrefixInput{Tokens: []transport.Token{1, 512}})
	assert.ErrorContains(t, err, "outside the vocabulary")
	_, err = s.EnsurePrefix(bg, transport.PrefixInput{Tokens: []transport.Token{-1}})
	assert.Error(t, err)
	_, err = s.PrefillSuffix(bg, transport.SuffixInput{})
	assert.ErrorIs(t, err, transport.ErrEmptySuffix)
	_, err = s.Decode(bg, 1)
	assert.ErrorIs(t, err, transport.ErrNoPending)
	assert.EqualError(t, err, "openvino: Decode: no pending token (call PrefillSuffix first)")
	_, err = s.Decode(bg, -1)
	assert.Error(t, err)
	_, err = s.LastLogits()
	assert.ErrorIs(t, err, transport.ErrNoLogits)
	assert.EqualError(t, err, "openvino: LastLogits: no logits for the last resident position")
	d, err := s.Decode(bg, 0)
	require.NoError(t, err)
	assert.Empty(t, d.Tokens)

	assert.Error(t, b.Close(), "backend refuses to close under an open session")
	require.NoError(t, s.Close())
	require.NoError(t, s.Close(), "idempotent")
	conformance.AssertClosed(t, s)
	require.NoError(t, b.Close())
	require.NoError(t, b.Close(), "idempotent")
	ns, err := b.NewSession(bg)
	assert.ErrorIs(t, err, transport.ErrClosed)
	assert.Nil(t, ns, "a nil interface, not a typed nil")
}

// TestBackendFacts checks the facts a report gets from a benchmark row (the
// plugin's tuned defaults): the properties set, the values the compiled
// model reports for the per-ISA choices, the CPU device's capabilities and
// the features its kernels can use here.
func TestBackendFacts(t *testing.T) {
	b, path := openTiny(t, gguf.TypeQ8_0, nil)
	assert.Equal(t, "openvino", b.Name())
	assert.Regexp(t, `^openvino 20\d\d\.\d+`, b.Version())
	st := b.Settings()
	assert.Equal(t, "LATENCY", st["property.PERFORMANCE_HINT"])
	assert.Equal(t, "2", st["property.INFERENCE_NUM_THREADS"])
	// The stateful row's consistent policy pins f32 inference, no dynamic
	// quantization and a bf16 or f32 cache, and says so.
	assert.Equal(t, policyConsistent, st["precision_policy"])
	assert.Equal(t, "f32", st["property.INFERENCE_PRECISION_HINT"])
	assert.Equal(t, "0", st["property.DYNAMIC_QUANTIZATION_GROUP_SIZE"])
	assert.Contains(t, []string{"bf16", "f32"}, st["property.KV_CACHE_PRECISION"])
	assert.Equal(t, st["property.KV_CACHE_PRECISION"], st["effective.KV_CACHE_PRECISION"])
	assert.Equal(t, st["effective.KV_CACHE_PRECISION"], st["type_k"], "the cache's element type as the plugin stores it")
	assert.Equal(t, st["effective.KV_CACHE_PRECISION"], st["type_v"])
	assert.Equal(t, "f32", st["effective.INFERENCE_PRECISION_HINT"])
	assert.True(t, strings.HasPrefix(st["precision"], "policy consistent: INFERENCE_PRECISION_HINT=f32, DYNAMIC_QUANTIZATION_GROUP_SIZE=0, KV_CACHE_PRECISION="), st["precision"])
	assert.Contains(t, st["kv_cache"], "variable state")
	assert.Equal(t, "ScaledDotProductAttention x2", st["runtime_attention"], "the plugin fused one attention node per layer")
	assert.Equal(t, "fakbench's library (ov::Core::compile_model)", st["compile_api"])
	assert.Equal(t, "2", st["effective.INFERENCE_NUM_THREADS"], "read back from the compiled model")
	assert.Equal(t, "1", st["effective.NUM_STREAMS"], "the latency hint gives one stream")
	assert.Equal(t, "PERFORMANCE", st["effective.EXECUTION_MODE_HINT"], "the plugin's default mode")
	for _, k := range []string{"INFERENCE_PRECISION_HINT", "DYNAMIC_QUANTIZATION_GROUP_SIZE", "KV_CACHE_PRECISION"} {
		assert.NotEmpty(t, st["effective."+k], "the plugin's per-ISA choice of %s is recorded", k)
	}
	t.Logf("effective: %s=%s %s=%s %s=%s; capabilities %q; isa %q",
		"INFERENCE_PRECISION_HINT", st["effective.INFERENCE_PRECISION_HINT"],
		"DYNAMIC_QUANTIZATION_GROUP_SIZE", st["effective.DYNAMIC_QUANTIZATION_GROUP_SIZE"],
		"KV_CACHE_PRECISION", st["effective.KV_CACHE_PRECISION"],
		st["device.OPTIMIZATION_CAPABILITIES"], st["isa"])
	caps := st["device.OPTIMIZATION_CAPABILITIES"]
	assert.Contains(t, caps, "FP32", "every CPU plugin computes in f32")
	// The row's isa: the node's features the plugin can use in the
	// precisions this compiled model runs with.
	assert.Equal(t, pluginISA(nodeCPUFlags(), rowCapabilities(caps, st)), st["isa"])
	if flags := nodeCPUFlags(); slices.Contains(flags, "avx2") {
		assert.Contains(t, strings.Split(st["isa"], ","), "avx2", "the plugin's kernels use the node's AVX2")
	}
	info := b.Info()
	assert.Equal(t, 512, info.VocabSize)
	assert.Equal(t, 512, info.ContextLength)
	assert.Equal(t, "q8_0", info.WeightType)
	assert.Equal(t, path, info.Path)
	assert.False(t, b.IRCached)

	// A second open of the same file reuses the cached IR.
	b2, err := Open(bg, adapters.Options{ModelPath: path, Threads: 2})
	require.NoError(t, err)
	defer b2.Close()
	assert.True(t, b2.IRCached)
	assert.Equal(t, b.IRPath, b2.IRPath)

	e, err := adapters.Lookup("openvino")
	require.NoError(t, err)
	assert.True(t, e.Caps.Logits)
	assert.True(t, e.Caps.Native)
	assert.True(t, e.Caps.Batch)
	assert.NoError(t, e.Available())
}

// TestBackendFactsPluginPolicy: the plugin-precision ablation and the
// explicit form leave every precision to the plugin and record what it
// chose.
func TestBackendFactsPluginPolicy(t *testing.T) {
	for _, extra := range []map[string]string{{ExtraPrecisionPolicy: policyPlugin}, {ExtraKVCache: kvExplicit}} {
		b, _ := openTiny(t, gguf.TypeQ8_0, extra)
		st := b.Settings()
		assert.Equal(t, policyPlugin, st["precision_policy"], "%v", extra)
		assert.NotContains(t, st, "property.INFERENCE_PRECISION_HINT", "%v: the precision is the plugin's", extra)
		assert.NotContains(t, st, "property.KV_CACHE_PRECISION", "%v", extra)
		assert.Contains(t, st["precision"], "plugin defaults", "%v", extra)
		for _, k := range []string{"INFERENCE_PRECISION_HINT", "DYNAMIC_QUANTIZATION_GROUP_SIZE", "KV_CACHE_PRECISION"} {
			assert.NotEmpty(t, st["effective."+k], "%v: the plugin's per-ISA choice of %s is recorded", extra, k)
		}
	}
	b, _ := openTiny(t, gguf.TypeQ8_0, map[string]string{ExtraKVCache: kvExplicit})
	st := b.Settings()
	assert.Contains(t, st["kv_cache"], "explicit")
	assert.Equal(t, "ov_core_compile_model_props", st["compile_api"])
	assert.NotContains(t, st, "runtime_attention")
}

// TestExactExtraPins checks that ExactExtra's settings reach the compile
// call and that the compiled model reports them.
func TestExactExtraPins(t *testing.T) {
	b, _ := openTiny(t, gguf.TypeQ8_0, exact())
	requireExact(t, b)
	st := b.Settings()
	assert.Equal(t, "f32", st["property.INFERENCE_PRECISION_HINT"])
	assert.Equal(t, "0", st["property.DYNAMIC_QUANTIZATION_GROUP_SIZE"])
	assert.Equal(t, "f32", st["property.KV_CACHE_PRECISION"])
	assert.Equal(t, "ACCURACY", st["property.EXECUTION_MODE_HINT"])
	assert.Equal(t, "pinned: EXECUTION_MODE_HINT=ACCURACY, INFERENCE_PRECISION_HINT=f32, "+
		"DYNAMIC_QUANTIZATION_GROUP_SIZE=0, KV_CACHE_PRECISION=f32", st["precision"], "every pin is the user's: the policy adds none")
}

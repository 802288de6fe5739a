package llamacpp

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fakbench/fakbench/adapters"
	"github.com/fakbench/fakbench/adapters/conformance"
	"github.com/fakbench/fakbench/gguf"
	"github.com/fakbench/fakbench/internal/host"
	"github.com/fakbench/fakbench/transport"
	"github.com/fakbench/fakbench/transport/session"
)

// open loads path with extra options and closes it at the end of the test.
// Unless a test asks for a thread count, it runs llama.cpp on one thread:
// the results do not depend on it, and ggml's spinning workers slow to a
// crawl when the machine is oversubscribed (the 2-core development box
// runs several builds at once). TestOpenGoodModel covers the default.
func open(t *testing.T, path string, opts adapters.Options) *Backend {
	t.Helper()
	requireNative(t)
	opts.ModelPath = path
	if opts.Threads == 0 {
		opts.Threads = 1
	}
	b, err := Open(context.Background(), opts)
	require.NoError(t, err)
	t.Cleanup(func() { _ = b.Close() })
	return b.(*Backend)
}

func newSess(t *testing.T, b *Backend) *Session {
	t.Helper()
	s, err := b.NewSession(context.Background())
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	return s.(*Session)
}

// seqTokens are n deterministic token IDs below vocab, offset by seed.
func seqTokens(n, vocab, seed int) []transport.Token {
	out := make([]transport.Token, n)
	for i := range out {
		out[i] = transport.Token((i*7919 + seed*104729 + 13) % vocab)
	}
	return out
}

// greedy runs prefix+suffix on s and returns the first token and n more.
func greedy(t *testing.T, s transport.Session, prefix, suffix []transport.Token, n int) []transport.Token {
	t.Helper()
	ctx := context.Background()
	_, err := s.EnsurePrefix(ctx, transport.PrefixInput{Tokens: prefix})
	require.NoError(t, err)
	r, err := s.PrefillSuffix(ctx, transport.SuffixInput{Tokens: suffix})
	require.NoError(t, err)
	d, err := s.Decode(ctx, n)
	require.NoError(t, err)
	return append([]transport.Token{r.FirstToken}, d.Tokens...)
}

func TestOpenGoodModel(t *testing.T) {
	path := tinyModel(t, "f32")
	requireNative(t)
	bb, err := Open(context.Background(), adapters.Options{ModelPath: path})
	require.NoError(t, err)
	t.Cleanup(func() { _ = bb.Close() })
	b := bb.(*Backend)
	info := b.Info()
	assert.Equal(t, path, info.Path)
	assert.Equal(t, "llama", info.Architecture)
	assert.Greater(t, info.VocabSize, 0)
	assert.Greater(t, info.ContextLength, 0)
	assert.Greater(t, info.Parameters, int64(0))
	assert.Greater(t, info.WeightBytes, int64(0))
	assert.Equal(t, "f32", info.WeightType)
	assert.Equal(t, Name, b.Name())
	assert.Contains(t, b.Version(), "llama.cpp "+LlamaCommit)
	assert.Contains(t, b.Version(), "ollama-module@v")

	st := b.Settings()
	for _, k := range []string{"profile", "threads", "n_ctx", "n_batch", "n_ubatch", "flash_attn", "type_k", "type_v", "mmap", "extra_bufts", "weight_buffers", "amx", "isa", "build_flags", "system_info"} {
		assert.Contains(t, st, k)
	}
	assert.Equal(t, ProfileTuned, st["profile"])
	assert.Equal(t, strconv.Itoa(host.PhysicalCores()), st["threads"], "tuned: one thread per physical core")
	assert.Equal(t, "off", st["flash_attn"], "tuned: flash attention off, by measurement")
	assert.Equal(t, "true", st["threadpool"])
	assert.Contains(t, st["system_info"], "AVX2 = 1", "the tuned build must use the CPU's vector units")
	assert.Equal(t, "on", st["extra_bufts"])
	assert.Contains(t, st["weight_buffers"], "MiB", "llama.cpp's load log names the weight buffers")
	assert.Contains(t, st["isa"], "avx2")
	if amxCompiled() {
		// The tiny model's K is far from a multiple of 2048: the measured
		// reason is stated, not a silent CPU fallback.
		assert.Contains(t, st["amx"], "not engaged: none of the")
	}
	// go test records the cgo flags in the build info too.
	assert.Contains(t, st["build_flags"], "CGO_CFLAGS=")
	st["profile"] = "changed"
	assert.Equal(t, ProfileTuned, b.Settings()["profile"], "Settings returns a copy")

	// The registry knows the backend and opens it too.
	e, err := adapters.Lookup(Name)
	require.NoError(t, err)
	assert.True(t, e.Caps.Logits && e.Caps.Batch && e.Caps.Native)
	b2, err := adapters.Open(context.Background(), Name, adapters.Options{ModelPath: path, ContextLength: 64})
	require.NoError(t, err)
	assert.Equal(t, 64, b2.Info().ContextLength)
	require.NoError(t, b2.Close())
}

func TestContextDefaultsMatchLibrary(t *testing.T) {
	requireNative(t)
	assert.Equal(t, libDefaults, nativeContextDefaults(), "llama_context_default_params changed: update libDefaults and the untuned profile docs")
}

func TestVersionCommitMatchesModuleSource(t *testing.T) {
	// third_party/llama links to the module's llama/llama.cpp; build-info.cpp
	// sits next to it and carries LLAMA_COMMIT.
	dir, err := filepath.EvalSymlinks(filepath.Join("..", "third_party", "llama"))
	if err != nil {
		t.Skipf("third_party/llama not linked (run make setup): %v", err)
	}
	src, err := os.ReadFile(filepath.Join(filepath.Dir(dir), "build-info.cpp"))
	require.NoError(t, err)
	assert.Contains(t, string(src), `LLAMA_COMMIT = "`+LlamaCommit+`"`)
}

func TestOpenBadFiles(t *testing.T) {
	requireNative(t)
	dir := t.TempDir()
	good, err := os.ReadFile(tinyModel(t, "f32"))
	require.NoError(t, err)

	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, data, 0o644))
		return p
	}
	// A valid GGUF of the llama architecture with no layer tensors: the Go
	// checks (gguf.ReadLlamaParams) refuse it before llama.cpp sees it;
	// TestOpenReportsLlamaCppLoadFailure covers llama.cpp's own failure.
	w := gguf.NewWriter()
	require.NoError(t, w.AddKV("general.architecture", "llama"))
	require.NoError(t, w.AddKV("llama.block_count", uint32(1)))
	require.NoError(t, w.AddKV("llama.embedding_length", uint32(8)))
	require.NoError(t, w.AddTensor("token_embd.weight", gguf.TypeF32, []uint64{8, 4}, make([]byte, 8*4*4)))
	incomplete := filepath.Join(dir, "incomplete.gguf")
	require.NoError(t, w.WriteFile(incomplete))

	noArch := gguf.NewWriter()
	require.NoError(t, noArch.AddKV("general.name", "x"))
	require.NoError(t, noArch.AddTensor("t", gguf.TypeF32, []uint64{4}, make([]byte, 16)))
	noArchPath := filepath.Join(dir, "noarch.gguf")
	require.NoError(t, noArch.WriteFile(noArchPath))

	cases := map[string]string{
		"missing":    filepath.Join(dir, "nope.gguf"),
		"directory":  dir,
		"empty":      write("empty.gguf", nil),
		"not gguf":   write("text.gguf", []byte("this is not a model file, just some text\n")),
		"truncated":  write("trunc.gguf", good[:len(good)/2]),
		"header cut": write("head.gguf", good[:40]),
		"no arch":    noArchPath,
		"incomplete": incomplete,
	}
	for name, p := range cases {
		t.Run(name, func(t *testing.T) {
			b, err := Open(context.Background(), adapters.Options{ModelPath: p})
			require.Error(t, err)
			assert.Nil(t, b)
			assert.True(t, transport.IsBadModel(err), "want a BadModelError, got %T: %v", err, err)
			assert.Contains(t, err.Error(), p, "the error names the file")
		})
	}

	_, err = Open(context.Background(), adapters.Options{})
	assert.ErrorContains(t, err, "no model path")
	_, err = Open(context.Background(), adapters.Options{ModelPath: tinyModel(t, "f32"), Profile: "bogus"})
	assert.ErrorContains(t, err, "unknown profile")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = Open(ctx, adapters.Options{ModelPath: tinyModel(t, "f32")})
	assert.ErrorIs(t, err, context.Canceled)
}

func TestPrefixHitAndEditMiss(t *testing.T) {
	b := open(t, tinyModel(t, "f32"), adapters.Options{})
	s := newSess(t, b)
	ctx := context.Background()
	vocab := b.Info().VocabSize
	p := seqTokens(40, vocab, 1)

	r, err := s.EnsurePrefix(ctx, transport.PrefixInput{Key: "a", Tokens: p})
	require.NoError(t, err)
	assert.Equal(t, 0, r.ReusedTokens)
	assert.Equal(t, 40, r.ComputedTokens)
	assert.Equal(t, 40, s.CachePositions())

	// Same prefix: a full hit, nothing recomputed.
	r, err = s.EnsurePrefix(ctx, transport.PrefixInput{Key: "a", Tokens: p})
	require.NoError(t, err)
	assert.Equal(t, 40, r.ReusedTokens)
	assert.Equal(t, 0, r.ComputedTokens)

	// A suffix and decoded tokens follow; the same prefix again drops them.
	_, err = s.PrefillSuffix(ctx, transport.SuffixInput{Tokens: seqTokens(5, vocab, 2)})
	require.NoError(t, err)
	_, err = s.Decode(ctx, 3)
	require.NoError(t, err)
	assert.Equal(t, 48, s.CachePositions())
	r, err = s.EnsurePrefix(ctx, transport.PrefixInput{Tokens: p})
	require.NoError(t, err)
	assert.Equal(t, 40, r.ReusedTokens)
	assert.Equal(t, 0, r.ComputedTokens)
	assert.Equal(t, 40, s.CachePositions(), "the suffix and decoded positions are removed from llama.cpp's memory")

	// An edit at index 25: reuse up to the edit, recompute from it on.
	edited := append([]transport.Token(nil), p...)
	edited[25] = (edited[25] + 1) % transport.Token(vocab)
	r, err = s.EnsurePrefix(ctx, transport.PrefixInput{Tokens: edited})
	require.NoError(t, err)
	assert.Equal(t, 25, r.ReusedTokens)
	assert.Equal(t, 15, r.ComputedTokens)
	assert.Equal(t, edited, s.Tokens())
	assert.Equal(t, 40, s.CachePositions())

	// A shorter prefix that is a prefix of the resident one: all reused.
	r, err = s.EnsurePrefix(ctx, transport.PrefixInput{Tokens: edited[:10]})
	require.NoError(t, err)
	assert.Equal(t, 10, r.ReusedTokens)
	assert.Equal(t, 0, r.ComputedTokens)
	assert.Equal(t, 10, s.CachePositions())
}

func TestWarmEqualsCold(t *testing.T) {
	for _, typ := range []string{"f32", "q8_0"} {
		t.Run(typ, func(t *testing.T) {
			b := open(t, tinyModel(t, typ), adapters.Options{})
			vocab := b.Info().VocabSize
			prefix := seqTokens(48, vocab, 3)
			s1, s2 := seqTokens(6, vocab, 4), seqTokens(9, vocab, 5)

			warm := newSess(t, b)
			greedy(t, warm, prefix, s1, 8)
			gotWarm := greedy(t, warm, prefix, s2, 16) // prefix reused, suffix changed

			cold := newSess(t, b)
			gotCold := greedy(t, cold, prefix, s2, 16)
			assert.Equal(t, gotCold, gotWarm, "warm reuse must give the cold greedy tokens")

			// Edited stable segment: recomputed from the edit, still equal to cold.
			edited := append([]transport.Token(nil), prefix...)
			edited[10] = (edited[10] + 7) % transport.Token(vocab)
			gotEdit := greedy(t, warm, edited, s2, 16)
			cold2 := newSess(t, b)
			assert.Equal(t, greedy(t, cold2, edited, s2, 16), gotEdit)
		})
	}
}

func TestLastLogits(t *testing.T) {
	b := open(t, tinyModel(t, "f32"), adapters.Options{})
	s := newSess(t, b)
	ctx := context.Background()
	_, err := s.LastLogits()
	assert.ErrorIs(t, err, transport.ErrNoLogits, "no logits before any prefill")
	prefix := seqTokens(8, b.Info().VocabSize, 1)
	_, err = s.EnsurePrefix(ctx, transport.PrefixInput{Tokens: prefix})
	require.NoError(t, err)
	l, err := s.LastLogits()
	require.NoError(t, err, "EnsurePrefix keeps the last prefix position's logits, as every backend does")
	require.Len(t, l, b.Info().VocabSize)
	_, err = s.EnsurePrefix(ctx, transport.PrefixInput{Tokens: prefix[:6]})
	require.NoError(t, err)
	_, err = s.LastLogits()
	assert.ErrorIs(t, err, transport.ErrNoLogits, "a shorter prefix computes nothing, so has no logits")
	r, err := s.PrefillSuffix(ctx, transport.SuffixInput{Tokens: []transport.Token{5}})
	require.NoError(t, err)
	l, err = s.LastLogits()
	require.NoError(t, err)
	require.Len(t, l, b.Info().VocabSize)
	assert.Equal(t, r.FirstToken, session.Greedy(l))
	d, err := s.Decode(ctx, 1)
	require.NoError(t, err)
	l, err = s.LastLogits()
	require.NoError(t, err)
	assert.Equal(t, d.Tokens[0], session.Greedy(l))
}

func TestBadInputIsRefusedAndSessionSurvives(t *testing.T) {
	b := open(t, tinyModel(t, "f32"), adapters.Options{ContextLength: 64})
	s := newSess(t, b)
	ctx := context.Background()
	vocab := b.Info().VocabSize
	prefix, suffix := seqTokens(40, vocab, 1), seqTokens(4, vocab, 2)
	want := greedy(t, s, prefix, suffix, 4)

	_, err := s.Decode(ctx, 1000)
	var oc *transport.OverContextError
	require.ErrorAs(t, err, &oc)
	assert.Equal(t, "Decode", oc.Op)
	assert.Equal(t, 64, oc.Limit)

	_, err = s.PrefillSuffix(ctx, transport.SuffixInput{Tokens: seqTokens(30, vocab, 3)})
	require.ErrorAs(t, err, &oc)
	assert.Equal(t, "PrefillSuffix", oc.Op)
	assert.Equal(t, 40, oc.Resident)

	_, err = s.EnsurePrefix(ctx, transport.PrefixInput{Tokens: seqTokens(65, vocab, 1)})
	require.ErrorAs(t, err, &oc)
	assert.Equal(t, "EnsurePrefix", oc.Op)

	_, err = s.PrefillSuffix(ctx, transport.SuffixInput{})
	assert.ErrorIs(t, err, transport.ErrEmptySuffix)
	_, err = s.PrefillSuffix(ctx, transport.SuffixInput{Tokens: []transport.Token{1, transport.Token(vocab)}})
	assert.ErrorContains(t, err, "outside the vocabulary")
	_, err = s.EnsurePrefix(ctx, transport.PrefixInput{Tokens: []transport.Token{-1}})
	assert.ErrorContains(t, err, "outside the vocabulary")
	_, err = s.Decode(ctx, -1)
	assert.Error(t, err)

	// Nothing above changed the session: the same request answers the same.
	assert.Equal(t, 4+40+4, s.CachePositions())
	assert.Equal(t, want, greedy(t, s, prefix, suffix, 4))

	fresh := newSess(t, b)
	_, err = fresh.Decode(ctx, 1)
	assert.ErrorIs(t, err, transport.ErrNoPending)
	assert.ErrorContains(t, err, "llamacpp: Decode: no pending token")
	d, err := fresh.Decode(ctx, 0)
	require.NoError(t, err)
	assert.Empty(t, d.Tokens)
}

func TestCancelDecodeThenContinue(t *testing.T) {
	b := open(t, tinyModel(t, "f32"), adapters.Options{})
	vocab, limit := b.Info().VocabSize, b.Info().ContextLength
	prefix, suffix := seqTokens(16, vocab, 1), seqTokens(4, vocab, 2)
	n := limit - len(prefix) - len(suffix)
	require.Greater(t, n, 40, "the test model needs room to decode")

	refSess := newSess(t, b)
	greedy(t, refSess, prefix, suffix, 0)
	start := time.Now()
	refD, err := refSess.Decode(context.Background(), n)
	require.NoError(t, err)
	full := time.Since(start)
	ref := append(greedy(t, newSess(t, b), prefix, suffix, 0), refD.Tokens...)

	var s *Session
	var d transport.DecodeResult
	for attempt := 0; attempt < 4; attempt++ {
		s = newSess(t, b)
		require.Equal(t, ref[:1], greedy(t, s, prefix, suffix, 0))
		// The deadline fires from another goroutine while Decode runs.
		ctx, cancel := context.WithTimeout(context.Background(), full/3)
		d, err = s.Decode(ctx, n)
		cancel()
		if err != nil {
			break
		}
	}
	require.Error(t, err, "Decode of %d tokens (%v in full) never saw the cancellation", n, full)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	k := len(d.Tokens)
	require.Less(t, k, n, "Decode must stop early on cancellation")
	assert.Equal(t, ref[1:1+k], d.Tokens, "tokens made before the cancel are the reference ones")
	assert.Equal(t, len(prefix)+len(suffix)+k, s.CachePositions(), "the cache holds exactly the tokens fed")
	assert.Equal(t, s.Resident(), s.CachePositions())

	// The session goes on where it stopped.
	more, err := s.Decode(context.Background(), 8)
	require.NoError(t, err)
	assert.Equal(t, ref[1+k:1+k+8], more.Tokens)

	// An already-cancelled context changes nothing.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = s.Decode(ctx, 4)
	assert.ErrorIs(t, err, context.Canceled)
	_, err = s.EnsurePrefix(ctx, transport.PrefixInput{Tokens: prefix})
	assert.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, len(prefix)+len(suffix)+k+8, s.CachePositions())
}

// TestAbortMidBatch cancels inside one llama_decode (n_batch covers the whole
// prompt, n_ubatch 1 makes it many graph evaluations), so only the abort
// callback can stop it; the bookkeeping must then match llama.cpp's memory.
func TestAbortMidBatch(t *testing.T) {
	path := tinyModel(t, "f32")
	b := open(t, path, adapters.Options{Extra: map[string]string{"n_batch": "512", "n_ubatch": "1"}})
	vocab, limit := b.Info().VocabSize, b.Info().ContextLength
	prompt := seqTokens(min(limit-8, 400), vocab, 9)

	// Calibrate: how long the whole prefill takes here.
	cal := newSess(t, b)
	start := time.Now()
	_, err := cal.EnsurePrefix(context.Background(), transport.PrefixInput{Tokens: prompt})
	require.NoError(t, err)
	full := time.Since(start)

	var s *Session
	var landed int
	for attempt := 0; attempt < 4; attempt++ {
		s = newSess(t, b)
		ctx, cancel := context.WithTimeout(context.Background(), full/8)
		r, err := s.EnsurePrefix(ctx, transport.PrefixInput{Tokens: prompt})
		cancel()
		if err == nil {
			continue // finished before the deadline (a noisy machine): retry
		}
		require.ErrorIs(t, err, context.DeadlineExceeded)
		landed = r.ComputedTokens
		break
	}
	require.NotNil(t, s)
	require.Less(t, landed, len(prompt), "the abort callback never stopped llama_decode (full prefill %v)", full)
	t.Logf("full prefill %v; aborted after %d of %d tokens", full, landed, len(prompt))
	assert.Equal(t, landed, s.CachePositions(), "Go bookkeeping matches llama.cpp's memory")
	// slices.Equal: an abort before the first token leaves no resident tokens (nil).
	assert.True(t, slices.Equal(prompt[:landed], s.Tokens()), "resident %v, want the first %d prompt tokens", s.Tokens(), landed)

	// The session is usable: the rest is computed on top of what landed,
	// and the result equals a cold run.
	r, err := s.EnsurePrefix(context.Background(), transport.PrefixInput{Tokens: prompt})
	require.NoError(t, err)
	assert.Equal(t, landed, r.ReusedTokens)
	assert.Equal(t, len(prompt)-landed, r.ComputedTokens)
	sfx := seqTokens(3, vocab, 10)
	got := greedy(t, s, prompt, sfx, 4)
	assert.Equal(t, greedy(t, newSess(t, b), prompt, sfx, 4), got)
}

func TestCloseIdempotent(t *testing.T) {
	requireNative(t)
	ctx := context.Background()
	bb, err := Open(ctx, adapters.Options{ModelPath: tinyModel(t, "f32")})
	require.NoError(t, err)
	s, err := bb.NewSession(ctx)
	require.NoError(t, err)
	kept, err := bb.NewSession(ctx)
	require.NoError(t, err)
	greedy(t, s, seqTokens(8, bb.Info().VocabSize, 1), []transport.Token{1}, 2)

	require.NoError(t, s.Close())
	require.NoError(t, s.Close())
	require.Implements(t, (*transport.LogitsReader)(nil), s)
	conformance.AssertClosed(t, s)

	// Closing the backend closes a session left open.
	require.NoError(t, bb.Close())
	require.NoError(t, bb.Close())
	_, err = kept.EnsurePrefix(ctx, transport.PrefixInput{Tokens: []transport.Token{1}})
	assert.ErrorIs(t, err, transport.ErrClosed)
	require.NoError(t, kept.Close())
	_, err = bb.NewSession(ctx)
	assert.ErrorIs(t, err, transport.ErrClosed)
	_, err = bb.(transport.BatchDecoder).DecodeBatch(ctx, [][]transport.Token{{1}}, 1)
	assert.ErrorIs(t, err, transport.ErrClosed)
}

func TestSessionsAreIndependent(t *testing.T) {
	b := open(t, tinyModel(t, "f32"), adapters.Options{})
	vocab := b.Info().VocabSize
	a, c := newSess(t, b), newSess(t, b)
	pa, pc := seqTokens(20, vocab, 1), seqTokens(30, vocab, 2)
	wantA := greedy(t, newSess(t, b), pa, []transport.Token{3}, 6)
	greedy(t, a, pa, []transport.Token{3}, 0)
	greedy(t, c, pc, []transport.Token{4}, 6)
	d, err := a.Decode(context.Background(), 6)
	require.NoError(t, err)
	assert.Equal(t, wantA[1:], d.Tokens, "another session's work must not touch this one's cache")
	assert.Equal(t, 20+1+6, a.CachePositions())
	assert.Equal(t, 30+1+6, c.CachePositions())
}

func TestUntunedProfile(t *testing.T) {
	path := tinyModel(t, "f32")
	u := open(t, path, adapters.Options{Profile: ProfileUntuned, Threads: 2})
	st := u.Settings()
	assert.Equal(t, ProfileUntuned, st["profile"])
	assert.Equal(t, "4", st["threads"])
	assert.Equal(t, "auto", st["flash_attn"])
	tuned := open(t, path, adapters.Options{})
	vocab := u.Info().VocabSize
	// Kept small: llama.cpp's default 4 threads crawl on a busy 2-core box.
	p := seqTokens(12, vocab, 1)
	assert.Equal(t, greedy(t, newSess(t, tuned), p, []transport.Token{2}, 3),
		greedy(t, newSess(t, u), p, []transport.Token{2}, 3), "profiles change speed, not the greedy tokens")
}

func TestFlashAttentionOffAgrees(t *testing.T) {
	path := tinyModel(t, "f32")
	on := open(t, path, adapters.Options{Extra: map[string]string{"flash_attn": "on"}})
	off := open(t, path, adapters.Options{Extra: map[string]string{"flash_attn": "off", "n_ubatch": "64", "type_k": "f32", "type_v": "f32"}})
	assert.Equal(t, "off", off.Settings()["flash_attn"])
	p := seqTokens(60, on.Info().VocabSize, 4)
	assert.Equal(t, greedy(t, newSess(t, on), p, []transport.Token{9}, 12),
		greedy(t, newSess(t, off), p, []transport.Token{9}, 12))
}

func TestDecodeBatchMatchesSessions(t *testing.T) {
	b := open(t, tinyModel(t, "f32"), adapters.Options{})
	vocab := b.Info().VocabSize
	prompts := [][]transport.Token{seqTokens(12, vocab, 1), seqTokens(5, vocab, 2), seqTokens(20, vocab, 3)}
	const steps = 10
	res, err := b.DecodeBatch(context.Background(), prompts, steps)
	require.NoError(t, err)
	assert.Equal(t, 3, res.Sequences)
	assert.Equal(t, 20, res.PromptTokens)
	assert.Equal(t, steps, res.Steps)
	assert.Greater(t, res.PrefillElapsed, time.Duration(0))
	assert.Greater(t, res.DecodeElapsed, time.Duration(0))
	require.Len(t, res.Tokens, 3)
	for i, p := range prompts {
		want := greedy(t, newSess(t, b), p[:len(p)-1], p[len(p)-1:], steps)
		assert.Equal(t, want[1:], res.Tokens[i], "sequence %d", i)
	}
}

func TestDecodeBatchErrors(t *testing.T) {
	b := open(t, tinyModel(t, "f32"), adapters.Options{ContextLength: 64})
	ctx := context.Background()
	_, err := b.DecodeBatch(ctx, nil, 4)
	assert.ErrorContains(t, err, "no prompts")
	_, err = b.DecodeBatch(ctx, [][]transport.Token{{1}, {}}, 4)
	assert.ErrorIs(t, err, transport.ErrEmptySuffix)
	_, err = b.DecodeBatch(ctx, [][]transport.Token{{1, -3}}, 4)
	assert.ErrorContains(t, err, "outside the vocabulary")
	_, err = b.DecodeBatch(ctx, [][]transport.Token{{1}}, -1)
	assert.ErrorContains(t, err, "negative steps")
	_, err = b.DecodeBatch(ctx, [][]transport.Token{seqTokens(60, b.Info().VocabSize, 1)}, 10)
	assert.True(t, transport.IsOverContext(err), "got %v", err)
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	_, err = b.DecodeBatch(cctx, [][]transport.Token{{1}}, 4)
	assert.True(t, errors.Is(err, context.Canceled), "got %v", err)
}

// TestCancellerIgnoresStaleWatchers: arming on an already-cancelled context
// starts the watcher in its own goroutine, which may run after disarm and
// after the next arm; it must not raise the flag of that next call.
func TestCancellerIgnoresStaleWatchers(t *testing.T) {
	b := open(t, tinyModel(t, "f32"), adapters.Options{})
	s := newSess(t, b)
	c := s.cancel
	done, cancel := context.WithCancel(context.Background())
	cancel()
	for i := 0; i < 300; i++ {
		c.arm(done)()
		disarm := c.arm(context.Background())
		time.Sleep(20 * time.Microsecond) // let the stale watcher run
		assert.False(t, s.nc.abortRaised(), "iteration %d: a stale watcher raised the flag", i)
		disarm()
	}
	// A live watcher does raise it, and disarm lowers it.
	live, stop := context.WithCancel(context.Background())
	disarm := c.arm(live)
	stop()
	require.Eventually(t, s.nc.abortRaised, time.Second, time.Millisecond)
	disarm()
	assert.False(t, s.nc.abortRaised())

	// Through the session: a cancelled call never poisons the next one.
	greedy(t, s, seqTokens(8, b.Info().VocabSize, 1), []transport.Token{2}, 0)
	for i := 0; i < 30; i++ {
		_, err := s.Decode(done, 2)
		require.ErrorIs(t, err, context.Canceled)
		_, err = s.Decode(context.Background(), 1)
		require.NoError(t, err, "iteration %d", i)
	}
}

func TestQuiesceParksThePoolAndTheNextCallResumesIt(t *testing.T) {
	// The interleaved schedule parks llama.cpp's polling thread pool before
	// another row runs; the next call must resume it and compute the same.
	b := open(t, tinyModel(t, "f32"), adapters.Options{Extra: map[string]string{ExtraThreadpool: "on"}})
	ctx := context.Background()
	vocab := b.Info().VocabSize
	run := func(quiesce bool) []transport.Token {
		s := newSess(t, b)
		_, err := s.EnsurePrefix(ctx, transport.PrefixInput{Tokens: seqTokens(24, vocab, 3)})
		require.NoError(t, err)
		if quiesce {
			b.Quiesce()
		}
		sr, err := s.PrefillSuffix(ctx, transport.SuffixInput{Tokens: seqTokens(4, vocab, 4)})
		require.NoError(t, err)
		if quiesce {
			b.Quiesce()
			b.Quiesce() // idempotent
		}
		dec, err := s.Decode(ctx, 6)
		require.NoError(t, err)
		return append([]transport.Token{sr.FirstToken}, dec.Tokens...)
	}
	assert.Equal(t, run(false), run(true))
	// A closed session is skipped.
	s := newSess(t, b)
	require.NoError(t, s.Close())
	b.Quiesce()
}

package workload

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fakbench/fakbench/harness/artifact"
	"github.com/fakbench/fakbench/internal/env"
	"github.com/fakbench/fakbench/transport"
)

func sample() Workload {
	return Workload{
		Version:    Version,
		Provenance: Provenance{Source: "test", Method: "hand-written", CreatedAt: "2026-01-01T00:00:00Z"},
		Turns: []Turn{
			{Conversation: "a", StableTokens: 10, SuffixTokens: 5, CompletionTokens: 3},
			{Conversation: "a", StableTokens: 18, SuffixTokens: 4, CompletionTokens: 2},
			{Conversation: "b", StableTokens: 0, SuffixTokens: 7, CompletionTokens: 1},
		},
	}
}

func TestValidateErrors(t *testing.T) {
	cases := map[string]struct {
		edit func(*Workload)
		want string
	}{
		"version":    {func(w *Workload) { w.Version = "v0" }, `version "v0"`},
		"source":     {func(w *Workload) { w.Provenance.Source = " " }, "provenance.source"},
		"method":     {func(w *Workload) { w.Provenance.Method = "" }, "provenance.method"},
		"no turns":   {func(w *Workload) { w.Turns = nil }, "no turns"},
		"stable":     {func(w *Workload) { w.Turns[1].StableTokens = -1 }, "turns[1].stable_tokens = -1"},
		"suffix":     {func(w *Workload) { w.Turns[2].SuffixTokens = 0 }, "turns[2].suffix_tokens = 0"},
		"completion": {func(w *Workload) { w.Turns[0].CompletionTokens = 0 }, "turns[0].completion_tokens = 0"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			w := sample()
			w.Turns = append([]Turn(nil), w.Turns...)
			c.edit(&w)
			err := w.Validate()
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.want)
		})
	}
	require.NoError(t, sample().Validate())
}

func TestLoadRoundTripAndDigest(t *testing.T) {
	w := sample()
	path := filepath.Join(t.TempDir(), "w.json")
	require.NoError(t, w.Save(path))
	got, err := Load(path)
	require.NoError(t, err)
	assert.Equal(t, w, got)

	d1, err := w.Digest()
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(d1, "sha256:"))
	assert.Len(t, d1, len("sha256:")+64)
	// Whitespace does not change the digest; a length does.
	compact, err := w.Canonical()
	require.NoError(t, err)
	again, err := Parse(bytes.NewReader(compact))
	require.NoError(t, err)
	d2, _ := again.Digest()
	assert.Equal(t, d1, d2)
	w.Turns[0].SuffixTokens++
	d3, _ := w.Digest()
	assert.NotEqual(t, d1, d3)
}

func TestLoadErrors(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "missing.json"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "missing.json")

	_, err = Parse(strings.NewReader(`{"version":"fakbench.workload/v1","provenanc":{}}`))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "provenanc")

	_, err = Parse(strings.NewReader(`{"version":"fakbench.workload/v1"} {}`))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "trailing")

	path := filepath.Join(t.TempDir(), "bad.json")
	require.NoError(t, os.WriteFile(path, []byte(`{"version":"x"`), 0o644))
	_, err = Load(path)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "bad.json")
}

func TestCapsFromEnv(t *testing.T) {
	prefill, prompt := env.WorkloadPrefillCap.Name, env.WorkloadPromptCap.Name
	for _, name := range []string{prefill, prompt} {
		t.Setenv(name, "")
		require.NoError(t, os.Unsetenv(name))
	}
	c, err := CapsFromEnv()
	require.NoError(t, err)
	assert.True(t, c.Uncapped(), "unset is uncapped")

	t.Setenv(prefill, "0")
	t.Setenv(prompt, "")
	c, err = CapsFromEnv()
	require.NoError(t, err)
	assert.True(t, c.Uncapped(), "0 and empty are uncapped")

	t.Setenv(prefill, "256")
	t.Setenv(prompt, " 128 ")
	c, err = CapsFromEnv()
	require.NoError(t, err)
	assert.Equal(t, Caps{PrefillCap: 256, PromptCap: 128}, c)
	assert.False(t, c.Uncapped())

	t.Setenv(prefill, "")
	for bad, want := range map[string]string{
		"-1":  `FAK_WORKLOAD_PROMPT_CAP="-1": want a non-negative integer (0 or unset = uncapped)`,
		"abc": `FAK_WORKLOAD_PROMPT_CAP="abc": want a non-negative integer (0 or unset = uncapped)`,
		"1.5": `FAK_WORKLOAD_PROMPT_CAP="1.5": want a non-negative integer (0 or unset = uncapped)`,
		"1":   `FAK_WORKLOAD_PROMPT_CAP="1": want at least 2, as a capped prompt needs one stable and one suffix token (0 = uncapped)`,
	} {
		t.Setenv(prompt, bad)
		_, err = CapsFromEnv()
		var e *env.Error
		require.ErrorAs(t, err, &e, bad)
		assert.Equal(t, prompt, e.Name)
		assert.EqualError(t, err, want)
	}

	// The prefill cap is checked too.
	t.Setenv(prompt, "")
	t.Setenv(prefill, "lots")
	_, err = CapsFromEnv()
	require.Error(t, err)
	assert.Contains(t, err.Error(), prefill)
}

func TestApplyCapAndHead(t *testing.T) {
	w := sample()
	same, res := ApplyCap(w, 0)
	assert.Equal(t, w, same)
	assert.Equal(t, 0, res.CappedTurns)

	capped, res := ApplyCap(w, 12)
	require.NoError(t, capped.Validate())
	assert.Equal(t, CapResult{Cap: 12, CappedTurns: 2, DroppedTokens: (15 - 12) + (22 - 12)}, res)
	assert.Equal(t, Turn{Conversation: "a", StableTokens: 10, SuffixTokens: 2, CompletionTokens: 3}, capped.Turns[0])
	assert.Equal(t, Turn{Conversation: "a", StableTokens: 11, SuffixTokens: 1, CompletionTokens: 2}, capped.Turns[1])
	assert.Equal(t, w.Turns[2], capped.Turns[2])
	assert.Equal(t, 15, w.Turns[0].PromptTokens(), "the input is not modified")

	h := Head(w, 1)
	require.Len(t, h.Turns, 2)
	assert.Equal(t, "a", h.Turns[0].Conversation)
	assert.Equal(t, "b", h.Turns[1].Conversation)
	assert.Equal(t, w, Head(w, 0))
}

func TestStats(t *testing.T) {
	s := sample().Stats()
	assert.Equal(t, Stats{Turns: 3, Conversations: 2, MaxPromptTokens: 22, MaxContextTokens: 24,
		StableTokens: 28, SuffixTokens: 16, CompletionTokens: 6}, s)
}

var when = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

func TestDeriveUsageTimingsAndHistory(t *testing.T) {
	log := strings.Join([]string{
		`{"id":"x","usage":{"prompt_tokens":100,"completion_tokens":20,"prompt_tokens_details":{"cached_tokens":64}}}`,
		``,
		`{"prompt_tokens":50,"completion_tokens":5}`,
		`{"timings":{"prompt_n":30,"predicted_n":12,"cache_n":200}}`,
		`{"conversation_id":"c1","usage":{"prompt_tokens":40,"completion_tokens":10}}`,
		`{"conversation_id":"c1","usage":{"prompt_tokens":70,"completion_tokens":0}}`,
		`{"session_id":"s","prompt_n":9,"predicted_n":3}`,
		`{"usage":{"prompt_tokens":8,"completion_tokens":1,"prompt_tokens_details":{"cached_tokens":8}}}`,
	}, "\n")
	w, err := Derive(strings.NewReader(log), DeriveOptions{Source: "my.jsonl", Now: when, StableFraction: 0.5})
	require.NoError(t, err)
	assert.Equal(t, "my.jsonl", w.Provenance.Source)
	assert.Equal(t, "2026-11-23T12:00:00Z", w.Provenance.CreatedAt)
	assert.Equal(t, []Turn{
		{StableTokens: 64, SuffixTokens: 36, CompletionTokens: 20},                     // cached tokens
		{StableTokens: 25, SuffixTokens: 25, CompletionTokens: 5},                      // split, no history without a conversation id
		{StableTokens: 200, SuffixTokens: 30, CompletionTokens: 12},                    // llama.cpp cache_n
		{Conversation: "c1", StableTokens: 20, SuffixTokens: 20, CompletionTokens: 10}, // first turn: split
		{Conversation: "c1", StableTokens: 50, SuffixTokens: 20, CompletionTokens: 1},  // history 40+10; 0 completion -> 1
		{Conversation: "s", StableTokens: 4, SuffixTokens: 5, CompletionTokens: 3},     // bare timings, no cache_n: split
		{StableTokens: 7, SuffixTokens: 1, CompletionTokens: 1},                        // full hit keeps one suffix token
	}, w.Turns)
	joined := strings.Join(w.Provenance.Notes, "\n")
	assert.Contains(t, joined, "cached-token count for 3")
	assert.Contains(t, joined, "conversation (prompt + completion) for 1")
	assert.Contains(t, joined, "1 requests logged 0 completion tokens")
}

func TestDeriveErrorsNameTheLine(t *testing.T) {
	cases := map[string]string{
		"{\"usage\":{\"prompt_tokens\":1,\"completion_tokens\":1}}\nnot json": "line 2: not a JSON object",
		`{"model":"m"}`:                                       "line 1: no \"usage\" object",
		`{"usage":{"completion_tokens":3}}`:                   "line 1: usage.prompt_tokens is missing",
		`{"usage":{"prompt_tokens":3}}`:                       "line 1: usage.completion_tokens is missing",
		`{"usage":{"prompt_tokens":0,"completion_tokens":3}}`: "prompt_tokens = 0",
		`{"prompt_tokens":5,"completion_tokens":-1}`:          "completion_tokens = -1",
		`{"usage":{"prompt_tokens":5,"completion_tokens":1,"prompt_tokens_details":{"cached_tokens":6}}}`: "cached_tokens = 6",
		`{"timings":{"predicted_n":3}}`:                          "timings.prompt_n is missing",
		`{"timings":{"prompt_n":3}}`:                             "timings.predicted_n is missing",
		`{"timings":{"prompt_n":0,"predicted_n":3,"cache_n":0}}`: "empty prompt",
		`{"timings":{"prompt_n":-2,"predicted_n":3}}`:            "must be >= 0",
		"\n\n": "no requests",
	}
	for log, want := range cases {
		_, err := Derive(strings.NewReader(log), DeriveOptions{})
		require.Error(t, err, log)
		assert.Contains(t, err.Error(), want, log)
	}
	_, err := Derive(strings.NewReader(`{"prompt_tokens":5,"completion_tokens":1}`), DeriveOptions{StableFraction: 1})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "stable fraction")
}

func TestSynthesizeDeterministicAndFits(t *testing.T) {
	p := DefaultSynthParams()
	a, err := Synthesize(p, when)
	require.NoError(t, err)
	b, err := Synthesize(p, when)
	require.NoError(t, err)
	assert.Equal(t, a, b)
	require.NoError(t, CheckFits(a, p.ContextLimit))
	s := a.Stats()
	assert.Equal(t, p.Conversations, s.Conversations)
	// Later turns resend the history: stable = previous prompt + completion.
	for i := 1; i < len(a.Turns); i++ {
		prev, cur := a.Turns[i-1], a.Turns[i]
		if prev.Conversation == cur.Conversation {
			assert.Equal(t, prev.PromptTokens()+prev.CompletionTokens, cur.StableTokens, "turn %d", i)
		}
	}
	assert.Contains(t, a.Provenance.Source, "NOT recorded")

	p.Seed++
	c, err := Synthesize(p, when)
	require.NoError(t, err)
	assert.NotEqual(t, a.Turns, c.Turns)

	bad := DefaultSynthParams()
	bad.ContextLimit = 100
	_, err = Synthesize(bad, when)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "context_limit")
	bad = DefaultSynthParams()
	bad.UserTokens = [2]int{5, 2}
	_, err = Synthesize(bad, when)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "user_tokens")
}

// The shipped default workload is exactly what Synthesize(DefaultSynthParams())
// produces, so its provenance statement can be checked.
func TestShippedDefaultWorkloadMatchesGenerator(t *testing.T) {
	path := filepath.Join("..", "..", "experiments", "agent-live", "production-workload.json")
	w, err := Load(path)
	require.NoError(t, err)
	created, err := time.Parse(time.RFC3339, w.Provenance.CreatedAt)
	require.NoError(t, err)
	want, err := Synthesize(DefaultSynthParams(), created)
	require.NoError(t, err)
	assert.Equal(t, want, w)
}

func TestTokenStream(t *testing.T) {
	a := TokenStream("a", 100, 50)
	assert.Equal(t, a[:40], TokenStream("a", 40, 50), "prefixes agree")
	assert.NotEqual(t, a, TokenStream("b", 100, 50))
	for _, tok := range a {
		assert.True(t, tok >= 1 && tok < 50, "token %d", tok)
	}
}

// fakeSession is a transport.Session that keeps its tokens and reuses the
// longest common prefix, as the contract says.
type fakeSession struct {
	resident []transport.Token
	pending  bool
	opened   *int
	closed   bool
	failAt   string
}

func (f *fakeSession) EnsurePrefix(_ context.Context, in transport.PrefixInput) (transport.PrefixResult, error) {
	if f.failAt == "prefix" {
		return transport.PrefixResult{}, errors.New("boom")
	}
	n := transport.CommonPrefix(f.resident, in.Tokens)
	f.resident = append(f.resident[:n:n], in.Tokens[n:]...)
	return transport.PrefixResult{ReusedTokens: n, ComputedTokens: len(in.Tokens) - n, Elapsed: time.Duration(len(in.Tokens)-n+1) * time.Microsecond}, nil
}

func (f *fakeSession) PrefillSuffix(_ context.Context, in transport.SuffixInput) (transport.SuffixResult, error) {
	f.resident = append(f.resident, in.Tokens...)
	return transport.SuffixResult{FirstToken: 0, SuffixTokens: len(in.Tokens), TTFT: time.Duration(len(in.Tokens)) * time.Microsecond}, nil
}

func (f *fakeSession) Decode(_ context.Context, n int) (transport.DecodeResult, error) {
	if f.failAt == "decode" {
		return transport.DecodeResult{}, errors.New("decode broke")
	}
	out := make([]transport.Token, n)
	for range out {
		f.resident = append(f.resident, 0) // generated tokens differ from the plan's IDs (which are >= 1)
	}
	return transport.DecodeResult{Tokens: out, Elapsed: time.Duration(n) * time.Millisecond}, nil
}

func (f *fakeSession) Close() error { f.closed = true; return nil }

func TestReplayOnFakeSession(t *testing.T) {
	w := sample()
	var sessions []*fakeSession
	open := func(context.Context) (transport.Session, error) {
		s := &fakeSession{}
		sessions = append(sessions, s)
		return s, nil
	}
	res, err := Replay(context.Background(), open, w, ReplayOptions{Vocab: 100, ContextLength: 64, Reps: 2, Warmup: true})
	require.NoError(t, err)
	// warm-up + 2 passes x 2 conversations
	require.Len(t, sessions, 5)
	for _, s := range sessions {
		assert.True(t, s.closed)
	}
	require.Len(t, res.Turns, 3)
	t0, t1, t2 := res.Turns[0], res.Turns[1], res.Turns[2]
	assert.False(t, t0.Warm)
	assert.Equal(t, 0, t0.ReusedTokens)
	assert.Equal(t, 10, t0.ComputedTokens)
	assert.True(t, t1.Warm)
	assert.Equal(t, 15, t1.ExpectedMinReused)
	assert.Equal(t, 15, t1.ReusedTokens, "the previous prompt is reused; the decoded tokens are not")
	assert.Equal(t, 3, t1.ComputedTokens)
	assert.False(t, t2.Warm)
	assert.Len(t, t0.TTFTSamplesMS, 2)
	assert.InDelta(t, (11+5)/1000.0, t0.TTFTMS, 1e-9)
	assert.InDelta(t, 11/1000.0, t0.PrefixMS, 1e-9)
	assert.InDelta(t, 5/1000.0, t0.SuffixTTFTMS, 1e-9)
	assert.InDelta(t, 1000, t0.DecodeTPS, 1e-6)
	assert.Equal(t, 2, t0.DecodedTokens)
	assert.Equal(t, 0.0, t2.DecodeTPS, "completion 1 needs no Decode call")
	assert.Empty(t, t2.DecodeSamplesTPS)
	assert.InDelta(t, 15.0/28, res.Summary.HitRate, 1e-9)
	assert.Equal(t, 3, res.Summary.Turns)
	assert.InDelta(t, 1000, res.Summary.DecodeTPS, 1e-6)
	assert.Len(t, res.Summary.WallSamplesMS, 2)
	assert.True(t, strings.HasPrefix(res.TokenDigest, "sha256:"))

	// Every decoded token's latency is kept, per pass: the fake reports
	// 1 ms per token.
	assert.Equal(t, [][]float64{{1, 1}, {1, 1}}, t0.InterTokenSamplesMS)
	assert.Empty(t, t2.InterTokenSamplesMS, "completion 1 decodes nothing")
	itl := res.Summary.InterTokenMS
	require.NotNil(t, itl)
	assert.Equal(t, 2*(2+1), itl.N, "turn 0 decodes 2 tokens, turn 1 one, in each of 2 passes")
	assert.Equal(t, 1.0, itl.P50)
	assert.Equal(t, 1.0, itl.Max)
	assert.Equal(t, []string{"p90: 6 samples, needs 10", "p99: 6 samples, needs 100"}, itl.Withheld)
	ttft := res.Summary.TTFTPercentilesMS
	require.NotNil(t, ttft)
	assert.Equal(t, 3*2, ttft.N, "every turn's TTFT in every pass")

	var line strings.Builder
	(&ReplayFile{Identity: artifact.Identity{Status: artifact.StatusOK}, Result: &res}).Describe(&line, "fake")
	assert.Contains(t, line.String(), "decode  1000.0 tok/s  ITL p50 1.000 p90 n=6 < 10 p99 n=6 < 100 max 1.000 ms\n")
}

func TestReplayErrors(t *testing.T) {
	ok := func(context.Context) (transport.Session, error) { return &fakeSession{}, nil }
	w := sample()
	_, err := Replay(context.Background(), ok, w, ReplayOptions{Vocab: 100, ContextLength: 20, Reps: 1})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "turn 1")
	assert.Contains(t, err.Error(), "context 20")

	_, err = Replay(context.Background(), ok, w, ReplayOptions{Vocab: 1, Reps: 1})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "vocabulary")
	_, err = Replay(context.Background(), ok, w, ReplayOptions{Vocab: 100})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "reps")

	failOpen := func(context.Context) (transport.Session, error) { return nil, errors.New("no memory") }
	_, err = Replay(context.Background(), failOpen, w, ReplayOptions{Vocab: 100, Reps: 1})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "no memory")

	for _, at := range []string{"prefix", "decode"} {
		var made []*fakeSession
		open := func(context.Context) (transport.Session, error) {
			s := &fakeSession{failAt: at}
			made = append(made, s)
			return s, nil
		}
		_, err = Replay(context.Background(), open, w, ReplayOptions{Vocab: 100, Reps: 1})
		require.Error(t, err, at)
		assert.Contains(t, err.Error(), "turn 0")
		for _, s := range made {
			assert.True(t, s.closed, "sessions are closed after a failure")
		}
	}
}

func TestReadReplayFileAndProblems(t *testing.T) {
	dir := t.TempDir()
	write := func(v any) string {
		b, err := json.Marshal(v)
		require.NoError(t, err)
		p := filepath.Join(dir, "r.json")
		require.NoError(t, os.WriteFile(p, b, 0o644))
		return p
	}
	res := &ReplayResult{Turns: []TurnResult{
		{Index: 0, TTFTMS: 5, TTFTSamplesMS: []float64{5}, DecodedTokens: 3, DecodeTPS: 10},
		{Index: 1, Warm: true, ExpectedMinReused: 10, ReusedTokens: 10, TTFTMS: 2, TTFTSamplesMS: []float64{2}},
	}}
	good := ReplayFile{Identity: artifact.Identity{Schema: ReplaySchema, Backend: "gokernel", Status: artifact.StatusOK}, Result: res}
	f, err := ReadReplayFile(write(good))
	require.NoError(t, err)
	assert.Empty(t, f.Problems())

	res.Turns[0].DecodeTPS = 0
	res.Turns[1].ReusedTokens = 3
	res.Turns[1].TTFTMS = 0
	f, err = ReadReplayFile(write(good))
	require.NoError(t, err)
	p := strings.Join(f.Problems(), "\n")
	assert.Contains(t, p, "turn 0: decode_tps = 0 for 3 decoded tokens")
	assert.Contains(t, p, "turn 1: ttft_ms = 0")
	assert.Contains(t, p, "turn 1: reused 3 tokens, the token plan guarantees at least 10")

	for want, v := range map[string]ReplayFile{
		"schema":            {Identity: artifact.Identity{Schema: "x", Backend: "b", Status: artifact.StatusOK}},
		"no backend":        {Identity: artifact.Identity{Schema: ReplaySchema, Status: artifact.StatusOK}},
		`status "x"`:        {Identity: artifact.Identity{Schema: ReplaySchema, Backend: "b", Status: "x"}},
		"no replayed turns": {Identity: artifact.Identity{Schema: ReplaySchema, Backend: "b", Status: artifact.StatusOK}},
	} {
		_, err := ReadReplayFile(write(v))
		require.Error(t, err, want)
		assert.Contains(t, err.Error(), want)
	}
	skipped, err := ReadReplayFile(write(ReplayFile{Identity: artifact.Identity{Schema: ReplaySchema, Backend: "b", Status: artifact.StatusSkipped, Reason: "r"}}))
	require.NoError(t, err)
	assert.Empty(t, skipped.Problems())
	_, err = ReadReplayFile(filepath.Join(dir, "none.json"))
	require.Error(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "g.json"), []byte("["), 0o644))
	_, err = ReadReplayFile(filepath.Join(dir, "g.json"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "g.json")
}

package batch

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fakbench/fakbench/harness/artifact"
	"github.com/fakbench/fakbench/transport"
)

// fakeBatch decodes "tokens" as a function of each prompt; one decode step
// costs a fixed time plus a small per-sequence cost, so throughput grows
// with B the way a weight-bandwidth-bound decoder's does.
type fakeBatch struct {
	calls     []int
	refuseAt  int // B at which an over-context error is returned (0: never)
	failAt    int // B at which another error is returned
	short     bool
	divergeAt int // B at which sequence 0 changes at step 1
}

func (f *fakeBatch) DecodeBatch(_ context.Context, prompts [][]transport.Token, steps int) (transport.BatchResult, error) {
	b := len(prompts)
	f.calls = append(f.calls, b)
	if f.refuseAt > 0 && b >= f.refuseAt {
		return transport.BatchResult{}, &transport.OverContextError{Op: "DecodeBatch", Requested: b * 100, Limit: 1000}
	}
	if f.failAt > 0 && b == f.failAt {
		return transport.BatchResult{}, errors.New("native failure")
	}
	toks := make([][]transport.Token, b)
	for s := range toks {
		n := steps
		if f.short && s == b-1 {
			n--
		}
		toks[s] = make([]transport.Token, n)
		for i := range toks[s] {
			toks[s][i] = prompts[s][0] + transport.Token(i)
		}
	}
	if f.divergeAt > 0 && b == f.divergeAt {
		toks[0][1]++
	}
	step := 10*time.Millisecond + time.Duration(b)*100*time.Microsecond
	return transport.BatchResult{Sequences: b, PromptTokens: len(prompts[0]), Steps: steps,
		PrefillElapsed: time.Duration(b) * time.Millisecond, DecodeElapsed: time.Duration(steps) * step, Tokens: toks}, nil
}

func opts() Options {
	return Options{PromptTokens: 8, Steps: 4, Reps: 2, Vocab: 1000}
}

func TestMeasureFullCurve(t *testing.T) {
	f := &fakeBatch{divergeAt: 16}
	o := opts()
	o.Warmup = true
	c, err := Measure(context.Background(), f, o)
	require.NoError(t, err)
	assert.Equal(t, []int{1, 1, 1, 2, 2, 4, 4, 8, 8, 16, 16, 32, 32, 64, 64}, f.calls)
	require.Len(t, c.Points, len(DefaultBatches))
	assert.Equal(t, 64, c.MaxBatch)
	assert.Equal(t, "requested maximum", c.Bound)
	for i, p := range c.Points {
		assert.Equal(t, DefaultBatches[i], p.Batch)
		step := 0.010 + float64(p.Batch)*0.0001
		assert.InDelta(t, float64(p.Batch)/step, p.TokensPerSec, 1e-6)
		assert.Len(t, p.SamplesTPS, 2)
		assert.Len(t, p.DecodeSamplesMS, 2)
		assert.InDelta(t, p.TokensPerSec/float64(p.Batch), p.PerSequenceTPS, 1e-9)
		if p.Batch == 16 {
			assert.False(t, p.MatchesB1)
			assert.Equal(t, 1, p.FirstDivergence)
		} else {
			assert.True(t, p.MatchesB1, "B=%d", p.Batch)
			assert.Equal(t, -1, p.FirstDivergence)
		}
	}
	assert.InDelta(t, 1.0, c.Points[0].SpeedupVsB1, 1e-12)
	assert.InDelta(t, (64/0.0164)/(1/0.0101), c.SpeedupAtMax, 1e-6)
	bp := c.BatchPoints()
	require.Len(t, bp, 7)
	assert.Equal(t, c.Points[6].BatchPoint, bp[6])
}

func TestMeasureBoundedByContextAndMemory(t *testing.T) {
	o := opts()
	o.MaxPositions = 12 * 12 // 12 sequences of 8+4 positions
	c, err := Measure(context.Background(), &fakeBatch{}, o)
	require.NoError(t, err)
	assert.Equal(t, 8, c.MaxBatch)
	assert.Contains(t, c.Bound, "context: B=16 needs 192 positions")
	assert.Len(t, c.Points, 4)

	o = opts()
	o.KVBytesPerPosition = 1 << 20
	o.MemoryBytes = 100 << 20 // 8 sequences x 12 positions = 96 MiB fit, 16 do not
	c, err = Measure(context.Background(), &fakeBatch{}, o)
	require.NoError(t, err)
	assert.Equal(t, 8, c.MaxBatch)
	assert.Contains(t, c.Bound, "memory: B=16")

	o = opts()
	o.MaxPositions = 5
	_, err = Measure(context.Background(), &fakeBatch{}, o)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "even B=1 does not fit")
}

func TestMeasureBackendRefusal(t *testing.T) {
	c, err := Measure(context.Background(), &fakeBatch{refuseAt: 32}, opts())
	require.NoError(t, err)
	assert.Equal(t, 16, c.MaxBatch)
	assert.Contains(t, c.Bound, "backend refused B=32")
	assert.Contains(t, c.Bound, "over context")

	_, err = Measure(context.Background(), &fakeBatch{refuseAt: 1}, opts())
	require.Error(t, err, "a refusal at the first B is an error, not a bound")

	_, err = Measure(context.Background(), &fakeBatch{failAt: 4}, opts())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "B=4 rep 1: native failure")

	_, err = Measure(context.Background(), &fakeBatch{short: true}, opts())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "has 3 tokens, want 4")
}

func TestMeasureValidates(t *testing.T) {
	cases := map[string]func(*Options){
		"prompt tokens": func(o *Options) { o.PromptTokens = 0 },
		"steps":         func(o *Options) { o.Steps = 0 },
		"reps":          func(o *Options) { o.Reps = 0 },
		"vocabulary":    func(o *Options) { o.Vocab = 1 },
		"increasing":    func(o *Options) { o.Batches = []int{4, 2} },
		"repeated":      func(o *Options) { o.Batches = []int{1, 2, 2} },
		"no batch":      func(o *Options) { o.Batches = []int{} },
	}
	for want, edit := range cases {
		o := opts()
		edit(&o)
		_, err := Measure(context.Background(), &fakeBatch{}, o)
		require.Error(t, err, want)
		assert.Contains(t, err.Error(), want)
	}
}

func TestPromptsDeterministic(t *testing.T) {
	a := Prompts(4, 16, 100)
	b := Prompts(8, 16, 100)
	assert.Equal(t, a, b[:4])
	assert.NotEqual(t, a[0], a[1])
	for _, p := range b {
		for _, tok := range p {
			assert.True(t, tok >= 1 && tok < 100)
		}
	}
}

func TestReadFile(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, v any) string {
		b, err := json.Marshal(v)
		require.NoError(t, err)
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, b, 0o644))
		return p
	}
	c, err := Measure(context.Background(), &fakeBatch{}, opts())
	require.NoError(t, err)
	good := File{Identity: artifact.Identity{Schema: Schema, Backend: "llamacpp", Status: artifact.StatusOK, ModelSpec: "synthetic:tiny"}, Curve: &c}
	f, err := ReadFile(write("ok.json", good))
	require.NoError(t, err)
	assert.Equal(t, 64, f.Curve.MaxBatch)

	skipped := File{Identity: artifact.Identity{Schema: Schema, Backend: "openvino", Status: artifact.StatusSkipped, Reason: "no BatchDecoder"}}
	_, err = ReadFile(write("skip.json", skipped))
	require.NoError(t, err)

	bad := map[string]File{
		"schema":         {Identity: artifact.Identity{Schema: "x", Backend: "b", Status: artifact.StatusOK}},
		"no backend":     {Identity: artifact.Identity{Schema: Schema, Status: artifact.StatusOK}},
		"status":         {Identity: artifact.Identity{Schema: Schema, Backend: "b", Status: "meh"}},
		"no curve point": {Identity: artifact.Identity{Schema: Schema, Backend: "b", Status: artifact.StatusOK}},
	}
	for want, v := range bad {
		_, err := ReadFile(write("bad.json", v))
		require.Error(t, err, want)
		assert.Contains(t, err.Error(), want)
	}
	p := filepath.Join(dir, "garbage.json")
	require.NoError(t, os.WriteFile(p, []byte("{"), 0o644))
	_, err = ReadFile(p)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "garbage.json")
	_, err = ReadFile(filepath.Join(dir, "none.json"))
	require.Error(t, err)
}

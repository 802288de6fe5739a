// Package batch measures the batch curve: aggregate decode tokens/s with B
// concurrent sequences decoded together (each step sharing one read of the
// weights) for B = 1, 2, 4, ..., 64, and the ratio to B = 1.
//
// It drives any backend that implements transport.BatchDecoder. The curve is
// bounded by the context and memory the sequences need; where it stops short
// of the largest B the bound and its reason are recorded, never hidden.
package batch

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/fakbench/fakbench/internal/splitmix"
	"github.com/fakbench/fakbench/report"
	"github.com/fakbench/fakbench/transport"
	"github.com/fakbench/fakbench/transport/contract"
)

// Schema names the batch result format.
const Schema = "fakbench.batch/v1"

// DefaultBatches are the canonical curve points.
var DefaultBatches = []int{1, 2, 4, 8, 16, 32, 64}

// Options control a curve measurement.
type Options struct {
	// Batches are the B values in increasing order (DefaultBatches if nil).
	Batches []int
	// PromptTokens is each sequence's prompt length.
	PromptTokens int
	// Steps is the number of tokens decoded per sequence.
	Steps int
	// Reps is the number of measured repetitions per B (>= 1).
	Reps int
	// Warmup runs one untimed B=1 call first.
	Warmup bool
	// Vocab bounds the token IDs.
	Vocab int
	// MaxPositions is the total number of KV positions (all sequences
	// together) the backend can hold; 0 = no context bound.
	MaxPositions int
	// KVBytesPerPosition estimates the KV memory of one position; with
	// MemoryBytes it bounds B by memory. 0 = no memory bound.
	KVBytesPerPosition int64
	// MemoryBytes is the memory the curve may use for KV (for example half
	// of MemAvailable).
	MemoryBytes int64
}

// Point is one B of the curve, with every sample.
type Point struct {
	report.BatchPoint
	// PrefillMS is the median time to prefill all B prompts.
	PrefillMS        float64   `json:"prefill_ms"`
	PrefillSamplesMS []float64 `json:"prefill_samples_ms"`
	DecodeSamplesMS  []float64 `json:"decode_samples_ms"`
	// PerSequenceTPS is TokensPerSec / B: what one user sees.
	PerSequenceTPS float64 `json:"per_sequence_tps"`
	// MatchesB1 is true when sequence 0 (the same prompt at every B)
	// produced the same greedy tokens as at B = 1; FirstDivergence is the
	// first differing step otherwise, -1 when they match (batched
	// arithmetic may legitimately round differently; this is recorded, not
	// hidden).
	MatchesB1       bool `json:"matches_b1"`
	FirstDivergence int  `json:"first_divergence"`
}

// Curve is the measured curve.
type Curve struct {
	PromptTokens int     `json:"prompt_tokens"`
	Steps        int     `json:"steps"`
	Reps         int     `json:"reps"`
	Requested    []int   `json:"requested_batches"`
	Points       []Point `json:"points"`
	// MaxBatch is the largest B measured; Bound says why the curve stopped
	// there ("requested maximum" when nothing bounded it).
	MaxBatch int    `json:"max_batch"`
	Bound    string `json:"bound"`
	// SpeedupAtMax is the aggregate tok/s at MaxBatch over B = 1.
	SpeedupAtMax float64 `json:"speedup_at_max"`
}

// BatchPoints returns the report.BatchPoint form of the curve.
func (c Curve) BatchPoints() []report.BatchPoint {
	out := make([]report.BatchPoint, len(c.Points))
	for i, p := range c.Points {
		out[i] = p.BatchPoint
	}
	return out
}

// Prompts returns b deterministic prompts of n token IDs in [1, vocab).
// Prompt i is the same at every b, so sequence 0 can be compared across B.
func Prompts(b, n, vocab int) [][]transport.Token {
	span := uint64(max(vocab-1, 1))
	out := make([][]transport.Token, b)
	for s := range out {
		p := make([]transport.Token, n)
		for i := range p {
			z := splitmix.Mix(uint64(s)*splitmix.Gamma ^ uint64(i+1)*0xbf58476d1ce4e5b9)
			p[i] = transport.Token(1 + z%span)
		}
		out[s] = p
	}
	return out
}

// Bound returns how many of the requested batches fit, and the reason for
// the bound. The context bound is B * (prompt + steps) <= MaxPositions; the
// memory bound is B * (prompt + steps) * KVBytesPerPosition <= MemoryBytes.
func Bound(opts Options, batches []int) (int, string) {
	perSeq := int64(opts.PromptTokens + opts.Steps)
	for i, b := range batches {
		need := int64(b) * perSeq
		if opts.MaxPositions > 0 && need > int64(opts.MaxPositions) {
			return i, fmt.Sprintf("context: B=%d needs %d positions (%d x (%d prompt + %d steps)) > %d the backend holds",
				b, need, b, opts.PromptTokens, opts.Steps, opts.MaxPositions)
		}
		if opts.KVBytesPerPosition > 0 && opts.MemoryBytes > 0 && need*opts.KVBytesPerPosition > opts.MemoryBytes {
			return i, fmt.Sprintf("memory: B=%d needs %.1f MiB of KV cache (%d positions x %d bytes) > %.1f MiB allowed",
				b, float64(need*opts.KVBytesPerPosition)/(1<<20), need, opts.KVBytesPerPosition, float64(opts.MemoryBytes)/(1<<20))
		}
	}
	return len(batches), "requested maximum"
}

// Measure runs the curve on bd. A B that the backend refuses with an
// over-context error ends the curve there (the bound records the error);
// any other error fails the measurement.
func Measure(ctx context.Context, bd transport.BatchDecoder, opts Options) (Curve, error) {
	batches := opts.Batches
	if batches == nil {
		batches = DefaultBatches
	}
	if err := validate(opts, batches); err != nil {
		return Curve{}, err
	}
	c := Curve{PromptTokens: opts.PromptTokens, Steps: opts.Steps, Reps: opts.Reps, Requested: batches}
	n, bound := Bound(opts, batches)
	if n == 0 {
		return c, fmt.Errorf("batch curve: even B=%d does not fit: %s", batches[0], bound)
	}
	if opts.Warmup {
		if _, err := bd.DecodeBatch(ctx, Prompts(1, opts.PromptTokens, opts.Vocab), min(opts.Steps, 4)); err != nil {
			return c, fmt.Errorf("batch curve warm-up: %w", err)
		}
	}
	var ref []transport.Token
	for _, b := range batches[:n] {
		prompts := Prompts(b, opts.PromptTokens, opts.Vocab)
		p := Point{BatchPoint: report.BatchPoint{Batch: b}}
		var refused error
		for rep := 0; rep < opts.Reps; rep++ {
			res, err := bd.DecodeBatch(ctx, prompts, opts.Steps)
			if err != nil {
				if transport.IsOverContext(err) && rep == 0 && b != batches[0] {
					refused = err
					break
				}
				return c, fmt.Errorf("batch curve B=%d rep %d: %w", b, rep+1, err)
			}
			if err := check(res, b, opts.Steps); err != nil {
				return c, fmt.Errorf("batch curve B=%d rep %d: %w", b, rep+1, err)
			}
			tps := float64(b*opts.Steps) / res.DecodeElapsed.Seconds()
			p.SamplesTPS = append(p.SamplesTPS, tps)
			p.DecodeSamplesMS = append(p.DecodeSamplesMS, ms(res.DecodeElapsed))
			p.PrefillSamplesMS = append(p.PrefillSamplesMS, ms(res.PrefillElapsed))
			if rep == 0 {
				if b == batches[0] {
					ref = res.Tokens[0]
				}
				p.FirstDivergence = contract.Divergence(ref, res.Tokens[0])
				p.MatchesB1 = p.FirstDivergence < 0
			}
		}
		if refused != nil {
			bound = fmt.Sprintf("backend refused B=%d: %v", b, refused)
			break
		}
		p.TokensPerSec = report.Median(p.SamplesTPS)
		p.PerSequenceTPS = p.TokensPerSec / float64(b)
		p.PrefillMS = report.Median(p.PrefillSamplesMS)
		c.Points = append(c.Points, p)
	}
	base := c.Points[0].TokensPerSec
	for i := range c.Points {
		c.Points[i].SpeedupVsB1 = c.Points[i].TokensPerSec / base
	}
	last := c.Points[len(c.Points)-1]
	c.MaxBatch, c.Bound, c.SpeedupAtMax = last.Batch, bound, last.SpeedupVsB1
	return c, nil
}

func validate(opts Options, batches []int) error {
	switch {
	case len(batches) == 0:
		return errors.New("batch curve: no batch sizes")
	case opts.PromptTokens < 1:
		return fmt.Errorf("batch curve: prompt tokens = %d: want >= 1", opts.PromptTokens)
	case opts.Steps < 1:
		return fmt.Errorf("batch curve: steps = %d: want >= 1", opts.Steps)
	case opts.Reps < 1:
		return fmt.Errorf("batch curve: reps = %d: want >= 1", opts.Reps)
	case opts.Vocab < 2:
		return fmt.Errorf("batch curve: vocabulary size %d: want >= 2", opts.Vocab)
	}
	if !sort.IntsAreSorted(batches) || batches[0] < 1 {
		return fmt.Errorf("batch curve: batch sizes %v: want increasing values >= 1", batches)
	}
	for i := 1; i < len(batches); i++ {
		if batches[i] == batches[i-1] {
			return fmt.Errorf("batch curve: batch size %d repeated", batches[i])
		}
	}
	return nil
}

func check(res transport.BatchResult, b, steps int) error {
	if res.Sequences != b || len(res.Tokens) != b {
		return fmt.Errorf("backend returned %d sequences (%d token lists), want %d", res.Sequences, len(res.Tokens), b)
	}
	for i, t := range res.Tokens {
		if len(t) != steps {
			return fmt.Errorf("sequence %d has %d tokens, want %d", i, len(t), steps)
		}
	}
	if res.DecodeElapsed <= 0 {
		return fmt.Errorf("decode time %v: want > 0", res.DecodeElapsed)
	}
	return nil
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

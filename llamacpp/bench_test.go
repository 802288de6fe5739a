package llamacpp

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/fakbench/fakbench/adapters"
	"github.com/fakbench/fakbench/internal/env"
	"github.com/fakbench/fakbench/report"
	"github.com/fakbench/fakbench/transport"
)

// sweepConfig is one point of the settings sweep.
type sweepConfig struct {
	name  string
	extra map[string]string
}

// BenchmarkSettingsSweep measures prefill and decode throughput of the
// settings the tuned profile chooses between: flash attention on/off and a
// persistent thread pool on/off, at a short (128) and a long (1024) prompt,
// decoding 32 tokens after each. Every b.N iteration is one round over all
// configurations in turn, so a busy machine slows them alike; the reported
// figure per configuration is the best round (the least disturbed one).
// The model is FAK_BENCH_MODEL (a .gguf file or synthetic:PRESET[:TYPE]),
// by default synthetic:smol135m-untied:q8_0; threads FAK_BENCH_THREADS (default:
// physical cores). docs/llamacpp.md records the figures.
//
//	go test -run '^$' -bench SettingsSweep -benchtime 3x ./llamacpp/
func BenchmarkSettingsSweep(b *testing.B) {
	if err := Available(); err != nil {
		b.Skip(err)
	}
	spec := env.BenchModel.Value()
	if spec == "" {
		spec = "synthetic:smol135m-untied:q8_0"
	}
	threads, err := env.BenchThreads.Int(0)
	if err != nil {
		b.Fatal(err)
	}
	path := resolveBenchModel(b, spec)
	configs := []sweepConfig{
		{"fa-on_tp-on", map[string]string{"flash_attn": "on", "threadpool": "on"}},
		{"fa-off_tp-on", map[string]string{"flash_attn": "off", "threadpool": "on"}},
		{"fa-on_tp-off", map[string]string{"flash_attn": "on", "threadpool": "off"}},
		{"fa-off_tp-off", map[string]string{"flash_attn": "off", "threadpool": "off"}},
	}
	backends := make([]*Backend, len(configs))
	for i, c := range configs {
		be, err := Open(context.Background(), adapters.Options{ModelPath: path, Threads: threads, Extra: c.extra})
		if err != nil {
			b.Fatal(err)
		}
		defer be.Close()
		backends[i] = be.(*Backend)
	}
	const decode = 32
	prompts := []int{128, 1024}
	// samples[config][prompt] = per-round tokens/s (prefill, decode)
	type sample struct{ prefill, decode []float64 }
	samples := make([][]sample, len(configs))
	for i := range samples {
		samples[i] = make([]sample, len(prompts))
	}
	b.ResetTimer()
	for round := 0; round < b.N; round++ {
		for ci, be := range backends {
			for pi, n := range prompts {
				p, d, err := measure(be, seqTokens(n, be.Info().VocabSize, round+1), decode)
				if err != nil {
					b.Fatal(err)
				}
				samples[ci][pi].prefill = append(samples[ci][pi].prefill, float64(n)/p.Seconds())
				samples[ci][pi].decode = append(samples[ci][pi].decode, float64(decode)/d.Seconds())
			}
		}
	}
	b.StopTimer()
	for ci, c := range configs {
		for pi, n := range prompts {
			s := samples[ci][pi]
			b.ReportMetric(best(s.prefill), fmt.Sprintf("%s_prefill%d_tok/s", c.name, n))
			b.ReportMetric(best(s.decode), fmt.Sprintf("%s_decode@%d_tok/s", c.name, n))
			b.Logf("%-14s prompt %4d: prefill tok/s best %.1f median %.1f; decode tok/s best %.1f median %.1f",
				c.name, n, best(s.prefill), report.Median(s.prefill), best(s.decode), report.Median(s.decode))
		}
	}
}

// measure prefills toks on a fresh session (all but the last as prefix, the
// last as suffix: TTFT of the whole prompt) and decodes n tokens.
func measure(b *Backend, toks []transport.Token, n int) (prefill, decode time.Duration, err error) {
	ctx := context.Background()
	s, err := b.NewSession(ctx)
	if err != nil {
		return 0, 0, err
	}
	defer s.Close()
	start := time.Now()
	if _, err := s.EnsurePrefix(ctx, transport.PrefixInput{Tokens: toks[:len(toks)-1]}); err != nil {
		return 0, 0, err
	}
	if _, err := s.PrefillSuffix(ctx, transport.SuffixInput{Tokens: toks[len(toks)-1:]}); err != nil {
		return 0, 0, err
	}
	prefill = time.Since(start)
	start = time.Now()
	if _, err := s.Decode(ctx, n); err != nil {
		return 0, 0, err
	}
	return prefill, time.Since(start), nil
}

func best(xs []float64) float64 {
	m := 0.0
	for _, x := range xs {
		m = max(m, x)
	}
	return m
}

package llamacpp

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/fakbench/fakbench/adapters"
	"github.com/fakbench/fakbench/transport"
)

// BenchmarkSettings measures prefill and decode throughput of the settings
// the tuned profile chooses between: flash attention on/off and a
// persistent thread pool on/off, at a short and a long context. The model
// is FAK_BENCH_MODEL (a .gguf file or synthetic:PRESET[:TYPE]), by default
// synthetic:smol135m:q8_0. docs/llamacpp.md records the figures that chose
// the tuned defaults.
//
//	go test -run '^$' -bench Settings -benchtime 3x ./llamacpp/
func BenchmarkSettings(b *testing.B) {
	if err := Available(); err != nil {
		b.Skip(err)
	}
	spec := os.Getenv("FAK_BENCH_MODEL")
	if spec == "" {
		spec = "synthetic:smol135m:q8_0"
	}
	path := resolveBenchModel(b, spec)
	for _, fa := range []string{"on", "off"} {
		for _, tp := range []string{"on", "off"} {
			extra := map[string]string{"flash_attn": fa, "threadpool": tp}
			be, err := Open(context.Background(), adapters.Options{ModelPath: path, Extra: extra})
			if err != nil {
				b.Fatal(err)
			}
			bk := be.(*Backend)
			vocab := bk.Info().VocabSize
			for _, prompt := range []int{128, 1024} {
				name := fmt.Sprintf("fa=%s/threadpool=%s/prompt=%d", fa, tp, prompt)
				b.Run(name, func(b *testing.B) {
					const decode = 32
					var prefill, dec time.Duration
					for i := 0; i < b.N; i++ {
						s, err := bk.NewSession(context.Background())
						if err != nil {
							b.Fatal(err)
						}
						toks := seqTokens(prompt, vocab, i+1)
						start := time.Now()
						if _, err := s.EnsurePrefix(context.Background(), transport.PrefixInput{Tokens: toks[:prompt-1]}); err != nil {
							b.Fatal(err)
						}
						if _, err := s.PrefillSuffix(context.Background(), transport.SuffixInput{Tokens: toks[prompt-1:]}); err != nil {
							b.Fatal(err)
						}
						prefill += time.Since(start)
						start = time.Now()
						if _, err := s.Decode(context.Background(), decode); err != nil {
							b.Fatal(err)
						}
						dec += time.Since(start)
						_ = s.Close()
					}
					b.ReportMetric(float64(prompt*b.N)/prefill.Seconds(), "prefill_tok/s")
					b.ReportMetric(float64(decode*b.N)/dec.Seconds(), "decode_tok/s")
				})
			}
			_ = be.Close()
		}
	}
}

package openvino

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/fakbench/fakbench/adapters"
	"github.com/fakbench/fakbench/gguf"
	"github.com/fakbench/fakbench/internal/env"
	"github.com/fakbench/fakbench/transport"
)

// smol135m is the SmolLM2-135M shape of synthetic:smol135m-untied.
var smol135m = tinyShape{embd: 576, layers: 30, heads: 9, kvHeads: 3, ffn: 1536, vocab: 49152, ctx: 2048}

// BenchmarkSmol135mQ8 measures conversion, compile, prefill and decode on
// the SmolLM2-135M shape in q8_0 with random weights, one sub-benchmark per
// OpenVINO row: stateful (fakbench's IR, KV cache as variable state: the
// openvino row), stateful-u8 (the same with the plugin's default u8 KV
// cache, which the row does not use: see docs/openvino.md), explicit (the
// explicit-kv ablation) and gguf (OpenVINO's GGUF frontend, openvino-gguf).
// FAK_BENCH_THREADS sets the thread count (default 2), FAK_BENCH_MODEL a
// GGUF to use instead and FAK_BENCH_IR_CACHE where to keep the IR (default:
// a fresh temporary directory per benchmark invocation, so the conversion
// is measured; with a shared directory the IR is reused and convert-ms
// reads 0).
//
//	go test -run '^$' -bench 'Smol135mQ8/stateful$' -benchtime 1x ./openvino/
func BenchmarkSmol135mQ8(b *testing.B) {
	for _, c := range []struct {
		name     string
		frontend bool
		extra    map[string]string
	}{
		{"stateful", false, nil},
		{"stateful-u8", false, map[string]string{ExtraKVCachePrecision: "u8"}},
		{"explicit", false, map[string]string{ExtraKVCache: kvExplicit}},
		{"gguf", true, nil},
	} {
		b.Run(c.name, func(b *testing.B) { benchSmol(b, c.frontend, c.extra) })
	}
}

func benchSmol(b *testing.B, frontend bool, extra map[string]string) {
	if err := AvailableStateful(); err != nil {
		b.Skipf("OpenVINO runtime or fakbench's library unavailable: %v", err)
	}
	path := env.BenchModel.Value()
	if path == "" {
		path = writeTinyGGUF(b, b.TempDir(), smol135m, gguf.TypeQ8_0, 1, false)
	}
	threads, err := env.BenchThreads.Int(2)
	require.NoError(b, err)
	opts := adapters.Options{ModelPath: path, Threads: threads, ContextLength: 1024, Extra: map[string]string{}}
	for k, v := range extra {
		opts.Extra[k] = v
	}
	open := OpenGGUF
	if !frontend {
		open = Open
		cache := env.BenchIRCache.Value()
		if cache == "" {
			cache = filepath.Join(b.TempDir(), "ir")
		}
		opts.Extra[ExtraIRCacheDir] = cache
	}
	be, err := open(bg, opts)
	require.NoError(b, err)
	defer be.Close()
	b.ReportMetric(float64(be.ConvertTime.Milliseconds()), "convert-ms")
	b.ReportMetric(float64(be.CompileTime.Milliseconds()), "compile-ms")
	b.Logf("%s: inference precision %s, KV cache precision %s, attention %s", be.Name(),
		be.Settings()["effective.INFERENCE_PRECISION_HINT"], be.Settings()["effective.KV_CACHE_PRECISION"], be.Settings()["runtime_attention"])

	prompt := make([]transport.Token, 512)
	for i := range prompt {
		prompt[i] = transport.Token((i*7919 + 13) % smol135m.vocab)
	}
	const steps = 64
	var prefill, decode time.Duration
	for i := 0; i < b.N+1; i++ { // the first round is a discarded warm-up
		s, err := be.NewSession(bg)
		require.NoError(b, err)
		t0 := time.Now()
		_, err = s.EnsurePrefix(bg, transport.PrefixInput{Tokens: prompt[:len(prompt)-1]})
		require.NoError(b, err)
		_, err = s.PrefillSuffix(bg, transport.SuffixInput{Tokens: prompt[len(prompt)-1:]})
		require.NoError(b, err)
		p := time.Since(t0)
		d, err := s.Decode(bg, steps)
		require.NoError(b, err)
		require.NoError(b, s.Close())
		if i > 0 {
			prefill += p
			decode += d.Elapsed
		}
	}
	b.ReportMetric(float64(len(prompt)*b.N)/prefill.Seconds(), "prefill-tok/s")
	b.ReportMetric(float64(steps*b.N)/decode.Seconds(), "decode-tok/s")
}

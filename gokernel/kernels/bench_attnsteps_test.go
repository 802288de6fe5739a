package kernels

import (
	"math/rand/v2"
	"testing"
)

// BenchmarkAttentionSteps times, one call each, the per-token attention
// kernels BenchmarkAttentionRows leaves out: one query's scores against a
// transposed block of 64 f16 keys (ScoresF16T with nq = 1, the kernel for a
// group's last query), the softmax numerators of 1024 scores
// (ExpShiftSumF32s, a context of 1k) and one token's key store (F32ToF16s,
// 192 values: the smol135m-untied KV width).
func BenchmarkAttentionSteps(b *testing.B) {
	rng := rand.New(rand.NewPCG(11, 11))
	const hd, ctx, kvWidth = 64, 1024, 192
	kt := make([]byte, 2*hd*KeyBlock)
	for j := 0; j < KeyBlock; j++ {
		PutKeyT(kt, j, randF32(rng, hd))
	}
	q := randF32(rng, hd)
	scores := make([]float32, KeyBlock)
	b.Run("ScoresF16T-1q", func(b *testing.B) {
		benchSets(b, func(b *testing.B) {
			b.SetBytes(2 * hd * KeyBlock)
			for b.Loop() {
				ScoresF16T(scores, q, hd, 1, kt, hd)
			}
		})
	})
	s0 := randF32(rng, ctx)
	s := make([]float32, ctx)
	b.Run("ExpShiftSumF32s", func(b *testing.B) {
		benchSets(b, func(b *testing.B) {
			b.SetBytes(8 * ctx)
			for b.Loop() {
				copy(s, s0)
				benchSink += ExpShiftSumF32s(s, 3)
			}
		})
	})
	kv := randF32(rng, kvWidth)
	kv16 := make([]byte, 2*kvWidth)
	b.Run("F32ToF16s", func(b *testing.B) {
		benchSets(b, func(b *testing.B) {
			b.SetBytes(6 * kvWidth)
			for b.Loop() {
				F32ToF16s(kv16, kv)
			}
		})
	})
}

package models

import (
	"sort"

	"github.com/fakbench/fakbench/transport"
)

// top2 returns the argmax and the lead of the best logit over the runner-up.
func top2(l []float64) (int, float64) {
	best, second := 0, -1
	for i := 1; i < len(l); i++ {
		if l[i] > l[best] {
			best, second = i, best
		} else if second < 0 || l[i] > l[second] {
			second = i
		}
	}
	return best, l[best] - l[second]
}

// randomTokens draws n token ids (never control tokens) from a splitmix stream.
func randomTokens(seed uint64, n, vocab int) []transport.Token {
	r := rng{seed}
	out := make([]transport.Token, n)
	for i := range out {
		out[i] = transport.Token(firstByte + r.intn(vocab-firstByte))
	}
	return out
}

func quantile(xs []float64, q float64) float64 {
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	return s[int(q*float64(len(s)-1))]
}

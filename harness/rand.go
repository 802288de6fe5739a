package harness

import (
	"github.com/fakbench/fakbench/internal/splitmix"
	"github.com/fakbench/fakbench/transport"
)

// tokenRand draws token IDs from SplitMix64, so that they never depend on
// the Go version's math/rand streams: the same seed gives the same IDs on
// every build and machine.
type tokenRand struct{ splitmix.Rand }

// newTokenRand returns a generator for one named stream of a seed, so that
// adding a stream never shifts the IDs of another.
func newTokenRand(seed uint64, stream uint64) *tokenRand {
	r := &tokenRand{splitmix.Rand{State: seed ^ (stream * splitmix.Gamma)}}
	// Stir once so that neighbouring seeds do not start on related values.
	r.Next()
	return r
}

// below returns a uniform integer in [0, n) for n > 0, without modulo bias.
func (r *tokenRand) below(n uint64) uint64 {
	// Reject the top partial block of the 64-bit range.
	limit := ^uint64(0) - (^uint64(0) % n)
	for {
		v := r.Next()
		if v < limit {
			return v % n
		}
	}
}

// tokens draws n token IDs uniformly from [lo, hi).
func (r *tokenRand) tokens(n int, lo, hi int) []transport.Token {
	out := make([]transport.Token, n)
	span := uint64(hi - lo)
	for i := range out {
		out[i] = transport.Token(lo + int(r.below(span)))
	}
	return out
}

// other draws a token from [lo, hi) different from t (hi-lo must be >= 2).
func (r *tokenRand) other(t transport.Token, lo, hi int) transport.Token {
	span := uint64(hi - lo - 1)
	v := transport.Token(lo + int(r.below(span)))
	if v >= t {
		v++
	}
	return v
}

package harness

import "github.com/fakbench/fakbench/transport"

// tokenRand is a small deterministic generator (SplitMix64). The harness
// owns it so that token IDs never depend on the Go version's math/rand
// streams: the same seed gives the same IDs on every build and machine.
type tokenRand struct {
	state uint64
}

// newTokenRand returns a generator for one named stream of a seed, so that
// adding a stream never shifts the IDs of another.
func newTokenRand(seed uint64, stream uint64) *tokenRand {
	r := &tokenRand{state: seed ^ (stream * 0x9e3779b97f4a7c15)}
	// Stir once so that neighbouring seeds do not start on related values.
	r.next()
	return r
}

func (r *tokenRand) next() uint64 {
	r.state += 0x9e3779b97f4a7c15
	z := r.state
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// below returns a uniform integer in [0, n) for n > 0, without modulo bias.
func (r *tokenRand) below(n uint64) uint64 {
	// Reject the top partial block of the 64-bit range.
	limit := ^uint64(0) - (^uint64(0) % n)
	for {
		v := r.next()
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

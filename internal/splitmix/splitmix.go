// Package splitmix is SplitMix64, a tiny deterministic generator whose
// output depends on its seed alone, never on the Go version or the
// machine: the token IDs of a scenario, a workload replay and the batch
// curve come from it, so the same seed gives the same IDs on every build.
package splitmix

// Gamma is the generator's increment, 2^64 over the golden ratio.
const Gamma = 0x9e3779b97f4a7c15

// Mix is the generator's output function: it scrambles z so that every bit
// of the result depends on every bit of z.
func Mix(z uint64) uint64 {
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// Rand is the generator; State is its seed, then its position.
type Rand struct{ State uint64 }

// Next advances the state by Gamma and returns it mixed.
func (r *Rand) Next() uint64 {
	r.State += Gamma
	return Mix(r.State)
}

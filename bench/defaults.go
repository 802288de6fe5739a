package bench

import "github.com/fakbench/fakbench/internal/host"

// The measured repetitions of a comparison when none are given: DefaultReps
// for a full run, ShortReps for a short one.
const (
	DefaultReps = 5
	ShortReps   = 2
)

// Defaults fills the repetitions (when repsGiven is false: DefaultReps, or
// ShortReps when Short) and the thread count (0: the physical cores).
func (o *Options) Defaults(repsGiven bool) {
	if !repsGiven {
		o.Reps = DefaultReps
		if o.Short {
			o.Reps = ShortReps
		}
	}
	if o.Threads == 0 {
		o.Threads = host.PhysicalCores()
	}
}

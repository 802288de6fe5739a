package bench

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestOptionsDefaults(t *testing.T) {
	o := Options{}
	o.Defaults(false)
	assert.Equal(t, DefaultReps, o.Reps)
	assert.Positive(t, o.Threads)

	o = Options{Short: true, Threads: 2}
	o.Defaults(false)
	assert.Equal(t, ShortReps, o.Reps)
	assert.Equal(t, 2, o.Threads)

	o = Options{Short: true, Reps: 7}
	o.Defaults(true)
	assert.Equal(t, 7, o.Reps, "given repetitions are kept")
}

package splitmix

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// The reference values of SplitMix64 seeded with 0 and 1234567, as its
// authors' C code (and Java's SplittableRandom) gives them.
func TestNextMatchesTheReferenceSequence(t *testing.T) {
	r := Rand{}
	assert.Equal(t, []uint64{0xe220a8397b1dcdaf, 0x6e789e6aa1b965f4, 0x06c45d188009454f},
		[]uint64{r.Next(), r.Next(), r.Next()})
	r = Rand{State: 1234567}
	assert.Equal(t, []uint64{6457827717110365317, 3203168211198807973, 9817491932198370423},
		[]uint64{r.Next(), r.Next(), r.Next()})
}

func TestMixIsNextsOutput(t *testing.T) {
	r := Rand{State: 42}
	state := uint64(42)
	for range 3 {
		state += Gamma // wraps around, as the generator's does
		assert.Equal(t, Mix(state), r.Next())
		assert.Equal(t, state, r.State)
	}
	assert.Equal(t, uint64(0), Mix(0), "zero is a fixed point of the mix")
}

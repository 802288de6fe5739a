package bench

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestQuoteIfSpaced(t *testing.T) {
	assert.Equal(t, "-O3", quoteIfSpaced("-O3"))
	assert.Equal(t, `"-O3 -march=native"`, quoteIfSpaced("-O3 -march=native"))
}

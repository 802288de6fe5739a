package batch

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseSizes(t *testing.T) {
	bs, err := ParseSizes("1, 2,8")
	require.NoError(t, err)
	assert.Equal(t, []int{1, 2, 8}, bs)
	for _, bad := range []string{"", "0", "x", "2,2"} {
		_, err := ParseSizes(bad)
		assert.Error(t, err, bad)
	}
}

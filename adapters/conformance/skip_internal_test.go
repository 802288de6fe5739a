package conformance

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCheckSkips(t *testing.T) {
	assert.NoError(t, checkSkips(nil))
	assert.NoError(t, checkSkips([]string{"Cancel", "TwoSessions"}))
	err := checkSkips([]string{"Cancel", "Cancle"})
	require.Error(t, err)
	assert.Contains(t, err.Error(), `"Cancle", which is not a check`)
	assert.NotContains(t, err.Error(), `"Cancel"`)
}

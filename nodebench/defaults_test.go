package nodebench

import (
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fakbench/fakbench/internal/env"
)

func TestConfigDefaults(t *testing.T) {
	var c Config
	c.Defaults()
	assert.Equal(t, DefaultModel, c.Model)
	assert.NotEmpty(t, c.HostLabel)
	assert.NotContains(t, c.HostLabel, ".")
	assert.Positive(t, c.Threads)

	c = Config{Short: true, HostLabel: "node-a", Threads: 3}
	c.Defaults()
	assert.Equal(t, ShortModel, c.Model)
	assert.Equal(t, "node-a", c.HostLabel)
	assert.Equal(t, 3, c.Threads)

	c = Config{Short: true, Model: "synthetic:tiny"}
	c.Defaults()
	assert.Equal(t, "synthetic:tiny", c.Model)
}

func TestSetShortCaps(t *testing.T) {
	t.Setenv(env.WorkloadPrefillCap.Name, "")
	require.NoError(t, os.Unsetenv(env.WorkloadPrefillCap.Name)) // restored by t.Setenv
	t.Setenv(env.WorkloadPromptCap.Name, "40")
	require.NoError(t, SetShortCaps())
	prompt, err := env.WorkloadPromptCap.Int(0)
	require.NoError(t, err)
	assert.Equal(t, 40, prompt, "a cap the environment sets is kept")
	prefill, err := env.WorkloadPrefillCap.Int(0)
	require.NoError(t, err)
	assert.Equal(t, ShortCap, prefill)
}

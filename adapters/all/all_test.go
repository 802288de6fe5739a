package all_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fakbench/fakbench/adapters"
	_ "github.com/fakbench/fakbench/adapters/all"
)

func TestEveryInRepoBackendRegisters(t *testing.T) {
	names := adapters.Names()
	for _, want := range []string{"gokernel", "llamacpp", "openvino", "openvino-gguf"} {
		assert.Contains(t, names, want)
		e, err := adapters.Lookup(want)
		require.NoError(t, err, want)
		assert.NotNil(t, e.Open, want)
		assert.NotEmpty(t, e.Description, want)
	}
	gk, err := adapters.Lookup("gokernel")
	require.NoError(t, err)
	assert.False(t, gk.Caps.Native, "the Go kernel needs no native library")
	for _, native := range []string{"llamacpp", "openvino", "openvino-gguf"} {
		e, err := adapters.Lookup(native)
		require.NoError(t, err)
		assert.True(t, e.Caps.Native, "%s needs a native library", native)
	}
}

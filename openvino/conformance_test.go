package openvino

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/fakbench/fakbench/adapters"
	"github.com/fakbench/fakbench/adapters/conformance"
	"github.com/fakbench/fakbench/gguf"
	"github.com/fakbench/fakbench/transport"
)

// TestConformance runs the contract kit against the OpenVINO adapter on a
// tiny q8_0 model (the IR is written once and then taken from the cache).
// It runs on the plugin's tuned defaults, as a benchmark row does: the kit
// compares the backend with itself (warm and cold, on greedy tokens), and
// passed so on the AMX Xeon with bf16 inference and int8 activations.
func TestConformance(t *testing.T) {
	requireRuntime(t)
	path := writeTinyGGUF(t, t.TempDir(), tiny, gguf.TypeQ8_0, 5, false)
	conformance.Run(t, func(t *testing.T) transport.Backend {
		b, err := adapters.Open(bg, "openvino", adapters.Options{ModelPath: path, Threads: 2, ContextLength: 256})
		require.NoError(t, err)
		t.Cleanup(func() { _ = b.Close() })
		return b
	}, conformance.Options{})
}

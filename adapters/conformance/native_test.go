// The native backends are left out of race builds: the race detector does
// not look into C code, and a race build would compile llama.cpp again.

//go:build !race

package conformance_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/fakbench/fakbench/adapters"
	"github.com/fakbench/fakbench/adapters/conformance"
	_ "github.com/fakbench/fakbench/llamacpp"
	"github.com/fakbench/fakbench/models"
	_ "github.com/fakbench/fakbench/openvino"
	"github.com/fakbench/fakbench/transport"
)

// openNative opens a native backend on the tiny model, skipping the test
// (with the backend's reason) where its engine cannot run here.
func openNative(name string) func(t *testing.T) transport.Backend {
	return func(t *testing.T) transport.Backend {
		t.Helper()
		path, err := models.Path("synthetic:tiny")
		require.NoError(t, err)
		// One thread: native thread pools spin, which on a loaded machine
		// costs far more than a second thread gains on the tiny model.
		b, err := adapters.Open(context.Background(), name, adapters.Options{ModelPath: path, Threads: 1})
		if transport.IsUnavailable(err) {
			t.Skipf("%s unavailable here: %v", name, err)
		}
		require.NoError(t, err)
		t.Cleanup(func() { _ = b.Close() })
		return b
	}
}

// llama.cpp passes the whole kit through its adapter, Cancel included (a
// late cancellation watcher once raised the abort flag during the next
// call; each watcher is now tied to its own call).
func TestLlamacppConformance(t *testing.T) {
	conformance.Run(t, openNative("llamacpp"), conformance.Options{})
}

// OpenVINO passes the kit through its adapter.
func TestOpenvinoConformance(t *testing.T) {
	conformance.Run(t, openNative("openvino"), conformance.Options{})
}

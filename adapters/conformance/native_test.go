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
	"github.com/fakbench/fakbench/internal/env"
	_ "github.com/fakbench/fakbench/llamacpp"
	"github.com/fakbench/fakbench/models"
	_ "github.com/fakbench/fakbench/openvino"
	"github.com/fakbench/fakbench/transport"
)

// requireVar is, per native backend, the variable that turns its tests'
// skip into a failure where the backend cannot run (docs/env.md).
var requireVar = map[string]*env.BoolVar{"llamacpp": env.RequireLlamacpp, "openvino": env.RequireOpenVINO,
	"openvino-gguf": env.RequireOpenVINO}

// unavailable ends t because backend name cannot run here (err says why):
// a skip with the reason, or a failure when the backend's FAK_REQUIRE_*
// variable is 1 (or not a valid boolean).
func unavailable(t testing.TB, name string, err error) {
	t.Helper()
	v, ok := requireVar[name]
	if !ok {
		t.Fatalf("no FAK_REQUIRE_* variable is declared for backend %s (requireVar)", name)
		return
	}
	v.SkipIfMissing(t, err)
}

// openNative opens a native backend on the tiny model; where its engine
// cannot run here the test skips with the backend's reason, or fails when
// FAK_REQUIRE_LLAMACPP / FAK_REQUIRE_OPENVINO asks for the backend.
func openNative(name string) func(t *testing.T) transport.Backend {
	return openNativeExtra(name, nil)
}

// openNativeExtra is openNative with backend options (an ablation row's).
func openNativeExtra(name string, extra map[string]string) func(t *testing.T) transport.Backend {
	return func(t *testing.T) transport.Backend {
		t.Helper()
		path, err := models.Path("synthetic:tiny")
		require.NoError(t, err)
		// One thread: native thread pools spin, which on a loaded machine
		// costs far more than a second thread gains on the tiny model.
		b, err := adapters.Open(context.Background(), name, adapters.Options{ModelPath: path, Threads: 1, Extra: extra})
		if transport.IsUnavailable(err) {
			unavailable(t, name, err)
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

// OpenVINO passes the kit through its adapter: the tuned row (fakbench's
// stateful IR), its explicit-kv ablation and the GGUF frontend's row.
func TestOpenvinoConformance(t *testing.T) {
	conformance.Run(t, openNative("openvino"), conformance.Options{})
}

func TestOpenvinoExplicitKVConformance(t *testing.T) {
	e, err := adapters.Lookup("openvino")
	require.NoError(t, err)
	ab, ok := e.Ablation("explicit-kv")
	require.True(t, ok)
	conformance.Run(t, openNativeExtra("openvino", ab.Extra), conformance.Options{})
}

func TestOpenvinoGGUFConformance(t *testing.T) {
	conformance.Run(t, openNative("openvino-gguf"), conformance.Options{})
}

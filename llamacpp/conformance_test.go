package llamacpp_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/fakbench/fakbench/adapters"
	"github.com/fakbench/fakbench/adapters/conformance"
	"github.com/fakbench/fakbench/llamacpp"
	"github.com/fakbench/fakbench/models"
	"github.com/fakbench/fakbench/transport"
)

// The llama.cpp adapter passes the whole conformance kit on the tuned
// profile, with f32 and q8_0 weights. (The untuned profile runs llama.cpp's
// default 4 threads whatever the machine, which on a busy 2-core box makes
// the kit take minutes; TestUntunedProfile covers it.)
func TestConformance(t *testing.T) {
	llamacpp.RequireNative(t)
	for _, typ := range []string{"f32", "q8_0"} {
		t.Run(typ, func(t *testing.T) {
			path, err := models.Path("synthetic:tiny:" + typ)
			require.NoError(t, err)
			conformance.Run(t, func(t *testing.T) transport.Backend {
				b, err := adapters.Open(context.Background(), "llamacpp", adapters.Options{ModelPath: path, Threads: 1})
				require.NoError(t, err)
				t.Cleanup(func() { _ = b.Close() })
				return b
			}, conformance.Options{})
		})
	}
}

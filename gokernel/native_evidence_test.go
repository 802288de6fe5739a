package gokernel

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/fakbench/fakbench/adapters"
	"github.com/fakbench/fakbench/adapters/conformance"
	"github.com/fakbench/fakbench/models"
)

// The kernel's KV length (its native cache state) equals what its sessions
// report, step by step and on a short harness run.
func TestNativeCacheEqualsBookkeeping(t *testing.T) {
	path, err := models.Path("synthetic:tiny")
	require.NoError(t, err)
	b, err := Open(context.Background(), adapters.Options{ModelPath: path, Threads: 2})
	require.NoError(t, err)
	t.Cleanup(func() { _ = b.Close() })
	conformance.NativeEvidence(t, b, "gokernel: the KV cache's length")
}

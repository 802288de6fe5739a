package llamacpp

import (
	"context"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fakbench/fakbench/adapters"
	"github.com/fakbench/fakbench/transport"
)

// rss is the resident set size of this process in bytes (/proc/self/statm).
func rss(t *testing.T) int64 {
	t.Helper()
	data, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		t.Skipf("no /proc/self/statm: %v", err)
	}
	f := strings.Fields(string(data))
	require.GreaterOrEqual(t, len(f), 2)
	pages, err := strconv.ParseInt(f[1], 10, 64)
	require.NoError(t, err)
	return pages * int64(os.Getpagesize())
}

// cycle opens the model, runs a session with a prefill and a few decode
// steps, a batch of two, calls held (when not nil) with all of it still
// open, and closes everything.
func cycle(t *testing.T, path string, held func()) {
	ctx := context.Background()
	b, err := Open(ctx, adapters.Options{ModelPath: path, Threads: 1})
	require.NoError(t, err)
	s, err := b.NewSession(ctx)
	require.NoError(t, err)
	toks := seqTokens(32, b.Info().VocabSize, 1)
	_, err = s.EnsurePrefix(ctx, transport.PrefixInput{Tokens: toks[:31]})
	require.NoError(t, err)
	_, err = s.PrefillSuffix(ctx, transport.SuffixInput{Tokens: toks[31:]})
	require.NoError(t, err)
	_, err = s.Decode(ctx, 4)
	require.NoError(t, err)
	_, err = b.(transport.BatchDecoder).DecodeBatch(ctx, [][]transport.Token{toks[:8], toks[8:12]}, 2)
	require.NoError(t, err)
	if held != nil {
		held()
	}
	require.NoError(t, s.Close())
	require.NoError(t, b.Close())
}

// settled is RSS and C heap in use after a GC and a heap trim, so that
// memory glibc keeps for reuse does not count as live.
func settled(t *testing.T) (rssBytes, heap int64) {
	runtime.GC()
	nativeHeapTrim()
	return rss(t), nativeHeapInUse()
}

// TestOpenCloseNoLeak runs 100 open/use/close cycles (model load, a session
// with prefill and decode, a batch of two) and bounds what stays behind.
//
// Bounds, with F = one cycle's footprint (measured with a cycle held open:
// the model mapping and weights, a context with KV cache, compute buffers,
// batch and thread pool):
//
//   - RSS, after a GC and malloc_trim: growth < max(16 MiB, 10 x F). A leak
//     of a tenth of a cycle or more would grow it by 100 x that.
//   - C heap in use (glibc mallinfo2): growth < 8 KiB per cycle. llama.cpp
//     itself keeps about 2.3 KiB per llama_model_load_from_file/free pair at
//     this commit (measured with nothing else in the loop); a leaked context,
//     batch (~100 KiB at n_batch 2048) or thread pool is far larger.
func TestOpenCloseNoLeak(t *testing.T) {
	requireNative(t)
	path := tinyModel(t, "f32")
	for i := 0; i < 5; i++ { // one-time allocations (backend init, arenas)
		cycle(t, path, nil)
	}
	rss0, heap0 := settled(t)
	var rss1 int64
	cycle(t, path, func() { rss1, _ = settled(t) })
	footprint := rss1 - rss0

	const cycles = 100
	for i := 0; i < cycles; i++ {
		cycle(t, path, nil)
	}
	rss2, heap2 := settled(t)
	growth := rss2 - rss0
	bound := max(int64(16<<20), 10*footprint)
	t.Logf("footprint of one cycle %d KiB; after %d cycles RSS %+d KiB (bound %d KiB), C heap %+d B", footprint>>10, cycles, growth>>10, bound>>10, heap2-heap0)
	assert.Less(t, growth, bound, "RSS grew by %d bytes over %d open/close cycles", growth, cycles)
	if heap0 >= 0 {
		assert.Less(t, heap2-heap0, int64(cycles*8<<10), "C heap in use grew by %d bytes over %d cycles", heap2-heap0, cycles)
	}
}

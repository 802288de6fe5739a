package gguf

import (
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// rssFileKiB is the process's resident file-backed memory (Linux).
func rssFileKiB(t *testing.T) int {
	b, err := os.ReadFile("/proc/self/status")
	require.NoError(t, err)
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "RssFile:" {
			n, err := strconv.Atoi(f[1])
			require.NoError(t, err)
			return n
		}
	}
	t.Skip("no RssFile in /proc/self/status")
	return 0
}

// Evict drops a mapped tensor's pages from the resident set and leaves its
// contents readable and unchanged; it never touches memory that is not a
// file mapping (a Parse'd file's bytes, a slice from elsewhere).
func TestEvict(t *testing.T) {
	const n = 4 << 20 // f32 values: 16 MiB
	vals := make([]byte, 4*n)
	for i := range vals {
		vals[i] = byte(i*7 + 1)
	}
	w := NewWriter()
	require.NoError(t, w.AddKV("general.architecture", "llama"))
	require.NoError(t, w.AddTensor("big", TypeF32, []uint64{n}, vals))
	path := filepath.Join(t.TempDir(), "big.gguf")
	require.NoError(t, w.WriteFile(path))

	f, err := Open(path)
	require.NoError(t, err)
	defer f.Close()
	d, err := f.TensorData("big")
	require.NoError(t, err)
	require.Equal(t, vals, d) // touches every page
	if runtime.GOOS == "linux" {
		before := rssFileKiB(t)
		f.Evict(d)
		after := rssFileKiB(t)
		t.Logf("RssFile %d KiB -> %d KiB", before, after)
		assert.GreaterOrEqual(t, before-after, 12<<10, "at least 12 of the 16 MiB leave the resident set")
	} else {
		f.Evict(d)
	}
	assert.Equal(t, vals, d, "contents after eviction")
	f.Evict(vals)     // not part of the mapping: ignored
	f.Evict(d[10:20]) // no whole page inside: ignored
	assert.Equal(t, byte(1), vals[0])

	// A file parsed from memory is never evicted (MADV_DONTNEED on heap
	// memory would zero it).
	raw, err := os.ReadFile(path)
	require.NoError(t, err)
	pf, err := Parse("mem.gguf", raw)
	require.NoError(t, err)
	pd, err := pf.TensorData("big")
	require.NoError(t, err)
	pf.Evict(pd)
	assert.Equal(t, vals, pd)

	require.NoError(t, f.Close())
	f.Evict(d[:0]) // closed: ignored, no crash
}

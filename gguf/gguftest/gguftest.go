// Package gguftest writes edited copies of GGUF files for tests: a model
// without its tokenizer, or one with metadata keys replaced or left out, to
// see how a reader or a backend takes it.
package gguftest

import (
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/fakbench/fakbench/gguf"
)

// Rewrite copies the GGUF file src to dst with its metadata edited: the
// keys drop reports true for (nil: none) are left out, and the keys of set
// are added or replaced, after the others in sorted order. The tensors are
// copied as they are, at the writer's alignment (src's general.alignment is
// not copied). Any failure fails the test.
func Rewrite(t testing.TB, src, dst string, set map[string]any, drop func(key string) bool) {
	t.Helper()
	RewriteTensors(t, src, dst, set, drop, nil)
}

// Zeros is a tensor RewriteTensors writes in place of one of src's: zero
// bytes of type Type and dims Dims (nil: the replaced tensor's dims).
type Zeros struct {
	Type gguf.TensorType
	Dims []uint64
}

// RewriteTensors is Rewrite with the tensors named in zeros written as
// their Zeros instead of copied: a tensor of another type or shape than
// the file says, whose values the test does not need.
func RewriteTensors(t testing.TB, src, dst string, set map[string]any, drop func(key string) bool, zeros map[string]Zeros) {
	t.Helper()
	f, err := gguf.Open(src)
	require.NoError(t, err)
	defer f.Close()
	w := gguf.NewWriter()
	for _, kv := range f.KVs {
		_, replaced := set[kv.Key]
		if replaced || kv.Key == gguf.AlignmentKey || (drop != nil && drop(kv.Key)) {
			continue
		}
		require.NoError(t, w.AddKV(kv.Key, kv.Value), kv.Key)
	}
	for _, k := range slices.Sorted(maps.Keys(set)) {
		require.NoError(t, w.AddKV(k, set[k]), k)
	}
	for _, ti := range f.Tensors {
		if z, ok := zeros[ti.Name]; ok {
			dims := z.Dims
			if dims == nil {
				dims = ti.Dims
			}
			size, err := z.Type.RowSize(int64(dims[0]))
			require.NoError(t, err, ti.Name)
			for _, d := range dims[1:] {
				size *= int64(d)
			}
			require.NoError(t, w.AddTensor(ti.Name, z.Type, dims, make([]byte, size)), ti.Name)
			continue
		}
		data, err := f.TensorData(ti.Name)
		require.NoError(t, err, ti.Name)
		require.NoError(t, w.AddTensor(ti.Name, ti.Type, ti.Dims, data), ti.Name)
	}
	require.NoError(t, w.WriteFile(dst))
}

// NoTokenizer writes a copy of the GGUF file src without its tokenizer.*
// metadata (a model that takes token IDs only) into a temporary folder of
// t, and returns its path.
func NoTokenizer(t testing.TB, src string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "no-tokenizer.gguf")
	Rewrite(t, src, dst, nil, func(key string) bool { return strings.HasPrefix(key, "tokenizer.") })
	return dst
}

package openvino

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fakbench/fakbench/adapters"
	"github.com/fakbench/fakbench/gguf"
	"github.com/fakbench/fakbench/gguf/gguftest"
	"github.com/fakbench/fakbench/internal/env"
	"github.com/fakbench/fakbench/transport"
)

// emptyEnv is a search environment where nothing is installed; vars are
// its environment (FAK_OPENVINO_LIB included).
func emptyEnv(t *testing.T, vars map[string]string) searchEnv {
	dir := t.TempDir()
	return searchEnv{
		lib:        vars[env.OpenVINOLib.Name],
		getenv:     func(k string) string { return vars[k] },
		executable: func() (string, error) { return filepath.Join(dir, "bin", "fakbench"), nil },
		workdir:    func() (string, error) { return filepath.Join(dir, "work"), nil },
		globRoots:  []string{filepath.Join(dir, "opt", "openvino*")},
	}
}

func TestDiscoveryMissing(t *testing.T) {
	env := emptyEnv(t, map[string]string{"LD_LIBRARY_PATH": "/nonexistent-ld"})
	_, err := findLibrary(env)
	var ue *transport.UnavailableError
	require.ErrorAs(t, err, &ue)
	assert.Equal(t, "openvino", ue.Backend)
	assert.Contains(t, ue.Reason, "make setup")
	joined := strings.Join(ue.Tried, "\n")
	assert.Contains(t, joined, ".venv", "venv candidates are listed")
	assert.Contains(t, joined, "/nonexistent-ld", "the loader path is listed")
	assert.Contains(t, joined, "openvino*", "the archive install root is listed")
	assert.Contains(t, err.Error(), "tried:")
}

func TestDiscoveryExplicitLib(t *testing.T) {
	// An explicit FAK_OPENVINO_LIB that does not exist is an error naming it,
	// never a silent fallback to another runtime.
	lib := env.OpenVINOLib.Name
	_, err := findLibrary(emptyEnv(t, map[string]string{lib: "/nonexistent"}))
	var ue *transport.UnavailableError
	require.ErrorAs(t, err, &ue)
	assert.Contains(t, ue.Reason, "/nonexistent")
	assert.Equal(t, []string{"FAK_OPENVINO_LIB=/nonexistent"}, ue.Tried)

	// A directory without the library.
	dir := t.TempDir()
	_, err = findLibrary(emptyEnv(t, map[string]string{lib: dir}))
	require.ErrorAs(t, err, &ue)
	assert.Contains(t, ue.Reason, "no libopenvino_c.so")

	// A file that is not a library fails at dlopen, as unavailable.
	bogus := filepath.Join(dir, "libopenvino_c.so.9999")
	require.NoError(t, os.WriteFile(bogus, []byte("not an ELF file"), 0o644))
	p, err := findLibrary(emptyEnv(t, map[string]string{lib: dir}))
	require.NoError(t, err)
	assert.Equal(t, bogus, p)
	_, err = loadRuntime(emptyEnv(t, map[string]string{lib: dir}))
	require.ErrorAs(t, err, &ue)
	assert.Contains(t, ue.Reason, "dlopen")
}

func TestDiscoveryVenvLayout(t *testing.T) {
	// A venv found by walking up from the working directory.
	root := t.TempDir()
	libs := filepath.Join(root, ".venv", "lib", "python3.11", "site-packages", "openvino", "libs")
	require.NoError(t, os.MkdirAll(libs, 0o755))
	lib := filepath.Join(libs, "libopenvino_c.so.2641")
	require.NoError(t, os.WriteFile(lib, nil, 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(libs, "libopenvino.so.2641"), nil, 0o644))
	env := emptyEnv(t, nil)
	env.workdir = func() (string, error) { return filepath.Join(root, "a", "b"), nil }
	p, err := findLibrary(env)
	require.NoError(t, err)
	assert.Equal(t, lib, p)
}

func TestRealRuntimeVersion(t *testing.T) {
	requireRuntime(t)
	v, err := RuntimeVersion()
	require.NoError(t, err)
	assert.Regexp(t, `^20\d\d\.\d+\.\d+`, v)
}

func TestOpenUnavailableWhenHidden(t *testing.T) {
	t.Setenv(env.OpenVINOLib.Name, "/nonexistent")
	_, err := adapters.Open(context.Background(), "openvino", adapters.Options{ModelPath: "x.gguf"})
	assert.True(t, transport.IsUnavailable(err), "got %v", err)
	assert.ErrorContains(t, err, "/nonexistent")
}

func TestBadModels(t *testing.T) {
	requireRuntime(t)
	dir := t.TempDir()
	write := func(name string, edit func(w *gguf.Writer)) string {
		w := gguf.NewWriter()
		edit(w)
		p := filepath.Join(dir, name)
		require.NoError(t, w.WriteFile(p))
		return p
	}
	f32 := func(n int) []byte { return make([]byte, 4*n) }
	// llama writes every key gguf.ReadLlamaParams requires, and kvHeads.
	llama := func(w *gguf.Writer, embd, heads, kvHeads uint32) {
		_ = w.AddKV("general.architecture", "llama")
		_ = w.AddKV("llama.embedding_length", embd)
		_ = w.AddKV("llama.block_count", uint32(1))
		_ = w.AddKV("llama.attention.head_count", heads)
		_ = w.AddKV("llama.attention.head_count_kv", kvHeads)
		_ = w.AddKV("llama.feed_forward_length", uint32(16))
		_ = w.AddKV("llama.context_length", uint32(64))
		_ = w.AddKV("llama.attention.layer_norm_rms_epsilon", float32(1e-5))
	}
	cases := []struct {
		name, want string
		edit       func(w *gguf.Writer)
	}{
		{"noarch.gguf", "general.architecture", func(w *gguf.Writer) {}},
		{"gpt2.gguf", `"gpt2"`, func(w *gguf.Writer) { _ = w.AddKV("general.architecture", "gpt2") }},
		{"nohp.gguf", "llama.embedding_length", func(w *gguf.Writer) { _ = w.AddKV("general.architecture", "llama") }},
		{"noembd.gguf", "token_embd.weight is missing", func(w *gguf.Writer) { llama(w, 8, 2, 2) }},
		{"missing.gguf", "blk.0.attn_norm.weight is missing", func(w *gguf.Writer) {
			llama(w, 8, 2, 2)
			_ = w.AddTensor("token_embd.weight", gguf.TypeF32, []uint64{8, 10}, f32(80))
			_ = w.AddTensor("output_norm.weight", gguf.TypeF32, []uint64{8}, f32(8))
		}},
		{"dims.gguf", "output_norm.weight has dims", func(w *gguf.Writer) {
			llama(w, 8, 2, 2)
			_ = w.AddTensor("token_embd.weight", gguf.TypeF32, []uint64{8, 10}, f32(80))
			_ = w.AddTensor("output_norm.weight", gguf.TypeF32, []uint64{9}, f32(9))
		}},
		{"gqa.gguf", "llama.attention.head_count = 3 is not a multiple of llama.attention.head_count_kv = 2", func(w *gguf.Writer) { llama(w, 12, 3, 2) }},
		{"noctx.gguf", "llama.context_length", func(w *gguf.Writer) {
			_ = w.AddKV("general.architecture", "llama")
			_ = w.AddKV("llama.embedding_length", uint32(8))
			_ = w.AddKV("llama.block_count", uint32(1))
			_ = w.AddKV("llama.attention.head_count", uint32(2))
			_ = w.AddKV("llama.feed_forward_length", uint32(16))
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := write(c.name, c.edit)
			_, err := Open(context.Background(), adapters.Options{ModelPath: p})
			var bm *transport.BadModelError
			require.ErrorAs(t, err, &bm)
			assert.Equal(t, p, bm.File)
			assert.Contains(t, err.Error(), c.want)
		})
	}

	// An unsupported weight type makes the backend unavailable for this
	// file (a skipped row), naming the file, the tensor and the type.
	sh := tinyShape{embd: 32, layers: 1, heads: 2, kvHeads: 1, ffn: 64, vocab: 32, ctx: 64}
	p := writeTinyGGUF(t, dir, sh, gguf.TypeF32, 1, false)
	q4 := filepath.Join(dir, "q5.gguf")
	gguftest.RewriteTensors(t, p, q4, nil, nil, map[string]gguftest.Zeros{"blk.0.ffn_up.weight": {Type: gguf.TypeQ5_0}})
	_, err := Open(context.Background(), adapters.Options{ModelPath: q4})
	var un *transport.UnavailableError
	require.ErrorAs(t, err, &un)
	assert.False(t, transport.IsBadModel(err))
	assert.Contains(t, err.Error(), q4)
	assert.Contains(t, err.Error(), "blk.0.ffn_up.weight has type q5_0")

	// A file that is not GGUF, and a missing file.
	junk := filepath.Join(dir, "junk.gguf")
	require.NoError(t, os.WriteFile(junk, []byte("hello"), 0o644))
	_, err = Open(context.Background(), adapters.Options{ModelPath: junk})
	assert.True(t, transport.IsBadModel(err), "got %v", err)
	_, err = Open(context.Background(), adapters.Options{ModelPath: filepath.Join(dir, "absent.gguf")})
	assert.Error(t, err)
	_, err = Open(context.Background(), adapters.Options{})
	assert.True(t, transport.IsBadModel(err), "got %v", err)
	_, err = Open(context.Background(), adapters.Options{ModelPath: p, Threads: -1})
	assert.Error(t, err)
	_, err = Open(context.Background(), adapters.Options{ModelPath: p, Extra: map[string]string{"batch": "zero"}})
	assert.ErrorContains(t, err, "batch")
	assert.False(t, errors.Is(err, os.ErrNotExist))
}

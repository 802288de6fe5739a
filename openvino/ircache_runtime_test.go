package openvino

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fakbench/fakbench/adapters"
	"github.com/fakbench/fakbench/gguf"
	"github.com/fakbench/fakbench/internal/env"
	"github.com/fakbench/fakbench/transport"
)

// The IR cache on the runtime: each test opens the backend and skips (or
// fails, with FAK_REQUIRE_OPENVINO=1) without one. ircache_test.go has the
// pure-Go half.

// greedyRun opens the model (exact precisions, the given context length
// and Extra ir_cache_dir when root is set), feeds a fixed prompt and
// returns the backend's settings, the logits after the prompt and 8
// greedy tokens. It closes the session and the backend.
func greedyRun(t *testing.T, path string, ctx int, root string) (map[string]string, []float32, []transport.Token) {
	t.Helper()
	extra := exact()
	if root != "" {
		extra[ExtraIRCacheDir] = root
	}
	b, err := Open(bg, adapters.Options{ModelPath: path, Threads: 2, ContextLength: ctx, Extra: extra})
	require.NoError(t, err)
	defer func() { assert.NoError(t, b.Close()) }()
	s, err := b.NewSession(bg)
	require.NoError(t, err)
	defer func() { assert.NoError(t, s.Close()) }()
	prompt := []transport.Token{3, 17, 200, 511, 0, 42}
	_, err = s.EnsurePrefix(bg, transport.PrefixInput{Tokens: prompt[:4]})
	require.NoError(t, err)
	r, err := s.PrefillSuffix(bg, transport.SuffixInput{Tokens: prompt[4:]})
	require.NoError(t, err)
	logits, err := s.(*Session).LastLogits()
	require.NoError(t, err)
	d, err := s.Decode(bg, 7)
	require.NoError(t, err)
	return b.Settings(), logits, append([]transport.Token{r.FirstToken}, d.Tokens...)
}

// TestIRCacheTruncatedBinRegenerates: a cached model.bin cut short (a disk
// filled up, a copy interrupted) is written again on the next Open, which
// then gives the same logits and tokens as before. Before the sidecar, the
// runtime read the short file and the row failed as a bad model although
// the GGUF was intact.
func TestIRCacheTruncatedBinRegenerates(t *testing.T) {
	requireRuntime(t)
	t.Setenv(env.CacheDir.Name, t.TempDir())
	path := writeTinyGGUF(t, t.TempDir(), tiny, gguf.TypeQ8_0, 21, false)
	st1, logits1, toks1 := greedyRun(t, path, 0, "")
	assert.Equal(t, "false", st1["ir_cached"])
	assert.Equal(t, "written: no cached IR for this key", st1["ir_cache"])
	bin := strings.TrimSuffix(st1["ir_path"], ".xml") + ".bin"
	full, err := os.Stat(bin)
	require.NoError(t, err)
	require.NoError(t, os.Truncate(bin, full.Size()/2))

	st2, logits2, toks2 := greedyRun(t, path, 0, "")
	assert.Equal(t, fmt.Sprintf("regenerated: model.bin is %d bytes, the sidecar says %d", full.Size()/2, full.Size()), st2["ir_cache"])
	assert.Equal(t, "false", st2["ir_cached"])
	assert.Equal(t, st1["ir_path"], st2["ir_path"], "written again in place")
	after, err := os.Stat(bin)
	require.NoError(t, err)
	assert.Equal(t, full.Size(), after.Size())
	assert.Equal(t, toks1, toks2)
	assert.Equal(t, logits1, logits2, "the same IR (byte for byte) compiled with the same pins")

	st3, _, toks3 := greedyRun(t, path, 0, "")
	assert.Equal(t, "true", st3["ir_cached"], "the regenerated IR is a hit next time: %s", st3["ir_cache"])
	assert.Equal(t, toks1, toks3)
}

// TestIRCacheRuntimeRejectsCachedIR: files that match their sidecar but
// that the runtime refuses are written again once; an IR the runtime
// refuses right after writing is a BadModelError naming the .xml.
func TestIRCacheRuntimeRejectsCachedIR(t *testing.T) {
	requireRuntime(t)
	root := t.TempDir()
	path := writeTinyGGUF(t, t.TempDir(), tiny, gguf.TypeQ8_0, 22, false)
	saved := irWriter
	t.Cleanup(func() { irWriter = saved })
	broken := func(_ *gguf.File, _ llamaSpec, _ int, xmlW, binW io.Writer) error {
		if _, err := binW.Write(make([]byte, 64)); err != nil {
			return err
		}
		_, err := io.WriteString(xmlW, `<?xml version="1.0"?><net name="broken" version="11"><layers><layer id="0" type="NoSuchOp" version="opset1"/></layers></net>`)
		return err
	}

	// A broken IR, consistent with its sidecar, is in the cache.
	irWriter = broken
	in := tinyIRInput{path: path}
	f, err := gguf.Open(path)
	require.NoError(t, err)
	defer f.Close()
	in.f = f
	in.spec, err = readSpec(f)
	require.NoError(t, err)
	in.spec.KV = kvStateful // the default form Open writes
	in.digest, err = fileDigest(path)
	require.NoError(t, err)
	ctx := min(in.spec.CtxTrain, 4096)
	cached := in.ensure(t, root, ctx)
	problem, _ := checkIR(cached.irEntry)
	require.Empty(t, problem)

	// With the real writer back, Open rejects the cached files and
	// writes them again.
	irWriter = saved
	st, _, toks := greedyRun(t, path, 0, root)
	assert.True(t, strings.HasPrefix(st["ir_cache"], "regenerated: the runtime rejected the cached IR: "), st["ir_cache"])
	assert.Equal(t, "false", st["ir_cached"])
	assert.Len(t, toks, 8)

	// A writer whose output the runtime refuses: the error is the bad
	// model, naming the IR file just written.
	irWriter = broken
	_, err = Open(bg, adapters.Options{ModelPath: path, Threads: 2, ContextLength: 64,
		Extra: map[string]string{ExtraIRCacheDir: root}})
	require.Error(t, err)
	bme, ok := errors.AsType[*transport.BadModelError](err)
	require.True(t, ok, "%v", err)
	want := newIREntry(root, irKey(in.digest, 64, in.spec))
	assert.Equal(t, want.XML, bme.File)
	assert.Contains(t, bme.Error(), "the runtime rejected the IR just written from the GGUF (weights "+want.Bin+")")
}

// TestIRCacheReadOnlyModelFolder: the IR is written to the cache folder,
// not beside the model, so a model in a read-only folder opens. Running as
// root, chmod does not stop writes; the test then checks only where the
// IR went.
func TestIRCacheReadOnlyModelFolder(t *testing.T) {
	requireRuntime(t)
	cache := t.TempDir()
	t.Setenv(env.CacheDir.Name, cache)
	dir := t.TempDir()
	path := writeTinyGGUF(t, dir, tiny, gguf.TypeQ8_0, 23, false)
	if os.Getuid() != 0 {
		require.NoError(t, os.Chmod(dir, 0o555))
		t.Cleanup(func() { _ = os.Chmod(dir, 0o755) })
	} else {
		t.Log("running as root: chmod 0555 does not stop root's writes; checking the IR's location only")
	}
	st, _, toks := greedyRun(t, path, 0, "")
	assert.Len(t, toks, 8)
	ir := st["ir_path"]
	assert.True(t, strings.HasPrefix(ir, filepath.Join(cache, "openvino-ir")+string(filepath.Separator)), "IR at %s", ir)
	rel, err := filepath.Rel(dir, ir)
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(rel, ".."), "the IR %s is not under the model's folder %s", ir, dir)
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.Len(t, entries, 1, "nothing written beside the model")
	assert.Equal(t, filepath.Base(path), entries[0].Name())
}

// TestIRCacheKeyChangesWithContextLength: each context length has its own
// IR (the rotary tables have ctx rows), in its own folder, and each is a
// hit on its next Open.
func TestIRCacheKeyChangesWithContextLength(t *testing.T) {
	requireRuntime(t)
	root := filepath.Join(t.TempDir(), "ir")
	path := writeTinyGGUF(t, t.TempDir(), tiny, gguf.TypeQ8_0, 24, false)
	a, _, toksA := greedyRun(t, path, 128, root)
	b, _, toksB := greedyRun(t, path, 256, root)
	assert.NotEqual(t, a["ir_cache_key"], b["ir_cache_key"])
	assert.Contains(t, a["ir_cache_key"], "-n128-")
	assert.Contains(t, b["ir_cache_key"], "-n256-")
	assert.Equal(t, filepath.Join(root, a["ir_cache_key"], "model.xml"), a["ir_path"])
	assert.Equal(t, filepath.Join(root, b["ir_cache_key"], "model.xml"), b["ir_path"])
	assert.Equal(t, "false", b["ir_cached"], "another context length is written, not reused")
	assert.Equal(t, toksA, toksB, "the rotary table size does not change the first positions")
	again, _, _ := greedyRun(t, path, 128, root)
	assert.Equal(t, "true", again["ir_cached"])
	assert.Equal(t, a["ir_cache_key"], again["ir_cache_key"])
}

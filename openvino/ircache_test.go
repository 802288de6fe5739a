package openvino

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fakbench/fakbench/gguf"
	"github.com/fakbench/fakbench/internal/env"
	"github.com/fakbench/fakbench/models"
	"github.com/fakbench/fakbench/transport"
)

// The pure-Go half of the IR cache (key, sidecar, ensureIR) needs no
// runtime; ircache_runtime_test.go opens the backend.

// tinyIRInput is a tiny q8_0 model opened for ensureIR: the file, its spec
// and digest.
type tinyIRInput struct {
	path   string
	f      *gguf.File
	spec   llamaSpec
	digest string
}

func openTinyIRInput(t *testing.T, seed int64) tinyIRInput {
	t.Helper()
	path := writeTinyGGUF(t, t.TempDir(), tiny, gguf.TypeQ8_0, seed, false)
	f, err := gguf.Open(path)
	require.NoError(t, err)
	t.Cleanup(func() { _ = f.Close() })
	spec, err := readSpec(f)
	require.NoError(t, err)
	digest, err := fileDigest(path)
	require.NoError(t, err)
	return tinyIRInput{path: path, f: f, spec: spec, digest: digest}
}

func (in tinyIRInput) ensure(t *testing.T, root string, ctx int) irResult {
	t.Helper()
	r, err := ensureIR(in.f, in.spec, ctx, in.digest, root)
	require.NoError(t, err)
	return r
}

func readSidecar(t *testing.T, e irEntry) irSidecar {
	t.Helper()
	data, err := os.ReadFile(e.Sidecar)
	require.NoError(t, err)
	var sc irSidecar
	require.NoError(t, json.Unmarshal(data, &sc))
	return sc
}

func TestIRKeyChangesWithEverythingTheIRDependsOn(t *testing.T) {
	spec := llamaSpec{Name: "m", Embd: 64, Layers: 2, Heads: 4, KVHeads: 2, HeadDim: 16, FFN: 192,
		Vocab: 512, CtxTrain: 512, RopeBase: 10000, Eps: 1e-5, WeightType: "q8_0"}
	digest := strings.Repeat("ab", 32)
	base := irKey(digest, 512, spec)
	assert.Regexp(t, fmt.Sprintf(`^abababababababab-w%d-explicit-n512-s[0-9a-f]{8}$`, WriterVersion), base)
	assert.Equal(t, base, irKey(digest, 512, spec), "the key is a function of its inputs")

	assert.NotEqual(t, base, irKey(digest, 256, spec), "context length (the rotary tables)")
	assert.NotEqual(t, base, irKey(strings.Repeat("cd", 32), 512, spec), "the GGUF's digest")
	changed := spec
	changed.RopeBase = 500000
	assert.NotEqual(t, base, irKey(digest, 512, changed), "the spec read from the GGUF")
	changed = spec
	changed.Eps = 1e-6
	assert.NotEqual(t, base, irKey(digest, 512, changed), "the spec read from the GGUF")
	// The writer version is in the key's text; the format above pins it.
	assert.Contains(t, base, fmt.Sprintf("-w%d-", WriterVersion))
	// The KV form: the stateful IR is another file.
	changed = spec
	changed.KV = kvStateful
	st := irKey(digest, 512, changed)
	assert.Regexp(t, fmt.Sprintf(`^abababababababab-w%d-stateful-n512-s[0-9a-f]{8}$`, WriterVersion), st)
	changed.KV = kvExplicit
	assert.Equal(t, base, irKey(digest, 512, changed), "an unset form is the explicit one")
}

func TestIRCacheRootIsTheProjectCacheFolder(t *testing.T) {
	dir := t.TempDir()
	t.Setenv(env.CacheDir.Name, dir)
	assert.Equal(t, filepath.Join(models.CacheDir(), "openvino-ir"), irCacheRoot(""))
	assert.Equal(t, filepath.Join(dir, "openvino-ir"), irCacheRoot(""))
	assert.Equal(t, "/elsewhere/ir", irCacheRoot("/elsewhere/ir"), "Extra ir_cache_dir overrides it")
}

// TestEnsureIRWritesThenHits checks the files, their order and the sidecar
// of a fresh write, and that the next call uses them.
func TestEnsureIRWritesThenHits(t *testing.T) {
	in := openTinyIRInput(t, 3)
	root := filepath.Join(t.TempDir(), "cache")
	r := in.ensure(t, root, 256)
	assert.False(t, r.Cached)
	assert.Equal(t, "written: no cached IR for this key", r.Note)
	assert.Equal(t, filepath.Join(root, irKey(in.digest, 256, in.spec)), r.Dir)
	assert.Equal(t, filepath.Join(r.Dir, "model.xml"), r.XML)
	assert.Equal(t, filepath.Join(r.Dir, "model.bin"), r.Bin)

	sc := readSidecar(t, r.irEntry)
	assert.Equal(t, irSidecarFmt, sc.Format)
	assert.Equal(t, r.Key, sc.Key)
	assert.Equal(t, WriterVersion, sc.WriterVersion)
	require.Len(t, sc.Files, 2)
	for i, p := range []string{r.Bin, r.XML} {
		st, err := os.Stat(p)
		require.NoError(t, err)
		d, err := fileDigest(p)
		require.NoError(t, err)
		assert.Equal(t, irFileSum{Name: filepath.Base(p), Size: st.Size(), SHA256: d}, sc.Files[i])
	}
	entries, err := os.ReadDir(r.Dir)
	require.NoError(t, err)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	assert.Equal(t, []string{"model.bin", "model.sum.json", "model.xml"}, names, "no temporary files left behind")

	again := in.ensure(t, root, 256)
	assert.True(t, again.Cached)
	assert.Equal(t, "hit: model.bin and model.xml match the sizes and sha256 in model.sum.json", again.Note)
	assert.Equal(t, r.irEntry, again.irEntry)
	assert.Zero(t, again.Convert)
}

// TestEnsureIRRegenerates damages a cached IR in each way the sidecar
// catches and checks that the next ensureIR writes it again, says why,
// and writes the same bytes as the first time.
func TestEnsureIRRegenerates(t *testing.T) {
	in := openTinyIRInput(t, 4)
	first := in.ensure(t, t.TempDir(), 128)
	want := readSidecar(t, first.irEntry)
	binSize, xmlSize := want.Files[0].Size, want.Files[1].Size

	for _, tc := range []struct {
		name   string
		damage func(t *testing.T, e irEntry)
		note   string
	}{
		{"truncated bin", func(t *testing.T, e irEntry) { require.NoError(t, os.Truncate(e.Bin, 1234)) },
			fmt.Sprintf("regenerated: model.bin is 1234 bytes, the sidecar says %d", binSize)},
		{"missing bin", func(t *testing.T, e irEntry) { require.NoError(t, os.Remove(e.Bin)) },
			fmt.Sprintf("regenerated: model.bin is missing, the sidecar says %d bytes", binSize)},
		{"edited xml", func(t *testing.T, e irEntry) {
			data, err := os.ReadFile(e.XML)
			require.NoError(t, err)
			i := strings.Index(string(data), "fakbench-llama")
			require.GreaterOrEqual(t, i, 0)
			data[i] = 'F' // same size, other content
			require.NoError(t, os.WriteFile(e.XML, data, 0o644))
		}, fmt.Sprintf("same size, %d bytes: edited or corrupted", xmlSize)},
		{"no sidecar", func(t *testing.T, e irEntry) { require.NoError(t, os.Remove(e.Sidecar)) },
			"regenerated: no sidecar model.sum.json beside model.bin and model.xml"},
		{"malformed sidecar", func(t *testing.T, e irEntry) { require.NoError(t, os.WriteFile(e.Sidecar, []byte("{not json"), 0o644)) },
			"regenerated: sidecar model.sum.json is malformed (9 bytes)"},
		{"other format", func(t *testing.T, e irEntry) { rewriteSidecar(t, e, func(sc *irSidecar) { sc.Format = 99 }) },
			"regenerated: sidecar model.sum.json has format 99, this build reads format 1"},
		{"other key", func(t *testing.T, e irEntry) { rewriteSidecar(t, e, func(sc *irSidecar) { sc.Key = "x" }) },
			fmt.Sprintf("regenerated: sidecar model.sum.json is for key \"x\", the folder's key is %q", first.Key)},
		{"other writer", func(t *testing.T, e irEntry) {
			rewriteSidecar(t, e, func(sc *irSidecar) { sc.WriterVersion = WriterVersion + 1 })
		},
			fmt.Sprintf("says writer version %d, this build writes %d", WriterVersion+1, WriterVersion)},
		{"files listed wrong", func(t *testing.T, e irEntry) { rewriteSidecar(t, e, func(sc *irSidecar) { sc.Files = sc.Files[:1] }) },
			`lists files ["model.bin"], want [model.bin model.xml]`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.damage(t, first.irEntry)
			problem, present := checkIR(first.irEntry)
			assert.True(t, present)
			assert.NotEmpty(t, problem)

			r := in.ensure(t, first.Root, 128)
			assert.False(t, r.Cached)
			assert.Contains(t, r.Note, tc.note)
			assert.True(t, strings.HasPrefix(r.Note, "regenerated: "), r.Note)
			assert.Equal(t, want, readSidecar(t, r.irEntry), "the same bytes as the first write")
			problem, _ = checkIR(r.irEntry)
			assert.Empty(t, problem)
		})
	}
}

func rewriteSidecar(t *testing.T, e irEntry, edit func(*irSidecar)) {
	t.Helper()
	sc := readSidecar(t, e)
	edit(&sc)
	data, err := json.Marshal(sc)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(e.Sidecar, data, 0o644))
}

// TestEnsureIRDifferentContextsDifferentFolders: one folder per key.
func TestEnsureIRDifferentContextsDifferentFolders(t *testing.T) {
	in := openTinyIRInput(t, 5)
	root := t.TempDir()
	a := in.ensure(t, root, 128)
	b := in.ensure(t, root, 256)
	assert.NotEqual(t, a.Dir, b.Dir)
	assert.False(t, b.Cached, "another context length is another IR")
	assert.Equal(t, root, filepath.Dir(a.Dir))
	assert.Equal(t, root, filepath.Dir(b.Dir))
	assert.True(t, in.ensure(t, root, 128).Cached, "writing the second left the first intact")
}

// TestEnsureIRUnwritableFolder: a cache folder that cannot be created or
// written is an error naming it, and nothing falls back elsewhere.
func TestEnsureIRUnwritableFolder(t *testing.T) {
	in := openTinyIRInput(t, 6)
	// A regular file where a folder should be: unwritable for root too.
	file := filepath.Join(t.TempDir(), "not-a-folder")
	require.NoError(t, os.WriteFile(file, []byte("x"), 0o644))
	root := filepath.Join(file, "ir")
	_, err := ensureIR(in.f, in.spec, 128, in.digest, root)
	require.Error(t, err)
	dir := filepath.Join(root, irKey(in.digest, 128, in.spec))
	assert.Contains(t, err.Error(), "IR cache folder "+dir+" is not writable")
	assert.Contains(t, err.Error(), env.CacheDir.Name)
	assert.Contains(t, err.Error(), ExtraIRCacheDir)

	if os.Getuid() == 0 {
		t.Log("running as root: a 0555 folder stays writable, so only the file-as-parent case is checked")
		return
	}
	ro := t.TempDir()
	require.NoError(t, os.Chmod(ro, 0o555))
	t.Cleanup(func() { _ = os.Chmod(ro, 0o755) })
	_, err = ensureIR(in.f, in.spec, 128, in.digest, ro)
	require.Error(t, err)
	assert.ErrorIs(t, err, fs.ErrPermission)
	assert.Contains(t, err.Error(), "IR cache folder "+filepath.Join(ro, irKey(in.digest, 128, in.spec))+" is not writable")
}

// TestEnsureIRReadOnlyCacheHit: a valid IR in a folder that cannot be
// written to is still used (checking only reads).
func TestEnsureIRReadOnlyCacheHit(t *testing.T) {
	in := openTinyIRInput(t, 8)
	root := t.TempDir()
	r := in.ensure(t, root, 128)
	require.NoError(t, os.Chmod(r.Dir, 0o555))
	t.Cleanup(func() { _ = os.Chmod(r.Dir, 0o755) })
	assert.True(t, in.ensure(t, root, 128).Cached)
}

// TestEnsureIRWriterErrorNamesTheFile: a failing writer leaves no sidecar
// and names the file it was writing.
func TestEnsureIRWriterErrorNamesTheFile(t *testing.T) {
	in := openTinyIRInput(t, 9)
	saved := irWriter
	t.Cleanup(func() { irWriter = saved })
	irWriter = func(*gguf.File, llamaSpec, int, io.Writer, io.Writer) error {
		return &transport.BadModelError{File: in.path, Reason: "test writer failure"}
	}
	root := t.TempDir()
	_, err := ensureIR(in.f, in.spec, 128, in.digest, root)
	require.Error(t, err)
	bme, ok := errors.AsType[*transport.BadModelError](err)
	require.True(t, ok, "the writer's typed error survives: %v", err)
	assert.Equal(t, in.path, bme.File)
	e := newIREntry(root, irKey(in.digest, 128, in.spec))
	assert.Contains(t, err.Error(), "writing IR "+e.Bin)
	_, statErr := os.Stat(e.Sidecar)
	assert.ErrorIs(t, statErr, fs.ErrNotExist)
}

package nodebench

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func writeFile(t *testing.T, dir, rel, content string) {
	t.Helper()
	p := filepath.Join(dir, filepath.FromSlash(rel))
	require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
	require.NoError(t, os.WriteFile(p, []byte(content), 0o644))
}

func TestWriteReadFinalizeVerify(t *testing.T) {
	dir := t.TempDir()
	m := &Manifest{Schema: ManifestSchema, HostLabel: "n1", Incomplete: "running", StartedAt: "t0"}
	require.NoError(t, Layout{Dir: dir}.WriteManifest(m))
	got, err := Layout{Dir: dir}.ReadManifest()
	require.NoError(t, err)
	assert.False(t, got.Complete)
	assert.Equal(t, "running", got.Incomplete)

	writeFile(t, dir, "bench/gokernel.json", `{"backend":"gokernel"}`)
	writeFile(t, dir, "logs/01-run.stdout", "hello\n")
	writeFile(t, dir, GateTextFile, "written after the manifest")
	require.NoError(t, Layout{Dir: dir}.Finalize(m, "t1"))
	got, err = Layout{Dir: dir}.ReadManifest()
	require.NoError(t, err)
	assert.True(t, got.Complete)
	assert.Empty(t, got.Incomplete)
	assert.Equal(t, "t1", got.FinishedAt)
	require.Len(t, got.Artifacts, 2)
	assert.Equal(t, "bench/gokernel.json", got.Artifacts[0].Path)
	assert.Equal(t, int64(len(`{"backend":"gokernel"}`)), got.Artifacts[0].Size)
	assert.Len(t, got.Artifacts[0].SHA256, 64)
	assert.Equal(t, "logs/01-run.stdout", got.Artifacts[1].Path)

	v, err := Layout{Dir: dir}.Verify(got)
	require.NoError(t, err)
	assert.True(t, v.OK(), v.Problems(0))
	assert.Equal(t, 2, v.Checked)

	// No temporary files are left behind by the atomic writes.
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	for _, e := range entries {
		assert.False(t, strings.Contains(e.Name(), ".tmp"), e.Name())
	}
}

func TestVerifyFindsTamperingMissingAndUnlisted(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "a.json", `{"x":1}`)
	writeFile(t, dir, "b.log", "log")
	m := &Manifest{Schema: ManifestSchema}
	require.NoError(t, Layout{Dir: dir}.Finalize(m, "t"))

	// One byte changed, same size.
	writeFile(t, dir, "a.json", `{"x":2}`)
	v, err := Layout{Dir: dir}.Verify(m)
	require.NoError(t, err)
	assert.False(t, v.OK())
	require.Len(t, v.Changed, 1)
	assert.Contains(t, v.Changed[0], "a.json: sha256")

	writeFile(t, dir, "a.json", `{"x":10}`)
	v, _ = Layout{Dir: dir}.Verify(m)
	assert.Contains(t, v.Changed[0], "a.json: size 8, manifest says 7")

	writeFile(t, dir, "a.json", `{"x":1}`)
	require.NoError(t, os.Remove(filepath.Join(dir, "b.log")))
	writeFile(t, dir, "extra/c.json", "{}")
	v, err = Layout{Dir: dir}.Verify(m)
	require.NoError(t, err)
	assert.Equal(t, []string{"b.log"}, v.Missing)
	assert.Equal(t, []string{"extra/c.json"}, v.Unlisted)
	assert.Empty(t, v.Changed)
	assert.Equal(t, []string{"missing: b.log", "unlisted: extra/c.json"}, v.Problems(0))

	m.Artifacts = append(m.Artifacts, Artifact{Path: "../etc/passwd"})
	_, err = Layout{Dir: dir}.Verify(m)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "escapes")
}

func TestProblemsLimit(t *testing.T) {
	v := Verification{Missing: []string{"a", "b", "c"}}
	assert.Equal(t, []string{"missing: a", "missing: b", "missing: 1 more"}, v.Problems(2))
}

func TestScanRefusesSymlinks(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "a", "x")
	require.NoError(t, os.Symlink(filepath.Join(dir, "a"), filepath.Join(dir, "link")))
	_, err := Layout{Dir: dir}.Scan()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "link is not a regular file")
}

func TestReadErrors(t *testing.T) {
	dir := t.TempDir()
	_, err := Layout{Dir: dir}.ReadManifest()
	require.Error(t, err)
	assert.Contains(t, err.Error(), ManifestFile)

	writeFile(t, dir, ManifestFile, "{")
	_, err = Layout{Dir: dir}.ReadManifest()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "not a manifest")

	writeFile(t, dir, ManifestFile, `{"schema":"other"}`)
	_, err = Layout{Dir: dir}.ReadManifest()
	require.Error(t, err)
	assert.Contains(t, err.Error(), `schema "other"`)

	require.Error(t, Layout{Dir: dir}.WriteManifest(nil))
}

func TestGitInfo(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git not installed")
	}
	dir := t.TempDir()
	g := GitInfo(context.Background(), dir)
	assert.NotEmpty(t, g.Error, "not a repository")
	assert.Empty(t, g.Commit)

	git := func(args ...string) {
		cmd := exec.Command("git", args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@t", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@t")
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, string(out))
	}
	git("init", "-q")
	writeFile(t, dir, "f", "1")
	git("add", "f")
	git("commit", "-qm", "c")
	g = GitInfo(context.Background(), dir)
	assert.Empty(t, g.Error)
	assert.Len(t, g.Commit, 40)
	assert.False(t, g.Dirty)
	writeFile(t, dir, "f", "2")
	g = GitInfo(context.Background(), dir)
	assert.True(t, g.Dirty)
	assert.Equal(t, []string{"M f"}, g.DirtyFiles)
}

func TestBuildFlags(t *testing.T) {
	// The test binary carries Go build info, including whether cgo was on.
	assert.Contains(t, BuildFlags(), "CGO_ENABLED=")
}

package nodebench

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fakbench/fakbench/nodebench/evidencetest"
	"github.com/fakbench/fakbench/report"
)

// The gate never follows a symbolic link out of the artifact folder: a
// report linked from elsewhere was counted as a valid report, and a linked
// manifest (which the manifest does not list) let a foreign manifest vouch
// for the folder.
func TestGateRefusesSymlinksOutOfTheFolder(t *testing.T) {
	elsewhere := t.TempDir()
	foreign := filepath.Join(elsewhere, "llamacpp.json")
	require.NoError(t, report.WriteJSON(foreign, evidencetest.Report("llamacpp")))

	t.Run("report", func(t *testing.T) {
		dir := fixture{}.build(t)
		link := filepath.Join(dir, BenchDir, "llamacpp.json")
		require.NoError(t, os.Symlink(foreign, link))
		r, err := Gate(dir, GateOptions{CleanNode: true})
		require.NoError(t, err)
		assert.False(t, r.Pass)
		c := byName(t, r)
		assert.False(t, c[CriterionReportsValid].Pass, "a linked report is not a valid report: %s", c[CriterionReportsValid].Detail)
		assert.Contains(t, c[CriterionReportsValid].Detail, "symbolic link bench/llamacpp.json -> "+foreign)
		assert.Contains(t, c[CriterionReportsValid].Detail, "outside the folder")
		assert.NotContains(t, c[CriterionReportsValid].Detail, "valid report")
		assert.False(t, c[CriterionArtifacts].Pass)
		assert.Contains(t, c[CriterionArtifacts].Detail, "bench/llamacpp.json -> "+foreign)
		for _, h := range r.Headline {
			assert.NotContains(t, h, "llamacpp", "the linked report is never read")
		}
	})

	t.Run("manifest", func(t *testing.T) {
		dir := fixture{}.build(t)
		moved := filepath.Join(t.TempDir(), ManifestFile)
		require.NoError(t, os.Rename(filepath.Join(dir, ManifestFile), moved))
		require.NoError(t, os.Symlink(moved, filepath.Join(dir, ManifestFile)))
		r, err := Gate(dir, GateOptions{CleanNode: true})
		require.NoError(t, err)
		assert.False(t, r.Pass, r.Text())
		c := byName(t, r)
		assert.False(t, c[CriterionArtifacts].Pass)
		assert.Contains(t, c[CriterionArtifacts].Detail, ManifestFile+" is a symbolic link: not followed")
		assert.Contains(t, c[CriterionArtifacts].Detail, ManifestFile+" -> "+moved)
	})

	t.Run("sub-folder", func(t *testing.T) {
		dir := fixture{}.build(t)
		outsideBench := filepath.Join(t.TempDir(), "bench")
		require.NoError(t, os.Rename(filepath.Join(dir, BenchDir), outsideBench))
		require.NoError(t, os.Symlink(outsideBench, filepath.Join(dir, BenchDir)))
		r, err := Gate(dir, GateOptions{CleanNode: true})
		require.NoError(t, err)
		c := byName(t, r)
		assert.False(t, c[CriterionReportsValid].Pass)
		assert.Contains(t, c[CriterionReportsValid].Detail, "bench/ is a symbolic link: not followed")
		assert.Contains(t, c[CriterionReportsValid].Detail, "symbolic link bench -> "+outsideBench)
		assert.NotContains(t, c[CriterionReportsValid].Detail, "gokernel", "no report read through the link")
	})

	// A link inside the folder is refused too (the manifest's Scan refuses
	// every link), and said to point inside.
	t.Run("inside", func(t *testing.T) {
		dir := fixture{}.build(t)
		require.NoError(t, os.Symlink("gokernel.json", filepath.Join(dir, BenchDir, "copy.json")))
		r, err := Gate(dir, GateOptions{CleanNode: true})
		require.NoError(t, err)
		c := byName(t, r)
		assert.False(t, c[CriterionArtifacts].Pass)
		assert.Contains(t, c[CriterionArtifacts].Detail, "bench/copy.json -> gokernel.json (inside the folder)")
		assert.False(t, c[CriterionReportsValid].Pass)
		assert.Contains(t, c[CriterionReportsValid].Detail, "bench/copy.json")
	})
}

// Links lists every link with where it resolves, never walking into one.
func TestLinks(t *testing.T) {
	root := t.TempDir()
	elsewhere := t.TempDir()
	dir := filepath.Join(root, "node")
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "bench"), 0o755))
	writeFile(t, dir, "bench/a.json", "{}")
	require.NoError(t, os.Symlink(elsewhere, filepath.Join(dir, "logs")))
	require.NoError(t, os.Symlink("a.json", filepath.Join(dir, "bench", "b.json")))
	require.NoError(t, os.Symlink("../../node/bench/a.json", filepath.Join(dir, "bench", "c.json")))
	require.NoError(t, os.Symlink("../..", filepath.Join(dir, "bench", "up")))
	require.NoError(t, os.Symlink("missing", filepath.Join(dir, "bench", "dangling.json")))
	writeFile(t, elsewhere, "x", "not walked")

	links, err := Layout{Dir: dir}.Links()
	require.NoError(t, err)
	require.Len(t, links, 5)
	got := map[string]Link{}
	for _, k := range links {
		got[k.Path] = k
	}
	assert.False(t, got["bench/b.json"].Outside)
	assert.False(t, got["bench/c.json"].Outside, "a path through .. that comes back inside is inside")
	assert.True(t, got["bench/up"].Outside)
	assert.True(t, got["logs"].Outside)
	assert.Empty(t, got["bench/dangling.json"].Target)
	assert.Contains(t, got["bench/dangling.json"].String(), "does not resolve")

	// The folder reached through a link of its own is the same folder.
	alias := filepath.Join(root, "alias")
	require.NoError(t, os.Symlink(dir, alias))
	links, err = Layout{Dir: alias}.Links()
	require.NoError(t, err)
	for _, k := range links {
		if k.Path == "bench/b.json" {
			assert.False(t, k.Outside)
		}
	}
}

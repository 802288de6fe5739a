package main

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fakbench/fakbench/bench"
	"github.com/fakbench/fakbench/report"
)

func quickRun(t *testing.T, out string, extra ...string) (int, string) {
	t.Helper()
	args := append([]string{"run", "--backends", "gokernel", "--model", "synthetic:tiny", "--short", "--threads", "1",
		"--reps", "1", "--warmup", "0", "--membw", "-1", "--quiet", "--isolation", "in_process", "--out", out}, extra...)
	code, _, stderr := cli(t, args...)
	return code, stderr
}

// A folder that holds another run is refused, naming the file and what
// differs; the same run again is fine; --force moves the other aside.
func TestRunRefusesAnotherRunsFolder(t *testing.T) {
	out := filepath.Join(t.TempDir(), "out")
	code, stderr := quickRun(t, out)
	require.Equal(t, exitOK, code, stderr)
	code, stderr = quickRun(t, out)
	require.Equal(t, exitOK, code, "the same run again: %s", stderr)

	code, stderr = quickRun(t, out, "--model", "synthetic:tiny:f16")
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, stderr, "holds another run (gokernel.json: model_digest sha256:")
	assert.Contains(t, stderr, "--force")

	code, stderr = quickRun(t, out, "--ablations", "no-reuse")
	require.Equal(t, exitOK, code, "a run with more rows keeps the old rows' files: %s", stderr)
	code, stderr = quickRun(t, out)
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, stderr, "gokernel-noreuse.json is a row this run does not have")

	code, stderr = quickRun(t, out, "--model", "synthetic:tiny:f16", "--force")
	require.Equal(t, exitOK, code, stderr)
	assert.Contains(t, stderr, "moved it to "+out+".prev-")
	asides, err := filepath.Glob(out + ".prev-*")
	require.NoError(t, err)
	require.Len(t, asides, 1)
	assert.FileExists(t, filepath.Join(asides[0], "gokernel-noreuse.json"))
	assert.NoFileExists(t, filepath.Join(out, "gokernel-noreuse.json"))
	r, err := report.ReadJSON(filepath.Join(out, "gokernel.json"))
	require.NoError(t, err)
	assert.Equal(t, "synthetic:tiny:f16", r.ModelSpec)
}

// A second run into a folder another run holds is refused before anything
// loads; an unusable --out is found before anything loads too.
func TestRunFolderLockedAndUnwritable(t *testing.T) {
	out := t.TempDir()
	d, err := os.Open(out)
	require.NoError(t, err)
	defer d.Close()
	require.NoError(t, syscall.Flock(int(d.Fd()), syscall.LOCK_EX|syscall.LOCK_NB))
	code, stderr := quickRun(t, out)
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, stderr, "another fakbench run is writing into this folder now")
	assert.NotContains(t, stderr, "opening gokernel")
	require.NoError(t, syscall.Flock(int(d.Fd()), syscall.LOCK_UN))

	file := filepath.Join(t.TempDir(), "a-file")
	require.NoError(t, os.WriteFile(file, nil, 0o644))
	code, stderr = quickRun(t, filepath.Join(file, "out"))
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, stderr, file)
}

// Another benchmark measuring on the node (holding the node lock) is
// warned about and recorded in every report; alone, nothing is said.
func TestRunSeesAnotherBenchmarkOnTheNode(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	out := filepath.Join(t.TempDir(), "alone")
	code, stderr := quickRun(t, out)
	require.Equal(t, exitOK, code, stderr)
	r, err := report.ReadJSON(filepath.Join(out, "gokernel.json"))
	require.NoError(t, err)
	assert.Empty(t, r.Concurrent)

	other, err := os.OpenFile(filepath.Join(tmp, bench.NodeLockName), os.O_CREATE|os.O_RDWR, 0o666)
	require.NoError(t, err)
	defer other.Close()
	require.NoError(t, syscall.Flock(int(other.Fd()), syscall.LOCK_SH))
	out = filepath.Join(t.TempDir(), "together")
	code, stderr = quickRun(t, out)
	require.Equal(t, exitOK, code, stderr)
	assert.Contains(t, stderr, "warning: another fakbench benchmark was measuring on this node")
	r, err = report.ReadJSON(filepath.Join(out, "gokernel.json"))
	require.NoError(t, err)
	assert.Contains(t, r.Concurrent, "both sets of figures are distorted")
}

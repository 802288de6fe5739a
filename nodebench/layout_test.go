package nodebench

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fakbench/fakbench/harness/batch"
	"github.com/fakbench/fakbench/harness/workload"
)

func TestLayoutNames(t *testing.T) {
	l := Layout{Dir: filepath.Join("x", "node")}
	assert.Equal(t, filepath.Join("x", "node", "production-readiness-manifest.json"), l.Manifest())
	assert.Equal(t, filepath.Join("x", "node", "bench"), l.Bench())
	assert.Equal(t, filepath.Join("x", "node", "workload", "production-workload.json"), l.PinnedWorkload())
	assert.Equal(t, filepath.Join("x", "node", "gate-output.txt"), l.GateText())
	assert.Equal(t, filepath.Join("x", "node", "gate-output.json"), l.GateJSON())
	assert.Equal(t, "batch-llamacpp.json", batch.FileName("llamacpp"))
	assert.Equal(t, "diag-batch-workload-llamacpp.json", batch.WorkloadFileName("llamacpp"))
	assert.Equal(t, "workload-gokernel.json", workload.ReplayFileName("gokernel"))
	assert.Equal(t, "logs/10-run", LogBase(10, "run"))
	assert.Equal(t, []string{"bench", "workload", "batch", "logs"}, Subdirs())
	for _, rel := range []string{ManifestFile, GateTextFile, GateJSONFile} {
		assert.True(t, Unlisted(rel), rel)
	}
	assert.False(t, Unlisted("bench/gokernel.json"))
}

func TestLayoutCreateAndFiles(t *testing.T) {
	l := Layout{Dir: filepath.Join(t.TempDir(), "node")}
	require.NoError(t, l.Create())
	for _, d := range Subdirs() {
		assert.DirExists(t, l.Path(d))
	}
	writeFile(t, l.Dir, "batch/"+batch.FileName("b"), "{}")
	writeFile(t, l.Dir, "batch/"+batch.FileName("a"), "{}")
	writeFile(t, l.Dir, "batch/"+batch.WorkloadFileName("a"), "{}")
	writeFile(t, l.Dir, "workload/"+workload.ReplayFileName("a"), "{}")
	writeFile(t, l.Dir, "workload/"+PinnedWorkloadFile, "{}")
	assert.Equal(t, []string{l.Path(BatchDir, "batch-a.json"), l.Path(BatchDir, "batch-b.json")}, l.BatchFiles())
	assert.Equal(t, []string{l.Path(WorkloadDir, "workload-a.json")}, l.ReplayFiles())
}

func TestCheckFresh(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, Layout{Dir: filepath.Join(dir, "new")}.CheckFresh())
	require.NoError(t, os.MkdirAll(filepath.Join(dir, LogsDir), 0o755))
	require.NoError(t, Layout{Dir: dir}.CheckFresh())
	require.NoError(t, os.WriteFile(filepath.Join(dir, "x.json"), nil, 0o644))
	err := Layout{Dir: dir}.CheckFresh()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "already holds x.json")
}

func TestScriptStepsFromLogs(t *testing.T) {
	dir := t.TempDir()
	for name, content := range map[string]string{"01-build.stdout": "", "01-build.stderr": "", "01-build.exit": "0\n", "01-build.cmd": "make build\n", "01-build.seconds": "2.500\n"} {
		writeFile(t, dir, LogsDir+"/"+name, content)
	}
	steps := Layout{Dir: dir}.scriptSteps()
	require.Len(t, steps, 1)
	assert.Equal(t, Step{Name: "01-build", Command: "make build", ExitCode: 0, Seconds: 2.5, Stdout: "logs/01-build.stdout", Stderr: "logs/01-build.stderr"}, steps[0])
	assert.Nil(t, Layout{Dir: t.TempDir()}.scriptSteps())
}

// scripts/node_bench.sh runs before any binary exists, so it spells the
// folder's logs/ and gate-output.txt itself: they must be the Layout's.
func TestNodeBenchScriptUsesTheLayout(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "scripts", "node_bench.sh"))
	require.NoError(t, err)
	script := string(b)
	for _, want := range []string{`mkdir -p "$out/` + LogsDir + `"`, `"$out/` + LogsDir + `/$name.cmd"`, "$out/" + GateTextFile, ManifestFile} {
		assert.Contains(t, script, want)
	}
}

package nodebench

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// scripts/node_bench.sh names the gate output only when the gate wrote it:
// after an interrupted run it printed a gate-output.txt path that did not
// exist. The script runs in a copy of the repository's layout with stand-ins
// for make, the build-CPU check and bin/fakbench.
func TestNodeBenchScriptNamesOnlyFilesThatExist(t *testing.T) {
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("bash is not installed")
	}
	script, err := os.ReadFile(filepath.Join("..", "scripts", "node_bench.sh"))
	require.NoError(t, err)
	repo := t.TempDir()
	write := func(rel, content string) {
		p := filepath.Join(repo, rel)
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(content), 0o755))
	}
	write("scripts/node_bench.sh", string(script))
	write("scripts/check_build_cpu.sh", "#!/usr/bin/env bash\nexit 0\n")
	write("tools/make", "#!/usr/bin/env bash\nexit 0\n")
	// The stand-in node-bench writes what the test asks for (FAKE_WRITES:
	// names inside --out) and exits 1, as an interrupted run does.
	write("bin/fakbench", `#!/usr/bin/env bash
for a in "$@"; do case "$a" in --out=*) out="${a#--out=}" ;; esac; done
for f in $FAKE_WRITES; do echo x >"$out/$f"; done
exit 1
`)
	run := func(writes string) (string, string) {
		out := filepath.Join(t.TempDir(), "node")
		cmd := exec.Command("bash", filepath.Join(repo, "scripts", "node_bench.sh"), "--host=test", "--out="+out)
		cmd.Env = append(os.Environ(), "PATH="+filepath.Join(repo, "tools")+string(os.PathListSeparator)+os.Getenv("PATH"), "FAKE_WRITES="+writes)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		err := cmd.Run()
		var exit *exec.ExitError
		require.ErrorAs(t, err, &exit, stderr.String())
		assert.Equal(t, 1, exit.ExitCode(), "the run's exit status passes through")
		return out, stderr.String()
	}

	// Interrupted before the gate, manifest written: no gate-output path,
	// the manifest named.
	out, stderr := run(ManifestFile)
	assert.NotContains(t, stderr, GateTextFile)
	assert.Contains(t, stderr, "interrupted before the gate")
	assert.Contains(t, stderr, filepath.Join(out, ManifestFile)+" says why")

	// Stopped before even the manifest: neither file named.
	_, stderr = run("")
	assert.NotContains(t, stderr, GateTextFile)
	assert.NotContains(t, stderr, ManifestFile+" says")
	assert.Contains(t, stderr, "interrupted before the gate")

	// The gate ran: its output is named.
	out, stderr = run(ManifestFile + " " + GateTextFile)
	assert.Contains(t, stderr, "gate output in "+filepath.Join(out, GateTextFile)+" (exit 1)")
	assert.NotContains(t, stderr, "interrupted")
}

//go:build unix

package html

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fakbench/fakbench/report"
)

// Every output file of a run directory has one mode: report.html was
// written 0600 (os.CreateTemp's mode, kept by the rename) while the JSON
// and Markdown files were 0644.
func TestOutputFilesShareMode(t *testing.T) {
	old := syscall.Umask(0o022) // a known umask; the process-wide one is restored below
	t.Cleanup(func() { syscall.Umask(old) })

	dir := t.TempDir()
	run := fixtureRun()
	require.NoError(t, report.WriteJSON(filepath.Join(dir, "gokernel.json"), run.Rows[0]))
	require.NoError(t, report.WriteFileAtomic(filepath.Join(dir, "report.md"), []byte(report.Markdown(run.Rows))))
	require.NoError(t, WriteFile(filepath.Join(dir, "report.html"), Page{Runs: []Run{run}}))

	for _, name := range []string{"gokernel.json", "report.md", "report.html"} {
		st, err := os.Stat(filepath.Join(dir, name))
		require.NoError(t, err, name)
		assert.Equal(t, os.FileMode(0o644), st.Mode().Perm(), "%s has mode %v", name, st.Mode().Perm())
	}
}

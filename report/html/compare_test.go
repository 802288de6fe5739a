package html

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fakbench/fakbench/report"
)

// A comparison of runs that differ in their workload (compare
// --allow-mismatch) opens with the differences, as the Markdown does.
func TestComparePageWarnsOfMismatch(t *testing.T) {
	a, b := fixtureRun(), fixtureRun()
	for _, r := range b.Rows[:2] {
		r.ModelDigest = "sha256:other"
	}
	runs := []report.RunSet{{Label: "a", Dir: "out/a", Reports: a.Rows}, {Label: "b", Dir: "out/b", Reports: b.Rows}}
	p := ComparePage(runs, "fakbench compare --allow-mismatch out/a out/b")
	require.Equal(t, []string{"model_digest (out/a: sha256:abc, out/b: sha256:other)"}, p.Warnings)
	var buf bytes.Buffer
	require.NoError(t, Render(&buf, p))
	page := buf.String()
	assert.Contains(t, page, "Warning: these runs did not do the same work")
	assert.Contains(t, page, "<li><code>model_digest (out/a: sha256:abc, out/b: sha256:other)</code></li>")
	assert.Less(t, bytes.Index(buf.Bytes(), []byte("Warning")), bytes.Index(buf.Bytes(), []byte("Headline")), "the warning heads the page")

	// Runs of the same workload: no warning.
	p = ComparePage([]report.RunSet{{Label: "a", Reports: a.Rows}, {Label: "c", Reports: fixtureRun().Rows}}, "")
	assert.Empty(t, p.Warnings)
	buf.Reset()
	require.NoError(t, Render(&buf, p))
	assert.NotContains(t, buf.String(), "did not do the same work")
}

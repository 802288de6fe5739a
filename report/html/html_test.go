package html

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fakbench/fakbench/report"
)

func TestHeadlineRatiosAndDirection(t *testing.T) {
	gaps := Headline(fixtureRun().Rows)
	require.NotEmpty(t, gaps)
	byName := map[string]Gap{}
	for _, g := range gaps {
		byName[g.Metric] = g
	}
	// decode: kernel 80 tok/s vs reference 100 -> 0.8 (higher is better).
	assert.InDelta(t, 0.8, byName["decode tok/s"].Ratio, 1e-9)
	assert.Equal(t, "gap 20% to the best tuned reference", byName["decode tok/s"].Verdict())
	// TTFT: kernel 1.25x slower -> ratio 0.8 (lower is better).
	assert.InDelta(t, 0.8, byName["warm changed: TTFT ms"].Ratio, 1e-9)
}

func TestHeadlineNeedsBothRows(t *testing.T) {
	rows := []*report.Report{fixtureRow("gokernel", "kernel", 1)}
	assert.Nil(t, Headline(rows))
	// An untuned llama.cpp row is never the reference.
	rows = append(rows, fixtureRow("llamacpp", "untuned", 2))
	assert.Nil(t, Headline(rows))
}

func TestRenderHasEveryChartWithData(t *testing.T) {
	var buf bytes.Buffer
	require.NoError(t, Render(&buf, Page{Title: "t", Command: "fakbench run --x", Runs: []Run{fixtureRun()}}))
	page := buf.String()
	for _, id := range []string{"suffix-ttft", "ttft", "decode", "itl-cdf", "memory", "batch", "spread"} {
		assert.Contains(t, page, `id="chart-`+id+`"`)
	}
	assert.Equal(t, 7, strings.Count(page, "<svg"), "one inline svg per chart")
	withoutNS := strings.NewReplacer(`xmlns="http://www.w3.org/2000/svg"`, "", `xmlns:xlink="http://www.w3.org/1999/xlink"`, "").Replace(page)
	assert.NotContains(t, withoutNS, "http://", "nothing loaded from the network")
	assert.NotContains(t, withoutNS, "https://", "nothing loaded from the network")
	assert.Contains(t, page, "Tuned reference")
	assert.Contains(t, page, "In-repo kernel")
	assert.Contains(t, page, "runtime not found (tried: /nonexistent)")
	assert.Contains(t, page, "gap 20% to the best tuned reference")
	assert.Contains(t, page, "fakbench run --x")
}

func TestRenderWithoutDataSaysWhy(t *testing.T) {
	r := &report.Report{Backend: "gokernel"}
	var buf bytes.Buffer
	require.NoError(t, Render(&buf, Page{Runs: []Run{{Rows: []*report.Report{r}}}}))
	page := buf.String()
	assert.Contains(t, page, "No backend in this run measured the suffix curve.")
	assert.Contains(t, page, "No backend in this run kept inter-token latencies.")
	assert.Contains(t, page, "No backend in this run measured its memory per phase.")
	assert.Contains(t, page, "no tuned-reference row and kernel row side by side")
	assert.Equal(t, 0, strings.Count(page, "<svg"))
}

func TestRenderRejectsEmptyPage(t *testing.T) {
	err := Render(&bytes.Buffer{}, Page{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "no runs")
}

func TestWriteFileIsAtomic(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "report.html")
	require.NoError(t, WriteFile(p, Page{Runs: []Run{fixtureRun()}}))
	b, err := os.ReadFile(p)
	require.NoError(t, err)
	assert.True(t, strings.HasSuffix(strings.TrimSpace(string(b)), "</html>"))
	left, _ := filepath.Glob(filepath.Join(dir, ".*"))
	assert.Empty(t, left, "no temporary files left behind")
	// A missing directory is created, as for every other output file.
	require.NoError(t, WriteFile(filepath.Join(dir, "missing", "r.html"), Page{Runs: []Run{fixtureRun()}}))
	// A path that cannot be a directory is an error naming the file.
	blocker := filepath.Join(dir, "file")
	require.NoError(t, os.WriteFile(blocker, nil, 0o644))
	err = WriteFile(filepath.Join(blocker, "r.html"), Page{Runs: []Run{fixtureRun()}})
	require.Error(t, err)
	assert.Contains(t, err.Error(), blocker)
	// An empty page is refused before anything is written, naming the file.
	err = WriteFile(filepath.Join(dir, "empty.html"), Page{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "empty.html")
	assert.NoFileExists(t, filepath.Join(dir, "empty.html"))
}

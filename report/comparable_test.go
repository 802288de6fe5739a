package report

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// comparableRun is fixture() with the scenario the measured rows ran.
func comparableRun() []*Report {
	rs := fixture()
	for _, r := range rs {
		if r.Status != StatusSkipped {
			r.Scenario = &ScenarioShape{StableTokens: 512, SuffixTokens: 32, ChangedSuffixTokens: 32, EditAt: 256,
				SuffixCurve: []int{8, 64}, MaxDecode: 64, CompareSteps: 16}
		}
	}
	return rs
}

func writeReports(t *testing.T, dir string, rs []*Report) {
	t.Helper()
	for _, r := range rs {
		require.NoError(t, WriteJSON(filepath.Join(dir, r.Backend+".json"), r))
	}
}

// Two spellings of one model file (a preset's old name and its new one)
// with the same digest are the same model: comparable.
func TestCheckComparableSpecAliasSameDigest(t *testing.T) {
	root := t.TempDir()
	a, b := filepath.Join(root, "a"), filepath.Join(root, "b")
	writeReports(t, a, comparableRun())
	rs := comparableRun()
	for _, r := range rs {
		r.ModelSpec = "synthetic:smol135m-untied:q8_0"
	}
	writeReports(t, b, rs)
	runs, err := ReadComparable([]string{a, b}, false)
	require.NoError(t, err)
	assert.Len(t, runs, 2)

	// Reports that record no digest are told apart by their specs.
	c, d := filepath.Join(root, "c"), filepath.Join(root, "d")
	rc, rd := comparableRun(), comparableRun()
	for _, r := range rc {
		r.ModelDigest = ""
	}
	for _, r := range rd {
		r.ModelDigest, r.ModelSpec = "", "synthetic:tiny"
	}
	writeReports(t, c, rc)
	writeReports(t, d, rd)
	_, err = ReadComparable([]string{c, d}, false)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "runs differ in model_spec ("+c+": synthetic:smol135m:q8_0, "+d+": synthetic:tiny)")
}

// Runs of different workloads are refused, naming each differing field with
// its value per run directory, or per file when one folder mixes two runs.
func TestCheckComparable(t *testing.T) {
	measuredRows := func(rs []*Report, f func(*Report)) {
		for _, r := range rs {
			if r.Status != StatusSkipped {
				f(r)
			}
		}
	}
	cases := []struct {
		name string
		// change edits the second run's reports and may add files to its
		// folder; it returns the mismatches expected, with %[1]s and %[2]s
		// standing for the two directories.
		change func(t *testing.T, dirB string, rs []*Report) string
	}{
		{"model digest", func(_ *testing.T, _ string, rs []*Report) string {
			measuredRows(rs, func(r *Report) { r.ModelDigest = "sha256:bbbb" })
			return "model_digest (%[1]s: sha256:aaaa, %[2]s: sha256:bbbb)"
		}},
		{"token digest (another --seed)", func(_ *testing.T, _ string, rs []*Report) string {
			measuredRows(rs, func(r *Report) { r.TokenDigest = "sha256:uuuu" })
			return "token_ids_digest (%[1]s: sha256:tttt, %[2]s: sha256:uuuu)"
		}},
		{"scenario sizes", func(_ *testing.T, _ string, rs []*Report) string {
			measuredRows(rs, func(r *Report) { r.Scenario.StableTokens = 128 })
			return "scenario (%[1]s: stable=512 suffix=32 changed=32 edit_at=256 curve=8/64 max_decode=64 compare_steps=16, " +
				"%[2]s: stable=128 suffix=32 changed=32 edit_at=256 curve=8/64 max_decode=64 compare_steps=16)"
		}},
		{"short against full", func(_ *testing.T, _ string, rs []*Report) string {
			measuredRows(rs, func(r *Report) { r.Short = true })
			return "short (%[1]s: false, %[2]s: true)"
		}},
		{"stale file of another model in one folder", func(t *testing.T, dirB string, _ []*Report) string {
			stale := comparableRun()[1]
			stale.ModelSpec, stale.ModelDigest = "synthetic:tiny:f16", "sha256:ffff"
			require.NoError(t, WriteJSON(filepath.Join(dirB, "gokernel-old.json"), stale))
			return "model_digest within %[2]s (%[2]s/llamacpp.json: sha256:aaaa, " +
				"%[2]s/gokernel-old.json: sha256:ffff, %[2]s/gokernel.json: sha256:aaaa)"
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			root := t.TempDir()
			a, b := filepath.Join(root, "a"), filepath.Join(root, "b")
			writeReports(t, a, comparableRun())
			rsB := comparableRun()
			want := fmt.Sprintf(c.change(t, b, rsB), a, b)
			writeReports(t, b, rsB)

			_, err := ReadComparable([]string{a, b}, false)
			require.Error(t, err)
			var me *MismatchError
			require.ErrorAs(t, err, &me)
			assert.Equal(t, "runs differ in "+want+": their ratios would compare different work (fakbench compare --allow-mismatch compares them anyway)", err.Error())

			// --allow-mismatch: the runs come back and the same list heads
			// the Markdown, before the numbers.
			runs, err := ReadComparable([]string{a, b}, true)
			require.NoError(t, err)
			require.Len(t, runs, 2)
			md := CompareMarkdown(runs, false)
			assert.Contains(t, md, "> **Warning: these runs did not do the same work")
			for _, m := range me.Mismatches {
				assert.Contains(t, md, "> - "+m.String()+"\n")
			}
			assert.Less(t, strings.Index(md, "Warning"), strings.Index(md, "## Headline"), "the warning comes first")
			assert.Equal(t, len(me.Mismatches), len(MismatchWarnings(runs)))
		})
	}
}

// Runs of the same workload compare silently; rows that never reached the
// scenarios (skipped, failed early) and fields a report does not record
// take no part.
func TestCheckComparableAccepts(t *testing.T) {
	root := t.TempDir()
	a, b := filepath.Join(root, "a"), filepath.Join(root, "b")
	writeReports(t, a, comparableRun())
	rsB := comparableRun()
	rsB[2].ModelSpec, rsB[2].ModelDigest, rsB[2].Short = "synthetic:tiny", "sha256:ffff", true // skipped, no scenario
	failed := comparableRun()[1]
	failed.Backend, failed.Status, failed.Scenario, failed.ModelDigest = "gokernel-failed", StatusFailed, nil, "sha256:ffff"
	old := comparableRun()[1]
	old.Backend, old.ModelSpec, old.ModelDigest, old.TokenDigest, old.Scenario = "gokernel-old", "", "", "", nil // an older report
	writeReports(t, b, append(rsB, failed, old))

	runs, err := ReadComparable([]string{a, b}, false)
	require.NoError(t, err)
	assert.Empty(t, CheckComparable(runs))
	assert.Nil(t, MismatchWarnings(runs))
	assert.NotContains(t, CompareMarkdown(runs, false), "Warning")
	assert.Equal(t, a, runs[0].Dir)
	require.Len(t, runs[1].Files, len(runs[1].Reports))
	for i, r := range runs[1].Reports {
		assert.Equal(t, filepath.Join(b, r.Backend+".json"), runs[1].Files[i], "files follow the sorted reports")
	}

	// A failed row that did reach the scenarios is measured work and must
	// match.
	failed.Scenario = comparableRun()[0].Scenario
	writeReports(t, b, []*Report{failed})
	_, err = ReadComparable([]string{a, b}, false)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "model_digest within "+b+" (")
	assert.Contains(t, err.Error(), filepath.Join(b, "gokernel-failed.json")+": sha256:ffff")

	_, err = ReadComparable(nil, false)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "no run directory given")
}

// Runs built in memory (no directory, no files) are named by label and row.
func TestCheckComparableInMemory(t *testing.T) {
	x, y := comparableRun(), comparableRun()
	y[1].TokenDigest = "sha256:uuuu"
	ms := CheckComparable([]RunSet{{Label: "x", Reports: x}, {Label: "y", Reports: y}})
	require.Len(t, ms, 1)
	assert.Equal(t, "token_ids_digest within y (y: llamacpp: sha256:tttt, y: gokernel: sha256:uuuu)", ms[0].String())
	assert.True(t, errors.As(error(&MismatchError{Mismatches: ms}), new(*MismatchError)))
}

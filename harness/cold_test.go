package harness_test

import (
	"context"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fakbench/fakbench/adapters/conformance/fake"
	"github.com/fakbench/fakbench/harness"
	"github.com/fakbench/fakbench/report"
)

// Every report says once what "cold" means: an empty KV cache only, with
// the page cache and the backend's compiled state warm.
func TestEveryReportSaysWhatColdMeans(t *testing.T) {
	count := func(rep *report.Report) int {
		n := 0
		for _, s := range rep.Notes {
			if s == harness.ColdNote {
				n++
			}
		}
		return n
	}
	rep := runFake(t, fake.Config{})
	assert.Equal(t, 1, count(rep), "a measured report")

	base := &report.Report{Notes: []string{"row note"}}
	rep, err := harness.Run(context.Background(), fake.New(fake.Config{Context: 128}), shortScenario(t), harness.Config{Base: base})
	require.Error(t, err)
	assert.Equal(t, 1, count(rep), "a report whose run stopped before any section")
	assert.True(t, slices.Contains(rep.Notes, "row note"))

	for _, s := range []string{"empty KV cache only", "page cache", "OpenVINO's cached IR, its model compiled at load and its compiled shapes"} {
		assert.Contains(t, harness.ColdNote, s)
	}
}

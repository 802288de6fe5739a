// Package evidencetest writes the pieces of a node-bench artifact folder
// for tests: JSON files, a valid run report, a batch curve and its file, a
// replayed workload and its file. The gate's tests (nodebench) and the
// fleet's build their fixture folders from it; it does not import
// nodebench, so nodebench's own tests can use it.
package evidencetest

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/fakbench/fakbench/harness/artifact"
	"github.com/fakbench/fakbench/harness/batch"
	"github.com/fakbench/fakbench/harness/workload"
	"github.com/fakbench/fakbench/report"
)

// WriteJSON writes v to path as fakbench writes its JSON files
// (report.WriteJSONFile), creating its folder; a failure fails the test.
func WriteJSON(t testing.TB, path string, v any) {
	t.Helper()
	require.NoError(t, report.WriteJSONFile(path, v))
}

// Report is a run report of backend that the gate finds valid: every
// correctness flag true and every timing positive (a 100-token cold
// prefill in 200 ms at 500 tok/s, warm TTFTs of 5 and 20 ms, decode at 90
// tok/s, a two-point suffix curve).
func Report(backend string) *report.Report {
	r := &report.Report{Model: "m", Backend: backend, Mode: "live_prefix_reuse"}
	r.Status = report.StatusOK
	r.ColdFullPrefill = report.ColdPrefill{Tokens: 100, MS: 200, PromptTPS: 500, TTFTMS: 200}
	r.WarmSamePrefix = report.WarmSame{CachedTokens: 100, MS: 1, TTFTMS: 5, HitRate: 1}
	r.WarmChangedSuffix = report.WarmChanged{CachedTokens: 100, SuffixTokens: 10, MS: 20, TTFTMS: 20, OutputEqualsCold: true}
	r.EditedStable = report.EditedStable{ExpectedCacheMiss: true, ActualCacheMiss: true, OutputEqualsCold: true}
	r.Decode = report.Decode{OutputTokens: 32, TokensPerSec: 90}
	r.SuffixTTFTCurve = []report.SuffixTTFT{{SuffixTokens: 8, TTFTMS: 10}, {SuffixTokens: 64, TTFTMS: 40}}
	r.FailureCases = report.FailureCases{OverContext: true, CancelDecode: true}
	return r
}

// Curve is a batch curve over batch.DefaultBatches at 100 tok/s for B = 1,
// its speedup rising linearly to speedup at B = 64. bounded > 0 stops it
// after that many points, with a recorded memory bound.
func Curve(speedup float64, bounded int) *batch.Curve {
	c := &batch.Curve{PromptTokens: 32, Steps: 16, Reps: 3, Requested: batch.DefaultBatches, Bound: "requested maximum"}
	n := len(batch.DefaultBatches)
	if bounded > 0 {
		n = bounded
		c.Bound = "memory: B=16 needs too much"
	}
	for i, b := range batch.DefaultBatches[:n] {
		s := 1 + (speedup-1)*float64(i)/float64(len(batch.DefaultBatches)-1)
		c.Points = append(c.Points, batch.Point{BatchPoint: report.BatchPoint{Batch: b, TokensPerSec: 100 * s, SpeedupVsB1: s, SamplesTPS: []float64{100 * s}}})
	}
	last := c.Points[len(c.Points)-1]
	c.MaxBatch, c.SpeedupAtMax = last.Batch, last.SpeedupVsB1
	return c
}

// BatchFile is backend's batch file: ok with the curve c.
func BatchFile(backend string, c *batch.Curve) batch.File {
	return batch.File{Identity: artifact.Identity{Schema: batch.Schema, Backend: backend, Status: artifact.StatusOK}, Curve: c}
}

// Replay is backend's replay file of a workload of turns turns, of which
// the first replayed were: one conversation, every turn after the first
// warm, turn i reusing the 10·i tokens its plan guarantees.
func Replay(backend string, turns, replayed int) workload.ReplayFile {
	res := &workload.ReplayResult{}
	for i := 0; i < replayed; i++ {
		res.Turns = append(res.Turns, workload.TurnResult{Index: i, Warm: i > 0, ExpectedMinReused: 10 * i, ReusedTokens: 10 * i,
			TTFTMS: 12, TTFTSamplesMS: []float64{12}, DecodedTokens: 5, DecodeTPS: 80})
	}
	return workload.ReplayFile{Identity: artifact.Identity{Schema: workload.ReplaySchema, Backend: backend, Status: artifact.StatusOK},
		WorkloadTurns: turns, ReplayedTurns: replayed, Result: res}
}

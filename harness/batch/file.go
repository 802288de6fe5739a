package batch

import (
	"fmt"
	"io"

	"github.com/fakbench/fakbench/harness/artifact"
)

// FilePrefix and WorkloadFilePrefix start the names of a backend's files:
// FileName(backend) and WorkloadFileName(backend).
const (
	FilePrefix         = "batch-"
	WorkloadFilePrefix = "diag-batch-workload-"
)

// FileName is the batch curve file of a backend ("batch-<backend>.json").
func FileName(backend string) string { return FilePrefix + backend + ".json" }

// WorkloadFileName is the batch workload diagnostic of a backend
// ("diag-batch-workload-<backend>.json").
func WorkloadFileName(backend string) string { return WorkloadFilePrefix + backend + ".json" }

// File is batch-<backend>.json: one backend's curve with the identity of
// the run that measured it.
type File struct {
	// Identity encodes inline: schema, backend, ..., short.
	artifact.Identity
	Settings   map[string]string `json:"settings,omitempty"`
	StartedAt  string            `json:"started_at"`
	FinishedAt string            `json:"finished_at"`
	Curve      *Curve            `json:"curve,omitempty"`
	// Notes say what a reader must know (e.g. that this is a diagnostic).
	Notes []string `json:"notes,omitempty"`
}

// HasResult reports whether the file holds a curve with at least one point.
func (f *File) HasResult() bool { return f.Curve != nil && len(f.Curve.Points) > 0 }

// ReadFile reads and checks a batch file: the schema, a backend name, a
// known status, and a curve with at least one point when the status is ok.
func ReadFile(path string) (*File, error) {
	return artifact.Read[File](path, artifact.Kind{Prefix: "batch", What: "a batch JSON object", Schema: Schema, NoResult: "no curve points"})
}

// Describe prints the file as fakbench batch does: the curve as a table
// (B, tok/s, the ratio to B = 1, per sequence, same tokens as B = 1), or
// why the backend did not run. name is the row's name.
func (f *File) Describe(w io.Writer, name string) {
	if f.DescribeNotRun(w, name) || f.Curve == nil {
		return
	}
	c := f.Curve
	fmt.Fprintf(w, "%-10s batch curve (prompt %d, %d steps, %d reps; bound: %s)\n", name, c.PromptTokens, c.Steps, c.Reps, c.Bound)
	fmt.Fprintf(w, "  %5s %12s %10s %14s %10s\n", "B", "tok/s", "vs B=1", "per sequence", "same as B=1")
	for _, p := range c.Points {
		fmt.Fprintf(w, "  %5d %12.1f %9.2fx %14.1f %10v\n", p.Batch, p.TokensPerSec, p.SpeedupVsB1, p.PerSequenceTPS, p.MatchesB1)
	}
}

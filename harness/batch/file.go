package batch

import (
	"fmt"

	"github.com/fakbench/fakbench/harness/artifact"
)

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

// ReadFile reads and checks a batch file: the schema, a backend name, a
// known status, and a curve with at least one point when the status is ok.
func ReadFile(path string) (*File, error) {
	var f File
	if err := artifact.ReadJSON(path, "batch", "a batch JSON object", &f); err != nil {
		return nil, err
	}
	if err := f.Check(path, "batch", Schema); err != nil {
		return nil, err
	}
	if f.Status == artifact.StatusOK && (f.Curve == nil || len(f.Curve.Points) == 0) {
		return nil, fmt.Errorf("batch: %s: status ok but no curve points", path)
	}
	return &f, nil
}

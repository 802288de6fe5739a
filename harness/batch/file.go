package batch

import (
	"encoding/json"
	"fmt"
	"os"
)

// Statuses of a batch file.
const (
	StatusOK      = "ok"
	StatusSkipped = "skipped"
	StatusFailed  = "failed"
)

// File is batch-<backend>.json: one backend's curve with the identity of
// the run that measured it.
type File struct {
	Schema         string `json:"schema"`
	Backend        string `json:"backend"`
	BackendVersion string `json:"backend_version,omitempty"`
	Status         string `json:"status"`
	// Reason says why a backend was skipped or failed.
	Reason      string            `json:"reason,omitempty"`
	ModelSpec   string            `json:"model_spec"`
	ModelDigest string            `json:"model_digest,omitempty"`
	Threads     int               `json:"threads"`
	Short       bool              `json:"short"`
	Settings    map[string]string `json:"settings,omitempty"`
	StartedAt   string            `json:"started_at"`
	FinishedAt  string            `json:"finished_at"`
	Curve       *Curve            `json:"curve,omitempty"`
	// Notes say what a reader must know (e.g. that this is a diagnostic).
	Notes []string `json:"notes,omitempty"`
}

// ReadFile reads and checks a batch file: the schema, a backend name, a
// known status, and a curve with at least one point when the status is ok.
func ReadFile(path string) (*File, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("batch: %w", err)
	}
	var f File
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("batch: %s is not a batch JSON object: %w", path, err)
	}
	switch {
	case f.Schema != Schema:
		return nil, fmt.Errorf("batch: %s: schema %q, want %q", path, f.Schema, Schema)
	case f.Backend == "":
		return nil, fmt.Errorf("batch: %s: no backend name", path)
	case f.Status != StatusOK && f.Status != StatusSkipped && f.Status != StatusFailed:
		return nil, fmt.Errorf("batch: %s: status %q, want ok, skipped or failed", path, f.Status)
	case f.Status == StatusOK && (f.Curve == nil || len(f.Curve.Points) == 0):
		return nil, fmt.Errorf("batch: %s: status ok but no curve points", path)
	}
	return &f, nil
}

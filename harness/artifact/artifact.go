// Package artifact holds what the per-backend result files of fakbench
// batch (batch-<backend>.json) and fakbench workload replay
// (workload-<backend>.json) share: the identity of the run that wrote them
// and the checks made when one is read back. Its ReadJSON reads every JSON
// file fakbench reads back (reports, sweeps and manifests too), so their
// errors name the file alike.
package artifact

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
)

// Statuses of a per-backend result file.
const (
	StatusOK      = "ok"
	StatusSkipped = "skipped"
	StatusFailed  = "failed"
)

// Identity is the run identity at the head of a per-backend result file.
// Embedded in a file struct, its fields encode inline (encoding/json
// promotes an embedded struct's fields), in this order, before the file's
// own fields.
type Identity struct {
	Schema         string `json:"schema"`
	Backend        string `json:"backend"`
	BackendVersion string `json:"backend_version,omitempty"`
	Status         string `json:"status"`
	// Reason says why a backend was skipped or failed.
	Reason      string `json:"reason,omitempty"`
	ModelSpec   string `json:"model_spec"`
	ModelDigest string `json:"model_digest,omitempty"`
	Threads     int    `json:"threads"`
	Short       bool   `json:"short"`
}

// ReadJSON reads path and decodes it into v. Errors start with prefix
// (e.g. "batch") and name the file; kind says what the file should be
// (e.g. "a batch JSON object").
func ReadJSON(path, prefix, kind string, v any) error {
	_, err := readJSON(path, prefix, kind, v)
	return err
}

// ReadSchemaJSON is ReadJSON for a file whose top-level "schema" must be
// schema (a manifest, the fleet index): one that names another is an error
// naming the file and both schemas.
func ReadSchemaJSON(path, prefix, kind, schema string, v any) error {
	data, err := readJSON(path, prefix, kind, v)
	if err != nil {
		return err
	}
	var head struct {
		Schema string `json:"schema"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return fmt.Errorf("%s: %s is not %s: %w", prefix, path, kind, err)
	}
	if head.Schema != schema {
		return fmt.Errorf("%s: %s: schema %q, want %q", prefix, path, head.Schema, schema)
	}
	return nil
}

// readJSON is ReadJSON that also returns the bytes it decoded.
func readJSON(path, prefix, kind string, v any) ([]byte, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", prefix, err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		return nil, fmt.Errorf("%s: %s is not %s: %w", prefix, path, kind, err)
	}
	return data, nil
}

// ID returns id: a file struct that embeds Identity has it as a method,
// as File asks.
func (id *Identity) ID() *Identity { return id }

// File is what Read asks of a per-backend result file's struct: its
// Identity (ID, promoted from the embedded Identity), and whether it holds
// the result an ok file must have.
type File interface {
	ID() *Identity
	HasResult() bool
}

// Kind describes one kind of per-backend result file.
type Kind struct {
	// Prefix starts every error about a file of this kind ("batch"), What
	// says what the file should be ("a batch JSON object"), and Schema is
	// the schema it must name.
	Prefix, What, Schema string
	// NoResult says what an ok file is missing when HasResult is false
	// ("no curve points").
	NoResult string
}

// Read reads a file of kind k from path and checks it: the JSON
// (ReadJSON), the identity (Identity.Check), and, when its status is ok,
// that it holds its result. Every error starts with k.Prefix and names
// path.
func Read[F any, P interface {
	*F
	File
}](path string, k Kind) (*F, error) {
	f := P(new(F))
	if err := ReadJSON(path, k.Prefix, k.What, f); err != nil {
		return nil, err
	}
	id := f.ID()
	if err := id.Check(path, k.Prefix, k.Schema); err != nil {
		return nil, err
	}
	if id.Status == StatusOK && !f.HasResult() {
		return nil, fmt.Errorf("%s: %s: status ok but %s", k.Prefix, path, k.NoResult)
	}
	return f, nil
}

// Check reports the first of these that is wrong with id, read from path:
// the schema is not schema, there is no backend name, or the status is not
// one of the three known ones. Errors start with prefix and name path.
func (id *Identity) Check(path, prefix, schema string) error {
	switch {
	case id.Schema != schema:
		return fmt.Errorf("%s: %s: schema %q, want %q", prefix, path, id.Schema, schema)
	case id.Backend == "":
		return fmt.Errorf("%s: %s: no backend name", prefix, path)
	case id.Status != StatusOK && id.Status != StatusSkipped && id.Status != StatusFailed:
		return fmt.Errorf("%s: %s: status %q, want ok, skipped or failed", prefix, path, id.Status)
	}
	return nil
}

// DescribeNotRun prints "<name> skipped: <reason>" or "<name> FAILED:
// <reason>" for a file whose backend did not run, and reports whether it
// printed (false for an ok file, which its own package describes).
func (id *Identity) DescribeNotRun(w io.Writer, name string) bool {
	switch id.Status {
	case StatusOK:
		return false
	case StatusSkipped:
		fmt.Fprintf(w, "%-10s skipped: %s\n", name, id.Reason)
	default:
		fmt.Fprintf(w, "%-10s FAILED: %s\n", name, id.Reason)
	}
	return true
}

package workload

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/fakbench/fakbench/report"
)

// Save writes the workload to path as indented JSON through a temporary
// file and a rename (report.WriteJSONFile).
func (w Workload) Save(path string) error { return report.WriteJSONFile(path, w) }

// Wrote is the line "fakbench workload derive" and "synth" print after
// saving w to path: its turns, conversations, longest prompt and digest.
func (w Workload) Wrote(path string) string {
	d, _ := w.Digest()
	s := w.Stats()
	return fmt.Sprintf("wrote %s: %d turns in %d conversation(s), max prompt %d tokens, digest %s", path, s.Turns, s.Conversations, s.MaxPromptTokens, d)
}

// DeriveFile derives a workload from the request log at path ("-": stdin,
// read from stdin). An empty opts.Source becomes "request log <file name>"
// for a file. The error names the log.
func DeriveFile(path string, stdin io.Reader, opts DeriveOptions) (Workload, error) {
	r := stdin
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return Workload{}, err
		}
		defer f.Close()
		r = f
		if opts.Source == "" {
			opts.Source = "request log " + filepath.Base(path)
		}
	}
	w, err := Derive(r, opts)
	if err != nil {
		return w, fmt.Errorf("%s: %w", path, err)
	}
	return w, nil
}

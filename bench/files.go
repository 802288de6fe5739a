package bench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"

	"github.com/fakbench/fakbench/adapters"
	"github.com/fakbench/fakbench/harness/artifact"
	"github.com/fakbench/fakbench/models"
	"github.com/fakbench/fakbench/nodebench"
	"github.com/fakbench/fakbench/report"
	"github.com/fakbench/fakbench/report/formats"
	"github.com/fakbench/fakbench/transport"
)

// ResolveModel resolves a --model spec (models.Resolve), naming the flag
// when the spec names no file.
func ResolveModel(ctx context.Context, spec string, progress io.Writer) (models.Resolved, error) {
	m, err := models.Resolve(ctx, spec, progress)
	if se, ok := errors.AsType[*models.SpecError](err); ok {
		return m, fmt.Errorf("--model %s: %w", spec, se.Err)
	}
	return m, err
}

// NodeModelResolver is the node bench's model resolution
// (nodebench.Config.ResolveModel): ResolveModel with progress to w.
func NodeModelResolver(w io.Writer) func(context.Context, string) (nodebench.Model, error) {
	return func(ctx context.Context, spec string) (nodebench.Model, error) {
		m, err := ResolveModel(ctx, spec, w)
		return nodebench.Model{Spec: spec, Path: m.Path, Digest: m.Digest, Bytes: m.Size}, err
	}
}

// openMeasured opens a backend (tuned profile) for a batch curve or a
// workload replay. It returns the backend, or nil with the status (skipped
// for an engine that cannot run here, failed otherwise) and the reason.
func openMeasured(ctx context.Context, name, modelPath string, threads, ctxLen int) (transport.Backend, string, string) {
	b, err := adapters.Open(ctx, name, adapters.Options{ModelPath: modelPath, Threads: threads, ContextLength: ctxLen, Profile: "tuned"})
	switch {
	case err == nil:
		return b, "", ""
	case transport.IsUnavailable(err):
		return nil, artifact.StatusSkipped, err.Error()
	case errors.Is(err, context.Canceled):
		return nil, artifact.StatusFailed, "interrupted: " + err.Error()
	}
	return nil, artifact.StatusFailed, "open: " + err.Error()
}

// WriteFormat renders the reports in a non-json stdout format
// (report/formats) and writes them to DIR/report.<ext>; it returns the
// bytes and the path.
func WriteFormat(dir, format string, reports []*report.Report) ([]byte, string, error) {
	var buf bytes.Buffer
	if err := formats.Write(&buf, format, reports); err != nil {
		return nil, "", fmt.Errorf("--format %s: %w", format, err)
	}
	path := filepath.Join(dir, "report"+formats.Extension(format))
	if err := report.WriteFileAtomic(path, buf.Bytes()); err != nil {
		return nil, "", err
	}
	return buf.Bytes(), path, nil
}

// PrintFormats prints a run's reports on stdout in each chosen format: the
// plain side-by-side table for json (the JSON files are Result.Write's),
// and every other format rendered, printed and written to
// dir/report.<ext>, each file named on stderr.
func PrintFormats(stdout, stderr io.Writer, dir string, fmts []string, reports []*report.Report) error {
	for _, f := range fmts {
		if f == "json" {
			fmt.Fprint(stdout, report.Table(reports))
			fmt.Fprintf(stdout, "\nreports written to %s (one JSON per backend, report.md, report.html)\n", dir)
			continue
		}
		data, path, err := WriteFormat(dir, f, reports)
		if err != nil {
			return err
		}
		if _, err := stdout.Write(data); err != nil {
			return err
		}
		fmt.Fprintf(stderr, "fakbench run: %s written to %s\n", f, path)
	}
	return nil
}

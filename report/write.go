package report

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/fakbench/fakbench/harness/artifact"
)

// WriteJSON writes r to path (WriteJSONFile).
func WriteJSON(path string, r *Report) error {
	if r == nil {
		return fmt.Errorf("report: write %s: nil report", path)
	}
	return WriteJSONFile(path, r)
}

// WriteJSONFile writes v to path as JSON indented by two spaces with a final
// newline, the form of every JSON file fakbench writes (reports, sweeps,
// the node-bench manifest and gate verdict, the fleet index, batch curves
// and replays). The file is written to a temporary file in the same
// directory, synced and renamed into place (WriteFileAtomic), so an
// interrupted run never leaves a file that looks complete.
func WriteJSONFile(path string, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("report: encode %s: %w", path, err)
	}
	return WriteFileAtomic(path, append(data, '\n'))
}

// WriteFileAtomic writes data to path through a temporary file in the same
// directory and a rename, creating the directory when needed. The file is
// made mode 0644 (os.CreateTemp makes 0600 files and the rename keeps that
// mode): every output file fakbench writes (reports, Markdown, HTML, the
// other formats, the node-bench manifest and gate verdict) goes through
// this one helper, so they all share one mode.
func WriteFileAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("report: create directory %s: %w", dir, err)
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("report: write %s: %w", path, err)
	}
	tmpName := tmp.Name()
	ok := false
	defer func() {
		if !ok {
			_ = tmp.Close()
			_ = os.Remove(tmpName)
		}
	}()
	if _, err := tmp.Write(data); err != nil {
		return fmt.Errorf("report: write %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("report: sync %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("report: close %s: %w", path, err)
	}
	if err := os.Chmod(tmpName, 0o644); err != nil {
		return fmt.Errorf("report: chmod %s: %w", path, err)
	}
	if err := os.Rename(tmpName, path); err != nil {
		return fmt.Errorf("report: rename into %s: %w", path, err)
	}
	ok = true
	return nil
}

// ReadJSON reads one report file. Unknown fields are kept out (ignored), but
// a file that is not a JSON object with at least a backend name is an error
// naming the file.
func ReadJSON(path string) (*Report, error) {
	var r Report
	if err := artifact.ReadJSON(path, "report", "a report JSON object", &r); err != nil {
		return nil, err
	}
	if strings.TrimSpace(r.Backend) == "" {
		return nil, fmt.Errorf("report: %s has no \"backend\" field: not a fakbench report", path)
	}
	return &r, nil
}

// ReadDir reads every backend report (*.json) in dir, sorted by row kind
// (tuned reference, kernel, others) and then by backend name. Files that are
// JSON but not reports (no "backend" field, e.g. a manifest) are skipped; a
// report file that cannot be parsed is an error naming it. A directory with
// no report is an error.
func ReadDir(dir string) ([]*Report, error) {
	rs, _, err := readDir(dir, false)
	return rs, err
}

// ReadDirFiles is ReadDir that also returns the file each report was read
// from (dir joined with its name), in the same order as the reports.
func ReadDirFiles(dir string) ([]*Report, []string, error) {
	return readDir(dir, false)
}

// ReadDirRegular is ReadDir that reads regular files only: a symbolic link
// (or any other entry that is not a plain file) is passed over unread, so
// nothing outside dir is ever opened through it. The node-bench gate reads
// its folder this way and names such entries itself.
func ReadDirRegular(dir string) ([]*Report, error) {
	rs, _, err := readDir(dir, true)
	return rs, err
}

func readDir(dir string, regularOnly bool) ([]*Report, []string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, nil, fmt.Errorf("report: %w", err)
	}
	var out []*Report
	var files []string
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, ".json") || strings.HasPrefix(name, ".") {
			continue
		}
		if regularOnly && !e.Type().IsRegular() {
			continue
		}
		path := filepath.Join(dir, name)
		var probe map[string]json.RawMessage
		if err := artifact.ReadJSON(path, "report", "valid JSON", &probe); err != nil {
			return nil, nil, err
		}
		if _, ok := probe["backend"]; !ok {
			continue // another artifact (manifest, workload, ...)
		}
		r, err := ReadJSON(path)
		if err != nil {
			return nil, nil, err
		}
		out = append(out, r)
		files = append(files, path)
	}
	if len(out) == 0 {
		return nil, nil, fmt.Errorf("report: no backend report (*.json with a \"backend\" field) in %s", dir)
	}
	// Sort the reports and their files together.
	idx := make([]int, len(out))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(i, j int) bool { return reportLess(out[idx[i]], out[idx[j]]) })
	rs, fs := make([]*Report, len(out)), make([]string, len(out))
	for i, k := range idx {
		rs[i], fs[i] = out[k], files[k]
	}
	return rs, fs, nil
}

// SortReports orders reports for display: rows that ran before skipped
// ones; among them the tuned reference first, then the kernel row, then the
// other rows; ties by backend name and label.
func SortReports(rs []*Report) {
	sort.SliceStable(rs, func(i, j int) bool { return reportLess(rs[i], rs[j]) })
}

// reportLess is the order of SortReports.
func reportLess(a, b *Report) bool {
	sa, sb := a.Status == StatusSkipped, b.Status == StatusSkipped
	if sa != sb {
		return sb
	}
	ka, kb := kindRank(a.RowKind), kindRank(b.RowKind)
	if ka != kb {
		return ka < kb
	}
	if a.Backend != b.Backend {
		return a.Backend < b.Backend
	}
	return a.RowLabel < b.RowLabel
}

func kindRank(kind string) int {
	switch kind {
	case KindTunedReference:
		return 0
	case KindKernel:
		return 1
	case KindAblation:
		return 2
	case KindCandidateHeadroom:
		return 3
	case KindUntuned:
		return 4
	}
	return 5
}

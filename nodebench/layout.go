// Package nodebench is the node benchmark's artifact folder (the method
// docs/node-bench.md describes): its layout, the manifest that lists and
// hashes every file in it, the gate that checks it, and the run that fills
// it (Run, behind "fakbench node-bench").
//
// The package sits above harness: it reads the files the harness writes
// (bench reports, batch curves, workload replays) but nothing below it knows
// the folder.
package nodebench

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/fakbench/fakbench/harness/batch"
	"github.com/fakbench/fakbench/harness/workload"
)

// Layout is one node-bench artifact folder and where each piece of evidence
// lives in it. Every name inside the folder is spelled here once:
//
//	Dir/production-readiness-manifest.json  the manifest (ManifestFile)
//	Dir/bench/      fakbench run: <backend>.json and report.md
//	Dir/workload/   fakbench workload replay: workload-<backend>.json and
//	                production-workload.json, the pinned workload
//	Dir/batch/      fakbench batch: batch-<backend>.json and, with the
//	                diagnostic, diag-batch-workload-<backend>.json
//	Dir/logs/       NN-step.stdout and .stderr of every step (the script's
//	                also .exit, .seconds and .cmd)
//	Dir/gate-output.txt, gate-output.json   the gate's verdict, written last
//
// scripts/node_bench.sh spells logs/ and gate-output.txt itself (it runs
// before any binary exists); a test keeps it in step with these names.
type Layout struct {
	// Dir is the folder (scripts/node_bench.sh: experiments/fleet-nodes/<host>).
	Dir string
}

// Names inside the folder, relative to Dir.
const (
	// BenchDir holds the run reports.
	BenchDir = "bench"
	// WorkloadDir holds the workload replays and the pinned workload.
	WorkloadDir = "workload"
	// BatchDir holds the batch curves.
	BatchDir = "batch"
	// LogsDir holds every step's output.
	LogsDir = "logs"
	// ManifestFile is production-readiness-manifest.json.
	ManifestFile = "production-readiness-manifest.json"
	// GateTextFile and GateJSONFile are the gate's verdict, written after the
	// manifest is final.
	GateTextFile = "gate-output.txt"
	GateJSONFile = "gate-output.json"
	// PinnedWorkloadFile is the workload the run replayed, byte for byte,
	// under WorkloadDir.
	PinnedWorkloadFile = "production-workload.json"
)

// batchName and replayName name a backend's files in the gate's findings
// ("batch-llamacpp says short").
func batchName(backend string) string  { return batch.FilePrefix + backend }
func replayName(backend string) string { return workload.ReplayFilePrefix + backend }

// Subdirs are the sub-folders a run creates, in order.
func Subdirs() []string { return []string{BenchDir, WorkloadDir, BatchDir, LogsDir} }

// Path joins rel (slash-separated, relative to the folder) to Dir.
func (l Layout) Path(rel ...string) string {
	parts := append([]string{l.Dir}, rel...)
	return filepath.Join(parts...)
}

// Bench, Workload, Batch and Logs are the sub-folders.
func (l Layout) Bench() string    { return l.Path(BenchDir) }
func (l Layout) Workload() string { return l.Path(WorkloadDir) }
func (l Layout) Batch() string    { return l.Path(BatchDir) }
func (l Layout) Logs() string     { return l.Path(LogsDir) }

// Manifest is the manifest's path.
func (l Layout) Manifest() string { return l.Path(ManifestFile) }

// GateText and GateJSON are the paths of the gate's verdict.
func (l Layout) GateText() string { return l.Path(GateTextFile) }
func (l Layout) GateJSON() string { return l.Path(GateJSONFile) }

// PinnedWorkload is the path of the replayed workload's copy.
func (l Layout) PinnedWorkload() string { return l.Path(WorkloadDir, PinnedWorkloadFile) }

// BatchFiles lists the batch curve files (batch/batch-*.json), sorted.
func (l Layout) BatchFiles() []string { return glob(l.Batch(), batch.FilePrefix, ".json") }

// ReplayFiles lists the workload replay files (workload/workload-*.json),
// sorted.
func (l Layout) ReplayFiles() []string { return glob(l.Workload(), workload.ReplayFilePrefix, ".json") }

// LogBase is the relative, slash-separated base of a step's log files
// ("logs/10-run"): .stdout and .stderr are appended.
func LogBase(n int, step string) string { return fmt.Sprintf("%s/%02d-%s", LogsDir, n, step) }

// Unlisted reports whether rel (relative, slash-separated) may sit in the
// folder without the manifest listing it: the manifest itself and the gate
// outputs, which are written after it.
func Unlisted(rel string) bool {
	return rel == ManifestFile || rel == GateTextFile || rel == GateJSONFile
}

// Create makes the folder and its sub-folders.
func (l Layout) Create() error {
	for _, d := range Subdirs() {
		if err := os.MkdirAll(l.Path(d), 0o755); err != nil {
			return err
		}
	}
	return nil
}

// CheckFresh accepts a missing or empty folder, or one that holds only
// logs/ (the script's setup and build logs): a new run never mixes its
// evidence with an old one's.
func (l Layout) CheckFresh() error {
	entries, err := os.ReadDir(l.Dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	for _, e := range entries {
		if e.Name() != LogsDir || !e.IsDir() {
			return fmt.Errorf("%s already holds %s: use an empty directory (move the old artifacts aside) so no stale file joins this run's evidence", l.Dir, e.Name())
		}
	}
	return nil
}

// glob lists the regular files of dir named prefix*suffix, sorted. A
// symbolic link is never listed, so no reader of the folder follows one
// (Links names them).
func glob(dir, prefix, suffix string) []string {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	var out []string
	for _, e := range entries {
		if e.Type().IsRegular() && strings.HasPrefix(e.Name(), prefix) && strings.HasSuffix(e.Name(), suffix) {
			out = append(out, filepath.Join(dir, e.Name()))
		}
	}
	sort.Strings(out)
	return out
}

// Link is a symbolic link found in the folder. The gate refuses every one,
// wherever it points: the manifest's Scan refuses links when it hashes the
// folder, so a folder the node bench wrote holds none; a link out of the
// folder would pass off another file as this node's evidence, and one
// inside would count a file twice. The gate reads no link at all (it never
// follows one out of the folder) and names each with where it points.
type Link struct {
	// Path is the link, relative to the folder and slash-separated.
	Path string
	// Dest is the link's text (os.Readlink).
	Dest string
	// Target is where it resolves to (filepath.EvalSymlinks); empty when it
	// does not resolve, with Err saying why.
	Target string
	Err    error
	// Outside says Target lies outside the folder.
	Outside bool
}

// String describes the link: "bench/x.json -> /tmp/x.json (outside the
// folder)".
func (k Link) String() string {
	switch {
	case k.Target == "":
		return fmt.Sprintf("%s -> %s (does not resolve: %v)", k.Path, k.Dest, k.Err)
	case k.Outside && k.Target != k.Dest:
		return fmt.Sprintf("%s -> %s (resolves to %s, outside the folder)", k.Path, k.Dest, k.Target)
	case k.Outside:
		return fmt.Sprintf("%s -> %s (outside the folder)", k.Path, k.Dest)
	}
	return fmt.Sprintf("%s -> %s (inside the folder)", k.Path, k.Dest)
}

// Links lists every symbolic link in the folder, sorted by path, each with
// where it resolves (filepath.EvalSymlinks) and whether that lies outside
// the folder. The walk never follows a link, so a linked directory is one
// entry and nothing under it is listed.
func (l Layout) Links() ([]Link, error) {
	root, err := resolve(l.Dir)
	if err != nil {
		return nil, fmt.Errorf("resolving %s: %w", l.Dir, err)
	}
	var out []Link
	err = l.walk(func(path, rel string, d fs.DirEntry) error {
		if d.Type()&fs.ModeSymlink == 0 {
			return nil
		}
		k := Link{Path: rel}
		if k.Dest, err = os.Readlink(path); err != nil {
			return err
		}
		if k.Target, k.Err = resolve(path); k.Err == nil {
			k.Outside = outside(root, k.Target)
		}
		out = append(out, k)
		return nil
	})
	if err != nil {
		return out, fmt.Errorf("looking for symbolic links in %s: %w", l.Dir, err)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out, nil
}

// resolve returns the absolute path that path resolves to, every link
// followed (filepath.EvalSymlinks), or "" and why not.
func resolve(path string) (string, error) {
	p, err := filepath.EvalSymlinks(path)
	if err != nil {
		return "", err
	}
	return filepath.Abs(p)
}

// outside reports whether path (resolved, absolute) lies outside root.
func outside(root, path string) bool {
	rel, err := filepath.Rel(root, path)
	return err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator))
}

// isLink reports whether path is a symbolic link (os.Lstat); a path that
// cannot be examined is not one (its reader reports the error).
func isLink(path string) bool {
	st, err := os.Lstat(path)
	return err == nil && st.Mode()&fs.ModeSymlink != 0
}

// The manifest, production-readiness-manifest.json (the node-bench method,
// docs/methodology.md): what a node run was (host, commit, toolchain, build
// flags, CPU, measured memory bandwidth, threads, backends, model and
// workload digests, caps, times) and every artifact it left, with size and
// sha256, so a skeptic can check the raw evidence later.
//
// The manifest is written with complete=false when a run starts and
// finalised (artifacts hashed, complete=true) only when it ends, each time
// through a temporary file and a rename: an interrupted run never leaves a
// manifest that looks complete.

package nodebench

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/fakbench/fakbench/harness/artifact"
	"github.com/fakbench/fakbench/harness/workload"
	"github.com/fakbench/fakbench/report"
)

// ManifestSchema names the manifest format.
const ManifestSchema = "fakbench.manifest/v1"

// Git is the source tree a run was built from.
type Git struct {
	Commit string `json:"commit"`
	// Dirty is true when the tree had uncommitted changes to tracked files
	// or untracked files that git does not ignore.
	Dirty bool `json:"dirty"`
	// DirtyFiles lists up to 50 of them, so a reader sees what differed.
	DirtyFiles []string `json:"dirty_files,omitempty"`
	// Error says why the commit could not be read (no git, not a clone).
	Error string `json:"error,omitempty"`
}

// Bandwidth is the measured memory bandwidth.
type Bandwidth struct {
	GBs       float64   `json:"gbs"`
	SamplesGB []float64 `json:"samples_gbs"`
	Bytes     int64     `json:"bytes"`
	Threads   int       `json:"threads"`
	Method    string    `json:"method"`
}

// Backend is one backend as the run saw it.
type Backend struct {
	Name     string            `json:"name"`
	Status   string            `json:"status"` // ok, skipped, failed
	Reason   string            `json:"reason,omitempty"`
	Version  string            `json:"version,omitempty"`
	RowKind  string            `json:"row_kind,omitempty"`
	Settings map[string]string `json:"settings,omitempty"`
	// Batch says whether the backend produced a batch curve, or why not.
	Batch string `json:"batch,omitempty"`
}

// Model is a model the run used.
type Model struct {
	Spec   string `json:"spec"`
	Path   string `json:"path,omitempty"`
	Digest string `json:"digest"`
	Bytes  int64  `json:"bytes,omitempty"`
}

// Workload is the workload the replay used.
type Workload struct {
	Path   string `json:"path"`
	Digest string `json:"digest"`
	// ReplayedDigest is the digest after caps and short-run trimming; it
	// equals Digest when nothing changed the workload.
	ReplayedDigest string             `json:"replayed_digest"`
	Source         string             `json:"source"`
	Method         string             `json:"method"`
	Turns          int                `json:"turns"`
	ReplayedTurns  int                `json:"replayed_turns"`
	PrefillCap     workload.CapResult `json:"prefill_cap"`
}

// Step is one command of the run with its outcome and log files.
type Step struct {
	Name      string  `json:"name"`
	Command   string  `json:"command"`
	ExitCode  int     `json:"exit_code"`
	StartedAt string  `json:"started_at"`
	Seconds   float64 `json:"seconds"`
	Stdout    string  `json:"stdout,omitempty"`
	Stderr    string  `json:"stderr,omitempty"`
	Error     string  `json:"error,omitempty"`
}

// Artifact is one file of the artifact directory.
type Artifact struct {
	// Path is relative to the directory, with forward slashes.
	Path   string `json:"path"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// Manifest is production-readiness-manifest.json.
type Manifest struct {
	Schema   string `json:"schema"`
	Complete bool   `json:"complete"`
	// Incomplete says why a run's manifest is not complete (still running,
	// interrupted, a step that could not start).
	Incomplete string `json:"incomplete,omitempty"`
	// HostLabel is the --host name the artifacts are filed under.
	HostLabel string      `json:"host_label"`
	Host      report.Host `json:"host"`
	Git       Git         `json:"git"`
	// BuildFlags are the cgo flags the native code was built with.
	BuildFlags string `json:"build_flags"`
	// BuildCPU says whether the native code was built for this CPU (the
	// fingerprint in the build flags against this CPU's); a mismatch stops
	// the run.
	BuildCPU *BuildCPU `json:"build_cpu,omitempty"`
	// HardwareProfile names the gate's threshold table row ("cpu", "gpu").
	HardwareProfile string    `json:"hardware_profile"`
	Bandwidth       Bandwidth `json:"memory_bandwidth"`
	Threads         int       `json:"threads"`
	Short           bool      `json:"short"`
	// Caps are FAK_WORKLOAD_PREFILL_CAP and FAK_WORKLOAD_PROMPT_CAP as the
	// run read them (0 = uncapped).
	Caps          workload.Caps `json:"caps"`
	BatchWorkload bool          `json:"batch_workload_diagnostic"`
	Command       string        `json:"command"`
	Backends      []Backend     `json:"backends"`
	Models        []Model       `json:"models"`
	Workload      *Workload     `json:"workload,omitempty"`
	Steps         []Step        `json:"steps"`
	StartedAt     string        `json:"started_at"`
	FinishedAt    string        `json:"finished_at,omitempty"`
	Artifacts     []Artifact    `json:"artifacts"`
}

// WriteManifest writes m to the folder's manifest atomically
// (report.WriteJSONFile).
func (l Layout) WriteManifest(m *Manifest) error {
	if m == nil {
		return errors.New("manifest: nil manifest")
	}
	return report.WriteJSONFile(l.Manifest(), m)
}

// ReadManifest reads the folder's manifest.
func (l Layout) ReadManifest() (*Manifest, error) {
	var m Manifest
	if err := artifact.ReadSchemaJSON(l.Manifest(), "manifest", "a manifest JSON object", ManifestSchema, &m); err != nil {
		return nil, err
	}
	return &m, nil
}

// Finalize hashes every file of the folder into m.Artifacts, stamps
// FinishedAt and marks the manifest complete, then writes it.
func (l Layout) Finalize(m *Manifest, finishedAt string) error {
	arts, err := l.Scan()
	if err != nil {
		return err
	}
	m.Artifacts = arts
	m.FinishedAt = finishedAt
	m.Complete = true
	m.Incomplete = ""
	return l.WriteManifest(m)
}

// Scan lists every regular file of the folder (except the manifest and the
// gate outputs, see Unlisted), sorted by path, with its size and sha256.
// Symbolic links and other non-regular files are an error: the evidence
// must be plain files.
func (l Layout) Scan() ([]Artifact, error) {
	var out []Artifact
	err := l.walk(func(path, rel string, d fs.DirEntry) error {
		if Unlisted(rel) {
			return nil
		}
		if !d.Type().IsRegular() {
			return fmt.Errorf("%s is not a regular file (%s)", rel, d.Type())
		}
		size, sum, err := HashFile(path)
		if err != nil {
			return err
		}
		out = append(out, Artifact{Path: rel, Size: size, SHA256: sum})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("manifest: scanning %s: %w", l.Dir, err)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out, nil
}

// walk calls fn for every entry of the folder that is not a directory (a
// symbolic link to one included: the walk follows no link), with its path
// and its slash-separated path relative to the folder.
func (l Layout) walk(fn func(path, rel string, d fs.DirEntry) error) error {
	return filepath.WalkDir(l.Dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		rel, err := filepath.Rel(l.Dir, path)
		if err != nil {
			return err
		}
		return fn(path, filepath.ToSlash(rel), d)
	})
}

// HashFile returns a file's size and hex sha256.
func HashFile(path string) (int64, string, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, "", err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return 0, "", fmt.Errorf("reading %s: %w", path, err)
	}
	return n, hex.EncodeToString(h.Sum(nil)), nil
}

// Verification is what Verify found.
type Verification struct {
	Checked  int
	Missing  []string
	Changed  []string // "path: size a -> b" or "path: sha256 differs"
	Unlisted []string
}

// OK reports whether every listed file is present and unchanged and no
// file is unlisted.
func (v Verification) OK() bool {
	return len(v.Missing) == 0 && len(v.Changed) == 0 && len(v.Unlisted) == 0
}

// Problems lists the findings in words, at most limit per kind (0 = all).
func (v Verification) Problems(limit int) []string {
	var out []string
	add := func(kind string, items []string) {
		for i, it := range items {
			if limit > 0 && i == limit {
				out = append(out, fmt.Sprintf("%s: %d more", kind, len(items)-limit))
				break
			}
			out = append(out, kind+": "+it)
		}
	}
	add("missing", v.Missing)
	add("changed", v.Changed)
	add("unlisted", v.Unlisted)
	return out
}

// Verify checks the files of the folder against m.Artifacts: every listed
// file present with the same size and sha256, and no other file (besides
// the manifest and the gate outputs).
func (l Layout) Verify(m *Manifest) (Verification, error) {
	dir := l.Dir
	var v Verification
	listed := map[string]bool{}
	for _, a := range m.Artifacts {
		if a.Path == "" || strings.HasPrefix(a.Path, "/") || strings.Contains("/"+a.Path+"/", "/../") {
			return v, fmt.Errorf("manifest: artifact path %q escapes the directory", a.Path)
		}
		listed[a.Path] = true
		v.Checked++
		path := filepath.Join(dir, filepath.FromSlash(a.Path))
		st, err := os.Lstat(path)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				v.Missing = append(v.Missing, a.Path)
				continue
			}
			return v, fmt.Errorf("manifest: %w", err)
		}
		if !st.Mode().IsRegular() {
			v.Changed = append(v.Changed, fmt.Sprintf("%s: not a regular file", a.Path))
			continue
		}
		size, sum, err := HashFile(path)
		if err != nil {
			return v, fmt.Errorf("manifest: %w", err)
		}
		switch {
		case size != a.Size:
			v.Changed = append(v.Changed, fmt.Sprintf("%s: size %d, manifest says %d", a.Path, size, a.Size))
		case sum != a.SHA256:
			v.Changed = append(v.Changed, fmt.Sprintf("%s: sha256 %s..., manifest says %s...", a.Path, sum[:12], short(a.SHA256)))
		}
	}
	err := l.walk(func(_, rel string, _ fs.DirEntry) error {
		if !Unlisted(rel) && !listed[rel] {
			v.Unlisted = append(v.Unlisted, rel)
		}
		return nil
	})
	if err != nil {
		return v, fmt.Errorf("manifest: scanning %s: %w", dir, err)
	}
	sort.Strings(v.Unlisted)
	return v, nil
}

func short(s string) string {
	if len(s) > 12 {
		return s[:12]
	}
	return s
}

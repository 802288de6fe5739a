package bench

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/fakbench/fakbench/harness"
	"github.com/fakbench/fakbench/models"
	"github.com/fakbench/fakbench/report"
)

// NodeLockName is the file in the OS temporary folder that every fakbench
// benchmark on the node holds a shared lock on while it measures; a
// benchmark that finds it held by another says so (Extras.Concurrent).
const NodeLockName = "fakbench-node.lock"

// concurrentNote is what a report says when another benchmark measured on
// the node at the same time.
const concurrentNote = "another fakbench benchmark was measuring on this node during this run: both sets of figures are distorted"

// outDir is a run's output folder while the run holds it: an exclusive
// lock on the folder itself (a second run into it is refused), and a
// shared lock on the node's lock file (another benchmark on the node is
// seen, not refused).
type outDir struct {
	path   string
	dir    *os.File
	node   *os.File
	others bool
}

// openOutDir makes the folder, checks that files can be written in it
// (before any backend loads), and takes the locks. Its errors name the
// folder and are input errors.
func openOutDir(path string) (*outDir, error) {
	if err := os.MkdirAll(path, 0o755); err != nil {
		return nil, &InputError{fmt.Errorf("--out %s: %w", path, err)}
	}
	probe, err := os.CreateTemp(path, ".fakbench-write-check-*")
	if err != nil {
		return nil, &InputError{fmt.Errorf("--out %s is not writable: %w", path, err)}
	}
	probe.Close()
	_ = os.Remove(probe.Name())
	dir, err := os.Open(path)
	if err != nil {
		return nil, &InputError{fmt.Errorf("--out %s: %w", path, err)}
	}
	if err := syscall.Flock(int(dir.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		dir.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, &InputError{fmt.Errorf("--out %s: another fakbench run is writing into this folder now; wait for it or choose another --out", path)}
		}
		return nil, &InputError{fmt.Errorf("--out %s: cannot lock it: %w", path, err)}
	}
	d := &outDir{path: path, dir: dir}
	// The node lock is advisory: when it cannot be had at all, the run goes
	// on without it.
	if f, err := os.OpenFile(filepath.Join(os.TempDir(), NodeLockName), os.O_CREATE|os.O_RDWR, 0o666); err == nil {
		d.node = f
		d.others = !d.alone()
	}
	return d, nil
}

// alone reports whether no other benchmark holds the node lock now, and
// leaves this run holding it shared.
func (d *outDir) alone() bool {
	fd := int(d.node.Fd())
	alone := syscall.Flock(fd, syscall.LOCK_EX|syscall.LOCK_NB) == nil
	for i := 0; i < 100; i++ { // a peer's brief exclusive probe
		if syscall.Flock(fd, syscall.LOCK_SH|syscall.LOCK_NB) == nil {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	return alone
}

// overlapped reports whether another benchmark measured on the node at
// the start of this run or holds the lock at its end.
func (d *outDir) overlapped() bool {
	if d == nil || d.node == nil {
		return false
	}
	return !d.alone() || d.others
}

func (d *outDir) close() {
	if d == nil {
		return
	}
	if d.node != nil {
		d.node.Close()
	}
	d.dir.Close()
}

// staleRows compares the reports already in the folder with the run about
// to be written (its rows, model, token IDs, scenario and size) and says,
// file by file, how they differ; nothing when the folder holds none or the
// same run.
func staleRows(dir string, rows []string, model, tokens string, scenario *report.ScenarioShape, short bool) []string {
	reps, files, err := report.ReadDirFiles(dir)
	if err != nil {
		return nil
	}
	var diffs []string
	for i, r := range reps {
		f := filepath.Base(files[i])
		switch {
		case !slices.Contains(rows, report.RowName(r)):
			diffs = append(diffs, fmt.Sprintf("%s is a row this run does not have", f))
		case r.ModelDigest != "" && r.ModelDigest != model:
			diffs = append(diffs, fmt.Sprintf("%s: model_digest %s, this run %s", f, r.ModelDigest, model))
		case r.Status == report.StatusSkipped:
		case tokens != "" && r.TokenDigest != "" && r.TokenDigest != tokens:
			diffs = append(diffs, fmt.Sprintf("%s: token_ids_digest %s, this run %s", f, r.TokenDigest, tokens))
		case r.Short != short:
			diffs = append(diffs, fmt.Sprintf("%s: short %v, this run %v", f, r.Short, short))
		case r.Scenario != nil && scenario != nil && fmt.Sprint(*r.Scenario) != fmt.Sprint(*scenario):
			diffs = append(diffs, fmt.Sprintf("%s: scenario %+v, this run %+v", f, *r.Scenario, *scenario))
		}
	}
	return diffs
}

// moveAside moves everything in dir into a new sibling folder
// "<dir>.prev-<UTC time>" and returns its path; dir itself (and the lock
// on it) stays.
func moveAside(dir string) (string, error) {
	aside := strings.TrimRight(dir, "/") + ".prev-" + time.Now().UTC().Format("20060102T150405.000Z")
	if err := os.Mkdir(aside, 0o755); err != nil {
		return "", err
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return "", err
	}
	for _, e := range entries {
		if err := os.Rename(filepath.Join(dir, e.Name()), filepath.Join(aside, e.Name())); err != nil {
			return "", fmt.Errorf("moving %s aside: %w", e.Name(), err)
		}
	}
	return aside, nil
}

// clearStale refuses to write this run beside the reports of another run
// in Out (an input error naming the files and what differs), or with
// Force moves that run aside first.
func (o Options) clearStale(rows []*opened, m models.Resolved, sc harness.Scenario, planned bool) error {
	names := make([]string, len(rows))
	for i, r := range rows {
		names[i] = r.display()
	}
	tokens, shape := "", (*report.ScenarioShape)(nil)
	if planned {
		tokens, shape = sc.Digest(), sc.Shape()
	}
	diffs := staleRows(o.Out, names, m.Digest, tokens, shape, o.Short)
	if len(diffs) == 0 {
		return nil
	}
	if !o.Force {
		return &InputError{fmt.Errorf("--out %s holds another run (%s): choose another --out, or give --force to move it aside",
			o.Out, strings.Join(diffs, "; "))}
	}
	aside, err := moveAside(o.Out)
	if err != nil {
		return fmt.Errorf("--force: %w", err)
	}
	fmt.Fprintf(o.errw(), "fakbench run: --out %s held another run (%s); moved it to %s\n", o.Out, strings.Join(diffs, "; "), aside)
	return nil
}

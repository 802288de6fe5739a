package fleet

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/fakbench/fakbench/harness/artifact"
	"github.com/fakbench/fakbench/nodebench"
	"github.com/fakbench/fakbench/report"
)

// IndexFile is the collected directory's index: which host came from
// where, and which folders were refused and why.
const IndexFile = "fleet.json"

// IndexSchema names the index format.
const IndexSchema = "fakbench.fleet/v1"

// Index is fleet.json.
type Index struct {
	Schema    string      `json:"schema"`
	UpdatedAt string      `json:"updated_at"`
	Hosts     []IndexHost `json:"hosts"`
	// Refused are the folders the last collect refused, each with why.
	Refused []Refusal `json:"refused,omitempty"`
}

// IndexHost is one collected host.
type IndexHost struct {
	Label       string `json:"host"`
	Source      string `json:"source"`
	SetDigest   string `json:"artifact_set_digest"`
	Kind        Kind   `json:"cpu_kind"`
	CollectedAt string `json:"collected_at"`
}

// Refusal is a folder collect did not take, with every reason.
type Refusal struct {
	Source  string   `json:"source"`
	Label   string   `json:"host,omitempty"`
	Reasons []string `json:"reasons"`
}

// Collected is what one collect did.
type Collected struct {
	Out      string
	Accepted []Accepted
	Refused  []Refusal
}

// Accepted is a host collect filed (or found already filed, unchanged).
type Accepted struct {
	Label, Source string
	Kind          Kind
	Files         int
	// Note says what else is worth knowing (already collected, the same
	// set found at another source).
	Note string
}

// Print writes one line per host: accepted ones, then refused ones with
// their reasons.
func (c *Collected) Print(w io.Writer) {
	for _, a := range c.Accepted {
		fmt.Fprintf(w, "accepted  %s  from %s: %s, %d files", a.Label, a.Source, a.Kind, a.Files)
		if a.Note != "" {
			fmt.Fprintf(w, " (%s)", a.Note)
		}
		fmt.Fprintln(w)
	}
	for _, r := range c.Refused {
		label := r.Label
		if label == "" {
			label = "?"
		}
		fmt.Fprintf(w, "REFUSED   %s  from %s:\n", label, r.Source)
		for _, why := range r.Reasons {
			fmt.Fprintf(w, "          - %s\n", why)
		}
	}
	fmt.Fprintf(w, "fleet collect: %d host(s) in %s, %d folder(s) refused\n", len(c.Accepted), c.Out, len(c.Refused))
}

// candidate is one verified source folder.
type candidate struct {
	src  string
	host *Host
}

// Collect gathers host folders from sources (each a node-bench folder, or
// a folder of them) into out/<host label>/, with out/fleet.json as the
// index. Every folder is verified first (Verify) and refused, with the
// reasons, when it fails; so are duplicates: several different artifact
// sets claiming one host label (a rerun's folder moved aside, two nodes of
// one name), one artifact set under several labels (a copy passed off as
// another node), and a label out/ already holds with other evidence. The
// same set found twice is taken once. A host's folder is copied through a
// temporary folder and verified again in place before it is renamed into
// out/. The error is for what cannot be examined at all: a source that is
// missing or holds no node-bench folder, an unwritable out/.
func Collect(sources []string, out string) (*Collected, error) {
	if len(sources) == 0 {
		return nil, errors.New("fleet collect: no source folder given")
	}
	idx, err := ReadIndex(out)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	if idx == nil {
		idx = &Index{Schema: IndexSchema}
	}
	res := &Collected{Out: out}
	var found []candidate
	for _, src := range sources {
		dirs, err := hostDirs(src)
		if err != nil {
			return nil, fmt.Errorf("fleet collect: %w", err)
		}
		for _, d := range dirs {
			if same(d, filepath.Join(out, filepath.Base(d))) {
				continue // out/ itself given as a source: its hosts are already filed
			}
			h, why := Verify(d)
			if h == nil {
				res.Refused = append(res.Refused, Refusal{Source: d, Label: labelOf(d), Reasons: why})
				continue
			}
			found = append(found, candidate{src: d, host: h})
		}
	}

	byLabel := map[string][]candidate{}
	bySet := map[string][]candidate{}
	for _, c := range found {
		byLabel[c.host.Label] = append(byLabel[c.host.Label], c)
		bySet[c.host.SetDigest] = append(bySet[c.host.SetDigest], c)
	}
	for _, label := range slices.Sorted(maps.Keys(byLabel)) {
		cs := byLabel[label]
		var why []string
		sets := map[string]bool{}
		var srcs []string
		for _, c := range cs {
			sets[c.host.SetDigest] = true
			srcs = append(srcs, c.src)
		}
		if len(sets) > 1 {
			why = append(why, fmt.Sprintf("host label %s is claimed by %d different artifact sets (%s): a rerun's folder moved aside, or two nodes with one name; keep the one you mean and collect again",
				label, len(sets), strings.Join(srcs, ", ")))
		}
		for set := range sets {
			var others []string
			for _, o := range bySet[set] {
				if o.host.Label != label {
					others = append(others, fmt.Sprintf("%s (%s)", o.host.Label, o.src))
				}
			}
			for _, o := range idx.Hosts {
				if o.SetDigest == set && o.Label != label {
					others = append(others, fmt.Sprintf("%s (collected earlier from %s)", o.Label, o.Source))
				}
			}
			if len(others) > 0 {
				why = append(why, fmt.Sprintf("the same artifact set is also filed as %s: a copy of one run under another host label, not a run of its own", strings.Join(others, ", ")))
			}
		}
		c := cs[0]
		prev, err := filed(out, label)
		switch {
		case err != nil:
			why = append(why, err.Error())
		case prev != nil && prev.SetDigest != c.host.SetDigest:
			why = append(why, fmt.Sprintf("%s already holds another run of host %s (artifact set %s): remove that folder to replace it", filepath.Join(out, label), label, short(prev.SetDigest)))
		}
		if len(why) > 0 {
			for _, c := range cs {
				res.Refused = append(res.Refused, Refusal{Source: c.src, Label: label, Reasons: why})
			}
			continue
		}
		a := Accepted{Label: label, Source: c.src, Kind: c.host.Kind, Files: len(c.host.Manifest.Artifacts)}
		if len(srcs) > 1 {
			a.Note = "the same artifact set also at " + strings.Join(srcs[1:], ", ") + "; taken once"
		}
		if prev != nil {
			a.Note = strings.TrimPrefix(a.Note+"; already collected, unchanged", "; ")
		} else if err := file(c.src, out, label); err != nil {
			res.Refused = append(res.Refused, Refusal{Source: c.src, Label: label, Reasons: []string{err.Error()}})
			continue
		}
		res.Accepted = append(res.Accepted, a)
		idx.put(IndexHost{Label: label, Source: c.src, SetDigest: c.host.SetDigest, Kind: c.host.Kind,
			CollectedAt: time.Now().UTC().Format(time.RFC3339)}, prev != nil)
	}
	sort.Slice(res.Refused, func(i, j int) bool { return res.Refused[i].Source < res.Refused[j].Source })
	idx.Refused = res.Refused
	idx.UpdatedAt = time.Now().UTC().Format(time.RFC3339)
	if err := idx.write(out); err != nil {
		return nil, err
	}
	return res, nil
}

// labelOf reads a refused folder's host label where its manifest can be
// parsed at all ("" otherwise).
func labelOf(dir string) string {
	b, err := os.ReadFile(filepath.Join(dir, nodebench.ManifestFile))
	if err != nil {
		return ""
	}
	var m struct {
		Label string `json:"host_label"`
	}
	if json.Unmarshal(b, &m) != nil {
		return ""
	}
	return m.Label
}

// filed returns the host out/<label> already holds, nil when none; an
// error when the folder is there but does not verify.
func filed(out, label string) (*Host, error) {
	dir := filepath.Join(out, label)
	if _, err := os.Lstat(dir); errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	h, why := Verify(dir)
	if h == nil {
		return nil, fmt.Errorf("%s already exists and does not verify (%s): remove it", dir, strings.Join(why, "; "))
	}
	return h, nil
}

// file copies src into out/<label> through a temporary folder, verifies
// the copy and renames it into place.
func file(src, out, label string) error {
	if err := os.MkdirAll(out, 0o755); err != nil {
		return fmt.Errorf("fleet collect: %w", err)
	}
	tmp, err := os.MkdirTemp(out, ".collect-"+label+"-")
	if err != nil {
		return fmt.Errorf("fleet collect: %w", err)
	}
	defer os.RemoveAll(tmp)
	err = filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil || rel == "." {
			return err
		}
		to := filepath.Join(tmp, rel)
		switch {
		case d.IsDir():
			return os.MkdirAll(to, 0o755)
		case d.Type().IsRegular():
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			return os.WriteFile(to, b, 0o644)
		}
		return fmt.Errorf("%s is not a regular file", rel)
	})
	if err != nil {
		return fmt.Errorf("copying %s: %w", src, err)
	}
	if h, why := Verify(tmp); h == nil {
		return fmt.Errorf("the copy of %s does not verify: %s", src, strings.Join(why, "; "))
	}
	if err := os.Rename(tmp, filepath.Join(out, label)); err != nil {
		return fmt.Errorf("fleet collect: %w", err)
	}
	return nil
}

// put records a host in the index, replacing its earlier entry unless it
// was already there unchanged (keep).
func (x *Index) put(h IndexHost, keep bool) {
	for i, o := range x.Hosts {
		if o.Label == h.Label {
			if !keep {
				x.Hosts[i] = h
			}
			return
		}
	}
	x.Hosts = append(x.Hosts, h)
	sort.Slice(x.Hosts, func(i, j int) bool { return x.Hosts[i].Label < x.Hosts[j].Label })
}

func (x *Index) write(out string) error {
	return report.WriteJSONFile(filepath.Join(out, IndexFile), x)
}

// ReadIndex reads out/fleet.json (an error wrapping fs.ErrNotExist when
// there is none).
func ReadIndex(out string) (*Index, error) {
	var x Index
	if err := artifact.ReadSchemaJSON(filepath.Join(out, IndexFile), "fleet", "a fleet index JSON object", IndexSchema, &x); err != nil {
		return nil, err
	}
	return &x, nil
}

// same reports whether two paths name one folder.
func same(a, b string) bool {
	sa, err1 := os.Stat(a)
	sb, err2 := os.Stat(b)
	return err1 == nil && err2 == nil && os.SameFile(sa, sb)
}

func short(digest string) string {
	d := strings.TrimPrefix(digest, "sha256:")
	if len(d) > 12 {
		return d[:12]
	}
	return d
}

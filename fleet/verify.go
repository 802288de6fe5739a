// Package fleet reads the node-bench artifact folders of many hosts
// together: Collect gathers them from wherever a transport left them (a
// volume, kubectl cp, rsync), verifies each and files the ones it trusts
// under one directory; BuildReport puts the collected hosts in one table,
// grouped by CPU kind, with the spread within each kind, outliers flagged,
// and every host's gate verdict (report.md, report.html). The commands are
// "fakbench fleet collect" and "fakbench fleet report".
//
// The package sits above nodebench: a host folder is nodebench's Layout,
// verified with its manifest and its gate.
package fleet

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/fakbench/fakbench/internal/cpuid"
	"github.com/fakbench/fakbench/nodebench"
	"github.com/fakbench/fakbench/report"
)

// Kind is a CPU kind: what -march=native compiles for (the instruction-set
// fingerprint) and the CPU model. Nodes of one kind are expected to
// measure alike; backends rank differently between kinds.
type Kind struct {
	Fingerprint string `json:"cpu_fingerprint"`
	Model       string `json:"cpu_model"`
}

// String is "AMD EPYC 7B13 (ISA 1a2b3c4d5e6f)".
func (k Kind) String() string {
	m := k.Model
	if m == "" {
		m = "unknown CPU model"
	}
	return fmt.Sprintf("%s (ISA %s)", m, k.Fingerprint)
}

// Host is one host folder that verified.
type Host struct {
	// Label is the manifest's host label, the folder's name once collected.
	Label string
	// Dir is the folder it was read from.
	Dir      string
	Manifest *nodebench.Manifest
	// Reports are the bench reports (bench/<backend>.json).
	Reports []*report.Report
	// SetDigest is the sha256 of the manifest's artifact list (path, size
	// and sha256 of every file): two folders with one SetDigest hold the
	// same evidence.
	SetDigest string
	Kind      Kind
}

// Verify checks one host folder: the manifest complete and its artifacts
// intact (every listed file present with its size and sha256, nothing
// unlisted, no symbolic link, bench and log evidence present: the gate's
// artifacts criterion), a usable host label, and the CPU the binary was
// built for: recorded, equal to the CPU the run was on, consistent with
// the host facts and the build flags, in the manifest and in every bench
// report alike. It returns the host, or nil and the reasons it is refused.
func Verify(dir string) (*Host, []string) {
	l := nodebench.Layout{Dir: dir}
	if st, err := os.Lstat(dir); err == nil && st.Mode()&fs.ModeSymlink != 0 {
		return nil, []string{"the folder is a symbolic link: the evidence must be plain files, read where they lie"}
	}
	if st, err := os.Lstat(l.Manifest()); err != nil {
		return nil, []string{fmt.Sprintf("no %s: %v", nodebench.ManifestFile, err)}
	} else if !st.Mode().IsRegular() {
		return nil, []string{fmt.Sprintf("%s is not a regular file", nodebench.ManifestFile)}
	}
	m, err := l.ReadManifest()
	if err != nil {
		return nil, []string{err.Error()}
	}
	var p []string
	if !m.Complete {
		p = append(p, "the manifest is not complete: "+orNone(m.Incomplete))
	}
	if err := checkLabel(m.HostLabel); err != nil {
		p = append(p, err.Error())
	}
	v, err := nodebench.Gate(dir, nodebench.GateOptions{})
	if err != nil {
		return nil, append(p, err.Error())
	}
	for _, c := range v.Criteria {
		if c.Name == nodebench.CriterionArtifacts && !c.Pass {
			p = append(p, "artifacts: "+c.Detail)
		}
	}
	p = append(p, checkBuildCPU(m)...)
	reps, err := report.ReadDirRegular(l.Bench())
	if err != nil {
		p = append(p, fmt.Sprintf("%s/: %v", nodebench.BenchDir, err))
	}
	p = append(p, checkReports(m, reps)...)
	if len(p) > 0 {
		return nil, p
	}
	h := &Host{Label: m.HostLabel, Dir: dir, Manifest: m, Reports: reps, SetDigest: SetDigest(m),
		Kind: Kind{Fingerprint: m.BuildCPU.CPUFingerprint, Model: m.Host.CPUModel}}
	return h, nil
}

// checkLabel accepts a host label that can name a folder.
func checkLabel(label string) error {
	if label == "" || label == "." || label == ".." || strings.HasPrefix(label, ".") ||
		strings.ContainsAny(label, "/\\ \t\n") {
		return fmt.Errorf("host label %q cannot name a folder", label)
	}
	return nil
}

// checkBuildCPU lists what is wrong with the manifest's record of the CPU
// the binary was built for.
func checkBuildCPU(m *nodebench.Manifest) []string {
	b := m.BuildCPU
	if b == nil {
		return []string{"the manifest does not record the CPU the binary was built for (build_cpu)"}
	}
	var p []string
	if b.Status != nodebench.BuildCPUMatch {
		p = append(p, fmt.Sprintf("build_cpu status %q, not %q: %s", b.Status, nodebench.BuildCPUMatch, b.Detail))
	}
	if b.BuildFingerprint != b.CPUFingerprint {
		p = append(p, fmt.Sprintf("the binary was built for CPU fingerprint %q, the run was on %q", b.BuildFingerprint, b.CPUFingerprint))
	}
	if got := cpuid.Fingerprint(b.CPUISA); got != b.CPUFingerprint {
		p = append(p, fmt.Sprintf("build_cpu.cpu_isa hashes to fingerprint %s, not the recorded %s", got, b.CPUFingerprint))
	}
	if got := flagsFingerprint(m.BuildFlags); got != b.BuildFingerprint {
		p = append(p, fmt.Sprintf("build_flags carry CPU fingerprint %q, build_cpu says %q", got, b.BuildFingerprint))
	}
	if miss := missing(b.NativeISA, b.CPUISA); len(miss) > 0 {
		p = append(p, fmt.Sprintf("the native code targets %s, which the CPU lacks", strings.Join(miss, ", ")))
	}
	covered := map[string]bool{}
	for _, f := range cpuid.Features() {
		covered[f.Name] = true
	}
	var facts []string
	for _, f := range strings.Fields(m.Host.CPUFeatures) {
		if covered[f] {
			facts = append(facts, f)
		}
	}
	if miss := missing(facts, b.CPUISA); len(miss) > 0 {
		p = append(p, fmt.Sprintf("the host facts list %s, which build_cpu.cpu_isa lacks", strings.Join(miss, ", ")))
	}
	return p
}

// checkReports lists the bench reports that disagree with the manifest on
// the machine or the build.
func checkReports(m *nodebench.Manifest, reps []*report.Report) []string {
	var p []string
	ran := 0
	for _, r := range reps {
		if r.Status == report.StatusSkipped {
			continue
		}
		ran++
		name := fmt.Sprintf("%s/%s.json", nodebench.BenchDir, report.RowName(r))
		if r.Host == nil {
			p = append(p, name+" records no host")
			continue
		}
		if r.Host.CPUModel != m.Host.CPUModel || r.Host.CPUFeatures != m.Host.CPUFeatures {
			p = append(p, fmt.Sprintf("%s was measured on %q [%s], the manifest says %q [%s]", name,
				r.Host.CPUModel, r.Host.CPUFeatures, m.Host.CPUModel, m.Host.CPUFeatures))
		}
		if m.BuildCPU != nil {
			if fp := flagsFingerprint(r.BuildFlags); fp != m.BuildCPU.BuildFingerprint {
				p = append(p, fmt.Sprintf("%s was built for CPU fingerprint %q, the manifest's binary for %q", name, fp, m.BuildCPU.BuildFingerprint))
			}
		}
	}
	if ran == 0 {
		p = append(p, "no backend ran: no bench report to compare")
	}
	return p
}

// fingerprintFlag finds -DFAK_CPU_FINGERPRINT=<fp> in a build-flags
// record, whether the record quotes the flags (a bench report's
// CGO_CFLAGS="-O3 ...") or not (the manifest's).
var fingerprintFlag = regexp.MustCompile(`-D` + cpuid.Define + `=([0-9A-Za-z_]+)`)

// flagsFingerprint is the last CPU fingerprint the flags define, "" when
// none (as in the compiler, the last definition wins).
func flagsFingerprint(flags string) string {
	m := fingerprintFlag.FindAllStringSubmatch(flags, -1)
	if len(m) == 0 {
		return ""
	}
	return m[len(m)-1][1]
}

// SetDigest is the sha256 of the manifest's artifact list.
func SetDigest(m *nodebench.Manifest) string {
	arts := slices.Clone(m.Artifacts)
	sort.Slice(arts, func(i, j int) bool { return arts[i].Path < arts[j].Path })
	h := sha256.New()
	for _, a := range arts {
		fmt.Fprintf(h, "%s\t%d\t%s\n", a.Path, a.Size, a.SHA256)
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil))
}

// missing returns the names of want that have does not list.
func missing(want, have []string) []string {
	var out []string
	for _, w := range want {
		if !slices.Contains(have, w) {
			out = append(out, w)
		}
	}
	return out
}

func orNone(s string) string {
	if s == "" {
		return "(no reason recorded)"
	}
	return s
}

// hostDirs returns the host folders of a source: the source itself when
// it holds a manifest, else its sub-folders that do.
func hostDirs(src string) ([]string, error) {
	st, err := os.Stat(src)
	if err != nil {
		return nil, err
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("%s is not a directory", src)
	}
	l := nodebench.Layout{Dir: src}
	if _, err := os.Lstat(l.Manifest()); err == nil {
		return []string{src}, nil
	}
	entries, err := os.ReadDir(src)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range entries {
		sub := nodebench.Layout{Dir: l.Path(e.Name())}
		if e.IsDir() || e.Type()&fs.ModeSymlink != 0 {
			if _, err := os.Lstat(sub.Manifest()); err == nil {
				out = append(out, sub.Dir)
			}
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s holds no node-bench folder (no %s in it or in its sub-folders)", src, nodebench.ManifestFile)
	}
	return out, nil
}

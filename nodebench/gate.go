// The gate checks a node artifact folder (the clean-node gate of the
// node-bench method, docs/methodology.md): the raw artifact set against its
// manifest, an uncapped full run, the full batch curve, the batched-decode
// threshold of the hardware profile, valid reports, and the operator's
// clean-node assertion. Every criterion is reported with pass/fail and the
// figure behind it.

package nodebench

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strings"

	"github.com/fakbench/fakbench/harness/artifact"
	"github.com/fakbench/fakbench/harness/batch"
	"github.com/fakbench/fakbench/harness/workload"
	"github.com/fakbench/fakbench/internal/env"
	"github.com/fakbench/fakbench/report"
)

// Criterion names, in the order they are checked.
const (
	CriterionArtifacts              = "artifacts"
	CriterionUncapped               = "uncapped"
	CriterionFullRun                = "full_run"
	CriterionBatchCurve             = "batch_curve"
	CriterionBatchedDecodeThreshold = "batched_decode_threshold"
	CriterionReportsValid           = "reports_valid"
	CriterionCleanNode              = "clean_node"
)

// Profile is one row of the hardware-profile table.
type Profile struct {
	Name string `json:"name"`
	// Threshold is the minimum aggregate decode speedup at the largest
	// batch over B = 1.
	Threshold float64 `json:"batched_decode_threshold"`
	// Basis says where the threshold comes from.
	Basis string `json:"basis"`
}

// Profiles is the hardware-profile table.
var Profiles = map[string]Profile{
	"gpu": {Name: "gpu", Threshold: 45,
		Basis: "the node-bench method's 45x batched-decode threshold (docs/methodology.md), a GPU figure (decode at B=1 leaves a GPU's compute idle; batching fills it)"},
	"cpu": {Name: "cpu", Threshold: CPUThreshold, Basis: CPUBasis},
}

// DefaultProfile is used when neither --profile nor the manifest names one.
const DefaultProfile = "cpu"

// ProfileNames lists the known profiles, sorted.
func ProfileNames() []string { return sortedKeys(Profiles) }

// GateOptions control Gate.
type GateOptions struct {
	// CleanNode is the operator's assertion that the node was not running
	// the live multi-session fleet load while the artifacts were captured.
	CleanNode bool
	// Profile overrides the manifest's hardware profile.
	Profile string
}

// Criterion is one checked criterion.
type Criterion struct {
	Name   string `json:"name"`
	Pass   bool   `json:"pass"`
	Detail string `json:"detail"`
}

// Verdict is the gate's verdict.
type Verdict struct {
	Pass      bool        `json:"pass"`
	Dir       string      `json:"dir"`
	Profile   Profile     `json:"profile"`
	CleanNode bool        `json:"clean_node_asserted"`
	Criteria  []Criterion `json:"criteria"`
	// Headline is the bench reports' headline (report.HeadlineSummary): the
	// kernel's gap to the best tuned reference per metric, the same figures
	// report.md states. It is information, not a criterion.
	Headline []string `json:"headline,omitempty"`
}

// Failed lists the names of the failed criteria.
func (r Verdict) Failed() []string {
	var out []string
	for _, c := range r.Criteria {
		if !c.Pass {
			out = append(out, c.Name)
		}
	}
	return out
}

// Text is the human-readable verdict: one line per criterion.
func (r Verdict) Text() string {
	var b strings.Builder
	fmt.Fprintf(&b, "gate %s (profile %s: batched-decode threshold %gx; %s)\n", r.Dir, r.Profile.Name, r.Profile.Threshold, r.Profile.Basis)
	width := 0
	for _, c := range r.Criteria {
		width = max(width, len(c.Name))
	}
	for _, c := range r.Criteria {
		v := "PASS"
		if !c.Pass {
			v = "FAIL"
		}
		fmt.Fprintf(&b, "%s  %-*s  %s\n", v, width, c.Name, c.Detail)
	}
	for _, h := range r.Headline {
		fmt.Fprintf(&b, "info  headline: %s\n", h)
	}
	if r.Pass {
		fmt.Fprintf(&b, "gate: PASS (%d criteria)\n", len(r.Criteria))
	} else {
		f := r.Failed()
		fmt.Fprintf(&b, "gate: FAIL (%d of %d criteria failed: %s)\n", len(f), len(r.Criteria), strings.Join(f, ", "))
	}
	return b.String()
}

// JSON is the machine-readable verdict.
func (r Verdict) JSON() ([]byte, error) {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// Print writes the verdict to w as JSON (asJSON) or as Text.
func (r Verdict) Print(w io.Writer, asJSON bool) error {
	b := []byte(r.Text())
	if asJSON {
		var err error
		if b, err = r.JSON(); err != nil {
			return err
		}
	}
	_, err := w.Write(b)
	return err
}

// evidence is everything the criteria look at.
type evidence struct {
	dir         Layout
	manifest    *Manifest
	manifestErr error
	reports     []*report.Report
	reportsErr  error
	batches     map[string]*batch.File
	batchErrs   []string
	replays     map[string]*workload.ReplayFile
	replayErrs  []string
	// links are the folder's symbolic links, none of them read (Link says
	// why every one is refused); linksErr says the folder could not be
	// searched for them.
	links    []Link
	linksErr error
}

// Gate evaluates every criterion on the artifact folder dir. It returns an
// error only when dir cannot be examined at all or the profile is unknown;
// everything else is a failed criterion.
func Gate(dir string, opts GateOptions) (Verdict, error) {
	st, err := os.Stat(dir)
	if err != nil {
		return Verdict{}, fmt.Errorf("gate: %w", err)
	}
	if !st.IsDir() {
		return Verdict{}, fmt.Errorf("gate: %s is not a directory", dir)
	}
	ev := load(Layout{Dir: dir})
	name := opts.Profile
	if name == "" && ev.manifest != nil {
		name = ev.manifest.HardwareProfile
	}
	if name == "" {
		name = DefaultProfile
	}
	prof, ok := Profiles[name]
	if !ok {
		return Verdict{}, fmt.Errorf("gate: unknown hardware profile %q (known: %s)", name, strings.Join(ProfileNames(), ", "))
	}
	res := Verdict{Dir: dir, Profile: prof, CleanNode: opts.CleanNode}
	res.Criteria = []Criterion{
		checkArtifacts(ev),
		checkUncapped(ev),
		checkFullRun(ev),
		checkBatchCurve(ev),
		checkThreshold(ev, prof),
		checkReports(ev),
		checkCleanNode(ev, opts.CleanNode),
	}
	res.Headline = report.HeadlineSummary(ev.reports)
	res.Pass = true
	for _, c := range res.Criteria {
		res.Pass = res.Pass && c.Pass
	}
	return res, nil
}

// load reads the evidence without following any symbolic link: a linked
// manifest or sub-folder is not read, and in the sub-folders only regular
// files are (see Link).
func load(dir Layout) *evidence {
	ev := &evidence{dir: dir}
	ev.links, ev.linksErr = dir.Links()
	notFollowed := func(rel string) error {
		return fmt.Errorf("%s is a symbolic link: not followed (the evidence must be plain files in the folder)", rel)
	}
	if isLink(dir.Manifest()) {
		ev.manifestErr = notFollowed(ManifestFile)
	} else {
		ev.manifest, ev.manifestErr = dir.ReadManifest()
	}
	if _, err := os.Stat(dir.Bench()); err != nil {
		ev.reportsErr = fmt.Errorf("no %s/ directory: %w", BenchDir, err)
	} else if isLink(dir.Bench()) {
		ev.reportsErr = notFollowed(BenchDir + "/")
	} else {
		ev.reports, ev.reportsErr = report.ReadDirRegular(dir.Bench())
	}
	// A linked batch/ or workload/ is not read; checkReports names it.
	var batches, replays []string
	if !isLink(dir.Batch()) {
		batches = dir.BatchFiles()
	}
	if !isLink(dir.Workload()) {
		replays = dir.ReplayFiles()
	}
	ev.batches, ev.batchErrs = readEach(batches, batch.ReadFile, func(f *batch.File) string { return f.Backend })
	ev.replays, ev.replayErrs = readEach(replays, workload.ReadReplayFile, func(f *workload.ReplayFile) string { return f.Backend })
	return ev
}

// readEach reads every path with read into a map by the file's backend;
// a file that cannot be read is an error line instead.
func readEach[F any](paths []string, read func(string) (*F, error), backend func(*F) string) (map[string]*F, []string) {
	files := map[string]*F{}
	var errs []string
	for _, path := range paths {
		f, err := read(path)
		if err != nil {
			errs = append(errs, err.Error())
			continue
		}
		files[backend(f)] = f
	}
	return files, errs
}

func fail(name, format string, args ...any) Criterion {
	return Criterion{Name: name, Pass: false, Detail: fmt.Sprintf(format, args...)}
}

func pass(name, format string, args ...any) Criterion {
	return Criterion{Name: name, Pass: true, Detail: fmt.Sprintf(format, args...)}
}

func noManifest(name string, ev *evidence) Criterion {
	return fail(name, "no readable manifest: %v", ev.manifestErr)
}

// linkProblems names the folder's symbolic links under the given
// sub-folders (every link when none is given), each refused.
func linkProblems(ev *evidence, under ...string) []string {
	var out []string
	for _, k := range ev.links {
		in := len(under) == 0
		for _, sub := range under {
			in = in || k.Path == sub || strings.HasPrefix(k.Path, sub+"/")
		}
		if in {
			out = append(out, "symbolic link "+k.String()+": refused, not read")
		}
	}
	return out
}

func checkArtifacts(ev *evidence) Criterion {
	probs := linkProblems(ev)
	if ev.linksErr != nil {
		probs = append(probs, ev.linksErr.Error())
	}
	if ev.manifest == nil {
		probs = append([]string{fmt.Sprintf("no readable manifest: %v", ev.manifestErr)}, probs...)
		return fail(CriterionArtifacts, "%s", strings.Join(probs, "; "))
	}
	m := ev.manifest
	v, err := ev.dir.Verify(m)
	if err != nil {
		return fail(CriterionArtifacts, "%s", strings.Join(append([]string{err.Error()}, probs...), "; "))
	}
	if !m.Complete {
		why := m.Incomplete
		if why == "" {
			why = "no reason recorded"
		}
		probs = append(probs, "manifest is not complete ("+why+")")
	}
	if len(m.Artifacts) == 0 {
		probs = append(probs, "manifest lists no artifact")
	}
	probs = append(probs, v.Problems(5)...)
	for _, sub := range []string{BenchDir, LogsDir} {
		if !listedUnder(m, sub) {
			probs = append(probs, fmt.Sprintf("no %s/ file is listed (raw evidence missing)", sub))
		}
	}
	if len(probs) > 0 {
		return fail(CriterionArtifacts, "%s", strings.Join(probs, "; "))
	}
	return pass(CriterionArtifacts, "%d files present with matching size and sha256, none unlisted; manifest complete", v.Checked)
}

func listedUnder(m *Manifest, sub string) bool {
	for _, a := range m.Artifacts {
		if strings.HasPrefix(a.Path, sub+"/") {
			return true
		}
	}
	return false
}

func checkUncapped(ev *evidence) Criterion {
	if ev.manifest == nil {
		return noManifest(CriterionUncapped, ev)
	}
	c := ev.manifest.Caps
	var probs []string
	if c.PrefillCap != 0 {
		probs = append(probs, fmt.Sprintf("%s=%d", env.WorkloadPrefillCap.Name, c.PrefillCap))
	}
	if c.PromptCap != 0 {
		probs = append(probs, fmt.Sprintf("%s=%d", env.WorkloadPromptCap.Name, c.PromptCap))
	}
	replayed := 0
	for _, b := range sortedKeys(ev.replays) {
		f := ev.replays[b]
		if f.Status != artifact.StatusOK {
			continue
		}
		replayed++
		if !f.Caps.Uncapped() || f.PrefillCap.CappedTurns > 0 {
			probs = append(probs, fmt.Sprintf("%s replay capped %d turns (%d prompt tokens dropped, cap %d)", b, f.PrefillCap.CappedTurns, f.PrefillCap.DroppedTokens, f.PrefillCap.Cap))
		}
	}
	if len(probs) > 0 {
		if replayed == 0 {
			probs = append(probs, "and no workload replay ran")
		}
		return fail(CriterionUncapped, "capped run: %s (a capped run cannot close the clean-box gate)", strings.Join(probs, "; "))
	}
	if replayed == 0 {
		return fail(CriterionUncapped, "no workload replay ran, so the recorded prompt lengths were never replayed uncapped")
	}
	return pass(CriterionUncapped, "caps unset or 0; %d replay(s) at the recorded prompt lengths", replayed)
}

func checkFullRun(ev *evidence) Criterion {
	if ev.manifest == nil {
		return noManifest(CriterionFullRun, ev)
	}
	var probs []string
	if ev.manifest.Short {
		probs = append(probs, "the run was --short (a smoke run proves only the wiring)")
	}
	for _, r := range ev.reports {
		if r.Short {
			probs = append(probs, fmt.Sprintf("report %s says short", r.Backend))
		}
	}
	for _, b := range sortedKeys(ev.batches) {
		if ev.batches[b].Short {
			probs = append(probs, fmt.Sprintf("%s says short", batchName(b)))
		}
	}
	for _, b := range sortedKeys(ev.replays) {
		f := ev.replays[b]
		if f.Short {
			probs = append(probs, fmt.Sprintf("%s says short", replayName(b)))
		}
		if f.Status == artifact.StatusOK && f.ReplayedTurns != f.WorkloadTurns {
			probs = append(probs, fmt.Sprintf("%s replayed %d of %d turns", replayName(b), f.ReplayedTurns, f.WorkloadTurns))
		}
	}
	if len(probs) > 0 {
		return fail(CriterionFullRun, "%s", strings.Join(probs, "; "))
	}
	return pass(CriterionFullRun, "full run (not --short), every file agrees")
}

// fullCurve reports whether f's curve has every requested B up to its
// recorded bound, and describes it.
func fullCurve(f *batch.File) (bool, string) {
	c := f.Curve
	if c == nil || len(c.Points) == 0 {
		return false, "no points"
	}
	if len(c.Requested) == 0 {
		return false, "no requested batch sizes recorded"
	}
	for i, p := range c.Points {
		if i >= len(c.Requested) || p.Batch != c.Requested[i] {
			return false, fmt.Sprintf("point %d is B=%d, requested %v", i, p.Batch, c.Requested)
		}
		if p.TokensPerSec <= 0 {
			return false, fmt.Sprintf("B=%d has tokens_per_sec %g", p.Batch, p.TokensPerSec)
		}
	}
	if c.MaxBatch != c.Points[len(c.Points)-1].Batch {
		return false, fmt.Sprintf("max_batch %d is not the last point B=%d", c.MaxBatch, c.Points[len(c.Points)-1].Batch)
	}
	bs := make([]string, len(c.Points))
	for i, p := range c.Points {
		bs[i] = fmt.Sprint(p.Batch)
	}
	desc := fmt.Sprintf("B=%s", strings.Join(bs, ","))
	if len(c.Points) < len(c.Requested) {
		if c.Bound == "" || c.Bound == "requested maximum" {
			return false, desc + fmt.Sprintf(": stops before B=%d with no recorded bound", c.Requested[len(c.Points)])
		}
		return true, desc + " (bounded: " + c.Bound + ")"
	}
	return true, desc + " (" + c.Bound + ")"
}

func checkBatchCurve(ev *evidence) Criterion {
	var good, bad []string
	for _, b := range sortedKeys(ev.batches) {
		f := ev.batches[b]
		switch f.Status {
		case artifact.StatusSkipped:
			bad = append(bad, fmt.Sprintf("%s skipped: %s", b, f.Reason))
			continue
		case artifact.StatusFailed:
			bad = append(bad, fmt.Sprintf("%s failed: %s", b, f.Reason))
			continue
		}
		ok, desc := fullCurve(f)
		if ok {
			good = append(good, b+": "+desc)
		} else {
			bad = append(bad, b+": "+desc)
		}
	}
	bad = append(bad, ev.batchErrs...)
	if len(good) == 0 {
		if len(bad) == 0 {
			return fail(CriterionBatchCurve, "no %s under %s/", batch.FileName("<backend>"), BatchDir)
		}
		return fail(CriterionBatchCurve, "no batching backend has a full curve: %s", strings.Join(bad, "; "))
	}
	d := strings.Join(good, "; ")
	if len(bad) > 0 {
		d += "; also: " + strings.Join(bad, "; ")
	}
	return pass(CriterionBatchCurve, "%s", d)
}

func checkThreshold(ev *evidence, prof Profile) Criterion {
	best, bestName := 0.0, ""
	var figs []string
	for _, b := range sortedKeys(ev.batches) {
		f := ev.batches[b]
		if f.Status != artifact.StatusOK {
			continue
		}
		if ok, _ := fullCurve(f); !ok {
			continue
		}
		c := f.Curve
		figs = append(figs, fmt.Sprintf("%s %.2fx at B=%d (%.1f vs %.1f tok/s)", b, c.SpeedupAtMax, c.MaxBatch, c.Points[len(c.Points)-1].TokensPerSec, c.Points[0].TokensPerSec))
		if c.SpeedupAtMax > best {
			best, bestName = c.SpeedupAtMax, b
		}
	}
	if len(figs) == 0 {
		return fail(CriterionBatchedDecodeThreshold, "no full batch curve to measure (profile %s needs >= %gx)", prof.Name, prof.Threshold)
	}
	d := fmt.Sprintf("%s; best %s %.2fx, profile %s needs >= %gx", strings.Join(figs, "; "), bestName, best, prof.Name, prof.Threshold)
	if best >= prof.Threshold {
		return pass(CriterionBatchedDecodeThreshold, "%s", d)
	}
	return fail(CriterionBatchedDecodeThreshold, "%s", d)
}

func positiveTimings(r *report.Report) []string {
	var out []string
	chk := func(name string, v float64) {
		if !(v > 0) {
			out = append(out, fmt.Sprintf("%s = %g", name, v))
		}
	}
	chk("cold_full_prefill.ms", r.ColdFullPrefill.MS)
	chk("cold_full_prefill.ttft_ms", r.ColdFullPrefill.TTFTMS)
	chk("cold_full_prefill.prompt_tps", r.ColdFullPrefill.PromptTPS)
	chk("warm_same_prefix.ms", r.WarmSamePrefix.MS)
	chk("warm_same_prefix.ttft_ms", r.WarmSamePrefix.TTFTMS)
	chk("warm_changed_suffix.ms", r.WarmChangedSuffix.MS)
	chk("warm_changed_suffix.ttft_ms", r.WarmChangedSuffix.TTFTMS)
	chk("decode.tokens_per_sec", r.Decode.TokensPerSec)
	for _, p := range r.SuffixTTFTCurve {
		chk(fmt.Sprintf("suffix_ttft_curve[%d].ttft_ms", p.SuffixTokens), p.TTFTMS)
	}
	return out
}

func checkReports(ev *evidence) Criterion {
	var probs, okNames, skipped []string
	if ev.reportsErr != nil {
		probs = append(probs, ev.reportsErr.Error())
	}
	probs = append(probs, linkProblems(ev, BenchDir, BatchDir, WorkloadDir)...)
	for _, r := range ev.reports {
		name := r.Backend
		if r.RowLabel != "" {
			name += " (" + r.RowLabel + ")"
		}
		if r.Status == report.StatusSkipped {
			skipped = append(skipped, fmt.Sprintf("%s skipped: %s", name, r.SkipReason))
			continue
		}
		bad := append(report.CorrectnessFailures(r), positiveTimings(r)...)
		if len(bad) > 0 {
			probs = append(probs, fmt.Sprintf("%s: %s", name, strings.Join(bad, ", ")))
			continue
		}
		okNames = append(okNames, name)
	}
	for _, b := range sortedKeys(ev.replays) {
		f := ev.replays[b]
		switch f.Status {
		case artifact.StatusFailed:
			probs = append(probs, fmt.Sprintf("%s failed: %s", replayName(b), f.Reason))
		case artifact.StatusOK:
			if p := f.Problems(); len(p) > 0 {
				probs = append(probs, fmt.Sprintf("%s: %s", replayName(b), strings.Join(p, ", ")))
			}
		}
	}
	for _, b := range sortedKeys(ev.batches) {
		if f := ev.batches[b]; f.Status == artifact.StatusFailed {
			probs = append(probs, fmt.Sprintf("%s failed: %s", batchName(b), f.Reason))
		}
	}
	probs = append(probs, ev.replayErrs...)
	probs = append(probs, ev.batchErrs...)
	if len(okNames) == 0 && ev.reportsErr == nil {
		probs = append(probs, "no backend produced a valid report")
	}
	if len(probs) > 0 {
		return fail(CriterionReportsValid, "%s", strings.Join(probs, "; "))
	}
	d := fmt.Sprintf("%d report(s) with every correctness flag true and positive timings: %s; %d workload replay(s) plausible",
		len(okNames), strings.Join(okNames, ", "), countOK(ev.replays))
	if len(skipped) > 0 {
		d += "; " + strings.Join(skipped, "; ")
	}
	return pass(CriterionReportsValid, "%s", d)
}

func countOK(m map[string]*workload.ReplayFile) int {
	n := 0
	for _, f := range m {
		if f.Status == artifact.StatusOK {
			n++
		}
	}
	return n
}

func checkCleanNode(ev *evidence, asserted bool) Criterion {
	if !asserted {
		return fail(CriterionCleanNode, "not asserted: pass --clean-node only for artifacts captured on a node that was not running the live multi-session fleet load")
	}
	var probs []string
	if ev.manifest == nil {
		probs = append(probs, fmt.Sprintf("no readable manifest: %v", ev.manifestErr))
	} else {
		if ev.manifest.Short {
			probs = append(probs, "the run was --short")
		}
		if !ev.manifest.Caps.Uncapped() {
			probs = append(probs, fmt.Sprintf("the run was capped (prefill cap %d, prompt cap %d)", ev.manifest.Caps.PrefillCap, ev.manifest.Caps.PromptCap))
		}
	}
	if len(probs) > 0 {
		return fail(CriterionCleanNode, "--clean-node refused: %s; clean-box numbers need a full, uncapped run", strings.Join(probs, "; "))
	}
	return pass(CriterionCleanNode, "asserted by the operator (--clean-node): a provenance statement, not something the gate can measure")
}

// sortedKeys lists the keys of m, sorted.
func sortedKeys[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }

package report

import (
	"fmt"
	"strconv"
	"strings"
)

// RunSet is the reports of one run directory, labelled for a comparison.
type RunSet struct {
	// Label names the run in column headings, e.g. the directory name.
	Label string
	// Dir is the directory as the user gave it (ReadRuns); empty when the
	// run was not read from a directory, and Label names it instead.
	Dir string
	// Reports are the run's backend reports.
	Reports []*Report
	// Files are the files the reports were read from, in the same order
	// (ReadRuns); empty when the reports were not read from files.
	Files []string
}

// Mismatch is one workload field on which a comparison's runs differ, or
// on which the report files of one run directory differ. Ratios across such
// runs compare different work.
type Mismatch struct {
	// Field is the report field, by its JSON name: model_spec,
	// model_digest, token_ids_digest, scenario or short.
	Field string
	// Within is the run directory whose own report files disagree (a run
	// folder mixing stale files of an earlier run); empty when the runs
	// differ from one another.
	Within string
	// Values are the values found: per run directory, or, with Within, per
	// report file.
	Values []Placed
}

// Placed is a value and where it was found: a run directory or a report
// file.
type Placed struct {
	Where string
	Value string
}

// String is the mismatch in words: "model_digest (out/a: sha256:1,
// out/b: sha256:2)", or for one run directory "model_spec within out/b
// (out/b/gokernel.json: synthetic:tiny:f16, out/b/llamacpp.json:
// synthetic:tiny)".
func (m Mismatch) String() string {
	vals := make([]string, len(m.Values))
	for i, v := range m.Values {
		vals[i] = v.Where + ": " + v.Value
	}
	s := m.Field
	if m.Within != "" {
		s += " within " + m.Within
	}
	return s + " (" + strings.Join(vals, ", ") + ")"
}

// MismatchError refuses a comparison of runs that did not do the same work
// (CheckComparable found mismatches).
type MismatchError struct {
	Mismatches []Mismatch
}

func (e *MismatchError) Error() string {
	return "runs differ in " + joinMismatches(e.Mismatches) +
		": their ratios would compare different work (fakbench compare --allow-mismatch compares them anyway)"
}

func joinMismatches(ms []Mismatch) string {
	parts := make([]string, len(ms))
	for i, m := range ms {
		parts[i] = m.String()
	}
	return strings.Join(parts, ", ")
}

// comparedField is one workload field CheckComparable holds equal. value
// returns "" when a report does not record the field (an older report): it
// is then left out of the check rather than called different.
type comparedField struct {
	name  string
	value func(*Report) string
}

var comparedFields = []comparedField{
	// The spec is compared only for reports that record no digest: two
	// spellings of one file (a preset's old name, a path against a spec)
	// are the same model, and two files are told apart by the digest.
	{"model_spec", func(r *Report) string {
		if r.ModelDigest != "" {
			return ""
		}
		return r.ModelSpec
	}},
	{"model_digest", func(r *Report) string { return r.ModelDigest }},
	{"token_ids_digest", func(r *Report) string { return r.TokenDigest }},
	{"scenario", func(r *Report) string { return scenarioText(r.Scenario) }},
	{"short", func(r *Report) string { return strconv.FormatBool(r.Short) }},
}

// scenarioText renders a scenario's sizes compactly ("stable=512 suffix=32
// changed=32 edit_at=256 curve=8/64 max_decode=64 compare_steps=16"), ""
// for nil.
func scenarioText(s *ScenarioShape) string {
	if s == nil {
		return ""
	}
	curve := make([]string, len(s.SuffixCurve))
	for i, n := range s.SuffixCurve {
		curve[i] = strconv.Itoa(n)
	}
	return fmt.Sprintf("stable=%d suffix=%d changed=%d edit_at=%d curve=%s max_decode=%d compare_steps=%d",
		s.StableTokens, s.SuffixTokens, s.ChangedSuffixTokens, s.EditAt, strings.Join(curve, "/"), s.MaxDecode, s.CompareSteps)
}

// measured reports whether r did the run's work and so must match it: every
// row except a skipped or failed one that never reached the scenarios (no
// scenario recorded), whose identity fields say nothing about the work.
func measured(r *Report) bool {
	if r.Scenario != nil {
		return true
	}
	return r.Status != StatusSkipped && r.Status != StatusFailed
}

// where names a run directory (Dir, else Label) and the file of its i-th
// report (Files[i], else the run and the row's backend and label).
func (rs RunSet) where() string {
	if rs.Dir != "" {
		return rs.Dir
	}
	return rs.Label
}

func (rs RunSet) file(i int) string {
	if i < len(rs.Files) && rs.Files[i] != "" {
		return rs.Files[i]
	}
	name := rs.where() + ": " + rs.Reports[i].Backend
	if l := rs.Reports[i].RowLabel; l != "" {
		name += " (" + l + ")"
	}
	return name
}

// CheckComparable lists what keeps runs from being compared: the fields
// that must be equal for a ratio across runs to mean anything (the model by
// digest, or by spec where no digest is recorded, the token IDs' digest, which follows --seed, the
// scenario sizes, and --short) and that differ between the runs, or
// between the report files of one run directory (a folder mixing stale
// files of an earlier run with another model). Rows may differ in
// everything else (row kind, backend, settings). Skipped and failed rows
// that never reached the scenarios take no part, and a field a report does
// not record is left out. nil means the runs are comparable.
func CheckComparable(runs []RunSet) []Mismatch {
	var out []Mismatch
	for _, f := range comparedFields {
		// per run: its one value, or a Within mismatch when its files differ
		runValue := make([]string, len(runs))
		mixed := false
		for i, run := range runs {
			var placed []Placed
			distinct := map[string]bool{}
			for j, r := range run.Reports {
				if r == nil || !measured(r) {
					continue
				}
				v := f.value(r)
				if v == "" {
					continue
				}
				placed = append(placed, Placed{Where: run.file(j), Value: v})
				distinct[v] = true
			}
			switch len(distinct) {
			case 0:
			case 1:
				runValue[i] = placed[0].Value
			default:
				mixed = true
				out = append(out, Mismatch{Field: f.name, Within: run.where(), Values: placed})
			}
		}
		if mixed {
			continue // the mixed folder is named; its value across runs is moot
		}
		var placed []Placed
		distinct := map[string]bool{}
		for i, v := range runValue {
			if v == "" {
				continue
			}
			placed = append(placed, Placed{Where: runs[i].where(), Value: v})
			distinct[v] = true
		}
		if len(distinct) > 1 {
			out = append(out, Mismatch{Field: f.name, Values: placed})
		}
	}
	return out
}

// mismatchWarning is the warning that heads a comparison of runs that
// differ (compare --allow-mismatch), in Markdown; "" when they do not.
func mismatchWarning(ms []Mismatch) string {
	if len(ms) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString("> **Warning: these runs did not do the same work; the ratios and the gap closed below compare different workloads.** They differ in:\n>\n")
	for _, m := range ms {
		fmt.Fprintf(&b, "> - %s\n", m.String())
	}
	b.WriteString("\n")
	return b.String()
}

// MismatchWarnings are the lines of the warning that heads a comparison of
// runs that differ (CheckComparable), for other renderers (the HTML page):
// nil when the runs are comparable.
func MismatchWarnings(runs []RunSet) []string {
	ms := CheckComparable(runs)
	if len(ms) == 0 {
		return nil
	}
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.String()
	}
	return out
}

// GapClosed returns the fraction of the kernel's gap to the reference that
// a change closed, from the kernel/reference ratio before (old) and after
// (new): 1 means the gap is gone, 0 nothing changed, a negative value the
// gap grew. It is false for metrics without a direction and when there was
// no gap before (the kernel was already at or past the reference).
func GapClosed(better Better, old, new float64) (float64, bool) {
	switch better {
	case Higher:
		if old >= 1 {
			return 0, false
		}
		return (new - old) / (1 - old), true
	case Lower:
		if old <= 1 {
			return 0, false
		}
		return (old - new) / (old - 1), true
	}
	return 0, false
}

// CompareMarkdown renders a comparison of several runs: one column per
// backend per run, the kernel's ratios to the best tuned reference (and to
// each reference) of every run that has both kinds of row, and, when the first and last runs both have them, how much of
// the gap the later run closed. Correctness failures, skipped rows and the
// reproducibility facts of every column follow. Runs that differ in their
// workload (CheckComparable; the caller chose to compare them anyway) get a
// warning at the top that names every difference. For two runs or more,
// the changes between the first and the last and the regression gate's
// judgement (ChangesMarkdown; allMetrics widens the gate) come after the
// side-by-side table.
func CompareMarkdown(runs []RunSet, allMetrics bool) string {
	var b strings.Builder
	b.WriteString("# fakbench compare\n\n")
	b.WriteString(mismatchWarning(CheckComparable(runs)))
	for i, r := range runs {
		fmt.Fprintf(&b, "- run %d: `%s` (%d backend rows)\n", i+1, r.Label, len(r.Reports))
	}
	b.WriteString("\n")

	var cols []Column
	var derived []DerivedColumn
	var all []*Report
	standings := make([]Standing, len(runs))
	for i, run := range runs {
		for _, c := range Columns(run.Reports) {
			c.Label = run.Label + ": " + c.Label
			cols = append(cols, c)
		}
		all = append(all, run.Reports...)
		standings[i] = FindStanding(run.Reports)
		derived = append(derived, standings[i].Columns(run.Label+": ")...)
	}
	first, last := standings[0], standings[len(standings)-1]
	// closed is the fraction of the kernel's gap to the best reference on m
	// that the last run closed against the first (each run's best
	// reference is its own: the question is where the kernel stands).
	closed := func(m Metric) (o, n float64, g float64, ok, gap bool) {
		o, _, ok1 := first.Gap(m)
		n, _, ok2 := last.Gap(m)
		if !ok1 || !ok2 {
			return 0, 0, 0, false, false
		}
		g, gap = GapClosed(m.Better, o, n)
		return o, n, g, true, gap
	}
	if len(runs) >= 2 && first.OK() && last.OK() {
		label := fmt.Sprintf("gap closed %s -> %s", runs[0].Label, runs[len(runs)-1].Label)
		derived = append(derived, DerivedColumn{Label: label, Cell: func(m Metric) string {
			_, _, g, ok, gap := closed(m)
			switch {
			case !ok:
				return ""
			case gap:
				return fmt.Sprintf("%.0f %%", g*100)
			}
			return "no gap"
		}})
	}

	b.WriteString("## Headline\n\n")
	if len(runs) >= 2 && first.OK() && last.OK() {
		fmt.Fprintf(&b, "How much of the kernel's gap to the best tuned reference `%s` closed against `%s`:\n\n", runs[len(runs)-1].Label, runs[0].Label)
		byKey := map[string]Metric{}
		for _, m := range Metrics(all) {
			byKey[m.Key] = m
		}
		for _, key := range headlineKeys {
			m, ok := byKey[key]
			if !ok {
				continue
			}
			o, n, g, ok, gap := closed(m)
			if !ok {
				continue
			}
			_, ro, _ := first.Gap(m)
			_, rn, _ := last.Gap(m)
			line := fmt.Sprintf("- %s: kernel / best reference %s (%s) -> %s (%s) (%s is better)",
				m.Name, FormatRatio(o), displayRow(ro), FormatRatio(n), displayRow(rn), m.Better)
			if gap {
				line += fmt.Sprintf(": %.0f %% of the gap closed", g*100)
			} else {
				line += ": no gap to close in the first run"
			}
			b.WriteString(line + "\n")
		}
		b.WriteString("\n")
	} else {
		for i, run := range runs {
			if !standings[i].OK() {
				fmt.Fprintf(&b, "- `%s` has no kernel and tuned-reference rows that completed: no gap to compare.\n", run.Label)
			}
		}
		b.WriteString("\n")
	}

	b.WriteString("## Side by side\n\n")
	b.WriteString(SideBySide(cols, derived))
	b.WriteString("\n")
	b.WriteString(ChangesMarkdown(runs, allMetrics))
	b.WriteString(Checks(all))
	b.WriteString(Skipped(all))
	b.WriteString(Reproducibility(cols))
	return b.String()
}

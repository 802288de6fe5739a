package report

import (
	"fmt"
	"strings"
)

// RunSet is the reports of one run directory, labelled for a comparison.
type RunSet struct {
	// Label names the run in column headings, e.g. the directory name.
	Label string
	// Reports are the run's backend reports.
	Reports []*Report
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
// backend per run, the kernel / tuned-reference ratio of every run that has
// both rows, and, when the first and last runs both have them, how much of
// the gap the later run closed. Correctness failures, skipped rows and the
// reproducibility facts of every column follow.
func CompareMarkdown(runs []RunSet) string {
	var b strings.Builder
	b.WriteString("# fakbench compare\n\n")
	for i, r := range runs {
		fmt.Fprintf(&b, "- run %d: `%s` (%d backend rows)\n", i+1, r.Label, len(r.Reports))
	}
	b.WriteString("\n")

	var cols []Column
	var derived []DerivedColumn
	var all []*Report
	type pair struct{ k, ref *Report }
	pairs := make([]*pair, len(runs))
	for i, run := range runs {
		for _, c := range Columns(run.Reports) {
			c.Label = run.Label + ": " + c.Label
			cols = append(cols, c)
		}
		all = append(all, run.Reports...)
		if rc := HeadlineRatio(run.Reports); rc != nil {
			rc.Label = run.Label + ": " + rc.Label
			derived = append(derived, rc.Derived())
			pairs[i] = &pair{rc.Kernel, rc.Ref}
		}
	}
	first, last := pairs[0], pairs[len(pairs)-1]
	if len(runs) >= 2 && first != nil && last != nil {
		label := fmt.Sprintf("gap closed %s -> %s", runs[0].Label, runs[len(runs)-1].Label)
		derived = append(derived, DerivedColumn{Label: label, Cell: func(m Metric) string {
			o, ok1 := Ratio(m, first.k, first.ref)
			n, ok2 := Ratio(m, last.k, last.ref)
			if !ok1 || !ok2 {
				return ""
			}
			if g, ok := GapClosed(m.Better, o, n); ok {
				return fmt.Sprintf("%.0f %%", g*100)
			}
			return "no gap"
		}})
	}

	b.WriteString("## Headline\n\n")
	if len(runs) >= 2 && first != nil && last != nil {
		fmt.Fprintf(&b, "How much of the kernel's gap to the tuned reference `%s` closed against `%s`:\n\n", runs[len(runs)-1].Label, runs[0].Label)
		byKey := map[string]Metric{}
		for _, m := range Metrics(all) {
			byKey[m.Key] = m
		}
		for _, key := range headlineKeys {
			m, ok := byKey[key]
			if !ok {
				continue
			}
			o, ok1 := Ratio(m, first.k, first.ref)
			n, ok2 := Ratio(m, last.k, last.ref)
			if !ok1 || !ok2 {
				continue
			}
			line := fmt.Sprintf("- %s: kernel / reference %s -> %s (%s is better)", m.Name, FormatRatio(o), FormatRatio(n), m.Better)
			if g, ok := GapClosed(m.Better, o, n); ok {
				line += fmt.Sprintf(": %.0f %% of the gap closed", g*100)
			} else {
				line += ": no gap to close in the first run"
			}
			b.WriteString(line + "\n")
		}
		b.WriteString("\n")
	} else {
		for _, run := range runs {
			if HeadlineRatio(run.Reports) == nil {
				fmt.Fprintf(&b, "- `%s` has no kernel and tuned-reference pair that ran: no gap to compare.\n", run.Label)
			}
		}
		b.WriteString("\n")
	}

	b.WriteString("## Side by side\n\n")
	b.WriteString(SideBySide(cols, derived))
	b.WriteString("\n")
	b.WriteString(Checks(all))
	b.WriteString(Skipped(all))
	b.WriteString(Reproducibility(cols))
	return b.String()
}

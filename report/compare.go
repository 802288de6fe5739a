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
// backend per run, the kernel's ratios to the best tuned reference (and to
// each reference) of every run that has both kinds of row, and, when the first and last runs both have them, how much of
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
	b.WriteString(Checks(all))
	b.WriteString(Skipped(all))
	b.WriteString(Reproducibility(cols))
	return b.String()
}

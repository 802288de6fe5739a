package report

import (
	"fmt"
	"slices"
	"strings"

	"golang.org/x/perf/benchmath"
)

// The verdicts of a Change, each metric judged on its own as benchstat
// judges it (whether a move counts as a regression of the comparison is
// the regression gate's call: JudgeGate).
const (
	// ChangeRegressed: the metric moved beyond its run-to-run spread in
	// the worse direction (throughput down, latency or memory up).
	ChangeRegressed = "worse"
	// ChangeImproved: it moved beyond its spread in the better direction.
	ChangeImproved = "better"
	// ChangeWithinNoise: the move is within the run-to-run spread.
	ChangeWithinNoise = "within noise"
	// ChangeNotJudged: too few samples for the test to tell a change at
	// all (Note says how many it needs).
	ChangeNotJudged = "not judged"
)

// ChangeConfidence is the confidence level of the medians' intervals a
// Change states, and ChangeAlpha the level of its U test: benchstat's.
const (
	ChangeConfidence = 0.95
	ChangeAlpha      = 0.05
)

// Change is one metric of one row judged between an old and a new run on
// the kept samples (Samples), as benchstat judges benchmarks: with
// golang.org/x/perf/benchmath making no assumption about the samples'
// distribution, each side's median with its confidence interval, and a
// Mann-Whitney U test of whether the two come from one distribution.
type Change struct {
	// Row is the row's name (RowName) in both runs.
	Row    string
	Metric Metric
	// Old and New are each side's median with its confidence interval
	// (Lo, Hi; infinite when there are too few samples for one) and its
	// sample count.
	Old, New       ChangeSide
	P, Alpha       float64
	Verdict        string
	Note           string
	OldRun, NewRun string
	// oldXs and newXs are the samples judged (the gate tests them again
	// at its own levels).
	oldXs, newXs []float64
}

// ChangeSide is one side of a Change.
type ChangeSide struct {
	N              int
	Median, Lo, Hi float64
	// Range is the interval as benchstat prints it ("±3%", "∞").
	Range string
}

func sideOf(xs []float64) (ChangeSide, *benchmath.Sample) {
	s := benchmath.NewSample(slices.Clone(xs), &benchmath.DefaultThresholds)
	sum := benchmath.AssumeNothing.Summary(s, ChangeConfidence)
	return ChangeSide{N: len(xs), Median: sum.Center, Lo: sum.Lo, Hi: sum.Hi, Range: "±" + sum.PctRangeString()}, s
}

// Changes judges every metric with a direction that a row of old and the
// row of new with the same name both carry with kept samples.
func Changes(old, new RunSet) []Change {
	byName := map[string]*Report{}
	for _, r := range old.Reports {
		if r != nil {
			byName[RowName(r)] = r
		}
	}
	var out []Change
	metrics := Metrics(append(slices.Clone(old.Reports), new.Reports...))
	for _, nr := range new.Reports {
		if nr == nil {
			continue
		}
		or := byName[RowName(nr)]
		if or == nil {
			continue
		}
		for _, m := range metrics {
			if m.Better == Info {
				continue
			}
			_, okO := m.Value(or)
			_, okN := m.Value(nr)
			oldXs, newXs := Samples(or, m.Key), Samples(nr, m.Key)
			if !okO || !okN || len(oldXs) == 0 || len(newXs) == 0 {
				continue
			}
			out = append(out, judge(RowName(nr), m, oldXs, newXs, old.Label, new.Label))
		}
	}
	return out
}

func judge(row string, m Metric, oldXs, newXs []float64, oldRun, newRun string) Change {
	c := Change{Row: row, Metric: m, OldRun: oldRun, NewRun: newRun, oldXs: oldXs, newXs: newXs}
	var so, sn *benchmath.Sample
	c.Old, so = sideOf(oldXs)
	c.New, sn = sideOf(newXs)
	cmp := benchmath.AssumeNothing.Compare(so, sn)
	c.P, c.Alpha = cmp.P, cmp.Alpha
	var notes []string
	for _, w := range cmp.Warnings {
		notes = append(notes, w.Error())
	}
	c.Note = strings.Join(notes, "; ")
	switch {
	case cmp.P <= cmp.Alpha && c.New.Median != c.Old.Median && c.worse():
		c.Verdict = ChangeRegressed
	case cmp.P <= cmp.Alpha && c.New.Median != c.Old.Median:
		c.Verdict = ChangeImproved
	case len(cmp.Warnings) > 0 && strings.Contains(c.Note, "need"):
		c.Verdict = ChangeNotJudged
	default:
		c.Verdict = ChangeWithinNoise
	}
	return c
}

// Delta is the change of the median in percent ("+12.3 %"), "~" within
// noise, as benchstat writes it.
func (c Change) Delta() string {
	if c.Verdict != ChangeRegressed && c.Verdict != ChangeImproved {
		return "~"
	}
	if c.Old.Median == 0 {
		return "?"
	}
	return fmt.Sprintf("%+.1f %%", (c.New.Median/c.Old.Median-1)*100)
}

// ChangesMarkdown is the comparison's section on what moved beyond its
// run-to-run spread between the first run and the last: every judged
// metric per row with both medians and their intervals, the change, the
// test's p and n, and its verdict on its own, then the regression gate's
// judgement (JudgeGate, of the headline metrics or, with allMetrics, of
// all); "" for fewer than two runs.
func ChangesMarkdown(runs []RunSet, allMetrics bool) string {
	if len(runs) < 2 {
		return ""
	}
	first, last := runs[0], runs[len(runs)-1]
	changes := Changes(first, last)
	var b strings.Builder
	fmt.Fprintf(&b, "## Changes beyond run-to-run spread: `%s` -> `%s`\n\n", first.Label, last.Label)
	fmt.Fprintf(&b, "Each metric both runs kept samples of (one per repetition; for the inter-token percentiles, each repetition's own), judged on its own as benchstat judges benchmarks with golang.org/x/perf/benchmath: the medians with their %.0f %% confidence intervals, and a Mann-Whitney U test at alpha %.2f. Below alpha the metric moved beyond its run-to-run spread, to the worse (throughput down, latency up) or the better. Whether a move fails the comparison is the regression gate's call, below.\n\n",
		ChangeConfidence*100, ChangeAlpha)
	if len(changes) == 0 {
		b.WriteString("No metric with kept samples is in both runs.\n\n")
	} else {
		fmt.Fprintf(&b, "| row | metric | %s | %s | change | test | verdict |\n|---|---|---:|---:|---:|---|---|\n", mdEscape(first.Label), mdEscape(last.Label))
		for _, c := range changes {
			verdict := c.Verdict
			if c.Verdict == ChangeNotJudged {
				verdict += ": " + c.Note
			}
			fmt.Fprintf(&b, "| %s | %s (%s is better) | %s %s | %s %s | %s | %s | %s |\n", mdEscape(c.Row), mdEscape(c.Metric.Name), c.Metric.Better,
				FormatNumber(c.Old.Median), c.Old.Range, FormatNumber(c.New.Median), c.New.Range, c.Delta(), c.test(), verdict)
		}
		b.WriteString("\n")
	}
	b.WriteString(JudgeGate(runs, allMetrics).Markdown())
	return b.String()
}

// test is the U test as benchstat states it ("p=0.008 n=5").
func (c Change) test() string {
	n := fmt.Sprintf("n=%d", c.Old.N)
	if c.Old.N != c.New.N {
		n = fmt.Sprintf("n=%d+%d", c.Old.N, c.New.N)
	}
	return fmt.Sprintf("p=%.3f %s", c.P, n)
}

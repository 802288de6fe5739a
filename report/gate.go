package report

import (
	"cmp"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/perf/benchmath"
)

// The regression gate decides `fakbench compare --fail-on-regression`.
//
// The changes table (Changes) judges every metric on its own at alpha
// 0.05, as benchstat does: the right reading of one metric, and the wrong
// basis for one pass/fail decision over many. With some 17 metrics a row
// and several rows, a rerun without any change has some metric below 0.05
// in most comparisons, and a gate that fails on noise is not trusted. The
// gate therefore judges the headline metrics only (HeadlineMetrics; every
// metric of the table when asked), and holds the family-wise error rate
// at GateAlpha across all its tests, every row's together: the chance that
// two runs without any change fail it is at most GateAlpha. It does so with
// Holm's step-down procedure on the same Mann-Whitney U tests' p-values
// (from golang.org/x/perf/benchmath): sorted from the smallest, the k-th
// of m tests is rejected when its p and every smaller one's are at most
// GateAlpha/(m-k+1); the first that is not stops the procedure, and it and
// every later test stand. A regression is a rejected test whose median
// moved in the worse direction. Holm makes no assumption about how the
// tests depend on each other (the inter-token percentiles come from the
// same tokens) and rejects everything Bonferroni's GateAlpha/m would, and
// more.
//
// Fewer tests leave each more power: a U test on n against n samples gives
// at best p = 0.0079 at n = 5, 0.0022 at 6, 0.00058 at 7, so a gate of m
// tests can reject nothing when GateAlpha/m is below that. Such a gate is
// blind, and it fails rather than pass what it cannot judge (Gate.Blind
// says what to do).

// GateAlpha is the family-wise error rate the regression gate holds.
const GateAlpha = 0.05

// HeadlineMetrics are the metric keys the regression gate judges by
// default: prefill and decode throughput, the warm changed-suffix time to
// first token, and the decode's inter-token latency at p50 and p99.
var HeadlineMetrics = []string{
	"cold_full_prefill.prompt_tps",
	"decode.tokens_per_sec",
	"warm_changed_suffix.ttft_ms",
	interTokenKey + ".p50",
	interTokenKey + ".p99",
}

// Gate is the regression gate's judgement of the last run against the
// first.
type Gate struct {
	// AllMetrics says the gate judged every metric of the changes table,
	// not only HeadlineMetrics.
	AllMetrics bool
	// Compared says there were two runs or more to compare; a gate
	// without them passes.
	Compared       bool
	OldRun, NewRun string
	// Steps are the gate's tests in Holm's order (smallest p first).
	Steps []GateStep
	// LeftOut are the metrics in the gate's scope whose samples are too
	// few for a U test to tell any change even at GateAlpha (their Note
	// says how many it needs): they are not tests of the gate.
	LeftOut []Change
	// Regressions are the rejected tests whose median moved in the worse
	// direction.
	Regressions []Change
	// Blind says why the gate cannot reject any test ("" when it can): no
	// test at all, or samples too few for any test to reach Holm's first
	// level.
	Blind string
}

// GateStep is one test of the gate.
type GateStep struct {
	Change
	// Level is Holm's level at this step: GateAlpha over the tests not
	// yet rejected, rounded down to three significant digits (so that it
	// reads as used; a lower level only makes the gate stricter).
	Level float64
	// Reached says the procedure got to this step (every earlier test was
	// rejected); Rejected that it was reached and P <= Level; Regression
	// that it was rejected with the median worse.
	Reached, Rejected, Regression bool
	// Power is benchmath's warning when the step's sample counts cannot
	// reach Level at all ("" when they can).
	Power string
}

// holmLevel is GateAlpha/k rounded down to three significant digits.
func holmLevel(k int) float64 {
	t := GateAlpha / float64(k)
	e := math.Floor(math.Log10(t)) - 2
	d := math.Floor(t/math.Pow(10, e) + 1e-9)
	v, err := strconv.ParseFloat(fmt.Sprintf("%.0fe%.0f", d, e), 64)
	if err != nil || v > t {
		return t
	}
	return v
}

// compareAt is benchmath's U test of c's samples at alpha level alpha:
// whether it rejects, and its warning when the sample counts cannot reach
// that level.
func compareAt(c Change, alpha float64) (rejected bool, power string) {
	th := &benchmath.Thresholds{CompareAlpha: alpha}
	res := benchmath.AssumeNothing.Compare(benchmath.NewSample(slices.Clone(c.oldXs), th), benchmath.NewSample(slices.Clone(c.newXs), th))
	for _, w := range res.Warnings {
		if strings.Contains(w.Error(), "need") {
			power = w.Error()
		}
	}
	return res.P <= res.Alpha, power
}

// inGate says the gate judges metric key.
func (g *Gate) inGate(key string) bool {
	return g.AllMetrics || slices.Contains(HeadlineMetrics, key)
}

// JudgeGate judges the last run against the first: the headline metrics
// of every row both runs have (every metric of the changes table with
// allMetrics), with Holm's procedure at GateAlpha across all of them.
func JudgeGate(runs []RunSet, allMetrics bool) *Gate {
	g := &Gate{AllMetrics: allMetrics}
	if len(runs) < 2 {
		return g
	}
	first, last := runs[0], runs[len(runs)-1]
	g.Compared, g.OldRun, g.NewRun = true, first.Label, last.Label
	var family []Change
	for _, c := range Changes(first, last) {
		switch {
		case !g.inGate(c.Metric.Key):
		case c.Verdict == ChangeNotJudged:
			g.LeftOut = append(g.LeftOut, c)
		default:
			family = append(family, c)
		}
	}
	slices.SortStableFunc(family, func(a, b Change) int { return cmp.Compare(a.P, b.P) })
	m := len(family)
	reached := true
	for k, c := range family {
		s := GateStep{Change: c, Level: holmLevel(m - k), Reached: reached}
		var rejected bool
		rejected, s.Power = compareAt(c, s.Level)
		s.Rejected = reached && rejected
		s.Regression = s.Rejected && c.worse()
		reached = s.Rejected
		if s.Regression {
			g.Regressions = append(g.Regressions, c)
		}
		g.Steps = append(g.Steps, s)
	}
	g.Blind = g.blindness()
	return g
}

// blindness says why no test of the gate can be rejected, or "".
func (g *Gate) blindness() string {
	scope := "headline metric"
	if g.AllMetrics {
		scope = "metric"
	}
	if len(g.Steps) == 0 {
		if len(g.LeftOut) > 0 {
			return fmt.Sprintf("no %s of a row both runs have is judged: too few samples (%s); run both with more repetitions (--reps)",
				scope, g.LeftOut[0].Note)
		}
		return fmt.Sprintf("no %s with kept samples is in a row both runs have (rows are matched by name)", scope)
	}
	var power string
	for _, s := range g.Steps {
		_, p := compareAt(s.Change, g.Steps[0].Level)
		if p == "" {
			return ""
		}
		power = p
	}
	return fmt.Sprintf("none of its %d tests can reach Holm's first level, p <= %g (%g / %d, rounded down), with these samples (benchmath: %s): run both with more repetitions (--reps), or judge fewer metrics or rows",
		len(g.Steps), g.Steps[0].Level, GateAlpha, len(g.Steps), power)
}

// Failed says the gate fails the comparison: a regression, or a blind
// gate over two runs or more.
func (g *Gate) Failed() bool {
	return g.Compared && (g.Blind != "" || len(g.Regressions) > 0)
}

// Fails reports Failed, and when the gate fails writes why to w, one line
// per regression ("fakbench compare: regression gate: ...").
func (g *Gate) Fails(w io.Writer) bool {
	if !g.Failed() {
		return false
	}
	if g.Blind != "" {
		fmt.Fprintf(w, "fakbench compare: regression gate: cannot judge, so it fails: %s\n", g.Blind)
	}
	for _, c := range g.Regressions {
		fmt.Fprintf(w, "fakbench compare: regression gate: %s\n", g.regressionLine(c))
	}
	return true
}

// regressionLine describes a regression with its test.
func (g *Gate) regressionLine(c Change) string {
	line := fmt.Sprintf("%s %s %s (%s -> %s, p=%.3g", c.Row, c.Metric.Name, c.pct(), FormatNumber(c.Old.Median), FormatNumber(c.New.Median), c.P)
	for i, s := range g.Steps {
		if s.Row == c.Row && s.Metric.Key == c.Metric.Key {
			line += fmt.Sprintf(" <= %g at step %d of %d", s.Level, i+1, len(g.Steps))
		}
	}
	return line + ")"
}

// scopeWords says in words what the gate judges.
func (g *Gate) scopeWords() string {
	if g.AllMetrics {
		return "every metric of the table above (--gate-all-metrics)"
	}
	names := make([]string, len(HeadlineMetrics))
	for i, k := range HeadlineMetrics {
		names[i] = headlineName(k)
	}
	return "the headline metrics (" + strings.Join(names, ", ") + ")"
}

// headlineName is a headline metric's name as the tables print it.
func headlineName(key string) string {
	for _, m := range Metrics(nil) {
		if m.Key == key {
			return m.Name
		}
	}
	if stat, ok := strings.CutPrefix(key, interTokenKey+"."); ok {
		return "decode ITL " + stat + " ms"
	}
	return key
}

// Markdown is the gate's section of the comparison.
func (g *Gate) Markdown() string {
	if !g.Compared {
		return ""
	}
	var b strings.Builder
	b.WriteString("### Regression gate (`--fail-on-regression`)\n\n")
	fmt.Fprintf(&b, "The gate judges %s of every row both runs have. Each line above is judged on its own, as benchstat does, so over many metrics a rerun without any change shows some below alpha by chance. The gate instead holds the chance that such a rerun fails it at %g across all its tests together (the family-wise error rate), with Holm's step-down procedure on the same U tests' p-values: the smallest p must be at most %g / m for m tests, the next %g / (m-1), and so on (each level rounded down to three significant digits); the first test above its level stops the procedure, and it and every later test stand. A regression is a rejected test whose median moved in the worse direction.\n\n",
		g.scopeWords(), GateAlpha, GateAlpha, GateAlpha)
	if len(g.Steps) > 0 {
		b.WriteString("| step | row | metric | change | p | Holm level | decision |\n|---:|---|---|---:|---:|---:|---|\n")
		for i, s := range g.Steps {
			decision := "stands"
			switch {
			case s.Regression:
				decision = "**REGRESSION**"
			case s.Rejected && s.New.Median == s.Old.Median:
				decision = "rejected, the medians equal"
			case s.Rejected:
				decision = "improvement"
			case !s.Reached:
				decision = "stands (not reached)"
			}
			if s.Power != "" && !s.Rejected {
				decision += "; cannot reach its level: " + s.Power
			}
			fmt.Fprintf(&b, "| %d | %s | %s | %s | %.3g | %g | %s |\n", i+1, mdEscape(s.Row), mdEscape(s.Metric.Name), s.pct(), s.P, s.Level, decision)
		}
		b.WriteString("\n")
	}
	if len(g.LeftOut) > 0 {
		var left []string
		for _, c := range g.LeftOut {
			left = append(left, c.Row+" "+c.Metric.Name)
		}
		fmt.Fprintf(&b, "Not tests of the gate, too few samples for a U test at %g (%s): %s.\n\n", GateAlpha, g.LeftOut[0].Note, strings.Join(left, ", "))
	}
	switch {
	case g.Blind != "":
		fmt.Fprintf(&b, "**Gate: cannot judge, so it fails**: %s.\n\n", g.Blind)
	case len(g.Regressions) > 0:
		fmt.Fprintf(&b, "**Gate: FAILED**, %d regression(s):\n\n", len(g.Regressions))
		for _, c := range g.Regressions {
			b.WriteString("- " + g.regressionLine(c) + "\n")
		}
		b.WriteString("\n")
	default:
		fmt.Fprintf(&b, "**Gate: passed**: no test of the %d was rejected in the worse direction.\n\n", len(g.Steps))
	}
	return b.String()
}

// worse says the median moved in the metric's worse direction.
func (c Change) worse() bool {
	return (c.Metric.Better == Higher && c.New.Median < c.Old.Median) || (c.Metric.Better == Lower && c.New.Median > c.Old.Median)
}

// pct is the change of the median in percent, whatever the verdict.
func (c Change) pct() string {
	if c.Old.Median == 0 {
		return "?"
	}
	return fmt.Sprintf("%+.1f %%", (c.New.Median/c.Old.Median-1)*100)
}

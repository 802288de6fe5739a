package sweep

import (
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/fakbench/fakbench/harness/artifact"
	"github.com/fakbench/fakbench/report"
)

// Table renders the sweep as aligned text: one line per configuration with
// its section figures (a "*" marks the best eligible figure of a section),
// its score and whether it was chosen or excluded; then the chosen
// configuration with the objective, and the composite's source per section.
func (s *Sweep) Table() string {
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	var curve []int
	for _, r := range s.Results {
		if r.Report != nil && len(r.Report.SuffixTTFTCurve) > len(curve) {
			curve = curve[:0]
			for _, p := range r.Report.SuffixTTFTCurve {
				curve = append(curve, p.SuffixTokens)
			}
		}
	}
	head := []string{"configuration", "cold prefill tok/s", "warm same TTFT ms", "warm changed TTFT ms", "edited TTFT ms", "decode tok/s"}
	for _, n := range curve {
		head = append(head, fmt.Sprintf("suffix %d TTFT ms", n))
	}
	head = append(head, "score", "status")
	fmt.Fprintln(tw, strings.Join(head, "\t"))
	won := map[string]string{}
	for _, c := range s.CompositeChoices {
		won[c.Section] = c.Config
	}
	for _, r := range s.Results {
		row := []string{r.Config.Name}
		for _, sec := range sections {
			row = append(row, cell(r, sec.name, func(rep *report.Report) float64 { return sec.value(rep) }, won))
		}
		for _, n := range curve {
			key := fmt.Sprintf("suffix_ttft_curve[%d]", n)
			row = append(row, cell(r, key, func(rep *report.Report) float64 {
				p, _ := curvePoint(rep, n)
				return p.TTFTMS
			}, won))
		}
		score, status := "-", "eligible"
		if !r.Excluded && r.Score > 0 {
			score = strconv.FormatFloat(r.Score, 'f', 3, 64)
		}
		switch {
		case r.Excluded:
			status = "excluded: " + r.ExcludedReason
		case s.Chosen != nil && s.Chosen.Config.Name == r.Config.Name:
			status = "CHOSEN"
		}
		row = append(row, score, status)
		fmt.Fprintln(tw, strings.Join(row, "\t"))
	}
	_ = tw.Flush()
	fmt.Fprintf(&b, "\n%s; * = the best eligible figure of the section\n", s.ThreadsNote)
	if s.Chosen != nil {
		fmt.Fprintf(&b, "chosen: %s (score %s)\nobjective: %s\n", s.Chosen.Config.Name, strconv.FormatFloat(s.Chosen.Score, 'f', 3, 64), s.Objective)
	}
	if s.Composite != nil {
		fmt.Fprintf(&b, "composite (%s; kept in the sweep file, never a row):\n", s.CompositeLabel)
	}
	for _, c := range s.CompositeChoices {
		fmt.Fprintf(&b, "  %s: %s (%s %s)\n", c.Section, c.Config, c.Criterion, report.FormatNumber(c.Value))
	}
	for _, n := range s.Notes {
		fmt.Fprintln(&b, n)
	}
	return b.String()
}

func cell(r Result, section string, value func(*report.Report) float64, won map[string]string) string {
	if r.Report == nil {
		return "-"
	}
	v := value(r.Report)
	if v <= 0 {
		return "-"
	}
	s := report.FormatNumber(v)
	if !r.Excluded && won[section] == r.Config.Name {
		s += " *"
	}
	return s
}

// WriteFile writes the sweep as indented JSON to path, atomically
// (report.WriteJSONFile).
func (s *Sweep) WriteFile(path string) error { return report.WriteJSONFile(path, s) }

// ReadFile reads a sweep file written by WriteFile, checking its schema.
func ReadFile(path string) (*Sweep, error) {
	var s Sweep
	if err := artifact.ReadSchemaJSON(path, "sweep", "a sweep JSON object", Schema, &s); err != nil {
		return nil, err
	}
	return &s, nil
}

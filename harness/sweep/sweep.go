// Package sweep measures a backend once per configuration of a small
// settings grid and chooses one configuration by a declared objective
// (Objective, Choose): the tuned reference's settings, so "tuned" is
// measured, not assumed (DESIGN.md, Performance). A run then measures the
// chosen configuration again as its own row.
//
// Every configuration's full report is kept as raw evidence (Sweep.Results);
// a configuration that fails a correctness check is excluded from the choice.
// The sweep also keeps a per-section composite (Compose): each section from
// the configuration best on it. It is labelled as what it is, the best of N
// configurations per section and not one measured configuration, and is
// never a row of a run.
package sweep

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/fakbench/fakbench/report"
)

// Schema names the JSON shape of a Sweep.
//
// v2: the chosen configuration (chosen, objective, per-result score and
// relative figures); the per-section best-of row moved from "tuned" to
// "composite", labelled by composite_label, its choices to
// "composite_choices".
const Schema = "fakbench.sweep/v2"

// Axis is one swept setting: a backend Extra key and the values tried.
type Axis struct {
	Key    string   `json:"key"`
	Values []string `json:"values"`
}

// Grid is the swept settings; every combination of the axes' values is one
// configuration.
type Grid []Axis

// ParseGrid reads a grid written as "key=v1,v2;key2=v3,v4" (blanks around
// items are ignored). A key may appear once; every key needs at least one
// value; values may not repeat within a key.
func ParseGrid(s string) (Grid, error) {
	var g Grid
	seen := map[string]bool{}
	for _, part := range strings.Split(s, ";") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		key, vals, ok := strings.Cut(part, "=")
		key = strings.TrimSpace(key)
		if !ok || key == "" {
			return nil, fmt.Errorf("grid item %q: want key=value[,value...]", part)
		}
		if strings.ContainsAny(key, " ,") {
			return nil, fmt.Errorf("grid item %q: key %q has a blank or comma", part, key)
		}
		if seen[key] {
			return nil, fmt.Errorf("grid names %q twice", key)
		}
		seen[key] = true
		a := Axis{Key: key}
		dup := map[string]bool{}
		for _, v := range strings.Split(vals, ",") {
			v = strings.TrimSpace(v)
			if v == "" {
				continue
			}
			if dup[v] {
				return nil, fmt.Errorf("grid key %q lists %q twice", key, v)
			}
			dup[v] = true
			a.Values = append(a.Values, v)
		}
		if len(a.Values) == 0 {
			return nil, fmt.Errorf("grid key %q has no values", key)
		}
		g = append(g, a)
	}
	if len(g) == 0 {
		return nil, errors.New("grid is empty: want key=value[,value...][;key=...]")
	}
	return g, nil
}

// String writes g in the form ParseGrid reads.
func (g Grid) String() string {
	parts := make([]string, len(g))
	for i, a := range g {
		parts[i] = a.Key + "=" + strings.Join(a.Values, ",")
	}
	return strings.Join(parts, ";")
}

// Config is one point of the grid.
type Config struct {
	// Name is "key=value key2=value2" in grid order.
	Name string `json:"name"`
	// Extra holds the settings to pass to the backend (adapters.Options.Extra).
	Extra map[string]string `json:"extra"`
}

// Configs lists every combination of the grid's values, the last axis
// varying fastest.
func (g Grid) Configs() []Config {
	out := []Config{{Extra: map[string]string{}}}
	for _, a := range g {
		var next []Config
		for _, c := range out {
			for _, v := range a.Values {
				e := make(map[string]string, len(c.Extra)+1)
				for k, x := range c.Extra {
					e[k] = x
				}
				e[a.Key] = v
				name := a.Key + "=" + v
				if c.Name != "" {
					name = c.Name + " " + name
				}
				next = append(next, Config{Name: name, Extra: e})
			}
		}
		out = next
	}
	return out
}

// Result is one configuration's measurement.
type Result struct {
	Config Config `json:"config"`
	// Excluded is true when the configuration took no part in the choice;
	// ExcludedReason says why (a failed correctness check, a failed run).
	Excluded       bool           `json:"excluded"`
	ExcludedReason string         `json:"excluded_reason,omitempty"`
	Report         *report.Report `json:"report,omitempty"`
	// Score is an eligible configuration's value of the objective and
	// Relative its figure relative to the best eligible one per metric of
	// the objective (1 = the best; below 1 = behind), set by Choose.
	Score    float64            `json:"score,omitempty"`
	Relative map[string]float64 `json:"relative,omitempty"`
}

// Choice records which configuration was best on one section (or one
// suffix-curve point) and with what figure: a source of the composite.
type Choice struct {
	// Section is the report section ("cold_full_prefill", ...), or
	// "suffix_ttft_curve[N]" for the curve point of N suffix tokens.
	Section string `json:"section"`
	// Criterion says what was compared ("highest prompt_tps", ...).
	Criterion string `json:"criterion"`
	// Config is the winning configuration's name.
	Config string `json:"config"`
	// Value is the winning figure; Others are the other eligible
	// configurations' figures by name.
	Value  float64            `json:"value"`
	Others map[string]float64 `json:"others,omitempty"`
}

// Sweep is the whole sweep: the grid, every configuration's report, the
// configuration the objective chose, and the per-section composite.
//
// Its JSON has no top-level "backend" field on purpose: report.ReadDir (and
// so "fakbench compare") skips the sweep file instead of reading it as a row.
type Sweep struct {
	Schema  string `json:"schema"`
	Backend string `json:"swept_backend"`
	Model   string `json:"model,omitempty"`
	// Threads is the thread count every configuration ran with, and
	// ThreadsNote why it is not swept.
	Threads     int      `json:"threads"`
	ThreadsNote string   `json:"threads_note,omitempty"`
	Grid        Grid     `json:"grid"`
	Results     []Result `json:"results"`
	// Objective states how the configuration was chosen; Chosen is the one
	// it chose (nil when none was eligible), the tuned reference's settings.
	Objective string  `json:"objective,omitempty"`
	Chosen    *Chosen `json:"chosen,omitempty"`
	// Composite is the best eligible configuration per section and curve
	// point, CompositeChoices where each came from, and CompositeLabel says
	// what it is: not one measured configuration, and no row of a run (nil
	// when no configuration was eligible).
	CompositeLabel   string         `json:"composite_label,omitempty"`
	Composite        *report.Report `json:"composite,omitempty"`
	CompositeChoices []Choice       `json:"composite_choices,omitempty"`
	Notes            []string       `json:"notes,omitempty"`
	StartedAt        string         `json:"started_at,omitempty"`
	FinishedAt       string         `json:"finished_at,omitempty"`
}

// RunFunc measures one configuration and returns its report. An error
// means the configuration could not be measured (it is excluded, with the
// error as the reason); a context error ends the sweep.
type RunFunc func(ctx context.Context, c Config) (*report.Report, error)

// Run measures every configuration of g with run, in grid order, chooses
// one by the objective (Choose) and composes the per-section composite
// (Compose). It returns an error only when ctx ends (with
// the results so far) or g is empty.
func Run(ctx context.Context, backend string, g Grid, threads int, run RunFunc) (*Sweep, error) {
	if len(g) == 0 {
		return nil, errors.New("sweep: empty grid")
	}
	s := &Sweep{
		Schema: Schema, Backend: backend, Threads: threads, Grid: g,
		ThreadsNote: fmt.Sprintf("threads fixed at %d, the run's thread count, so every ratio stays same-thread; not swept", threads),
		StartedAt:   time.Now().UTC().Format(time.RFC3339Nano),
	}
	for _, c := range g.Configs() {
		if err := ctx.Err(); err != nil {
			s.FinishedAt = time.Now().UTC().Format(time.RFC3339Nano)
			return s, fmt.Errorf("sweep interrupted before %s: %w", c.Name, err)
		}
		rep, err := run(ctx, c)
		if err != nil && ctx.Err() != nil {
			s.Results = append(s.Results, Result{Config: c, Excluded: true, ExcludedReason: "interrupted: " + err.Error(), Report: rep})
			s.FinishedAt = time.Now().UTC().Format(time.RFC3339Nano)
			return s, fmt.Errorf("sweep interrupted in %s: %w", c.Name, ctx.Err())
		}
		s.Results = append(s.Results, Evaluate(c, rep, err))
	}
	s.Compose()
	s.Choose()
	s.FinishedAt = time.Now().UTC().Format(time.RFC3339Nano)
	return s, nil
}

// Evaluate judges one configuration's outcome: excluded when it could not
// run (err), has no report, or fails a correctness check.
func Evaluate(c Config, rep *report.Report, err error) Result {
	res := Result{Config: c, Report: rep}
	switch {
	case err != nil:
		res.Excluded, res.ExcludedReason = true, "not measured: "+err.Error()
	case rep == nil:
		res.Excluded, res.ExcludedReason = true, "not measured: no report"
	default:
		if f := report.CorrectnessFailures(rep); len(f) > 0 {
			res.Excluded, res.ExcludedReason = true, "correctness check failed: "+strings.Join(f, "; ")
		}
	}
	return res
}

// section describes how one report section is chosen.
type section struct {
	name      string
	criterion string
	lower     bool // lower is better
	value     func(r *report.Report) float64
	copy      func(dst, src *report.Report)
}

var sections = []section{
	{"cold_full_prefill", "highest prompt_tps", false,
		func(r *report.Report) float64 { return r.ColdFullPrefill.PromptTPS },
		func(d, s *report.Report) { d.ColdFullPrefill = s.ColdFullPrefill }},
	{"warm_same_prefix", "lowest ttft_ms", true,
		func(r *report.Report) float64 { return r.WarmSamePrefix.TTFTMS },
		func(d, s *report.Report) { d.WarmSamePrefix = s.WarmSamePrefix }},
	{"warm_changed_suffix", "lowest ttft_ms", true,
		func(r *report.Report) float64 { return r.WarmChangedSuffix.TTFTMS },
		func(d, s *report.Report) { d.WarmChangedSuffix = s.WarmChangedSuffix }},
	{"edited_stable_segment", "lowest ttft_ms", true,
		func(r *report.Report) float64 { return r.EditedStable.TTFTMS },
		func(d, s *report.Report) { d.EditedStable = s.EditedStable }},
	{"decode", "highest tokens_per_sec", false,
		func(r *report.Report) float64 { return r.Decode.TokensPerSec },
		func(d, s *report.Report) { d.Decode = s.Decode }},
}

// CompositeLabel is what the composite of n eligible configurations is.
func CompositeLabel(n int) string {
	return fmt.Sprintf("best of %d configurations per section; not one measured configuration", n)
}

// Compose takes, among the eligible (not excluded) results, the best
// configuration per section and per suffix-curve point, and sets
// s.CompositeChoices, s.Composite, s.CompositeLabel and s.Notes (Choose
// adds its note after). The composite is a copy of the first eligible
// report with every section replaced by its best's; its notes name the
// configuration each section came from and the excluded ones, and its
// Settings say which settings won where. It is evidence of how far apart
// the configurations are per section, never a row: no one configuration
// measured it. Ties go to the earlier configuration in grid order. A
// section no eligible configuration measured (figure zero) stays as the
// base has it, with a note.
func (s *Sweep) Compose() {
	s.CompositeChoices, s.Composite, s.CompositeLabel, s.Notes = nil, nil, "", nil
	var eligible []Result
	for _, r := range s.Results {
		if r.Excluded {
			s.Notes = append(s.Notes, fmt.Sprintf("configuration %s excluded: %s", r.Config.Name, r.ExcludedReason))
			continue
		}
		eligible = append(eligible, r)
	}
	if len(eligible) == 0 {
		s.Notes = append(s.Notes, fmt.Sprintf("no configuration of the %d swept passed its correctness checks: none is chosen", len(s.Results)))
		return
	}
	base := eligible[0].Report
	comp := cloneReport(base)
	s.CompositeLabel = CompositeLabel(len(eligible))
	comp.Notes = []string{"composite: " + s.CompositeLabel + "; each section is copied from the configuration best on it, so no one configuration measured this row: it is never a row of a run and enters no headline"}
	winners := map[string]string{} // section -> config name

	for _, sec := range sections {
		best, others := -1, map[string]float64{}
		var bestV float64
		for i, r := range eligible {
			v := sec.value(r.Report)
			if v <= 0 {
				continue
			}
			others[r.Config.Name] = v
			if best < 0 || (sec.lower && v < bestV) || (!sec.lower && v > bestV) {
				best, bestV = i, v
			}
		}
		if best < 0 {
			comp.Notes = append(comp.Notes, fmt.Sprintf("composite: %s was measured by no eligible configuration; left as %s has it", sec.name, eligible[0].Config.Name))
			continue
		}
		win := eligible[best]
		delete(others, win.Config.Name)
		sec.copy(comp, win.Report)
		winners[sec.name] = win.Config.Name
		s.CompositeChoices = append(s.CompositeChoices, Choice{Section: sec.name, Criterion: sec.criterion, Config: win.Config.Name, Value: bestV, Others: others})
		comp.Notes = append(comp.Notes, fmt.Sprintf("composite: %s from %s (%s: %s%s)",
			sec.name, win.Config.Name, sec.criterion, report.FormatNumber(bestV), othersText(others)))
	}

	// The suffix curve, point by point (matched on suffix_tokens).
	curveWins := map[string]int{}
	for i, pt := range comp.SuffixTTFTCurve {
		best, others := -1, map[string]float64{}
		var bestV float64
		var bestPt report.SuffixTTFT
		for j, r := range eligible {
			p, ok := curvePoint(r.Report, pt.SuffixTokens)
			if !ok || p.TTFTMS <= 0 {
				continue
			}
			others[r.Config.Name] = p.TTFTMS
			if best < 0 || p.TTFTMS < bestV {
				best, bestV, bestPt = j, p.TTFTMS, p
			}
		}
		if best < 0 {
			continue
		}
		name := eligible[best].Config.Name
		delete(others, name)
		comp.SuffixTTFTCurve[i] = bestPt
		curveWins[name]++
		s.CompositeChoices = append(s.CompositeChoices, Choice{Section: fmt.Sprintf("suffix_ttft_curve[%d]", pt.SuffixTokens),
			Criterion: "lowest ttft_ms", Config: name, Value: bestV, Others: others})
		comp.Notes = append(comp.Notes, fmt.Sprintf("composite: suffix_ttft_curve at %d suffix tokens from %s (lowest ttft_ms: %s%s)",
			pt.SuffixTokens, name, report.FormatNumber(bestV), othersText(others)))
	}
	if len(curveWins) > 0 {
		winners["suffix_ttft_curve"] = countsText(curveWins)
	}

	for _, r := range s.Results {
		if r.Excluded {
			comp.Notes = append(comp.Notes, fmt.Sprintf("composite: configuration %s excluded: %s", r.Config.Name, r.ExcludedReason))
		}
	}
	comp.Notes = append(comp.Notes, fmt.Sprintf("composite: composed from a sweep of %d configurations (%s), %d eligible; %s; every configuration's full report is kept in the sweep file",
		len(s.Results), s.Grid.String(), len(eligible), s.ThreadsNote))
	for _, n := range base.Notes {
		comp.Notes = append(comp.Notes, "["+eligible[0].Config.Name+"] "+n)
	}

	comp.Settings = composedSettings(base.Settings, s.Grid, eligible, winners)
	s.Composite = comp
}

// curvePoint finds r's curve point at n suffix tokens.
func curvePoint(r *report.Report, n int) (report.SuffixTTFT, bool) {
	for _, p := range r.SuffixTTFTCurve {
		if p.SuffixTokens == n {
			return p, true
		}
	}
	return report.SuffixTTFT{}, false
}

// composedSettings are the base settings with each swept key replaced by
// the value that won (one value when every section agrees, else per
// section), plus "sweep" and "sweep.<section>" entries naming the winners.
func composedSettings(base map[string]string, g Grid, eligible []Result, winners map[string]string) map[string]string {
	out := make(map[string]string, len(base)+len(winners)+2)
	for k, v := range base {
		out[k] = v
	}
	byName := map[string]Config{}
	for _, r := range eligible {
		byName[r.Config.Name] = r.Config
	}
	secNames := slices.Sorted(maps.Keys(winners))
	for _, a := range g {
		vals := map[string][]string{} // value -> sections
		for _, sec := range secNames {
			if sec == "suffix_ttft_curve" {
				continue
			}
			vals[byName[winners[sec]].Extra[a.Key]] = append(vals[byName[winners[sec]].Extra[a.Key]], sec)
		}
		switch len(vals) {
		case 0:
		case 1:
			for v := range vals {
				out[a.Key] = v
			}
		default:
			out[a.Key] = "per section: " + report.JoinSorted(vals, "; ", func(v string, secs []string) string {
				return v + " (" + strings.Join(secs, ", ") + ")"
			})
		}
	}
	for sec, name := range winners {
		out["sweep."+sec] = name
	}
	out["sweep"] = fmt.Sprintf("%s (grid %s)", CompositeLabel(len(eligible)), g.String())
	return out
}

// othersText renders the losing figures: "; others: a 1.2, b 3.4".
func othersText(others map[string]float64) string {
	if len(others) == 0 {
		return ""
	}
	return "; others: " + report.JoinSorted(others, ", ", func(n string, v float64) string { return n + " " + report.FormatNumber(v) })
}

// countsText renders how many curve points each configuration won.
func countsText(wins map[string]int) string {
	return report.JoinSorted(wins, ", ", func(n string, w int) string { return fmt.Sprintf("%s (%d points)", n, w) })
}

// cloneReport copies r deeply enough that changing the copy's sections,
// curve, notes and settings leaves r alone.
func cloneReport(r *report.Report) *report.Report {
	c := *r
	c.SuffixTTFTCurve = append([]report.SuffixTTFT(nil), r.SuffixTTFTCurve...)
	c.Notes = append([]string(nil), r.Notes...)
	if r.Settings != nil {
		c.Settings = make(map[string]string, len(r.Settings))
		for k, v := range r.Settings {
			c.Settings[k] = v
		}
	}
	if r.VsReference != nil {
		c.VsReference = nil
	}
	return &c
}

package fleet

import (
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/fakbench/fakbench/nodebench"
	"github.com/fakbench/fakbench/report"
)

// DefaultOutlier is the outlier threshold: a node is flagged when one of
// its figures is worse than its CPU kind's median by more than this
// fraction.
const DefaultOutlier = 0.15

// OutlierBasis says why DefaultOutlier, in the report's words.
const OutlierBasis = "a figure is flagged when it is worse than its CPU kind's median by more than the threshold " +
	"(throughput below median × (1 − t), latency above median × (1 + t)); 15 % by default, above the ~10 % that " +
	"one quiet node moves between reruns (docs/node-bench.md), so a flag means the node, not the noise"

// ReportOptions control BuildReport.
type ReportOptions struct {
	// Outlier is the threshold as a fraction (0.15 = 15 %); 0 means
	// DefaultOutlier.
	Outlier float64
	// CleanNode and Profile are passed to every host's gate.
	CleanNode bool
	Profile   string
	// Args are the words after "fakbench fleet report"; the report shows
	// the command line.
	Args []string
}

// command is the command line the report shows.
func (o ReportOptions) command() string {
	return report.CommandLine(append([]string{"fakbench", "fleet", "report"}, o.Args...))
}

// Figure is one compared figure of a host: the memory bandwidth or one
// backend's prefill, decode or warm TTFT.
type Figure struct {
	// Key names it in tables and spreads: "memory bandwidth GB/s",
	// "llama.cpp decode tok/s".
	Key    string
	Better report.Better
}

// Backend is one backend's figures on a host.
type Backend struct {
	Name, Status string
	// PrefillTPS is cold_full_prefill.prompt_tps, DecodeTPS
	// decode.tokens_per_sec, WarmTTFTMS warm_changed_suffix.ttft_ms (a new
	// suffix after a resident prefix); 0 = not measured.
	PrefillTPS, DecodeTPS, WarmTTFTMS float64
}

// Ratio is the Go kernel's figure over the best tuned reference's on one
// headline metric of one host.
type Ratio struct {
	Metric, Name, Reference string
	Better                  report.Better
	Value                   float64
}

// HostRow is one host of the fleet table.
type HostRow struct {
	*Host
	Backends []Backend
	Ratios   []Ratio
	Gate     nodebench.Verdict
	// values holds every figure by Figure.Key.
	values map[string]float64
	// Outliers name the figures worse than the kind's median by more than
	// the threshold, with by how much.
	Outliers []string
}

// Spread is one figure across the hosts of a kind.
type Spread struct {
	Figure
	N                int
	Min, Median, Max float64
	// Percent is (max − min) / median × 100.
	Percent float64
}

// Group is one CPU kind with its hosts and the spread of each figure.
type Group struct {
	Kind    Kind
	Hosts   []*HostRow
	Spreads []Spread
}

// Fleet is the report across hosts.
type Fleet struct {
	Dir     string
	Options ReportOptions
	Groups  []*Group
	// Backends are the backend rows found on any host, in a stable order.
	Backends []string
	// Refused are the folders collect refused (from fleet.json) and the
	// collected folders that no longer verify.
	Refused []Refusal
}

// Hosts lists every host, group by group.
func (f *Fleet) Hosts() []*HostRow {
	var out []*HostRow
	for _, g := range f.Groups {
		out = append(out, g.Hosts...)
	}
	return out
}

// Failed says whether the report fails: a host fails its gate, or a
// collected folder no longer verifies.
func (f *Fleet) Failed() bool {
	for _, h := range f.Hosts() {
		if !h.Gate.Pass {
			return true
		}
	}
	for _, r := range f.Refused {
		if r.Source == "" {
			return true
		}
	}
	return false
}

// headline are the kernel ratios the table shows.
var headline = []struct{ key, name string }{
	{"cold_full_prefill.prompt_tps", "prefill"},
	{"decode.tokens_per_sec", "decode"},
	{"warm_changed_suffix.ttft_ms", "warm TTFT"},
}

// BuildReport reads every host folder of dir (as fleet collect filed
// them), verifies each again, runs its gate and builds the fleet table,
// the groups by CPU kind, their spreads and the outliers. It returns an
// error when dir cannot be read, holds no host, or the options are bad.
func BuildReport(dir string, o ReportOptions) (*Fleet, error) {
	if o.Outlier == 0 {
		o.Outlier = DefaultOutlier
	}
	if o.Outlier < 0 || o.Outlier >= 1 || math.IsNaN(o.Outlier) {
		return nil, fmt.Errorf("fleet report: outlier threshold %g: want a fraction between 0 and 1 (0.15 = 15 %%)", o.Outlier)
	}
	if o.Profile != "" {
		if _, ok := nodebench.Profiles[o.Profile]; !ok {
			return nil, fmt.Errorf("fleet report: unknown hardware profile %q (known: %s)", o.Profile, strings.Join(nodebench.ProfileNames(), ", "))
		}
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("fleet report: %w", err)
	}
	f := &Fleet{Dir: dir, Options: o}
	if idx, err := ReadIndex(dir); err == nil {
		f.Refused = append(f.Refused, idx.Refused...)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	kinds := map[Kind]*Group{}
	backends := map[string]bool{}
	n := 0
	for _, e := range entries {
		sub := filepath.Join(dir, e.Name())
		if !e.IsDir() || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		if _, err := os.Lstat(nodebench.Layout{Dir: sub}.Manifest()); err != nil {
			continue
		}
		n++
		h, why := Verify(sub)
		if h == nil {
			f.Refused = append(f.Refused, Refusal{Label: e.Name(), Reasons: append([]string{"collected, but no longer verifies"}, why...)})
			continue
		}
		if h.Label != e.Name() {
			f.Refused = append(f.Refused, Refusal{Label: e.Name(), Reasons: []string{fmt.Sprintf("filed as %s but its manifest says host %s", e.Name(), h.Label)}})
			continue
		}
		row, err := newRow(h, o)
		if err != nil {
			return nil, err
		}
		for _, b := range row.Backends {
			backends[b.Name] = true
		}
		g := kinds[h.Kind]
		if g == nil {
			g = &Group{Kind: h.Kind}
			kinds[h.Kind] = g
			f.Groups = append(f.Groups, g)
		}
		g.Hosts = append(g.Hosts, row)
	}
	if n == 0 {
		return nil, fmt.Errorf("fleet report: %s holds no collected host (run fakbench fleet collect --out %s first)", dir, dir)
	}
	sort.Slice(f.Groups, func(i, j int) bool { return f.Groups[i].Kind.String() < f.Groups[j].Kind.String() })
	for b := range backends {
		f.Backends = append(f.Backends, b)
	}
	sort.Slice(f.Backends, func(i, j int) bool { return backendRank(f.Backends[i]) < backendRank(f.Backends[j]) })
	for _, g := range f.Groups {
		sort.Slice(g.Hosts, func(i, j int) bool { return g.Hosts[i].Label < g.Hosts[j].Label })
		g.spread(f.figures(), o.Outlier)
	}
	return f, nil
}

// backendRank orders the in-repo kernel first, then the references by
// name.
func backendRank(name string) string {
	if name == "gokernel" {
		return "0"
	}
	return "1" + name
}

// figures lists the compared figures: the bandwidth, then each backend's
// prefill, decode and warm TTFT.
func (f *Fleet) figures() []Figure {
	out := []Figure{{Key: bandwidthKey, Better: report.Higher}}
	for _, b := range f.Backends {
		out = append(out, Figure{Key: b + " prefill tok/s", Better: report.Higher},
			Figure{Key: b + " decode tok/s", Better: report.Higher},
			Figure{Key: b + " warm TTFT ms", Better: report.Lower})
	}
	return out
}

const bandwidthKey = "memory bandwidth GB/s"

// newRow reads a host's figures and runs its gate.
func newRow(h *Host, o ReportOptions) (*HostRow, error) {
	v, err := nodebench.Gate(h.Dir, nodebench.GateOptions{CleanNode: o.CleanNode, Profile: o.Profile})
	if err != nil {
		return nil, fmt.Errorf("fleet report: %s: %w", h.Label, err)
	}
	row := &HostRow{Host: h, Gate: v, values: map[string]float64{}}
	if bw := h.Manifest.Bandwidth.GBs; bw > 0 {
		row.values[bandwidthKey] = bw
	}
	for _, r := range h.Reports {
		b := Backend{Name: report.RowName(r), Status: r.Status}
		if r.Status != report.StatusSkipped && r.Status != report.StatusFailed {
			b.PrefillTPS, b.DecodeTPS, b.WarmTTFTMS = r.ColdFullPrefill.PromptTPS, r.Decode.TokensPerSec, r.WarmChangedSuffix.TTFTMS
		}
		for key, v := range map[string]float64{" prefill tok/s": b.PrefillTPS, " decode tok/s": b.DecodeTPS, " warm TTFT ms": b.WarmTTFTMS} {
			if v > 0 {
				row.values[b.Name+key] = v
			}
		}
		row.Backends = append(row.Backends, b)
	}
	sort.Slice(row.Backends, func(i, j int) bool { return backendRank(row.Backends[i].Name) < backendRank(row.Backends[j].Name) })
	s := report.FindStanding(h.Reports)
	byKey := map[string]report.Metric{}
	for _, m := range report.Metrics(h.Reports) {
		byKey[m.Key] = m
	}
	for _, hl := range headline {
		m, ok := byKey[hl.key]
		if !ok {
			continue
		}
		if v, ref, ok := s.Gap(m); ok {
			row.Ratios = append(row.Ratios, Ratio{Metric: hl.key, Name: hl.name, Reference: report.DisplayName(ref), Better: m.Better, Value: v})
		}
	}
	return row, nil
}

// spread computes each figure's spread over the group and flags the
// hosts worse than the median by more than t.
func (g *Group) spread(figs []Figure, t float64) {
	for _, fig := range figs {
		var vals []float64
		for _, h := range g.Hosts {
			if v, ok := h.values[fig.Key]; ok {
				vals = append(vals, v)
			}
		}
		if len(vals) == 0 {
			continue
		}
		sort.Float64s(vals)
		s := Spread{Figure: fig, N: len(vals), Min: vals[0], Max: vals[len(vals)-1], Median: report.Median(vals)}
		if s.Median > 0 {
			s.Percent = (s.Max - s.Min) / s.Median * 100
		}
		g.Spreads = append(g.Spreads, s)
		if len(vals) < 2 {
			continue
		}
		for _, h := range g.Hosts {
			v, ok := h.values[fig.Key]
			if !ok || s.Median == 0 {
				continue
			}
			dev := v/s.Median - 1
			switch {
			case fig.Better == report.Higher && dev < -t:
				h.Outliers = append(h.Outliers, fmt.Sprintf("%s %s is %.0f %% below the kind's median %s", fig.Key, num(v), -dev*100, num(s.Median)))
			case fig.Better == report.Lower && dev > t:
				h.Outliers = append(h.Outliers, fmt.Sprintf("%s %s is %.0f %% above the kind's median %s", fig.Key, num(v), dev*100, num(s.Median)))
			}
		}
	}
}

// num formats a figure with three significant digits at least.
func num(v float64) string { return report.FormatNumber(v) }

// Value returns a host's figure by key and whether it has one.
func (h *HostRow) Value(key string) (float64, bool) {
	v, ok := h.values[key]
	return v, ok
}

// Backend returns the host's row of a backend, or nil.
func (h *HostRow) Backend(name string) *Backend {
	for i := range h.Backends {
		if h.Backends[i].Name == name {
			return &h.Backends[i]
		}
	}
	return nil
}

// GateText is "PASS" or "FAIL (criteria)".
func (h *HostRow) GateText() string {
	if h.Gate.Pass {
		return "PASS"
	}
	return "FAIL (" + strings.Join(h.Gate.Failed(), ", ") + ")"
}

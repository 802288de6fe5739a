package report

import (
	"fmt"
	"slices"
)

// Swept says that a row's settings are the one configuration a settings
// sweep chose ("fakbench run --sweep"): which configuration, by which
// objective, and the file that keeps the sweep. The row itself is measured
// in its run like any other row; the sweep only picked its options.
type Swept struct {
	// Config names the configuration ("flash_attn=off n_ubatch=512") and
	// Options holds it as the backend options the row was opened with.
	Config  string            `json:"config"`
	Options map[string]string `json:"options,omitempty"`
	// Objective says how the configuration was chosen; Score is its value
	// for this configuration (1 = the best configuration of the sweep on
	// every metric of the objective).
	Objective string  `json:"objective"`
	Score     float64 `json:"score"`
	// Configurations is how many configurations the sweep measured,
	// Eligible how many of them passed every correctness check, Grid the
	// swept grid.
	Configurations int    `json:"configurations"`
	Eligible       int    `json:"eligible"`
	Grid           string `json:"grid,omitempty"`
	// File is the sweep file in the run's folder ("sweep-llamacpp.json"):
	// every configuration's full report, the scores, and the per-section
	// composite, which is no row of the run.
	File string `json:"sweep_file"`
}

// HeadlineKeys returns the Metric keys report.md's headline quotes, in its
// order (the HTML page adds the largest point of the suffix curve).
func HeadlineKeys() []string { return slices.Clone(headlineKeys) }

// SweptLines says, for each tuned-reference row whose settings a sweep
// chose, that it is one configuration measured in this run and where its
// sweep is kept: the sentences under the headline of report.md and the
// HTML page.
func SweptLines(reports []*Report) []string {
	var out []string
	for _, r := range reports {
		if r == nil || r.Swept == nil || r.RowKind != KindTunedReference {
			continue
		}
		s := r.Swept
		out = append(out, fmt.Sprintf("%s is one configuration, %s, chosen from a sweep of %d configurations (%d passed every check) by the objective: %s (its score %s); it was measured in this run like every row. Every configuration's report is kept in %s, with a per-section composite that is not a measured configuration and enters no headline.",
			displayRow(r), s.Config, s.Configurations, s.Eligible, s.Objective, FormatNumber(s.Score), s.File))
	}
	return out
}

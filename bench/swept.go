package bench

import (
	"fmt"

	"github.com/fakbench/fakbench/harness/sweep"
	"github.com/fakbench/fakbench/models"
	"github.com/fakbench/fakbench/report"
)

// sweepFile is the name of a backend's sweep file in the output folder.
func sweepFile(backend string) string { return "sweep-" + backend + ".json" }

// adoptChoice turns a swept row into the measurement of the one
// configuration its sweep chose: an ordinary row whose backend options are
// that configuration's, measured after the sweep with the run's scenario,
// threads and repetitions, in the run's schedule like every other row
// (runRows). Nothing of the sweep's own measurements is copied into it.
// Without a choice (no configuration passed its checks, or the sweep
// failed or was interrupted) the row is failed, saying why, and not run.
func adoptChoice(o Options, m models.Resolved, row *opened, s *sweep.Sweep, err error) {
	if err == nil && s != nil && s.Chosen != nil {
		c := s.Chosen
		eligible := 0
		for _, r := range s.Results {
			if !r.Excluded {
				eligible++
			}
		}
		row.sweep, row.extra = false, c.Config.Extra
		row.swept = &report.Swept{Config: c.Config.Name, Options: c.Config.Extra, Objective: s.Objective, Score: c.Score,
			Configurations: len(s.Results), Eligible: eligible, Grid: s.Grid.String(), File: sweepFile(row.name)}
		row.note = fmt.Sprintf("tuned reference: configuration %s, chosen from a sweep of %d configurations (grid %s; %d passed every check) by the objective: %s (score %s); measured again here as its own row, with this run's scenario, threads and repetitions, after the sweep; every configuration's report, and the per-section composite (%s, not a row), are kept in %s",
			c.Config.Name, len(s.Results), s.Grid, eligible, s.Objective, report.FormatNumber(c.Score), s.CompositeLabel, sweepFile(row.name))
		return
	}
	r := baseReport(o, m, row)
	r.Status = report.StatusFailed
	if err != nil {
		r.Notes = append(r.Notes, "sweep failed: "+err.Error())
	}
	if s != nil {
		r.Notes = append(r.Notes, s.Notes...)
		r.Notes = append(r.Notes, fmt.Sprintf("no configuration was chosen, so this row was not measured; the sweep is kept in %s", sweepFile(row.name)))
	}
	row.rep = r
}

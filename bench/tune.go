package bench

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/fakbench/fakbench/harness"
	"github.com/fakbench/fakbench/harness/sweep"
	"github.com/fakbench/fakbench/models"
	"github.com/fakbench/fakbench/transport"
)

// Tune measures backend once per configuration of grid on the resolved
// model m (each a full harness run with the same threads, scenario and
// repetitions) and chooses one configuration by the sweep's objective
// (sweep.Objective; Sweep.Chosen, nil when none passed its checks), with
// the per-section composite beside it; the sweep is written to
// Out/sweep-<backend>.json. Opening the model with the default settings
// plans the scenario, and opening it with every configuration first turns a
// bad option into an *InputError before anything is measured. An
// unavailable backend is returned as it is (nothing to tune here).
func Tune(ctx context.Context, o Options, m models.Resolved, backend string, grid sweep.Grid) (*sweep.Sweep, string, error) {
	logw := o.logw()
	out, err := openOutDir(o.Out)
	if err != nil {
		return nil, "", err
	}
	defer out.close()
	row := &opened{name: backend, kind: rowKind(backend, "tuned"), profile: "tuned", sweep: true}
	fmt.Fprintf(logw, "fakbench tune: opening %s on %s (threads %d)\n", backend, m.Path, o.Threads)
	info, b, err := probeRow(ctx, o, m, row)
	if err != nil {
		err = fmt.Errorf("%s: %w", backend, err)
		if ctx.Err() == nil && transport.IsBadModel(err) {
			return nil, "", &InputError{err}
		}
		return nil, "", err
	}
	if b != nil {
		_ = b.Close()
	}
	if err := probeGrid(ctx, o, m, backend, grid); err != nil {
		if ctx.Err() != nil {
			return nil, "", fmt.Errorf("interrupted: %w", err)
		}
		return nil, "", &InputError{fmt.Errorf("--grid: %w", err)}
	}
	params, err := harness.ParamsFor(o.Short, o.Seed, info)
	var sc harness.Scenario
	if err == nil {
		sc, err = harness.BuildScenario(params)
	}
	if err != nil {
		return nil, "", &InputError{fmt.Errorf("cannot plan the scenario: %w", err)}
	}

	host := measureHost(o, "tune", logw)
	fmt.Fprintf(logw, "fakbench tune: %d configurations (%s), threads fixed at %d; scenario: stable %d tokens, suffix %d, curve %v, decode %d\n",
		len(grid.Configs()), grid, o.Threads, len(sc.Stable), len(sc.Suffix), sc.CurveSizes, sc.MaxDecode)
	o.Grids = map[string]sweep.Grid{backend: grid}
	s, err := runSweep(ctx, o, m, sc, row, host, o.BuildFlags, logw)
	if s == nil {
		return nil, "", err
	}
	path := filepath.Join(o.Out, sweepFile(backend))
	if werr := s.WriteFile(path); werr != nil {
		return s, "", werr
	}
	return s, path, err
}

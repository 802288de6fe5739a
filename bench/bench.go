// Package bench runs a whole comparison and returns complete reports: the
// engine behind "fakbench run" and "fakbench tune". It plans the rows from
// the adapters registry (one per backend, plus untuned and ablation rows),
// opens every backend to plan one scenario with identical token IDs, runs
// the swept rows' settings sweeps, measures the other rows (interleaved per
// section and repetition, or one after another) and assembles each row's
// report in one place, with the facts that reproduce it.
//
// It is also the engine of the other measuring commands: Batch ("fakbench
// batch", the batch curve per backend), Replay ("fakbench workload replay")
// and Parity ("fakbench parity"). Each takes an options struct whose Check
// method gives the command's usage errors, and returns an *InputError for
// what the user asked for wrong (exit 2). The command line only parses
// flags and prints.
package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/fakbench/fakbench/adapters"
	"github.com/fakbench/fakbench/harness"
	"github.com/fakbench/fakbench/harness/sweep"
	"github.com/fakbench/fakbench/models"
	"github.com/fakbench/fakbench/report"
	"github.com/fakbench/fakbench/report/html"
	"github.com/fakbench/fakbench/transport"
)

// Options are one comparison. The zero value of a count means its default
// where one is stated.
type Options struct {
	// Backends are the registry names to run, in row order; Require those
	// that must run (an unavailable one fails the run).
	Backends, Require []string
	// ModelSpec is the model as the user gave it (recorded in the reports).
	ModelSpec string
	// Out is the output directory (sweep files are written there as they
	// complete; Result.Write writes the rest).
	Out string
	// Short selects the small scenario sizes.
	Short bool
	// Threads is the thread count of every backend; Reps and Warmup the
	// measured and discarded repetitions; CtxLen the positions per session
	// (0: the backend's default).
	Threads, Reps, Warmup, CtxLen int
	// Profile is the settings profile ("tuned" or "untuned").
	Profile string
	// Seed draws the token IDs.
	Seed uint64
	// PromptFile, when set, is a text file the token IDs are cut from
	// instead (harness.BuildScenario says how), tokenized with the
	// model's tokenizer.
	PromptFile string
	// MemBW is the memory bandwidth in GB/s for the decode roofline: 0
	// measures it, a negative value leaves the roofline out.
	MemBW float64
	// Quiet drops the progress lines.
	Quiet bool
	// Schedule is harness.ScheduleInterleaved or harness.ScheduleSequential.
	Schedule string
	// Sweep composes each sweepable backend's row from a settings sweep;
	// Grids (set by ResolveRows) holds each swept backend's grid.
	Sweep bool
	Grids map[string]sweep.Grid
	// Ablations are ablation rows by name (adapters.Ablation); Untuned adds
	// the untuned profile of each backend that has one as its own row.
	Ablations []string
	Untuned   bool
	// Command, BuildFlags and Revision are recorded in every report.
	Command, BuildFlags, Revision string
	// Isolation is IsolationProcess (each row in a child process of Exe,
	// the fakbench binary) or IsolationInProcess; HangAfter is how long a
	// row's child may stay silent before it is killed as hung (0:
	// DefaultHangAfter).
	Isolation string
	Exe       string
	HangAfter time.Duration
	// Oversubscribe allows more threads than logical cores (recorded in
	// every report); without it such a count is refused.
	Oversubscribe bool
	// Force moves an earlier, different run found in Out aside (to
	// Out.prev-<time>) instead of refusing to mix with it.
	Force bool
	// Log receives progress lines (nil: none); Errs the problems the user
	// must see (nil: none).
	Log, Errs io.Writer
}

// InputError is an error in what the user asked for (a bad model file, a
// bad grid option, a scenario that does not fit): the command's usage
// error, exit 2.
type InputError struct{ Err error }

func (e *InputError) Error() string { return e.Err.Error() }
func (e *InputError) Unwrap() error { return e.Err }

// Result is a comparison's outcome.
type Result struct {
	// Reports are the rows' reports, sorted, the kernel row annotated with
	// its ratios to the tuned references.
	Reports []*report.Report
	// Failed says a row failed, a correctness check failed or a required
	// backend was unavailable; Problems says which, one line each.
	Failed   bool
	Problems []string
	// Model is the resolved model.
	Model models.Resolved
}

func (o Options) logw() io.Writer {
	if o.Log == nil || o.Quiet {
		return io.Discard
	}
	return o.Log
}

func (o Options) errw() io.Writer {
	if o.Errs == nil {
		return io.Discard
	}
	return o.Errs
}

// Prepare resolves the model and makes the output directory: the start
// "fakbench run" and "tune" share.
func Prepare(ctx context.Context, o Options) (models.Resolved, error) {
	m, err := models.Resolve(ctx, o.ModelSpec, o.logw())
	if err != nil {
		if errors.Is(err, context.Canceled) {
			return m, err
		}
		return m, &InputError{err}
	}
	if err := os.MkdirAll(o.Out, 0o755); err != nil {
		return m, &InputError{err}
	}
	return m, nil
}

// Run runs the comparison on the resolved model m. It returns an
// *InputError for what the user must fix, the context's error when
// interrupted before anything was measured, and otherwise a Result (also
// when interrupted later, with the rows measured so far).
func Run(ctx context.Context, o Options, model models.Resolved) (*Result, error) {
	logw, stderr := o.logw(), o.errw()
	prompt, err := readPrompt(o.PromptFile, model)
	if err != nil {
		return nil, &InputError{err}
	}
	out, err := openOutDir(o.Out)
	if err != nil {
		return nil, err
	}
	defer out.close()
	if out.others {
		fmt.Fprintf(stderr, "fakbench run: warning: %s; the reports say so\n", concurrentNote)
	}
	host := measureHost(o, "run", logw)
	flags := o.BuildFlags
	res := &Result{Model: model}
	problem := func(format string, args ...any) {
		msg := fmt.Sprintf(format, args...)
		res.Problems = append(res.Problems, msg)
		fmt.Fprintf(stderr, "fakbench run: %s\n", msg)
	}

	// Open every backend first: the scenario is planned from the smallest
	// vocabulary and context among them so all get identical token IDs.
	// Each is closed again after this probe and reopened for its own run
	// (a lone row stays open).
	var rows []*opened
	defer func() {
		for _, r := range rows {
			if r.backend != nil {
				_ = r.backend.Close()
			}
		}
	}()
	var infos []transport.ModelInfo
	rows = planRows(o)
	for _, row := range rows {
		name := row.display()
		row.started = time.Now()
		fmt.Fprintf(logw, "fakbench run: opening %s on %s (threads %d, profile %s)\n", name, model.Path, o.Threads, row.profile)
		if !o.isolated() {
			// A lone row stays open from here to its run: its peak starts now.
			row.peakErr = startPeakRSS()
		}
		info, b, err := probeRow(ctx, o, model, row)
		switch {
		case err == nil:
			row.available = true
			infos = append(infos, info)
			if b == nil {
				// Probed in a child: nothing is open here.
			} else if len(rows) == 1 && !row.sweep {
				row.backend = b
			} else if err := b.Close(); err != nil {
				fmt.Fprintf(logw, "fakbench run: closing %s after the probe: %v\n", name, err)
			}
			if row.sweep {
				if err := probeGrid(ctx, o, model, row.name, o.Grids[row.name]); err != nil {
					if ctx.Err() != nil {
						return nil, fmt.Errorf("interrupted while opening %s: %w", name, err)
					}
					return nil, &InputError{fmt.Errorf("--grid: %w", err)}
				}
			}
		case transport.IsBadModel(err):
			return nil, &InputError{fmt.Errorf("%s: %w", name, err)}
		case ctx.Err() != nil:
			return nil, fmt.Errorf("interrupted while opening %s: %w", name, err)
		case transport.IsUnavailable(err):
			row.rep = baseReport(o, model, row)
			row.rep.Status = report.StatusSkipped
			row.rep.SkipReason = err.Error()
			row.rep.Notes = append(row.rep.Notes, "skipped: "+err.Error())
			if slices.Contains(o.Require, row.name) {
				res.Failed = true
				problem("required backend %s is unavailable: %v", name, err)
			} else {
				fmt.Fprintf(logw, "fakbench run: skipping %s: %v\n", name, err)
			}
		default:
			res.Failed = true
			row.rep = openFailedReport(o, model, row, err)
			problem("%s failed to open: %v", name, err)
		}
	}

	var sc harness.Scenario
	if len(infos) > 0 {
		params, err := harness.ParamsFor(o.Short, o.Seed, infos...)
		if err == nil {
			prompt.apply(&params)
			sc, err = harness.BuildScenario(params)
		}
		if err != nil {
			return nil, &InputError{fmt.Errorf("cannot plan the scenario: %w", err)}
		}
		fmt.Fprintf(logw, "fakbench run: scenario: stable %d tokens, suffix %d, curve %v, decode %d; token-ID digest %s\n",
			len(sc.Stable), len(sc.Suffix), sc.CurveSizes, sc.MaxDecode, sc.Digest())
	}
	if err := o.clearStale(rows, model, sc, len(infos) > 0); err != nil {
		return nil, err
	}

	// Sweeps first, one configuration after another; each swept row then
	// becomes the row of the configuration its sweep chose, measured with
	// the other rows, interleaved per section and repetition unless the
	// schedule is sequential.
	for _, row := range rows {
		if !row.available || !row.sweep || ctx.Err() != nil {
			continue
		}
		s, err := runSweep(ctx, o, model, sc, row, host, flags, logw)
		if s != nil {
			path := filepath.Join(o.Out, sweepFile(row.name))
			if werr := s.WriteFile(path); werr != nil {
				return nil, werr
			}
			fmt.Fprintf(logw, "fakbench run: sweep of %s written to %s\n", row.name, path)
		}
		adoptChoice(o, model, row, s, err)
		if row.swept != nil {
			fmt.Fprintf(logw, "fakbench run: %s: configuration %s chosen (score %s); it is measured as the %s row\n",
				row.name, row.swept.Config, report.FormatNumber(row.swept.Score), row.display())
		}
	}
	runRows(ctx, o, model, sc, rows, host, flags, logw, stderr)

	for _, row := range rows {
		if row.rep == nil {
			// Never reached: the run was interrupted first. The row is
			// still listed, with nothing run.
			row.rep = baseReport(o, model, row)
			row.rep.Status = report.StatusInterrupted
			row.rep.NotRun = map[string]string{}
			for _, p := range report.SectionPaths() {
				row.rep.NotRun[p] = "not run: the run was interrupted before this row started"
			}
			row.rep.Notes = append(row.rep.Notes, "never measured: the run was interrupted before this row started")
		}
		if row.rep.Status == report.StatusFailed {
			res.Failed = true
		}
		if row.rep.BackendDisplay == "" {
			row.rep.BackendDisplay = adapters.Display(row.name)
		}
		row.rep.ExpectedFailures = row.expected
		row.rep.Host = &host
		if row.rep.BuildFlags == "" {
			row.rep.BuildFlags = flags
		}
		if row.rep.FinishedAt == "" {
			row.rep.FinishedAt = time.Now().UTC().Format(time.RFC3339Nano)
		}
		res.Reports = append(res.Reports, row.rep)
	}

	if out.overlapped() {
		fmt.Fprintf(stderr, "fakbench run: warning: %s\n", concurrentNote)
		for _, r := range res.Reports {
			r.Concurrent = concurrentNote
		}
	}

	// The kernel row records its ratios to the best tuned reference of this
	// run per metric, and to each reference.
	report.SortReports(res.Reports)
	report.FindStanding(res.Reports).Annotate()
	if ctx.Err() == nil {
		for _, r := range res.Reports {
			for _, f := range report.CorrectnessFailures(r) {
				if report.ExpectedFailure(r, f) {
					fmt.Fprintf(logw, "fakbench run: %s: %s (expected for this ablation, not counted)\n", report.RowName(r), f)
					continue
				}
				res.Failed = true
				problem("%s: %s", report.RowName(r), f)
			}
		}
	}
	return res, nil
}

// probeRow opens a row's backend to learn its model info: in a child when
// the run is isolated (b is then nil), else here (b is open).
func probeRow(ctx context.Context, o Options, m models.Resolved, row *opened) (transport.ModelInfo, transport.Backend, error) {
	if o.isolated() {
		info, err := probeInChild(ctx, o, m, row, nil)
		return info, nil, err
	}
	b, err := openRow(ctx, o, m, row)
	if err != nil {
		return transport.ModelInfo{}, nil, err
	}
	return b.Info(), b, nil
}

// Write writes the run's files into dir: one JSON report per row
// (<row>.json), report.md and report.html. title heads the HTML page.
func (r *Result) Write(dir, title, command string) error {
	for _, rep := range r.Reports {
		if err := report.WriteJSON(filepath.Join(dir, report.RowName(rep)+".json"), rep); err != nil {
			return err
		}
	}
	if err := report.WriteFileAtomic(filepath.Join(dir, "report.md"), []byte(report.Markdown(r.Reports))); err != nil {
		return err
	}
	page := html.Page{Title: title, Command: command, Runs: []html.Run{{Rows: r.Reports}}}
	return html.WriteFile(filepath.Join(dir, "report.html"), page)
}

package bench

import (
	"fmt"
	"strings"

	"github.com/fakbench/fakbench/adapters"
	"github.com/fakbench/fakbench/harness"
	"github.com/fakbench/fakbench/internal/host"
)

// ModelHelp says what a model spec is, for usage texts.
const ModelHelp = "a .gguf file, synthetic:PRESET[:TYPE] or real:smollm2"

// The checks below speak in the command line's terms (flag names), as
// ResolveRows does: their errors are the commands' usage errors.

// Check checks the model, output and counts of a run or tune; repsGiven
// says Reps was given (0 then is an error, not the default); outWhat says
// what the output directory is for.
func (o *Options) Check(repsGiven bool, outWhat string) error {
	switch {
	case o.ModelSpec == "":
		return fmt.Errorf("missing --model (%s)", ModelHelp)
	case o.Out == "":
		return fmt.Errorf("missing --out (the directory for %s)", outWhat)
	case o.Threads < 0:
		return fmt.Errorf("--threads %d: want 0 (physical cores) or more", o.Threads)
	case repsGiven && o.Reps < 1:
		return fmt.Errorf("--reps %d: want at least 1 measured repetition", o.Reps)
	case o.Warmup < 0:
		return fmt.Errorf("--warmup %d: want 0 or more", o.Warmup)
	case o.CtxLen < 0:
		return fmt.Errorf("--ctx %d: want 0 (backend default) or more", o.CtxLen)
	case o.Isolation != "" && o.Isolation != IsolationProcess && o.Isolation != IsolationInProcess:
		return fmt.Errorf("--isolation %q: want %s or %s", o.Isolation, IsolationProcess, IsolationInProcess)
	case o.HangAfter < 0:
		return fmt.Errorf("--hang-after %s: want a positive duration", o.HangAfter)
	}
	return host.CheckThreads(o.Threads, o.Oversubscribe)
}

// Resolve checks a run's options and fills their defaults ("fakbench
// run"): Check, CheckRun, ResolveRows (the --grid: gridText when gridSet),
// CheckBackends, then Defaults. Its errors are worded for the command line.
func (o *Options) Resolve(repsGiven bool, gridText string, gridSet bool) error {
	if err := o.Check(repsGiven, "the reports"); err != nil {
		return err
	}
	if err := o.CheckRun(); err != nil {
		return err
	}
	if err := o.ResolveRows(gridText, gridSet); err != nil {
		return err
	}
	if err := o.CheckBackends(); err != nil {
		return err
	}
	o.Defaults(repsGiven)
	return nil
}

// CheckRun checks a run's backend list, profile and schedule.
func (o *Options) CheckRun() error {
	switch {
	case len(o.Backends) == 0:
		return fmt.Errorf("--backends is empty (known: %s)", strings.Join(adapters.Names(), ", "))
	case o.Profile != "tuned" && o.Profile != "untuned":
		return fmt.Errorf("--profile %q: want tuned or untuned", o.Profile)
	case o.Schedule != harness.ScheduleInterleaved && o.Schedule != harness.ScheduleSequential:
		return fmt.Errorf("--schedule %q: want %s or %s", o.Schedule, harness.ScheduleInterleaved, harness.ScheduleSequential)
	}
	return nil
}

// CheckBackends checks that every backend is registered and named once,
// and that every required one is among them.
func (o *Options) CheckBackends() error {
	seen := map[string]bool{}
	for _, b := range o.Backends {
		if seen[b] {
			return fmt.Errorf("--backends names %q twice", b)
		}
		seen[b] = true
		if _, err := adapters.Lookup(b); err != nil {
			return fmt.Errorf("--backends: %w", err)
		}
	}
	for _, r := range o.Require {
		if !seen[r] {
			return fmt.Errorf("--require names %q, which is not in --backends (%s)", r, strings.Join(o.Backends, ","))
		}
	}
	return nil
}

// checkBackendNames checks that the list is not empty and every name is
// registered.
func checkBackendNames(names []string) error {
	if len(names) == 0 {
		return fmt.Errorf("--backends is empty")
	}
	for _, n := range names {
		if _, err := adapters.Lookup(n); err != nil {
			return fmt.Errorf("--backends: %w", err)
		}
	}
	return nil
}

// Check checks a batch run's model, output, counts and backends (zero
// counts are defaults).
func (o *BatchOptions) Check() error {
	return checkPerBackendRun(o.ModelSpec, o.Out, o.Backends, o.Threads, o.Oversubscribe,
		"--threads, --reps, --prompt and --steps", min(o.Threads, o.Reps, o.Prompt, o.Steps))
}

// Check checks a replay's model, output, counts and backends (zero counts
// are defaults).
func (o *ReplayOptions) Check() error {
	return checkPerBackendRun(o.ModelSpec, o.Out, o.Backends, o.Threads, o.Oversubscribe,
		"--threads, --reps and --ctx", min(o.Threads, o.Reps, o.CtxLen))
}

// checkPerBackendRun checks what a batch run and a workload replay share:
// --model and --out given, a backend list, the command's counts (named by
// counts, lowest the least of them: none may be negative), the thread count
// and every backend name.
func checkPerBackendRun(model, out string, backends []string, threads int, oversubscribe bool, counts string, lowest int) error {
	switch {
	case model == "" || out == "":
		return fmt.Errorf("--model and --out are required")
	case len(backends) == 0:
		return checkBackendNames(nil)
	case lowest < 0:
		return fmt.Errorf("%s must be >= 0", counts)
	}
	if err := host.CheckThreads(threads, oversubscribe); err != nil {
		return err
	}
	return checkBackendNames(backends)
}

// Check checks a parity check's counts and thresholds (the model and the
// two backends are checked by the caller, which has the list as given).
func (o *ParityOptions) Check() error {
	switch {
	case o.ModelSpec == "":
		return fmt.Errorf("missing --model (%s)", ModelHelp)
	case o.Backends[0] == o.Backends[1]:
		return fmt.Errorf("--backends names %s twice", o.Backends[0])
	case o.Steps < 1:
		return fmt.Errorf("--steps must be at least 1, got %d", o.Steps)
	case o.Threads < 0:
		return fmt.Errorf("--threads must not be negative, got %d", o.Threads)
	case o.Prompt < 1:
		return fmt.Errorf("--prompt must be at least 1, got %d", o.Prompt)
	case o.MinCosine < 0 || o.MinCosine > 1:
		return fmt.Errorf("--min-cosine must be in [0, 1], got %g", o.MinCosine)
	case o.MaxDiff < 0:
		return fmt.Errorf("--max-diff must not be negative, got %g", o.MaxDiff)
	}
	if err := checkBackendNames(o.Backends[:]); err != nil {
		return err
	}
	return host.CheckThreads(o.Threads, o.Oversubscribe)
}

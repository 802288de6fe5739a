package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/fakbench/fakbench/adapters"
	"github.com/fakbench/fakbench/harness"
	"github.com/fakbench/fakbench/harness/sweep"
	"github.com/fakbench/fakbench/internal/host"
	"github.com/fakbench/fakbench/transport"
)

func init() {
	register(command{
		name:    "tune",
		summary: "sweep a backend's settings (flash attention x n_ubatch for llama.cpp); write sweep-<backend>.json",
		run:     runTune,
	})
}

const tuneSynopsis = `usage: fakbench tune --backend llamacpp --model MODEL --out DIR
                     [--short] [--threads N] [--reps N] [--warmup N] [--ctx N] [--seed N]
                     [--grid "flash_attn=on,off;n_ubatch=256,512"] [--membw GB/s] [--quiet]

Runs every scenario of the report once per configuration of a settings grid
(every combination of the grid's values, passed to the backend as options)
and composes the tuned reference: each section from the configuration that
is best for it (cold prefill: highest prompt tok/s; warm TTFTs: lowest;
decode: highest tok/s; suffix curve: lowest per point). A configuration
that fails a correctness check is excluded. The thread count is not swept:
every configuration runs with --threads, so ratios stay same-thread.

Writes DIR/sweep-<backend>.json (every configuration's full report, the
choice per section, the composed row) and prints the grid as a table.
Exit codes: 0 done; 1 no configuration passed its checks, or interrupted;
2 usage or input error (a bad grid option included).`

func runTune(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var o runOptions
	fs := newFlagSet("tune", tuneSynopsis, stderr)
	defaultBackend := ""
	if names := registered(hasSweep, false); len(names) > 0 {
		defaultBackend = names[0]
	}
	backend := fs.String("backend", defaultBackend, "the `backend` to tune")
	fs.StringVar(&o.model, "model", "", "`MODEL`: a .gguf file, synthetic:PRESET[:TYPE] or real:smollm2 (required)")
	fs.StringVar(&o.out, "out", "", "output `directory` for sweep-<backend>.json (required)")
	fs.BoolVar(&o.short, "short", false, "small scenario sizes: proves the wiring, not a measurement")
	fs.IntVar(&o.threads, "threads", 0, "CPU threads for every configuration (0 = the number of physical cores)")
	fs.IntVar(&o.reps, "reps", 0, fmt.Sprintf("measured repetitions per scenario (default %d, %d with --short)", defaultReps, shortReps))
	fs.IntVar(&o.warmup, "warmup", 1, "discarded warm-up repetitions per scenario")
	fs.IntVar(&o.ctxLen, "ctx", 0, "context length per session (0 = the backend's default)")
	fs.Uint64Var(&o.seed, "seed", 1, "seed of the deterministic token IDs")
	fs.Float64Var(&o.membw, "membw", 0, "node memory bandwidth in `GB/s` for the decode roofline (0 = measure it, negative = no roofline)")
	fs.BoolVar(&o.quiet, "quiet", false, "no progress on stderr")
	grid := fs.String("grid", "", "the `grid`: key=v1,v2;key2=... over the backend's options (default: the backend's own, e.g. llamacpp "+llamacppGridHint()+")")
	if _, code, ok := parseFlags(fs, args, 0); !ok {
		return code
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	switch {
	case o.model == "":
		return usageError(stderr, "tune", "missing --model (a .gguf file, synthetic:PRESET[:TYPE] or real:smollm2)")
	case o.out == "":
		return usageError(stderr, "tune", "missing --out (the directory for sweep-<backend>.json)")
	case o.threads < 0:
		return usageError(stderr, "tune", "--threads %d: want 0 (physical cores) or more", o.threads)
	case set["reps"] && o.reps < 1:
		return usageError(stderr, "tune", "--reps %d: want at least 1 measured repetition", o.reps)
	case o.warmup < 0:
		return usageError(stderr, "tune", "--warmup %d: want 0 or more", o.warmup)
	case o.ctxLen < 0:
		return usageError(stderr, "tune", "--ctx %d: want 0 (backend default) or more", o.ctxLen)
	}
	e, err := adapters.Lookup(*backend)
	if err != nil {
		return usageError(stderr, "tune", "--backend: %v", err)
	}
	text := e.SweepGrid
	if set["grid"] {
		text = *grid
	} else if text == "" {
		return usageError(stderr, "tune", "no default grid for backend %q: give --grid key=v1,v2;... over its options", *backend)
	}
	g, err := parseSweepGrid(text)
	if err != nil {
		return usageError(stderr, "tune", "--grid: %v", err)
	}
	o.grids = map[string]sweep.Grid{*backend: g}
	if !set["reps"] {
		o.reps = defaultReps
		if o.short {
			o.reps = shortReps
		}
	}
	if o.threads == 0 {
		o.threads = host.PhysicalCores()
	}
	o.backends = []string{*backend}
	o.profile = "tuned"
	o.sweep = true
	o.argv = append([]string{"fakbench", "tune"}, args...)
	logw, model, code, ok := prepareRun(ctx, "tune", o, stderr)
	if !ok {
		return code
	}

	// Probe: the model opens with the default settings (its shape plans the
	// scenario) and with every configuration (a bad option is a usage
	// error before anything is measured).
	row := &opened{name: *backend, kind: rowKind(*backend, "tuned"), profile: "tuned", sweep: true}
	fmt.Fprintf(logw, "fakbench tune: opening %s on %s (threads %d)\n", *backend, model.Path, o.threads)
	b, err := openRow(ctx, o, model, row)
	if err != nil {
		return tuneOpenError(ctx, stderr, *backend, err)
	}
	info := b.Info()
	_ = b.Close()
	if err := probeGrid(ctx, o, model, *backend, g); err != nil {
		if ctx.Err() != nil {
			fmt.Fprintf(stderr, "fakbench tune: interrupted: %v\n", err)
			return exitFailed
		}
		fmt.Fprintf(stderr, "fakbench tune: --grid: %v\n", err)
		return exitUsage
	}
	params, err := harness.ParamsFor(o.short, o.seed, info)
	var sc harness.Scenario
	if err == nil {
		sc, err = harness.BuildScenario(params)
	}
	if err != nil {
		fmt.Fprintf(stderr, "fakbench tune: cannot plan the scenario: %v\n", err)
		return exitUsage
	}

	host := measureHost(o, "tune", logw)
	fmt.Fprintf(logw, "fakbench tune: %d configurations (%s), threads fixed at %d; scenario: stable %d tokens, suffix %d, curve %v, decode %d\n",
		len(g.Configs()), g, o.threads, len(sc.Stable), len(sc.Suffix), sc.CurveSizes, sc.MaxDecode)

	s, err := runSweep(ctx, o, model, sc, row, host, buildFlags(), logw)
	if s == nil {
		fmt.Fprintf(stderr, "fakbench tune: %v\n", err)
		return exitFailed
	}
	path := filepath.Join(o.out, "sweep-"+*backend+".json")
	if werr := s.WriteFile(path); werr != nil {
		fmt.Fprintf(stderr, "fakbench tune: %v\n", werr)
		return exitFailed
	}
	fmt.Fprint(stdout, s.Table())
	fmt.Fprintf(stdout, "\nsweep written to %s\n", path)
	if err != nil {
		fmt.Fprintf(stderr, "fakbench tune: %v\n", err)
		return exitFailed
	}
	if s.Tuned == nil {
		fmt.Fprintf(stderr, "fakbench tune: no configuration passed its correctness checks:\n  %s\n", strings.Join(s.Notes, "\n  "))
		return exitFailed
	}
	return exitOK
}

// tuneOpenError maps the probe's open error to an exit code.
func tuneOpenError(ctx context.Context, stderr io.Writer, backend string, err error) int {
	fmt.Fprintf(stderr, "fakbench tune: %s: %v\n", backend, err)
	switch {
	case ctx.Err() != nil:
		return exitFailed
	case transport.IsBadModel(err):
		return exitUsage
	case transport.IsUnavailable(err):
		return exitFailed // nothing to tune here: a benchmark that cannot run
	}
	return exitFailed
}

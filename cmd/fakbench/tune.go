package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/fakbench/fakbench/adapters"
	"github.com/fakbench/fakbench/bench"
	"github.com/fakbench/fakbench/harness/sweep"
	"github.com/fakbench/fakbench/report"
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
	if names := bench.Sweepable(); len(names) > 0 {
		defaultBackend = names[0]
	}
	backend := fs.String("backend", defaultBackend, "the `backend` to tune")
	measureFlags(fs, &o.Options, "sweep-<backend>.json")
	grid := fs.String("grid", "", "the `grid`: key=v1,v2;key2=... over the backend's options (default: the backend's own, e.g. llamacpp "+bench.DefaultGridHint()+")")
	if _, code, ok := parseFlags(fs, args, 0); !ok {
		return code
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if err := o.Check(set["reps"], "sweep-<backend>.json"); err != nil {
		return usageError(stderr, "tune", "%v", err)
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
	g, err := bench.ParseGrid(text)
	if err != nil {
		return usageError(stderr, "tune", "--grid: %v", err)
	}
	o.Grids = map[string]sweep.Grid{*backend: g}
	o.Defaults(set["reps"])
	o.Backends = []string{*backend}
	o.Profile = "tuned"
	o.Sweep = true
	o.Command = report.CommandLine(append([]string{"fakbench", "tune"}, args...))
	o.BuildFlags, o.Revision = bench.BuildFlags(), bench.SourceRevision()
	o.Log, o.Errs = stderr, stderr
	model, err := bench.Prepare(ctx, o.Options)
	if err != nil {
		return benchError(stderr, "tune", err)
	}
	s, path, err := bench.Tune(ctx, o.Options, model, *backend, g)
	if s == nil || path == "" {
		return benchError(stderr, "tune", err)
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

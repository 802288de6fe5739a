package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/fakbench/fakbench/bench"
)

func init() {
	register(command{
		name:    "tune",
		summary: "sweep a backend's settings (flash attention x n_ubatch for llama.cpp); write sweep-<backend>.json",
		run:     runTune,
	})
}

func runTune(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var o runOptions
	fs := newFlagSet("tune", synopsis("tune"), stderr)
	backend := fs.String("backend", bench.DefaultTuneBackend(), "the `backend` to tune")
	measureFlags(fs, &o.Options, "sweep-<backend>.json")
	grid := fs.String("grid", "", "the `grid`: key=v1,v2;key2=... over the backend's options (default: the backend's own, e.g. llamacpp "+bench.DefaultGridHint()+")")
	if _, code, ok := parseFlags(fs, args, 0); !ok {
		return code
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	g, err := o.ResolveTune(*backend, *grid, set["grid"], set["reps"])
	if err != nil {
		return usageError(stderr, "tune", "%v", err)
	}
	o.Stamp("tune", args, stderr)
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
		return failed(stderr, "tune", err)
	}
	if s.Chosen == nil {
		fmt.Fprintf(stderr, "fakbench tune: no configuration passed its correctness checks:\n  %s\n", strings.Join(s.Notes, "\n  "))
		return exitFailed
	}
	return exitOK
}

package main

import (
	"flag"

	"github.com/fakbench/fakbench/bench"
)

// The flags several commands declare with one meaning are declared here,
// once each; a command adds only what differs (what --out holds, what
// --short shrinks, what --reps counts).

// defaultBackends is the --backends default of the commands that measure
// every backend.
const defaultBackends = "gokernel,llamacpp,openvino"

// backendsFlag declares --backends, the backends to measure, in order.
func backendsFlag(fs *flag.FlagSet, p *string) {
	fs.StringVar(p, "backends", defaultBackends, "comma-separated `list` of backends to run")
}

// modelFlag declares the required --model.
func modelFlag(fs *flag.FlagSet, p *string) {
	fs.StringVar(p, "model", "", "`MODEL`: "+bench.ModelHelp+" (required)")
}

// outFlag declares the required --out, the directory for what.
func outFlag(fs *flag.FlagSet, p *string, what string) {
	fs.StringVar(p, "out", "", "output `directory` for "+what+" (required)")
}

// threadsFlag declares --threads, the thread count of every backend, and
// --oversubscribe, which allows more than the logical cores.
func threadsFlag(fs *flag.FlagSet, p *int, over *bool) {
	fs.IntVar(p, "threads", 0, "CPU threads for every backend (0 = the number of physical cores; more than the logical cores needs --oversubscribe)")
	fs.BoolVar(over, "oversubscribe", false, "allow more --threads than logical cores (every figure is then distorted)")
}

// ctxFlag declares --ctx, the positions per session.
func ctxFlag(fs *flag.FlagSet, p *int) {
	fs.IntVar(p, "ctx", 0, "context length per session (0 = the backend's default, min(model context, 4096))")
}

// seedFlag declares --seed, the seed of the deterministic token IDs.
func seedFlag(fs *flag.FlagSet, p *uint64) {
	fs.Uint64Var(p, "seed", 1, "seed of the deterministic token IDs")
}

package main

import (
	"context"
	"errors"
	"io"

	"github.com/fakbench/fakbench/bench"
	"github.com/fakbench/fakbench/nodebench"
	"github.com/fakbench/fakbench/report"
)

func init() {
	register(command{
		name:    "node-bench",
		summary: "the one-command node benchmark: every backend, workload replay, batch curve, manifest, gate",
		run:     runNodeBench,
	})
}

// nodeStepOverride replaces the child-process runner (tests run the steps
// in-process).
var nodeStepOverride nodebench.StepRunner

// nodeBuildCPU replaces the build-CPU check (tests); nil means
// nodebench.CurrentBuildCPU.
var nodeBuildCPU func() nodebench.BuildCPU

func runNodeBench(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var c nodebench.Config
	var out string
	fs := newFlagSet("node-bench", synopsis("node-bench"), stderr)
	fs.StringVar(&out, "out", "", "artifact `directory` (required; empty or holding only logs/)")
	fs.StringVar(&c.HostLabel, "host", "", "host `name` recorded in the manifest (default: the short host name)")
	fs.BoolVar(&c.Short, "short", false, "smoke run: proves the wiring only")
	backendsFlag(fs, &c.Backends)
	fs.StringVar(&c.Model, "model", "", "`MODEL` (default "+nodebench.DefaultModel+", "+nodebench.ShortModel+" with --short)")
	fs.StringVar(&c.WorkloadPath, "workload", defaultWorkloadPath, "pinned workload `file`")
	threadsFlag(fs, &c.Threads, &c.Oversubscribe)
	fs.StringVar(&c.Profile, "profile", nodebench.DefaultProfile, "hardware `profile` of the gate's threshold table")
	if _, code, ok := parseFlags(fs, args, 0); !ok {
		return code
	}
	c.Command = report.CommandLine(append([]string{"fakbench", "node-bench"}, args...))
	c.Steps = nodeStepOverride
	if err := c.Setup(out); err != nil {
		return usageError(stderr, "node-bench", "%v", err)
	}
	c.CommandLine, c.BuildCPU, c.Log = report.CommandLine, nodeBuildCPU, stderr
	c.ResolveModel = bench.NodeModelResolver(stderr)
	res, err := nodebench.Run(ctx, c)
	if _, setup := errors.AsType[*nodebench.SetupError](err); setup {
		return badInput(stderr, "node-bench", err)
	} else if err != nil {
		return failed(stderr, "node-bench", err)
	}
	res.Describe(stdout, out)
	return exitFor(res.Failed())
}

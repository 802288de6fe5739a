package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

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

const nodeBenchSynopsis = `usage: fakbench node-bench --out DIR [--host NAME] [--short] [--backends LIST] [--model MODEL]
                           [--workload W.json] [--threads N] [--profile cpu|gpu]

Runs the node benchmark (docs/methodology.md) into DIR and keeps the raw evidence:
  DIR/production-readiness-manifest.json  host, commit, toolchain, build flags,
                                          the CPU the binary was built for and
                                          this CPU (build_cpu), memory
                                          bandwidth, backends, digests, caps,
                                          times, every file hashed
  DIR/bench/      fakbench run: <backend>.json and report.md
  DIR/workload/   workload replay: workload-<backend>.json and the pinned workload
  DIR/batch/      batch curve: batch-<backend>.json
  DIR/logs/       stdout and stderr of every step
  DIR/gate-output.txt, gate-output.json   fakbench gate DIR (written last)

The manifest is written with complete=false first and finalised at the end,
so an interrupted run says it is incomplete. scripts/node_bench.sh is the
usual entry point. --short is the wiring smoke run (default model
synthetic:tiny; FAK_WORKLOAD_PREFILL_CAP and FAK_WORKLOAD_PROMPT_CAP default
to 256 when unset); it can never pass the clean-box gate.

Exit codes: 0 every step ran and the evidence is intact and valid (clean-box
criteria such as full_run, uncapped, the threshold and clean_node are
reported, not enforced); 1 a step failed, the artifacts or reports are
not valid, or the binary was built for another CPU (its CGO flags' CPU
fingerprint is not this CPU's: rebuild with make build); 2 usage error.`

// nodeStepOverride replaces the child-process runner (tests run the steps
// in-process).
var nodeStepOverride nodebench.StepRunner

// nodeBuildCPU replaces the build-CPU check (tests); nil means
// nodebench.CurrentBuildCPU.
var nodeBuildCPU func() nodebench.BuildCPU

func runNodeBench(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var c nodebench.Config
	var out string
	fs := newFlagSet("node-bench", nodeBenchSynopsis, stderr)
	fs.StringVar(&out, "out", "", "artifact `directory` (required; empty or holding only logs/)")
	fs.StringVar(&c.HostLabel, "host", "", "host `name` recorded in the manifest (default: the short host name)")
	fs.BoolVar(&c.Short, "short", false, "smoke run: proves the wiring only")
	backendsFlag(fs, &c.Backends)
	fs.StringVar(&c.Model, "model", "", "`MODEL` (default "+nodebench.DefaultModel+", "+nodebench.ShortModel+" with --short)")
	fs.StringVar(&c.WorkloadPath, "workload", defaultWorkloadPath, "pinned workload `file`")
	threadsFlag(fs, &c.Threads)
	fs.StringVar(&c.Profile, "profile", nodebench.DefaultProfile, "hardware `profile` of the gate's threshold table")
	if _, code, ok := parseFlags(fs, args, 0); !ok {
		return code
	}
	c.Command = report.CommandLine(append([]string{"fakbench", "node-bench"}, args...))
	switch {
	case out == "":
		return usageError(stderr, "node-bench", "--out is required")
	case c.Threads < 0:
		return usageError(stderr, "node-bench", "--threads %d: want >= 0", c.Threads)
	case len(splitList(c.Backends)) == 0:
		return usageError(stderr, "node-bench", "--backends is empty")
	}
	if _, ok := nodebench.Profiles[c.Profile]; !ok {
		return usageError(stderr, "node-bench", "--profile %q: known %s", c.Profile, strings.Join(nodebench.ProfileNames(), ", "))
	}
	c.Defaults()
	c.Layout = nodebench.Layout{Dir: out}
	if err := c.Layout.CheckFresh(); err != nil {
		return usageError(stderr, "node-bench", "--out %v", err)
	}
	if c.Short {
		if err := nodebench.SetShortCaps(); err != nil {
			fmt.Fprintf(stderr, "fakbench node-bench: %v\n", err)
			return exitFailed
		}
	}
	if err := c.ReadInputs(); err != nil {
		return usageError(stderr, "node-bench", "%v", err)
	}
	c.Steps = nodeStepOverride
	if c.Steps == nil {
		exe, err := os.Executable()
		if err != nil {
			fmt.Fprintf(stderr, "fakbench node-bench: cannot find its own binary: %v\n", err)
			return exitFailed
		}
		c.Steps = nodebench.Exec(exe)
	}
	c.CommandLine, c.BuildCPU, c.Log = report.CommandLine, nodeBuildCPU, stderr
	c.ResolveModel = func(ctx context.Context, spec string) (nodebench.Model, error) {
		m, err := bench.ResolveModel(ctx, spec, stderr)
		return nodebench.Model{Spec: spec, Path: m.Path, Digest: m.Digest, Bytes: m.Size}, err
	}
	res, err := nodebench.Run(ctx, c)
	if err != nil {
		fmt.Fprintf(stderr, "fakbench node-bench: %v\n", err)
		var setup *nodebench.SetupError
		if errors.As(err, &setup) {
			return exitUsage
		}
		return exitFailed
	}
	fmt.Fprint(stdout, res.Verdict.Text())
	fmt.Fprintf(stdout, "\nartifacts: %s (manifest %s)\n", out, nodebench.ManifestFile)
	fmt.Fprintf(stdout, "clean-box check: fakbench gate %s --clean-node (only on a node without the live fleet load)\n", out)
	if res.Failed() {
		return exitFailed
	}
	return exitOK
}

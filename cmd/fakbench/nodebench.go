package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/fakbench/fakbench/harness/workload"
	"github.com/fakbench/fakbench/internal/env"
	"github.com/fakbench/fakbench/internal/host"
	"github.com/fakbench/fakbench/nodebench"
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

type nodeOptions struct {
	out, host, backends, model, workload, profile string
	short                                         bool
	threads                                       int
}

func runNodeBench(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var o nodeOptions
	fs := newFlagSet("node-bench", nodeBenchSynopsis, stderr)
	fs.StringVar(&o.out, "out", "", "artifact `directory` (required; empty or holding only logs/)")
	fs.StringVar(&o.host, "host", "", "host `name` recorded in the manifest (default: the short host name)")
	fs.BoolVar(&o.short, "short", false, "smoke run: proves the wiring only")
	fs.StringVar(&o.backends, "backends", "gokernel,llamacpp,openvino", "comma-separated `list` of backends")
	fs.StringVar(&o.model, "model", "", "`MODEL` (default "+nodebench.DefaultModel+", "+nodebench.ShortModel+" with --short)")
	fs.StringVar(&o.workload, "workload", defaultWorkloadPath, "pinned workload `file`")
	fs.IntVar(&o.threads, "threads", 0, "CPU threads for every backend (0 = physical cores)")
	fs.StringVar(&o.profile, "profile", nodebench.DefaultProfile, "hardware `profile` of the gate's threshold table")
	if _, code, ok := parseFlags(fs, args, 0); !ok {
		return code
	}
	command := commandLine(append([]string{"fakbench", "node-bench"}, args...))
	switch {
	case o.out == "":
		return usageError(stderr, "node-bench", "--out is required")
	case o.threads < 0:
		return usageError(stderr, "node-bench", "--threads %d: want >= 0", o.threads)
	case len(splitList(o.backends)) == 0:
		return usageError(stderr, "node-bench", "--backends is empty")
	}
	if _, ok := nodebench.Profiles[o.profile]; !ok {
		return usageError(stderr, "node-bench", "--profile %q: known %s", o.profile, strings.Join(nodebench.ProfileNames(), ", "))
	}
	if o.model == "" {
		o.model = nodebench.DefaultModel
		if o.short {
			o.model = nodebench.ShortModel
		}
	}
	if o.host == "" {
		h, _ := os.Hostname()
		o.host, _, _ = strings.Cut(h, ".")
	}
	if o.threads == 0 {
		o.threads = host.PhysicalCores()
	}
	layout := nodebench.Layout{Dir: o.out}
	if err := layout.CheckFresh(); err != nil {
		return usageError(stderr, "node-bench", "--out %v", err)
	}
	if o.short {
		// Set in the environment, so every step's process sees the caps.
		for _, v := range []*env.IntVar{env.WorkloadPrefillCap, env.WorkloadPromptCap} {
			if !v.IsSet() {
				if err := v.Set(fmt.Sprint(nodebench.ShortCap)); err != nil {
					fmt.Fprintf(stderr, "fakbench node-bench: %v\n", err)
					return exitFailed
				}
			}
		}
	}
	caps, err := workload.CapsFromEnv()
	if err != nil {
		return usageError(stderr, "node-bench", "%v", err)
	}
	batchWorkload, err := env.BatchWorkload.Bool()
	if err != nil {
		return usageError(stderr, "node-bench", "%v", err)
	}
	w, err := workload.Load(o.workload)
	if err != nil {
		return usageError(stderr, "node-bench", "%v", err)
	}
	step := nodeStepOverride
	if step == nil {
		exe, err := os.Executable()
		if err != nil {
			fmt.Fprintf(stderr, "fakbench node-bench: cannot find its own binary: %v\n", err)
			return exitFailed
		}
		step = nodebench.Exec(exe)
	}
	if sc := env.NodeBenchCommand.Value(); sc != "" {
		command = sc + " (which ran: " + command + ")"
	}
	out, err := nodebench.Run(ctx, nodebench.Config{
		Layout: layout, HostLabel: o.host, Backends: o.backends, Model: o.model,
		WorkloadPath: o.workload, Workload: w, Profile: o.profile, Threads: o.threads, Short: o.short,
		Caps: caps, BatchWorkload: batchWorkload, Command: command,
		Steps: step, CommandLine: commandLine, BuildCPU: nodeBuildCPU, Log: stderr,
		ResolveModel: func(ctx context.Context, spec string) (nodebench.Model, error) {
			m, err := resolveModel(ctx, spec, stderr)
			return nodebench.Model{Spec: spec, Path: m.Path, Digest: m.Digest, Bytes: m.Size}, err
		},
	})
	if err != nil {
		fmt.Fprintf(stderr, "fakbench node-bench: %v\n", err)
		var setup *nodebench.SetupError
		if errors.As(err, &setup) {
			return exitUsage
		}
		return exitFailed
	}
	fmt.Fprint(stdout, out.Verdict.Text())
	fmt.Fprintf(stdout, "\nartifacts: %s (manifest %s)\n", o.out, nodebench.ManifestFile)
	fmt.Fprintf(stdout, "clean-box check: fakbench gate %s --clean-node (only on a node without the live fleet load)\n", o.out)
	if out.Failed() {
		return exitFailed
	}
	return exitOK
}

package main

import (
	"context"
	"io"

	"github.com/fakbench/fakbench/fleet"
)

func init() {
	register(command{name: "fleet", summary: "gather node-bench folders of many hosts (collect) and report on them together (report)", run: func(ctx context.Context, args []string, stdout, stderr io.Writer) int {
		return runSubcommand(ctx, "fleet", map[string]runFunc{"collect": fleetCollect, "report": fleetReport}, args, stdout, stderr)
	}})
}

func fleetCollect(_ context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("fleet collect", synopsis("fleet"), stderr)
	out := fs.String("out", "", "`directory` for the verified host folders and "+fleet.IndexFile+" (required)")
	srcs, code, ok := parseFlags(fs, args, -1)
	if !ok {
		return code
	} else if *out == "" || len(srcs) == 0 {
		return usageError(stderr, "fleet collect", "name --out and at least one node-bench folder (or a folder of them)")
	}
	res, err := fleet.Collect(srcs, *out)
	if err != nil {
		return badInput(stderr, "fleet collect", err)
	}
	res.Print(stdout)
	return exitFor(len(res.Refused) > 0)
}

func fleetReport(_ context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("fleet report", synopsis("fleet"), stderr)
	o := fleet.ReportOptions{Args: args}
	fs.Float64Var(&o.Outlier, "outlier", fleet.DefaultOutlier, "flag a figure worse than its CPU kind's median by more than this `fraction`")
	fs.BoolVar(&o.CleanNode, "clean-node", false, "assert that every host ran under the clean-node rule (passed to each host's gate)")
	fs.StringVar(&o.Profile, "profile", "", "hardware `profile` of every host's gate (default: each manifest's)")
	dirs, code, ok := parseArgs(fs, args, 1, "name the directory fleet collect wrote")
	if !ok {
		return code
	}
	f, err := fleet.BuildReport(dirs[0], o)
	if err != nil {
		return badInput(stderr, "fleet report", err)
	} else if err := f.Publish(stdout); err != nil {
		return failed(stderr, "fleet report", err)
	}
	return exitFor(f.Failed())
}

package main

import (
	"context"
	"io"

	"github.com/fakbench/fakbench/report"
	"github.com/fakbench/fakbench/report/html"
)

func init() {
	register(command{
		name:    "compare",
		summary: "put the reports of one or more run directories side by side (Markdown)",
		run:     runCompare,
	})
}

func runCompare(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("compare", synopsis("compare"), stderr)
	out := fs.String("out", "", "also write the Markdown to this `file`")
	htmlOut := fs.String("html", "", "also write an HTML page with charts to this `file`")
	allow := fs.Bool("allow-mismatch", false, "compare runs of different workloads anyway, with a warning naming the differences")
	failOn := fs.Bool("fail-on-regression", false, "exit 1 when the regression gate fails the last run against the first: a headline metric worse beyond its run-to-run spread, with the family-wise error held at 5 % across all the gate's tests (Holm-Bonferroni on benchstat's U tests), or too few repetitions to judge")
	gateAll := fs.Bool("gate-all-metrics", false, "the regression gate judges every metric with kept samples, not only the headline ones (its Holm correction then spans them all, which needs more repetitions)")
	dirs, code, ok := parseFlags(fs, args, -1)
	if !ok {
		return code
	}
	if len(dirs) == 0 {
		return usageError(stderr, "compare", "no run directory given")
	}
	runs, err := report.ReadComparable(dirs, *allow)
	if err != nil {
		return badInput(stderr, "compare", err)
	}
	md := report.CompareMarkdown(runs, *gateAll)
	if _, err := io.WriteString(stdout, md); err != nil {
		return failed(stderr, "compare", err)
	}
	if *out != "" {
		err = report.WriteFileAtomic(*out, []byte(md))
	}
	if *htmlOut != "" && err == nil {
		err = html.WriteFile(*htmlOut, html.ComparePage(runs, report.CommandLine(append([]string{"fakbench", "compare"}, args...))))
	}
	if err != nil {
		return badInput(stderr, "compare", err)
	}
	return exitFor(*failOn && report.JudgeGate(runs, *gateAll).Fails(stderr))
}

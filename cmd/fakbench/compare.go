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
	failOn := fs.Bool("fail-on-regression", false, "exit 1 when a metric of the last run moved beyond its run-to-run spread in the worse direction against the first (Mann-Whitney U test on the kept samples, as benchstat)")
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
	md := report.CompareMarkdown(runs)
	if _, err := io.WriteString(stdout, md); err != nil {
		return failed(stderr, "compare", err)
	}
	if *out != "" {
		if err := report.WriteFileAtomic(*out, []byte(md)); err != nil {
			return badInput(stderr, "compare", err)
		}
	}
	if *htmlOut != "" {
		if err := html.WriteFile(*htmlOut, html.ComparePage(runs, report.CommandLine(append([]string{"fakbench", "compare"}, args...)))); err != nil {
			return badInput(stderr, "compare", err)
		}
	}
	return exitFor(*failOn && len(report.Regressions(runs)) > 0)
}

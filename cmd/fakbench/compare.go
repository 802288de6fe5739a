package main

import (
	"context"
	"fmt"
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

const compareSynopsis = `usage: fakbench compare [--out FILE] [--html FILE] DIR...

Reads the backend reports (*.json) of each run directory and prints one
Markdown table with a column per backend per directory, the Go kernel's
ratio to the tuned reference in each run, and, for two or more runs, how
much of that gap the last run closed against the first. --html writes the
same runs as one self-contained HTML page with charts.`

func runCompare(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("compare", compareSynopsis, stderr)
	out := fs.String("out", "", "also write the Markdown to this `file`")
	htmlOut := fs.String("html", "", "also write an HTML page with charts to this `file`")
	dirs, code, ok := parseFlags(fs, args, -1)
	if !ok {
		return code
	}
	if len(dirs) == 0 {
		return usageError(stderr, "compare", "no run directory given")
	}
	runs, err := report.ReadRuns(dirs)
	if err != nil {
		fmt.Fprintf(stderr, "fakbench compare: %v\n", err)
		return exitUsage
	}
	md := report.CompareMarkdown(runs)
	if _, err := io.WriteString(stdout, md); err != nil {
		fmt.Fprintf(stderr, "fakbench compare: %v\n", err)
		return exitFailed
	}
	if *out != "" {
		if err := report.WriteFileAtomic(*out, []byte(md)); err != nil {
			fmt.Fprintf(stderr, "fakbench compare: %v\n", err)
			return exitUsage
		}
	}
	if *htmlOut != "" {
		page := html.Page{Title: "fakbench comparison", Command: report.CommandLine(append([]string{"fakbench", "compare"}, args...))}
		for _, r := range runs {
			page.Runs = append(page.Runs, html.Run{Label: r.Label, Rows: r.Reports})
		}
		if err := html.WriteFile(*htmlOut, page); err != nil {
			fmt.Fprintf(stderr, "fakbench compare: %v\n", err)
			return exitUsage
		}
	}
	return exitOK
}

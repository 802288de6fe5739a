package env

import (
	"fmt"
	"strings"
)

// DocPath is where Markdown's output lives, relative to the repository root.
const DocPath = "docs/env.md"

// scopeTitles heads each scope's section of the generated document.
var scopeTitles = map[Scope]string{
	Program: "Read by the fakbench binary",
	Test:    "Read by tests and benchmarks",
	Script:  "Script-level: read by scripts only",
	Build:   "Build-level: make variables and C defines",
}

// scopeIntros opens each scope's section.
var scopeIntros = map[Scope]string{
	Program: "These change what `fakbench` and the library packages do. Go code reads them only through `internal/env`.",
	Test:    "`go test` reads these; `.ci/run` sets the `FAK_REQUIRE_*` switches so a missing native dependency fails CI instead of skipping.",
	Script:  "Only the shell scripts under `scripts/` read these; no Go code does.",
	Build:   "These reach the compilers through the build flags, not a program's environment.",
}

// Markdown renders docs/env.md from the declarations: one table per scope.
func Markdown() string {
	var b strings.Builder
	b.WriteString("# Environment variables\n\n")
	b.WriteString("<!-- Generated from internal/env/vars.go; do not edit by hand. After changing a declaration run\n")
	b.WriteString("     go test ./internal/env -run TestDocIsCurrent -update -->\n\n")
	fmt.Fprintf(&b, "Every `FAK_*` name the project uses, %d in all, declared once in `internal/env/vars.go`. ", len(declared))
	b.WriteString("A switch (`bool`) is on at `1` and off at `0`, empty or unset; an `int` ignores surrounding blanks. ")
	b.WriteString("A value that does not parse is an error naming the variable. ")
	b.WriteString("\"Read by\" names the package directories (their tests included) and files that read the variable.\n")
	all := All()
	for _, s := range Scopes {
		var rows []Var
		for _, v := range all {
			if v.Scope == s {
				rows = append(rows, v)
			}
		}
		if len(rows) == 0 {
			continue
		}
		fmt.Fprintf(&b, "\n## %s\n\n%s\n\n", scopeTitles[s], scopeIntros[s])
		b.WriteString("| variable | type | default | read by | what it does |\n")
		b.WriteString("| --- | --- | --- | --- | --- |\n")
		for _, v := range rows {
			fmt.Fprintf(&b, "| `%s` | %s | %s | %s | %s |\n",
				v.Name, v.Kind, cell(v.Default), cell(readers(v)), cell(v.Doc))
		}
	}
	b.WriteString("\n## Related names that are not FAK_*\n\n")
	b.WriteString("`scripts/node_bench.sh` also reads `NODE_BENCH_BACKENDS`, `NODE_BENCH_MODEL` and `NODE_BENCH_THREADS` ")
	b.WriteString("and passes them to `fakbench node-bench` as flags (see docs/node-bench.md). ")
	b.WriteString("`BENCH_MODEL`, `BENCH_BACKENDS`, `BENCH_OUT` and `BENCH_ARGS` are make variables of `make bench` (see the Makefile). ")
	b.WriteString("The cgo flags come from `CGO_CFLAGS` and `CGO_CXXFLAGS`, which the Makefile exports (see docs/DEVELOPING.md).\n")
	return b.String()
}

// readers is the "read by" cell: the readers, then who sets it.
func readers(v Var) string {
	s := quoteAll(v.ReadBy)
	if len(v.SetBy) > 0 {
		s += "; set by " + quoteAll(v.SetBy)
	}
	return s
}

func quoteAll(paths []string) string {
	q := make([]string, len(paths))
	for i, p := range paths {
		q[i] = "`" + p + "`"
	}
	return strings.Join(q, ", ")
}

// cell makes text safe inside a Markdown table cell.
func cell(s string) string {
	s = strings.ReplaceAll(s, "|", `\|`)
	return strings.ReplaceAll(s, "\n", " ")
}

#!/usr/bin/env bash
# Prints this module's packages whose build and tests involve no native
# backend: neither they nor any dependency of them or of their tests is a
# cgo package outside the standard library and internal/ (internal/'s cgo
# is a small CPU probe that compiles in a second; the others are llama.cpp,
# ggml, our cgo layer over them and the OpenVINO binding). `make check`
# vets and tests these, so the edit loop never compiles llama.cpp nor loads
# OpenVINO. Computed on every call, so a new or moved package is picked up.
set -euo pipefail
cd "$(dirname "$0")/.."

module=$(go list -m)
native=$(go list -deps -test -f '{{if and (not .Standard) .CgoFiles}}{{.ImportPath}}{{end}}' ./... |
	grep -v "^$module/internal/" | sort -u)

# One line per package and per test variant: "path|deps". A test variant's
# path is "P [P.test]" (or "P_test [P.test]" for an external test package)
# and the test main's is "P.test"; all of them count for P.
go list -test -f '{{.ImportPath}}|{{join .Deps " "}}' ./... | awk -F'|' -v native="$native" '
BEGIN {
	n = split(native, list, "\n")
	for (i = 1; i <= n; i++) if (list[i] != "") bad[list[i]] = 1
}
{
	p = $1
	if (match(p, / \[.*\.test\]$/)) p = substr(p, RSTART + 2, RLENGTH - 8)
	sub(/\.test$/, "", p)
	seen[p] = 1
	if (p in bad) { out[p] = 1; next }
	m = split($2, deps, " ")
	for (i = 1; i <= m; i++) if (deps[i] in bad) { out[p] = 1; break }
}
END { for (p in seen) if (!(p in out)) print p }
' | sort

#!/usr/bin/env bash
# The one-command node benchmark (the node-bench method, docs/methodology.md),
# run from anywhere in the repo:
#
#   scripts/node_bench.sh [--pull] [--short] [--host=NAME] [--out=DIR]
#
#   --pull       bring the pinned dependencies and models up to date first
#                (make setup: package registries only)
#   --short      smoke run: proves the wiring, can never pass the clean-box gate
#   --host=NAME  name the artifacts are filed under (default: hostname -s)
#   --out=DIR    artifact directory (default: experiments/fleet-nodes/<host>)
#
# Extra settings come from the environment: FAK_WORKLOAD_PREFILL_CAP and
# FAK_WORKLOAD_PROMPT_CAP (unset or 0 = uncapped; --short defaults both to
# 256), FAK_BATCH_WORKLOAD=1 (adds the batch workload diagnostic),
# NODE_BENCH_BACKENDS, NODE_BENCH_MODEL, NODE_BENCH_THREADS.
#
# It builds bin/fakbench, checks that it was built for this CPU
# (scripts/check_build_cpu.sh), then runs `fakbench node-bench`, which
# records that check in the manifest (build_cpu), measures the
# memory bandwidth, runs every backend side by side, replays the pinned
# workload, measures the batch curve, hashes every artifact into
# production-readiness-manifest.json and finishes with `fakbench gate`, whose
# output is kept in DIR/gate-output.txt (absent when the run was interrupted
# before the gate). Every step's stdout and stderr are
# kept under DIR/logs/. Exit: 0 the evidence is complete and valid; 1 a step
# failed or the evidence is not valid; 2 usage error.
set -euo pipefail

# The whole script is one function, so bash has parsed all of it before
# anything runs (editing the file during a run cannot change the run).
main() {
	usage() { awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; }

	pull=0 short=0 host="" out=""
	for arg in "$@"; do
		case "$arg" in
		--pull) pull=1 ;;
		--short) short=1 ;;
		--host=*) host="${arg#--host=}" ;;
		--out=*) out="${arg#--out=}" ;;
		-h | --help) usage; exit 0 ;;
		*) echo "node_bench.sh: unknown argument '$arg'" >&2; usage >&2; exit 2 ;;
		esac
	done

	root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
	cd "$root"

	if [ -z "$host" ]; then
		host="$(hostname -s 2>/dev/null || hostname)"
	fi
	case "$host" in
	"" | */* | .*) echo "node_bench.sh: --host='$host' is not a usable directory name" >&2; exit 2 ;;
	esac
	[ -n "$out" ] || out="experiments/fleet-nodes/$host"

	# Never mix two runs' evidence: an existing non-empty directory is moved
	# aside, not overwritten.
	if [ -d "$out" ] && [ -n "$(ls -A "$out" 2>/dev/null)" ]; then
		aside="$out.prev-$(date -u +%Y%m%dT%H%M%SZ)"
		echo "node_bench.sh: $out is not empty; moving it to $aside" >&2
		mv "$out" "$aside"
	fi
	mkdir -p "$out/logs"

	# step NAME CMD...: run a command with its output kept in logs/NAME.*; the
	# output also goes to the terminal (stderr) so progress stays visible.
	step() {
		local name="$1"
		shift
		printf '%s\n' "$*" >"$out/logs/$name.cmd"
		echo "node_bench.sh: $name: $*" >&2
		local rc=0 t0 t1
		t0=$(date +%s.%N)
		"$@" > >(tee "$out/logs/$name.stdout" >&2) 2> >(tee "$out/logs/$name.stderr" >&2) || rc=$?
		wait
		t1=$(date +%s.%N)
		echo "$rc" >"$out/logs/$name.exit"
		awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f\n", b - a }' >"$out/logs/$name.seconds"
		return "$rc"
	}

	if [ "$pull" = 1 ]; then
		step 00-setup make setup || { echo "node_bench.sh: make setup failed (see $out/logs/00-setup.stderr)" >&2; exit 1; }
	fi
	step 01-build make build || { echo "node_bench.sh: make build failed (see $out/logs/01-build.stderr)" >&2; exit 1; }
	# The binary must be built for this CPU (its CGO flags carry the CPU
	# fingerprint): checked from its build info without running it, since
	# -march=native code of another CPU may die with SIGILL at once.
	step 02-build-cpu bash scripts/check_build_cpu.sh bin/fakbench || {
		echo "node_bench.sh: bin/fakbench was not built for this CPU (see $out/logs/02-build-cpu.stderr); rebuild it with make build" >&2
		exit 1
	}

	args=(node-bench "--out=$out" "--host=$host")
	[ "$short" = 1 ] && args+=(--short)
	[ -n "${NODE_BENCH_BACKENDS:-}" ] && args+=("--backends=$NODE_BENCH_BACKENDS")
	[ -n "${NODE_BENCH_MODEL:-}" ] && args+=("--model=$NODE_BENCH_MODEL")
	[ -n "${NODE_BENCH_THREADS:-}" ] && args+=("--threads=$NODE_BENCH_THREADS")

	export FAK_NODE_BENCH_COMMAND="scripts/node_bench.sh $*"
	rc=0
	bin/fakbench "${args[@]}" || rc=$?
	# Name only files that exist: a run interrupted (or stopped by an error)
	# before the gate leaves no gate output, and its manifest says why.
	if [ -f "$out/gate-output.txt" ]; then
		echo "node_bench.sh: artifacts in $out; gate output in $out/gate-output.txt (exit $rc)" >&2
	elif [ -f "$out/production-readiness-manifest.json" ]; then
		echo "node_bench.sh: artifacts in $out; the run was interrupted before the gate, so there is no gate verdict; $out/production-readiness-manifest.json says why it is incomplete (exit $rc)" >&2
	else
		echo "node_bench.sh: artifacts in $out; the run was interrupted before the gate, so there is no gate verdict (exit $rc)" >&2
	fi
	exit "$rc"
}

main "$@"

#!/usr/bin/env bash
# The container's entrypoint (Dockerfile): builds bin/fakbench on the node
# the container runs on, for its CPU, then runs the command it was given:
#
#   scripts/container_entrypoint.sh COMMAND [ARG...]
#
# The Go build cache is FAK_BUILD_CACHE/<fp>/go-build (default /cache, a
# volume), where <fp> is this CPU's fingerprint (scripts/cpu_fingerprint.sh):
# nodes of one CPU kind share compiled llama.cpp objects, and a kind never
# sees another's -march=native code. make build compiles with the
# Makefile's native flags; scripts/check_build_cpu.sh then proves, from the
# binary's build info, that it was built for this CPU. Build output goes to
# stderr, so the command's stdout is its own.
# Exit: the command's; 1 when the build or the check fails; 2 no command.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ $# -eq 0 ]; then
	echo "container_entrypoint.sh: no command given (the image's default is bin/fakbench help)" >&2
	exit 2
fi
fp=$(bash scripts/cpu_fingerprint.sh)
cache="${FAK_BUILD_CACHE:-/cache}"
export GOCACHE="$cache/$fp/go-build"
mkdir -p "$GOCACHE"
echo "container_entrypoint.sh: CPU fingerprint $fp; Go build cache $GOCACHE" >&2
t0=$(date +%s)
make build >&2
bash scripts/check_build_cpu.sh bin/fakbench >&2
echo "container_entrypoint.sh: bin/fakbench built for this CPU in $(($(date +%s) - t0)) s" >&2
exec "$@"

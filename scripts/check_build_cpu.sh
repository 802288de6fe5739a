#!/usr/bin/env bash
# Checks, without running it, that a Go binary's native code was built for
# this CPU:
#
#   scripts/check_build_cpu.sh BINARY
#
# The Makefile compiles llama.cpp with -march=native and puts this CPU's
# fingerprint (scripts/cpu_fingerprint.sh) into CGO_CFLAGS and CGO_CXXFLAGS
# as -DFAK_CPU_FINGERPRINT=<fp>; Go records both in the binary's build info,
# which `go version -m` reads without executing the binary (a binary built
# for another CPU may die with SIGILL as soon as it starts).
# Exit: 0 built for this CPU; 1 built for another CPU, no fingerprint
# recorded, or BINARY unreadable (each says how to fix it); 2 usage error.
set -euo pipefail

if [ $# -ne 1 ] || [ "${1#-}" != "$1" ]; then
	echo "usage: scripts/check_build_cpu.sh BINARY" >&2
	exit 2
fi
bin=$1
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
GO=${GO:-go}

if ! info=$($GO version -m "$bin" 2>&1); then
	echo "check_build_cpu: cannot read the Go build info of $bin: ${info:-not a Go binary}" >&2
	exit 1
fi
cpu=$(bash "$here/cpu_fingerprint.sh") || exit 1

# fingerprint KEY: the fingerprint in the build setting KEY ("" if none).
fingerprint() {
	printf '%s\n' "$info" | awk -v key="$1" '$1 == "build" && index($2, key "=") == 1' |
		grep -o 'FAK_CPU_FINGERPRINT=[0-9A-Za-z_]*' | tail -n1 | cut -d= -f2 || true
}
c=$(fingerprint CGO_CFLAGS)
cxx=$(fingerprint CGO_CXXFLAGS)

fix="rebuild it on this node with 'make build' (it compiles with -march=native and this CPU's fingerprint)"
if [ -z "$c" ] && [ -z "$cxx" ]; then
	echo "check_build_cpu: $bin carries no CPU fingerprint in its CGO_CFLAGS/CGO_CXXFLAGS (not built by make build), so the CPU its native code was compiled for is unknown; this CPU is $cpu; $fix" >&2
	exit 1
fi
if [ "$c" != "$cxx" ]; then
	echo "check_build_cpu: $bin was compiled for two CPUs (CGO_CFLAGS fingerprint '$c', CGO_CXXFLAGS '$cxx'); this CPU is $cpu; $fix" >&2
	exit 1
fi
if [ "$c" != "$cpu" ]; then
	echo "check_build_cpu: $bin was built for CPU fingerprint $c, but this CPU is $cpu: its -march=native code is another CPU's and may die with SIGILL here; $fix" >&2
	exit 1
fi
echo "check_build_cpu: $bin was built for this CPU (fingerprint $cpu)"

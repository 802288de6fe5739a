#!/usr/bin/env bash
# Prints a short, stable fingerprint of this CPU's instruction set:
#
#   scripts/cpu_fingerprint.sh [--features] [CPUINFO]
#
# The fingerprint is the first 12 hex digits of the sha256 of the feature
# names, one per line, sorted (C locale), that every processor of CPUINFO
# (default /proc/cpuinfo) lists. On x86 only the features named in
# internal/cpuid/isa_features.txt count: those decide what -march=native code
# may execute, while the rest of the flags line (mitigations, TSC
# properties, "hypervisor") changes with the kernel, the microcode or the
# host. Elsewhere (arm64 "Features") every listed feature counts.
# --features prints the feature names instead of the fingerprint.
#
# The Makefile adds it to CGO_CFLAGS and CGO_CXXFLAGS as
# -DFAK_CPU_FINGERPRINT=<fp>, so Go's build cache keeps separate native
# objects per CPU; internal/cpuid computes the same value in Go.
# Exit: 0 printed; 1 CPUINFO unreadable or without a flags/Features line;
# 2 usage error.
set -euo pipefail

features=0
cpuinfo=/proc/cpuinfo
for arg in "$@"; do
	case "$arg" in
	--features) features=1 ;;
	-h | --help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
	-*) echo "cpu_fingerprint.sh: unknown option '$arg'" >&2; exit 2 ;;
	*) cpuinfo="$arg" ;;
	esac
done

list="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/internal/cpuid/isa_features.txt"
if [ ! -r "$list" ]; then
	echo "cpu_fingerprint.sh: cannot read the feature list $list" >&2
	exit 1
fi
if [ ! -r "$cpuinfo" ]; then
	echo "cpu_fingerprint.sh: cannot read $cpuinfo" >&2
	exit 1
fi

# Features common to every processor: x86 "flags" lines filtered by the
# list, else arm64 "Features" lines as they are.
names=$(awk -v list="$list" '
	BEGIN {
		while ((getline line < list) > 0) {
			sub(/#.*/, "", line)
			if (split(line, f, " ") >= 1) known[f[1]] = 1
		}
	}
	/^(flags|Features)[ \t]*:/ {
		key = ($1 == "flags") ? "flags" : "Features"
		lines[key]++
		sub(/^[^:]*:/, "")
		split("", seen)
		for (i = 1; i <= NF; i++) {
			if (!($i in seen)) {
				seen[$i] = 1
				count[key, $i]++
			}
		}
	}
	END {
		key = ("flags" in lines) ? "flags" : (("Features" in lines) ? "Features" : "")
		if (key == "") exit 3
		for (k in count) {
			split(k, p, SUBSEP)
			if (p[1] == key && count[k] == lines[key] && (key != "flags" || p[2] in known)) print p[2]
		}
	}' "$cpuinfo" | LC_ALL=C sort -u) || {
	echo "cpu_fingerprint.sh: $cpuinfo has no flags or Features line" >&2
	exit 1
}

if [ "$features" = 1 ]; then
	[ -z "$names" ] || printf '%s\n' "$names"
	exit 0
fi
if [ -z "$names" ]; then
	printf '' | sha256sum | cut -c1-12
else
	printf '%s\n' "$names" | sha256sum | cut -c1-12
fi

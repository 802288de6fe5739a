#!/usr/bin/env bash
# Cross -march link check (make test-crosslink, run by make test): links the
# llama.cpp package's test binary (llama.cpp, ggml's CPU backend, ggml's AMX
# sources in llamacpp/ggmlamx and our cgo layer) for the CPUs of the fleet
# other than this one. Nothing is executed: a node without AMX catches an
# AMX link break (such as ggml-cpu.cpp's reference to
# ggml_backend_amx_buffer_type() when ggmlamx is not linked), and an AMX
# node catches a break that only shows without it.
#
#   scripts/crosslink.sh [VARIANT...]     (default: all of them)
#
# Variants:
#   sapphirerapids  -march=sapphirerapids (Intel Xeon: AVX-512 FP16, AVX-VNNI, AMX)
#   x86-64-v3       -march=x86-64-v3      (AVX2, FMA, F16C only, as AMD Zen 3)
#   znver4          -march=znver4 when both of cgo's compilers accept it; gcc
#                   12 does not (it arrived in gcc 12.3/13), so then
#                   -march=znver3 plus what Zen 4 adds: the AVX-512 set
#                   (F DQ CD BW VL IFMA VBMI VBMI2 BITALG VPOPCNTDQ VNNI
#                   BF16) and GFNI, which is gcc 13's definition of znver4
#
# Each variant compiles llama.cpp once (several minutes on 2 cores); Go's
# build cache keeps the objects per flag string, so later runs only link.
# Exit: 0 every variant linked; 1 a variant failed (its output is shown);
# 2 usage error.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

GO=${GO:-go}
PKG=./llamacpp
ALL=(sapphirerapids x86-64-v3 znver4)

# accepts FLAGS...: both compilers cgo uses take these flags.
accepts() {
	local cc cxx
	cc=$($GO env CC)
	cxx=$($GO env CXX)
	echo 'int fak_probe;' | $cc -x c "$@" -c -o /dev/null - 2>/dev/null &&
		echo 'int fak_probe;' | $cxx -x c++ "$@" -c -o /dev/null - 2>/dev/null
}

march() {
	case "$1" in
	sapphirerapids) echo "-march=sapphirerapids" ;;
	x86-64-v3) echo "-march=x86-64-v3" ;;
	znver4)
		if accepts -march=znver4; then
			echo "-march=znver4"
		else
			echo "-march=znver3 -mavx512f -mavx512dq -mavx512cd -mavx512bw -mavx512vl -mavx512ifma -mavx512vbmi -mavx512vbmi2 -mavx512bitalg -mavx512vpopcntdq -mavx512vnni -mavx512bf16 -mgfni"
		fi
		;;
	*) return 1 ;;
	esac
}

variants=("$@")
[ ${#variants[@]} -gt 0 ] || variants=("${ALL[@]}")
for v in "${variants[@]}"; do
	if ! march "$v" >/dev/null; then
		echo "crosslink.sh: unknown variant '$v' (known: ${ALL[*]})" >&2
		exit 2
	fi
done

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failed=()
for v in "${variants[@]}"; do
	flags="-O3 $(march "$v")"
	t0=$(date +%s.%N)
	rc=0
	CGO_ENABLED=1 CGO_CFLAGS="$flags" CGO_CXXFLAGS="$flags" \
		$GO test -c -o "$tmp/llamacpp-$v.test" "$PKG" >"$tmp/$v.log" 2>&1 || rc=$?
	secs=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
	if [ "$rc" = 0 ]; then
		echo "crosslink: $v: linked $PKG in ${secs}s ($flags)"
	else
		echo "crosslink: $v: FAILED to link $PKG after ${secs}s ($flags):" >&2
		# The linker's command line lists every object file: too long to read.
		awk 'length > 1000 { printf "  [a %d-character command line left out]\n", length; next } { print "  " $0 }' "$tmp/$v.log" | tail -n 40 >&2
		failed+=("$v")
	fi
	rm -f "$tmp/llamacpp-$v.test"
done
if [ ${#failed[@]} -gt 0 ]; then
	echo "crosslink: the llama.cpp package does not link for: ${failed[*]}" >&2
	exit 1
fi

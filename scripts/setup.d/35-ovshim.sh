#!/usr/bin/env bash
# fakbench's C++ library over OpenVINO (ovshim/, the top-level
# CMakeLists.txt): configured and built against the CMake package of the
# openvino wheel that 30-openvino.sh put in .venv, into build/ovshim. The
# openvino backend opens build/ovshim/libfakbench_ovshim.so at run time;
# without it the OpenVINO rows are skipped with the reason.
#
# Idempotent: a stamp records the sha256 of the sources, the CMakeLists.txt
# and the wheel's OpenVINO CMake version file; when the library exists and
# the stamp matches, the step returns at once. CMake is used from PATH
# (3.16 or newer); where there is none, it is installed into .venv with pip.
set -euo pipefail
cd "$(dirname "$0")/../.."

VENV=.venv
BUILD=build/ovshim
LIB=$BUILD/libfakbench_ovshim.so
STAMP=$BUILD/fakbench.stamp
CMAKE_PIP_VERSION=3.31.6

if [ "${FAK_SKIP_OPENVINO:-0}" = "1" ]; then
	echo "ovshim: skipped (FAK_SKIP_OPENVINO=1)"
	exit 0
fi

ovdir=$(compgen -G "$VENV/lib/python3*/site-packages/openvino/cmake" | head -n1 || true)
if [ -z "$ovdir" ] || [ ! -f "$ovdir/OpenVINOConfig.cmake" ]; then
	echo "ovshim: no OpenVINO CMake package under $VENV (run scripts/setup.d/30-openvino.sh first)" >&2
	exit 1
fi
ovdir=$(cd "$ovdir" && pwd)

stamp() {
	{ echo "$ovdir"; cat CMakeLists.txt ovshim/* "$ovdir/OpenVINOConfig-version.cmake"; } | sha256sum | cut -d' ' -f1
}
want=$(stamp)
if [ -f "$LIB" ] && [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$want" ]; then
	exit 0
fi

# A CMake of 3.16 or newer: the one on PATH, else one in .venv.
cmake_ok() {
	local v
	v=$("$1" --version 2>/dev/null | sed -n 's/^cmake version \([0-9]*\)\.\([0-9]*\).*/\1 \2/p') || return 1
	[ -n "$v" ] || return 1
	set -- $v
	[ "$1" -gt 3 ] || { [ "$1" -eq 3 ] && [ "$2" -ge 16 ]; }
}
CMAKE=cmake
if ! command -v cmake >/dev/null || ! cmake_ok cmake; then
	CMAKE=$VENV/bin/cmake
	if ! cmake_ok "$CMAKE"; then
		echo "ovshim: no CMake 3.16+ on PATH; installing cmake==$CMAKE_PIP_VERSION into $VENV with pip"
		"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "cmake==$CMAKE_PIP_VERSION"
	fi
fi

echo "ovshim: building $LIB against $ovdir"
mkdir -p "$BUILD"
rm -f "$STAMP"
"$CMAKE" -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DOpenVINO_DIR="$ovdir" >"$BUILD/configure.log" 2>&1 || {
	cat "$BUILD/configure.log" >&2
	echo "ovshim: CMake configure failed (log above)" >&2
	exit 1
}
"$CMAKE" --build "$BUILD" >"$BUILD/build.log" 2>&1 || {
	cat "$BUILD/build.log" >&2
	echo "ovshim: build failed (log above)" >&2
	exit 1
}
if [ ! -f "$LIB" ]; then
	echo "ovshim: the build finished without $LIB" >&2
	exit 1
fi
echo "$want" >"$STAMP"
echo "ovshim: $LIB ready"

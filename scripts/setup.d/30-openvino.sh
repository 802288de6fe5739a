#!/usr/bin/env bash
# The OpenVINO runtime for the openvino backend: the PyPI wheel `openvino`,
# pinned, installed into the project virtualenv .venv. The Go binary loads
# site-packages/openvino/libs/libopenvino_c.so.<version> at run time, so this
# step only has to put the wheel in place. Idempotent: a venv that already
# holds the pinned version is left alone in well under a second.
set -euo pipefail
cd "$(dirname "$0")/../.."

OV_VERSION="${FAK_OPENVINO_VERSION:-2026.4.1}"
VENV=.venv

if [ "${FAK_SKIP_OPENVINO:-0}" = "1" ]; then
	echo "openvino: skipped (FAK_SKIP_OPENVINO=1)"
	exit 0
fi

installed_version() {
	# The wheel's dist-info directory names the installed version; reading it
	# is much faster than starting Python and importing the package.
	local d
	for d in "$VENV"/lib/python3*/site-packages/openvino-*.dist-info; do
		[ -d "$d" ] || continue
		d=${d##*/openvino-}
		echo "${d%.dist-info}"
		return 0
	done
	return 0
}

if [ "$(installed_version)" = "$OV_VERSION" ] &&
	compgen -G "$VENV/lib/python3*/site-packages/openvino/libs/libopenvino_c.so.*" >/dev/null; then
	exit 0
fi

if [ ! -x "$VENV/bin/python" ]; then
	if ! python3 -m venv "$VENV" 2>/dev/null; then
		# Debian keeps ensurepip in a separate package.
		if command -v apt-get >/dev/null; then
			pyver=$(python3 -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')
			apt-get update -qq && apt-get install -y -qq "python${pyver}-venv" || apt-get install -y -qq python3-venv
		fi
		rm -rf "$VENV"
		python3 -m venv "$VENV"
	fi
fi

echo "openvino: installing openvino==$OV_VERSION into $VENV"
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "openvino==$OV_VERSION"

lib=$(compgen -G "$VENV/lib/python3*/site-packages/openvino/libs/libopenvino_c.so.*" | head -n1 || true)
if [ -z "$lib" ]; then
	echo "openvino: the wheel installed but no libopenvino_c.so.* was found under $VENV" >&2
	exit 1
fi
echo "openvino: runtime C API at $lib"

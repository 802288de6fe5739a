#!/usr/bin/env bash
# One-time, idempotent setup of everything fakbench needs on a fresh Debian
# machine: Go modules, the llama.cpp headers, the OpenVINO runtime in a
# project virtualenv, the real model, and (where possible) Chromium.
# Each step lives in scripts/setup.d/NN-name.sh and is skipped quickly when
# its work is already done.
set -euo pipefail
cd "$(dirname "$0")/.."
for step in scripts/setup.d/*.sh; do
	[ -e "$step" ] || continue
	bash "$step"
done

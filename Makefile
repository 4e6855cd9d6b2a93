# Parley — the two commands are `make dev` and `make test`; both set up what they need.
SHELL := /bin/bash
.DEFAULT_GOAL := help
VENV := .venv
PY := $(VENV)/bin/python
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export TZ := UTC

.PHONY: help setup lock uv-path dev test test-unit test-integration test-e2e test-infra lint synth bench frontend chromium lambda-deps clean simulate clock bench-billing

help:
	@echo "make dev    run the whole platform locally (demo site, agent console, APIs) on 127.0.0.1"
	@echo "make test   run every test (unit, integration, e2e in Chromium, infra)"
	@echo "make dev PORT=… START=YYYY-MM-DD POLICY=call_on_me|chat_outsource   (all optional)"
	@echo "make lint | lock | synth | bench | frontend | simulate FILE=… | clock DAYS=… | clean"

# Python dependencies come from uv.lock (exact versions and hashes; pyproject.toml holds the
# ranges). uv itself is pinned here and bootstrapped from PyPI into its own venv under .tools/.
UV_VERSION := 0.13.9
UV := .tools/uv-$(UV_VERSION)/bin/uv
export UV_PYTHON_DOWNLOADS := never

$(UV):
	rm -rf .tools/uv-$(UV_VERSION)
	python3 -m venv .tools/uv-$(UV_VERSION)
	.tools/uv-$(UV_VERSION)/bin/pip install -q uv==$(UV_VERSION)

uv-path: $(UV)
	@echo $(UV)

# --locked: install exactly the lock, and fail if it no longer matches pyproject (run `make lock`).
$(VENV)/.installed: uv.lock pyproject.toml | $(UV)
	test -x $(PY) || python3 -m venv $(VENV)
	$(UV) sync --locked --extra dev
	touch $@

setup: $(VENV)/.installed

# Re-resolve uv.lock after a change to pyproject.toml; `make lock UPGRADE=1` moves every pin
# to the newest release the ranges allow.
lock: $(UV)
	$(UV) lock $(if $(UPGRADE),--upgrade)

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund || npm install --no-audit --no-fund
	touch $@

frontend: node_modules/.installed
	npm run --silent build
	node scripts/build_dashboard.mjs

# Debian's chromium for the browser tests (never `playwright install`: no downloads here).
chromium:
	@command -v chromium >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null)

# Third-party runtime dependencies of the Lambda functions, for linux/arm64, as a layer
# folder the CDK app packages (synth itself stays offline).
lambda-deps: setup
	UV=$(UV) bash infra/build_lambda_deps.sh

# make dev [PORT=8765] [START=2027-01-05] [POLICY=call_on_me|chat_outsource]: START begins the
# business clock at 09:00 that day (policy zone), POLICY picks the preset and its plan catalog.
dev: setup frontend
	$(PY) -m infra.local $(if $(PORT),--port $(PORT)) $(if $(START),--start $(START)) $(if $(POLICY),--policy $(POLICY))

test: setup frontend chromium lambda-deps
	$(PY) -m pytest -q

test-unit: setup
	$(PY) -m pytest -q tests/unit

test-integration: setup
	$(PY) -m pytest -q tests/integration

test-e2e: setup frontend chromium
	$(PY) -m pytest -q tests/e2e

test-infra: setup lambda-deps
	$(PY) -m pytest -q tests/infra

# Python: ruff (style, bugs, complexity limits) and mypy (strict); front ends: ESLint.
lint: setup node_modules/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy
	npm run --silent lint

synth: setup lambda-deps frontend
	$(PY) -m infra.app
	$(VENV)/bin/cfn-lint --ignore-checks W3005 -- cdk.out/*.template.json

# Preview a contract timeline: make simulate FILE=examples/co11_late_charge.json
simulate: setup
	$(VENV)/bin/parley billing simulate $(FILE)

# Move the clock of a running `make dev` (whatever its PORT: the CLI reads the address and token
# the stack wrote to .parley/local-control.json): make clock DAYS=30
clock: setup
	$(VENV)/bin/parley clock advance --days $(or $(DAYS),1)

bench: setup frontend
	$(PY) -m bench

bench-billing: setup
	$(PY) -m bench billing

clean:
	rm -rf cdk.out build widget/dist console/dist dashboard/dist .pytest_cache .mypy_cache .ruff_cache

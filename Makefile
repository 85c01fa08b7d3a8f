# Two commands for a newcomer: `make demo` and `make test`. Both set themselves up and are idempotent.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
# uv from PATH, else the copy pip installs for this interpreter (run as `python -m uv`).
UV ?= $(or $(shell command -v uv 2>/dev/null),$(PYTHON) -m uv)
# A local directory of wheels (e.g. a CPU build of torch) is passed to uv, which ignores pip's config.
WHEELS_DIR ?= $(shell pip config get global.find-links 2>/dev/null || true)
export UV_PYTHON := $(PYTHON)
export UV_PYTHON_DOWNLOADS := never
ifneq ($(strip $(WHEELS_DIR)),)
export UV_FIND_LINKS := $(WHEELS_DIR)
endif
VENV := .venv
STAMP := $(VENV)/.synced

.PHONY: setup demo demo-stop test lint unit clean browser screenshots

$(STAMP): pyproject.toml uv.lock
	@$(UV) --version >/dev/null 2>&1 || $(PYTHON) -m pip install --quiet uv
	$(UV) sync --frozen --all-groups --compile-bytecode
	touch $(STAMP)

# The dashboard's browser code: npm packages from package-lock.json, bundled by esbuild into
# src/aichor/web/static/build (git-ignored), again only when the lockfile or a source changed.
WEB_BUILD := src/aichor/web/static/build
WEB_STAMP := $(WEB_BUILD)/.stamp
WEB_SOURCES := $(wildcard src/aichor/web/frontend/*)

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

$(WEB_STAMP): node_modules/.installed $(WEB_SOURCES)
	node src/aichor/web/frontend/build.mjs
	touch $@

# This machine sets PYTHONDONTWRITEBYTECODE: compile our own modules once so start-up stays fast.
setup: $(STAMP) $(WEB_STAMP)
	@$(VENV)/bin/python -m compileall -q src >/dev/null

# The browser tests drive Debian's Chromium (never a downloaded browser build).
browser:
	@test -x /usr/bin/chromium || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium)

# PNGs of the main pages, with realistic data, into docs/screenshots/.
screenshots: setup browser
	$(VENV)/bin/python -m tests.web.screenshots docs/screenshots

# The embedded control plane runs a bundled example end to end and prints its URL.
# Its state lives in .cache/demo (the server keeps running; `make demo-stop` ends it).
DEMO_HOME := $(CURDIR)/.cache/demo
demo: setup
	AICHOR_HOME=$(DEMO_HOME) $(VENV)/bin/aichor demo examples/jobset

demo-stop: setup
	AICHOR_HOME=$(DEMO_HOME) $(VENV)/bin/aichor demo --stop

lint: setup
	$(VENV)/bin/ruff check src tests bench
	$(VENV)/bin/ruff format --check src tests bench
	$(VENV)/bin/lint-imports
	$(VENV)/bin/mypy

unit: setup browser
	$(VENV)/bin/pytest $(PYTEST_ARGS)

test: lint unit

clean:
	rm -rf $(VENV) .cache node_modules $(WEB_BUILD)

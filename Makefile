# wallet — developer commands (DESIGN.md §4). Each target works from a fresh clone.
#
#   make run     install, migrate the SQLite database in instance/, load the referential,
#                serve http://127.0.0.1:5000 (development settings)
#   make demo    the same, plus demo data (`wallet demo`)
#   make test    install the test dependencies (and Debian's chromium and redis-server when
#                missing, as root),
#                run the whole suite but the PostgreSQL-only tests (.ci/run runs those)
#                extra pytest arguments: make test PYTEST_ARGS="-k share -x"
#   make bench   print the benchmark table
#   make bench-region  a simulated region on a throwaway PostgreSQL (SCALE=0.05; 1 for the full
#                region): generate, load with locust, claims to a flaky issuer (bench/region)
#   make lint    ruff
#   make clean   remove the venv, instance/ and caches

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP_RUN := $(VENV)/.installed-run
STAMP_TEST := $(VENV)/.installed-test
CHROMIUM := /usr/bin/chromium
AXE := tests/browser/node_modules/axe-core/axe.min.js
PYTEST_ARGS ?=
PIP := $(BIN)/python -m pip --disable-pip-version-check -q

.PHONY: help run demo serve prepare test bench bench-region lint clean translations chromium redis

help:
	@sed -n '2,15p' Makefile | sed 's/^# \{0,1\}//'

$(BIN)/python:
	@command -v $(PYTHON) >/dev/null || { echo "make: $(PYTHON) not found (Python >= 3.11 needed)" >&2; exit 1; }
	$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11) and "make: Python >= 3.11 needed, found " + sys.version)'
	$(PYTHON) -m venv $(VENV)

# The stamps are redone when pyproject.toml changes (or the venv is new).
$(STAMP_RUN): pyproject.toml | $(BIN)/python
	$(PIP) install -e .
	@touch $@

$(STAMP_TEST): pyproject.toml | $(BIN)/python
	$(PIP) install -e '.[test]'
	@touch $@ $(STAMP_RUN)

# Compiled catalogs (*.mo) are not committed; nothing to do while there is no .po yet.
translations: | $(STAMP_RUN)
	@if compgen -G 'wallet/translations/*/LC_MESSAGES/*.po' >/dev/null; then \
	  $(BIN)/pybabel -q compile -d wallet/translations; \
	fi

prepare: $(STAMP_RUN) translations
	$(BIN)/wallet db upgrade
	$(BIN)/wallet referential load

serve:
	$(BIN)/wallet run --host 127.0.0.1 --port 5000

run: prepare
	@$(MAKE) --no-print-directory serve

demo: prepare
	$(BIN)/wallet demo
	@$(MAKE) --no-print-directory serve

# Debian's chromium for the browser tests (never `playwright install`: no browser downloads here).
chromium:
	@if [ ! -x $(CHROMIUM) ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "make: installing Debian's chromium for the browser tests"; \
	    export DEBIAN_FRONTEND=noninteractive; \
	    apt-get update -q && apt-get install -y -q chromium; \
	  else \
	    echo "make: $(CHROMIUM) is missing: run 'sudo apt-get install chromium' (browser tests need it)" >&2; \
	    exit 1; \
	  fi; \
	fi

# Debian's redis-server for the rate-limit tests across processes (the tests start it themselves).
# Not root: those tests are skipped with the reason, unless WALLET_REQUIRE_REDIS is set (.ci/run).
redis:
	@if ! command -v redis-server >/dev/null; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "make: installing Debian's redis-server for the rate-limit tests"; \
	    export DEBIAN_FRONTEND=noninteractive; \
	    apt-get update -q && apt-get install -y -q redis-server; \
	  else \
	    echo "make: redis-server is missing: run 'sudo apt-get install redis-server' (rate-limit tests need it)" >&2; \
	  fi; \
	fi

# axe-core for the accessibility checks, from the committed lockfile.
$(AXE): tests/browser/package.json tests/browser/package-lock.json
	@if ! command -v npm >/dev/null; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    export DEBIAN_FRONTEND=noninteractive; apt-get update -q && apt-get install -y -q npm; \
	  else echo "make: npm is missing: run 'sudo apt-get install npm'" >&2; exit 1; fi; \
	fi
	cd tests/browser && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

# pytest exits 5 when it collected no test: that is a failure here.
test: $(STAMP_TEST) translations chromium redis $(AXE)
	@rc=0; $(BIN)/pytest -m "not postgres" $(PYTEST_ARGS) || rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "make test: FAILED: pytest collected no test" >&2; exit 1; fi; \
	exit $$rc

bench: $(STAMP_TEST) translations
	$(BIN)/python -m bench

# Bench-only dependencies (locust) into the same venv; PostgreSQL from Debian via pg_cluster.sh.
SCALE ?= 0.05
SECONDS_PER_PHASE ?= 60
bench-region: $(STAMP_TEST) translations redis
	$(PIP) install -e '.[bench]'
	PYTHONPATH=. $(BIN)/python -m bench.region all --scale $(SCALE) --seconds $(SECONDS_PER_PHASE)

lint: $(STAMP_TEST)
	$(BIN)/ruff check wallet tests bench

clean:
	rm -rf $(VENV) instance .pytest_cache .ruff_cache .hypothesis test-results build dist \
	  tests/browser/node_modules bench/.work *.egg-info
	find . -name __pycache__ -type d -prune -not -path './.git/*' -exec rm -rf {} +
	find wallet/translations -name '*.mo' -delete 2>/dev/null || true

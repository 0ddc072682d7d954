# Bookend: `make run` starts the whole app locally, `make test` runs every test.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

# Find Python 3.12+: $(PYTHON) if given, then python3.13/3.12 on PATH, then pyenv's
# versions folder, then plain python3 if it is new enough.
PYTHON ?= $(shell \
	for c in python3.13 python3.12 \
	    $$(ls -d $${PYENV_ROOT:-$$HOME/.pyenv}/versions/3.1[3-9]*/bin/python3 \
	             $${PYENV_ROOT:-$$HOME/.pyenv}/versions/3.12*/bin/python3 2>/dev/null | sort -rV) \
	    python3; do \
	  p=$$(command -v $$c 2>/dev/null) || continue; \
	  $$p -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null && { echo $$p; break; }; \
	done)

TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/bookend
TEST_BROKER_URL ?= redis://127.0.0.1:6379/0

.PHONY: help install run test lint format bench bench-http soak clean

help:
	@echo "make run    install, migrate, seed the demo team, start web + worker + beat"
	@echo "make test   install and run the whole test suite (PostgreSQL and Redis needed)"
	@echo "make lint   ruff check, format check, and the import contracts (import-linter)"
	@echo "make bench  reminder sweep and delivery benchmark on PostgreSQL"
	@echo "make bench-http  pages vs /healthz under gunicorn (2 workers) and wrk; last line the ratios"
	@echo "make soak   10 minutes of load with killed workers and SMTP outages (SOAK_SECONDS=600)"

$(STAMP): pyproject.toml
	@if [ -z "$(PYTHON)" ]; then \
	  echo "error: Bookend needs Python 3.12 or newer, and none was found." >&2; \
	  echo "       Install one (e.g. 'pyenv install 3.13') or run 'make PYTHON=/path/to/python3.13'." >&2; \
	  exit 1; fi
	@echo "Using $(PYTHON) ($$($(PYTHON) --version))"
	@[ -x $(BIN)/python ] && $(BIN)/python -c 'import sys; sys.exit(sys.version_info < (3, 12))' \
	  || { rm -rf $(VENV); $(PYTHON) -m venv $(VENV); }
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

# axe-core (npm) checks accessibility inside the browser tests; only `make test` needs it.
AXE := node_modules/axe-core/axe.min.js
$(AXE): package.json package-lock.json
	@command -v npm >/dev/null || { echo "error: npm is missing (apt-get install npm); the browser tests load axe-core from it." >&2; exit 1; }
	npm ci --no-audit --no-fund --loglevel=error
	@touch $(AXE)

install: $(STAMP)

# honcho gives each process its own PORT, so the web port travels as WEB_PORT and
# every process (the worker writes the emailed links) gets the same SITE_URL.
PORT ?= 8000
run: export DEBUG ?= 1
run: export WEB_PORT := $(PORT)
run: export SITE_URL ?= http://127.0.0.1:$(PORT)
run: $(STAMP)
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py seed_demo
	@echo
	@echo "  Bookend is starting at $(SITE_URL)/"
	@echo "  Log in as demo@example.com with password: demo   (admin: /admin/)"
	@echo "  Emails are summarized below and kept whole in var/mail/*.eml. Ctrl-C stops everything."
	@echo
	PATH="$(abspath $(BIN)):$$PATH" $(BIN)/honcho start -f Procfile

test: $(STAMP) $(AXE)
	@command -v chromium >/dev/null || { echo "error: /usr/bin/chromium is missing (apt-get install chromium); browser tests need it." >&2; exit 1; }
	DATABASE_URL=$${DATABASE_URL:-$(TEST_DATABASE_URL)} \
	CELERY_BROKER_URL=$${CELERY_BROKER_URL:-$(TEST_BROKER_URL)} \
	SECRET_KEY=$${SECRET_KEY:-test-only-secret-key-0123456789abcdefghijklmnopqrstuvwxyz} \
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: $(STAMP)
	DATABASE_URL=$${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/bookend_bench} \
	CELERY_BROKER_URL=$${CELERY_BROKER_URL:-$(TEST_BROKER_URL)} \
	SECRET_KEY=$${SECRET_KEY:-bench-only-secret-key-0123456789abcdefghijklmnopqrstuvwxyz} \
	$(BIN)/python -m benchmarks.reminders

# wrk comes from Debian (as .ci/run installs chromium); installed here when missing.
bench-http: $(STAMP)
	@command -v wrk >/dev/null || { apt-get install -y wrk >/dev/null 2>&1 || \
	  { apt-get update >/dev/null 2>&1 && apt-get install -y wrk >/dev/null 2>&1; }; } || \
	  { echo "error: wrk is missing and 'apt-get install wrk' failed (run it as root, or install wrk)." >&2; exit 1; }
	DATABASE_URL=$${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/bookend_bench_http} \
	SECRET_KEY=$${SECRET_KEY:-bench-only-secret-key-0123456789abcdefghijklmnopqrstuvwxyz} \
	$(BIN)/python -m benchmarks.http

SOAK_SECONDS ?= 600
soak: $(STAMP)
	DATABASE_URL=$${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/bookend} \
	CELERY_BROKER_URL=$${CELERY_BROKER_URL:-$(TEST_BROKER_URL)} \
	SECRET_KEY=$${SECRET_KEY:-soak-only-secret-key-0123456789abcdefghijklmnopqrstuvwxyz} \
	$(BIN)/python -m benchmarks.soak --seconds $(SOAK_SECONDS)

clean:
	rm -rf $(VENV) var artifacts node_modules

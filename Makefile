# Two commands matter: `make run` (set up and serve the demo site) and `make test`.
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python

# Django 6 needs Python >= 3.12: python3.13/3.12 on the PATH (pyenv shims that cannot run are
# skipped), then python3, then any 3.13/3.12 that pyenv has installed.
FIND_PYTHON := for c in python3.13 python3.12 python3; do \
    p=$$($$c -c 'import sys; assert sys.version_info >= (3, 12); print(sys.executable)' 2>/dev/null) && { echo $$p; exit 0; }; \
  done; \
  root=$$(pyenv root 2>/dev/null || echo $$HOME/.pyenv); \
  for v in 3.13 3.12; do for p in $$root/versions/$$v*/bin/python3; do [ -x "$$p" ] && { echo $$p; exit 0; }; done; done; \
  exit 0

.PHONY: run test lint worker bench venv migrate demo clean ci

$(VENV)/.installed: pyproject.toml
	@py="$$($(FIND_PYTHON))"; \
	if [ -z "$$py" ]; then \
	  echo "error: Python 3.12 or newer is required (Django 6 needs it). Install python3.13 (or 3.12), e.g. 'pyenv install 3.13', and run make again." >&2; exit 1; \
	fi; \
	echo "Using $$py"; \
	[ -x $(PY) ] || "$$py" -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip 2>&1 | grep -v "is ignored" || true
	$(PY) -m pip install --quiet ".[dev]" 2>&1 | grep -v "is ignored" || true
	# crowd-kit: test/bench oracle for the quality engine; --no-deps skips transformers/pyarrow (light deps are in [dev])
	$(PY) -m pip install --quiet --no-deps "crowd-kit==1.4.2" 2>&1 | grep -v "is ignored" || true
	$(PY) -c "import django, rest_framework, allauth, celery, stripe, pytest" # fail here if the install did
	@touch $@

venv: $(VENV)/.installed

migrate: venv
	$(PY) manage.py migrate --noinput

demo: migrate
	$(PY) manage.py seed_demo

# Without STRIPE_SECRET_KEY the local Stripe emulator (docs/stripe-emulator.md) runs beside the site on
# 127.0.0.1:$(STRIPE_EMULATOR_PORT), delivering signed webhooks to it, and stops when runserver exits.
STRIPE_EMULATOR_PORT ?= 12111
run: demo
	@if [ -z "$${STRIPE_SECRET_KEY:-}" ]; then \
	  echo "No STRIPE_SECRET_KEY: starting the local Stripe emulator (local test mode)"; \
	  $(PY) manage.py stripe_emulator --port $(STRIPE_EMULATOR_PORT) & emulator=$$!; \
	  trap 'kill $$emulator 2>/dev/null; wait $$emulator 2>/dev/null' EXIT; \
	  STRIPE_API_BASE=http://127.0.0.1:$(STRIPE_EMULATOR_PORT) $(PY) manage.py runserver 127.0.0.1:8000; \
	else \
	  $(PY) manage.py runserver 127.0.0.1:8000; \
	fi

test: venv
	$(PY) -m pytest $(PYTEST_ARGS)

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

worker: venv
	$(BIN)/celery -A marketplace worker --beat --loglevel=INFO

# Ingest benchmark: 1,000,000 JSONL judgments through batch_submit vs PostgreSQL COPY of the same rows
# (throwaway database bench_ingest on postgres@127.0.0.1:5432; skipped when there is no server).
bench: venv
	@echo "PostgreSQL server: $${BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres} (set BENCH_DATABASE_URL=postgres://user@host:port/postgres to point elsewhere; BENCH_ARGS='--rows 200000' for a quick run)"
	$(PY) bench/ingest.py $(BENCH_ARGS)
	$(PY) bench/api.py $(BENCH_API_ARGS)
	$(PY) bench/quality_core.py $(QUALITY_BENCH_ARGS) # quality numeric core vs crowd-kit (QUALITY_BENCH_ARGS=--quick)
	$(PY) bench/quality.py $(QUALITY_DB_BENCH_ARGS) # full quality recompute through PostgreSQL + a 10k batch (bench_quality)
	$(PY) bench/payouts.py $(PAYOUT_BENCH_ARGS) # 100,000 batches / 5,000 suppliers into a draft payout run (bench_payouts)

ci:
	bash .ci/run

clean:
	rm -rf $(VENV) var/db.sqlite3 var/static

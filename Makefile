# Two commands on a fresh machine: `make dev` runs everything, `make test` runs the whole suite.
VENV ?= .venv
PY := $(VENV)/bin/python
PYTHON ?= python3

.PHONY: install tools dev api worker migrate test lint bench clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -e '.[dev]'
	touch $@

install: $(VENV)/.installed

migrate: install
	$(VENV)/bin/alembic upgrade heads

# Temporal dev server (unless TEMPORAL_ADDRESS is set), worker and API; Ctrl-C stops all of it.
dev: migrate
	ENVIRONMENT=development $(PY) -m db.seed_catalogue
	$(PY) -m infra.dev

# One of them alone, with the same development settings as `make dev`.
api: migrate
	$(PY) -m infra.dev api

worker: migrate
	$(PY) -m infra.dev worker

# Bytecode kept between runs and shared by the suite's processes, even where the environment says
# PYTHONDONTWRITEBYTECODE (this machine's does): otherwise every process compiles every module
# and pytest rewrites every test module and plugin again (a tenth of the suite's CPU, measured).
test: install tools
	PYTHONDONTWRITEBYTECODE= $(VENV)/bin/pytest

# docker-compose validates docker-compose.yml in the suite (no Docker engine needed); PostgreSQL's
# binaries run a throwaway server for the tests that cover both databases (tests/postgres.py).
# Both installed from Debian's packages where we are allowed to (root), each on its own, with apt's
# output shown only when it fails.
HAVE_COMPOSE = command -v docker-compose >/dev/null 2>&1
HAVE_POSTGRES = { ls /usr/lib/postgresql/*/bin/initdb || command -v initdb; } >/dev/null 2>&1
tools:
	@missing=""; \
	$(HAVE_COMPOSE) || missing="docker-compose"; \
	$(HAVE_POSTGRES) || missing="$$missing postgresql"; \
	if [ -n "$$missing" ] && [ "$$(id -u)" = 0 ]; then \
	  out=$$(apt-get update -qq 2>&1) || echo "$$out" >&2; \
	  for package in $$missing; do \
	    out=$$(DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$package 2>&1) || echo "$$out" >&2; \
	  done; \
	fi; \
	$(HAVE_COMPOSE) || echo "note: docker-compose not installed; its test will be skipped"; \
	$(HAVE_POSTGRES) || echo "note: PostgreSQL not installed (Debian: postgresql); its tests will fail"

lint: install
	$(VENV)/bin/lint-imports
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy .

# The project against hand-written Temporal (bench/raw/), side by side in one run (issue 11).
# BENCH_ARGS, e.g. "--n 200 --rate 3 --with-encryption-too" (see python -m bench.compare -h).
BENCH_ARGS ?=
bench: install
	$(PY) -m bench.compare $(BENCH_ARGS)

clean:
	rm -rf .data

# The README's two commands are `make run` and `make test`; both install what is missing.
SHELL := /bin/bash
.DEFAULT_GOAL := help

# uv if it is on PATH, else the copy `make install` puts into this Python.
UV := $(shell command -v uv 2>/dev/null || echo "python3 -m uv")
PYTEST_ARGS ?=

.PHONY: help install run test lint format bench clean

help:
	@echo "make run    start the embedded stack (Tansu, five services, demo data) until Ctrl-C"
	@echo "make test   run the whole test suite (SQLite, PostgreSQL if reachable, Tansu)"
	@echo "make lint   ruff check, ruff format --check, mypy --strict, import contracts"
	@echo "make bench  every service's benchmark, the quick ones at a smaller scale (bench/results/)"
	@echo "make clean  remove data/ (dev databases, dev signing key, logs)"

install:
	@$(UV) --version >/dev/null 2>&1 || python3 -m pip install --quiet uv \
		|| python3 -m pip install --quiet --user --break-system-packages uv
	@$(UV) sync --all-packages --locked --quiet

run: install
	$(UV) run --no-sync carethread dev

test: install
	$(UV) run --no-sync pytest $(PYTEST_ARGS)

lint: install
	$(UV) run --no-sync ruff check .
	$(UV) run --no-sync ruff format --check .
	$(UV) run --no-sync mypy
	$(UV) run --no-sync lint-imports

format: install
	$(UV) run --no-sync ruff format .
	$(UV) run --no-sync ruff check --fix .

# The event bus and referrals at full scale; the others at a scale that finishes in minutes,
# recorded as <date>-<service>-quick (the issues' full-scale commands: bench/README.md).
QUICK = $(shell date -u +%F)
bench: install
	$(UV) run --no-sync python -m bench
	$(UV) run --no-sync python -m bench.referrals
	$(UV) run --no-sync python -m bench.care_plans --persons 2000 --requests 300 --updates 100 \
		--name $(QUICK)-care-plans-quick
	$(UV) run --no-sync python -m bench.directory --postgres-services 10000 \
		--sqlite-services 5000 --name $(QUICK)-directory-quick
	$(UV) run --no-sync python -m bench.outcomes --measures 20000 --events 40000 --people 2500 \
		--name $(QUICK)-outcomes-quick
	$(UV) run --no-sync python -m bench.mdt --people 300 --lag-rate 0

clean:
	rm -rf data/

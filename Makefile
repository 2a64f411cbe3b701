# fleetwatch — the two commands of the quick start are `make run` and `make test`.
PY      ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed

.PHONY: run test check lint typecheck unit fuzz bench system-deps venv clean

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev]'
	touch $(STAMP)

venv: $(STAMP)

## run: install Prometheus and Alertmanager if missing (apt as root; idempotent), then build,
## validate and start the local stack (exporter, Alertmanager, Prometheus, the alert inbox)
## watching this machine with no setup (embedded default inventory), until Ctrl-C
run: $(STAMP)
	bash scripts/install-system-deps.sh --run
	$(BIN)/fleetwatch up

## system-deps: the real servers the tests start (apt as root; idempotent)
system-deps:
	bash scripts/install-system-deps.sh

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks scripts
	$(BIN)/ruff format --check src tests benchmarks scripts

typecheck: $(STAMP)
	$(BIN)/mypy

## test: install what the tests need, then lint, type-check and run every test
test: system-deps $(STAMP) lint typecheck
	$(BIN)/pytest

## unit: the fast tests only (no real servers)
unit: $(STAMP)
	$(BIN)/pytest -m 'not e2e'

## fuzz: every loader of user input under many more generated inputs (bounded: ~1 min)
fuzz: $(STAMP)
	HYPOTHESIS_PROFILE=fuzz $(BIN)/pytest -q tests/fuzz --timeout=600

## bench: speed and memory figures (printed, never asserted)
bench: system-deps $(STAMP)
	$(BIN)/python -m benchmarks.run

clean:
	rm -rf build .pytest_cache .mypy_cache .ruff_cache .hypothesis

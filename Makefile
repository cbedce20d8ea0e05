# The two commands the README opens with. Each creates .venv and installs into it when needed.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
BENCH_STAMP := $(VENV)/.installed-bench

.PHONY: serve test lint typecheck unasync bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

serve: $(STAMP)
	$(BIN)/lmstudio-fake --host 127.0.0.1 --port 1234

# The last line fails when the sync provider differs from what scripts/unasync.py makes of the
# async one (edited by hand, or not regenerated): `make unasync` rewrites it.
lint: $(STAMP)
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/python scripts/unasync.py --check

unasync: $(STAMP)
	$(BIN)/python scripts/unasync.py

typecheck: $(STAMP)
	$(BIN)/mypy

test: lint typecheck
	$(BIN)/python -m pytest -n 2 -q

# The benchmarks also need the bench extra (matplotlib, for the charts).
$(BENCH_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[test,bench]'
	touch $(BENCH_STAMP)

# Every benchmark in tests/benchmarks, then docs/benchmarks.md (about 5 minutes on 2 cores).
bench: $(BENCH_STAMP)
	$(BIN)/python tests/benchmarks/run_all.py

clean:
	rm -rf $(VENV) build dist .mypy_cache .ruff_cache .pytest_cache

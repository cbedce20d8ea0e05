# The two commands the README opens with. Each creates .venv and installs into it when needed.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
BENCH_STAMP := $(VENV)/.installed-bench
DOCS_STAMP := $(VENV)/.installed-docs
APT_GET := DEBIAN_FRONTEND=noninteractive timeout 300 apt-get -qq -y

.PHONY: serve test lint typecheck unasync bench wrk valgrind fuzz load docs stress-journal clean

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

# The documentation site (mkdocs.yml) into site/, strict: a broken link or an anchor that is not
# there fails the build. NO_MKDOCS_2_WARNING silences mkdocs-material's banner about MkDocs 2.
$(DOCS_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[test,docs]'
	touch $(DOCS_STAMP)

docs: $(DOCS_STAMP)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --site-dir site

# A Debian package a benchmark needs, installed when it is missing and we are root: $(1) the
# command and package, $(2) the benchmark, $(3) what happens without it.
define apt_tool
	@command -v $(1) >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && \
	  echo "installing $(1) (Debian's package) for $(2)" && \
	  { $(APT_GET) install $(1) || { $(APT_GET) update && $(APT_GET) install $(1); }; } >/dev/null; } || \
	  echo "$(1) not installed: $(3)"
endef

# bench_throughput.py's load generator; without it, its Python load generator stands in.
wrk:
	$(call apt_tool,wrk,bench_throughput.py,bench_throughput.py uses its Python load generator)

# bench_instructions.py's counter; without it that one benchmark gives no figure.
valgrind:
	$(call apt_tool,valgrind,bench_instructions.py,bench_instructions.py will give no figure)

# Every benchmark in tests/benchmarks, then docs/benchmarks.md (about 17 minutes on 2 cores).
# The run's JSON stays in .bench/last: `run_all.py --from .bench/last` writes the page again.
bench: $(BENCH_STAMP) wrk valgrind
	rm -rf .bench/last
	$(BIN)/python tests/benchmarks/run_all.py --keep .bench/last

# The fuzz and attack suite of tests/fuzz (see its README) against a fake subprocess: 100,000
# requests or 470 s of fuzzing, whichever comes first; 570 s in all at most.
fuzz: $(STAMP)
	timeout 600 $(BIN)/python -m tests.fuzz.fuzz

# 10,000 chat requests at concurrency 100, half streamed; p50/p99 latency (under a minute).
load: $(STAMP)
	timeout 300 $(BIN)/python -m tests.fuzz.load

# Issue 14's flaky pattern, fixed: 50 copies of "the provider times out, then the test counts
# the requests" (fake.wait_for_requests) under pytest -n 4; every copy must pass.
stress-journal: $(STAMP)
	PATTERN_COPIES=50 timeout 300 $(BIN)/python -m pytest -n 4 -q -p no:randomly \
	  tests/fake_server/test_wait_for_requests.py -k timeout_then_count

clean:
	rm -rf $(VENV) build dist site .mypy_cache .ruff_cache .pytest_cache

# Two commands for a fresh machine: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
ARGS ?=
PYTEST_ARGS ?=
PG_URL ?= postgresql://postgres@127.0.0.1:5432/test

.PHONY: run test lint typecheck unit integration bench services clean ts-deps chromium

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

# Re-install whenever pyproject.toml changes.
$(VENV)/.installed-run: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $@ $(VENV)/.installed-run

run: $(VENV)/.installed-run
	mkdir -p .mainspring
	$(BIN)/mainspring dev --db ./.mainspring/dev.db $(ARGS)

# PostgreSQL (the second `make test` pass): start it when the machine has it installed but stopped.
services:
	@if command -v pg_ctlcluster >/dev/null 2>&1 && ls /etc/postgresql >/dev/null 2>&1; then \
		pg_isready -q -h 127.0.0.1 -p 5432 || \
		pg_ctlcluster --skip-systemctl-redirect $$(ls /etc/postgresql) main start || true; \
	fi

lint: $(VENV)/.installed-test
	$(BIN)/ruff check src tests bench examples
	$(BIN)/ruff format --check src tests bench examples
	$(BIN)/lint-imports

typecheck: $(VENV)/.installed-test
	$(BIN)/mypy

# The whole suite on SQLite, in two halves side by side (the Python-SDK and store half; the
# TypeScript SDK and browser half), and at the same time the store contract, the integration
# suite, the TypeScript SDK's multi-process tests (PostgreSQL only) and the browser tests again
# with every server on PostgreSQL ($(PG_URL); fresh databases cloned from a per-session
# template). The PostgreSQL suite is the longest, so its second part (browser, chaos, TS
# cluster) follows the SQLite TS/browser half, the shortest, in the same lane: three lanes at
# once, none much longer than another. The passes share nothing but the PostgreSQL server, and
# their tests mostly wait on servers and apps rather than compute (output prefixed with the
# pass); the tests that stop or restart that server (the outage test, the chaos suite's restart
# file) run alone afterwards. An unreachable PostgreSQL skips those tests loudly; under CI=true
# it fails them. `--durations` lists each pass's slowest tests, to keep the lanes balanced.
PG_ENV = MAINSPRING_TEST_POSTGRES_URL=$${MAINSPRING_TEST_POSTGRES_URL:-$(PG_URL)}
OUTAGE_TEST := tests/integration/test_pg_outage.py
RESTART_TESTS := tests/chaos/test_pg_restarts.py
SQLITE_B := tests/integration_ts tests/dashboard tests/chaos
POSTGRES_A := tests/store tests/integration
POSTGRES_B := tests/integration_ts/test_ts_cluster.py tests/dashboard tests/chaos
PYTEST := $(BIN)/python -m pytest -p no:cacheprovider --durations=15
test: $(VENV)/.installed-test services ts-deps chromium lint typecheck
	@set -o pipefail; \
	( $(PG_ENV) $(PYTEST) tests $(addprefix --ignore=,$(SQLITE_B)) $(PYTEST_ARGS) 2>&1 \
		| sed -u 's/^/[sqlite] /' ) & sqlite=$$!; \
	( $(PG_ENV) $(PYTEST) $(SQLITE_B) $(PYTEST_ARGS) 2>&1 | sed -u 's/^/[sqlite-ts] /'; t=$$?; \
	  $(PG_ENV) MAINSPRING_TEST_DIALECT=postgres $(PYTEST) $(POSTGRES_B) \
		--ignore=$(RESTART_TESTS) $(PYTEST_ARGS) 2>&1 | sed -u 's/^/[postgres-b] /'; b=$$?; \
	  echo "make test: SQLite TS/browser pass exit $$t, PostgreSQL pass B exit $$b"; \
	  [ $$t -eq 0 ] && [ $$b -eq 0 ] ) & lane2=$$!; \
	( $(PG_ENV) MAINSPRING_TEST_DIALECT=postgres $(PYTEST) $(POSTGRES_A) \
		--ignore=$(OUTAGE_TEST) $(PYTEST_ARGS) 2>&1 \
		| sed -u 's/^/[postgres] /' ) & postgres=$$!; \
	wait $$sqlite; s=$$?; wait $$lane2; t=$$?; wait $$postgres; p=$$?; \
	echo "make test: SQLite pass exit $$s, SQLite TS/browser + PostgreSQL B lane exit $$t, PostgreSQL pass A exit $$p"; \
	[ $$s -eq 0 ] && [ $$t -eq 0 ] && [ $$p -eq 0 ]
	$(PG_ENV) MAINSPRING_TEST_DIALECT=postgres $(PYTEST) $(OUTAGE_TEST) $(RESTART_TESTS) $(PYTEST_ARGS)

# The dashboard's browser tests drive Debian's Chromium through Playwright (never `playwright
# install`): install it with apt-get only when it is missing.
chromium:
	@if [ ! -x /usr/bin/chromium ]; then \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y chromium chromium-driver; \
	fi

# Node deps of the TypeScript SDK suite (tests/integration_ts) and of the Next.js example: each
# installed from its lockfile when node_modules is missing or older than package-lock.json.
# Without npm those tests skip (fail if CI=true).
TS_APPS := tests/integration_ts/app examples/nextjs
ts-deps:
	@if ! command -v npm >/dev/null 2>&1; then \
		echo "ts-deps: npm not found; the TypeScript SDK suite and examples/nextjs will skip (or fail under CI=true)"; \
	else \
		for dir in $(TS_APPS); do \
			if [ ! -d $$dir/node_modules ] || [ $$dir/package-lock.json -nt $$dir/node_modules ]; then \
				(cd $$dir && npm ci --no-audit --no-fund) || exit 1; \
			fi; \
		done; \
	fi

unit: $(VENV)/.installed-test
	$(BIN)/python -m pytest tests/unit tests/store $(PYTEST_ARGS)

bench: $(VENV)/.installed-test
	$(BIN)/python bench/bench_core.py $(ARGS)

clean:
	rm -rf $(VENV) .mainspring .pytest_cache .mypy_cache .ruff_cache .import_linter_cache

# DynamoDB Lab: two commands on a fresh machine.
#   make run   set up, start the embedded DynamoDB engine, create tables, seed if empty, serve :8000
#              (and dynamodb-admin on :4567 where Node.js is installed)
#   make test  set up, lint (ruff, mypy strict) and run every test tier (unit, integration, e2e)
#   make fuzz  fuzz the JSON API from its /openapi.json with many more requests than `make test`
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
NODE_STAMP := node_modules/.installed-stamp
PORT ?= 8000
CATALOGS := $(wildcard locale/*/LC_MESSAGES/messages.po)
COMPILED := $(CATALOGS:.po=.mo)
FUZZ_EXAMPLES ?= 100

.PHONY: run test test-unit test-integration test-e2e fuzz bench lint format clean setup i18n i18n-compile

setup: $(STAMP)

# dynamodb-admin, pinned in package.json; optional: without npm (or if it fails) the app runs
# without it, and `manage.py run` says so in one line.
$(NODE_STAMP): package.json package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
	  npm ci --no-audit --no-fund --loglevel=error && touch $@ \
	  || echo "npm ci failed: dynamodb-admin is skipped, the app runs without it"; \
	fi

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# The catalogs: `make i18n` after changing a string a learner reads (then translate what it
# lists in locale/ja/LC_MESSAGES/messages.po); the .mo files are compiled, never committed.
i18n: setup
	PYTHONPATH=. $(VENV)/bin/pybabel extract -F babel.cfg -w 100 --sort-by-file \
		--project "DynamoDB Lab" --version 0.1.0 --copyright-holder "DynamoDB Lab" -o locale/messages.pot .
	$(VENV)/bin/pybabel update -i locale/messages.pot -d locale -w 100 --ignore-obsolete --no-fuzzy-matching
	$(PY) -m shared.catalogs fill-source
	$(MAKE) i18n-compile
	-$(PY) -m shared.catalogs gaps

i18n-compile: setup $(COMPILED)

locale/%/LC_MESSAGES/messages.mo: locale/%/LC_MESSAGES/messages.po
	$(VENV)/bin/pybabel compile -l $* -i $< -o $@

run: setup i18n-compile $(NODE_STAMP)
	PORT=$(PORT) $(PY) manage.py run --port $(PORT)

# The unit tier (moto in-process, no shared state) runs on every core; the tiers that share an
# engine, PostgreSQL and ports run one test at a time.
UNIT_WORKERS ?= auto

test: setup i18n-compile $(NODE_STAMP) lint
	$(PY) -m pytest tests/unit -n $(UNIT_WORKERS)
	$(PY) -m pytest tests/integration tests/e2e

test-unit: setup i18n-compile
	$(PY) -m pytest tests/unit

test-integration: setup i18n-compile $(NODE_STAMP)
	$(PY) -m pytest tests/integration

test-e2e: setup i18n-compile
	$(PY) -m pytest tests/e2e

fuzz: setup
	FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(PY) -m pytest -s tests/unit/test_api_fuzz.py

bench: setup
	$(PY) -m benchmarks

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

format: setup
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

clean:
	rm -rf $(VENV) node_modules .pytest_cache .ruff_cache

# The project's commands. `make run` and `make test` set up everything they need on a fresh machine.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat requirements.txt requirements-dev.txt | md5sum | cut -c1-12)
PWA_SOURCES := $(wildcard pwa/src/* pwa/src/screens/* pwa/public/icons/*) pwa/build.mjs pwa/package.json pwa/package-lock.json records/icd10.py records/icd10_id.py \
	records/rules.py records/models.py records/validators.py records/specs.py

.PHONY: install pwa run test lint format bench messages chromium stop-db clean-db

$(STAMP): requirements.txt requirements-dev.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info[:2] >= (3, 11) else "Python 3.11 or newer is needed (set PYTHON=python3.11)")'
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	rm -f $(VENV)/.installed-* && touch $(STAMP)

install: $(STAMP) pwa/dist/sw.js

## Build the clinic app (PWA) into pwa/dist: npm packages from the lock file, ICD-10 table, field rules, Workbox.
pwa: pwa/dist/sw.js

pwa/dist/sw.js: $(PWA_SOURCES) | $(STAMP)
	@command -v npm >/dev/null || { echo "The app build needs Node.js 18+ and npm: sudo apt-get install -y nodejs npm"; exit 1; }
	cd pwa && npm ci --no-audit --no-fund --loglevel=error
	mkdir -p pwa/build && $(PY) -m records.icd10 > pwa/build/icd10.json
	$(PY) records/rules.py > pwa/build/rules.json
	cd pwa && node build.mjs

## Serve the app with demo clinics at http://localhost:8000 (embedded PostgreSQL unless DATABASE_URL is set).
run: install
	$(PY) manage.py dev_run

## Every test suite, browser tests included (Chromium is installed if missing and we can).
test: install chromium
	$(PY) -m pytest

## Python (ruff) and the app's JavaScript (ESLint, Prettier): checks only.
lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	cd pwa && npx --no-install eslint . && npx --no-install prettier --check .

## The same tools, fixing what they can.
format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .
	cd pwa && npx --no-install eslint --fix . && npx --no-install prettier --write .

## Benchmarks that print figures (provisioning, migrations across many clinics, records, reports, sync, the app, slow links).
bench: install chromium
	$(PY) tests/bench/platform_bench.py
	$(PY) tests/bench/records_bench.py
	$(PY) tests/bench/reports_bench.py
	$(PY) tests/bench/sync_bench.py
	$(PY) tests/bench/pwa_bench.py
	$(PY) tests/bench/load_bench.py
	$(PY) tests/bench/slow_link_bench.py

## Extract and compile translations (needs GNU gettext; the compiled .mo files are committed).
messages: install
	$(PY) manage.py makemessages -l id -l en --ignore '.venv/*' --ignore 'node_modules/*' --ignore 'tests/*' --ignore 'staticfiles/*' -v 0
	$(PY) manage.py compilemessages --ignore '.venv/*' -v 0

chromium:
	@if [ -x /usr/bin/chromium ]; then exit 0; fi; \
	if [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null; then \
		echo "Installing Chromium for the browser tests..."; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	else \
		echo "The browser tests need Chromium at /usr/bin/chromium: sudo apt-get install -y chromium"; exit 1; \
	fi

## Stop the embedded PostgreSQL (it keeps running between commands so they start fast).
stop-db:
	@test -d .pgdata && $(PY) -W ignore -c 'import pgserver, pathlib; from pgserver._commands import pg_ctl; pg_ctl(["-w", "stop"], pgdata=pathlib.Path(".pgdata").resolve(), user="pgserver" if __import__("os").geteuid() == 0 else None)' || true

## Delete the embedded database entirely (stops it first).
clean-db: stop-db
	rm -rf .pgdata

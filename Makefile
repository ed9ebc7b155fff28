# collector — every chore is one command; CI runs the same ones.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app collector
PG_URL ?= postgresql://postgres@127.0.0.1:5432
TEST_DB ?= collector_test
# Not the db a bare `pytest` uses (15): a developer's run beside `make test` never meets it
# (tests/support/exclusive.py stops a second session on the same db or database).
TEST_REDIS_URL ?= redis://127.0.0.1:6379/13

.DEFAULT_GOAL := help
.PHONY: help install lock run serve backup restore test test-moved-clock lint format worker migrate bench faults clean translations

help: ## list the commands
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)

# Installs the versions pinned in constraints.txt, so a new release of a library or of ruff
# cannot turn main red by itself; `make lock` moves the pins on purpose.
$(VENV)/.installed: pyproject.toml constraints.txt | $(BIN)/activate
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e '.[dev]'
	touch $@

install: $(VENV)/.installed ## create the virtualenv and install (with dev tools) at the pinned versions

lock: ## resolve pyproject.toml afresh and pin the result in constraints.txt
	rm -rf .lock-venv && $(PYTHON) -m venv .lock-venv
	.lock-venv/bin/pip install --quiet --upgrade pip
	.lock-venv/bin/pip install --quiet -e '.[dev]'
	{ head -2 constraints.txt; .lock-venv/bin/pip freeze --exclude-editable; } > constraints.txt.new
	mv constraints.txt.new constraints.txt && rm -rf .lock-venv

migrate: install ## apply database migrations (DATABASE_URL, default SQLite)
	$(FLASK) db upgrade

# The demo talks to the emulators in sandbox/ instead of the real services.
SANDBOX_PORT ?= 5001
SANDBOX := http://127.0.0.1:$(SANDBOX_PORT)
DEMO_ENV := TEAMLEADER_AUTH_URL=$(SANDBOX)/teamleader TEAMLEADER_API_URL=$(SANDBOX)/teamleader \
	TEAMLEADER_CLIENT_ID=collector-sandbox TEAMLEADER_CLIENT_SECRET=sandbox-secret \
	PAYMENT_PROVIDER_URL=$(SANDBOX)/provider/v2 PAYMENT_PROVIDER_API_KEY=test_sandbox \
	EXACT_BASE_URL='$(SANDBOX)/exact/{country}' EXACT_CLIENT_ID=collector-sandbox \
	EXACT_CLIENT_SECRET=sandbox-secret OUTBOUND_ALLOWED_HOSTS=127.0.0.1:$(SANDBOX_PORT)

run: migrate ## set everything up and start the demo on http://127.0.0.1:5000
	$(FLASK) demo-setup
	env $(DEMO_ENV) $(FLASK) serve --sandbox-port $(SANDBOX_PORT)

# The production-like set of the Procfile (gunicorn, worker.py, the clock) under honcho, on
# PostgreSQL and Redis; settings in SERVE_ENV (written with fresh secrets on the first run).
SERVE_ENV ?= instance/serve.env
SERVE_PORT ?= 8000
serve: install ## the production-like set (Procfile: gunicorn, worker, clock) on PostgreSQL + Redis, at http://127.0.0.1:8000
	$(BIN)/python deploy/serve.py --env-file $(SERVE_ENV) --port $(SERVE_PORT)

# pg_dump of DATABASE_URL and a copy of the PDF folder store into BACKUP_DIR, with the
# counts of rows and files; `make restore` puts them back into an empty database and checks.
BACKUP_DIR ?= backups/$(shell date -u +%Y%m%dT%H%M%SZ)
backup: install ## back up DATABASE_URL (PostgreSQL) and the PDF store into BACKUP_DIR
	$(BIN)/python deploy/backup.py backup $(BACKUP_DIR)

restore: install ## restore BACKUP_DIR into an empty DATABASE_URL and the PDF store, and compare counts
	@test -n "$(RESTORE_DIR)" || { echo "say which backup: make restore RESTORE_DIR=backups/…"; exit 2; }
	$(BIN)/python deploy/backup.py restore $(RESTORE_DIR)

worker: install ## run an rq worker (needs Redis)
	$(BIN)/python worker.py

test: install ## the whole suite on PostgreSQL and Redis, then the portable part on SQLite
	@$(BIN)/python -m tests.support.services --database $(PG_URL)/$(TEST_DB) --redis $(TEST_REDIS_URL)
	DATABASE_URL=$(PG_URL)/$(TEST_DB) REDIS_URL=$(TEST_REDIS_URL) $(BIN)/pytest
	DATABASE_URL= REDIS_URL=$(TEST_REDIS_URL) $(BIN)/pytest -m "not postgres and not browser" -q

# The same suite with every Python process's clock moved (time-machine) a year ahead, to just
# before local midnight on a month end: proof that no test depends on the day it was written.
test-moved-clock: install ## the PostgreSQL suite again, with the clock moved a year ahead to a local midnight
	@$(BIN)/python -m tests.support.services --database $(PG_URL)/$(TEST_DB) --redis $(TEST_REDIS_URL)
	DATABASE_URL=$(PG_URL)/$(TEST_DB) REDIS_URL=$(TEST_REDIS_URL) $(BIN)/python -m tests.support.moved_clock -- $(BIN)/pytest -q -m "not real_clock"

# The UI's texts: gather every marked text into a template, then add the new ones to the
# Dutch and French catalogues (untranslated; tests/test_translations.py says which). The
# app reads the .po files themselves: there is nothing to compile. --ignore-dirs: Babel
# skips directories starting with "_" by default, which would leave out templates/_partials.
POT := $(VENV)/messages.pot
translations: install ## gather the UI's texts and add new ones to the nl and fr catalogues
	$(BIN)/pybabel -q extract -F babel.cfg -k _l -k lazy_gettext -k lazy_ngettext:1,2 \
		--ignore-dirs '.* __pycache__' --add-location=file --sort-output -o $(POT) .
	@for lang in nl fr; do [ -f collector/translations/$$lang/LC_MESSAGES/messages.po ] || \
		$(BIN)/pybabel -q init -i $(POT) -d collector/translations -l $$lang; done
	$(BIN)/pybabel -q update -i $(POT) -d collector/translations --no-fuzzy-matching --ignore-obsolete

lint: install ## ruff check and format check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install ## apply ruff's fixes and formatting
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: install ## measure: the shared Teamleader rate budget; import calls and pace; PDFs per minute; the overview and the dashboard at 100,000 invoices; the mandates, collection runs and bank files lists at 50,000 mandates; payment → Teamleader latency; a 100,000-row mandates CSV checked and committed; documents booked per Exact Online minute against its limit; an import and a payment burst on 1, 2 and 4 workers
	$(BIN)/python bench/teamleader_rate.py
	$(BIN)/python bench/import_throughput.py
	$(BIN)/python bench/pdf_throughput.py --server $(PG_URL)
	$(BIN)/python bench/overview.py --server $(PG_URL)
	$(BIN)/python bench/dashboard.py --server $(PG_URL)
	$(BIN)/python bench/direct_debit_lists.py --server $(PG_URL)
	$(BIN)/python bench/payment_latency.py --server $(PG_URL)
	$(BIN)/python bench/mandates_csv.py --server $(PG_URL)
	$(BIN)/python bench/exact_forwarding.py --server $(PG_URL)
	$(BIN)/python bench/worker_scaling.py --server $(PG_URL)

# Real processes on loopback (PostgreSQL database collector_faults, Redis on port 6390, ports
# 5601-5603); `python -m faults --only 3,8 --keep` runs some scenarios and keeps the logs.
faults: install ## the fault suite: workers SIGKILLed mid-job, Redis down, database connections cut, 429/5xx storms, duplicate webhooks; what was lost, duplicated or stuck (under 10 min)
	$(BIN)/python -m faults

clean: ## remove the virtualenv and caches
	rm -rf $(VENV) .pytest_cache .ruff_cache

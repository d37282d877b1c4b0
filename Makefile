# The two commands: `make run` (embedded default) and `make test` (the suite on
# PostgreSQL and Redis). Both create the virtualenv and install what they need.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000

TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/acompte
TEST_REDIS_URL ?= redis://127.0.0.1:6379/1
# `make test PYTEST_ARGS='tests/deposits/test_checkout.py -x'` runs part of the suite.
PYTEST_ARGS ?=
# The suite runs in this many processes (pytest-xdist), a test file in one of them; each
# has its own PostgreSQL database and Redis database (tests/workers.py).
TEST_WORKERS ?= 2
TEST_ENV := DJANGO_DEBUG=0 DJANGO_SECRET_KEY=test-only-secret-key-3f9a7c1e5b2d8f604a1c7e9b3d5f8a2c \
	DJANGO_SECURE_SSL_REDIRECT=0 DATABASE_URL=$(TEST_DATABASE_URL) REDIS_URL=$(TEST_REDIS_URL) \
	DATABASE_APP_ROLE=acompte_app STRIPE_SECRET_KEY= STRIPE_PUBLISHABLE_KEY= STRIPE_WEBHOOK_SECRET=

.PHONY: install install-dev run test pgbouncer screenshots lighthouse lint format messages clean

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(VENV)/bin/python
	$(VENV)/bin/pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(VENV)/bin/python
	$(VENV)/bin/pip install --quiet -e '.[dev]'
	touch $(VENV)/.installed $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

# Links sent to clients point where the server listens, unless SITE_URL says otherwise.
# `manage.py run` is runserver plus, with no Redis, the beat schedule's sweeps in process.
run: export DJANGO_DEBUG ?= 1
run: export SITE_URL ?= http://$(HOST):$(PORT)
run: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo
	@echo "Acompte is on $(SITE_URL)/  (admin: /admin/, API docs: /api/docs/)"
	$(PY) manage.py run $(HOST):$(PORT)

# axe-core, which the browser tests inject into the pages (tests/browser/package.json).
tests/browser/node_modules/.installed: tests/browser/package-lock.json
	cd tests/browser && npm ci --no-audit --no-fund --loglevel error
	touch $@

# Row-level security is tested through Debian's PgBouncer in transaction mode
# (tests/tenants/test_rls_pgbouncer.py starts its own); installed here when missing.
pgbouncer:
	@command -v pgbouncer >/dev/null 2>&1 || test -x /usr/sbin/pgbouncer || { \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq pgbouncer; }

test: install-dev tests/browser/node_modules/.installed pgbouncer
	$(TEST_ENV) $(PY) -m pytest -p tests.workers -n $(TEST_WORKERS) --dist loadfile $(PYTEST_ARGS)

# README's screenshots, taken by the browser tests that show those pages.
screenshots: install-dev tests/browser/node_modules/.installed
	$(TEST_ENV) SCREENSHOTS_DIR=$(CURDIR)/docs/screenshots $(PY) -m pytest -q \
		tests/web/public/test_client.py tests/web/desk/test_pages.py \
		tests/web/public/test_booking_steps.py tests/web/public/test_demo_pages.py

# Lighthouse (npm, pinned in bench/package.json) on the client's pages, phone and desktop,
# against Debian's Chromium; prints the scores against the budget (bench/lighthouse.py).
bench/node_modules/.installed: bench/package-lock.json
	cd bench && npm ci --no-audit --no-fund --loglevel error
	touch $@

lighthouse: install bench/node_modules/.installed
	CHROME_PATH=/usr/bin/chromium $(PY) bench/lighthouse.py

lint: install-dev
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	DJANGO_DEBUG=1 $(PY) -m mypy .
	$(PY) -m bandit -q -r config core tenants customers bookings deposits messaging support web -ll

messages: install-dev
	DJANGO_DEBUG=1 $(PY) manage.py translations --compile

format: install-dev
	$(PY) -m ruff format .
	$(PY) -m ruff check --fix .

clean:
	rm -rf $(VENV) staticfiles .mypy_cache .ruff_cache .pytest_cache

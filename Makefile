# Kamidesk — `make demo` to try it, `make test` to check it.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000
ORDERS ?= 20000
PYTEST_ARGS ?=

.PHONY: demo test bench services vendor translations messages lint clean help

help:
	@echo "make demo      create .venv, build a demo store, print logins, serve on http://$(HOST):$(PORT)"
	@echo "make test      create .venv with the test extras and run the whole suite"
	@echo "make bench     run the benchmarks (tests/bench) and print the figures"
	@echo "make lint      ruff (console, adapters, tests) and mypy (console, adapters)"
	@echo "make services  install the servers the tests need (PostgreSQL, Redis, MariaDB, Chromium)"
	@echo "make clean     remove .venv, instance/, caches and vendored front-end files"

$(BIN)/python:
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Kamidesk needs Python 3.11+"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.installed: $(BIN)/python setup.cfg pyproject.toml
	$(BIN)/pip install -q -e .
	@touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(BIN)/pip install -q -e '.[test]'
	@touch $@

translations: $(VENV)/.installed
	@$(BIN)/pybabel compile -q -d console/translations 2>/dev/null || $(BIN)/pybabel compile -d console/translations

# Front-end libraries come from the npm registry and are copied into static/vendor (no CDN).
vendor: static/vendor/.done

static/vendor/.done: package.json package-lock.json scripts/vendor.sh
	@bash scripts/vendor.sh
	@touch $@

services:
	@bash scripts/services.sh

demo: $(VENV)/.installed translations vendor
	KAMIDESK_INSTANCE=$${KAMIDESK_INSTANCE:-$(CURDIR)/instance} $(BIN)/kamidesk demo --orders $(ORDERS) --host $(HOST) --port $(PORT)

test: $(VENV)/.installed-test translations vendor
	@if [ "$$(id -u)" = 0 ] || [ "$$CI" = true ]; then bash scripts/services.sh; fi
	$(BIN)/python scripts/dependency_audit.py
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: $(VENV)/.installed-test translations
	$(BIN)/python tests/bench/run.py

lint: $(VENV)/.installed-test
	$(BIN)/ruff check console adapters tests
	$(BIN)/mypy

clean:
	rm -rf $(VENV) instance node_modules static/vendor .pytest_cache .hypothesis .mypy_cache *.egg-info
	find . -name __pycache__ -type d -prune -exec rm -rf {} +

# Refresh the translation catalogue after changing user-facing strings.
messages: $(VENV)/.installed
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -k _t -o console/translations/messages.pot . >/dev/null
	$(BIN)/pybabel update -i console/translations/messages.pot -d console/translations

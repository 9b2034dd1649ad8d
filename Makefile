# Portal del Cliente — the two set-up commands of the README are `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PORT   ?= 8501
MAIL_PORT ?= 8025

.PHONY: run test venv dev lint format bench demo load clean-data

run: venv  ## Start the portal on the demo firm (generates and loads it when absent), one load worker, the demo mailbox
	PORT=$(PORT) $(BIN)/python bootstrap.py
	# app.py behind web/ (headers, cookies, limits); the worker runs «Cargar ahora» and retries queued e-mail;
	# without PORTAL_SMTP_HOST the demo's e-mail goes to a local catcher (data/mailbox/, staff page Correo)
	if [ -z "$$PORTAL_SMTP_HOST" ]; then \
	  export PORTAL_SMTP_HOST=127.0.0.1 PORTAL_SMTP_PORT=$(MAIL_PORT) PORTAL_DEMO_MAILBOX="$(CURDIR)/data/mailbox"; \
	  $(BIN)/python -m ops mailbox --port $(MAIL_PORT) & mailbox=$$!; \
	fi; \
	$(BIN)/python -m etl worker & worker=$$!; \
	trap 'kill $$worker $$mailbox 2>/dev/null' EXIT INT TERM; \
	$(BIN)/python server.py --address 127.0.0.1 --port $(PORT)

test: dev  ## Install everything and run the whole suite (lint + unit + AppTest + browser, SQLite + PostgreSQL)
	$(BIN)/ruff check .
	$(BIN)/python -m pytest

venv: $(BIN)/.installed
$(BIN)/.installed: requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $@

# Debian's PostgreSQL server binaries (initdb, pg_ctl, postgres), whatever its major version.
PG_INITDB := $(or $(firstword $(wildcard /usr/lib/postgresql/*/bin/initdb)),/usr/lib/postgresql/15/bin/initdb)

dev: $(BIN)/.installed-dev /usr/bin/chromium $(PG_INITDB) /usr/bin/caddy
$(BIN)/.installed-dev: requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $(BIN)/.installed $@

# Browser tests drive Debian's Chromium through Playwright (never a downloaded browser).
/usr/bin/chromium:
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null

# The PostgreSQL tests start a throw-away cluster of their own (tests/pg.py), never the system service.
$(PG_INITDB):
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null

# The proxy test (tests/test_proxy.py) runs Debian's Caddy on deploy/Caddyfile with ports of its own, never the service.
/usr/bin/caddy:
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq caddy >/dev/null

lint: dev
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

format: dev
	$(BIN)/ruff format . && $(BIN)/ruff check --fix .

demo: venv  ## Regenerate the demo firm's exports (add BIG=5000000 for the benchmark company)
	$(BIN)/python -m etl demo $(if $(BIG),--big-lines $(BIG))

load: venv
	$(BIN)/python -m etl load

bench: dev  ## Benchmarks (run by hand; they print figures, CI does not run them)
	$(BIN)/python bench/etl_load.py

clean-data:  ## Remove generated data (demo sources, stores, portal database, secrets)
	find data -mindepth 1 -maxdepth 1 ! -name README.md -exec rm -rf {} +

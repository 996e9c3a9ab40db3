# Combine: `make run` serves the app locally, `make test` runs the whole suite.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app wsgi
HOST ?= 127.0.0.1
PORT ?= 5000

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

install-dev: $(VENV)/.installed-dev

run: install
	@test -f .env || printf 'COMBINE_ENV=development\n' > .env
	$(FLASK) db upgrade
	$(FLASK) users ensure-admin --host $(HOST) --port $(PORT)
	$(FLASK) run --host $(HOST) --port $(PORT)

# Browser tests run when a Chromium is found (CI installs Debian's `chromium`: see scripts/).
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
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis test-artifacts

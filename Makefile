# The few commands people run. `make run` and `make test` work on a fresh machine with Python 3.11+.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PY     := $(BIN)/python

CARDS  := tools/cards

.PHONY: run test lint bench screenshots screenshots-web docs-screenshots clean help

help:
	@echo "make run    set up, load the example projects and start the bot in this terminal"
	@echo "make test   set up with the dev tools and run the whole test suite"
	@echo "make lint   ruff and mypy"
	@echo "make bench  run the benchmarks under bench/"
	@echo "make screenshots  draw every Teams card of the example flow into build/screenshots (needs chromium)"
	@echo "make screenshots-web  draw every page of the web app into build/screenshots-web (needs chromium)"

$(PY):
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "intake-bot needs Python 3.11 or newer (found " + sys.version.split()[0] + "); set PYTHON=python3.11")'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(VENV)/.installed: $(PY) pyproject.toml
	PYTHONWARNINGS=ignore $(PY) -m pip install --quiet -e .
	@touch $@

$(VENV)/.installed-dev: $(PY) pyproject.toml
	PYTHONWARNINGS=ignore $(PY) -m pip install --quiet -e '.[dev]'
	@touch $@ $(VENV)/.installed

run: $(VENV)/.installed
	@$(BIN)/intake db upgrade
	@$(BIN)/intake project load examples/*.yaml
	@$(BIN)/intake chat --project brightpath-booking

# Microsoft's Adaptive Cards renderer, for the tests and screenshots that draw Teams cards.
$(CARDS)/node_modules/.installed: $(CARDS)/package.json $(CARDS)/package-lock.json
	@if command -v npm >/dev/null; then \
		npm ci --prefix $(CARDS) --no-audit --no-fund --loglevel=error && touch $@; \
	else echo "npm not found: the tests that draw Teams cards will skip"; fi

test: $(VENV)/.installed-dev $(CARDS)/node_modules/.installed
	$(BIN)/pytest $(PYTEST_ARGS)

# Chromium comes from the system's packages (apt-get install -y chromium); nothing is downloaded.
screenshots: $(VENV)/.installed-dev $(CARDS)/node_modules/.installed
	$(PY) -m tools.screenshots

docs-screenshots: $(VENV)/.installed-dev $(CARDS)/node_modules/.installed
	$(PY) -m tools.screenshots --docs
	$(PY) -m tools.web_screenshots --docs

# Every page of the web app (/app), in English and Chinese, with example data: build/screenshots-web.
screenshots-web: $(VENV)/.installed-dev
	$(PY) -m tools.web_screenshots

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

bench: $(VENV)/.installed-dev
	$(PY) -m bench

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache build *.egg-info $(CARDS)/node_modules

# Two commands for a fresh machine:  `make quickstart`  and  `make test`.
# Both install everything first (a virtualenv in .venv from the pinned requirements.lock).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: install system-deps quickstart lint test test-fast bench lock clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml requirements.lock
	$(PYTHON) -m pip install --quiet --disable-pip-version-check "uv>=0.4"
	$(PYTHON) -m uv venv --allow-existing --python $(PYTHON) $(VENV)
	$(PYTHON) -m uv pip sync --python $(BIN)/python requirements.lock
	$(PYTHON) -m uv pip install --python $(BIN)/python --no-deps -e .
	touch $@

# Debian packages the tests need (chromium for the browser test, PostgreSQL for the team setup).
system-deps:
	bash scripts/system-deps.sh

quickstart: install
	$(BIN)/treffpunkt quickstart

# ruff formats and lints the tree (pyproject [tool.ruff]); `make format` applies the formatter.
lint: install
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

test: install system-deps lint
	$(BIN)/python -m pytest

# Unit tests only: no Label Studio server, no browser, no training.
test-fast: install
	$(BIN)/python -m pytest -m "not studio and not slow and not browser and not postgres"

bench: install
	$(BIN)/python -m bench

lock:
	$(PYTHON) -m uv pip compile pyproject.toml --extra dev --python-version 3.11 -o requirements.lock

clean:
	rm -rf $(VENV) quickstart-workspace .pytest_cache

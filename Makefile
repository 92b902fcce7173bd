# Two commands do all set-up: `make run` and `make test`. Both build .venv when needed, from
# requirements.lock: the exact versions (and their hashes) that CI tests.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
LOCK := requirements.lock
PORT ?=
# Deselected by `make test-fast`: headless Chromium, real servers, anything taking seconds.
FAST_MARKS := not browser and not slow

.PHONY: run test test-fast lint lint-check lock bench bench-quick clean

$(STAMP): $(LOCK) pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet --require-hashes -r $(LOCK)
	$(BIN)/pip install --quiet --no-deps -e .
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/python -m aop_map.launch $(if $(PORT),--port $(PORT))

test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

test-fast: $(STAMP)
	$(BIN)/python -m pytest -m "$(FAST_MARKS)" $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

lint-check: $(STAMP)
	$(BIN)/ruff check .

# Regenerate the lock from pyproject.toml, keeping every version it already pins unless
# pyproject.toml no longer allows it; LOCK_ARGS=--upgrade (or --upgrade-package NAME) moves on.
# Then install it.
lock: $(STAMP)
	$(BIN)/uv pip compile pyproject.toml --all-extras --universal --python-version 3.11 \
		--generate-hashes --custom-compile-command "make lock" --quiet $(LOCK_ARGS) -o $(LOCK)
	$(MAKE) $(STAMP)

bench: $(STAMP)
	$(BIN)/python -m bench

bench-quick: $(STAMP)
	$(BIN)/python -m bench --quick

clean:
	rm -rf $(VENV) .pytest_cache

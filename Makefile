# Two entry points, each installs what it needs into .venv:
#   make demo   sandbox + legacy demo site + proxy, URLs printed, Ctrl-C stops all
#   make test   ruff (format + lint), mypy (strict on rules/), pytest with warnings as errors
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test check lint typecheck pytest bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/python -m proxy.demo

test: $(STAMP)
	bash scripts/ensure-chromium
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/mypy rules/
	$(BIN)/python -m pytest -q -p no:cacheprovider

bench: $(STAMP)
	$(BIN)/python -m bench.rewrite

clean:
	rm -rf $(VENV) build *.egg-info

# Two entry points, each installs what it needs into .venv:
#   make demo   sandbox + legacy demo site + proxy, URLs printed, Ctrl-C stops all
#   make test   ruff (format + lint), mypy (strict on rules/), pytest with warnings as errors
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test bench bench-rules bench-proxy bench-sandbox clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/python -m proxy.demo

test: $(STAMP)
	bash scripts/ensure-debian-tool chromium chromium
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/mypy rules/
	$(BIN)/python -m pytest -q -p no:cacheprovider

# Benchmarks print their figure next to a baseline measured in the same run;
# bench/RESULTS.md keeps the latest figures.
bench: bench-rules bench-sandbox bench-proxy

bench-rules: $(STAMP)
	$(BIN)/python -m bench.rewrite

bench-sandbox: $(STAMP)
	bash scripts/ensure-debian-tool wrk wrk
	$(BIN)/python -m bench.sandbox_load

bench-proxy: $(STAMP)
	bash scripts/ensure-debian-tool wrk wrk
	$(BIN)/python -m bench.proxy_bench

clean:
	rm -rf $(VENV) build *.egg-info

# One place for the project's tasks; the README and .ci/run use these targets.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
TL := $(VENV)/bin/tracelight

.PHONY: install demo test test-fast lint typecheck bench clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

install: $(VENV)/.installed

demo: install  ## generate a synthetic corpus, ingest it into ./tracelight.db, print commands to try, serve the workspace (Ctrl+C stops it)
	$(TL) demo

test: install  ## the whole test suite (PostgreSQL tests skip with a reason when no server runs)
	$(PY) -m pytest

test-fast: install
	$(PY) -m pytest -m "not slow and not browser"

lint: install  ## ruff, and docs/cli.md must match the commands' help (regenerate: tools/gen_cli_doc.py)
	$(VENV)/bin/ruff check src tests tools
	PYTHONPATH=src $(PY) tools/gen_cli_doc.py --check

typecheck: install  ## mypy over the whole package
	$(VENV)/bin/mypy src/tracelight

bench: install  ## print throughput and memory figures for every stage
	$(TL) bench ingest --ads 20000

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .ruff_cache .mypy_cache

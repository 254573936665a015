# The README's two commands: `make tour` (the main job) and `make test` (the whole suite).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: tour test lint format bench clean docs docs-serve

# Create the virtual environment and install mlplab with every backend and the dev tools.
# The extras are ranges; constraints.txt pins the test environment (torch 2.13.0, the CPU build).
$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]' -c constraints.txt
	touch $(STAMP)

tour: $(STAMP)
	$(BIN)/mlplab tour --out tour-out

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	OMP_NUM_THREADS=1 MLPLAB_REQUIRE_BACKENDS=numpy,torch,jax $(BIN)/python -m pytest -q -n 2

lint: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# The documentation site (mkdocs.yml) into site/, the notebooks executed so their
# outputs show; open site/index.html from the file or serve it with `make docs-serve`.
docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 MLPLAB_DOCS_EXECUTE=true $(BIN)/mkdocs build --strict

docs-serve: $(STAMP)
	NO_MKDOCS_2_WARNING=1 MLPLAB_DOCS_EXECUTE=true $(BIN)/mkdocs serve

bench: $(STAMP)
	$(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) tour-out site .cache/mkdocs-jupyter .pytest_cache .ruff_cache

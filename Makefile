# The README's two commands: `make tour` (the main job) and `make test` (the whole suite).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: tour test lint format bench clean

# Create the virtual environment and install mlplab with every backend and the dev tools.
# torch is pinned to 2.13.0 (the CPU build); see pyproject.toml.
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

tour: $(STAMP)
	$(BIN)/mlplab tour --out tour-out

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	OMP_NUM_THREADS=1 MLPLAB_REQUIRE_BACKENDS=numpy,torch,jax $(BIN)/python -m pytest -q -n 2

lint: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: $(STAMP)
	$(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) tour-out .pytest_cache .ruff_cache

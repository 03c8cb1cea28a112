# Two commands do all the set-up on a fresh machine: `make run` and `make test`.
PY      ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed
DEMO_DB ?= demo/esaudit-demo.db

.PHONY: run test bench lint clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q -e ".[test,postgres]"
	touch $(STAMP)

run: $(STAMP)
	@mkdir -p $(dir $(DEMO_DB))
	@test -f $(DEMO_DB) || { echo "Seeding a demo store at $(DEMO_DB) ..."; \
	  $(BIN)/esaudit --db $(DEMO_DB) seed --orders 300 --seed 7 --days 60; }
	$(BIN)/esaudit --db $(DEMO_DB) gui

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/python -m pytest $(PYTEST_ARGS)
	$(BIN)/mypy

# make bench ARGS="--scale 10m", ARGS="--pg postgresql+psycopg://USER@HOST/DB": see the README.
bench: $(STAMP)
	$(BIN)/python -m benchmarks $(ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/lint-imports

clean:
	rm -rf $(VENV) demo *.egg-info .pytest_cache .ruff_cache .mypy_cache .hypothesis

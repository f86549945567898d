# The two commands a newcomer needs: `make demo` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
STAMP   = $(VENV)/.installed

.PHONY: demo run test lint bench constraints clean

$(STAMP): pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "cockpit needs Python 3.11 or newer (set PYTHON=...)")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -c constraints.txt -e '.[dev]'
	touch $(STAMP)

## The cockpit against the built-in simulated cluster (incident scenario).
demo: $(STAMP)
	$(BIN)/cockpit demo --scenario $(or $(SCENARIO),incident)

## The cockpit against your current kubeconfig context.
run: $(STAMP)
	$(BIN)/cockpit

## Lint, import contracts and the whole test suite.
test: $(STAMP) lint
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

bench: $(STAMP)
	$(BIN)/python -m pip install -q -c constraints.txt -e '.[dev,bench]'
	$(BIN)/python -m bench

constraints:
	( echo "# Every package the project and its extras resolve to, known to work together."; \
	  echo "# make installs with '-c constraints.txt'; regenerate with 'make constraints'."; \
	  $(BIN)/python -m pip freeze --exclude-editable | grep -v '^cockpit' ) > constraints.txt.new
	mv constraints.txt.new constraints.txt

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache

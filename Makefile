# Every target sets up the local virtual environment it needs from pyproject.toml.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: setup check check-kernels demo bench clean docs

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

setup: $(BIN)/.installed

check: setup
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	bash .ci/wheel_smoke.sh $(BIN)/python
	$(MAKE) docs
	$(BIN)/pytest -q
	$(MAKE) check-kernels

# The numeric tests once more on an older OpenBLAS kernel with numpy's newest SIMD paths
# disabled (both chosen for this CPU at run time; .ci/kernels.py says how).
check-kernels: setup
	$(BIN)/python .ci/kernels.py

demo: setup
	$(BIN)/python examples/train_digits.py

bench: setup
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE $(BIN)/python benchmarks/run.py

# The documentation site (mkdocs.yml) built into site/; strict: any warning fails the build.
docs: setup
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --site-dir site
	$(BIN)/python docs/tools/check_api_coverage.py --site site

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache .hypothesis site dist

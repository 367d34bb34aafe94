# Python surface: build the extension into .venv (maturin), run pytest, mypy.stubtest and mypy.
# CARGO_TARGET_DIR, if set in the environment, is honoured by maturin (cargo); nothing else is needed.
.PHONY: python-build test-python

python-build: setup
	$(VENV)/bin/maturin develop --release -q

## test-python: pytest (tests/python), the hand-written stubs against the module, mypy --strict on the package, examples and tests
test-python: python-build
	$(PY) -m pytest -q tests/python
	$(PY) -m mypy.stubtest toron._toron
	$(PY) -m mypy --strict python/toron examples/python tests/python sim tools benches/runner.py

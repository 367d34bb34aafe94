# Python surface: build the extension into .venv (maturin), run pytest and mypy.stubtest.
.PHONY: python-build test-python

python-build: setup
	$(VENV)/bin/maturin develop --release -q

test-python: python-build
	$(PY) -m pytest -q tests/python

# Python surface: build the extension into .venv (maturin), run pytest, mypy.stubtest and mypy.
# CARGO_TARGET_DIR, if set in the environment, is honoured by maturin (cargo); nothing else is needed.
.PHONY: python-build test-python

## python-build: build the extension into .venv, only when something it is built from changed since the last
## build (the stamp $(VENV)/.toron-built-$(PY_PROFILE)): every operations-guide target depends on it, and an
## unchanged tree should not pay maturin's ~4 s and its build lines on each of them.
## PY_PROFILE (default release) is the Cargo profile: `make test` builds with `dev` (the engine and its
## dependencies at opt-level 2, see Cargo.toml), which reuses what `cargo test` just compiled instead of a
## second, LTO'd build of the whole tree; benchmarks and `make demo` keep release.
PY_PROFILE ?= release
export PY_PROFILE
PY_BUILD_INPUTS := Cargo.toml Cargo.lock pyproject.toml \
	$(shell find toron-core toron-py toron-ffi toron-server python/toron -type f \
	  -not -path '*/__pycache__/*' -not -name '*.pyc' -not -path '*/proptest-regressions/*' 2>/dev/null | LC_ALL=C sort)

python-build: setup $(VENV)/.toron-built-$(PY_PROFILE)
$(VENV)/.toron-built-$(PY_PROFILE): $(VENV)/.ready $(PY_BUILD_INPUTS)
	rm -f $(VENV)/.toron-built-*
	$(VENV)/bin/maturin develop --profile $(PY_PROFILE) -q
	touch $@

# Both cores (pytest-xdist; a module's tests stay on one worker, so module fixtures start once), and the
# slowest tests named at the end, where a CI log shows what its time went to.
PYTEST_FLAGS ?= -n 2 --dist loadfile --durations=15

## test-python: pytest (tests/python), the hand-written stubs against the module, mypy --strict on the package, examples and tests
test-python: python-build
	$(PY) -m pytest -q $(PYTEST_FLAGS) tests/python
	$(PY) -m mypy.stubtest toron._toron
	$(PY) -m mypy --strict python/toron examples/python examples/nodes tests/python sim tools benches/runner.py

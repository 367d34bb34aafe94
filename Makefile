# Every CI step is a target here: what CI runs (`make test`) is what you run.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
VENV := .venv
PY := $(VENV)/bin/python
export CARGO_TERM_COLOR ?= never
# `make test` builds the extension with the dev profile (mk/python.mk). Chosen here, when the makefile is
# read: the profile is part of the stamp's name, a prerequisite, and a target-specific variable does not
# reach prerequisites (with one, `make test` built dev under the release stamp, and `make bench` then timed
# the dev build). Exported, so the make commands the tests run (tests/python/test_make.py) see it too.
ifneq ($(filter test,$(MAKECMDGOALS)),)
PY_PROFILE ?= dev
endif

.PHONY: setup demo test test-rust lint lint-check format bench doc fuzz-build fuzz

## setup: create .venv and install the build and test tools (maturin, pytest, mypy, ruff, ...)
setup: $(VENV)/.ready
$(VENV)/.ready: requirements-dev.txt
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -r requirements-dev.txt
	touch $@

include mk/python.mk
include mk/c.mk
include mk/testops.mk
include mk/server.mk

## serve: the TestOps API and the live dashboard on 127.0.0.1:8700 (mk/server.mk; `toron serve --help`)

## demo: build everything and run the demo (M/M/1 against theory, the kv bug found with its seed, then
## examples/testops: its full profile GO and its broken profile NO-GO)
demo: setup python-build
	$(PY) examples/python/demo.py
	$(PY) examples/python/testops_demo.py

## test: every test: Rust, Python (with the dashboard in headless chromium), C/C++ (valgrind, ASan/UBSan), header freshness,
## vectors, clippy, rustfmt
test: setup browser lint-check doc fuzz-build test-rust test-python test-c test-c-asan

test-rust:
	cargo test --workspace --exclude toron-py
	cargo run -q --example simulate

## lint-check: rustfmt and clippy (-D warnings) and the Python linter, without changing files
lint-check: setup
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets -- -D warnings
	$(VENV)/bin/ruff check python tests/python examples/python examples/nodes benches sim tools

## lint / format: the operations guide's `make lint && make format`
lint: lint-check
format: setup
	cargo fmt --all
	$(VENV)/bin/ruff format python tests/python examples/python examples/nodes benches sim tools

## doc: rustdoc of the core with warnings as errors (broken links, missing docs)
doc:
	RUSTDOCFLAGS="-D warnings" cargo doc --no-deps -p toron-core

## fuzz-build: the cargo-fuzz targets (own workspace in fuzz/) and their seed writer still compile (stable)
fuzz-build:
	cargo check --manifest-path fuzz/Cargo.toml --bins --examples

## fuzz: run every cargo-fuzz target for FUZZ_SECONDS (default 30) each, on nightly, from the seeds that
## fuzz/examples/seeds.rs writes from the repository's files into fuzz/corpus/; installs cargo-fuzz if missing.
## A crash stops it and leaves its input in fuzz/artifacts/<target>/ (see fuzz/README.md)
FUZZ_SECONDS ?= 30
fuzz:
	command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
	cargo run -q --manifest-path fuzz/Cargo.toml --example seeds fuzz/corpus
	for t in $$(cargo +nightly fuzz list); do \
	  echo "== $$t ($(FUZZ_SECONDS) s)"; \
	  cargo +nightly fuzz run $$t -- -max_total_time=$(FUZZ_SECONDS) -timeout=20 -print_final_stats=1; \
	done

## bench: criterion benches and the side-by-side comparisons with the peers (SimPy, scrubadub, mimesis, ...;
## the PII and data-set peers come from requirements-bench.txt)
bench: setup python-build
	$(VENV)/bin/pip install -q -r requirements-bench.txt
	cargo bench -p toron-suite
	$(PY) benches/side_by_side.py
	$(PY) benches/runner.py
	$(PY) benches/pii.py
	$(PY) benches/fixtures.py
	cargo build -q --release -p toron-server --bin toron-server --example sse_subscribers
	$(PY) benches/server.py --server-bin target/release/toron-server \
	  --native-client target/release/examples/sse_subscribers
	$(PY) benches/server.py --server-bin target/release/toron-server \
	  --native-client target/release/examples/sse_subscribers --client-cpu 1 --rounds 5
	$(PY) benches/check.py

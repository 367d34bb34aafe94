# C surface: header freshness, the C and C++ tests and examples under valgrind and under the sanitizers, the
# pkg-config file.
#
#   make test-c      build toron-ffi, check include/toron.h is fresh, build tests/c and examples/{c,cpp} with
#                    -Wall -Wextra -Werror against include/ and the built libtoron, run each under valgrind (the
#                    examples on the short scenarios: the 1M-request mm1 runs natively; examples/{c,cpp}/run
#                    on a copy of examples/c/run_manifest.toml under $(C_OUT), so that the run's archive and
#                    reports stay out of the source tree), and
#                    build examples/c/simulate.c again through an installed copy and its pkg-config file.
#   make test-c-asan the same programs, run the same way, built with -fsanitize=address,undefined into
#                    $(C_OUT)/asan and run natively with LeakSanitizer.
#   make c-install   build libtoron in release and install the header, the libraries, toron.pc and the CMake
#                    package under $(DESTDIR)$(PREFIX) (default /usr/local).
#
# Regenerate the header after changing the C API: TORON_UPDATE_HEADER=1 cargo test -p toron-ffi --test header
# Respects CARGO_TARGET_DIR (default target/). The vectors of tests/vectors/sim.json reach the C programs as
# `scenario seed digest violations` arguments, expanded by tests/c/sim_vectors.py (python3, standard library only);
# those of tests/vectors/canon.json and diff.json reach tests/c/test_diff{.c,.cc} as a line file written by
# tests/c/diff_vectors.py (likewise); those of tests/vectors/pii.json reach tests/c/test_pii.c through
# tests/c/pii_vectors.py, and those of tests/vectors/fixtures.json reach tests/c/test_fixtures as arguments
# expanded by tests/c/fixtures_vectors.py; those of tests/vectors/linearizable.json reach tests/c/test_check.c as
# a line file written by tests/c/linear_vectors.py; the echo digest of tests/vectors/c_nodes.json reaches
# tests/c/test_nodes{.c,.cc} as an argument, with the node library built from examples/c/echo_node.c.
.PHONY: test-c test-c-asan c-lib c-build c-install

PREFIX ?= /usr/local
C_TARGET_DIR := $(or $(CARGO_TARGET_DIR),target)
# cargo test leaves the cdylib and staticlib it builds for the header test in debug/deps (it does not copy
# them up to debug/ as cargo build does); c-lib builds them there, see below.
C_LIB_DIR := $(C_TARGET_DIR)/debug/deps
C_OUT := $(C_TARGET_DIR)/c
C_STAGE := $(abspath $(C_OUT)/stage)
C_WARN := -Wall -Wextra -Werror -g
C_LINK := -L$(C_LIB_DIR) -Wl,-rpath,$(abspath $(C_LIB_DIR)) -ltoron
# --trace-children=no (the default, spelled out): command cases of runs fork and exec `sh`, which is not ours
# to check.
C_VALGRIND := valgrind -q --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite \
  --trace-children=no --suppressions=tests/c/valgrind.supp
# test-c-asan: gcc's AddressSanitizer (with LeakSanitizer) and UBSan, every UB report fatal. libasan, liblsan and
# libubsan come with gcc on Debian (gcc-12 -> libgcc-12-dev -> libasan8, liblsan0, libubsan1). The Rust library
# is not instrumented, but its allocations go through the sanitizer's malloc, so its leaks and the C side's
# misuse of what it returns (use after free, double free, overflow) are caught.
C_ASAN_OUT := $(C_OUT)/asan
C_SANITIZE := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
C_ASAN_RUN := env ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
# The one version source is Cargo.toml; the checked (fresh) header carries it.
C_VERSION = $(shell sed -n 's/^\#define TORON_VERSION "\(.*\)"$$/\1/p' include/toron.h)

# $(call c_install_files,LIBRARY_DIR,DESTINATION,PREFIX): the header, libraries, toron.pc, CMake package.
define c_install_files
	install -d $(2)/include $(2)/lib/pkgconfig $(2)/lib/cmake/toron
	install -m 644 include/toron.h $(2)/include/
	install -m 644 $(1)/libtoron.a $(2)/lib/
	install -m 755 $(1)/libtoron.so $(2)/lib/
	sed -e 's|@PREFIX@|$(3)|g' -e 's|@VERSION@|$(C_VERSION)|g' toron-ffi/toron.pc.in > $(2)/lib/pkgconfig/toron.pc
	install -m 644 toron-ffi/cmake/toronConfig.cmake $(2)/lib/cmake/toron/
	sed -e 's|@VERSION@|$(C_VERSION)|g' toron-ffi/cmake/toronConfigVersion.cmake.in \
	  > $(2)/lib/cmake/toron/toronConfigVersion.cmake
endef

# The C and C++ programs of the C surface: the tests of tests/c/ and the examples of examples/{c,cpp}.
# $(call c_build_programs,OUT,FLAGS) builds them into OUT with the extra compiler FLAGS, and
# $(call c_run_programs,OUT,RUNNER) runs each under RUNNER with its arguments and vector files (written into
# OUT). test-c runs them under valgrind, test-c-asan built with the sanitizers: one list, so the two cannot drift.
define c_build_programs
	mkdir -p $(1)
	$(CC) -std=c11 $(C_WARN) $(2) -Iinclude tests/c/test_sim.c -o $(1)/test_sim $(C_LINK)
	$(CC) -std=c11 $(C_WARN) $(2) -pthread -Iinclude tests/c/test_threads.c -o $(1)/test_threads $(C_LINK)
	$(CXX) -std=c++17 $(C_WARN) $(2) -Iinclude tests/c/test_sim.cc -o $(1)/test_sim_cc $(C_LINK)
	$(CC) -std=c11 $(C_WARN) $(2) -Iinclude examples/c/simulate.c -o $(1)/simulate_c $(C_LINK)
	$(CXX) -std=c++17 $(C_WARN) $(2) -Iinclude examples/cpp/simulate.cc -o $(1)/simulate_cc $(C_LINK)
	$(CC) -std=c11 $(C_WARN) $(2) -Iinclude tests/c/test_diff.c -o $(1)/test_diff $(C_LINK)
	$(CXX) -std=c++17 $(C_WARN) $(2) -Iinclude tests/c/test_diff.cc -o $(1)/test_diff_cc $(C_LINK)
	$(CC) -std=c11 $(C_WARN) $(2) -Iinclude examples/c/diff.c -o $(1)/diff_c $(C_LINK)
	$(CXX) -std=c++17 $(C_WARN) $(2) -Iinclude examples/cpp/diff.cc -o $(1)/diff_cc $(C_LINK)
	$(CC) -std=c11 $(C_WARN) $(2) -Iinclude tests/c/test_run.c -o $(1)/test_run $(C_LINK)
	$(CC) -std=c11 $(C_WARN) $(2) -Iinclude tests/c/test_pii.c -o $(1)/test_pii $(C_LINK)
	$(CXX) -std=c++17 $(C_WARN) $(2) -Iinclude tests/c/test_run.cc -o $(1)/test_run_cc $(C_LINK)
	$(CC) -std=c11 $(C_WARN) $(2) -Iinclude tests/c/test_warroom.c -o $(1)/test_warroom $(C_LINK)
	$(CC) -std=c11 $(C_WARN) $(2) -Iinclude examples/c/run.c -o $(1)/run_c $(C_LINK)
	$(CXX) -std=c++17 $(C_WARN) $(2) -Iinclude examples/cpp/run.cc -o $(1)/run_cc $(C_LINK)
	$(CC) -std=c11 $(C_WARN) $(2) -Iinclude tests/c/test_fixtures.c -o $(1)/test_fixtures $(C_LINK)
	$(CC) -std=c11 $(C_WARN) $(2) -Iinclude tests/c/test_check.c -o $(1)/test_check $(C_LINK)
	$(CC) -std=c11 $(C_WARN) $(2) -Iinclude -DTORON_ECHO_NODE_LIBRARY -shared -fPIC examples/c/echo_node.c \
	  -o $(1)/libecho_node.so
	$(CC) -std=c11 $(C_WARN) $(2) -Iinclude tests/c/test_nodes.c -o $(1)/test_nodes $(C_LINK)
	$(CC) -std=c11 $(C_WARN) $(2) -Iinclude examples/c/echo_node.c -o $(1)/echo_node_c $(C_LINK)
	$(CXX) -std=c++17 $(C_WARN) $(2) -Iinclude tests/c/test_nodes.cc -o $(1)/test_nodes_cc $(C_LINK)
	$(CXX) -std=c++17 $(C_WARN) $(2) -Iinclude examples/cpp/echo_node.cc -o $(1)/echo_node_cc $(C_LINK)
endef

# The examples run on the short scenarios here (the 1M-request mm1 of simulate_c without arguments is run
# natively by test-c); examples/{c,cpp}/run on a copy of examples/c/run_manifest.toml under OUT, so that the

define c_run_programs
	vectors="$$(python3 tests/c/sim_vectors.py tests/vectors/sim.json)"; \
	$(2) $(1)/test_sim $$vectors; \
	$(2) $(1)/test_sim_cc $$vectors
	$(2) $(1)/test_threads
	$(2) $(1)/simulate_c examples/scenarios/echo.toml examples/scenarios/kv_buggy.toml
	$(2) $(1)/simulate_cc examples/scenarios/echo.toml examples/scenarios/kv_buggy.toml
	python3 tests/c/diff_vectors.py tests/vectors/canon.json tests/vectors/diff.json > $(1)/diff_vectors.txt
	$(2) $(1)/test_diff $(1)/diff_vectors.txt
	$(2) $(1)/test_diff_cc $(1)/diff_vectors.txt
	$(2) $(1)/diff_c
	$(2) $(1)/diff_cc
	$(2) $(1)/test_run
	python3 tests/c/pii_vectors.py tests/vectors/pii.json > $(1)/pii_vectors.txt
	$(2) $(1)/test_pii $(1)/pii_vectors.txt
	$(2) $(1)/test_run_cc
	$(2) $(1)/test_warroom
	$(2) $(1)/test_fixtures $$(python3 tests/c/fixtures_vectors.py tests/vectors/fixtures.json)
	python3 tests/c/linear_vectors.py tests/vectors/linearizable.json > $(1)/linear_vectors.txt
	$(2) $(1)/test_check $(1)/linear_vectors.txt
	$(2) $(1)/test_nodes "$$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["echo"]["digest"])' \
	  tests/vectors/c_nodes.json)" $(abspath $(1))/libecho_node.so
	$(2) $(1)/echo_node_c examples/scenarios/echo.toml 1
	$(2) $(1)/test_nodes_cc "$$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["echo"]["digest"])' \
	  tests/vectors/c_nodes.json)"
	$(2) $(1)/echo_node_cc examples/scenarios/echo.toml 1
	rm -rf $(1)/run_example
	mkdir -p $(1)/run_example/c $(1)/run_example/scenarios
	cp examples/c/run_manifest.toml $(1)/run_example/c/
	cp examples/scenarios/echo.toml $(1)/run_example/scenarios/
	$(2) $(1)/run_c $(1)/run_example/c/run_manifest.toml
	$(2) $(1)/run_cc $(1)/run_example/c/run_manifest.toml '{"jobs": 2, "check": true}'
endef

# libtoron (debug) and the header check, which every build of the programs needs. One cargo test over the
# workspace, as `make test-rust` runs it: the same package selection resolves the same features, so
# toron-core and every dependency are reused from that build. `cargo build -p toron-ffi` and `cargo test -p
# toron-ffi` each resolved other features and rebuilt toron-core (two builds of about 3 minutes in CI).
c-lib:
	cargo test --workspace --exclude toron-py --test header

c-build: c-lib
	$(call c_build_programs,$(C_OUT),)

## test-c: the C surface: header freshness, C and C++ tests and examples under valgrind, pkg-config
test-c: c-build
	$(call c_run_programs,$(C_OUT),$(C_VALGRIND))
	$(C_OUT)/simulate_c
	$(C_OUT)/simulate_cc
	rm -rf $(C_STAGE)
	$(call c_install_files,$(C_LIB_DIR),$(C_STAGE),$(C_STAGE))
	export PKG_CONFIG_PATH=$(C_STAGE)/lib/pkgconfig; \
	test "$$(pkg-config --modversion toron)" = "$(C_VERSION)"; \
	$(CC) -std=c11 $(C_WARN) examples/c/simulate.c -o $(C_OUT)/simulate_pc $$(pkg-config --cflags --libs toron)
	LD_LIBRARY_PATH=$(C_STAGE)/lib $(C_OUT)/simulate_pc examples/scenarios/echo.toml

## test-c-asan: the same C and C++ programs built with AddressSanitizer and UBSan (gcc), run natively with
## LeakSanitizer on: memory errors, undefined behaviour and leaks fail the run
test-c-asan: c-lib
	$(call c_build_programs,$(C_ASAN_OUT),$(C_SANITIZE))
	$(call c_run_programs,$(C_ASAN_OUT),$(C_ASAN_RUN))

## c-install: install the C API (header, libtoron.so/.a, toron.pc, CMake package) under $(DESTDIR)$(PREFIX)
c-install:
	cargo build -p toron-ffi --release
	$(call c_install_files,$(C_TARGET_DIR)/release,$(DESTDIR)$(PREFIX),$(PREFIX))

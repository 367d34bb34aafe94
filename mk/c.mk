# C surface: header freshness, the C and C++ tests and examples under valgrind, the pkg-config file.
#
#   make test-c      build toron-ffi, check include/toron.h is fresh, build tests/c and examples/{c,cpp} with
#                    -Wall -Wextra -Werror against include/ and the built libtoron, run each under valgrind (the
#                    examples on the short scenarios: the 1M-request mm1 runs natively; examples/{c,cpp}/run
#                    on a copy of examples/c/run_manifest.toml under $(C_OUT), so that the run's archive and
#                    reports stay out of the source tree), and
#                    build examples/c/simulate.c again through an installed copy and its pkg-config file.
#   make c-install   build libtoron in release and install the header, the libraries, toron.pc and the CMake
#                    package under $(DESTDIR)$(PREFIX) (default /usr/local).
#
# Regenerate the header after changing the C API: TORON_UPDATE_HEADER=1 cargo test -p toron-ffi --test header
# Respects CARGO_TARGET_DIR (default target/). The vectors of tests/vectors/sim.json reach the C programs as
# `scenario seed digest violations` arguments, expanded by tests/c/sim_vectors.py (python3, standard library only);
# those of tests/vectors/canon.json and diff.json reach tests/c/test_diff{.c,.cc} as a line file written by
# tests/c/diff_vectors.py (likewise); those of tests/vectors/pii.json reach tests/c/test_pii.c through
# tests/c/pii_vectors.py, and those of tests/vectors/fixtures.json reach tests/c/test_fixtures as arguments
# expanded by tests/c/fixtures_vectors.py.
.PHONY: test-c c-build c-install

PREFIX ?= /usr/local
C_TARGET_DIR := $(or $(CARGO_TARGET_DIR),target)
C_LIB_DIR := $(C_TARGET_DIR)/debug
C_OUT := $(C_TARGET_DIR)/c
C_STAGE := $(abspath $(C_OUT)/stage)
# The run examples' manifest and the scenario it names, with their relative layout (../scenarios/echo.toml).
C_RUN_EXAMPLE := $(C_OUT)/run_example
C_WARN := -Wall -Wextra -Werror -g
C_LINK := -L$(C_LIB_DIR) -Wl,-rpath,$(abspath $(C_LIB_DIR)) -ltoron
# --trace-children=no (the default, spelled out): command cases of runs fork and exec `sh`, which is not ours
# to check.
C_VALGRIND := valgrind -q --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite \
  --trace-children=no --suppressions=tests/c/valgrind.supp
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

c-build:
	cargo build -p toron-ffi
	cargo test -p toron-ffi --test header
	mkdir -p $(C_OUT)
	$(CC) -std=c11 $(C_WARN) -Iinclude tests/c/test_sim.c -o $(C_OUT)/test_sim $(C_LINK)
	$(CC) -std=c11 $(C_WARN) -pthread -Iinclude tests/c/test_threads.c -o $(C_OUT)/test_threads $(C_LINK)
	$(CXX) -std=c++17 $(C_WARN) -Iinclude tests/c/test_sim.cc -o $(C_OUT)/test_sim_cc $(C_LINK)
	$(CC) -std=c11 $(C_WARN) -Iinclude examples/c/simulate.c -o $(C_OUT)/simulate_c $(C_LINK)
	$(CXX) -std=c++17 $(C_WARN) -Iinclude examples/cpp/simulate.cc -o $(C_OUT)/simulate_cc $(C_LINK)
	$(CC) -std=c11 $(C_WARN) -Iinclude tests/c/test_diff.c -o $(C_OUT)/test_diff $(C_LINK)
	$(CXX) -std=c++17 $(C_WARN) -Iinclude tests/c/test_diff.cc -o $(C_OUT)/test_diff_cc $(C_LINK)
	$(CC) -std=c11 $(C_WARN) -Iinclude examples/c/diff.c -o $(C_OUT)/diff_c $(C_LINK)
	$(CXX) -std=c++17 $(C_WARN) -Iinclude examples/cpp/diff.cc -o $(C_OUT)/diff_cc $(C_LINK)
	$(CC) -std=c11 $(C_WARN) -Iinclude tests/c/test_run.c -o $(C_OUT)/test_run $(C_LINK)
	$(CC) -std=c11 $(C_WARN) -Iinclude tests/c/test_pii.c -o $(C_OUT)/test_pii $(C_LINK)
	$(CXX) -std=c++17 $(C_WARN) -Iinclude tests/c/test_run.cc -o $(C_OUT)/test_run_cc $(C_LINK)
	$(CC) -std=c11 $(C_WARN) -Iinclude tests/c/test_warroom.c -o $(C_OUT)/test_warroom $(C_LINK)
	$(CC) -std=c11 $(C_WARN) -Iinclude examples/c/run.c -o $(C_OUT)/run_c $(C_LINK)
	$(CXX) -std=c++17 $(C_WARN) -Iinclude examples/cpp/run.cc -o $(C_OUT)/run_cc $(C_LINK)
	$(CC) -std=c11 $(C_WARN) -Iinclude tests/c/test_fixtures.c -o $(C_OUT)/test_fixtures $(C_LINK)

## test-c: the C surface: header freshness, C and C++ tests and examples under valgrind, pkg-config
test-c: c-build
	vectors="$$(python3 tests/c/sim_vectors.py tests/vectors/sim.json)"; \
	$(C_VALGRIND) $(C_OUT)/test_sim $$vectors; \
	$(C_VALGRIND) $(C_OUT)/test_sim_cc $$vectors
	$(C_VALGRIND) $(C_OUT)/test_threads
	$(C_OUT)/simulate_c
	$(C_OUT)/simulate_cc
	$(C_VALGRIND) $(C_OUT)/simulate_c examples/scenarios/echo.toml examples/scenarios/kv_buggy.toml
	$(C_VALGRIND) $(C_OUT)/simulate_cc examples/scenarios/echo.toml examples/scenarios/kv_buggy.toml
	python3 tests/c/diff_vectors.py tests/vectors/canon.json tests/vectors/diff.json > $(C_OUT)/diff_vectors.txt
	$(C_VALGRIND) $(C_OUT)/test_diff $(C_OUT)/diff_vectors.txt
	$(C_VALGRIND) $(C_OUT)/test_diff_cc $(C_OUT)/diff_vectors.txt
	$(C_VALGRIND) $(C_OUT)/diff_c
	$(C_VALGRIND) $(C_OUT)/diff_cc
	$(C_VALGRIND) $(C_OUT)/test_run
	python3 tests/c/pii_vectors.py tests/vectors/pii.json > $(C_OUT)/pii_vectors.txt
	$(C_VALGRIND) $(C_OUT)/test_pii $(C_OUT)/pii_vectors.txt
	$(C_VALGRIND) $(C_OUT)/test_run_cc
	$(C_VALGRIND) $(C_OUT)/test_warroom
	$(C_VALGRIND) $(C_OUT)/test_fixtures $$(python3 tests/c/fixtures_vectors.py tests/vectors/fixtures.json)
	rm -rf $(C_RUN_EXAMPLE)
	mkdir -p $(C_RUN_EXAMPLE)/c $(C_RUN_EXAMPLE)/scenarios
	cp examples/c/run_manifest.toml $(C_RUN_EXAMPLE)/c/
	cp examples/scenarios/echo.toml $(C_RUN_EXAMPLE)/scenarios/
	$(C_VALGRIND) $(C_OUT)/run_c $(C_RUN_EXAMPLE)/c/run_manifest.toml
	$(C_VALGRIND) $(C_OUT)/run_cc $(C_RUN_EXAMPLE)/c/run_manifest.toml '{"jobs": 2, "check": true}'
	rm -rf $(C_STAGE)
	$(call c_install_files,$(C_LIB_DIR),$(C_STAGE),$(C_STAGE))
	export PKG_CONFIG_PATH=$(C_STAGE)/lib/pkgconfig; \
	test "$$(pkg-config --modversion toron)" = "$(C_VERSION)"; \
	$(CC) -std=c11 $(C_WARN) examples/c/simulate.c -o $(C_OUT)/simulate_pc $$(pkg-config --cflags --libs toron)
	LD_LIBRARY_PATH=$(C_STAGE)/lib $(C_OUT)/simulate_pc examples/scenarios/echo.toml

## c-install: install the C API (header, libtoron.so/.a, toron.pc, CMake package) under $(DESTDIR)$(PREFIX)
c-install:
	cargo build -p toron-ffi --release
	$(call c_install_files,$(C_TARGET_DIR)/release,$(DESTDIR)$(PREFIX),$(PREFIX))

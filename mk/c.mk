# C surface: header freshness, C and C++ examples and tests under valgrind.
.PHONY: test-c

test-c:
	cargo test -p toron-ffi

// The harness shared by the C++ tests: the C tests' CHECK / CHECK_STATUS counters (check.h), and the RAII
// pieces every C++ test needs — toron::String (a library-owned string, freed by toron_string_free),
// toron::Error (a failed call: its status and every part of the last error), toron::check, and
// expect_error(status, body). Include it after the standard headers a test uses.
#ifndef TORON_TEST_CHECK_HH
#define TORON_TEST_CHECK_HH

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>

#include "toron.h"
#include "check.h"

namespace toron {

struct StringDeleter {
  void operator()(char *p) const noexcept { toron_string_free(p); }
};
using String = std::unique_ptr<char, StringDeleter>;

// Take ownership of a string written by the library and copy it out.
inline std::string take(char *raw) { return std::string(String(raw).get()); }

// A failed call: its status, and the last error's message and parts (read when the error is thrown).
class Error : public std::runtime_error {
 public:
  explicit Error(toron_status status)
      : std::runtime_error(toron_last_error_message()),
        status(status),
        line(toron_last_error_line()),
        column(toron_last_error_column()),
        op_index(toron_last_error_op_index()),
        field(toron_last_error_field() ? toron_last_error_field() : ""),
        path(toron_last_error_path() ? toron_last_error_path() : ""),
        file(toron_last_error_file() ? toron_last_error_file() : "") {}
  toron_status status;
  size_t line, column;
  int64_t op_index;
  std::string field, path, file;
};

inline void check(toron_status status) {
  if (status != TORON_OK) throw Error(status);
}

}  // namespace toron

// Run `body`, expecting a toron::Error with `status`; return it for more checks (a TORON_OK one, and a failed
// check, when nothing was thrown).
template <typename F>
static toron::Error expect_error(toron_status status, F body) {
  try {
    body();
  } catch (const toron::Error &e) {
    if (e.status != status) {
      std::fprintf(stderr, "expected %s, got %s: %s\n", toron_status_name(status), toron_status_name(e.status),
                   e.what());
    }
    CHECK(e.status == status);
    return e;
  }
  std::fprintf(stderr, "expected %s, got success\n", toron_status_name(status));
  CHECK(false);
  return toron::Error(TORON_OK);
}

#endif

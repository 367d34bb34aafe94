// Diff two JSON documents and print the one-line summary, the RFC 6902 patch and the coloured rendering (the
// same example as examples/c/diff.c and examples/python/diff.py), with RAII: every string the library gives is
// owned by a std::unique_ptr and every failure is an exception carrying the status and the message.
//
//   make test-c                   builds and runs it under valgrind
//   ./diff [OLD.json NEW.json]    defaults to two built-in documents; exit status 0, or 2 on error
#include <cstdio>
#include <fstream>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>

#include "toron.h"

namespace {

struct StringDeleter {
  void operator()(char *p) const noexcept { toron_string_free(p); }
};

struct Error : std::runtime_error {
  explicit Error(toron_status status)
      : std::runtime_error(std::string(toron_status_name(status)) + ": " + toron_last_error_message()) {}
};

// Call a toron function whose last parameter is a `char **` output; return the string.
template <typename F>
std::string call(F f) {
  char *raw = nullptr;
  toron_status status = f(&raw);
  if (status != TORON_OK) throw Error(status);
  return std::unique_ptr<char, StringDeleter>(raw).get();
}

std::string read_file(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(path + ": cannot open");
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

int main(int argc, char **argv) {
  try {
    std::string old_json = R"({"items": [{"id": 1, "price": 10}, {"id": 2, "price": 20}], "total": 30})";
    std::string new_json = R"({"items": [{"id": 0, "price": 5}, {"id": 1, "price": 10}, {"id": 2, "price": 21}], "total": 36})";
    if (argc == 3) {
      old_json = read_file(argv[1]);
      new_json = read_file(argv[2]);
    } else if (argc != 1) {
      std::fprintf(stderr, "usage: %s [OLD.json NEW.json]\n", argv[0]);
      return 2;
    }
    const char *o = old_json.c_str(), *n = new_json.c_str();
    std::string summary = call([&](char **out) { return toron_diff_summary(o, n, nullptr, out); });
    std::string patch = call([&](char **out) { return toron_diff_json(o, n, nullptr, out); });
    std::string color = call([&](char **out) { return toron_diff_render(o, n, nullptr, "color", out); });
    std::printf("%s\n%s\n%s\n", summary.c_str(), patch.c_str(), color.c_str());
    // The patch turns the old document into the new one: canonical texts compare as values.
    std::string patched = call([&](char **out) { return toron_apply_patch_json(o, patch.c_str(), out); });
    if (patched != call([&](char **out) { return toron_canonical_json(n, out); })) {
      std::fprintf(stderr, "the patch does not give the new document\n");
      return 2;
    }
    return 0;
  } catch (const std::exception &e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 2;
  }
}

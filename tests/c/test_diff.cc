// C++ tests of the snapshot and diff functions of include/toron.h through RAII wrappers (std::unique_ptr with
// custom deleters, an exception carrying the status and the last error's location): the canon and apply
// vectors, diff and renderings, bad input, text diff, and a golden-file round trip, with nothing freed by hand.
//
// Usage: test_diff_cc VECTORS   (the file tests/c/diff_vectors.py writes; run from the repository root)
#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "check.hh"

namespace toron {

struct SnapshotsDeleter {
  void operator()(toron_snapshots *p) const noexcept { toron_snapshots_free(p); }
};

inline std::string canonical(const std::string &json) {
  char *raw = nullptr;
  check(toron_canonical_json(json.c_str(), &raw));
  return take(raw);
}

inline std::string digest(const std::string &json) {
  char *raw = nullptr;
  check(toron_digest_json(json.c_str(), &raw));
  return take(raw);
}

inline const char *opt(const std::string &options) { return options.empty() ? nullptr : options.c_str(); }

inline std::string diff(const std::string &old_json, const std::string &new_json, const std::string &options = "") {
  char *raw = nullptr;
  check(toron_diff_json(old_json.c_str(), new_json.c_str(), opt(options), &raw));
  return take(raw);
}

inline std::string summary(const std::string &old_json, const std::string &new_json, const std::string &options = "") {
  char *raw = nullptr;
  check(toron_diff_summary(old_json.c_str(), new_json.c_str(), opt(options), &raw));
  return take(raw);
}

inline std::string render(const std::string &old_json, const std::string &new_json, const std::string &format,
                          const std::string &options = "") {
  char *raw = nullptr;
  check(toron_diff_render(old_json.c_str(), new_json.c_str(), opt(options), format.c_str(), &raw));
  return take(raw);
}

inline std::string apply_patch(const std::string &json, const std::string &patch) {
  char *raw = nullptr;
  check(toron_apply_patch_json(json.c_str(), patch.c_str(), &raw));
  return take(raw);
}

inline std::string unified(const std::string &old_text, const std::string &new_text, const std::string &old_name,
                           const std::string &new_name, size_t context = 3) {
  uint8_t *bytes = nullptr;
  size_t len = 0;
  check(toron_text_diff_unified_bytes(old_text.data(), old_text.size(), new_text.data(), new_text.size(), context,
                                      old_name.c_str(), new_name.c_str(), &bytes, &len));
  auto free_bytes = [len](uint8_t *p) { toron_bytes_free(p, len); };
  std::unique_ptr<uint8_t, decltype(free_bytes)> owned(bytes, free_bytes);
  return std::string(reinterpret_cast<const char *>(owned.get()), len);
}

// A directory of golden files.
class Snapshots {
 public:
  explicit Snapshots(const std::string &root, bool update = false) {
    toron_snapshots *raw = nullptr;
    check(toron_snapshots_open(root.c_str(), update, &raw));
    handle_.reset(raw);
  }
  struct Result {
    toron_check_status status;
    std::string summary;
  };
  Result check_value(const std::string &name, const std::string &value_json, const std::string &options = "") const {
    toron_check_status status = TORON_CHECK_FAILED;
    char *raw = nullptr;
    check(toron_snapshots_check(handle_.get(), name.c_str(), value_json.c_str(), opt(options), &status, &raw));
    return Result{status, take(raw)};
  }
  void accept(const char *name = nullptr) const { check(toron_snapshots_accept(handle_.get(), name)); }
  void reject(const char *name = nullptr) const { check(toron_snapshots_reject(handle_.get(), name)); }
  std::string pending_json() const {
    char *raw = nullptr;
    check(toron_snapshots_pending_json(handle_.get(), &raw));
    return take(raw);
  }

 private:
  std::unique_ptr<toron_snapshots, SnapshotsDeleter> handle_;
};

}  // namespace toron

static std::string unhex(const std::string &field) {
  std::string out;
  for (size_t i = 1; i + 1 < field.size(); i += 2) out.push_back(static_cast<char>(std::stoi(field.substr(i, 2), nullptr, 16)));
  return out;
}

// The canon and apply records of the vectors file (the C test runs every record).
static int run_vectors(const std::string &path) {
  std::ifstream in(path);
  CHECK(in.good());
  std::string line;
  int count = 0;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::vector<std::string> f;
    for (std::string s; fields >> s;) f.push_back(s);
    if (f.size() < 2) continue;
    try {
      if (f[0] == "canon" && f.size() == 5) {
        CHECK(toron::canonical(unhex(f[2])) == unhex(f[3]));
        CHECK(toron::digest(unhex(f[2])) == f[4]);
        count++;
      } else if (f[0] == "canon_error" && f.size() == 7) {
        auto e = expect_error(f[3] == "TORON_JSON_ERROR" ? TORON_JSON_ERROR : TORON_CANONICAL_ERROR,
                              [&] { toron::digest(unhex(f[2])); });
        CHECK(e.line == std::stoul(f[5]));
        if (f[4] != "-") CHECK(e.path == f[4]);
        count++;
      } else if (f[0] == "diff" && f.size() == 9) {
        std::string options = unhex(f[4]);
        CHECK(toron::canonical(toron::diff(unhex(f[2]), unhex(f[3]), options)) == toron::canonical(unhex(f[5])));
        CHECK(toron::summary(unhex(f[2]), unhex(f[3]), options) == unhex(f[6]));
        count++;
      } else if (f[0] == "apply" && f.size() == 5) {
        CHECK(toron::apply_patch(unhex(f[2]), unhex(f[3])) == toron::canonical(unhex(f[4])));
        count++;
      } else if (f[0] == "apply_error" && f.size() == 6) {
        auto e = expect_error(TORON_PATCH_ERROR, [&] { toron::apply_patch(unhex(f[2]), unhex(f[3])); });
        CHECK(e.op_index == std::stoll(f[4]));
        CHECK(e.path == f[5]);
        count++;
      }
    } catch (const toron::Error &e) {
      std::fprintf(stderr, "%s %s: %s\n", f[0].c_str(), f[1].c_str(), e.what());
      CHECK(false);
    }
  }
  return count;
}

static void test_diff_and_render() {
  const std::string old_doc = R"({"items": [{"id": 1, "price": 10}, {"id": 2, "price": 20}], "total": 30})";
  const std::string new_doc =
      R"({"items": [{"id": 0, "price": 5}, {"id": 1, "price": 10}, {"id": 2, "price": 21}], "total": 36})";
  std::string patch = toron::diff(old_doc, new_doc);
  CHECK(patch == toron::canonical(R"([
    {"op": "add", "path": "/items/0", "value": {"id": 0, "price": 5}},
    {"op": "replace", "path": "/items/2/price", "value": 21},
    {"op": "replace", "path": "/total", "value": 36}])"));
  CHECK(toron::apply_patch(old_doc, patch) == toron::canonical(new_doc));
  CHECK(toron::summary(old_doc, new_doc) == "2 changed, 1 added, 0 removed");
  CHECK(toron::render(old_doc, new_doc, "text").find("/items/2/price: 20 -> 21") != std::string::npos);
  CHECK(toron::render(old_doc, new_doc, "color").find("\x1b[") != std::string::npos);
  CHECK(toron::render(old_doc, new_doc, "html").find("<") != std::string::npos);
  CHECK(toron::render(old_doc, new_doc, "json").find("\"summary\": \"2 changed, 1 added, 0 removed\"") !=
        std::string::npos);
  CHECK(toron::diff("[1, 2.0]", "[1.0, 2]") == "[]");
  CHECK(toron::summary(R"({"t": 1.0})", R"({"t": 1.001})", R"({"tolerance": {"rel": 0.01}})") == "no differences");
}

static void test_bad_input() {
  auto e = expect_error(TORON_JSON_ERROR, [] { toron::diff("{\n\"a\": tru}", "{}"); });
  CHECK(e.line == 2 && e.column > 0);
  CHECK(std::string(e.what()).find("old_json: ") == 0);
  e = expect_error(TORON_PATCH_ERROR, [] {
    toron::apply_patch(R"({"a": {}})", R"([{"op": "test", "path": "/a", "value": {}}, {"op": "remove", "path": "/a/b"}])");
  });
  CHECK(e.op_index == 1 && e.path == "/a/b");
  e = expect_error(TORON_INVALID_ARGUMENT, [] { toron::render("1", "2", "svg"); });
  CHECK(e.op_index == -1);
  e = expect_error(TORON_INVALID_ARGUMENT, [] { toron::diff("1", "2", R"({"keys": {"/items": ""}})"); });
  CHECK(std::string(toron_last_error_field() ? toron_last_error_field() : "").find("keys") == 0);
}

static void test_text() {
  std::string d = toron::unified("one\ntwo\nthree\n", "one\n2\nthree\n", "a/f.txt", "b/f.txt");
  CHECK(d == "--- a/f.txt\n+++ b/f.txt\n@@ -1,3 +1,3 @@\n one\n-two\n+2\n three\n");
  CHECK(toron::unified("same\n", "same\n", "a", "b").empty());
  std::string with_nul("x\0y\n", 4);
  const char expected[] = "--- a\n+++ b\n@@ -1 +1 @@\n-x\0y\n+x\n";
  CHECK(toron::unified(with_nul, "x\n", "a", "b", 0) == std::string(expected, sizeof expected - 1));
}

static void test_snapshots() {
  char dir[] = "/tmp/toron-test-diff-cc-XXXXXX";
  CHECK(mkdtemp(dir) != nullptr);
  const std::string root = std::string(dir) + "/snapshots";
  {
    toron::Snapshots snaps(root);
    auto r = snaps.check_value("kv/basic", R"({"ok": true, "n": [1, 2]})");
    CHECK(r.status == TORON_CHECK_FAILED && r.summary == "no golden yet");
    CHECK(snaps.pending_json().find("\"case\":\"kv/basic\"") != std::string::npos);
    snaps.accept();
    CHECK(snaps.pending_json() == "[]");
    CHECK(snaps.check_value("kv/basic", R"({"n": [1, 2.0], "ok": true})").status == TORON_CHECK_PASSED);
    r = snaps.check_value("kv/basic", R"({"n": [1, 2, 3], "ok": true})");
    CHECK(r.status == TORON_CHECK_FAILED && r.summary == "0 changed, 1 added, 0 removed");
    snaps.reject("kv/basic");
    expect_error(TORON_SNAPSHOT_ERROR, [&] { snaps.reject("kv/basic"); });

    std::ofstream(root + "/kv/basic.json") << "{\"toron_snapshot\": 1,\n \"case\": \"kv/basic\"\n \"value\": 1}\n";
    auto e = expect_error(TORON_SNAPSHOT_ERROR, [&] { snaps.check_value("kv/basic", "1"); });
    CHECK(e.file == root + "/kv/basic.json");
    CHECK(e.line == 3);
    toron::Snapshots update(root, true);
    CHECK(update.check_value("kv/basic", "1").status == TORON_CHECK_UPDATED);
    CHECK(snaps.check_value("kv/basic", "1.0").status == TORON_CHECK_PASSED);
  }
  CHECK(std::system((std::string("rm -rf '") + dir + "'").c_str()) == 0);
}

int main(int argc, char **argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s VECTORS (written by tests/c/diff_vectors.py)\n", argv[0]);
    return 2;
  }
  int vectors = run_vectors(argv[1]);
  CHECK(vectors >= 50);
  try {
    test_diff_and_render();
    test_bad_input();
    test_text();
    test_snapshots();
  } catch (const toron::Error &e) {
    std::fprintf(stderr, "unexpected %s: %s\n", toron_status_name(e.status), e.what());
    CHECK(false);
  }
  if (failures != 0) {
    std::fprintf(stderr, "test_diff_cc: %d of %d checks failed\n", failures, checks);
    return 1;
  }
  std::printf("test_diff_cc: %d checks passed (%d vectors)\n", checks, vectors);
  return 0;
}

// C++ tests of the runs of include/toron.h through RAII wrappers (std::unique_ptr with custom deleters,
// exceptions carrying the status, a std::function as the event callback): a run of a manifest written to a
// temporary directory, its events by callback and by poll (equal, seq 1, 2, 3...), its result, bad input,
// and a run dropped while running — with nothing freed by hand.
//
// Usage: test_run_cc   (needs `sh`; writes only under a fresh mkdtemp directory, removed at the end)
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "check.hh"

namespace toron {

struct ManifestDeleter {
  void operator()(toron_manifest *p) const noexcept { toron_manifest_free(p); }
};
struct RunDeleter {
  // Cancels a run still going on and waits for it (and for its last callback).
  void operator()(toron_run *p) const noexcept { toron_run_free(p); }
};
using Manifest = std::unique_ptr<toron_manifest, ManifestDeleter>;

inline Manifest manifest_from_path(const std::string &path) {
  toron_manifest *raw = nullptr;
  check(toron_manifest_from_path(path.c_str(), &raw));
  return Manifest(raw);
}

// A run. With a callback, the callback object lives here, so it outlives every call (the run is freed
// first: members are destroyed in reverse order).
class Run {
 public:
  using Callback = std::function<void(const char *event_json)>;

  static Run start(const Manifest &manifest, const std::string &options) {
    Run run;
    toron_run *raw = nullptr;
    check(toron_run_start(manifest.get(), options.c_str(), &raw));
    run.run_.reset(raw);
    return run;
  }

  // The callback runs on a thread of the run, one call at a time; it must not throw.
  static Run start(const Manifest &manifest, const std::string &options, Callback callback) {
    Run run;
    run.callback_ = std::make_unique<Callback>(std::move(callback));
    toron_run *raw = nullptr;
    check(toron_run_start_with_callback(manifest.get(), options.c_str(), &Run::trampoline, run.callback_.get(), &raw));
    run.run_.reset(raw);
    return run;
  }

  std::string id() const { return toron_run_id(run_.get()); }

  // The next event, or nothing at the end of the stream; throws on a timeout or an error.
  std::optional<std::string> next_event(int64_t timeout_ms = -1) {
    char *raw = nullptr;
    toron_status status = toron_run_next_event(run_.get(), timeout_ms, &raw);
    if (status == TORON_END_OF_STREAM) return std::nullopt;
    check(status);
    return std::string(String(raw).get());
  }

  void cancel() { check(toron_run_cancel(run_.get())); }

  std::string wait() {
    char *raw = nullptr;
    check(toron_run_wait(run_.get(), &raw));
    return String(raw).get();
  }

  explicit operator bool() const { return run_ != nullptr; }

 private:
  Run() = default;
  static void trampoline(void *userdata, const char *event_json) {
    (*static_cast<Callback *>(userdata))(event_json);
  }
  std::unique_ptr<Callback> callback_;
  std::unique_ptr<toron_run, RunDeleter> run_;
};

}  // namespace toron

static bool has(const std::string &haystack, const std::string &needle) {
  return haystack.find(needle) != std::string::npos;
}

static std::string dir;

static void write_file(const std::string &name, const std::string &text) { std::ofstream(dir + "/" + name) << text; }

static std::vector<std::string> read_lines(const std::string &path) {
  std::vector<std::string> lines;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

static void check_stream(const std::vector<std::string> &events) {
  CHECK(events.size() >= 4);
  for (size_t i = 0; i < events.size(); i++) CHECK(has(events[i], "{\"seq\":" + std::to_string(i + 1) + ","));
  if (events.empty()) return;
  CHECK(has(events.front(), "\"type\":\"run.scheduled\""));
  CHECK(has(events.back(), "\"type\":\"run.finished\""));
}

static void test_run() {
  try {
    auto manifest = toron::manifest_from_path(dir + "/testops.toml");
    std::vector<std::string> delivered, polled;
    auto run = toron::Run::start(manifest, R"({"check": true, "jobs": 2})",
                                 [&delivered](const char *event) { delivered.emplace_back(event); });
    while (auto event = run.next_event()) polled.push_back(*event);
    std::string result = run.wait();  // after the last callback: `delivered` is complete
    check_stream(polled);
    CHECK(delivered == polled);
    CHECK(read_lines(dir + "/.toron/events/" + run.id() + ".events.ndjson") == polled);
    CHECK(has(result, "\"state\":\"passed\""));
    CHECK(has(result, "\"name\":\"hi\",\"outcome\":\"passed\""));
    CHECK(has(result, "\"name\":\"echo\",\"outcome\":\"passed\""));
    CHECK(has(result, "\"id\":\"" + run.id() + "\""));
    CHECK(!run.next_event(0).has_value());
    CHECK(run.wait() == result);
  } catch (const toron::Error &e) {
    CHECK(!"unexpected error");
    std::fprintf(stderr, "  %s: %s\n", toron_status_name(e.status), e.what());
  }
}

static void test_errors() {
  auto bad = expect_error(TORON_MANIFEST_ERROR, [] { toron::manifest_from_path(dir + "/bad_testops.toml"); });
  CHECK(has(bad.what(), "bad_testops.toml:3:") && bad.field == "suite[0].flavour");
  expect_error(TORON_IO_ERROR, [] { toron::manifest_from_path(dir + "/missing.toml"); });

  auto manifest = toron::manifest_from_path(dir + "/testops.toml");
  auto unknown = expect_error(TORON_INVALID_ARGUMENT, [&] { toron::Run::start(manifest, R"({"sede": 1})"); });
  CHECK(unknown.field == "sede" && has(unknown.what(), "unknown key"));
  auto jobs = expect_error(TORON_INVALID_ARGUMENT, [&] { toron::Run::start(manifest, R"({"jobs": 0})"); });
  CHECK(jobs.field == "jobs");
  expect_error(TORON_JSON_ERROR, [&] { toron::Run::start(manifest, "{"); });
  expect_error(TORON_NULL_ARGUMENT, [] { toron::Run::start(toron::Manifest(), "{}"); });

  // A run dropped while it runs (its sleep has 30 s to go): cancelled, waited for, the callback's last
  // event delivered before the destructor returns.
  auto sleeper = toron::manifest_from_path(dir + "/sleeper.toml");
  std::vector<std::string> delivered;
  {
    auto run = toron::Run::start(sleeper, "{}", [&delivered](const char *event) { delivered.emplace_back(event); });
    // Up to case.started: then the case sleeps, so nothing comes.
    while (auto event = run.next_event(30000)) {
      if (has(*event, "\"type\":\"case.started\"")) break;
    }
    auto timeout = expect_error(TORON_TIMEOUT, [&] { run.next_event(0); });
    CHECK(has(timeout.what(), "no event within 0 ms"));
  }
  check_stream(delivered);
  CHECK(!delivered.empty() && has(delivered.back(), "\"state\":\"cancelled\""));

  // Empty handles free nothing.
  toron::Manifest empty;
  toron::String nothing;
}

int main() {
  char tmpl[] = "/tmp/toron-test-run-cc-XXXXXX";
  if (mkdtemp(tmpl) == nullptr) {
    std::perror("mkdtemp");
    return 1;
  }
  dir = tmpl;
  write_file("echo_small.toml",
             "name = \"echo_small\"\nseed = 1\nstop = { requests = 200 }\n[[node]]\nid = \"server\"\nmodel = \"echo\"\n"
             "[network]\nlatency = { dist = \"constant\", value = \"5ms\" }\n"
             "[load]\nmode = \"closed\"\nclients = 2\ntarget = \"server\"\n");
  write_file("testops.toml",
             "[[suite]]\nname = \"unit\"\n"
             "[[suite.case]]\nname = \"hi\"\nkind = \"command\"\nargv = [\"sh\", \"-c\", \"echo hi\"]\n"
             "[[suite]]\nname = \"sim\"\n"
             "[[suite.case]]\nname = \"echo\"\nkind = \"sim\"\nscenario = \"echo_small.toml\"\n"
             "[[gate]]\nrule = \"failed == 0\"\n");
  write_file("sleeper.toml",
             "[[suite]]\nname = \"slow\"\n"
             "[[suite.case]]\nname = \"sleeper\"\nkind = \"command\"\nargv = [\"sh\", \"-c\", \"exec sleep 30\"]\n");
  write_file("bad_testops.toml", "[[suite]]\nname = \"unit\"\nflavour = \"vanilla\"\n");

  test_run();
  test_errors();

  std::string rm = "rm -rf '" + dir + "'";
  if (std::system(rm.c_str()) != 0) std::fprintf(stderr, "could not remove %s\n", dir.c_str());
  std::printf("test_run_cc: %d checks, %d failed\n", checks, failures);
  return failures == 0 ? 0 : 1;
}

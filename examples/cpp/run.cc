// Run a test-operations manifest and print each event as it arrives (polled with toron_run_next_event),
// then the verdict; exit 0 when the run passed. The same example as examples/c/run.c, which uses a callback.
//
//   make test-c                   builds it and runs it under valgrind on a copy of examples/c/run_manifest.toml
//   ./run_cc MANIFEST [OPTIONS]   e.g. ./run_cc examples/c/run_manifest.toml '{"jobs": 2}' (from the repo root;
//                                 the run writes .toron/ and reports/ beside the manifest)
#include <cstdint>
#include <cstdio>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>

#include "toron.h"

namespace {

// Owning handles: the deleter runs the matching _free, so nothing leaks on any path. Freeing a run that is
// still going on cancels it and waits for it.
struct ManifestDeleter {
  void operator()(toron_manifest *p) const noexcept { toron_manifest_free(p); }
};
struct RunDeleter {
  void operator()(toron_run *p) const noexcept { toron_run_free(p); }
};
struct StringDeleter {
  void operator()(char *p) const noexcept { toron_string_free(p); }
};
using Manifest = std::unique_ptr<toron_manifest, ManifestDeleter>;
using Run = std::unique_ptr<toron_run, RunDeleter>;
using String = std::unique_ptr<char, StringDeleter>;

// A failed call, with the thread's last error as its message.
struct Error : std::runtime_error {
  explicit Error(toron_status status)
      : std::runtime_error(std::string(toron_status_name(status)) + ": " + toron_last_error_message()) {}
};

void check(toron_status status) {
  if (status != TORON_OK) throw Error(status);
}

Manifest load(const std::string &path) {
  toron_manifest *raw = nullptr;
  check(toron_manifest_from_path(path.c_str(), &raw));
  return Manifest(raw);
}

Run start(const Manifest &manifest, const char *options_json) {
  toron_run *raw = nullptr;
  check(toron_run_start(manifest.get(), options_json, &raw));
  return Run(raw);
}

// The next event, waiting as long as it takes; nothing after run.finished.
std::optional<std::string> next_event(const Run &run) {
  char *raw = nullptr;
  toron_status status = toron_run_next_event(run.get(), -1, &raw);
  if (status == TORON_END_OF_STREAM) return std::nullopt;
  check(status);
  return std::string(String(raw).get());
}

std::string wait(const Run &run) {
  char *raw = nullptr;
  check(toron_run_wait(run.get(), &raw));
  return String(raw).get();
}

// The string value that follows `"key":"` in `json` (the first one).
std::string string_after(const std::string &json, const std::string &key) {
  std::string needle = "\"" + key + "\":\"";
  auto start = json.find(needle);
  if (start == std::string::npos) return "";
  start += needle.size();
  return json.substr(start, json.find('"', start) - start);
}

}  // namespace

int main(int argc, char **argv) {
  if (argc < 2 || argc > 3) {
    std::fprintf(stderr, "usage: %s MANIFEST [OPTIONS_JSON]   (e.g. examples/c/run_manifest.toml '{\"jobs\": 2}')\n",
                 argv[0]);
    return 2;
  }
  try {
    Manifest manifest = load(argv[1]);
    Run run = start(manifest, argc > 2 ? argv[2] : nullptr);
    unsigned events = 0;
    while (auto event = next_event(run)) {
      std::printf("%s\n", event->c_str());
      std::fflush(stdout);
      events++;
    }
    std::string result = wait(run);
    std::string state = string_after(result, "state");
    std::printf("run %s: %s (%s), %u events\n", toron_run_id(run.get()), state.c_str(),
                string_after(result, "verdict").c_str(), events);
    return state == "passed" ? 0 : 1;
  } catch (const Error &e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
}

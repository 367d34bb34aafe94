// Simulate the shipped M/M/1 and buggy kv scenarios and print each digest and summary
// (the same example as examples/simulate.rs, through the C API with C++ RAII wrappers).
//
//   make test-c               builds and runs it under valgrind
//   ./simulate [SCENARIO]...  defaults to examples/scenarios/mm1.toml and kv_buggy.toml (run from the repo root)
#include <cstdio>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "toron.h"

namespace {

// Owning handles: the deleter runs the matching _free, so nothing leaks on any path.
struct ScenarioDeleter {
  void operator()(toron_scenario *p) const noexcept { toron_scenario_free(p); }
};
struct OutcomeDeleter {
  void operator()(toron_outcome *p) const noexcept { toron_outcome_free(p); }
};
using Scenario = std::unique_ptr<toron_scenario, ScenarioDeleter>;
using Outcome = std::unique_ptr<toron_outcome, OutcomeDeleter>;

// A failed call, with the thread's last error as its message.
struct Error : std::runtime_error {
  explicit Error(toron_status status)
      : std::runtime_error(std::string(toron_status_name(status)) + ": " + toron_last_error_message()) {}
};

void check(toron_status status) {
  if (status != TORON_OK) throw Error(status);
}

Scenario load(const std::string &path) {
  toron_scenario *raw = nullptr;
  check(toron_scenario_from_path(path.c_str(), &raw));
  return Scenario(raw);
}

Outcome simulate(const Scenario &scenario) {
  toron_outcome *raw = nullptr;
  check(toron_simulate_default_seed(scenario.get(), &raw));
  return Outcome(raw);
}

}  // namespace

int main(int argc, char **argv) {
  std::vector<std::string> paths(argv + 1, argv + argc);
  if (paths.empty()) paths = {"examples/scenarios/mm1.toml", "examples/scenarios/kv_buggy.toml"};
  std::printf("toron %s\n", toron_version());
  try {
    for (const auto &path : paths) {
      Scenario scenario = load(path);
      Outcome outcome = simulate(scenario);
      std::printf("%s\n%s\n", toron_outcome_digest(outcome.get()), toron_outcome_summary(outcome.get()));
      if (toron_outcome_violation_count(outcome.get()) > 0) {
        toron_violation v;
        check(toron_outcome_violation(outcome.get(), 0, &v));
        std::printf("  violation at %.3fs on %s: %s: %s\n", v.time, v.node, v.invariant, v.message);
      }
    }
  } catch (const Error &e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}

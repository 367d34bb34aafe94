// C++ tests of include/toron.h through RAII wrappers (std::unique_ptr with custom deleters, exceptions
// carrying the status): vectors, bad input, NULL, options and sweeps, with nothing freed by hand.
//
// Usage: test_sim_cc [SCENARIO SEED DIGEST VIOLATIONS]...   (as tests/c/test_sim.c; run from the repository root)
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "check.hh"

namespace toron {

struct ScenarioDeleter {
  void operator()(toron_scenario *p) const noexcept { toron_scenario_free(p); }
};
struct OutcomeDeleter {
  void operator()(toron_outcome *p) const noexcept { toron_outcome_free(p); }
};
using Scenario = std::unique_ptr<toron_scenario, ScenarioDeleter>;
using Outcome = std::unique_ptr<toron_outcome, OutcomeDeleter>;

inline Scenario from_path(const std::string &path) {
  toron_scenario *raw = nullptr;
  check(toron_scenario_from_path(path.c_str(), &raw));
  return Scenario(raw);
}

inline Scenario from_str(const std::string &text, const std::string &format) {
  toron_scenario *raw = nullptr;
  check(toron_scenario_from_str(text.c_str(), format.c_str(), &raw));
  return Scenario(raw);
}

inline Outcome simulate(const Scenario &scenario, uint64_t seed) {
  toron_outcome *raw = nullptr;
  check(toron_simulate(scenario.get(), seed, &raw));
  return Outcome(raw);
}

inline Outcome simulate_opts(const Scenario &scenario, const std::string &options) {
  toron_outcome *raw = nullptr;
  check(toron_simulate_opts(scenario.get(), options.c_str(), &raw));
  return Outcome(raw);
}

inline std::string to_json(const Outcome &outcome) {
  char *raw = nullptr;
  check(toron_outcome_to_json(outcome.get(), &raw));
  return String(raw).get();
}

inline std::string sweep(const Scenario &scenario, const std::vector<uint64_t> &seeds, size_t threads) {
  char *raw = nullptr;
  check(toron_sweep(scenario.get(), seeds.data(), seeds.size(), threads, &raw));
  return String(raw).get();
}

}  // namespace toron

static void test_vector(const std::string &path, uint64_t seed, const std::string &digest, size_t violations) {
  try {
    auto scenario = toron::from_path(path);
    auto a = toron::simulate(scenario, seed);
    auto b = toron::simulate(scenario, seed);
    auto other = toron::simulate(scenario, seed + 1);
    CHECK(toron_outcome_digest(a.get()) == digest);
    CHECK(std::string(toron_outcome_digest(a.get())) == toron_outcome_digest(b.get()));
    CHECK(toron_outcome_seed(a.get()) == seed);
    CHECK(toron_outcome_violation_count(a.get()) == violations);
    CHECK(toron_outcome_seed(other.get()) == seed + 1);
    CHECK(toron::to_json(a).find("\"digest\":\"" + digest + "\"") != std::string::npos);
    // A sweep gives the outcomes in the order of the seeds, each as simulate gives it.
    std::string all = toron::sweep(scenario, {seed + 1, seed}, 0);
    std::string first = toron::to_json(other), second = toron::to_json(a);
    CHECK(all == "[" + first + "," + second + "]");
    auto same = toron::simulate_opts(scenario, "{\"seed\": " + std::to_string(seed) + "}");
    CHECK(toron_outcome_digest(same.get()) == digest);
  } catch (const toron::Error &e) {
    CHECK(!"unexpected error");
    std::fprintf(stderr, "  %s: %s\n", toron_status_name(e.status), e.what());
  }
}

static void test_errors() {
  auto missing = expect_error(TORON_IO_ERROR, [] { toron::from_path("tests/c/data/no_such_file.toml"); });
  CHECK(std::string(missing.what()).find("no_such_file.toml") != std::string::npos);

  auto unknown = expect_error(TORON_SCENARIO_ERROR, [] { toron::from_path("tests/c/data/unknown_node.toml"); });
  CHECK(unknown.line == 13);
  CHECK(unknown.field == "fault[0].node");

  auto syntax = expect_error(TORON_SCENARIO_ERROR, [] { toron::from_path("tests/c/data/syntax_error.toml"); });
  CHECK(syntax.line == 4);

  expect_error(TORON_INVALID_ARGUMENT, [] { toron::from_str("name = \"x\"", "yaml"); });
  expect_error(TORON_NULL_ARGUMENT, [] { toron::simulate(toron::Scenario(), 1); });

  auto echo = toron::from_path("examples/scenarios/echo.toml");
  auto bad_seed = expect_error(TORON_INVALID_ARGUMENT, [&] { toron::simulate_opts(echo, "{\"seed\": \"1\"}"); });
  CHECK(bad_seed.field == "seed");
  expect_error(TORON_JSON_ERROR, [&] { toron::simulate_opts(echo, "not json"); });

  // Empty handles free nothing; moved-from handles neither.
  toron::Scenario empty;
  toron::Outcome none;
  toron::String nothing;
  auto moved = std::move(echo);
  CHECK(echo == nullptr && moved != nullptr);
}

int main(int argc, char **argv) {
  if ((argc - 1) % 4 != 0) {
    std::fprintf(stderr, "usage: %s [SCENARIO SEED DIGEST VIOLATIONS]...\n", argv[0]);
    return 2;
  }
  CHECK(std::string(toron_version()) == TORON_VERSION);
  for (int i = 1; i + 3 < argc; i += 4) {
    test_vector(argv[i], std::strtoull(argv[i + 1], nullptr, 10), argv[i + 2],
                static_cast<size_t>(std::strtoull(argv[i + 3], nullptr, 10)));
  }
  test_errors();
  std::printf("test_sim_cc: %d vector case(s), %d checks, %d failed\n", (argc - 1) / 4, checks, failures);
  return failures == 0 ? 0 : 1;
}

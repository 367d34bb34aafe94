/*
 * Simulate the shipped M/M/1 and buggy kv scenarios and print each digest and summary
 * (the same example as examples/simulate.rs, through the C API).
 *
 *   make test-c            builds and runs it under valgrind
 *   ./simulate [SCENARIO]...  defaults to examples/scenarios/mm1.toml and kv_buggy.toml (run from the repo root)
 */
#include <stdio.h>

#include "toron.h"

/* Simulate one scenario file with its own seed; 0 on success. */
static int simulate_file(const char *path) {
  toron_scenario *scenario = NULL;
  toron_outcome *outcome = NULL;
  int rc = 1;

  if (toron_scenario_from_path(path, &scenario) != TORON_OK) goto done;
  if (toron_simulate_default_seed(scenario, &outcome) != TORON_OK) goto done;

  printf("%s\n", toron_outcome_digest(outcome));
  printf("%s\n", toron_outcome_summary(outcome));
  if (toron_outcome_violation_count(outcome) > 0) {
    toron_violation v;
    if (toron_outcome_violation(outcome, 0, &v) != TORON_OK) goto done;
    printf("  violation at %.3fs on %s: %s: %s\n", v.time, v.node, v.invariant, v.message);
  }
  rc = 0;

done:
  /* Freeing leaves the last error alone, so it can be printed after clean-up; _free(NULL) is a no-op. */
  toron_outcome_free(outcome);
  toron_scenario_free(scenario);
  if (rc != 0) fprintf(stderr, "error (%s): %s\n", toron_status_name(toron_last_error_status()), toron_last_error_message());
  return rc;
}

int main(int argc, char **argv) {
  static const char *defaults[] = {"examples/scenarios/mm1.toml", "examples/scenarios/kv_buggy.toml"};
  const char *const *paths = argc > 1 ? (const char *const *)(argv + 1) : defaults;
  int n = argc > 1 ? argc - 1 : 2;
  printf("toron %s\n", toron_version());
  for (int i = 0; i < n; i++) {
    if (simulate_file(paths[i]) != 0) return 1;
  }
  return 0;
}

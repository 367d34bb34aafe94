/*
 * Threads: one scenario simulated from several threads at once gives one digest, and each thread sees only
 * its own last error. Run under valgrind by `make test-c`; run from the repository root.
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "toron.h"

#define THREADS 4

typedef struct {
  const toron_scenario *scenario; /* shared by every thread: scenarios are immutable */
  int index;
  char digest[65];
  int ok;
} job;

static void *run(void *arg) {
  job *j = arg;
  char missing[64];
  snprintf(missing, sizeof missing, "tests/c/data/missing-%d.toml", j->index);
  toron_scenario *none = NULL;
  toron_outcome *outcome = NULL;
  /* An error of this thread's own... */
  int own_error = toron_scenario_from_path(missing, &none) == TORON_IO_ERROR;
  /* ...then a simulation of the shared scenario (which clears it)... */
  int simulated = toron_simulate(j->scenario, 1, &outcome) == TORON_OK;
  if (simulated) snprintf(j->digest, sizeof j->digest, "%s", toron_outcome_digest(outcome));
  toron_outcome_free(outcome);
  int cleared = strcmp(toron_last_error_message(), "") == 0;
  /* ...then the error again: the message names this thread's file only. */
  toron_scenario_from_path(missing, &none);
  int mine = strstr(toron_last_error_message(), missing) != NULL;
  j->ok = own_error && simulated && cleared && mine && none == NULL;
  return NULL;
}

int main(void) {
  toron_scenario *scenario = NULL;
  toron_outcome *outcome = NULL;
  if (toron_scenario_from_path("tests/vectors/scenarios/mm1_small.toml", &scenario) != TORON_OK ||
      toron_simulate(scenario, 1, &outcome) != TORON_OK) {
    fprintf(stderr, "test_threads: %s\n", toron_last_error_message());
    return 1;
  }
  /* The main thread's last error: set here, untouched by the other threads. */
  toron_scenario_from_path(NULL, NULL);

  job jobs[THREADS];
  pthread_t threads[THREADS];
  for (int i = 0; i < THREADS; i++) {
    jobs[i] = (job){.scenario = scenario, .index = i, .digest = {0}, .ok = 0};
    if (pthread_create(&threads[i], NULL, run, &jobs[i]) != 0) return 1;
  }
  int failures = 0;
  for (int i = 0; i < THREADS; i++) {
    pthread_join(threads[i], NULL);
    if (!jobs[i].ok || strcmp(jobs[i].digest, toron_outcome_digest(outcome)) != 0) {
      fprintf(stderr, "test_threads: thread %d: ok=%d digest=%s, expected %s\n", i, jobs[i].ok, jobs[i].digest,
              toron_outcome_digest(outcome));
      failures++;
    }
  }
  if (toron_last_error_status() != TORON_NULL_ARGUMENT) {
    fprintf(stderr, "test_threads: the main thread's last error changed: %s\n", toron_last_error_message());
    failures++;
  }
  toron_outcome_free(outcome);
  toron_scenario_free(scenario);
  printf("test_threads: %d threads, %d failed\n", THREADS, failures);
  return failures == 0 ? 0 : 1;
}

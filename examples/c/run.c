/*
 * Run a test-operations manifest and print each event as it arrives (a callback, on the run's own thread),
 * then the verdict; exit 0 when the run passed. The same example as examples/cpp/run.cc, which polls.
 *
 *   make test-c                  builds it and runs it under valgrind on a copy of examples/c/run_manifest.toml
 *   ./run_c MANIFEST [OPTIONS]   e.g. ./run_c examples/c/run_manifest.toml '{"jobs": 2}' (from the repo root;
 *                                the run writes .toron/ and reports/ beside the manifest)
 */
#include <stdio.h>
#include <string.h>

#include "toron.h"

/* Called for every event, in seq order, one call at a time, on a thread of the run; `event_json` lives only
 * during the call. */
static void print_event(void *userdata, const char *event_json) {
  unsigned *count = userdata;
  (*count)++;
  printf("%s\n", event_json);
  fflush(stdout);
}

/* Copy the string value that follows `"key":"` in `json` (the first one) into `out`. */
static void string_after(const char *json, const char *key, char *out, size_t size) {
  char needle[64];
  snprintf(needle, sizeof needle, "\"%s\":\"", key);
  const char *start = strstr(json, needle);
  out[0] = '\0';
  if (start == NULL) return;
  start += strlen(needle);
  const char *end = strchr(start, '"');
  if (end != NULL) snprintf(out, size, "%.*s", (int)(end - start), start);
}

int main(int argc, char **argv) {
  if (argc < 2 || argc > 3) {
    fprintf(stderr, "usage: %s MANIFEST [OPTIONS_JSON]   (e.g. examples/c/run_manifest.toml '{\"jobs\": 2}')\n",
            argv[0]);
    return 2;
  }
  toron_manifest *manifest = NULL;
  toron_run *run = NULL;
  char *result = NULL;
  unsigned events = 0;
  int rc = 1;

  if (toron_manifest_from_path(argv[1], &manifest) != TORON_OK) goto done;
  /* The options are a JSON object named as the Python keywords (argv[2]); NULL means the defaults. */
  if (toron_run_start_with_callback(manifest, argc > 2 ? argv[2] : NULL, print_event, &events, &run) != TORON_OK)
    goto done;
  /* Returns when the run has ended and the last callback has returned. */
  if (toron_run_wait(run, &result) != TORON_OK) goto done;

  char state[32], verdict[32];
  string_after(result, "state", state, sizeof state);
  string_after(result, "verdict", verdict, sizeof verdict);
  printf("run %s: %s (%s), %u events\n", toron_run_id(run), state, verdict, events);
  rc = strcmp(state, "passed") == 0 ? 0 : 1;

done:
  /* _free(NULL) is a no-op; freeing leaves the last error alone, so it can be printed after clean-up. */
  toron_string_free(result);
  toron_run_free(run);
  toron_manifest_free(manifest);
  if (rc != 0 && toron_last_error_status() != TORON_OK)
    fprintf(stderr, "error (%s): %s\n", toron_status_name(toron_last_error_status()), toron_last_error_message());
  return rc;
}

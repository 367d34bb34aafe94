/*
 * C tests of the warroom of include/toron.h: a manifest with one golden sim case written to a temporary
 * directory and run in check mode with no golden (NO-GO: the golden is missing), an incident opened for it
 * (JSON in, JSON out), listed, read and moved through its statuses; the golden rolled back to the run's
 * archived output (dry run first), after which the next run is GO; the postmortem written. Bad input on
 * every call is TORON_WARROOM_ERROR with the detail in the last error, outputs untouched on failure, NULL
 * arguments, _free(NULL). Run under valgrind by `make test-c`.
 *
 * Usage: test_warroom   (writes only under a fresh mkdtemp directory, removed at the end)
 */
#define _XOPEN_SOURCE 700
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "toron.h"

#include "check.h"

#define SENTINEL_STRING ((char *)(uintptr_t)0x57)

static const char *const SCENARIO =
    "name = \"echo_small\"\n"
    "seed = 1\n"
    "stop = { requests = 100 }\n"
    "[[node]]\n"
    "id = \"server\"\n"
    "model = \"echo\"\n"
    "[network]\n"
    "latency = { dist = \"constant\", value = \"5ms\" }\n"
    "[load]\n"
    "mode = \"closed\"\n"
    "clients = 2\n"
    "target = \"server\"\n";

static const char *const MANIFEST =
    "[project]\n"
    "name = \"c-warroom\"\n"
    "[[suite]]\n"
    "name = \"sim\"\n"
    "[[suite.case]]\n"
    "name = \"echo\"\n"
    "kind = \"sim\"\n"
    "scenario = \"echo_small.toml\"\n"
    "seed = 4\n"
    "golden = true\n"
    "[[gate]]\n"
    "rule = \"failed == 0\"\n";

static char dir[64];

static void in_dir(char *buf, size_t size, const char *name) { snprintf(buf, size, "%s/%s", dir, name); }

static void write_file(const char *name, const char *text) {
  char path[256];
  in_dir(path, sizeof path, name);
  FILE *f = fopen(path, "w");
  CHECK(f != NULL);
  if (f == NULL) return;
  fputs(text, f);
  fclose(f);
}

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw) {
  (void)sb;
  (void)flag;
  (void)ftw;
  return remove(path);
}

/* Run the manifest in check mode; the run id into `id`; returns whether the result says GO. */
static int run_once(char *id, size_t size) {
  char path[256];
  in_dir(path, sizeof path, "testops.toml");
  toron_manifest *manifest = NULL;
  CHECK_STATUS(toron_manifest_from_path(path, &manifest), TORON_OK);
  toron_run *run = NULL;
  CHECK_STATUS(toron_run_start(manifest, "{\"check\": true, \"jobs\": 1}", &run), TORON_OK);
  char *result = NULL;
  CHECK_STATUS(toron_run_wait(run, &result), TORON_OK);
  snprintf(id, size, "%s", toron_run_id(run));
  int go = contains(result, "\"verdict\":\"GO\"");
  toron_string_free(result);
  toron_run_free(run);
  toron_manifest_free(manifest);
  return go;
}

static void test_flow(toron_warroom *w) {
  char bad_run[128], good_run[128], request[512];
  CHECK(!run_once(bad_run, sizeof bad_run));

  char *json = NULL;
  CHECK_STATUS(toron_incidents_json(w, NULL, &json), TORON_OK);
  CHECK(str_eq(json, "[]"));
  toron_string_free(json);

  json = NULL;
  CHECK_STATUS(toron_incident_open_json(w, "{\"owner\": \"ana\", \"labels\": [\"golden\"]}", &json), TORON_OK);
  CHECK(contains(json, "\"id\":\"INC-1\""));
  CHECK(contains(json, "\"created\":true"));
  CHECK(contains(json, "\"rule\":\"failed == 0\""));
  CHECK(contains(json, "\"case\":\"sim/echo\""));
  CHECK(contains(json, bad_run));
  toron_string_free(json);

  snprintf(request, sizeof request, "{\"run_id\": \"%s\"}", bad_run);
  json = NULL;
  CHECK_STATUS(toron_incident_open_json(w, request, &json), TORON_OK);
  CHECK(contains(json, "\"created\":false"));
  toron_string_free(json);

  json = NULL;
  CHECK_STATUS(toron_incidents_json(w, "open", &json), TORON_OK);
  CHECK(contains(json, "INC-1"));
  toron_string_free(json);

  json = NULL;
  CHECK_STATUS(toron_incident_get_json(w, "INC-1", &json), TORON_OK);
  CHECK(contains(json, "\"what\":\"opened\""));
  toron_string_free(json);

  /* A dry run, then the rollback of the golden to the run's own output. */
  snprintf(request, sizeof request, "{\"cases\": [\"sim/echo\"], \"to\": \"%s\", \"dry_run\": true}", bad_run);
  json = NULL;
  CHECK_STATUS(toron_rollback_json(w, request, &json), TORON_OK);
  CHECK(contains(json, "\"dry_run\":true"));
  toron_string_free(json);
  /* from_case: another case's output of the run (a renamed case), recorded as source_case. */
  snprintf(request, sizeof request,
           "{\"cases\": [\"sim/renamed\"], \"from_case\": \"sim/echo\", \"to\": \"%s\", \"dry_run\": true}",
           bad_run);
  json = NULL;
  CHECK_STATUS(toron_rollback_json(w, request, &json), TORON_OK);
  CHECK(contains(json, "\"source_case\":\"sim/echo\""));
  toron_string_free(json);
  snprintf(request, sizeof request, "{\"all_failed\": \"%s\", \"to\": \"%s\", \"incident\": \"INC-1\"}", bad_run,
           bad_run);
  json = NULL;
  CHECK_STATUS(toron_rollback_json(w, request, &json), TORON_OK);
  CHECK(contains(json, "\"case\":\"sim/echo\""));
  CHECK(contains(json, "\"from\":null"));
  CHECK(contains(json, "\"id\":1"));
  toron_string_free(json);
  CHECK(run_once(good_run, sizeof good_run));

  json = NULL;
  CHECK_STATUS(toron_incident_set_status(w, "INC-1", "mitigated", "golden rolled back", &json), TORON_OK);
  CHECK(contains(json, "\"status\":\"mitigated\""));
  CHECK(contains(json, "golden rolled back"));
  toron_string_free(json);
  json = NULL;
  CHECK_STATUS(toron_incident_set_status(w, "INC-1", "resolved", NULL, &json), TORON_OK);
  CHECK(contains(json, "\"status\":\"resolved\""));
  toron_string_free(json);

  char *path = NULL;
  CHECK_STATUS(toron_postmortem_write(w, "INC-1", &path), TORON_OK);
  CHECK(contains(path, "postmortems/INC-1.md"));
  CHECK(path != NULL && access(path, R_OK) == 0);
  toron_string_free(path);

  /* Bad input: TORON_WARROOM_ERROR naming what was wrong, outputs untouched. */
  json = SENTINEL_STRING;
  CHECK_STATUS(toron_incident_set_status(w, "INC-1", "mitigated", NULL, &json), TORON_WARROOM_ERROR);
  CHECK(contains(toron_last_error_message(), "it is resolved (allowed next: reopened)"));
  CHECK(json == SENTINEL_STRING);
  CHECK_STATUS(toron_incident_set_status(w, "INC-1", "closed", NULL, &json), TORON_WARROOM_ERROR);
  CHECK_STATUS(toron_incident_get_json(w, "INC-9", &json), TORON_WARROOM_ERROR);
  CHECK(contains(toron_last_error_message(), "newest: INC-1"));
  snprintf(request, sizeof request, "{\"run_id\": \"%s\"}", good_run);
  CHECK_STATUS(toron_incident_open_json(w, request, &json), TORON_WARROOM_ERROR);
  CHECK(contains(toron_last_error_message(), "is GO"));
  CHECK_STATUS(toron_incident_open_json(w, "{\"run_id\": \"run-2.5.0-20000101T000000Z\"}", &json),
               TORON_WARROOM_ERROR);
  CHECK(contains(toron_last_error_message(), "newest: "));
  CHECK_STATUS(toron_incident_open_json(w, "{\"severity\": \"sev9\"}", &json), TORON_WARROOM_ERROR);
  CHECK_STATUS(toron_incident_open_json(w, "{\"colour\": 1}", &json), TORON_WARROOM_ERROR);
  CHECK_STATUS(toron_incident_open_json(w, "{,}", &json), TORON_JSON_ERROR);
  snprintf(request, sizeof request, "{\"cases\": [\"sim/nope\"], \"to\": \"%s\"}", good_run);
  CHECK_STATUS(toron_rollback_json(w, request, &json), TORON_WARROOM_ERROR);
  CHECK(contains(toron_last_error_message(), "archived no output for case \"sim/nope\""));
  snprintf(request, sizeof request, "{\"cases\": [\"sim/other\"], \"from_case\": \"sim/nope\", \"to\": \"%s\"}",
           good_run);
  CHECK_STATUS(toron_rollback_json(w, request, &json), TORON_WARROOM_ERROR);
  CHECK(contains(toron_last_error_message(), "archived no output for case \"sim/nope\""));
  CHECK_STATUS(toron_rollback_json(w, "{\"cases\": [\"sim/echo\"], \"to\": \"run-2.5.0-20000101T000000Z\"}", &json),
               TORON_WARROOM_ERROR);
  CHECK_STATUS(toron_rollback_json(w, "{\"cases\": [\"sim/echo\"]}", &json), TORON_WARROOM_ERROR);
  CHECK_STATUS(toron_postmortem_write(w, "INC-4", &json), TORON_WARROOM_ERROR);
  CHECK(json == SENTINEL_STRING);
}

static void test_null(toron_warroom *w) {
  char *json = SENTINEL_STRING;
  toron_warroom *none = NULL;
  CHECK_STATUS(toron_warroom_open(NULL, NULL, &none), TORON_NULL_ARGUMENT);
  CHECK_STATUS(toron_warroom_open(dir, NULL, NULL), TORON_NULL_ARGUMENT);
  CHECK_STATUS(toron_warroom_open(dir, "{\"archives\": \"x\"}", &none), TORON_WARROOM_ERROR);
  CHECK(none == NULL);
  CHECK_STATUS(toron_incidents_json(NULL, NULL, &json), TORON_NULL_ARGUMENT);
  CHECK_STATUS(toron_incidents_json(w, NULL, NULL), TORON_NULL_ARGUMENT);
  CHECK_STATUS(toron_incident_get_json(w, NULL, &json), TORON_NULL_ARGUMENT);
  CHECK_STATUS(toron_incident_open_json(w, NULL, &json), TORON_NULL_ARGUMENT);
  CHECK_STATUS(toron_incident_set_status(w, "INC-1", NULL, NULL, &json), TORON_NULL_ARGUMENT);
  CHECK_STATUS(toron_rollback_json(w, NULL, &json), TORON_NULL_ARGUMENT);
  CHECK_STATUS(toron_postmortem_write(w, "INC-1", NULL), TORON_NULL_ARGUMENT);
  CHECK(json == SENTINEL_STRING);
  toron_warroom_free(NULL);
}

int main(void) {
  snprintf(dir, sizeof dir, "%s", "/tmp/toron-test-warroom-XXXXXX");
  if (mkdtemp(dir) == NULL) {
    perror("mkdtemp");
    return 1;
  }
  write_file("echo_small.toml", SCENARIO);
  write_file("testops.toml", MANIFEST);

  char wdir[256], options[1024];
  in_dir(wdir, sizeof wdir, "warroom");
  snprintf(options, sizeof options,
           "{\"archive\": \"%s/.toron\", \"snapshots\": \"%s/snapshots\", \"reports\": \"%s/reports\"}", dir, dir,
           dir);
  toron_warroom *w = NULL;
  CHECK_STATUS(toron_warroom_open(wdir, options, &w), TORON_OK);
  if (w != NULL) {
    test_null(w);
    test_flow(w);
  }
  toron_warroom_free(w);

  nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
  printf("test_warroom: %d checks, %d failed\n", checks, failures);
  return failures == 0 ? 0 : 1;
}

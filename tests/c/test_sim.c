/*
 * C tests of include/toron.h: vectors (same scenario and seed => the pinned digest), version macros, bad input
 * (status, line, field, file in the last error), NULL arguments, outputs untouched on failure, _free(NULL),
 * the last error's life cycle, options, sweeps. Run under valgrind by `make test-c`.
 *
 * Usage: test_sim [SCENARIO SEED DIGEST VIOLATIONS]...   (mk/c.mk expands tests/vectors/sim.json into these arguments)
 * Run from the repository root.
 */
#define _POSIX_C_SOURCE 200809L
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "toron.h"

#include "check.h"

/* Placeholders: an output must keep them when a call fails. */
#define SENTINEL_SCENARIO ((toron_scenario *)(uintptr_t)0x5ce)
#define SENTINEL_OUTCOME ((toron_outcome *)(uintptr_t)0x0c0)
#define SENTINEL_STRING ((char *)(uintptr_t)0x57)

static void test_version(void) {
  char expected[64];
  snprintf(expected, sizeof expected, "%d.%d.%d", TORON_VERSION_MAJOR, TORON_VERSION_MINOR, TORON_VERSION_PATCH);
  CHECK(str_eq(TORON_VERSION, expected));
  CHECK(str_eq(toron_version(), TORON_VERSION));
  CHECK(str_eq(toron_status_name(TORON_SCENARIO_ERROR), "TORON_SCENARIO_ERROR"));
  CHECK(str_eq(toron_status_name(-1), "TORON_UNKNOWN_STATUS"));
  CHECK(TORON_OK == 0);
}

static void test_vector(const char *path, uint64_t seed, const char *digest, size_t violations) {
  toron_scenario *scenario = NULL;
  toron_outcome *a = NULL, *b = NULL, *other = NULL;
  CHECK_STATUS(toron_scenario_from_path(path, &scenario), TORON_OK);
  if (scenario == NULL) return;
  CHECK_STATUS(toron_simulate(scenario, seed, &a), TORON_OK);
  CHECK_STATUS(toron_simulate(scenario, seed, &b), TORON_OK);
  CHECK_STATUS(toron_simulate(scenario, seed + 1, &other), TORON_OK);
  if (a != NULL && b != NULL && other != NULL) {
    const char *got = toron_outcome_digest(a);
    if (!str_eq(got, digest)) {
      fprintf(stderr, "%s seed %" PRIu64 ": digest %s, expected %s\n", path, seed, got, digest);
    }
    CHECK(str_eq(got, digest));
    CHECK(strlen(got) == 64);
    CHECK(str_eq(toron_outcome_digest(b), digest));
    CHECK(toron_outcome_seed(other) == seed + 1);
    CHECK(toron_outcome_seed(a) == seed);
    CHECK(toron_outcome_violation_count(a) == violations);
    if (violations > 0) {
      toron_violation v;
      CHECK_STATUS(toron_outcome_violation(a, violations - 1, &v), TORON_OK);
      CHECK(v.node != NULL && v.invariant != NULL && v.message != NULL && v.time >= 0.0);
      CHECK_STATUS(toron_outcome_violation(a, violations, &v), TORON_INVALID_ARGUMENT);
    }

    char *json = SENTINEL_STRING;
    CHECK_STATUS(toron_outcome_to_json(a, &json), TORON_OK);
    char needle[100];
    snprintf(needle, sizeof needle, "\"digest\":\"%s\"", digest);
    CHECK(json != SENTINEL_STRING && contains(json, needle));
    if (json == SENTINEL_STRING) json = NULL;

    /* A sweep on two threads gives the same outcomes as simulate, in the order of the seeds. */
    uint64_t seeds[2] = {seed + 1, seed};
    char *array = NULL, *first = NULL;
    CHECK_STATUS(toron_sweep(scenario, seeds, 2, 2, &array), TORON_OK);
    CHECK_STATUS(toron_outcome_to_json(other, &first), TORON_OK);
    if (array != NULL && first != NULL && json != NULL) {
      size_t n1 = strlen(first), n2 = strlen(json);
      CHECK(strlen(array) == n1 + n2 + 3);
      CHECK(array[0] == '[' && strncmp(array + 1, first, n1) == 0 && array[1 + n1] == ',');
      CHECK(strncmp(array + 2 + n1, json, n2) == 0 && strcmp(array + 2 + n1 + n2, "]") == 0);
    }
    toron_string_free(array);
    toron_string_free(first);
    toron_string_free(json);
  }
  toron_outcome_free(a);
  toron_outcome_free(b);
  toron_outcome_free(other);
  toron_scenario_free(scenario);
}

/* An echo behind a random network: another seed, another digest; the same seed, the same digest. */
static void test_seeds_matter(void) {
  const char *text =
      "name = \"random\"\n"
      "stop = { requests = 200 }\n"
      "[[node]]\nid = \"s\"\nmodel = \"echo\"\n"
      "[network]\nlatency = { dist = \"exponential\", mean = \"5ms\" }\n"
      "[load]\nmode = \"closed\"\nclients = 2\ntarget = \"s\"\n";
  toron_scenario *scenario = NULL;
  toron_outcome *a = NULL, *b = NULL, *c = NULL;
  CHECK_STATUS(toron_scenario_from_str(text, "toml", &scenario), TORON_OK);
  CHECK_STATUS(toron_simulate(scenario, 1, &a), TORON_OK);
  CHECK_STATUS(toron_simulate(scenario, 2, &b), TORON_OK);
  CHECK_STATUS(toron_simulate(scenario, 1, &c), TORON_OK);
  if (a && b && c) {
    CHECK(!str_eq(toron_outcome_digest(a), toron_outcome_digest(b)));
    CHECK(str_eq(toron_outcome_digest(a), toron_outcome_digest(c)));
  }
  toron_outcome_free(a);
  toron_outcome_free(b);
  toron_outcome_free(c);
  toron_scenario_free(scenario);
}

static void test_bad_input(void) {
  toron_scenario *scenario = SENTINEL_SCENARIO;

  /* A missing file: TORON_IO_ERROR naming the file. */
  CHECK_STATUS(toron_scenario_from_path("tests/c/data/no_such_file.toml", &scenario), TORON_IO_ERROR);
  CHECK(scenario == SENTINEL_SCENARIO);
  CHECK(toron_last_error_status() == TORON_IO_ERROR);
  CHECK(contains(toron_last_error_message(), "tests/c/data/no_such_file.toml"));
  CHECK(str_eq(toron_last_error_file(), "tests/c/data/no_such_file.toml"));

  /* A syntax error: TORON_SCENARIO_ERROR with the file and line. */
  CHECK_STATUS(toron_scenario_from_path("tests/c/data/syntax_error.toml", &scenario), TORON_SCENARIO_ERROR);
  CHECK(scenario == SENTINEL_SCENARIO);
  CHECK(toron_last_error_line() == 4);
  CHECK(contains(toron_last_error_message(), "tests/c/data/syntax_error.toml:4"));

  /* An unknown node id: the file, line, field and JSON pointer, and what was expected. */
  CHECK_STATUS(toron_scenario_from_path("tests/c/data/unknown_node.toml", &scenario), TORON_SCENARIO_ERROR);
  CHECK(scenario == SENTINEL_SCENARIO);
  CHECK(toron_last_error_line() == 13);
  CHECK(toron_last_error_column() > 0);
  CHECK(str_eq(toron_last_error_field(), "fault[0].node"));
  CHECK(str_eq(toron_last_error_path(), "/fault/0/node"));
  CHECK(str_eq(toron_last_error_file(), "tests/c/data/unknown_node.toml"));
  CHECK(contains(toron_last_error_message(), "tests/c/data/unknown_node.toml:13"));
  CHECK(contains(toron_last_error_message(), "fault[0].node"));
  CHECK(contains(toron_last_error_message(), "sever"));
  CHECK(contains(toron_last_error_message(), "server"));

  /* The same from text: the line, no file. */
  const char *text =
      "name = \"x\"\n"
      "stop = { time = \"1s\" }\n"
      "[[node]]\n"
      "id = \"a\"\n"
      "model = \"echo\"\n"
      "[[fault]]\n"
      "at = \"1ms\"\n"
      "kind = \"crash\"\n"
      "node = \"b\"\n";
  CHECK_STATUS(toron_scenario_from_str(text, "toml", &scenario), TORON_SCENARIO_ERROR);
  CHECK(toron_last_error_line() == 9);
  CHECK(toron_last_error_file() == NULL);
  CHECK(str_eq(toron_last_error_field(), "fault[0].node"));

  /* A wrong type in JSON: the field and the line. */
  CHECK_STATUS(toron_scenario_from_str("{\"name\": \"x\",\n \"stop\": {\"time\": 5}}", "json", &scenario),
               TORON_SCENARIO_ERROR);
  CHECK(toron_last_error_line() == 2);
  CHECK(contains(toron_last_error_field(), "stop"));

  /* Unknown format, bad UTF-8, bad JSON options. */
  CHECK_STATUS(toron_scenario_from_str(text, "yaml", &scenario), TORON_INVALID_ARGUMENT);
  CHECK(contains(toron_last_error_message(), "yaml"));
  CHECK_STATUS(toron_scenario_from_str("name = \"\xff\"", "toml", &scenario), TORON_INVALID_UTF8);
  CHECK(scenario == SENTINEL_SCENARIO);

  /* A success clears the last error. */
  CHECK_STATUS(toron_scenario_from_str("name = \"ok\"\nstop = { events = 10 }\n[[node]]\nid = \"a\"\nmodel = \"echo\"\n",
                                       "TOML", &scenario),
               TORON_OK);
  CHECK(str_eq(toron_last_error_message(), ""));
  CHECK(toron_last_error_status() == TORON_OK);
  CHECK(toron_last_error_line() == 0 && toron_last_error_field() == NULL && toron_last_error_path() == NULL);
  CHECK(str_eq(toron_scenario_name(scenario), "ok"));

  toron_outcome *outcome = SENTINEL_OUTCOME;
  CHECK_STATUS(toron_simulate_opts(scenario, "{\"seed\": -1}", &outcome), TORON_INVALID_ARGUMENT);
  CHECK(str_eq(toron_last_error_field(), "seed"));
  CHECK_STATUS(toron_simulate_opts(scenario, "{\"seed\": 1,\n\"trace\": }", &outcome), TORON_JSON_ERROR);
  CHECK(toron_last_error_line() == 2);
  CHECK_STATUS(toron_simulate_opts(scenario, "{\"sed\": 1}", &outcome), TORON_INVALID_ARGUMENT);
  CHECK(contains(toron_last_error_message(), "sed"));
  CHECK_STATUS(toron_simulate_opts(scenario, "{\"trace\": \"/nonexistent/dir/t.jsonl\"}", &outcome), TORON_IO_ERROR);
  CHECK(outcome == SENTINEL_OUTCOME);
  /* The last error survives _free and accessors, so clean-up code may run before it is read. */
  toron_scenario_free(scenario);
  CHECK(toron_last_error_status() == TORON_IO_ERROR);
  CHECK(contains(toron_last_error_message(), "/nonexistent/dir/t.jsonl"));
}

static void test_null_arguments(void) {
  toron_scenario *scenario = SENTINEL_SCENARIO;
  toron_outcome *outcome = SENTINEL_OUTCOME;
  char *json = SENTINEL_STRING;
  uint64_t seeds[1] = {1};

  CHECK_STATUS(toron_scenario_from_path(NULL, &scenario), TORON_NULL_ARGUMENT);
  CHECK(contains(toron_last_error_message(), "path"));
  CHECK_STATUS(toron_scenario_from_path("examples/scenarios/echo.toml", NULL), TORON_NULL_ARGUMENT);
  CHECK_STATUS(toron_scenario_from_str(NULL, "toml", &scenario), TORON_NULL_ARGUMENT);
  CHECK_STATUS(toron_scenario_from_str("", NULL, &scenario), TORON_NULL_ARGUMENT);
  CHECK_STATUS(toron_scenario_from_str("", "toml", NULL), TORON_NULL_ARGUMENT);
  CHECK(scenario == SENTINEL_SCENARIO);

  CHECK_STATUS(toron_simulate(NULL, 1, &outcome), TORON_NULL_ARGUMENT);
  CHECK(contains(toron_last_error_message(), "scenario"));
  CHECK_STATUS(toron_simulate_default_seed(NULL, &outcome), TORON_NULL_ARGUMENT);
  CHECK_STATUS(toron_simulate_opts(NULL, "{}", &outcome), TORON_NULL_ARGUMENT);
  CHECK_STATUS(toron_sweep(NULL, seeds, 1, 0, &json), TORON_NULL_ARGUMENT);
  CHECK_STATUS(toron_outcome_to_json(NULL, &json), TORON_NULL_ARGUMENT);
  CHECK_STATUS(toron_outcome_violation(NULL, 0, NULL), TORON_NULL_ARGUMENT);
  CHECK(outcome == SENTINEL_OUTCOME && json == SENTINEL_STRING);

  CHECK(toron_outcome_digest(NULL) == NULL);
  CHECK(toron_outcome_summary(NULL) == NULL);
  CHECK(toron_outcome_seed(NULL) == 0);
  CHECK(toron_outcome_violation_count(NULL) == 0);
  CHECK(toron_scenario_name(NULL) == NULL);

  /* NULL outputs and arrays on a valid scenario. */
  toron_scenario *echo = NULL;
  CHECK_STATUS(toron_scenario_from_path("examples/scenarios/echo.toml", &echo), TORON_OK);
  CHECK_STATUS(toron_simulate(echo, 1, NULL), TORON_NULL_ARGUMENT);
  CHECK_STATUS(toron_simulate_default_seed(echo, NULL), TORON_NULL_ARGUMENT);
  CHECK_STATUS(toron_simulate_opts(echo, NULL, &outcome), TORON_NULL_ARGUMENT);
  CHECK_STATUS(toron_sweep(echo, NULL, 1, 0, &json), TORON_NULL_ARGUMENT);
  CHECK_STATUS(toron_sweep(echo, seeds, 1, 0, NULL), TORON_NULL_ARGUMENT);
  CHECK(outcome == SENTINEL_OUTCOME && json == SENTINEL_STRING);
  /* An empty sweep may pass NULL seeds. */
  CHECK_STATUS(toron_sweep(echo, NULL, 0, 0, &json), TORON_OK);
  CHECK(str_eq(json, "[]"));
  if (json != SENTINEL_STRING) toron_string_free(json);

  toron_outcome *one = NULL;
  CHECK_STATUS(toron_simulate_default_seed(echo, &one), TORON_OK);
  CHECK(toron_outcome_seed(one) == 1); /* echo.toml says seed = 1 */
  CHECK_STATUS(toron_outcome_to_json(one, NULL), TORON_NULL_ARGUMENT);
  CHECK_STATUS(toron_outcome_violation(one, 0, NULL), TORON_NULL_ARGUMENT);
  toron_violation v;
  CHECK_STATUS(toron_outcome_violation(one, 0, &v), TORON_INVALID_ARGUMENT); /* echo has no violations */
  toron_outcome_free(one);
  toron_scenario_free(echo);

  /* _free(NULL) is a no-op, and leaves the last error alone. */
  CHECK_STATUS(toron_simulate(NULL, 1, &outcome), TORON_NULL_ARGUMENT);
  toron_scenario_free(NULL);
  toron_outcome_free(NULL);
  toron_string_free(NULL);
  CHECK(toron_last_error_status() == TORON_NULL_ARGUMENT);
}

static void test_options(void) {
  toron_scenario *echo = NULL;
  toron_outcome *a = NULL, *b = NULL, *c = NULL;
  CHECK_STATUS(toron_scenario_from_path("examples/scenarios/echo.toml", &echo), TORON_OK);
  char trace[64];
  snprintf(trace, sizeof trace, "/tmp/toron-test-c-%ld.jsonl", (long)getpid());
  char options[128];
  snprintf(options, sizeof options, "{\"seed\": 7, \"trace\": \"%s\"}", trace);
  CHECK_STATUS(toron_simulate(echo, 7, &a), TORON_OK);
  CHECK_STATUS(toron_simulate_opts(echo, options, &b), TORON_OK);
  CHECK_STATUS(toron_simulate_opts(echo, "{\"seed\": null}", &c), TORON_OK);
  if (a && b && c) {
    CHECK(str_eq(toron_outcome_digest(a), toron_outcome_digest(b)));
    CHECK(toron_outcome_seed(c) == 1);
    FILE *f = fopen(trace, "r");
    CHECK(f != NULL);
    if (f) {
      char line[16] = {0};
      CHECK(fgets(line, sizeof line, f) != NULL && line[0] == '{');
      fclose(f);
    }
    CHECK(contains(toron_outcome_summary(a), "echo seed=7"));
  }
  remove(trace);
  toron_outcome_free(a);
  toron_outcome_free(b);
  toron_outcome_free(c);
  toron_scenario_free(echo);
}

int main(int argc, char **argv) {
  if ((argc - 1) % 4 != 0) {
    fprintf(stderr, "usage: %s [SCENARIO SEED DIGEST VIOLATIONS]...\n", argv[0]);
    return 2;
  }
  test_version();
  for (int i = 1; i + 3 < argc; i += 4) {
    test_vector(argv[i], strtoull(argv[i + 1], NULL, 10), argv[i + 2], (size_t)strtoull(argv[i + 3], NULL, 10));
  }
  test_seeds_matter();
  test_bad_input();
  test_null_arguments();
  test_options();
  printf("test_sim: %d vector case(s), %d checks, %d failed\n", (argc - 1) / 4, checks, failures);
  return failures == 0 ? 0 : 1;
}

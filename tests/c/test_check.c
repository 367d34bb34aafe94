/*
 * C tests of toron_check_linearizable_json (include/toron.h): the vectors of tests/vectors/linearizable.json,
 * a counterexample in the verdict, EDN input, bad input (JSON and EDN errors with their line, an unknown
 * model, a bad field), NULL arguments and the output untouched on failure; then the checkers on simulations:
 * a recorded history (toron_simulate_opts "history"), `[expect] sometimes` in toron_sweep
 * (TORON_EXPECTATION_ERROR naming the mark) and toron_shrink_json. Run under valgrind by `make test-c`, from
 * the repository root.
 *
 * Usage: test_check VECTORS   (the file tests/c/linear_vectors.py writes)
 */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "toron.h"

#define TORON_TEST_VECTORS
#include "check.h"

/* A placeholder: an output must keep it when a call fails. */
#define SENTINEL_STRING ((char *)(uintptr_t)0x57)

static int vectors = 0;

/* case NAME MODEL BUDGET EXPECT x<history> */
static void vector_case(char **f, int n) {
  CHECK(n == 6 && strcmp(f[0], "case") == 0);
  if (n != 6) return;
  vectors++;
  char *history = unhex(f[5]);
  CHECK(history != NULL);
  char *verdict = NULL;
  CHECK_STATUS(toron_check_linearizable_json(history, f[2], strtoull(f[3], NULL, 10), &verdict), TORON_OK);
  char want[64];
  snprintf(want, sizeof want, "\"linearizable\":%s", strcmp(f[4], "unknown") == 0 ? "null" : f[4]);
  if (verdict == NULL || strstr(verdict, want) == NULL) {
    fprintf(stderr, "case %s: expected %s in %s\n", f[1], want, verdict ? verdict : "(null)");
  }
  CHECK(verdict != NULL && strstr(verdict, want) != NULL);
  int has_counterexample = verdict != NULL && strstr(verdict, "\"counterexample\":null") == NULL;
  CHECK(has_counterexample == (strcmp(f[4], "false") == 0));
  toron_string_free(verdict);
  free(history);
}

static void test_counterexample_and_edn(void) {
  const char *edn =
      "{:index 0 :type :invoke :process 0 :f :write :value 1}\n"
      "{:index 1 :type :ok :process 0 :f :write :value 1}\n"
      "{:index 2 :type :invoke :process 0 :f :write :value 2}\n"
      "{:index 3 :type :ok :process 0 :f :write :value 2}\n"
      "{:index 4 :type :invoke :process 1 :f :read :value nil}\n"
      "{:index 5 :type :ok :process 1 :f :read :value 1}\n";
  char *verdict = NULL;
  CHECK_STATUS(toron_check_linearizable_json(edn, "register", 0, &verdict), TORON_OK);
  CHECK(contains(verdict, "\"linearizable\":false"));
  CHECK(contains(verdict, "\"invoke_index\":4"));
  CHECK(contains(verdict, "\"model\":\"register\""));
  toron_string_free(verdict);
}

static void test_bad_input(void) {
  char *out = SENTINEL_STRING;
  CHECK_STATUS(toron_check_linearizable_json("[{\"process\": 0,\n \"type\": }]", "register", 0, &out),
               TORON_JSON_ERROR);
  CHECK(toron_last_error_line() == 2);
  CHECK_STATUS(toron_check_linearizable_json("{:process 0 :type :ok\n :f [}", "register", 0, &out),
               TORON_INVALID_ARGUMENT);
  CHECK(toron_last_error_line() > 0);
  CHECK_STATUS(toron_check_linearizable_json("[]", "registr", 0, &out), TORON_INVALID_ARGUMENT);
  CHECK(contains(toron_last_error_message(), "unknown model"));
  CHECK_STATUS(toron_check_linearizable_json("[{\"process\": 0, \"type\": \"done\", \"f\": \"read\"}]", "register", 0,
                                             &out),
               TORON_INVALID_ARGUMENT);
  CHECK(str_eq(toron_last_error_field(), "type"));
  CHECK_STATUS(toron_check_linearizable_json("[{\"process\": 0, \"type\": \"invoke\", \"f\": \"read\"}]", "kv", 0, &out),
               TORON_INVALID_ARGUMENT);
  CHECK(str_eq(toron_last_error_field(), "key"));
  CHECK_STATUS(toron_check_linearizable_json(NULL, "kv", 0, &out), TORON_NULL_ARGUMENT);
  CHECK_STATUS(toron_check_linearizable_json("[]", NULL, 0, &out), TORON_NULL_ARGUMENT);
  CHECK_STATUS(toron_check_linearizable_json("[]", "kv", 0, NULL), TORON_NULL_ARGUMENT);
  CHECK(out == SENTINEL_STRING);
  /* The empty history is linearizable. */
  CHECK_STATUS(toron_check_linearizable_json("[]", "kv", 0, &out), TORON_OK);
  CHECK(contains(out, "\"linearizable\":true"));
  toron_string_free(out);
}

static char *read_text(const char *path) {
  FILE *f = fopen(path, "rb");
  if (f == NULL) return NULL;
  char *buf = malloc(1 << 16);
  size_t n = buf ? fread(buf, 1, (1 << 16) - 1, f) : 0;
  fclose(f);
  if (buf) buf[n] = '\0';
  return buf;
}

static void test_simulation_checkers(void) {
  toron_scenario *kv_buggy = NULL;
  CHECK_STATUS(toron_scenario_from_path("examples/scenarios/kv_buggy.toml", &kv_buggy), TORON_OK);
  if (kv_buggy == NULL) return;
  /* The history, recorded on request, is checked by the checker: the lost writes are not linearizable. */
  toron_outcome *outcome = NULL;
  CHECK_STATUS(toron_simulate_opts(kv_buggy, "{\"seed\": 3, \"history\": true}", &outcome), TORON_OK);
  char *json = NULL;
  if (outcome != NULL) CHECK_STATUS(toron_outcome_to_json(outcome, &json), TORON_OK);
  CHECK(contains(json, "\"history\":[{"));
  toron_string_free(json);
  toron_outcome_free(outcome);
  CHECK_STATUS(toron_simulate_opts(kv_buggy, "{\"history\": 1}", &outcome), TORON_INVALID_ARGUMENT);

  /* Shrinking: one fault is left, and the result names the invariant and carries the TOML. */
  char *shrunk = NULL;
  CHECK_STATUS(toron_shrink_json(kv_buggy, "{\"seed\": 3}", &shrunk), TORON_OK);
  CHECK(contains(shrunk, "\"invariant\":\"acknowledged_write_lost\""));
  CHECK(contains(shrunk, "\"toml\":\"# Shrunk by `toron shrink`"));
  CHECK(contains(shrunk, "\"minimal\":{\"clients\":1,\"faults\":1,\"requests\":3,"));
  toron_string_free(shrunk);
  shrunk = SENTINEL_STRING;
  CHECK_STATUS(toron_shrink_json(kv_buggy, "{\"max_runs\": 0}", &shrunk), TORON_INVALID_ARGUMENT);
  CHECK(shrunk == SENTINEL_STRING);
  CHECK(contains(toron_last_error_message(), "max_runs"));
  toron_scenario_free(kv_buggy);

  toron_scenario *kv = NULL;
  CHECK_STATUS(toron_scenario_from_path("examples/scenarios/kv.toml", &kv), TORON_OK);
  CHECK_STATUS(toron_shrink_json(kv, "{\"seed\": 1}", &shrunk), TORON_INVALID_ARGUMENT);
  CHECK(contains(toron_last_error_message(), "violates no invariant"));
  toron_scenario_free(kv);

  /* A sweep in which no seed reached a mark of [expect] sometimes fails naming it. */
  char *text = read_text("examples/scenarios/kv.toml");
  CHECK(text != NULL);
  if (text == NULL) return;
  size_t len = strlen(text);
  const char *extra = "\n[expect]\nsometimes = [\"fault.crash\", \"no.such.mark\"]\n";
  char *with = malloc(len + strlen(extra) + 1);
  memcpy(with, text, len);
  strcpy(with + len, extra);
  toron_scenario *expecting = NULL;
  CHECK_STATUS(toron_scenario_from_str(with, "toml", &expecting), TORON_OK);
  uint64_t seeds[] = {1, 2};
  char *array = SENTINEL_STRING;
  if (expecting != NULL) CHECK_STATUS(toron_sweep(expecting, seeds, 2, 1, &array), TORON_EXPECTATION_ERROR);
  CHECK(array == SENTINEL_STRING);
  CHECK(contains(toron_last_error_message(), "`no.such.mark` never reached on any of 2 seeds (1, 2)"));
  toron_scenario_free(expecting);
  free(with);
  free(text);
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: test_check VECTORS (the file tests/c/linear_vectors.py writes)\n");
    return 2;
  }
  int records = each_vector_record(argv[1], 6, vector_case);
  CHECK(records > 0 && records == vectors);
  test_counterexample_and_edn();
  test_bad_input();
  test_simulation_checkers();
  printf("test_check: %d checks, %d failures, %d vectors\n", checks, failures, vectors);
  return failures == 0 ? 0 : 1;
}

/*
 * C tests of the PII scrubber of include/toron.h: the vectors of tests/vectors/pii.json (text and JSON
 * documents, with their findings and scrubbed output), strict mode, bad options (an unknown kind named by its
 * field), NULL arguments, outputs untouched on failure, a NULL findings output, _free(NULL).
 * Run under valgrind by `make test-c`.
 *
 * Usage: test_pii VECTORS   (the file tests/c/pii_vectors.py writes)
 */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "toron.h"

#define TORON_TEST_VECTORS
#include "check.h"

/* A placeholder: an output must keep it when a call fails. */
#define SENTINEL_STRING ((char *)(uintptr_t)0x57)
#define MAX_FIELDS 8

/* Whether two JSON texts are the same value (their canonical texts are equal). */
static int same_json(const char *a, const char *b) {
  char *ca = NULL, *cb = NULL;
  int same = toron_canonical_json(a, &ca) == TORON_OK && toron_canonical_json(b, &cb) == TORON_OK && str_eq(ca, cb);
  toron_string_free(ca);
  toron_string_free(cb);
  return same;
}

/* text|json NAME x<input> x<options> x<scrubbed> x<findings> */
static void vector(char **fields, int n) {
  CHECK(n == 6);
  if (n != 6) return;
  int is_json = strcmp(fields[0], "json") == 0;
  char *input = unhex(fields[2]), *options = unhex(fields[3]), *want = unhex(fields[4]), *want_findings = unhex(fields[5]);
  CHECK(input != NULL && options != NULL && want != NULL && want_findings != NULL);
  char *out = NULL, *findings = NULL;
  toron_status status = is_json ? toron_pii_scrub_json(input, options, &out, &findings)
                                : toron_pii_scrub_text(input, options, &out, &findings);
  CHECK_STATUS(status, TORON_OK);
  if (status == TORON_OK) {
    if (is_json ? !same_json(out, want) : !str_eq(out, want)) {
      fprintf(stderr, "%s: scrubbed\n  got  %s\n  want %s\n", fields[1], out, want);
      CHECK(0);
    }
    if (!same_json(findings, want_findings)) {
      fprintf(stderr, "%s: findings\n  got  %s\n  want %s\n", fields[1], findings, want_findings);
      CHECK(0);
    }
  }
  toron_string_free(out);
  toron_string_free(findings);
  free(input);
  free(options);
  free(want);
  free(want_findings);
}

static void dispatch(char **fields, int n) {
  if (strcmp(fields[0], "text") == 0 || strcmp(fields[0], "json") == 0) {
    vector(fields, n);
  } else {
    fprintf(stderr, "unknown vector record %s\n", fields[0]);
    CHECK(0);
  }
}

static void test_strict_and_bad_input(void) {
  const char *key = "{\"key\": \"c\"}";
  char *out = SENTINEL_STRING, *findings = SENTINEL_STRING;
  /* Nothing found: strict mode succeeds, and a NULL findings output is allowed. */
  CHECK_STATUS(toron_pii_scrub_text("nothing here", "{\"key\": \"c\", \"strict\": true}", &out, NULL), TORON_OK);
  CHECK(str_eq(out, "nothing here"));
  toron_string_free(out);
  out = SENTINEL_STRING;
  /* Found in strict mode: named by kind and location, never the value; outputs untouched. */
  CHECK_STATUS(toron_pii_scrub_text("a\ncard 4111 1111 1111 1111", "{\"key\": \"c\", \"strict\": true}", &out, &findings),
               TORON_PII_ERROR);
  CHECK(contains(toron_last_error_message(), "card at 2:6"));
  CHECK(!contains(toron_last_error_message(), "4111"));
  CHECK(out == SENTINEL_STRING && findings == SENTINEL_STRING);
  /* An unknown kind: its field and the valid kinds. */
  CHECK_STATUS(toron_pii_scrub_text("x", "{\"kinds\": [\"email\", \"mail\"]}", &out, &findings), TORON_PII_ERROR);
  CHECK(str_eq(toron_last_error_field(), "kinds[1]"));
  CHECK(contains(toron_last_error_message(), "expected one of: email, phone"));
  CHECK_STATUS(toron_pii_scrub_text("x", "{\"kinz\": []}", &out, &findings), TORON_INVALID_ARGUMENT);
  CHECK(str_eq(toron_last_error_field(), "kinz"));
  CHECK_STATUS(toron_pii_scrub_text("x", "[1", &out, &findings), TORON_JSON_ERROR);
  CHECK_STATUS(toron_pii_scrub_json("{\"a\":\n  [1,,2]}", key, &out, &findings), TORON_JSON_ERROR);
  CHECK(toron_last_error_line() == 2);
  CHECK_STATUS(toron_pii_scrub_text("\xff", key, &out, &findings), TORON_INVALID_UTF8);
  /* NULL arguments. */
  CHECK_STATUS(toron_pii_scrub_text(NULL, key, &out, &findings), TORON_NULL_ARGUMENT);
  CHECK_STATUS(toron_pii_scrub_text("x", key, NULL, &findings), TORON_NULL_ARGUMENT);
  CHECK_STATUS(toron_pii_scrub_json(NULL, key, &out, &findings), TORON_NULL_ARGUMENT);
  CHECK_STATUS(toron_pii_scrub_json("{}", key, NULL, &findings), TORON_NULL_ARGUMENT);
  CHECK(out == SENTINEL_STRING && findings == SENTINEL_STRING);
  /* Same value, same placeholder; the findings hold no value. */
  char *a = NULL, *b = NULL, *fa = NULL;
  CHECK_STATUS(toron_pii_scrub_text("to bob@corp.io", key, &a, &fa), TORON_OK);
  CHECK_STATUS(toron_pii_scrub_json("{\"to\": \"bob@corp.io\"}", key, &b, NULL), TORON_OK);
  CHECK(contains(a, "<EMAIL:") && !contains(fa, "bob"));
  CHECK(a != NULL && b != NULL && contains(b, a + 3));
  toron_string_free(a);
  toron_string_free(b);
  toron_string_free(fa);
  toron_string_free(NULL);
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s VECTORS (written by tests/c/pii_vectors.py)\n", argv[0]);
    return 2;
  }
  int vectors = each_vector_record(argv[1], MAX_FIELDS, dispatch);
  CHECK(vectors >= 15);
  test_strict_and_bad_input();
  if (failures != 0) {
    fprintf(stderr, "test_pii: %d of %d checks failed\n", failures, checks);
    return 1;
  }
  printf("test_pii: %d checks passed (%d vectors)\n", checks, vectors);
  return 0;
}

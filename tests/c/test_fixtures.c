/*
 * C tests of the data-set functions of include/toron.h: the vectors of tests/vectors/fixtures.json (same
 * schema, seed and format => the pinned digests, from toron_dataset_digest and from the files
 * toron_dataset_write writes), bad schemas (status, line, field, file in the last error), NULL arguments,
 * outputs untouched on failure, toron_dataset_free(NULL). Run under valgrind by `make test-c`.
 *
 * Usage: test_fixtures [SCHEMA SEED FORMAT DIGEST N (TABLE TABLE_DIGEST){N}]...
 * (mk/c.mk expands tests/vectors/fixtures.json into these arguments with tests/c/fixtures_vectors.py)
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

#define SENTINEL_DATASET ((toron_dataset *)(uintptr_t)0xda7a)
#define SENTINEL_STRING ((char *)(uintptr_t)0x57)

/* Check one case; returns the number of arguments it used. */
static int test_vector(int argc, char **argv) {
  if (argc < 5) {
    fprintf(stderr, "incomplete vector arguments\n");
    failures++;
    return argc;
  }
  const char *schema = argv[0], *format = argv[2], *digest = argv[3];
  uint64_t seed = strtoull(argv[1], NULL, 10);
  int n = atoi(argv[4]);
  if (argc < 5 + 2 * n) {
    fprintf(stderr, "incomplete vector arguments\n");
    failures++;
    return argc;
  }
  toron_dataset *d = NULL;
  CHECK_STATUS(toron_dataset_from_path(schema, &d), TORON_OK);
  if (d == NULL) return 5 + 2 * n;

  char *got = NULL;
  CHECK_STATUS(toron_dataset_digest(d, seed, format, &got), TORON_OK);
  if (!str_eq(got, digest)) fprintf(stderr, "%s seed %" PRIu64 " %s: digest %s, expected %s\n", schema, seed, format, got, digest);
  CHECK(str_eq(got, digest));
  toron_string_free(got);

  char dir[] = "/tmp/toron-fixtures-XXXXXX";
  CHECK(mkdtemp(dir) != NULL);
  char *summary = NULL;
  CHECK_STATUS(toron_dataset_write(d, dir, seed, format, &summary), TORON_OK);
  char needle[128];
  snprintf(needle, sizeof needle, "\"digest\":\"%s\"", digest);
  CHECK(contains(summary, needle));
  for (int i = 0; i < n; i++) {
    const char *table = argv[5 + 2 * i], *table_digest = argv[6 + 2 * i];
    snprintf(needle, sizeof needle, "\"digest\":\"%s\"", table_digest);
    CHECK(contains(summary, needle));
    char path[512];
    snprintf(path, sizeof path, "%s/%s.%s", dir, table, format);
    CHECK(access(path, R_OK) == 0);
    remove(path);
  }
  toron_string_free(summary);
  rmdir(dir);
  toron_dataset_free(d);
  return 5 + 2 * n;
}

static void test_bad_input(void) {
  toron_dataset *d = SENTINEL_DATASET;
  const char *bad =
      "{\n \"version\": 1,\n \"table\": [{\"name\": \"t\", \"rows\": 1,\n  \"field\": [{\"name\": \"n\", \"kind\": \"sek\"}]}]\n}";
  CHECK_STATUS(toron_dataset_from_json(bad, &d), TORON_DATASET_ERROR);
  CHECK(d == SENTINEL_DATASET);
  CHECK(toron_last_error_line() == 4);
  CHECK(str_eq(toron_last_error_field(), "table[0].field[0].kind"));
  CHECK_STATUS(toron_dataset_from_json("{\"version\": 1,,}", &d), TORON_DATASET_ERROR);
  CHECK(toron_last_error_line() == 1);
  CHECK_STATUS(toron_dataset_from_path("/nonexistent/schema.toml", &d), TORON_IO_ERROR);
  CHECK(str_eq(toron_last_error_file(), "/nonexistent/schema.toml"));
  CHECK_STATUS(toron_dataset_from_path("tests/vectors/fixtures/bad_ref.toml", &d), TORON_DATASET_ERROR);
  CHECK(str_eq(toron_last_error_field(), "table[1].field[1].table"));
  CHECK(str_eq(toron_last_error_file(), "tests/vectors/fixtures/bad_ref.toml"));
  CHECK(toron_last_error_line() > 0);
  CHECK(contains(toron_last_error_message(), "unknown table \"custmers\" (expected one of: customers)"));
  CHECK(d == SENTINEL_DATASET);

  CHECK_STATUS(toron_dataset_from_path(NULL, &d), TORON_NULL_ARGUMENT);
  CHECK_STATUS(toron_dataset_from_json(NULL, &d), TORON_NULL_ARGUMENT);
  CHECK_STATUS(toron_dataset_from_json("{}", NULL), TORON_NULL_ARGUMENT);
  CHECK(d == SENTINEL_DATASET);

  toron_dataset *ok = NULL;
  CHECK_STATUS(toron_dataset_from_json(
                   "{\"version\": 1, \"table\": [{\"name\": \"t\", \"rows\": 2, \"field\": [{\"name\": \"n\", \"kind\": \"seq\"}]}]}",
                   &ok),
               TORON_OK);
  char *s = SENTINEL_STRING;
  CHECK_STATUS(toron_dataset_digest(ok, 0, "xml", &s), TORON_INVALID_ARGUMENT);
  CHECK_STATUS(toron_dataset_digest(ok, 0, NULL, &s), TORON_NULL_ARGUMENT);
  CHECK_STATUS(toron_dataset_digest(NULL, 0, "csv", &s), TORON_NULL_ARGUMENT);
  CHECK_STATUS(toron_dataset_digest(ok, 0, "csv", NULL), TORON_NULL_ARGUMENT);
  CHECK_STATUS(toron_dataset_write(ok, NULL, 0, "csv", &s), TORON_NULL_ARGUMENT);
  CHECK_STATUS(toron_dataset_write(ok, "/proc/toron-no-such-dir/x", 0, "csv", &s), TORON_IO_ERROR);
  CHECK(s == SENTINEL_STRING);
  CHECK_STATUS(toron_dataset_digest(ok, 0, "jsonl", &s), TORON_OK);
  CHECK(s != SENTINEL_STRING && strlen(s) == 64);
  toron_string_free(s);
  toron_dataset_free(ok);
  toron_dataset_free(NULL);
}

int main(int argc, char **argv) {
  int cases = 0;
  for (int i = 1; i < argc;) {
    i += test_vector(argc - i, argv + i);
    cases++;
  }
  test_bad_input();
  if (cases == 0) {
    fprintf(stderr, "no vectors given (expected the arguments of tests/c/fixtures_vectors.py)\n");
    failures++;
  }
  printf("test_fixtures: %d checks, %d failures, %d vectors\n", checks, failures, cases);
  return failures == 0 ? 0 : 1;
}

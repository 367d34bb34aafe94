/*
 * C tests of the snapshot and diff functions of include/toron.h: the vectors of tests/vectors/canon.json and
 * tests/vectors/diff.json, bad input (malformed JSON with line and column, a patch op with a bad path and its
 * index, bad options, unknown formats), NULL arguments, outputs untouched on failure, _free(NULL), text diff
 * (unified output, bytes that are not UTF-8, NUL bytes), a golden-file round trip in a temporary directory,
 * and the archive's object store (an object whose bytes were changed is a named error).
 * Run under valgrind by `make test-c`.
 *
 * Usage: test_diff VECTORS   (the file tests/c/diff_vectors.py writes; run from the repository root)
 */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "toron.h"

#define TORON_TEST_VECTORS
#include "check.h"
static int ends_with(const char *s, const char *suffix) {
  size_t n = s ? strlen(s) : 0, m = strlen(suffix);
  return s != NULL && n >= m && strcmp(s + n - m, suffix) == 0;
}

/* A placeholder: an output must keep it when a call fails. */
#define SENTINEL_STRING ((char *)(uintptr_t)0x57)

/* ------------------------------------------------------------------------------------------------------- */
/* Vectors                                                                                                  */
/* ------------------------------------------------------------------------------------------------------- */

/* The library's canonical text of `json` (free it with toron_string_free), or NULL. */
static char *canonical(const char *json) {
  char *out = NULL;
  if (toron_canonical_json(json, &out) != TORON_OK) return NULL;
  return out;
}

/* Whether two JSON texts are the same value: their canonical texts are equal. */
static int same_json(const char *a, const char *b) {
  char *ca = canonical(a), *cb = canonical(b);
  int same = str_eq(ca, cb);
  if (!same) fprintf(stderr, "  got      %s\n  expected %s\n", ca ? ca : a, cb ? cb : b);
  toron_string_free(ca);
  toron_string_free(cb);
  return same;
}

#define MAX_FIELDS 10

static void vector_canon(char **f, int n) {
  CHECK(n == 5);
  if (n != 5) return;
  char *input = unhex(f[2]), *expected = unhex(f[3]);
  char *got = NULL, *hex = NULL;
  CHECK_STATUS(toron_canonical_json(input, &got), TORON_OK);
  CHECK_STATUS(toron_digest_json(input, &hex), TORON_OK);
  if (!str_eq(got, expected)) fprintf(stderr, "canon %s: got %s, expected %s\n", f[1], got, expected);
  CHECK(str_eq(got, expected));
  if (!str_eq(hex, f[4])) fprintf(stderr, "canon %s: digest %s, expected %s\n", f[1], hex, f[4]);
  CHECK(str_eq(hex, f[4]));
  /* The canonical text is a fixed point. */
  char *again = canonical(got);
  CHECK(str_eq(again, got));
  toron_string_free(again);
  toron_string_free(got);
  toron_string_free(hex);
  free(input);
  free(expected);
}

static void vector_canon_error(char **f, int n) {
  CHECK(n == 7);
  if (n != 7) return;
  char *input = unhex(f[2]);
  char *out = SENTINEL_STRING;
  toron_status status = toron_digest_json(input, &out);
  CHECK(out == SENTINEL_STRING);
  if (!str_eq(toron_status_name((int)status), f[3]) || toron_last_error_line() != (size_t)atoi(f[5])) {
    fprintf(stderr, "canon_error %s: %s, line %zu (%s), expected %s line %s\n", f[1], toron_status_name((int)status),
            toron_last_error_line(), toron_last_error_message(), f[3], f[5]);
  }
  CHECK(str_eq(toron_status_name((int)status), f[3]));
  CHECK(toron_last_error_status() == status);
  CHECK(toron_last_error_line() == (size_t)atoi(f[5]));
  if (atoi(f[6]) != 0) CHECK(toron_last_error_column() == (size_t)atoi(f[6]));
  if (strcmp(f[4], "-") != 0) CHECK(str_eq(toron_last_error_path(), f[4]));
  CHECK(contains(toron_last_error_message(), "json: "));
  out = SENTINEL_STRING;
  CHECK(toron_canonical_json(input, &out) == status);
  CHECK(out == SENTINEL_STRING);
  free(input);
}

static void vector_diff(char **f, int n) {
  CHECK(n == 9);
  if (n != 9) return;
  char *old = unhex(f[2]), *new_ = unhex(f[3]), *options = unhex(f[4]), *patch = unhex(f[5]), *summary = unhex(f[6]);
  int coarse = atoi(f[7]), exact = atoi(f[8]);
  char *got_patch = NULL, *got_summary = NULL, *json = NULL;
  CHECK_STATUS(toron_diff_json(old, new_, options, &got_patch), TORON_OK);
  CHECK_STATUS(toron_diff_summary(old, new_, options, &got_summary), TORON_OK);
  if (got_patch != NULL) {
    int same = same_json(got_patch, patch);
    if (!same) fprintf(stderr, "diff %s: patch differs\n", f[1]);
    CHECK(same);
  }
  if (!str_eq(got_summary, summary)) fprintf(stderr, "diff %s: summary %s, expected %s\n", f[1], got_summary, summary);
  CHECK(str_eq(got_summary, summary));
  CHECK(contains(got_summary, "coarse") == coarse);
  CHECK_STATUS(toron_diff_render(old, new_, options, "json", &json), TORON_OK);
  CHECK(contains(json, coarse ? "\"coarse\": true" : "\"coarse\": false"));
  const char *formats[] = {"text", "color", "html"};
  for (size_t i = 0; i < sizeof formats / sizeof *formats; i++) {
    char *r = NULL;
    CHECK_STATUS(toron_diff_render(old, new_, options, formats[i], &r), TORON_OK);
    CHECK(r != NULL && !contains(r, "secret")); /* redacted values never show */
    toron_string_free(r);
  }
  if (exact && got_patch != NULL) {
    /* Applying the patch to old gives new. */
    char *result = NULL;
    CHECK_STATUS(toron_apply_patch_json(old, got_patch, &result), TORON_OK);
    if (result != NULL) CHECK(same_json(result, new_));
    toron_string_free(result);
  }
  toron_string_free(json);
  toron_string_free(got_patch);
  toron_string_free(got_summary);
  free(old);
  free(new_);
  free(options);
  free(patch);
  free(summary);
}

static void vector_apply(char **f, int n) {
  CHECK(n == 5);
  if (n != 5) return;
  char *doc = unhex(f[2]), *patch = unhex(f[3]), *expected = unhex(f[4]), *got = NULL;
  CHECK_STATUS(toron_apply_patch_json(doc, patch, &got), TORON_OK);
  if (got != NULL) {
    int same = same_json(got, expected);
    if (!same) fprintf(stderr, "apply %s: result differs\n", f[1]);
    CHECK(same);
  }
  toron_string_free(got);
  free(doc);
  free(patch);
  free(expected);
}

static void vector_apply_error(char **f, int n) {
  CHECK(n == 6);
  if (n != 6) return;
  char *doc = unhex(f[2]), *patch = unhex(f[3]), *got = SENTINEL_STRING;
  CHECK_STATUS(toron_apply_patch_json(doc, patch, &got), TORON_PATCH_ERROR);
  CHECK(got == SENTINEL_STRING);
  if (toron_last_error_op_index() != atoi(f[4]) || !str_eq(toron_last_error_path(), f[5])) {
    fprintf(stderr, "apply_error %s: op %lld path %s, expected op %s path %s\n", f[1],
            (long long)toron_last_error_op_index(), toron_last_error_path(), f[4], f[5]);
  }
  CHECK(toron_last_error_op_index() == atoi(f[4]));
  CHECK(str_eq(toron_last_error_path(), f[5]));
  char expected[64];
  snprintf(expected, sizeof expected, "operation %s: ", f[4]);
  CHECK(contains(toron_last_error_message(), expected));
  free(doc);
  free(patch);
}

static void dispatch(char **fields, int n) {
  if (strcmp(fields[0], "canon") == 0) {
    vector_canon(fields, n);
  } else if (strcmp(fields[0], "canon_error") == 0) {
    vector_canon_error(fields, n);
  } else if (strcmp(fields[0], "diff") == 0) {
    vector_diff(fields, n);
  } else if (strcmp(fields[0], "apply") == 0) {
    vector_apply(fields, n);
  } else if (strcmp(fields[0], "apply_error") == 0) {
    vector_apply_error(fields, n);
  } else {
    fprintf(stderr, "unknown vector record %s\n", fields[0]);
    CHECK(0);
  }
}

/* ------------------------------------------------------------------------------------------------------- */
/* Bad input, NULL, _free(NULL)                                                                              */
/* ------------------------------------------------------------------------------------------------------- */

static void test_bad_input(void) {
  char *out = SENTINEL_STRING;
  /* Malformed JSON: the argument named, with line and column. */
  CHECK_STATUS(toron_diff_json("{\"a\": 1}", "{\"a\":\n  [1,,2]}", NULL, &out), TORON_JSON_ERROR);
  CHECK(out == SENTINEL_STRING);
  CHECK(toron_last_error_line() == 2);
  CHECK(toron_last_error_column() == 6);
  CHECK(contains(toron_last_error_message(), "new_json: "));
  CHECK(contains(toron_last_error_message(), "line 2:6"));
  CHECK(toron_last_error_op_index() == -1);
  CHECK_STATUS(toron_digest_json("{\"a\": 1, \"a\": 2}", &out), TORON_JSON_ERROR);
  CHECK(str_eq(toron_last_error_path(), "/a"));
  CHECK_STATUS(toron_digest_json("[9007199254740993]", &out), TORON_CANONICAL_ERROR);
  CHECK(str_eq(toron_last_error_path(), "/0"));
  CHECK_STATUS(toron_digest_json("\"\xff\"", &out), TORON_INVALID_UTF8);
  CHECK(out == SENTINEL_STRING);

  /* A patch op with a bad path: the op index and the path. */
  CHECK_STATUS(toron_apply_patch_json("{\"items\": [1, 2]}",
                                      "[{\"op\": \"add\", \"path\": \"/items/0\", \"value\": 0},\n"
                                      " {\"op\": \"replace\", \"path\": \"/items/9\", \"value\": 1}]",
                                      &out),
               TORON_PATCH_ERROR);
  CHECK(out == SENTINEL_STRING);
  CHECK(toron_last_error_op_index() == 1);
  CHECK(str_eq(toron_last_error_path(), "/items/9"));
  CHECK(contains(toron_last_error_message(), "operation 1"));
  CHECK_STATUS(toron_apply_patch_json("{}", "{\"op\": \"add\"}", &out), TORON_PATCH_ERROR);
  CHECK(toron_last_error_op_index() == -1);
  /* A success clears the last error, op index included. */
  CHECK_STATUS(toron_apply_patch_json("[1]", "[]", &out), TORON_OK);
  CHECK(str_eq(out, "[1]"));
  toron_string_free(out);
  CHECK(str_eq(toron_last_error_message(), ""));
  CHECK(toron_last_error_op_index() == -1);

  /* Bad options and formats. */
  out = SENTINEL_STRING;
  CHECK_STATUS(toron_diff_json("1", "2", "{\"tolerence\": 1}", &out), TORON_INVALID_ARGUMENT);
  CHECK(contains(toron_last_error_message(), "options_json: "));
  CHECK(contains(toron_last_error_message(), "tolerence"));
  CHECK_STATUS(toron_diff_json("1", "2", "{\"ignore\": [\"meta\"]}", &out), TORON_INVALID_ARGUMENT);
  CHECK(str_eq(toron_last_error_field(), "ignore[0]"));
  CHECK_STATUS(toron_diff_json("1", "2", "{\"keys\": ", &out), TORON_JSON_ERROR);
  CHECK_STATUS(toron_diff_render("1", "2", NULL, "xml", &out), TORON_INVALID_ARGUMENT);
  CHECK(contains(toron_last_error_message(), "xml"));
  CHECK_STATUS(toron_text_diff_render("a", 1, "b", 1, "pdf", &out), TORON_INVALID_ARGUMENT);
  CHECK(out == SENTINEL_STRING);

  /* Options as data: keyed arrays, ignore, redact, tolerance. */
  CHECK_STATUS(toron_diff_json("{\"items\": [{\"id\": 1, \"n\": 1}, {\"id\": 2, \"n\": 2}], \"at\": 1}",
                               "{\"items\": [{\"id\": 2, \"n\": 2}, {\"id\": 1, \"n\": 3}], \"at\": 2}",
                               "{\"keys\": {\"/items\": \"id\"}, \"ignore\": [\"/at\"]}", &out),
               TORON_OK);
  CHECK(same_json(out, "[{\"op\":\"move\",\"from\":\"/items/0\",\"path\":\"/items/1\"},"
                       "{\"op\":\"replace\",\"path\":\"/items/1/n\",\"value\":3}]"));
  toron_string_free(out);
  CHECK_STATUS(toron_diff_json("{\"x\": 1.0}", "{\"x\": 1.05, \"token\": \"secret\"}",
                               "{\"tolerance\": {\"abs\": 0.1}, \"redact\": [\"/token\"]}", &out),
               TORON_OK);
  CHECK(str_eq(out, "[{\"op\":\"add\",\"path\":\"/token\",\"value\":\"[REDACTED]\"}]"));
  toron_string_free(out);
}

static void test_null_arguments(void) {
  char *out = SENTINEL_STRING;
  toron_snapshots *snaps = (toron_snapshots *)(uintptr_t)0x5a;
  toron_check_status cs = TORON_CHECK_PASSED;
  uint8_t *bytes = (uint8_t *)(uintptr_t)0xb1;
  size_t len = 77;
  CHECK_STATUS(toron_digest_json(NULL, &out), TORON_NULL_ARGUMENT);
  CHECK(contains(toron_last_error_message(), "json"));
  CHECK_STATUS(toron_digest_json("1", NULL), TORON_NULL_ARGUMENT);
  CHECK_STATUS(toron_canonical_json(NULL, &out), TORON_NULL_ARGUMENT);
  CHECK_STATUS(toron_canonical_json("1", NULL), TORON_NULL_ARGUMENT);
  CHECK_STATUS(toron_diff_json(NULL, "1", NULL, &out), TORON_NULL_ARGUMENT);
  CHECK(contains(toron_last_error_message(), "old_json"));
  CHECK_STATUS(toron_diff_json("1", NULL, NULL, &out), TORON_NULL_ARGUMENT);
  CHECK(contains(toron_last_error_message(), "new_json"));
  CHECK_STATUS(toron_diff_json("1", "1", NULL, NULL), TORON_NULL_ARGUMENT);
  CHECK_STATUS(toron_diff_summary(NULL, "1", NULL, &out), TORON_NULL_ARGUMENT);
  CHECK_STATUS(toron_diff_summary("1", "1", NULL, NULL), TORON_NULL_ARGUMENT);
  CHECK_STATUS(toron_diff_render("1", "1", NULL, NULL, &out), TORON_NULL_ARGUMENT);
  CHECK_STATUS(toron_diff_render("1", "1", NULL, "text", NULL), TORON_NULL_ARGUMENT);
  CHECK_STATUS(toron_apply_patch_json(NULL, "[]", &out), TORON_NULL_ARGUMENT);
  CHECK_STATUS(toron_apply_patch_json("1", NULL, &out), TORON_NULL_ARGUMENT);
  CHECK_STATUS(toron_apply_patch_json("1", "[]", NULL), TORON_NULL_ARGUMENT);
  CHECK_STATUS(toron_text_diff_unified(NULL, 1, "b", 1, 3, "a", "b", &out), TORON_NULL_ARGUMENT);
  CHECK_STATUS(toron_text_diff_unified("a", 1, NULL, 1, 3, "a", "b", &out), TORON_NULL_ARGUMENT);
  CHECK_STATUS(toron_text_diff_unified("a", 1, "b", 1, 3, NULL, "b", &out), TORON_NULL_ARGUMENT);
  CHECK_STATUS(toron_text_diff_unified("a", 1, "b", 1, 3, "a", NULL, &out), TORON_NULL_ARGUMENT);
  CHECK_STATUS(toron_text_diff_unified("a", 1, "b", 1, 3, "a", "b", NULL), TORON_NULL_ARGUMENT);
  CHECK_STATUS(toron_text_diff_unified_bytes("a", 1, "b", 1, 3, "a", "b", NULL, &len), TORON_NULL_ARGUMENT);
  CHECK_STATUS(toron_text_diff_unified_bytes("a", 1, "b", 1, 3, "a", "b", &bytes, NULL), TORON_NULL_ARGUMENT);
  CHECK(bytes == (uint8_t *)(uintptr_t)0xb1 && len == 77);
  CHECK_STATUS(toron_text_diff_summary("a", 1, "b", 1, NULL), TORON_NULL_ARGUMENT);
  CHECK_STATUS(toron_text_diff_render("a", 1, "b", 1, "text", NULL), TORON_NULL_ARGUMENT);
  CHECK_STATUS(toron_snapshots_open(NULL, false, &snaps), TORON_NULL_ARGUMENT);
  CHECK_STATUS(toron_snapshots_open("snapshots", false, NULL), TORON_NULL_ARGUMENT);
  CHECK(snaps == (toron_snapshots *)(uintptr_t)0x5a);
  CHECK_STATUS(toron_snapshots_check(NULL, "c", "1", NULL, &cs, NULL), TORON_NULL_ARGUMENT);
  CHECK_STATUS(toron_snapshots_accept(NULL, NULL), TORON_NULL_ARGUMENT);
  CHECK_STATUS(toron_snapshots_reject(NULL, "c"), TORON_NULL_ARGUMENT);
  CHECK_STATUS(toron_snapshots_pending_json(NULL, &out), TORON_NULL_ARGUMENT);
  CHECK_STATUS(toron_snapshots_unused_json(NULL, "[]", &out), TORON_NULL_ARGUMENT);
  CHECK(out == SENTINEL_STRING);
  /* _free(NULL) does nothing and leaves the last error alone. */
  toron_snapshots_free(NULL);
  toron_string_free(NULL);
  toron_bytes_free(NULL, 0);
  CHECK(toron_last_error_status() == TORON_NULL_ARGUMENT);
  /* Empty texts may be NULL. */
  CHECK_STATUS(toron_text_diff_unified(NULL, 0, NULL, 0, 3, "a", "b", &out), TORON_OK);
  CHECK(str_eq(out, ""));
  toron_string_free(out);
}

/* ------------------------------------------------------------------------------------------------------- */
/* Text diff                                                                                                 */
/* ------------------------------------------------------------------------------------------------------- */

static void test_text_diff(void) {
  const char *old = "a\nb\nc\n", *new_ = "a\nB\nc\nd";
  char *out = NULL;
  CHECK_STATUS(toron_text_diff_unified(old, strlen(old), new_, strlen(new_), 3, "old.txt", "new.txt", &out), TORON_OK);
  CHECK(str_eq(out, "--- old.txt\n+++ new.txt\n@@ -1,3 +1,4 @@\n a\n-b\n+B\n c\n+d\n\\ No newline at end of file\n"));
  toron_string_free(out);
  CHECK_STATUS(toron_text_diff_summary(old, strlen(old), new_, strlen(new_), &out), TORON_OK);
  CHECK(str_eq(out, "2 lines added, 1 line removed"));
  toron_string_free(out);
  CHECK_STATUS(toron_text_diff_unified(old, strlen(old), old, strlen(old), 3, "a", "b", &out), TORON_OK);
  CHECK(str_eq(out, ""));
  toron_string_free(out);

  /* Not UTF-8: compared as bytes, written unchanged in the unified diff, escaped in renderings. */
  const char bin_old[] = "ok\n\xff\xfe\n", bin_new[] = "ok\n\xfe\n";
  CHECK_STATUS(toron_text_diff_unified(bin_old, sizeof bin_old - 1, bin_new, sizeof bin_new - 1, 3, "a", "b", &out),
               TORON_OK);
  CHECK(str_eq(out, "--- a\n+++ b\n@@ -1,2 +1,2 @@\n ok\n-\xff\xfe\n+\xfe\n"));
  toron_string_free(out);
  CHECK_STATUS(toron_text_diff_summary(bin_old, sizeof bin_old - 1, bin_new, sizeof bin_new - 1, &out), TORON_OK);
  CHECK(contains(out, "not UTF-8"));
  toron_string_free(out);
  CHECK_STATUS(toron_text_diff_render(bin_old, sizeof bin_old - 1, bin_new, sizeof bin_new - 1, "text", &out), TORON_OK);
  CHECK(contains(out, "-\\xff\\xfe"));
  toron_string_free(out);
  CHECK_STATUS(toron_text_diff_render("let x = 1;\n", 11, "let x = 2;\n", 11, "color", &out), TORON_OK);
  CHECK(contains(out, "\x1b[7m"));
  toron_string_free(out);

  /* A NUL byte: not a C string, so the _bytes variant. */
  const char nul_old[] = "a\0b\n", nul_new[] = "a\0c\n";
  out = SENTINEL_STRING;
  CHECK_STATUS(toron_text_diff_unified(nul_old, 4, nul_new, 4, 3, "a", "b", &out), TORON_INVALID_ARGUMENT);
  CHECK(out == SENTINEL_STRING);
  CHECK(contains(toron_last_error_message(), "toron_text_diff_unified_bytes"));
  uint8_t *bytes = NULL;
  size_t len = 0;
  CHECK_STATUS(toron_text_diff_unified_bytes(nul_old, 4, nul_new, 4, 3, "a", "b", &bytes, &len), TORON_OK);
  const char expected[] = "--- a\n+++ b\n@@ -1 +1 @@\n-a\0b\n+a\0c\n";
  CHECK(len == sizeof expected - 1 && bytes != NULL && memcmp(bytes, expected, len) == 0);
  toron_bytes_free(bytes, len);
  CHECK_STATUS(toron_text_diff_unified_bytes("x", 1, "x", 1, 3, "a", "b", &bytes, &len), TORON_OK);
  CHECK(len == 0);
  toron_bytes_free(bytes, len);
  CHECK_STATUS(toron_text_diff_render(nul_old, 4, nul_new, 4, "text", &out), TORON_OK);
  CHECK(contains(out, "a\\x00c"));
  toron_string_free(out);
  CHECK_STATUS(toron_text_diff_unified("a", 1, "b", 1, 3, "a\nb", "b", &out), TORON_INVALID_ARGUMENT);
}

/* ------------------------------------------------------------------------------------------------------- */
/* Golden files                                                                                              */
/* ------------------------------------------------------------------------------------------------------- */

static int exists(const char *path) {
  struct stat st;
  return stat(path, &st) == 0;
}

static void write_file(const char *path, const char *text) {
  FILE *f = fopen(path, "w");
  CHECK(f != NULL);
  if (f == NULL) return;
  fputs(text, f);
  fclose(f);
}

static void test_snapshots(void) {
  char dir[] = "/tmp/toron-test-diff-XXXXXX";
  CHECK(mkdtemp(dir) != NULL);
  char root[128], golden[160], pending[160], cmd[200];
  snprintf(root, sizeof root, "%s/snapshots", dir);
  snprintf(golden, sizeof golden, "%s/suite/case.json", root);
  snprintf(pending, sizeof pending, "%s/suite/case.json.new", root);

  toron_snapshots *snaps = NULL;
  CHECK_STATUS(toron_snapshots_open(root, false, &snaps), TORON_OK);
  toron_check_status cs = TORON_CHECK_PASSED;
  char *summary = NULL, *json = NULL;
  const char *value = "{\"b\": [1, 2.5], \"a\": \"x\", \"at\": 1}";

  /* Missing golden: failed, and the candidate written beside it. */
  CHECK_STATUS(toron_snapshots_check(snaps, "suite/case", value, NULL, &cs, &summary), TORON_OK);
  CHECK(cs == TORON_CHECK_FAILED);
  CHECK(str_eq(summary, "no golden yet"));
  toron_string_free(summary);
  CHECK(!exists(golden));
  CHECK(exists(pending));
  CHECK_STATUS(toron_snapshots_pending_json(snaps, &json), TORON_OK);
  CHECK(contains(json, "\"case\":\"suite/case\""));
  CHECK(contains(json, "\"golden\":null"));
  toron_string_free(json);

  /* Accept it: the golden exists, nothing is pending, the same value passes. */
  CHECK_STATUS(toron_snapshots_accept(snaps, "suite/case"), TORON_OK);
  CHECK(exists(golden));
  CHECK(!exists(pending));
  CHECK_STATUS(toron_snapshots_pending_json(snaps, &json), TORON_OK);
  CHECK(str_eq(json, "[]"));
  toron_string_free(json);
  CHECK_STATUS(toron_snapshots_check(snaps, "suite/case", "{\"a\":\"x\",\"at\":1,\"b\":[1,2.5]}", NULL, &cs, &summary),
               TORON_OK);
  CHECK(cs == TORON_CHECK_PASSED);
  CHECK(str_eq(summary, "no differences"));
  toron_string_free(summary);
  CHECK_STATUS(toron_snapshots_accept(snaps, "suite/case"), TORON_SNAPSHOT_ERROR); /* nothing pending */
  CHECK(contains(toron_last_error_message(), "no pending snapshot"));

  /* Different: failed with the diff's summary; options can make it pass; reject keeps the golden. */
  const char *changed = "{\"b\": [1, 2.5000001], \"a\": \"y\", \"at\": 2}";
  CHECK_STATUS(toron_snapshots_check(snaps, "suite/case", changed, NULL, &cs, NULL), TORON_OK);
  CHECK(cs == TORON_CHECK_FAILED);
  CHECK(exists(pending));
  CHECK_STATUS(toron_snapshots_check(snaps, "suite/case", changed, "{\"ignore\": [\"/at\"]}", &cs, &summary), TORON_OK);
  CHECK(cs == TORON_CHECK_FAILED);
  CHECK(str_eq(summary, "2 changed, 0 added, 0 removed"));
  toron_string_free(summary);
  CHECK_STATUS(toron_snapshots_check(snaps, "suite/case", "{\"b\": [1, 2.5000001], \"a\": \"x\", \"at\": 2}",
                                     "{\"ignore\": [\"/at\"], \"tolerance\": 1e-6}", &cs, NULL),
               TORON_OK);
  CHECK(cs == TORON_CHECK_PASSED);
  CHECK(!exists(pending)); /* a pass removes the stale candidate */
  CHECK_STATUS(toron_snapshots_check(snaps, "suite/case", changed, NULL, &cs, NULL), TORON_OK);
  CHECK_STATUS(toron_snapshots_reject(snaps, NULL), TORON_OK);
  CHECK(!exists(pending));
  CHECK_STATUS(toron_snapshots_check(snaps, "suite/case", value, NULL, &cs, NULL), TORON_OK);
  CHECK(cs == TORON_CHECK_PASSED);
  CHECK_STATUS(toron_snapshots_check(snaps, "suite/case", value, "{\"ignore\": [\"bad\"]}", &cs, NULL),
               TORON_INVALID_ARGUMENT);
  CHECK_STATUS(toron_snapshots_check(snaps, "../escape", value, NULL, &cs, NULL), TORON_INVALID_ARGUMENT);
  CHECK_STATUS(toron_snapshots_unused_json(snaps, "[\"other\"]", &json), TORON_OK);
  CHECK(str_eq(json, "[\"suite/case\"]"));
  toron_string_free(json);
  CHECK_STATUS(toron_snapshots_unused_json(snaps, "[1]", &json), TORON_INVALID_ARGUMENT);

  /* A golden edited by hand into invalid JSON: a snapshot error naming the file, line and column; nothing
   * is written. */
  write_file(golden, "{\n  \"toron_snapshot\": 1,\n  \"case\": \"suite/case\",,\n}\n");
  cs = TORON_CHECK_PASSED;
  summary = SENTINEL_STRING;
  CHECK_STATUS(toron_snapshots_check(snaps, "suite/case", value, NULL, &cs, &summary), TORON_SNAPSHOT_ERROR);
  CHECK(cs == TORON_CHECK_PASSED && summary == SENTINEL_STRING);
  CHECK(ends_with(toron_last_error_file(), "snapshots/suite/case.json"));
  CHECK(toron_last_error_line() == 3);
  CHECK(toron_last_error_column() > 0);
  CHECK(contains(toron_last_error_message(), "case.json:3:"));
  CHECK(!exists(pending));

  /* Update mode rewrites it. */
  toron_snapshots *update = NULL;
  CHECK_STATUS(toron_snapshots_open(root, true, &update), TORON_OK);
  CHECK_STATUS(toron_snapshots_check(update, "suite/case", value, NULL, &cs, NULL), TORON_OK);
  CHECK(cs == TORON_CHECK_UPDATED);
  CHECK_STATUS(toron_snapshots_check(update, "suite/new", "[]", NULL, &cs, NULL), TORON_OK);
  CHECK(cs == TORON_CHECK_CREATED);
  CHECK_STATUS(toron_snapshots_check(snaps, "suite/case", value, NULL, &cs, NULL), TORON_OK);
  CHECK(cs == TORON_CHECK_PASSED);
  toron_snapshots_free(update);
  /* TORON_SNAPSHOT_UPDATE=1 at open turns update mode on too. */
  CHECK(setenv("TORON_SNAPSHOT_UPDATE", "1", 1) == 0);
  update = NULL;
  CHECK_STATUS(toron_snapshots_open(root, false, &update), TORON_OK);
  CHECK(unsetenv("TORON_SNAPSHOT_UPDATE") == 0);
  CHECK_STATUS(toron_snapshots_check(update, "suite/env", "{}", NULL, &cs, NULL), TORON_OK);
  CHECK(cs == TORON_CHECK_CREATED);
  toron_snapshots_free(update);
  toron_snapshots_free(snaps);

  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  CHECK(system(cmd) == 0);
}

/* ------------------------------------------------------------------------------------------------------- */
/* Archive                                                                                                   */
/* ------------------------------------------------------------------------------------------------------- */

static void test_archive(void) {
  char dir[] = "/tmp/toron-test-archive-XXXXXX";
  CHECK(mkdtemp(dir) != NULL);
  char root[128], object[256], cmd[200];
  snprintf(root, sizeof root, "%s/.toron", dir);
  toron_archive *archive = NULL;
  char *id = NULL, *again = NULL, *digest = NULL, *json = NULL, *report = NULL;
  CHECK_STATUS(toron_archive_open(root, &archive), TORON_OK);
  CHECK_STATUS(toron_archive_put_json(archive, "{\"b\": [1, 2.0], \"a\": null}", &id), TORON_OK);
  CHECK_STATUS(toron_archive_put_json(archive, "{\"a\":null,\"b\":[1,2]}", &again), TORON_OK);
  CHECK_STATUS(toron_digest_json("{\"a\":null,\"b\":[1,2]}", &digest), TORON_OK);
  CHECK(str_eq(id, again) && str_eq(id, digest) && strlen(id) == 64);
  CHECK_STATUS(toron_archive_get_json(archive, id, &json), TORON_OK);
  CHECK(str_eq(json, "{\"a\":null,\"b\":[1,2]}"));
  toron_string_free(json);
  CHECK_STATUS(toron_archive_verify_json(archive, &report), TORON_OK);
  CHECK(contains(report, "\"ok\":true") && contains(report, "\"objects\":1"));
  toron_string_free(report);

  /* An object whose bytes were changed: a named error on read, a problem in the report. */
  snprintf(object, sizeof object, "%s/objects/%.2s/%s", root, id, id + 2);
  CHECK(exists(object));
  write_file(object, "{\"a\":null,\"b\":[1,3]}");
  json = SENTINEL_STRING;
  CHECK_STATUS(toron_archive_get_json(archive, id, &json), TORON_ARCHIVE_ERROR);
  CHECK(json == SENTINEL_STRING);
  CHECK(contains(toron_last_error_message(), id));
  CHECK(str_eq(toron_last_error_file(), object));
  CHECK_STATUS(toron_archive_verify_json(archive, &report), TORON_OK);
  CHECK(contains(report, "\"ok\":false") && contains(report, "\"kind\":\"corrupt_object\""));
  toron_string_free(report);
  /* Putting the value again repairs it. */
  CHECK_STATUS(toron_archive_put_json(archive, "{\"a\":null,\"b\":[1,2]}", &json), TORON_OK);
  toron_string_free(json);
  CHECK_STATUS(toron_archive_get_json(archive, id, &json), TORON_OK);
  toron_string_free(json);

  CHECK_STATUS(toron_archive_get_json(archive, "../../etc/passwd", &json), TORON_INVALID_ARGUMENT);
  CHECK_STATUS(toron_archive_get_json(archive, NULL, &json), TORON_NULL_ARGUMENT);
  CHECK_STATUS(toron_archive_put_json(NULL, "1", &json), TORON_NULL_ARGUMENT);
  CHECK_STATUS(toron_archive_put_json(archive, "1", NULL), TORON_NULL_ARGUMENT);
  CHECK_STATUS(toron_archive_verify_json(NULL, &json), TORON_NULL_ARGUMENT);
  CHECK_STATUS(toron_archive_open(NULL, &archive), TORON_NULL_ARGUMENT);
  toron_archive_free(NULL);
  toron_archive_free(archive);
  toron_string_free(id);
  toron_string_free(again);
  toron_string_free(digest);
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  CHECK(system(cmd) == 0);
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s VECTORS (written by tests/c/diff_vectors.py)\n", argv[0]);
    return 2;
  }
  int vectors = each_vector_record(argv[1], MAX_FIELDS, dispatch);
  CHECK(vectors >= 50);
  test_bad_input();
  test_null_arguments();
  test_text_diff();
  test_snapshots();
  test_archive();
  if (failures != 0) {
    fprintf(stderr, "test_diff: %d of %d checks failed\n", failures, checks);
    return 1;
  }
  printf("test_diff: %d checks passed (%d vectors)\n", checks, vectors);
  return 0;
}

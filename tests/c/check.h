/*
 * The checking macros shared by the C tests: CHECK(cond) and CHECK_STATUS(call, expected) count checks and
 * failures and print the last error on a failure; str_eq and contains are NULL-safe string helpers.
 * Include it once, after toron.h, <stdio.h> and <string.h>.
 */
#ifndef TORON_TEST_CHECK_H
#define TORON_TEST_CHECK_H

static int failures = 0;
static int checks = 0;

#define CHECK(cond)                                                                         \
  do {                                                                                      \
    checks++;                                                                               \
    if (!(cond)) {                                                                          \
      failures++;                                                                           \
      fprintf(stderr, "%s:%d: CHECK failed: %s (last error: %s)\n", __FILE__, __LINE__, #cond, \
              toron_last_error_message());                                                  \
    }                                                                                       \
  } while (0)

#define CHECK_STATUS(call, expected)                                                              \
  do {                                                                                            \
    toron_status got_ = (call);                                                                   \
    checks++;                                                                                     \
    if (got_ != (expected)) {                                                                     \
      failures++;                                                                                 \
      fprintf(stderr, "%s:%d: %s returned %s, expected %s (last error: %s)\n", __FILE__, __LINE__, \
              #call, toron_status_name((int)got_), #expected, toron_last_error_message());         \
    }                                                                                             \
  } while (0)

static inline int str_eq(const char *a, const char *b) { return a != NULL && b != NULL && strcmp(a, b) == 0; }

#ifdef TORON_TEST_VECTORS
/* The line files the tests/c vector scripts (diff_vectors.py, pii_vectors.py, linear_vectors.py) write: one record a line, its fields separated by single spaces, the
 * first naming the record. Calls on_record(fields, n) for every line with at least two fields (at most
 * max_fields of them) and returns how many there were; 0 when the file cannot be read. Needs getline
 * (_POSIX_C_SOURCE 200809L) and <stdlib.h>. */
static int each_vector_record(const char *path, int max_fields, void (*on_record)(char **fields, int n)) {
  FILE *file = fopen(path, "r");
  if (file == NULL) {
    perror(path);
    return 0;
  }
  char **fields = calloc((size_t)max_fields, sizeof *fields);
  char *line = NULL;
  size_t cap = 0;
  ssize_t len;
  int count = 0;
  while (fields != NULL && (len = getline(&line, &cap, file)) > 0) {
    if (line[len - 1] == '\n') line[len - 1] = '\0';
    int n = 0;
    char *save = NULL;
    for (char *tok = strtok_r(line, " ", &save); tok != NULL && n < max_fields; tok = strtok_r(NULL, " ", &save)) {
      fields[n++] = tok;
    }
    if (n < 2) continue;
    count++;
    on_record(fields, n);
  }
  free(fields);
  free(line);
  fclose(file);
  return count;
}

/* Decode a field `x<hex>` into a new NUL-terminated string (free it); NULL when malformed. */
static char *unhex(const char *field) {
  if (field == NULL || field[0] != 'x') return NULL;
  size_t n = strlen(field + 1);
  if (n % 2 != 0) return NULL;
  char *out = malloc(n / 2 + 1);
  if (out == NULL) return NULL;
  for (size_t i = 0; i < n / 2; i++) {
    unsigned byte;
    if (sscanf(field + 1 + 2 * i, "%2x", &byte) != 1) {
      free(out);
      return NULL;
    }
    out[i] = (char)byte;
  }
  out[n / 2] = '\0';
  return out;
}
#endif
static inline int contains(const char *haystack, const char *needle) {
  return haystack != NULL && needle != NULL && strstr(haystack, needle) != NULL;
}

#endif

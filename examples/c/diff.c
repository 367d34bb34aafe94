/*
 * Diff two JSON documents and print the one-line summary, the RFC 6902 patch and the coloured rendering
 * (the same example as examples/python/diff.py, through the C API): from the same two documents every
 * surface prints the same summary and patch.
 *
 *   make test-c                   builds and runs it under valgrind
 *   ./diff [OLD.json NEW.json]    defaults to two built-in documents; exit status 0, or 2 on error
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "toron.h"

static const char *OLD = "{\"items\": [{\"id\": 1, \"price\": 10}, {\"id\": 2, \"price\": 20}], \"total\": 30}";
static const char *NEW =
    "{\"items\": [{\"id\": 0, \"price\": 5}, {\"id\": 1, \"price\": 10}, {\"id\": 2, \"price\": 21}], \"total\": 36}";

/* The whole file as a NUL-terminated string (free it), or NULL with a message. */
static char *read_file(const char *path) {
  FILE *f = fopen(path, "rb");
  char *text = NULL;
  size_t len = 0, cap = 0;
  if (f == NULL) {
    perror(path);
    return NULL;
  }
  for (;;) {
    if (len + 4096 + 1 > cap) {
      cap = (cap + 4096) * 2;
      char *bigger = realloc(text, cap);
      if (bigger == NULL) break;
      text = bigger;
    }
    size_t n = fread(text + len, 1, cap - len - 1, f);
    len += n;
    if (n == 0) break;
  }
  if (ferror(f) || text == NULL) {
    perror(path);
    free(text);
    text = NULL;
  } else {
    text[len] = '\0';
  }
  fclose(f);
  return text;
}

int main(int argc, char **argv) {
  char *old_file = NULL, *new_file = NULL;
  char *summary = NULL, *patch = NULL, *color = NULL, *patched = NULL, *expected = NULL;
  int rc = 2;

  if (argc == 3) {
    old_file = read_file(argv[1]);
    new_file = read_file(argv[2]);
    if (old_file == NULL || new_file == NULL) goto done;
  } else if (argc != 1) {
    fprintf(stderr, "usage: %s [OLD.json NEW.json]\n", argv[0]);
    goto done;
  }
  const char *old_json = old_file ? old_file : OLD;
  const char *new_json = new_file ? new_file : NEW;

  /* NULL options: the defaults (no keyed arrays, nothing ignored or redacted, exact numbers). */
  if (toron_diff_summary(old_json, new_json, NULL, &summary) != TORON_OK) goto error;
  if (toron_diff_json(old_json, new_json, NULL, &patch) != TORON_OK) goto error;
  if (toron_diff_render(old_json, new_json, NULL, "color", &color) != TORON_OK) goto error;
  printf("%s\n%s\n%s\n", summary, patch, color);

  /* The patch turns the old document into the new one: canonical texts compare as values. */
  if (toron_apply_patch_json(old_json, patch, &patched) != TORON_OK) goto error;
  if (toron_canonical_json(new_json, &expected) != TORON_OK) goto error;
  if (strcmp(patched, expected) != 0) {
    fprintf(stderr, "the patch does not give the new document\n");
    goto done;
  }
  rc = 0;
  goto done;

error:
  fprintf(stderr, "error (%s): %s\n", toron_status_name(toron_last_error_status()), toron_last_error_message());
done:
  /* toron_string_free(NULL) is a no-op, so every string is freed whichever step failed. */
  toron_string_free(summary);
  toron_string_free(patch);
  toron_string_free(color);
  toron_string_free(patched);
  toron_string_free(expected);
  free(old_file);
  free(new_file);
  return rc;
}

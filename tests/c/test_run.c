/*
 * C tests of the runs of include/toron.h: a manifest written to a temporary directory (command cases through
 * `sh -c` and a sim case on a scenario written here), run with a callback and polled at once. Checked: seq
 * 1, 2, 3... from run.scheduled to run.finished; the callback's events, the polled ones and the lines of the
 * run's events file are the same bytes; the result's state and case outcomes; a bad manifest and bad
 * options name the file, line, field or key; timeouts; a cancelled `sleep 30` ends promptly and its process
 * is gone; NULL arguments, outputs untouched on failure, _free(NULL), and freeing running runs. Run under
 * valgrind by `make test-c` (which leaves child processes untraced: command cases exec `sh` and `sleep`).
 *
 * Usage: test_run   (needs `sh` and `sleep`; writes only under a fresh mkdtemp directory, removed at the end)
 */
#define _XOPEN_SOURCE 700
#include <errno.h>
#include <ftw.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "toron.h"

#include "check.h"

/* Placeholders: an output must keep them when a call fails. */
#define SENTINEL_MANIFEST ((toron_manifest *)(uintptr_t)0x3a1)
#define SENTINEL_RUN ((toron_run *)(uintptr_t)0x7e4)
#define SENTINEL_STRING ((char *)(uintptr_t)0x57)

/* A short echo scenario: a sim case that valgrind runs in well under a second. */
static const char *const SCENARIO =
    "name = \"echo_small\"\n"
    "seed = 1\n"
    "stop = { requests = 200 }\n"
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
    "name = \"c-test\"\n"
    "[[suite]]\n"
    "name = \"unit\"\n"
    "[[suite.case]]\n"
    "name = \"hi\"\n"
    "kind = \"command\"\n"
    "argv = [\"sh\", \"-c\", \"echo hi\"]\n"
    "[[suite.case]]\n"
    "name = \"quiet\"\n"
    "kind = \"command\"\n"
    "argv = [\"sh\", \"-c\", \"exit 0\"]\n"
    "[[suite]]\n"
    "name = \"sim\"\n"
    "[[suite.case]]\n"
    "name = \"echo\"\n"
    "kind = \"sim\"\n"
    "scenario = \"echo_small.toml\"\n"
    "seeds = [1, 2]\n"
    "[[gate]]\n"
    "rule = \"failed == 0\"\n";

/* The shell writes its pid, then becomes `sleep` (exec): the pid is the sleep's. */
static const char *const SLEEPER =
    "[[suite]]\n"
    "name = \"slow\"\n"
    "[[suite.case]]\n"
    "name = \"sleeper\"\n"
    "kind = \"command\"\n"
    "argv = [\"sh\", \"-c\", \"echo $$ > sleeper.pid.tmp && mv sleeper.pid.tmp sleeper.pid && exec sleep 30\"]\n"
    "[[gate]]\n"
    "rule = \"failed == 0\"\n";

/* Issue 16: no gates at all, and each suite's one case fails, errors or times out. */
static const char *const NO_GATES =
    "[[suite]]\n"
    "name = \"failing\"\n"
    "[[suite.case]]\n"
    "name = \"exit3\"\n"
    "kind = \"command\"\n"
    "argv = [\"sh\", \"-c\", \"exit 3\"]\n"
    "[[suite]]\n"
    "name = \"erroring\"\n"
    "[[suite.case]]\n"
    "name = \"missing\"\n"
    "kind = \"command\"\n"
    "argv = [\"/nonexistent/toron-issue-16\"]\n"
    "[[suite]]\n"
    "name = \"slow\"\n"
    "[[suite.case]]\n"
    "name = \"sleeps\"\n"
    "kind = \"command\"\n"
    "argv = [\"sleep\", \"5\"]\n"
    "timeout = \"200ms\"\n";

/* Line 3 has a field a suite does not have. */
static const char *const BAD_MANIFEST =
    "[[suite]]\n"
    "name = \"unit\"\n"
    "flavour = \"vanilla\"\n";

static char dir[64];

/* `dir/name` into `buf`. */
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

static double now_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

/* A growable list of owned strings. */
typedef struct {
  char **items;
  size_t n, cap;
} lines;

static void lines_push(lines *l, const char *s, size_t len) {
  if (l->n == l->cap) {
    size_t cap = l->cap ? l->cap * 2 : 16;
    char **items = realloc(l->items, cap * sizeof *items);
    if (items == NULL) abort();
    l->items = items;
    l->cap = cap;
  }
  char *copy = malloc(len + 1);
  if (copy == NULL) abort();
  memcpy(copy, s, len);
  copy[len] = '\0';
  l->items[l->n++] = copy;
}

static void lines_free(lines *l) {
  for (size_t i = 0; i < l->n; i++) free(l->items[i]);
  free(l->items);
  *l = (lines){0};
}

static int lines_equal(const lines *a, const lines *b) {
  if (a->n != b->n) return 0;
  for (size_t i = 0; i < a->n; i++) {
    if (strcmp(a->items[i], b->items[i]) != 0) {
      fprintf(stderr, "line %zu differs:\n  %s\n  %s\n", i + 1, a->items[i], b->items[i]);
      return 0;
    }
  }
  return 1;
}

/* Every line of a file, without the newlines; 0 if it cannot be read. */
static int read_lines(const char *path, lines *out) {
  FILE *f = fopen(path, "r");
  if (f == NULL) return 0;
  char *line = NULL;
  size_t size = 0;
  ssize_t len;
  while ((len = getline(&line, &size, f)) > 0) {
    if (line[len - 1] == '\n') len--;
    lines_push(out, line, (size_t)len);
  }
  free(line);
  fclose(f);
  return 1;
}

/* The callback: called on the run's own thread, one call at a time; event_json lives only during the call. */
static void collect(void *userdata, const char *event_json) {
  lines_push(userdata, event_json, strlen(event_json));
}

static long long seq_of(const char *event_json) {
  const char *p = strstr(event_json, "\"seq\":");
  return p == NULL ? -1 : strtoll(p + 6, NULL, 10);
}

static int is_type(const char *event_json, const char *type) {
  char needle[64];
  snprintf(needle, sizeof needle, "\"type\":\"%s\"", type);
  return contains(event_json, needle);
}

/* Poll to the end of the stream (waiting as long as it takes). */
static void poll_all(toron_run *run, lines *out) {
  for (;;) {
    char *event = NULL;
    toron_status status = toron_run_next_event(run, -1, &event);
    if (status == TORON_END_OF_STREAM) return;
    CHECK_STATUS(status, TORON_OK);
    if (status != TORON_OK) return;
    lines_push(out, event, strlen(event));
    toron_string_free(event);
  }
}

/* Seq 1, 2, 3... with no gap, from run.scheduled to run.finished. */
static void check_stream(const lines *events) {
  CHECK(events->n >= 4);
  if (events->n == 0) return;
  for (size_t i = 0; i < events->n; i++) CHECK(seq_of(events->items[i]) == (long long)i + 1);
  CHECK(is_type(events->items[0], "run.scheduled"));
  CHECK(is_type(events->items[events->n - 1], "run.finished"));
  for (size_t i = 1; i + 1 < events->n; i++) {
    CHECK(!is_type(events->items[i], "run.scheduled") && !is_type(events->items[i], "run.finished"));
  }
}

static toron_manifest *load(const char *name) {
  char path[256];
  in_dir(path, sizeof path, name);
  toron_manifest *manifest = NULL;
  CHECK_STATUS(toron_manifest_from_path(path, &manifest), TORON_OK);
  return manifest;
}

static void test_passing_run(void) {
  toron_manifest *manifest = load("testops.toml");
  if (manifest == NULL) return;
  lines delivered = {0}, polled = {0}, on_disk = {0};
  toron_run *run = NULL;
  CHECK_STATUS(toron_run_start_with_callback(manifest, "{\"check\": true, \"jobs\": 2, \"archive\": \".toron\"}",
                                             collect, &delivered, &run),
               TORON_OK);
  /* A run keeps its own copy of the manifest. */
  toron_manifest_free(manifest);
  if (run == NULL) return;
  char id[128];
  snprintf(id, sizeof id, "%s", toron_run_id(run));
  CHECK(strncmp(id, "run-" TORON_VERSION "-", strlen("run-" TORON_VERSION "-")) == 0);

  /* The same run, polled while the callback gets its events: two consumers of one stream. */
  poll_all(run, &polled);
  char *result = NULL;
  CHECK_STATUS(toron_run_wait(run, &result), TORON_OK);
  /* wait returned: the last callback has returned, `delivered` is complete. */
  check_stream(&polled);
  check_stream(&delivered);
  char events_file[256], name[192];
  snprintf(name, sizeof name, ".toron/events/%s.events.ndjson", id);
  in_dir(events_file, sizeof events_file, name);
  CHECK(read_lines(events_file, &on_disk));
  CHECK(lines_equal(&delivered, &on_disk));
  CHECK(lines_equal(&polled, &on_disk));

  CHECK(contains(result, "\"state\":\"passed\""));
  /* Canonical JSON sorts the keys: a case's name is followed by its outcome. */
  CHECK(contains(result, "\"name\":\"hi\",\"outcome\":\"passed\""));
  CHECK(contains(result, "\"name\":\"quiet\",\"outcome\":\"passed\""));
  CHECK(contains(result, "\"name\":\"echo\",\"outcome\":\"passed\""));
  CHECK(contains(result, "\"stdout\":\"hi\\n\""));
  CHECK(contains(result, "\"verdict\":\"GO\""));
  char id_field[160];
  snprintf(id_field, sizeof id_field, "\"id\":\"%s\"", id);
  CHECK(contains(result, id_field));

  /* After run.finished: the end of the stream, every time, with the output untouched. */
  char *event = SENTINEL_STRING;
  CHECK_STATUS(toron_run_next_event(run, 0, &event), TORON_END_OF_STREAM);
  CHECK_STATUS(toron_run_next_event(run, -1, &event), TORON_END_OF_STREAM);
  CHECK(event == SENTINEL_STRING);
  CHECK(toron_last_error_status() == TORON_END_OF_STREAM);
  CHECK(contains(toron_last_error_message(), "no more events"));
  /* wait again: the same result. */
  char *again = NULL;
  CHECK_STATUS(toron_run_wait(run, &again), TORON_OK);
  CHECK(str_eq(result, again));
  CHECK_STATUS(toron_run_cancel(run), TORON_OK); /* after the end: nothing happens */
  toron_string_free(again);
  toron_string_free(result);
  toron_run_free(run);
  lines_free(&delivered);
  lines_free(&polled);
  lines_free(&on_disk);

  /* A second run, polled only, with a subset of suites: its own id, its own events. */
  manifest = load("testops.toml");
  run = NULL;
  CHECK_STATUS(toron_run_start(manifest, "{\"suites\": [\"unit\"], \"seed\": 7, \"retries\": 0}", &run), TORON_OK);
  if (run != NULL) {
    CHECK(!str_eq(toron_run_id(run), id));
    poll_all(run, &polled);
    check_stream(&polled);
    CHECK_STATUS(toron_run_wait(run, &result), TORON_OK);
    CHECK(contains(result, "\"state\":\"passed\"") && contains(result, "\"suites\":[\"unit\"]"));
    CHECK(!contains(result, "\"name\":\"echo\""));
    toron_string_free(result);
  }
  toron_run_free(run);
  toron_manifest_free(manifest);
  lines_free(&polled);
}

static void test_bad_manifest(void) {
  char path[256];
  in_dir(path, sizeof path, "bad_testops.toml");
  toron_manifest *manifest = SENTINEL_MANIFEST;
  CHECK_STATUS(toron_manifest_from_path(path, &manifest), TORON_MANIFEST_ERROR);
  CHECK(manifest == SENTINEL_MANIFEST);
  const char *message = toron_last_error_message();
  CHECK(contains(message, "bad_testops.toml") && contains(message, ":3:") && contains(message, "suite[0].flavour"));
  CHECK(str_eq(toron_last_error_file(), path));
  CHECK(toron_last_error_line() == 3);
  CHECK(str_eq(toron_last_error_field(), "suite[0].flavour"));
  CHECK(toron_last_error_status() == TORON_MANIFEST_ERROR);

  in_dir(path, sizeof path, "missing.toml");
  CHECK_STATUS(toron_manifest_from_path(path, &manifest), TORON_IO_ERROR);
  CHECK(contains(toron_last_error_message(), "missing.toml"));
  CHECK_STATUS(toron_manifest_from_path(NULL, &manifest), TORON_NULL_ARGUMENT);
  CHECK_STATUS(toron_manifest_from_path(path, NULL), TORON_NULL_ARGUMENT);
  CHECK(manifest == SENTINEL_MANIFEST);
}

static void test_bad_options(void) {
  toron_manifest *manifest = load("testops.toml");
  if (manifest == NULL) return;
  toron_run *run = SENTINEL_RUN;
  CHECK_STATUS(toron_run_start(manifest, "{\"sede\": 42}", &run), TORON_INVALID_ARGUMENT);
  CHECK(contains(toron_last_error_message(), "sede") && contains(toron_last_error_message(), "unknown key"));
  CHECK(str_eq(toron_last_error_field(), "sede"));
  CHECK_STATUS(toron_run_start(manifest, "{\"jobs\": \"2\"}", &run), TORON_INVALID_ARGUMENT);
  CHECK(str_eq(toron_last_error_field(), "jobs") && contains(toron_last_error_message(), "positive integer"));
  CHECK_STATUS(toron_run_start(manifest, "{\"check\": 1}", &run), TORON_INVALID_ARGUMENT);
  CHECK(str_eq(toron_last_error_field(), "check"));
  CHECK_STATUS(toron_run_start(manifest, "{\"profile\": \"nightly\"}", &run), TORON_INVALID_ARGUMENT);
  CHECK(contains(toron_last_error_message(), "nightly"));
  CHECK_STATUS(toron_run_start(manifest, "{\"suites\": [\"nope\"]}", &run), TORON_INVALID_ARGUMENT);
  CHECK(contains(toron_last_error_message(), "nope"));
  CHECK_STATUS(toron_run_start(manifest, "{\"seed\": 1,\n\"seed\": 2}", &run), TORON_JSON_ERROR);
  CHECK_STATUS(toron_run_start(manifest, "{\"seed\": 1,}", &run), TORON_JSON_ERROR);
  CHECK_STATUS(toron_run_start(manifest, "[]", &run), TORON_INVALID_ARGUMENT);
  CHECK_STATUS(toron_run_start(manifest, "{\"jobs\": 1}\xff", &run), TORON_INVALID_UTF8);
  CHECK_STATUS(toron_run_start(NULL, NULL, &run), TORON_NULL_ARGUMENT);
  CHECK_STATUS(toron_run_start(manifest, NULL, NULL), TORON_NULL_ARGUMENT);
  CHECK_STATUS(toron_run_start_with_callback(manifest, NULL, NULL, NULL, &run), TORON_NULL_ARGUMENT);
  CHECK(contains(toron_last_error_message(), "callback"));
  CHECK(run == SENTINEL_RUN);
  toron_manifest_free(manifest);
}

/* The pid the sleeper case wrote, waiting up to 20 s for it; 0 if none. */
static pid_t sleeper_pid(void) {
  char path[256];
  in_dir(path, sizeof path, "sleeper.pid");
  for (int i = 0; i < 2000; i++) {
    FILE *f = fopen(path, "r");
    if (f != NULL) {
      long pid = 0;
      int ok = fscanf(f, "%ld", &pid) == 1;
      fclose(f);
      if (ok && pid > 0) return (pid_t)pid;
    }
    sleep_ms(10);
  }
  return 0;
}

static void test_timeout_and_cancel(void) {
  toron_manifest *manifest = load("sleeper.toml");
  if (manifest == NULL) return;
  toron_run *run = NULL;
  CHECK_STATUS(toron_run_start(manifest, "{\"jobs\": 1}", &run), TORON_OK);
  if (run == NULL) {
    toron_manifest_free(manifest);
    return;
  }
  lines events = {0};
  /* Up to case.started; then the case sleeps, so nothing comes. */
  for (;;) {
    char *event = NULL;
    toron_status status = toron_run_next_event(run, 30000, &event);
    CHECK_STATUS(status, TORON_OK);
    if (status != TORON_OK) break;
    lines_push(&events, event, strlen(event));
    int started = is_type(event, "case.started");
    toron_string_free(event);
    if (started) break;
  }
  pid_t pid = sleeper_pid();
  CHECK(pid > 0);
  CHECK(pid > 0 && kill(pid, 0) == 0); /* the sleep is running */

  char *event = SENTINEL_STRING;
  CHECK_STATUS(toron_run_next_event(run, 0, &event), TORON_TIMEOUT);
  double t0 = now_seconds();
  CHECK_STATUS(toron_run_next_event(run, 100, &event), TORON_TIMEOUT);
  CHECK(now_seconds() - t0 >= 0.099);
  CHECK(event == SENTINEL_STRING);
  CHECK(toron_last_error_status() == TORON_TIMEOUT);
  CHECK(contains(toron_last_error_message(), "no event within 100 ms"));

  /* Cancel returns at once; the run ends promptly (not after 30 s), cancelled, and the sleep is gone. */
  t0 = now_seconds();
  CHECK_STATUS(toron_run_cancel(run), TORON_OK);
  CHECK_STATUS(toron_run_cancel(run), TORON_OK);
  poll_all(run, &events);
  char *result = NULL;
  CHECK_STATUS(toron_run_wait(run, &result), TORON_OK);
  double took = now_seconds() - t0;
  if (took >= 10.0) fprintf(stderr, "cancel took %.1f s\n", took);
  CHECK(took < 10.0);
  check_stream(&events);
  if (events.n > 0) CHECK(contains(events.items[events.n - 1], "\"state\":\"cancelled\""));
  CHECK(contains(result, "\"state\":\"cancelled\""));
  CHECK(contains(result, "\"name\":\"sleeper\",\"outcome\":\"cancelled\""));
  CHECK(pid > 0 && kill(pid, 0) == -1 && errno == ESRCH);
  toron_string_free(result);
  toron_run_free(run);
  lines_free(&events);
  toron_manifest_free(manifest);
}

/* Runs freed while running: cancelled and waited for, their threads joined, nothing leaked (valgrind). */
static void test_free_while_running(void) {
  toron_manifest *manifest = load("sleeper.toml");
  if (manifest == NULL) return;
  double t0 = now_seconds();

  toron_run *quiet = NULL; /* no consumer at all */
  CHECK_STATUS(toron_run_start(manifest, NULL, &quiet), TORON_OK);
  toron_run_free(quiet);

  lines delivered = {0};
  toron_run *both = NULL; /* a callback and a poll stream */
  CHECK_STATUS(toron_run_start_with_callback(manifest, "{}", collect, &delivered, &both), TORON_OK);
  char *event = NULL;
  CHECK_STATUS(toron_run_next_event(both, 30000, &event), TORON_OK);
  CHECK(event != NULL && seq_of(event) == 1);
  toron_string_free(event);
  toron_run_free(both);
  /* free returned after the last callback: every event, run.finished last, reports a cancelled run. */
  check_stream(&delivered);
  if (delivered.n > 0) CHECK(contains(delivered.items[delivered.n - 1], "\"state\":\"cancelled\""));
  lines_free(&delivered);

  CHECK(now_seconds() - t0 < 20.0);
  toron_manifest_free(manifest);
}

static void test_null(void) {
  char *s = SENTINEL_STRING;
  CHECK_STATUS(toron_run_next_event(NULL, 0, &s), TORON_NULL_ARGUMENT);
  CHECK_STATUS(toron_run_cancel(NULL), TORON_NULL_ARGUMENT);
  CHECK_STATUS(toron_run_wait(NULL, &s), TORON_NULL_ARGUMENT);
  CHECK(s == SENTINEL_STRING);
  CHECK(toron_run_id(NULL) == NULL);
  toron_run_free(NULL);
  toron_manifest_free(NULL);
  toron_string_free(NULL);
  /* _free and accessors leave the last error alone. */
  CHECK(toron_last_error_status() == TORON_NULL_ARGUMENT);
  CHECK(str_eq(toron_status_name(TORON_END_OF_STREAM), "TORON_END_OF_STREAM"));
  CHECK(str_eq(toron_status_name(TORON_TIMEOUT), "TORON_TIMEOUT"));
  CHECK(TORON_END_OF_STREAM == 5 && TORON_TIMEOUT == 6 && TORON_MANIFEST_ERROR == 110);
}

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw) {
  (void)sb;
  (void)flag;
  (void)ftw;
  return remove(path);
}

/* Issue 16: a failed, errored or timed-out case makes the run NO-GO (state failed) with no gate written, and
 * the case rule that decided it names the case. */
static void test_failing_cases_without_gates_are_no_go(void) {
  static const char *const suites[][3] = {
      {"failing", "failed == 0", "failing/exit3"},
      {"erroring", "errored == 0", "erroring/missing"},
      {"slow", "errored == 0", "slow/sleeps"},
  };
  for (size_t i = 0; i < sizeof suites / sizeof suites[0]; i++) {
    toron_manifest *manifest = load("no_gates.toml");
    if (manifest == NULL) return;
    char options[160];
    snprintf(options, sizeof options, "{\"check\": true, \"archive\": \".toron-no-gates\", \"suites\": [\"%s\"]}",
             suites[i][0]);
    toron_run *run = NULL;
    CHECK_STATUS(toron_run_start(manifest, options, &run), TORON_OK);
    toron_manifest_free(manifest);
    if (run == NULL) return;
    char *result = NULL;
    CHECK_STATUS(toron_run_wait(run, &result), TORON_OK);
    if (result != NULL) {
      CHECK(contains(result, "\"state\":\"failed\""));
      CHECK(contains(result, "\"verdict\":\"NO-GO\""));
      char rule[64], cases[64];
      snprintf(rule, sizeof rule, "\"rule\":\"%s\"", suites[i][1]);
      snprintf(cases, sizeof cases, "Cases: %s.", suites[i][2]);
      CHECK(contains(result, rule));
      CHECK(contains(result, cases));
    }
    toron_string_free(result);
    toron_run_free(run);
  }
}

int main(void) {
  snprintf(dir, sizeof dir, "%s", "/tmp/toron-test-run-XXXXXX");
  if (mkdtemp(dir) == NULL) {
    perror("mkdtemp");
    return 1;
  }
  write_file("echo_small.toml", SCENARIO);
  write_file("testops.toml", MANIFEST);
  write_file("sleeper.toml", SLEEPER);
  write_file("bad_testops.toml", BAD_MANIFEST);
  write_file("no_gates.toml", NO_GATES);

  test_null();
  test_bad_manifest();
  test_bad_options();
  test_passing_run();
  test_failing_cases_without_gates_are_no_go();
  test_timeout_and_cancel();
  test_free_while_running();

  nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
  printf("test_run: %d checks, %d failed\n", checks, failures);
  return failures == 0 ? 0 : 1;
}

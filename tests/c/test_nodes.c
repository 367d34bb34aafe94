/*
 * C nodes: a node bound with toron_scenario_set_node, a `c:<symbol>` model found in a shared library, the
 * toron_ctx_* functions, userdata ownership, and the bad-node cases with their named errors.
 *
 *   test_nodes DIGEST LIBRARY   DIGEST: the echo vector of tests/vectors/c_nodes.json (seed 1 of
 *                               examples/scenarios/echo.toml); LIBRARY: the absolute path of libecho_node.so
 *                               (examples/c/echo_node.c built with -DTORON_ECHO_NODE_LIBRARY)
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "toron.h"
#include "check.h"


static const char *ECHO = "name = \"echo\"\nseed = 1\nstop = { requests = 500 }\n"
                          "[[node]]\nid = \"server\"\nmodel = \"%s\"\n%s"
                          "[network]\nlatency = { dist = \"constant\", value = \"5ms\" }\n"
                          "[load]\nmode = \"closed\"\nclients = 4\ntarget = \"server\"\n";

static toron_status load(const char *model, const char *library, toron_scenario **out) {
  char lib[1024] = "", text[4096];
  if (library != NULL) snprintf(lib, sizeof lib, "library = \"%s\"\n", library);
  snprintf(text, sizeof text, ECHO, model, lib);
  return toron_scenario_from_str(text, "toml", out);
}

/* A node that uses every toron_ctx_* function and fails on demand. */
typedef struct {
  int destroyed;
  int starts;
  uint64_t timers_fired;
  uint64_t random_first;
  int fail_at; /* fail on this message (0: never) */
  int use_fail; /* report through toron_ctx_fail instead of a status */
  int messages;
  int ctx_errors; /* toron_ctx_* calls that did not give what was expected */
} probe;

static int probe_start(toron_ctx *ctx, void *u) {
  probe *p = u;
  p->starts++;
  p->messages = 0;
  p->timers_fired = 0;
  uint32_t id = 99;
  if (toron_ctx_node(ctx, "server", &id) != TORON_OK || id != toron_ctx_id(ctx)) p->ctx_errors++;
  if (toron_ctx_node(ctx, "nope", &id) != TORON_INVALID_ARGUMENT) p->ctx_errors++;
  if (toron_ctx_reply(ctx, "x", 1, NULL) != TORON_INVALID_ARGUMENT) p->ctx_errors++; /* not in on_message */
  if (toron_ctx_incarnation(ctx) != 0 || toron_ctx_now(ctx) != 0) p->ctx_errors++;
  p->random_first = toron_ctx_random(ctx);
  uint64_t cancelled = 0;
  if (toron_ctx_set_timer(ctx, 7, 1000, NULL) != TORON_OK) p->ctx_errors++;
  if (toron_ctx_set_timer(ctx, 8, 2000, &cancelled) != TORON_OK) p->ctx_errors++;
  if (toron_ctx_cancel_timer(ctx, cancelled) != TORON_OK) p->ctx_errors++;
  if (toron_ctx_set_output(ctx, "{not json") != TORON_JSON_ERROR) p->ctx_errors++;
  if (toron_ctx_log(ctx, "probe started") != TORON_OK) p->ctx_errors++;
  return 0;
}

static int probe_timer(toron_ctx *ctx, void *u, uint64_t timer, uint64_t tag) {
  (void)timer;
  probe *p = u;
  p->timers_fired++;
  if (tag != 7 || toron_ctx_now(ctx) != 1000) p->ctx_errors++;
  return toron_ctx_mark(ctx, "probe.timer");
}

static int probe_message(toron_ctx *ctx, void *u, uint32_t src, const char *body, size_t len) {
  (void)src;
  probe *p = u;
  p->messages++;
  if (len != strlen(body) || strcmp(body, "{\"type\":\"echo\"}") != 0) p->ctx_errors++;
  if (p->messages == p->fail_at) {
    if (!p->use_fail) return 7;
    toron_ctx_fail(ctx, "the probe gave up");
    return 0;
  }
  if (p->messages == 1 && toron_ctx_violation(ctx, "probe.first", "the first message") != TORON_OK) p->ctx_errors++;
  char out[64];
  snprintf(out, sizeof out, "{\"messages\":%d}", p->messages);
  if (toron_ctx_set_output(ctx, out) != TORON_OK) p->ctx_errors++;
  return toron_ctx_reply(ctx, "{\"type\":\"ok\"}", 13, NULL) == TORON_OK ? 0 : 1;
}

static void probe_destroy(void *u) { ((probe *)u)->destroyed++; }

static const toron_node_vtable PROBE = {probe_start, probe_message, probe_timer, NULL, probe_destroy, NULL};

static void test_probe(void) {
  probe p = {0};
  toron_scenario *s = NULL;
  toron_outcome *o = NULL;
  char *json = NULL;
  CHECK_STATUS(load("echo", NULL, &s), TORON_OK);
  /* A bad id keeps nothing: destroy is not called, the caller still owns userdata. */
  CHECK_STATUS(toron_scenario_set_node(s, "nope", &PROBE, &p), TORON_SCENARIO_ERROR);
  CHECK(contains(toron_last_error_message(), "no node \"nope\""));
  CHECK_STATUS(toron_scenario_set_node(NULL, "server", &PROBE, &p), TORON_NULL_ARGUMENT);
  CHECK_STATUS(toron_scenario_set_node(s, "server", NULL, &p), TORON_NULL_ARGUMENT);
  CHECK(p.destroyed == 0);
  CHECK_STATUS(toron_scenario_set_node(s, "server", &PROBE, &p), TORON_OK);
  CHECK_STATUS(toron_simulate(s, 1, &o), TORON_OK);
  CHECK(p.starts == 1 && p.timers_fired == 1 && p.messages == 500 && p.ctx_errors == 0);
  CHECK(toron_outcome_violation_count(o) == 1);
  CHECK_STATUS(toron_outcome_to_json(o, &json), TORON_OK);
  CHECK(contains(json, "\"probe.timer\":1"));
  CHECK(contains(json, "\"server\":{\"messages\":500}"));
  uint64_t first = p.random_first;
  toron_string_free(json);
  toron_outcome_free(o);
  /* Deterministic: the same seed gives the same random numbers; on_start resets the state each run. */
  CHECK_STATUS(toron_simulate(s, 1, &o), TORON_OK);
  CHECK(p.starts == 2 && p.random_first == first && p.messages == 500);
  toron_outcome_free(o);
  o = NULL;

  /* A callback returning an error status: TORON_NODE_ERROR naming node, callback, status and time. */
  p.fail_at = 3;
  CHECK_STATUS(toron_simulate(s, 1, &o), TORON_NODE_ERROR);
  CHECK(str_eq(toron_last_error_message(), "node \"server\": on_message returned status 7 at 5000000 ns"));
  CHECK(o == NULL);
  p.use_fail = 1;
  CHECK_STATUS(toron_simulate(s, 1, &o), TORON_NODE_ERROR);
  CHECK(str_eq(toron_last_error_message(), "node \"server\": on_message failed at 5000000 ns: the probe gave up"));
  CHECK(p.destroyed == 0);
  toron_scenario_free(s);
  CHECK(p.destroyed == 1); /* once, when the scenario is freed */
}

/* NULL contexts are statuses or zeros, never a crash. */
static void test_null_ctx(void) {
  CHECK_STATUS(toron_ctx_send(NULL, 0, "x", 1, NULL), TORON_NULL_ARGUMENT);
  CHECK_STATUS(toron_ctx_reply(NULL, "x", 1, NULL), TORON_NULL_ARGUMENT);
  CHECK_STATUS(toron_ctx_set_timer(NULL, 0, 0, NULL), TORON_NULL_ARGUMENT);
  CHECK_STATUS(toron_ctx_mark(NULL, "m"), TORON_NULL_ARGUMENT);
  CHECK_STATUS(toron_ctx_set_output(NULL, "{}"), TORON_NULL_ARGUMENT);
  CHECK(toron_ctx_now(NULL) == 0 && toron_ctx_random(NULL) == 0 && toron_ctx_id(NULL) == 0);
}

/* The `c:` path: the echo node of a shared library gives the built-in echo's digest. */
static void test_library(const char *digest, const char *library) {
  toron_scenario *s = NULL;
  toron_outcome *o = NULL;
  CHECK_STATUS(toron_scenario_from_path("examples/scenarios/echo.toml", &s), TORON_OK);
  CHECK_STATUS(toron_simulate(s, 1, &o), TORON_OK);
  CHECK(str_eq(toron_outcome_digest(o), digest));
  toron_outcome_free(o);
  toron_scenario_free(s);
  o = NULL;
  s = NULL;

  char text[4096];
  FILE *f = fopen("examples/scenarios/echo.toml", "r");
  CHECK(f != NULL);
  if (f == NULL) return;
  size_t n = fread(text, 1, sizeof text - 1, f);
  fclose(f);
  text[n] = 0;
  char *model = strstr(text, "model = \"echo\"");
  CHECK(model != NULL);
  if (model == NULL) return;
  char edited[8192];
  snprintf(edited, sizeof edited, "%.*smodel = \"c:echo_node\"\nlibrary = \"%s\"%s", (int)(model - text), text, library,
           model + strlen("model = \"echo\""));
  CHECK_STATUS(toron_scenario_from_str(edited, "toml", &s), TORON_OK);
  CHECK_STATUS(toron_simulate(s, 1, &o), TORON_OK);
  CHECK(str_eq(toron_outcome_digest(o), digest));
  toron_outcome_free(o);
  toron_scenario_free(s);
  s = NULL;

  /* A missing symbol: reported when the scenario loads, at node[0].model. */
  CHECK_STATUS(load("c:nope", library, &s), TORON_SCENARIO_ERROR);
  CHECK(s == NULL);
  CHECK(str_eq(toron_last_error_field(), "node[0].model"));
  CHECK(contains(toron_last_error_message(), "no symbol \"nope\" in library"));
  CHECK(contains(toron_last_error_message(), "const toron_node_vtable *nope(void)"));
  /* A library that cannot be opened: at load too. */
  CHECK_STATUS(load("c:echo_node", "/nonexistent/libnope.so", &s), TORON_SCENARIO_ERROR);
  CHECK(contains(toron_last_error_message(), "cannot open library \"/nonexistent/libnope.so\""));
  /* No library at all. */
  CHECK_STATUS(load("c:echo_node", NULL, &s), TORON_SCENARIO_ERROR);
  CHECK(contains(toron_last_error_message(), "has no library"));
  /* A relative path cannot be checked before the scenario's directory is known: the simulation reports it. */
  CHECK_STATUS(load("c:echo_node", "missing/libnope.so", &s), TORON_OK);
  CHECK_STATUS(toron_simulate(s, 1, &o), TORON_NODE_ERROR);
  CHECK(contains(toron_last_error_message(), "node \"server\": cannot open library"));
  toron_scenario_free(s);
}

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: test_nodes DIGEST LIBRARY\n");
    return 2;
  }
  test_probe();
  test_null_ctx();
  test_library(argv[1], argv[2]);
  printf("test_nodes: %d checks, %d failed\n", checks, failures);
  printf("%d passed, %d failed\n", checks - failures, failures);
  return failures == 0 ? 0 : 1;
}

/*
 * An echo server written in C: the same behaviour as the built-in `echo` model, so the same scenario and
 * seed give the same digest and output.
 *
 *   ./echo_node [SCENARIO [SEED]]   binds node "server" of SCENARIO (default examples/scenarios/echo.toml)
 *                                   to this node, simulates it and the built-in model, prints both digests
 *                                   and exits 1 if they differ.
 *
 * Built with -DTORON_ECHO_NODE_LIBRARY -shared -fPIC it is a node library instead: a scenario names it with
 * model = "c:echo_node" and library = "libecho_node.so" (mk/c.mk builds it so for tests/c/test_nodes.c, and
 * examples/nodes runs it from its manifest, in the Python process of `toron run`).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "toron.h"

/* The node's state, owned by its userdata: reset when each simulation starts. */
typedef struct {
  uint64_t answered;
} echo_state;

static int set_output(toron_ctx *ctx, const echo_state *s) {
  char json[64];
  snprintf(json, sizeof json, "{\"answered\":%llu}", (unsigned long long)s->answered);
  return toron_ctx_set_output(ctx, json);
}

static int echo_start(toron_ctx *ctx, void *userdata) {
  echo_state *s = userdata;
  s->answered = 0;
  return set_output(ctx, s);
}

/* Answer a load client's echo request with ok, anything else with error (as the built-in model does). */
static int echo_message(toron_ctx *ctx, void *userdata, uint32_t src, const char *body, size_t len) {
  (void)src;
  echo_state *s = userdata;
  static const char echo[] = "{\"type\":\"echo\"}";
  if (len != strlen(echo) || memcmp(body, echo, len) != 0) {
    static const char error[] = "{\"type\":\"error\"}";
    return toron_ctx_reply(ctx, error, strlen(error), NULL);
  }
  s->answered++;
  static const char ok[] = "{\"type\":\"ok\"}";
  if (toron_ctx_reply(ctx, ok, strlen(ok), NULL) != TORON_OK) return 1;
  return set_output(ctx, s);
}

#ifdef TORON_ECHO_NODE_LIBRARY

/* The library's node: `const toron_node_vtable *echo_node(void)`. A library owns the userdata of its `c:`
 * models (toron never calls destroy for them), and one vtable serves every simulation of the process, which
 * a sweep, a determinism case or a run's parallel cases run at once on several threads. A simulation runs on
 * one thread from its on_start to its end, so the state is per thread, and these callbacks ignore
 * `userdata` (NULL). */
static _Thread_local echo_state library_state;

static int library_start(toron_ctx *ctx, void *userdata) {
  (void)userdata;
  return echo_start(ctx, &library_state);
}

static int library_message(toron_ctx *ctx, void *userdata, uint32_t src, const char *body, size_t len) {
  (void)userdata;
  return echo_message(ctx, &library_state, src, body, len);
}

const toron_node_vtable *echo_node(void) {
  static const toron_node_vtable vtable = {library_start, library_message, NULL, NULL, NULL, NULL};
  return &vtable;
}

#else

static void echo_destroy(void *userdata) { free(userdata); }

/* The digest of SCENARIO with SEED, node "server" bound to the C echo when `bind` is set; NULL on error
 * (printed). The caller frees the digest. */
static char *digest_of(const char *path, uint64_t seed, int bind) {
  toron_scenario *scenario = NULL;
  toron_outcome *outcome = NULL;
  char *digest = NULL;
  if (toron_scenario_from_path(path, &scenario) != TORON_OK) goto done;
  if (bind) {
    static const toron_node_vtable vtable = {echo_start, echo_message, NULL, NULL, echo_destroy, NULL};
    echo_state *state = calloc(1, sizeof *state);
    if (state == NULL) goto done;
    /* On success the scenario owns `state` and frees it through echo_destroy; on failure it is ours. */
    if (toron_scenario_set_node(scenario, "server", &vtable, state) != TORON_OK) {
      free(state);
      goto done;
    }
  }
  if (toron_simulate(scenario, seed, &outcome) != TORON_OK) goto done;
  const char *d = toron_outcome_digest(outcome);
  digest = malloc(strlen(d) + 1);
  if (digest != NULL) strcpy(digest, d);
done:
  toron_outcome_free(outcome);
  toron_scenario_free(scenario);
  if (digest == NULL) fprintf(stderr, "error (%s): %s\n", toron_status_name(toron_last_error_status()), toron_last_error_message());
  return digest;
}

int main(int argc, char **argv) {
  const char *path = argc > 1 ? argv[1] : "examples/scenarios/echo.toml";
  uint64_t seed = argc > 2 ? strtoull(argv[2], NULL, 10) : 1;
  char *c_node = digest_of(path, seed, 1);
  char *builtin = digest_of(path, seed, 0);
  int same = c_node != NULL && builtin != NULL && strcmp(c_node, builtin) == 0;
  printf("C echo:   %s\nbuilt-in: %s\n%s\n", c_node ? c_node : "-", builtin ? builtin : "-", same ? "same digest" : "DIFFERENT");
  free(c_node);
  free(builtin);
  return same ? 0 : 1;
}

#endif

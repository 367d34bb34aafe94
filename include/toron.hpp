// toron.hpp: header-only C++17 RAII over the C API of toron.h for nodes written in C++: handles in
// std::unique_ptr with their _free deleters, toron::Error for failed calls, and toron::Node, a base class whose
// callbacks may throw: an exception becomes the simulation's TORON_NODE_ERROR at the C boundary (its what()
// in the last error), never crossing it.
#ifndef TORON_HPP
#define TORON_HPP

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>

#include "toron.h"

namespace toron {

// A failed C call: its status and the last error's message.
class Error : public std::runtime_error {
 public:
  explicit Error(toron_status status) : std::runtime_error(toron_last_error_message()), status_(status) {}
  toron_status status() const noexcept { return status_; }

 private:
  toron_status status_;
};

// Throw toron::Error unless `status` is TORON_OK.
inline void check(toron_status status) {
  if (status != TORON_OK) throw Error(status);
}

struct ScenarioFree {
  void operator()(toron_scenario *s) const noexcept { toron_scenario_free(s); }
};
struct OutcomeFree {
  void operator()(toron_outcome *o) const noexcept { toron_outcome_free(o); }
};
struct StringFree {
  void operator()(char *s) const noexcept { toron_string_free(s); }
};
using Scenario = std::unique_ptr<toron_scenario, ScenarioFree>;
using Outcome = std::unique_ptr<toron_outcome, OutcomeFree>;
using String = std::unique_ptr<char, StringFree>;

inline Scenario scenario_from_path(const std::string &path) {
  toron_scenario *s = nullptr;
  check(toron_scenario_from_path(path.c_str(), &s));
  return Scenario(s);
}

inline Scenario scenario_from_str(const std::string &text, const char *format = "toml") {
  toron_scenario *s = nullptr;
  check(toron_scenario_from_str(text.c_str(), format, &s));
  return Scenario(s);
}

inline Outcome simulate(const Scenario &scenario, std::uint64_t seed) {
  toron_outcome *o = nullptr;
  check(toron_simulate(scenario.get(), seed, &o));
  return Outcome(o);
}

inline std::string outcome_json(const Outcome &outcome) {
  char *json = nullptr;
  check(toron_outcome_to_json(outcome.get(), &json));
  return String(json).get();
}

// What a node may do during one callback (valid only while it runs); failures throw toron::Error.
class Ctx {
 public:
  explicit Ctx(toron_ctx *ctx) noexcept : ctx_(ctx) {}
  std::uint64_t send(std::uint32_t dst, std::string_view body) {
    std::uint64_t id = 0;
    check(toron_ctx_send(ctx_, dst, body.data(), body.size(), &id));
    return id;
  }
  // Answer the message being handled; `{"type":"ok"}` answers a load client's request.
  std::uint64_t reply(std::string_view body) {
    std::uint64_t id = 0;
    check(toron_ctx_reply(ctx_, body.data(), body.size(), &id));
    return id;
  }
  std::uint64_t set_timer(std::uint64_t tag, std::uint64_t delay_ns) {
    std::uint64_t id = 0;
    check(toron_ctx_set_timer(ctx_, tag, delay_ns, &id));
    return id;
  }
  void cancel_timer(std::uint64_t timer) { check(toron_ctx_cancel_timer(ctx_, timer)); }
  std::uint64_t now() const noexcept { return toron_ctx_now(ctx_); }
  std::uint64_t random() noexcept { return toron_ctx_random(ctx_); }
  std::uint32_t id() const noexcept { return toron_ctx_id(ctx_); }
  std::uint32_t incarnation() const noexcept { return toron_ctx_incarnation(ctx_); }
  std::uint32_t node(const std::string &name) {
    std::uint32_t id = 0;
    check(toron_ctx_node(ctx_, name.c_str(), &id));
    return id;
  }
  void set_output(const std::string &json) { check(toron_ctx_set_output(ctx_, json.c_str())); }
  void mark(const std::string &mark) { check(toron_ctx_mark(ctx_, mark.c_str())); }
  void violation(const std::string &invariant, const std::string &message) {
    check(toron_ctx_violation(ctx_, invariant.c_str(), message.c_str()));
  }
  void log(const std::string &text) { check(toron_ctx_log(ctx_, text.c_str())); }
  toron_ctx *get() const noexcept { return ctx_; }

 private:
  toron_ctx *ctx_;
};

// A node: override the callbacks it needs. The same object serves every simulation of its scenario:
// on_start is called when each starts (reset state there), on_restart after each restart (default: on_start).
class Node {
 public:
  virtual ~Node() = default;
  virtual void on_start(Ctx &) {}
  virtual void on_message(Ctx &, std::uint32_t /*src*/, std::string_view /*body*/) {}
  virtual void on_timer(Ctx &, std::uint64_t /*timer*/, std::uint64_t /*tag*/) {}
  virtual void on_restart(Ctx &ctx) { on_start(ctx); }
};

namespace detail {
// Run `f`; an exception becomes toron_ctx_fail with its message and a nonzero status, never crossing into C.
template <typename F>
int guarded(toron_ctx *ctx, F &&f) noexcept {
  try {
    Ctx c(ctx);
    f(c);
    return 0;
  } catch (const std::exception &e) {
    toron_ctx_fail(ctx, e.what());
  } catch (...) {
    toron_ctx_fail(ctx, "a C++ exception that is not a std::exception");
  }
  return 1;
}
inline int on_start(toron_ctx *ctx, void *u) {
  return guarded(ctx, [u](Ctx &c) { static_cast<Node *>(u)->on_start(c); });
}
inline int on_restart(toron_ctx *ctx, void *u) {
  return guarded(ctx, [u](Ctx &c) { static_cast<Node *>(u)->on_restart(c); });
}
inline int on_message(toron_ctx *ctx, void *u, std::uint32_t src, const char *body, std::size_t len) {
  return guarded(ctx, [=](Ctx &c) { static_cast<Node *>(u)->on_message(c, src, std::string_view(body, len)); });
}
inline int on_timer(toron_ctx *ctx, void *u, std::uint64_t timer, std::uint64_t tag) {
  return guarded(ctx, [=](Ctx &c) { static_cast<Node *>(u)->on_timer(c, timer, tag); });
}
inline void destroy(void *u) { delete static_cast<Node *>(u); }
inline const toron_node_vtable *vtable() {
  static const toron_node_vtable v = {on_start, on_message, on_timer, on_restart, destroy, nullptr};
  return &v;
}
}  // namespace detail

// Bind node `id` of `scenario` to `node`: the scenario owns it from then on (deleted when it is freed); on
// failure toron::Error is thrown and `node` is deleted here.
inline void set_node(Scenario &scenario, const std::string &id, std::unique_ptr<Node> node) {
  check(toron_scenario_set_node(scenario.get(), id.c_str(), detail::vtable(), node.get()));
  node.release();
}

}  // namespace toron

#endif

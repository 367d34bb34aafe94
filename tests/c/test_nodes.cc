// C++ nodes through toron.hpp: the echo gives the vector's digest, a throwing callback becomes
// TORON_NODE_ERROR naming the node, the callback, the time and what(), and the scenario deletes its node.
//
//   test_nodes_cc DIGEST   DIGEST: the echo vector of tests/vectors/c_nodes.json
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>

#include "toron.hpp"
#include "check.h"

static int deleted = 0;

class Echo : public toron::Node {
 public:
  explicit Echo(int throw_at = 0) : throw_at_(throw_at) {}
  ~Echo() override { deleted++; }
  void on_start(toron::Ctx &ctx) override {
    answered_ = 0;
    ctx.set_output("{\"answered\":0}");
  }
  void on_message(toron::Ctx &ctx, std::uint32_t, std::string_view body) override {
    if (body != R"({"type":"echo"})") {
      ctx.reply(R"({"type":"error"})");
      return;
    }
    answered_++;
    if (answered_ == throw_at_) throw std::runtime_error("boom");
    ctx.reply(R"({"type":"ok"})");
    ctx.set_output("{\"answered\":" + std::to_string(answered_) + "}");
  }

 private:
  int throw_at_;
  int answered_ = 0;
};

int main(int argc, char **argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: test_nodes_cc DIGEST\n");
    return 2;
  }
  try {
    auto s = toron::scenario_from_path("examples/scenarios/echo.toml");
    toron::set_node(s, "server", std::make_unique<Echo>());
    auto o = toron::simulate(s, 1);
    CHECK(str_eq(toron_outcome_digest(o.get()), argv[1]));
    CHECK(contains(toron::outcome_json(o).c_str(), "\"server\":{\"answered\":10000}"));
    CHECK(deleted == 0);
    s.reset();
    CHECK(deleted == 1);

    auto t = toron::scenario_from_path("examples/scenarios/echo.toml");
    toron::set_node(t, "server", std::make_unique<Echo>(3));
    try {
      toron::simulate(t, 1);
      CHECK(false);
    } catch (const toron::Error &e) {
      CHECK(e.status() == TORON_NODE_ERROR);
      CHECK(std::strcmp(e.what(), "node \"server\": on_message failed at 5000000 ns: boom") == 0);
    }
    // A bad id: the node is deleted here, nothing is kept.
    try {
      toron::set_node(t, "nope", std::make_unique<Echo>());
      CHECK(false);
    } catch (const toron::Error &e) {
      CHECK(e.status() == TORON_SCENARIO_ERROR);
    }
    CHECK(deleted == 2);
  } catch (const std::exception &e) {
    std::fprintf(stderr, "unexpected exception: %s\n", e.what());
    failures++;
  }
  CHECK(deleted == 3);
  std::printf("test_nodes_cc: %d checks, %d failed\n", checks, failures);
  std::printf("%d passed, %d failed\n", checks - failures, failures);
  return failures == 0 ? 0 : 1;
}

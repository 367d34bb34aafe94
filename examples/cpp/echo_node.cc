// The echo node of examples/c/echo_node.c in C++ with toron.hpp: the same digest as the built-in `echo`.
//
//   ./echo_node_cc [SCENARIO [SEED]]   binds node "server" of SCENARIO (default examples/scenarios/echo.toml),
//                                      prints its digest and the built-in model's, exits 1 if they differ.
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include "toron.hpp"

class Echo : public toron::Node {
 public:
  void on_start(toron::Ctx &ctx) override {
    answered_ = 0;
    output(ctx);
  }
  void on_message(toron::Ctx &ctx, std::uint32_t, std::string_view body) override {
    if (body != R"({"type":"echo"})") {
      ctx.reply(R"({"type":"error"})");
      return;
    }
    answered_++;
    ctx.reply(R"({"type":"ok"})");
    output(ctx);
  }

 private:
  void output(toron::Ctx &ctx) { ctx.set_output("{\"answered\":" + std::to_string(answered_) + "}"); }
  std::uint64_t answered_ = 0;
};

int main(int argc, char **argv) {
  const std::string path = argc > 1 ? argv[1] : "examples/scenarios/echo.toml";
  const std::uint64_t seed = argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 1;
  try {
    auto bound = toron::scenario_from_path(path);
    toron::set_node(bound, "server", std::make_unique<Echo>());
    const std::string cpp = toron_outcome_digest(toron::simulate(bound, seed).get());
    const std::string builtin = toron_outcome_digest(toron::simulate(toron::scenario_from_path(path), seed).get());
    std::printf("C++ echo: %s\nbuilt-in: %s\n%s\n", cpp.c_str(), builtin.c_str(), cpp == builtin ? "same digest" : "DIFFERENT");
    return cpp == builtin ? 0 : 1;
  } catch (const toron::Error &e) {
    std::fprintf(stderr, "error (%s): %s\n", toron_status_name(e.status()), e.what());
    return 1;
  }
}

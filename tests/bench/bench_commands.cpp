// Microbenchmarks of the command path inside the agent: a `<command/>` stanza
// (already parsed by libstrophe) read into the fixed Form, routed against the
// simulated board, and the answer formatted; and a chat line. Figures, not
// assertions (tools/bench prints them).
#include <benchmark/benchmark.h>
#include <strophe.h>

#include <cstdio>
#include <memory>
#include <string>

#include "agent/chat.hpp"
#include "agent/commands.hpp"
#include "agent/xmpp/stanza_form.hpp"
#include "boards/board.hpp"
#include "hal/sim/manual_clock.hpp"

namespace {

class NullHost final : public agent::CommandHost {
 public:
  void publish_telemetry_now(const drv::Device&, size_t) override {}
  agent::TelemetrySettings telemetry_settings() override { return {}; }
  hal::Err reconfigure_telemetry(const agent::TelemetrySettings&) override { return hal::Err::Ok; }
  hal::Err request_reboot(const char*) override { return hal::Err::Ok; }
  void diagnostics(agent::DiagnosticsInfo*) override {}
};

struct Rig {
  hal::sim::ManualClock clock;
  std::unique_ptr<boards::Board> board;
  agent::AclConfig acl;
  agent::Rng rng{7};
  NullHost host;
  std::unique_ptr<agent::CommandRouter> router;
  std::unique_ptr<agent::Form> form{new agent::Form()};
  std::unique_ptr<agent::CommandResponse> response{new agent::CommandResponse()};
  char xml[16384];
  xmpp_ctx_t* ctx;
  Rig() {
    std::string error;
    board = boards::Board::open(XIOT_SOURCE_DIR "/boards/sim/board.json", clock, clock, &error);
    acl.owners = {"admin@localhost"};
    acl.operators = {"ops@localhost"};
    router.reset(new agent::CommandRouter(acl, board->registry(), clock, rng, host, nullptr));
    xmpp_initialize();
    ctx = xmpp_ctx_new(nullptr, nullptr);
  }
  ~Rig() { xmpp_ctx_free(ctx); }
  /// What the session does with one <command/>: form, route, format.
  size_t run(xmpp_stanza_t* command) {
    agent::CommandRequest req;
    req.from = "ops@localhost/bench";
    req.node = xmpp_stanza_get_attribute(command, "node");
    req.action = agent::parse_command_action(xmpp_stanza_get_attribute(command, "action"));
    if (xmpp_stanza_t* x = agent::find_child(command, "x", agent::kDataFormsXmlns)) {
      agent::form_from_stanza(x, form.get());
      req.form = form.get();
    }
    router->handle(req, response.get());
    const hal::Result<size_t> n = response->is_error ? agent::format_command_error_xml(xml, sizeof xml, response->err)
                                                     : agent::format_command_xml(xml, sizeof xml, *response);
    return n.ok() ? n.value() : 0;
  }
};

void run_command(benchmark::State& state, const char* text) {
  Rig rig;
  xmpp_stanza_t* command = xmpp_stanza_new_from_string(rig.ctx, text);
  size_t bytes = 0;
  for (auto _ : state) {
    bytes = rig.run(command);
    benchmark::DoNotOptimize(bytes);
  }
  state.counters["answer_bytes"] = static_cast<double>(bytes);
  xmpp_stanza_release(command);
}

void BM_CommandRead(benchmark::State& state) {
  run_command(state, "<command xmlns='http://jabber.org/protocol/commands' node='read'/>");
}
BENCHMARK(BM_CommandRead);

void BM_CommandSetOneShot(benchmark::State& state) {
  run_command(state,
              "<command xmlns='http://jabber.org/protocol/commands' node='set'><x xmlns='jabber:x:data' "
              "type='submit'><field var='channel'><value>relay0.state</value></field><field var='value'>"
              "<value>on</value></field></x></command>");
}
BENCHMARK(BM_CommandSetOneShot);

void BM_CommandUnknownNode(benchmark::State& state) {
  run_command(state, "<command xmlns='http://jabber.org/protocol/commands' node='nope'/>");
}
BENCHMARK(BM_CommandUnknownNode);

void BM_ChatRead(benchmark::State& state) {
  Rig rig;
  agent::ChatBot bot(*rig.router);
  for (auto _ : state) benchmark::DoNotOptimize(bot.reply("ops@localhost/bench", "read"));
}
BENCHMARK(BM_ChatRead);

}  // namespace

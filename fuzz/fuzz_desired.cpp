// libFuzzer target: desired state (docs/desired-state.md), everything after
// libstrophe's parser: a PubSub `<item/>` element is read into the fixed
// DesiredItem (agent/xmpp/stanza_desired.hpp) and applied through the command
// router to the simulated board (agent/desired.hpp). Oracles beyond "no
// crash": the report is always produced, fits kDesiredReportMax, and is
// well-formed XML (libstrophe parses it back); a second apply of the same
// item changes nothing on the board.
//
// Input: the whole input is the <item/> element's text (its publisher
// attribute picks the role, as the server's stamp does). The DesiredState
// and the board persist across inputs.
#include <strophe.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>

#include "agent/commands.hpp"
#include "agent/desired.hpp"
#include "agent/xmpp/stanza_desired.hpp"
#include "boards/board.hpp"
#include "fake_command_host.hpp"
#include "hal/sim/manual_clock.hpp"

#ifndef XIOT_SIM_BOARD
#error "XIOT_SIM_BOARD must name boards/sim/board.json"
#endif

namespace {

using Host = fuzz::FakeCommandHost;

struct World {
  hal::sim::ManualClock clock;
  std::unique_ptr<boards::Board> board;
  agent::AclConfig acl;
  agent::Rng rng{1};
  Host host;
  std::unique_ptr<agent::CommandRouter> router;
  std::unique_ptr<agent::DesiredState> state;
  xmpp_ctx_t* ctx = nullptr;
  agent::DesiredItem item;

  World() {
    std::string error;
    board = boards::Board::open(XIOT_SIM_BOARD, clock, clock, &error);
    if (!board) __builtin_trap();
    acl.owners = {"admin@localhost"};
    acl.operators = {"ops@localhost"};
    acl.viewers = {"viewer@localhost"};
    router.reset(new agent::CommandRouter(acl, board->registry(), clock, rng, host, nullptr));
    state.reset(new agent::DesiredState(*router));
    xmpp_initialize();
    ctx = xmpp_ctx_new(nullptr, nullptr);
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static World* w = new World();
  const std::string text(reinterpret_cast<const char*>(data), size);
  xmpp_stanza_t* item = xmpp_stanza_new_from_string(w->ctx, text.c_str());
  if (item == nullptr) return 0;
  agent::desired_from_item(item, &w->item);
  xmpp_stanza_release(item);
  (void)w->state->apply(w->item, hal::WallTime{1765015200000000});
  const char* report = w->state->report_xml();
  if (report[0] == '\0' || std::strlen(report) >= agent::kDesiredReportMax) __builtin_trap();
  xmpp_stanza_t* back = xmpp_stanza_new_from_string(w->ctx, report);
  if (back == nullptr) __builtin_trap();
  xmpp_stanza_release(back);
  // Idempotence: the same item again moves nothing.
  (void)w->state->apply(w->item, hal::WallTime{1765015201000000});
  if (w->state->last_changes() != 0) __builtin_trap();
  return 0;
}

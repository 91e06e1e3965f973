// libFuzzer target: the ad-hoc command path of the agent, everything after
// libstrophe's parser: a `<command/>` element (XEP-0050) with its data form
// (XEP-0004) is read into the fixed Form (agent/xmpp/stanza_form.hpp), routed
// (agent/commands.hpp) against the simulated board, and the answer formatted.
// Oracles beyond "no crash": the answer is always produced, and it is always
// well-formed XML: libstrophe parses it back, alone and inside the reply
// envelope the session sends raw (agent/xmpp/stanza_text.hpp), with the
// request's fuzzed id (the command's sessionid attribute stands in for it)
// and the sender as 'to'.
//
// Input: byte 0 picks the sender (owner, operator, viewer, stranger, or a
// second operator resource); the rest is the <command/> element's text. The
// router persists across inputs, so multi-stage sessions, eviction and
// expiry (the clock advances per input) are exercised too.
#include <strophe.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>

#include "agent/commands.hpp"
#include "agent/xmpp/stanza_form.hpp"
#include "agent/xmpp/stanza_text.hpp"
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
  xmpp_ctx_t* ctx = nullptr;
  agent::Form form;
  agent::CommandResponse response;
  char xml[16384];
  std::string out;  ///< the raw reply, as the session builds it

  World() {
    std::string error;
    board = boards::Board::open(XIOT_SIM_BOARD, clock, clock, &error);
    if (!board) __builtin_trap();
    acl.owners = {"admin@localhost"};
    acl.operators = {"ops@localhost"};
    acl.viewers = {"viewer@localhost"};
    router.reset(new agent::CommandRouter(acl, board->registry(), clock, rng, host, nullptr));
    xmpp_initialize();
    ctx = xmpp_ctx_new(nullptr, nullptr);
  }
};

const char* const kSenders[] = {"admin@localhost/a", "ops@localhost/b", "viewer@localhost/c",
                                "stranger@localhost/d", "ops@localhost/other"};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static World* w = new World();
  if (size < 1) return 0;
  w->clock.advance_ms(1000 * (data[0] >> 4));  // up to 15 s per input: sessions expire
  const char* from = kSenders[(data[0] & 0x0f) % (sizeof kSenders / sizeof kSenders[0])];
  const std::string text(reinterpret_cast<const char*>(data + 1), size - 1);
  xmpp_stanza_t* command = xmpp_stanza_new_from_string(w->ctx, text.c_str());
  if (command == nullptr) return 0;

  agent::CommandRequest req;
  req.from = from;
  req.node = xmpp_stanza_get_attribute(command, "node");
  if (req.node == nullptr) req.node = "";
  req.sessionid = xmpp_stanza_get_attribute(command, "sessionid");
  req.action = agent::parse_command_action(xmpp_stanza_get_attribute(command, "action"));
  xmpp_stanza_t* x = agent::find_child(command, "x", agent::kDataFormsXmlns);
  if (x != nullptr) {
    agent::form_from_stanza(x, &w->form);
    req.form = &w->form;
  }
  w->router->handle(req, &w->response);

  hal::Result<size_t> n = w->response.is_error ? agent::format_command_error_xml(w->xml, sizeof w->xml, w->response.err)
                                               : agent::format_command_xml(w->xml, sizeof w->xml, w->response);
  if (n.ok()) {
    xmpp_stanza_t* back = xmpp_stanza_new_from_string(w->ctx, w->xml);
    if (back == nullptr) __builtin_trap();  // the agent would send malformed XML
    xmpp_stanza_release(back);
    agent::reply_open_text(w->out, w->response.is_error ? "error" : "result",
                           xmpp_stanza_get_attribute(command, "sessionid"), from);
    w->out += w->xml;
    w->out += "</iq>";
    xmpp_stanza_t* iq = xmpp_stanza_new_from_string(w->ctx, w->out.c_str());
    if (iq == nullptr) __builtin_trap();  // the raw reply would be malformed
    xmpp_stanza_release(iq);
  } else if (w->response.is_error) {
    __builtin_trap();  // an error always fits
  }
  xmpp_stanza_release(command);
  return 0;
}

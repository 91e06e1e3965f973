// agent/command_handler.hpp: everything the router offers comes from its
// table. The agent's table is what disco#items lists and what handle()
// finds; a router built over a test-only table with extra handlers (more
// than the agent has, and more than the 8 the session once had room for)
// lists and dispatches them with no other change: adding a command is one
// handler and one table line.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <set>
#include <string>
#include <vector>

#include "agent/commands.hpp"
#include "agent/log.hpp"
#include "hal/sim/manual_clock.hpp"

namespace {

using agent::CommandAction;
using agent::CommandCall;
using agent::CommandCondition;
using agent::CommandInfo;
using agent::CommandResponse;
using agent::CommandStatus;
using agent::FieldType;
using agent::Form;
using agent::FormType;
using agent::Role;
using agent::StanzaCondition;

constexpr const char* kOwner = "admin@localhost/laptop";
constexpr const char* kOperator = "ops@localhost/phone";
constexpr const char* kViewer = "guest@localhost/tablet";
constexpr const char* kStranger = "eve@evil.example/x";

void quiet(void*, agent::LogLevel, const char*, size_t) {}

class NullHost : public agent::CommandHost {
 public:
  void publish_telemetry_now(const drv::Device&, size_t) override {}
  agent::TelemetrySettings telemetry_settings() override { return {}; }
  hal::Err reconfigure_telemetry(const agent::TelemetrySettings&) override { return hal::Err::Ok; }
  hal::Err request_reboot(const char*) override { return hal::Err::Ok; }
  void diagnostics(agent::DiagnosticsInfo*) override {}
};

// --- test-only handlers ---

/// "echo" (viewer): answers at once with a note naming the sender.
void echo_execute(const CommandCall& call, CommandResponse* out) {
  out->add_note(agent::NoteType::Info, "hello %s", call.from);
}

/// "wizard" (operator): three stages; each shows a form with the stage's
/// number, complete says which stage it was completed from.
void wizard_show(const CommandCall& call, CommandResponse* out) {
  char title[16];
  std::snprintf(title, sizeof title, "stage %u", static_cast<unsigned>(call.state->stage));
  out->form.reset(FormType::Form);
  (void)out->form.set_title(title);
  (void)out->form.add_field(FieldType::TextSingle, "word", "Word", true);
  out->has_form = true;
  out->status = CommandStatus::Executing;
  out->actions = agent::kActionComplete | agent::kActionNext | agent::kActionPrev;
}
void wizard_next(const CommandCall& call, CommandResponse* out) {
  ++call.state->stage;
  wizard_show(call, out);
}
void wizard_prev(const CommandCall& call, CommandResponse* out) {
  --call.state->stage;
  wizard_show(call, out);
}
void wizard_complete(const CommandCall& call, CommandResponse* out) {
  const char* word = call.form->value_of("word");
  out->add_note(agent::NoteType::Info, "heard '%s' at stage %u", word != nullptr ? word : "",
                call.state != nullptr ? static_cast<unsigned>(call.state->stage) : 0u);
}

constexpr CommandInfo kEcho = {"echo", "Echo", Role::Viewer, 0, echo_execute, nullptr, nullptr, nullptr, nullptr};
constexpr CommandInfo kWizard = {"wizard", "Three-stage wizard", Role::Operator, 3,
                                 wizard_show, nullptr, wizard_next, wizard_prev, wizard_complete};

/// The agent's table plus `echo`, `wizard` and fillers, so the table is
/// longer than 8 (the session's old fixed listing) whatever the agent has.
std::vector<CommandInfo> extended_table() {
  static const char* const kFillers[] = {"extra-1", "extra-2", "extra-3", "extra-4", "extra-5"};
  size_t n = 0;
  const CommandInfo* agent_table = agent::command_table(&n);
  std::vector<CommandInfo> t(agent_table, agent_table + n);
  t.push_back(kEcho);
  t.push_back(kWizard);
  for (const char* node : kFillers) {
    t.push_back({node, "Filler", Role::Owner, 0, echo_execute, nullptr, nullptr, nullptr, nullptr});
  }
  return t;
}

std::vector<std::string> listed(const agent::CommandRouter& r, const char* from) {
  std::vector<std::string> v;
  const size_t n = r.visit_commands(
      from, [](void* ctx, const CommandInfo& c) { static_cast<std::vector<std::string>*>(ctx)->push_back(c.node); },
      &v);
  EXPECT_EQ(n, v.size());
  return v;
}

/// The table's nodes `role` may run, in table order.
std::vector<std::string> expected(const agent::CommandTable& t, Role role) {
  std::vector<std::string> v;
  for (size_t i = 0; i < t.count; ++i) {
    if (agent::role_allows(role, t.entries[i].role)) v.push_back(t.entries[i].node);
  }
  return v;
}

class CommandTableTest : public ::testing::Test {
 protected:
  void SetUp() override {
    agent::log_set_sink(quiet, nullptr);
    acl_.owners = {"admin@localhost"};
    acl_.operators = {"ops@localhost"};
    acl_.viewers = {"*@localhost"};
  }
  void TearDown() override { agent::log_set_sink(nullptr, nullptr); }

  const CommandResponse& run(agent::CommandRouter& r, const char* from, const char* node,
                             const char* sid = nullptr, CommandAction action = CommandAction::Execute,
                             const Form* form = nullptr) {
    agent::CommandRequest req;
    req.from = from;
    req.node = node;
    req.sessionid = sid;
    req.action = action;
    req.form = form;
    r.handle(req, &resp_);
    return resp_;
  }
  const Form* submit_word(const char* word) {
    form_.reset(FormType::Submit);
    EXPECT_TRUE(form_.add_field(FieldType::TextSingle, "word").ok());
    EXPECT_EQ(form_.add_value(word), hal::Err::Ok);
    return &form_;
  }

  agent::AclConfig acl_;
  drv::Registry reg_;
  hal::sim::ManualClock clock_;
  agent::Rng rng_{0x7AB1E};
  NullHost host_;
  CommandResponse resp_;
  Form form_;
};

TEST_F(CommandTableTest, AgentTableIsWellFormedAndIsWhatTheRouterUses) {
  size_t n = 0;
  const CommandInfo* table = agent::command_table(&n);
  ASSERT_GT(n, 0u);
  const agent::CommandTable whole = agent::agent_command_table();
  EXPECT_EQ(whole.entries, table);
  EXPECT_EQ(whole.count, n);
  std::set<std::string> nodes;
  for (size_t i = 0; i < n; ++i) {
    const CommandInfo& c = table[i];
    SCOPED_TRACE(c.node);
    EXPECT_TRUE(nodes.insert(c.node).second) << "duplicate node";
    EXPECT_NE(c.name[0], '\0');
    EXPECT_EQ(agent::find_command(c.node), &c);
    ASSERT_NE(c.execute, nullptr);
    // A form command needs `complete`, a multi-form one `next`; a command
    // that answers at once takes no form.
    EXPECT_EQ(c.complete != nullptr, c.stages >= 1);
    EXPECT_TRUE(c.stages < 2 || c.next != nullptr);
  }
  agent::CommandRouter router(acl_, reg_, clock_, rng_, host_, nullptr);
  EXPECT_EQ(router.commands().entries, table);
  // An owner may run every command: the listing is the whole table, in order.
  std::vector<const CommandInfo*> all(n + 1);
  ASSERT_EQ(router.list_commands(kOwner, all.data(), all.size()), n);
  for (size_t i = 0; i < n; ++i) EXPECT_EQ(all[i], &table[i]);
  EXPECT_EQ(listed(router, kOperator), expected(whole, Role::Operator));
  EXPECT_EQ(listed(router, kViewer), expected(whole, Role::Viewer));
  EXPECT_TRUE(listed(router, kStranger).empty());
}

TEST_F(CommandTableTest, ARouterOverAnExtendedTableListsEveryEntry) {
  const std::vector<CommandInfo> t = extended_table();
  ASSERT_GT(t.size(), 8u);
  agent::CommandRouterOptions opt;
  opt.commands = {t.data(), t.size()};
  agent::CommandRouter router(acl_, reg_, clock_, rng_, host_, nullptr, opt);
  EXPECT_EQ(router.commands().count, t.size());
  EXPECT_EQ(listed(router, kOwner).size(), t.size());
  EXPECT_EQ(listed(router, kOwner), expected(opt.commands, Role::Owner));
  EXPECT_EQ(listed(router, kOperator), expected(opt.commands, Role::Operator));
  EXPECT_EQ(listed(router, kViewer), expected(opt.commands, Role::Viewer));
  EXPECT_TRUE(listed(router, kStranger).empty());
  const std::vector<std::string> viewer = listed(router, kViewer);
  EXPECT_EQ(std::count(viewer.begin(), viewer.end(), "echo"), 1);
  EXPECT_EQ(router.find("wizard"), &t[t.size() - 6]);
  EXPECT_EQ(router.find("nope"), nullptr);
  // The agent's own table is untouched.
  EXPECT_EQ(agent::find_command("echo"), nullptr);
}

TEST_F(CommandTableTest, ARouterOverAnExtendedTableDispatchesItsHandlers) {
  const std::vector<CommandInfo> t = extended_table();
  agent::CommandRouterOptions opt;
  opt.commands = {t.data(), t.size()};
  agent::CommandRouter router(acl_, reg_, clock_, rng_, host_, nullptr, opt);

  // A single-stage handler: completes at once, with a sessionid, no session kept.
  const CommandResponse& echo = run(router, kViewer, "echo");
  ASSERT_FALSE(echo.is_error) << echo.err.text;
  EXPECT_EQ(echo.status, CommandStatus::Completed);
  EXPECT_STREQ(echo.node, "echo");
  EXPECT_NE(echo.sessionid[0], '\0');
  ASSERT_EQ(echo.note_count, 1u);
  EXPECT_EQ(std::string(echo.notes[0].text), std::string("hello ") + kViewer);
  EXPECT_EQ(router.live_sessions(), 0u);

  // The common checks apply to new handlers as to the agent's: ACL first,
  // then the node, then the role from the table.
  EXPECT_EQ(run(router, kStranger, "echo").err.condition, StanzaCondition::Forbidden);
  EXPECT_EQ(run(router, kViewer, "nope").err.condition, StanzaCondition::ItemNotFound);
  const CommandResponse& refused = run(router, kViewer, "wizard");
  ASSERT_TRUE(refused.is_error);
  EXPECT_EQ(refused.err.condition, StanzaCondition::Forbidden);
  EXPECT_STREQ(refused.err.text, "'wizard' needs the operator role (you are viewer)");

  // A three-stage handler: next and prev move through the stages the table
  // declares, and no further.
  const CommandResponse& first = run(router, kOperator, "wizard");
  ASSERT_FALSE(first.is_error) << first.err.text;
  EXPECT_EQ(first.status, CommandStatus::Executing);
  EXPECT_STREQ(first.form.title(), "stage 1");
  EXPECT_EQ(router.live_sessions(), 1u);
  const std::string sid = first.sessionid;
  EXPECT_TRUE(run(router, kOperator, "wizard", sid.c_str(), CommandAction::Prev).is_error);
  EXPECT_EQ(resp_.err.app, CommandCondition::BadAction);
  EXPECT_STREQ(run(router, kOperator, "wizard", sid.c_str(), CommandAction::Next, submit_word("a")).form.title(),
               "stage 2");
  EXPECT_STREQ(run(router, kOperator, "wizard", sid.c_str(), CommandAction::Next, submit_word("b")).form.title(),
               "stage 3");
  EXPECT_TRUE(run(router, kOperator, "wizard", sid.c_str(), CommandAction::Next, submit_word("c")).is_error);
  EXPECT_EQ(resp_.err.app, CommandCondition::BadAction);
  EXPECT_STREQ(resp_.err.text, "no next stage");
  EXPECT_STREQ(run(router, kOperator, "wizard", sid.c_str(), CommandAction::Prev).form.title(), "stage 2");
  const CommandResponse& done =
      run(router, kOperator, "wizard", sid.c_str(), CommandAction::Complete, submit_word("hello"));
  ASSERT_FALSE(done.is_error) << done.err.text;
  EXPECT_EQ(done.status, CommandStatus::Completed);
  ASSERT_EQ(done.note_count, 1u);
  EXPECT_STREQ(done.notes[0].text, "heard 'hello' at stage 2");
  EXPECT_EQ(router.live_sessions(), 0u);

  // One round trip: an execute carrying the submitted form completes without a session.
  const CommandResponse& oneshot =
      run(router, kOperator, "wizard", nullptr, CommandAction::Execute, submit_word("quick"));
  ASSERT_FALSE(oneshot.is_error) << oneshot.err.text;
  EXPECT_STREQ(oneshot.notes[0].text, "heard 'quick' at stage 0");
  EXPECT_EQ(router.live_sessions(), 0u);

  // The agent's commands still run in the extended table.
  const CommandResponse& read = run(router, kViewer, "read");
  ASSERT_FALSE(read.is_error) << read.err.text;
  EXPECT_EQ(read.status, CommandStatus::Completed);
}

}  // namespace

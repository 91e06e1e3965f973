// Alerts to a group chat end to end (issue 14, docs/alerts.md), against a
// real Prosody (its conference.localhost MUC component) and a real xiot-agent
// on the simulated board: a person sits in the room (slixmpp,
// tests/integration/probe/muc_listener.py), the owner sets a rule with the
// `alerts` command (xmpp_commander.py) whose threshold the sim board's
// temperature (21.54 Cel) crosses, the agent joins the room and the ALARM
// arrives with its <alert/> element; the rule survives an agent restart.
#include <cjson/cJSON.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "harness.hpp"

namespace {

using namespace std::chrono_literals;
using xiot::test::AgentConfig;
using xiot::test::DevServer;
using xiot::test::in;
using xiot::test::Process;

constexpr const char* kOnline = "INFO xmpp: online";
using Json = std::shared_ptr<cJSON>;

Json parse(const std::string& text) { return Json(cJSON_Parse(text.c_str()), cJSON_Delete); }
std::string str(const cJSON* o, const char* key) {
  const cJSON* v = cJSON_GetObjectItemCaseSensitive(o, key);
  return cJSON_IsString(v) ? v->valuestring : "";
}
std::string dump(const cJSON* o) {
  char* t = cJSON_PrintUnformatted(o);
  std::string out = t != nullptr ? t : "(null)";
  cJSON_free(t);
  return out;
}

class AgentAlerts : public ::testing::Test {
 protected:
  void SetUp() override {
    AgentConfig c;
    c.viewers = {"viewer@" + server_.domain()};
    config_ = write_agent_config(server_, server_.dir() + "/agent/agent.json", c);
    start_agent();
  }

  void start_agent() {
    agent_ = std::make_unique<Process>(std::vector<std::string>{xiot::test::binary_path("xiot-agent"), "--config", config_});
    ASSERT_TRUE(agent_->wait_for_output(kOnline, in(20s))) << agent_->describe();
  }

  std::string room() const { return "alarms@conference." + server_.domain(); }

  /// A person (viewer) in the room, printing what it hears.
  void join_listener() {
    listener_ = std::make_unique<Process>(std::vector<std::string>{
        "/usr/bin/python3", xiot::test::source_path("tests/integration/probe/muc_listener.py"), "--jid",
        server_.jid("viewer"), "--password", server_.password("viewer"), "--host", server_.host(), "--port",
        std::to_string(server_.port()), "--ca-file", server_.ca_file(), "--room", room(), "--nick", "watcher",
        "--deadline", "300"});
    ASSERT_TRUE(listener_->wait_for_output("\"event\": \"joined\"", in(30s))) << listener_->describe();
  }

  /// The groupchat messages the listener heard, in order.
  std::vector<Json> heard() const {
    std::vector<Json> out;
    const std::string text = listener_->out();
    size_t start = 0;
    while (start < text.size()) {
      size_t end = text.find('\n', start);
      if (end == std::string::npos) end = text.size();
      Json d = parse(text.substr(start, end - start));
      if (d && str(d.get(), "event") == "message") out.push_back(d);
      start = end + 1;
    }
    return out;
  }

  /// Runs the commander's `steps` (a JSON array text) as `user`; one document per step.
  std::vector<Json> run(const std::string& user, const std::string& steps) {
    return xiot::test::run_commander(server_, user, server_.jid("dev1") + "/xiot", steps);
  }

  /// Values of form field `var` of a command answer.
  static std::vector<std::string> values(const Json& answer, const std::string& var) {
    std::vector<std::string> out;
    const cJSON* f = nullptr;
    cJSON_ArrayForEach(f, cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(answer.get(), "form"), "fields")) {
      if (str(f, "var") != var) continue;
      const cJSON* v = nullptr;
      cJSON_ArrayForEach(v, cJSON_GetObjectItemCaseSensitive(f, "values")) out.push_back(v->valuestring);
    }
    return out;
  }

  size_t alarms_heard() const {
    size_t n = 0;
    for (const Json& m : heard()) {
      const cJSON* a = cJSON_GetObjectItemCaseSensitive(m.get(), "alert");
      if (cJSON_IsObject(a) && str(a, "state") == "alarm") ++n;
    }
    return n;
  }

  DevServer server_;
  std::string config_;
  std::unique_ptr<Process> agent_;
  std::unique_ptr<Process> listener_;
};

TEST_F(AgentAlerts, ARuleSetByTheCommandAlarmsTheRoomAndSurvivesARestart) {
  join_listener();
  // The owner sees the (empty) form, then sets the room and a rule the sim
  // board's 21.54 Cel is above; a bad line and an operator are refused.
  const std::string set_rule =
      R"({"op":"command","node":"alerts","action":"complete","sessionid":"$last","form":{"room":")" + room() +
      R"(","rules":["env0.temperature above 20 hysteresis 0.5"]}})";
  const auto a = run("admin", "[" R"({"op":"command","node":"alerts"})" "," + set_rule + "," +
                                  R"({"op":"command","node":"alerts","form":{"room":")" + room() +
                                  R"(","rules":["env0.temperature above 20","env0.temperature over 9"]}})" "]");
  ASSERT_EQ(a.size(), 3u);
  EXPECT_EQ(str(a[0].get(), "status"), "executing") << dump(a[0].get());
  EXPECT_EQ(values(a[0], "rules").size(), 0u) << dump(a[0].get());
  EXPECT_EQ(str(a[1].get(), "status"), "completed") << dump(a[1].get());
  EXPECT_NE(dump(a[1].get()).find("1 alert rule, alarms to " + room()), std::string::npos) << dump(a[1].get());
  EXPECT_EQ(str(a[2].get(), "condition"), "bad-request") << dump(a[2].get());
  EXPECT_EQ(str(a[2].get(), "text"),
            "rules line 2 'env0.temperature over 9': expected 'above' or 'below' after the channel, got 'over'")
      << dump(a[2].get());
  const auto ops = run("ops", R"([{"op":"command","node":"alerts"}])");
  ASSERT_EQ(ops.size(), 1u);
  EXPECT_EQ(str(ops[0].get(), "condition"), "forbidden") << dump(ops[0].get());

  // The agent joins the room and the ALARM arrives, text and element.
  ASSERT_TRUE(agent_->wait_for_output("INFO alerts: joined room " + room(), in(20s))) << agent_->describe();
  ASSERT_TRUE(xiot::test::wait_until([&] { return alarms_heard() >= 1; }, in(20s))) << listener_->describe();
  const std::vector<Json> msgs = heard();
  ASSERT_FALSE(msgs.empty());
  const Json& m = msgs.front();
  EXPECT_EQ(str(m.get(), "from"), room() + "/" + server_.jid("dev1")) << dump(m.get());
  const std::string body = str(m.get(), "body");
  EXPECT_EQ(body.rfind("ALARM " + server_.jid("dev1") + " env0.temperature ", 0), 0u) << body;
  EXPECT_NE(body.find(" Cel above 20"), std::string::npos) << body;
  const cJSON* alert = cJSON_GetObjectItemCaseSensitive(m.get(), "alert");
  ASSERT_TRUE(cJSON_IsObject(alert)) << dump(m.get());
  EXPECT_EQ(str(alert, "device"), server_.jid("dev1"));
  EXPECT_EQ(str(alert, "channel"), "env0.temperature");
  EXPECT_EQ(str(alert, "state"), "alarm");
  EXPECT_EQ(str(alert, "comparison"), "above");
  EXPECT_EQ(str(alert, "threshold"), "20");
  EXPECT_EQ(str(alert, "unit"), "Cel");
  EXPECT_NEAR(std::atof(str(alert, "value").c_str()), 21.54, 0.5) << dump(alert);
  EXPECT_EQ(str(alert, "at").size(), 20u) << dump(alert);  // 2026-12-06T10:00:00Z
  // Readings go on (every second) while the commander runs: still one alarm.
  const auto diag = run("ops", R"([{"op":"command","node":"diagnostics"}])");
  ASSERT_EQ(diag.size(), 1u);
  EXPECT_EQ(values(diag[0], "active_alarms"), std::vector<std::string>{"1"}) << dump(diag[0].get());
  EXPECT_EQ(values(diag[0], "alert_rules"), std::vector<std::string>{"1"}) << dump(diag[0].get());
  EXPECT_EQ(alarms_heard(), 1u) << listener_->describe();

  // Restart: the rule was persisted; the new run raises the alarm again.
  agent_->kill(SIGTERM);
  ASSERT_EQ(agent_->wait_exit(in(15s)), std::optional<int>(0)) << agent_->describe();
  start_agent();
  EXPECT_TRUE(agent_->wait_for_output("persisted alert rules: 1, room " + room(), in(5s))) << agent_->describe();
  ASSERT_TRUE(xiot::test::wait_until([&] { return alarms_heard() >= 2; }, in(20s))) << listener_->describe();
  const auto shown = run("admin", R"([{"op":"command","node":"alerts"}])");
  ASSERT_EQ(shown.size(), 1u);
  EXPECT_EQ(values(shown[0], "rules"), std::vector<std::string>{"env0.temperature above 20 hysteresis 0.5"})
      << dump(shown[0].get());
  EXPECT_EQ(values(shown[0], "room"), std::vector<std::string>{room()});
  EXPECT_EQ(agent_->count_output(" ERROR ", Process::Stream::Either), 0u) << agent_->describe();
}

TEST_F(AgentAlerts, ConfiguredRulesJoinAtStartAndAnUnknownChannelIsAConfigError) {
  // The config's "alerts" section: joined and alarmed without any command.
  agent_->kill(SIGTERM);
  ASSERT_TRUE(agent_->wait_exit(in(15s)).has_value());
  AgentConfig c;
  c.override_json = R"({"alerts": {"room": ")" + room() +
                    R"(", "rules": [{"channel": "env0.temperature", "below": 40, "for_s": 1}]}})";
  config_ = write_agent_config(server_, server_.dir() + "/agent2/agent.json", c);
  join_listener();
  start_agent();
  ASSERT_TRUE(xiot::test::wait_until([&] { return alarms_heard() >= 1; }, in(20s))) << listener_->describe();
  const Json first = heard().front();
  const cJSON* alert = cJSON_GetObjectItemCaseSensitive(first.get(), "alert");
  EXPECT_EQ(str(alert, "comparison"), "below");
  EXPECT_NE(str(first.get(), "body").find(" Cel below 40 for 1 s"), std::string::npos) << dump(first.get());
  agent_->kill(SIGTERM);
  ASSERT_TRUE(agent_->wait_exit(in(15s)).has_value());

  // A channel the board does not have: the agent refuses to start (exit 2).
  c.override_json = R"({"alerts": {"room": ")" + room() +
                    R"(", "rules": [{"channel": "env9.temperature", "above": 1}]}})";
  const std::string bad = write_agent_config(server_, server_.dir() + "/agent3/agent.json", c);
  Process p({xiot::test::binary_path("xiot-agent"), "--config", bad});
  const auto rc = p.wait_exit(in(15s));
  ASSERT_TRUE(rc.has_value()) << p.describe();
  EXPECT_EQ(*rc, 2) << p.describe();
  EXPECT_NE(p.err().find("alerts.rules[0].channel: 'env9.temperature': no such channel on this board (board sim)"),
            std::string::npos)
      << p.describe();
}

}  // namespace

// Remote control end to end (issue 3): XEP-0050 Ad-Hoc Commands with XEP-0004
// forms, the ACL, service discovery and chat, against a real Prosody and a
// real xiot-agent on the simulated board. The client is slixmpp with its
// xep_0030/xep_0050/xep_0004/xep_0115 plugins (tests/integration/probe/
// xmpp_commander.py), acting in turn as owner (admin), operator (ops),
// viewer (viewer) and stranger (stranger). It runs a script of steps and
// prints one JSON document per step; the assertions are all here.
#include <cjson/cJSON.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <fstream>
#include <memory>
#include <set>
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
constexpr const char* kCommandsNode = "http://jabber.org/protocol/commands";

// ---- JSON helpers -------------------------------------------------------------
using Json = std::shared_ptr<cJSON>;

Json parse(const std::string& text) { return Json(cJSON_Parse(text.c_str()), cJSON_Delete); }

const cJSON* get(const cJSON* o, const char* key) { return cJSON_GetObjectItemCaseSensitive(o, key); }

std::string str(const cJSON* o, const char* key) {
  const cJSON* v = get(o, key);
  return cJSON_IsString(v) ? v->valuestring : "";
}

// The answer to one step, as the commander printed it.
struct Answer {
  Json doc;
  const cJSON* operator->() const { return doc.get(); }
  std::string s(const char* key) const { return str(doc.get(), key); }
  bool is_error() const { return s("type") == "error"; }
  std::string condition() const { return s("condition"); }
  std::string app() const { return s("app"); }
  std::string text() const { return s("text"); }
  std::string status() const { return s("status"); }
  /// The form's field `var` (nullptr if none).
  const cJSON* field(const std::string& var) const {
    const cJSON* f = nullptr;
    cJSON_ArrayForEach(f, get(get(doc.get(), "form"), "fields")) {
      if (str(f, "var") == var) return f;
    }
    return nullptr;
  }
  /// First value of the form's field `var` ("" if none).
  std::string value(const std::string& var) const {
    const cJSON* f = field(var);
    const cJSON* v = f != nullptr ? cJSON_GetArrayItem(get(f, "values"), 0) : nullptr;
    return cJSON_IsString(v) ? v->valuestring : "";
  }
  /// The notes' texts, joined with " | ".
  std::string notes() const {
    std::string out;
    const cJSON* n = nullptr;
    cJSON_ArrayForEach(n, get(doc.get(), "notes")) {
      if (!out.empty()) out += " | ";
      out += str(n, "text");
    }
    return out;
  }
  std::string dump() const {
    char* t = cJSON_PrintUnformatted(doc.get());
    std::string out = t != nullptr ? t : "(null)";
    cJSON_free(t);
    return out;
  }
};

// The start tag of the element of `xml` whose attribute `attr` is `value` (as
// ElementTree prints it: double quotes, attribute order arbitrary), or "".
std::string element_with(const std::string& xml, const std::string& attr, const std::string& value) {
  const std::string needle = " " + attr + "=\"" + value + "\"";
  const size_t at = xml.find(needle);
  if (at == std::string::npos) return "";
  const size_t open = xml.rfind('<', at);
  const size_t close = xml.find('>', at);
  return xml.substr(open, close - open + 1);
}

std::set<std::string> item_nodes(const Answer& a) {
  std::set<std::string> out;
  const cJSON* it = nullptr;
  cJSON_ArrayForEach(it, get(a.doc.get(), "items")) out.insert(str(it, "node"));
  return out;
}

std::set<std::string> strings(const cJSON* array) {
  std::set<std::string> out;
  const cJSON* v = nullptr;
  cJSON_ArrayForEach(v, array) {
    if (cJSON_IsString(v)) out.insert(v->valuestring);
  }
  return out;
}

// ---- step builders (the commander's JSON script) ------------------------------
std::string q(const std::string& s) {
  cJSON* j = cJSON_CreateString(s.c_str());
  char* t = cJSON_PrintUnformatted(j);
  std::string out = t;
  cJSON_free(t);
  cJSON_Delete(j);
  return out;
}

std::string cmd(const std::string& node, const std::string& action = "", const std::string& form = "",
                const std::string& sessionid = "") {
  std::string s = R"({"op":"command","node":)" + q(node);
  if (!action.empty()) s += R"(,"action":)" + q(action);
  if (!sessionid.empty()) s += R"(,"sessionid":)" + q(sessionid);
  if (!form.empty()) s += R"(,"form":)" + form;
  return s + "}";
}
std::string next_in_session(const std::string& node, const std::string& action, const std::string& form = "") {
  return cmd(node, action, form, "$last");
}
std::string raw(const std::string& xml) { return R"({"op":"raw","type":"set","xml":)" + q(xml) + "}"; }
std::string chat(const std::string& body, bool expect_reply = true) {
  return R"({"op":"chat","body":)" + q(body) + R"(,"expect_reply":)" + (expect_reply ? "true" : "false") + "}";
}
std::string disco_info(const std::string& node = "") {
  return node.empty() ? R"({"op":"disco_info"})" : R"({"op":"disco_info","node":)" + q(node) + "}";
}
std::string disco_items(const std::string& node) { return R"({"op":"disco_items","node":)" + q(node) + "}"; }
std::string items(const std::string& node) { return R"({"op":"items","node":)" + q(node) + "}"; }

// ---- the fixture ---------------------------------------------------------------
class AgentCommands : public ::testing::Test {
 protected:
  void SetUp() override { start_agent(); }

  void start_agent() {
    AgentConfig c;
    c.viewers = {"viewer@" + server_.domain()};  // so "stranger" really is one
    const std::string path = write_agent_config(server_, server_.dir() + "/agent/agent.json", c);
    agent_ = std::make_unique<Process>(std::vector<std::string>{xiot::test::binary_path("xiot-agent"), "--config", path});
    ASSERT_TRUE(agent_->wait_for_output(kOnline, in(20s))) << agent_->describe();
  }

  std::string device() const { return server_.jid("dev1") + "/xiot"; }

  /// Runs `steps` as `user` and returns one Answer per step, in order.
  std::vector<Answer> run(const std::string& user, const std::vector<std::string>& steps) {
    std::string script = "[";
    for (size_t i = 0; i < steps.size(); ++i) script += (i ? "," : "") + steps[i];
    script += "]";
    std::vector<Answer> out;
    for (Json& d : xiot::test::run_commander(server_, user, device(), script)) out.push_back(Answer{d});
    EXPECT_EQ(out.size(), steps.size());
    out.resize(steps.size(), Answer{parse(R"({"type":"missing"})")});
    return out;
  }

  /// The agent is still up and answering, and logged nothing at ERROR.
  void expect_agent_healthy() {
    EXPECT_TRUE(agent_->running()) << agent_->describe();
    const auto a = run("ops", {R"({"op":"ping"})"});
    EXPECT_EQ(a[0].s("type"), "result") << a[0].dump();
    EXPECT_EQ(agent_->count_output(" ERROR ", Process::Stream::Either), 0u) << agent_->describe();
  }

  DevServer server_;
  std::unique_ptr<Process> agent_;
};

// ---- discovery -------------------------------------------------------------------
TEST_F(AgentCommands, DiscoveryIdentityFeaturesAndAVerifiedCapsHash) {
  const auto a = run("admin", {R"({"op":"subscribe"})", R"({"op":"caps"})", disco_info(),
                               disco_info("read"), disco_info(kCommandsNode), disco_info("no-such-node"),
                               R"({"op":"version"})", R"({"op":"time"})", R"({"op":"ping"})",
                               R"({"op":"raw","type":"get","xml":"<query xmlns='urn:example:nothing'/>"})"});
  // XEP-0115: the ver the presence advertises is the hash of what disco#info says.
  ASSERT_FALSE(a[0].s("caps_ver").empty()) << a[0].dump();
  EXPECT_EQ(a[1].s("computed"), a[0].s("caps_ver"));
  EXPECT_EQ(a[0].s("caps_node"), "urn:xiot:agent");

  const cJSON* id0 = cJSON_GetArrayItem(get(a[2].doc.get(), "identities"), 0);
  ASSERT_NE(id0, nullptr) << a[2].dump();
  EXPECT_STREQ(cJSON_GetArrayItem(id0, 0)->valuestring, "client");
  EXPECT_STREQ(cJSON_GetArrayItem(id0, 1)->valuestring, "bot");
  const auto features = strings(get(a[2].doc.get(), "features"));
  for (const char* f : {kCommandsNode, "jabber:x:data", "http://jabber.org/protocol/disco#info", "urn:xmpp:ping",
                        "jabber:iq:version", "urn:xmpp:time"}) {
    EXPECT_TRUE(features.count(f)) << f << " missing in " << a[2].dump();
  }
  // XEP-0050 §2.3: a command node is an automation/command-node.
  const cJSON* idr = cJSON_GetArrayItem(get(a[3].doc.get(), "identities"), 0);
  ASSERT_NE(idr, nullptr) << a[3].dump();
  EXPECT_STREQ(cJSON_GetArrayItem(idr, 0)->valuestring, "automation");
  EXPECT_STREQ(cJSON_GetArrayItem(idr, 1)->valuestring, "command-node");
  EXPECT_TRUE(strings(get(a[3].doc.get(), "features")).count(kCommandsNode));
  const cJSON* idl = cJSON_GetArrayItem(get(a[4].doc.get(), "identities"), 0);
  ASSERT_NE(idl, nullptr) << a[4].dump();
  EXPECT_STREQ(cJSON_GetArrayItem(idl, 1)->valuestring, "command-list");
  EXPECT_EQ(a[5].condition(), "item-not-found") << a[5].dump();

  EXPECT_EQ(a[6].s("name"), "xiot-agent");
  EXPECT_FALSE(a[6].s("version").empty());
  EXPECT_EQ(a[7].s("tzo"), "+00:00");
  EXPECT_NE(a[7].s("utc").find('T'), std::string::npos) << a[7].dump();
  EXPECT_EQ(a[8].s("type"), "result");
  // RFC 6120 §8.4: an IQ of a namespace nobody handles.
  EXPECT_EQ(a[9].condition(), "service-unavailable") << a[9].dump();
}

TEST_F(AgentCommands, EachRoleListsExactlyTheCommandsItMayRun) {
  const std::string list = disco_items(kCommandsNode);
  const auto owner = run("admin", {list});
  const auto op = run("ops", {list});
  const auto viewer = run("viewer", {list});
  const auto stranger = run("stranger", {list, disco_info("read")});
  using S = std::set<std::string>;
  EXPECT_EQ(item_nodes(owner[0]), (S{"read", "set", "diagnostics", "configure", "alerts", "reboot", "firmware-update", "rotate-identity"})) << owner[0].dump();
  EXPECT_EQ(item_nodes(op[0]), (S{"read", "set", "diagnostics"})) << op[0].dump();
  EXPECT_EQ(item_nodes(viewer[0]), (S{"read"})) << viewer[0].dump();
  EXPECT_EQ(stranger[0].s("type"), "result") << stranger[0].dump();
  EXPECT_TRUE(item_nodes(stranger[0]).empty()) << stranger[0].dump();
  // Each item points at the device's full JID, as XEP-0050 §2.2 shows.
  const cJSON* first = cJSON_GetArrayItem(get(owner[0].doc.get(), "items"), 0);
  EXPECT_EQ(str(first, "jid"), device());
  EXPECT_FALSE(str(first, "name").empty());
  // A stranger learns nothing about command nodes either.
  EXPECT_EQ(stranger[1].condition(), "item-not-found") << stranger[1].dump();
}

// ---- the ACL -----------------------------------------------------------------------
TEST_F(AgentCommands, AStrangerCanDoNothing) {
  const auto a = run("stranger", {cmd("read"), cmd("set", "", R"({"channel":"relay0.state","value":"true"})"),
                                  cmd("no-such-node"), cmd("reboot"), chat("status", false), chat("help", false),
                                  chat("set relay0.state on", false)});
  for (size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(a[i].condition(), "forbidden") << i << ": " << a[i].dump();
    EXPECT_EQ(a[i].s("error_type"), "auth") << a[i].dump();
  }
  for (size_t i = 4; i < 7; ++i) EXPECT_TRUE(cJSON_IsNull(get(a[i].doc.get(), "reply"))) << a[i].dump();
  // Nothing was touched: the relay is still off.
  const auto r = run("ops", {cmd("read")});
  EXPECT_EQ(r[0].value("relay0.state"), "false") << r[0].dump();
  expect_agent_healthy();
}

TEST_F(AgentCommands, RolesTooLowAreForbiddenNamingTheRoleNeeded) {
  const auto v = run("viewer", {cmd("read"), cmd("set"), cmd("diagnostics"), cmd("configure")});
  EXPECT_EQ(v[0].status(), "completed") << v[0].dump();
  for (size_t i = 1; i < 4; ++i) EXPECT_EQ(v[i].condition(), "forbidden") << v[i].dump();
  EXPECT_NE(v[1].text().find("operator"), std::string::npos) << v[1].text();
  const auto o = run("ops", {cmd("configure"), cmd("reboot")});
  for (const auto& a : o) {
    EXPECT_EQ(a.condition(), "forbidden") << a.dump();
    EXPECT_NE(a.text().find("owner"), std::string::npos) << a.text();
  }
}

// ---- the commands -------------------------------------------------------------------
TEST_F(AgentCommands, ReadReturnsOneFieldPerChannelWithTheBoardsValues) {
  const auto a = run("viewer", {cmd("read")});
  EXPECT_EQ(a[0].status(), "completed");
  EXPECT_EQ(str(get(a[0].doc.get(), "form"), "type"), "result");
  EXPECT_EQ(cJSON_GetArraySize(get(get(a[0].doc.get(), "form"), "fields")), static_cast<int>(xiot::test::sim_board_channels()))
      << a[0].dump();
  EXPECT_EQ(a[0].value("env0.temperature"), "21.54");
  EXPECT_EQ(a[0].value("env0.humidity"), "40.1");
  EXPECT_EQ(a[0].value("relay0.state"), "false");
}

TEST_F(AgentCommands, SetRunsItsStagesAndTheChangeShowsInTelemetryAndTheDeviceNode) {
  // PEP nodes are access_model=presence: the operator subscribes first.
  const auto sub = run("ops", {R"({"op":"subscribe"})"});
  ASSERT_TRUE(cJSON_IsTrue(get(sub[0].doc.get(), "available"))) << sub[0].dump();
  const auto a = run("ops", {
      cmd("set"),                                                              // 0 stage 1: choose
      next_in_session("set", "next", R"({"channel":"relay0.state"})"),       // 1 stage 2: value
      next_in_session("set", "prev"),                                          // 2 back to stage 1
      next_in_session("set", "next", R"({"channel":"relay0.state"})"),       // 3
      next_in_session("set", "complete", R"({"value":"true"})"),             // 4 done
      items("urn:xiot:device:0"),                                              // 5
      cmd("read"),                                                             // 6
  });
  EXPECT_EQ(a[0].status(), "executing") << a[0].dump();
  const cJSON* channel = a[0].field("channel");
  ASSERT_NE(channel, nullptr) << a[0].dump();
  EXPECT_EQ(str(channel, "type"), "list-single");
  // Only actuators are offered.
  EXPECT_EQ(cJSON_GetArraySize(get(channel, "options")), 1) << a[0].dump();
  EXPECT_EQ(str(cJSON_GetArrayItem(get(channel, "options"), 0), "value"), "relay0.state");
  const std::string sid = a[0].s("sessionid");
  ASSERT_FALSE(sid.empty());

  EXPECT_EQ(a[1].status(), "executing") << a[1].dump();
  EXPECT_EQ(a[1].s("sessionid"), sid);
  EXPECT_EQ(str(a[1].field("value"), "type"), "boolean") << a[1].dump();
  EXPECT_TRUE(strings(get(get(a[1].doc.get(), "actions"), "allowed")).count("prev")) << a[1].dump();
  EXPECT_NE(a[2].field("channel"), nullptr) << a[2].dump();  // prev showed stage 1 again
  EXPECT_EQ(a[3].status(), "executing");
  EXPECT_EQ(a[4].status(), "completed") << a[4].dump();
  EXPECT_NE(a[4].notes().find("relay0.state set to true"), std::string::npos) << a[4].dump();

  // The device node (reported state) shows the new value...
  const cJSON* item = cJSON_GetArrayItem(get(a[5].doc.get(), "items"), 0);
  ASSERT_NE(item, nullptr) << a[5].dump();
  EXPECT_NE(element_with(str(item, "payload"), "name", "relay0.state").find(" value=\"true\""), std::string::npos)
      << str(item, "payload");
  // ...so does a fresh read...
  EXPECT_EQ(a[6].value("relay0.state"), "true") << a[6].dump();
  // ...and the telemetry item published right after the set.
  const auto t = run("ops", {R"({"op":"items","node":"urn:xiot:telemetry:0","max":1})"});
  const cJSON* last = cJSON_GetArrayItem(get(t[0].doc.get(), "items"), 0);
  ASSERT_NE(last, nullptr) << t[0].dump();
  EXPECT_NE(element_with(str(last, "payload"), "n", "relay0.state").find(" vb=\"true\""), std::string::npos)
      << str(last, "payload");
  expect_agent_healthy();
}

TEST_F(AgentCommands, OneRoundTripSetAndCancel) {
  const auto a = run("ops", {cmd("set", "", R"({"channel":"relay0.state","value":"on"})"),  // one shot
                             cmd("set"), next_in_session("set", "cancel"),
                             next_in_session("set", "complete", R"({"channel":"relay0.state","value":"off"})")});
  EXPECT_EQ(a[0].status(), "completed") << a[0].dump();
  EXPECT_EQ(a[2].status(), "canceled") << a[2].dump();
  // A canceled session is gone.
  EXPECT_EQ(a[3].condition(), "bad-request") << a[3].dump();
  EXPECT_EQ(a[3].app(), "bad-sessionid");
  const auto r = run("viewer", {cmd("read")});
  EXPECT_EQ(r[0].value("relay0.state"), "true") << r[0].dump();
}

TEST_F(AgentCommands, DiagnosticsReportsTheAgentsCounters) {
  const auto a = run("ops", {cmd("diagnostics")});
  EXPECT_EQ(a[0].status(), "completed") << a[0].dump();
  EXPECT_EQ(a[0].value("board"), "sim");
  EXPECT_FALSE(a[0].value("firmware").empty());
  EXPECT_FALSE(a[0].value("boot_id").empty());
  EXPECT_EQ(a[0].value("health"), "healthy");
  EXPECT_EQ(a[0].value("reconnects"), "0");
  EXPECT_EQ(a[0].value("dropped_readings"), "0");
  EXPECT_NE(a[0].field("journal_depth"), nullptr);
  EXPECT_NE(a[0].field("uptime_s"), nullptr);
}

TEST_F(AgentCommands, ConfigureAppliesAtOnceAndSurvivesARestart) {
  const auto a = run("admin", {cmd("configure"),
                               next_in_session("configure", "complete", R"({"interval_s":"0","batch_max":"1"})"),
                               next_in_session("configure", "complete", R"({"interval_s":"2.5","batch_max":"3"})")});
  EXPECT_EQ(a[0].status(), "executing") << a[0].dump();
  EXPECT_EQ(a[0].value("interval_s"), "1") << a[0].dump();
  EXPECT_EQ(a[0].value("batch_max"), "1");
  EXPECT_EQ(a[1].condition(), "bad-request") << a[1].dump();
  EXPECT_EQ(a[1].app(), "bad-payload");
  EXPECT_EQ(a[1].text().rfind("interval_s:", 0), 0u) << a[1].text();
  EXPECT_EQ(a[2].status(), "completed") << a[2].dump();
  ASSERT_TRUE(agent_->wait_for_output("telemetry reconfigured: every 2500 ms, batch_max 3", in(5s)))
      << agent_->describe();

  // Persisted through the HAL storage: a new agent process starts with them.
  agent_->kill(SIGTERM);
  ASSERT_EQ(agent_->wait_exit(in(10s)), std::optional<int>(0)) << agent_->describe();
  start_agent();
  EXPECT_TRUE(agent_->wait_for_output("telemetry every 2500 ms", in(5s))) << agent_->describe();
  const auto b = run("admin", {cmd("configure"), next_in_session("configure", "cancel")});
  EXPECT_EQ(b[0].value("interval_s"), "2.5") << b[0].dump();
  EXPECT_EQ(b[0].value("batch_max"), "3");
  EXPECT_EQ(b[1].status(), "canceled");
}

TEST_F(AgentCommands, RebootGoesUnavailableWithTheReasonAndComesBack) {
  const auto before = run("admin", {R"({"op":"subscribe"})", items("urn:xiot:device:0")});
  ASSERT_TRUE(cJSON_IsTrue(get(before[0].doc.get(), "available"))) << before[0].dump();
  const std::string old_item = str(cJSON_GetArrayItem(get(before[1].doc.get(), "items"), 0), "payload");
  const size_t at = old_item.find(" boot-id=\"");
  ASSERT_NE(at, std::string::npos) << old_item;
  const std::string old_boot = old_item.substr(at + 10, old_item.find('"', at + 10) - at - 10);
  ASSERT_EQ(old_boot.size(), 8u) << old_item;

  const auto a = run("admin", {R"({"op":"wait_presence","want":"available"})", cmd("reboot"),
                               next_in_session("reboot", "complete", R"({"confirm":"false"})"), cmd("reboot"),
                               next_in_session("reboot", "complete", R"({"confirm":"true","reason":"integration test"})"),
                               R"({"op":"wait_presence","want":"unavailable"})",
                               R"({"op":"wait_presence","want":"available"})", items("urn:xiot:device:0")});
  EXPECT_EQ(str(a[1].field("confirm"), "type"), "boolean") << a[1].dump();
  EXPECT_EQ(a[2].status(), "canceled") << a[2].dump();
  EXPECT_EQ(a[4].status(), "completed") << a[4].dump();
  EXPECT_NE(a[5].s("status").find("integration test"), std::string::npos) << a[5].dump();
  EXPECT_NE(a[5].s("status").find("admin@"), std::string::npos) << a[5].dump();
  EXPECT_FALSE(a[6].s("status").empty()) << a[6].dump();
  // The same process image was replaced (same pid), with a new boot id.
  EXPECT_TRUE(agent_->running());
  const std::string new_item = str(cJSON_GetArrayItem(get(a[7].doc.get(), "items"), 0), "payload");
  // The device node is republished before the presence, so it is already new.
  EXPECT_NE(new_item.find(" boot-id=\""), std::string::npos) << new_item;
  EXPECT_EQ(new_item.find(" boot-id=\"" + old_boot + "\""), std::string::npos) << new_item;
  EXPECT_EQ(agent_->count_output("INFO agent: rebooting:", Process::Stream::Either), 1u);
}

// ---- every bad input gets its exact error -------------------------------------------
TEST_F(AgentCommands, EveryMalformedRequestGetsItsExactError) {
  std::string fields;
  for (int i = 0; i < 40; ++i) fields += "<field var='f" + std::to_string(i) + "'><value>x</value></field>";
  const std::string huge(400, 'x');
  const auto a = run("ops", {
      cmd("no-such-node"),                                                                   // 0
      cmd("set", "", R"({"channel":"relay0.state","value":"maybe"})"),                      // 1
      cmd("set", "", R"({"channel":"env0.temp","value":"1"})"),                             // 2
      cmd("set", "", R"({"channel":"env0.temperature","value":"1"})"),                      // 3
      cmd("set", "next", "", "no-such-session"),                                             // 4
      raw("<command xmlns='http://jabber.org/protocol/commands' node='set' action='jump'/>"),  // 5
      cmd("set"), next_in_session("set", "prev"),                                            // 6, 7
      raw("<command xmlns='http://jabber.org/protocol/commands' node='set'><x xmlns='jabber:x:data'>"
          "<field var='channel'><value>relay0.state</value></field></x></command>"),        // 8 no form type
      raw("<command xmlns='http://jabber.org/protocol/commands' node='set'><x xmlns='jabber:x:data' "
          "type='submit'>" + fields + "</x></command>"),                                     // 9 over 32 fields
      cmd("set", "", R"({"channel":"relay0.state","value":")" + huge + R"("})"),            // 10 over 256 bytes
      raw("<command xmlns='http://jabber.org/protocol/commands' node='set'><x xmlns='jabber:x:data' "
          "type='form'><field var='channel'><value>relay0.state</value></field></x></command>"),  // 11
      raw("<command xmlns='http://jabber.org/protocol/commands' node='set'><x xmlns='jabber:x:data' "
          "type='submit'><field var='channel' type='bogus'/></x></command>"),               // 12
      raw("<command xmlns='http://jabber.org/protocol/commands'/>"),                         // 13 no node
  });
  EXPECT_EQ(a[0].condition(), "item-not-found") << a[0].dump();
  for (size_t i : {1, 2, 3}) {
    EXPECT_EQ(a[i].condition(), "bad-request") << i << ": " << a[i].dump();
    EXPECT_EQ(a[i].app(), "bad-payload") << a[i].dump();
    EXPECT_EQ(a[i].s("error_type"), "modify");
  }
  EXPECT_EQ(a[1].text().rfind("value:", 0), 0u) << a[1].text();
  EXPECT_EQ(a[2].text().rfind("channel:", 0), 0u) << a[2].text();
  EXPECT_NE(a[3].text().find("env0.temperature"), std::string::npos) << a[3].text();
  EXPECT_EQ(a[4].app(), "bad-sessionid") << a[4].dump();
  EXPECT_EQ(a[5].app(), "malformed-action") << a[5].dump();
  EXPECT_EQ(a[6].status(), "executing");
  EXPECT_EQ(a[7].app(), "bad-action") << a[7].dump();
  for (size_t i : {8, 9, 10, 11, 12}) {
    EXPECT_EQ(a[i].condition(), "bad-request") << i << ": " << a[i].dump();
    EXPECT_EQ(a[i].app(), "bad-payload") << i << ": " << a[i].dump();
    EXPECT_FALSE(a[i].text().empty()) << i;
  }
  EXPECT_NE(a[9].text().find("32"), std::string::npos) << a[9].text();
  EXPECT_NE(a[10].text().find("256"), std::string::npos) << a[10].text();
  EXPECT_EQ(a[13].condition(), "item-not-found") << a[13].dump();
  // Nothing was changed by any of it.
  const auto r = run("viewer", {cmd("read")});
  EXPECT_EQ(r[0].value("relay0.state"), "false") << r[0].dump();
  expect_agent_healthy();
}

TEST_F(AgentCommands, SessionsAreBoundToTheirOwnerAndAFloodStaysBounded) {
  const auto o = run("ops", {cmd("set")});
  const std::string sid = o[0].s("sessionid");
  ASSERT_FALSE(sid.empty());
  // Another account holding the id cannot continue the session.
  const auto h = run("admin", {cmd("set", "complete", R"({"channel":"relay0.state","value":"true"})", sid)});
  EXPECT_EQ(h[0].app(), "bad-sessionid") << h[0].dump();
  // 60 sessions opened and abandoned: every one answered, the table stays bounded.
  std::vector<std::string> flood(60, cmd("set"));
  const auto f = run("ops", flood);
  for (const auto& a : f) EXPECT_EQ(a.status(), "executing") << a.dump();
  const auto d = run("ops", {cmd("diagnostics")});
  EXPECT_LE(std::stoi(d[0].value("command_sessions")), 16) << d[0].dump();
  expect_agent_healthy();
}

// ---- chat ------------------------------------------------------------------------------
TEST_F(AgentCommands, ChatAnswersPeopleByRole) {
  const auto o = run("ops", {chat("help"), chat("status"), chat("read"), chat("read relay0.state"),
                             chat("set relay0.state on"), chat("read relay0.state"), chat("frobnicate"),
                             chat("set relay0.state maybe")});
  EXPECT_NE(o[0].s("reply").find("set <channel> <value>"), std::string::npos) << o[0].dump();
  EXPECT_NE(o[1].s("reply").find("sim board"), std::string::npos) << o[1].dump();
  EXPECT_NE(o[2].s("reply").find("env0.temperature: 21.54 Cel"), std::string::npos) << o[2].dump();
  EXPECT_EQ(o[3].s("reply"), "relay0.state: false");
  EXPECT_EQ(o[4].s("reply"), "relay0.state set to true");
  EXPECT_EQ(o[5].s("reply"), "relay0.state: true");
  EXPECT_EQ(o[6].s("reply").rfind("Unknown command 'frobnicate'", 0), 0u) << o[6].dump();
  EXPECT_EQ(o[7].s("reply").rfind("Error: value:", 0), 0u) << o[7].dump();

  const auto v = run("viewer", {chat("set relay0.state off"), chat("read relay0.state")});
  EXPECT_NE(v[0].s("reply").find("operator"), std::string::npos) << v[0].dump();
  EXPECT_EQ(v[1].s("reply"), "relay0.state: true");
}

}  // namespace

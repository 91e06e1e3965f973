// Desired state end to end (issue 14, docs/desired-state.md): a real Prosody,
// a real xiot-agent on the simulated board, and slixmpp
// (tests/integration/probe/xmpp_commander.py) publishing to the device's PEP
// node urn:xiot:desired:0 as operator (ops), owner (admin) and viewer. The
// device applies the item through `set`'s ACL and validation and reports it
// in its device node; a desired state published while it was stopped is
// applied when it starts.
#include <cjson/cJSON.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <fstream>
#include <memory>
#include <regex>
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
constexpr const char* kDesiredNode = "urn:xiot:desired:0";

using Json = std::shared_ptr<cJSON>;
Json parse(const std::string& text) { return Json(cJSON_Parse(text.c_str()), cJSON_Delete); }
const cJSON* get(const cJSON* o, const char* key) { return cJSON_GetObjectItemCaseSensitive(o, key); }
std::string str(const cJSON* o, const char* key) {
  const cJSON* v = get(o, key);
  return cJSON_IsString(v) ? v->valuestring : "";
}
std::string dump(const Json& d) {
  char* t = cJSON_PrintUnformatted(d.get());
  std::string out = t != nullptr ? t : "(null)";
  cJSON_free(t);
  return out;
}
std::string q(const std::string& s) {
  cJSON* j = cJSON_CreateString(s.c_str());
  char* t = cJSON_PrintUnformatted(j);
  std::string out = t;
  cJSON_free(t);
  cJSON_Delete(j);
  return out;
}

std::string publish(const std::string& xml) {
  return std::string(R"({"op":"publish","node":")") + kDesiredNode + R"(","id":"current","xml":)" + q(xml) + "}";
}
std::string items(const std::string& node) { return R"({"op":"items","node":)" + q(node) + "}"; }
std::string read_cmd() { return R"({"op":"command","node":"read"})"; }

// The first payload of an `items` answer ("" if none).
std::string first_payload(const Json& a) {
  const cJSON* it = cJSON_GetArrayItem(get(a.get(), "items"), 0);
  return it != nullptr ? str(it, "payload") : "";
}

// The value of field `var` in a command answer's form ("" if none).
std::string form_value(const Json& a, const std::string& var) {
  const cJSON* f = nullptr;
  cJSON_ArrayForEach(f, get(get(a.get(), "form"), "fields")) {
    if (str(f, "var") == var) {
      const cJSON* v = cJSON_GetArrayItem(get(f, "values"), 0);
      return cJSON_IsString(v) ? v->valuestring : "";
    }
  }
  return "";
}

class AgentDesired : public ::testing::Test {
 protected:
  void SetUp() override {
    AgentConfig c;
    c.viewers = {"viewer@" + server_.domain()};
    config_ = write_agent_config(server_, server_.dir() + "/agent/agent.json", c);
    start_agent();
    // PEP nodes are access_model presence: ops reads them once subscribed.
    const auto s = run("ops", {R"({"op":"subscribe"})"});
    ASSERT_NE(str(s[0].get(), "status"), "") << dump(s[0]);
  }

  void start_agent() {
    agent_ = std::make_unique<Process>(
        std::vector<std::string>{xiot::test::binary_path("xiot-agent"), "--config", config_});
    ASSERT_TRUE(agent_->wait_for_output(kOnline, in(20s))) << agent_->describe();
  }

  std::string device() const { return server_.jid("dev1") + "/xiot"; }

  std::vector<Json> run(const std::string& user, const std::vector<std::string>& steps) {
    std::string script = "[";
    for (size_t i = 0; i < steps.size(); ++i) script += (i ? "," : "") + steps[i];
    script += "]";
    std::vector<Json> out = xiot::test::run_commander(server_, user, device(), script);
    EXPECT_EQ(out.size(), steps.size());
    while (out.size() < steps.size()) out.push_back(parse(R"({"type":"missing"})"));
    return out;
  }

  /// The device node's item, polled until it contains `needle` or 15 s pass.
  std::string device_node_with(const std::string& needle) {
    std::string last;
    const auto deadline = std::chrono::steady_clock::now() + 15s;
    while (std::chrono::steady_clock::now() < deadline) {
      const auto a = run("ops", {items("urn:xiot:device:0")});
      last = first_payload(a[0]);
      if (last.find(needle) != std::string::npos) return last;
    }
    ADD_FAILURE() << "device node never showed " << needle << "; last: " << last;
    return last;
  }

  DevServer server_;
  std::string config_;
  std::unique_ptr<Process> agent_;
};

TEST_F(AgentDesired, OperatorPublishesRelayOnDeviceAppliesAndReports) {
  // The device made ops a publisher of its node after login.
  ASSERT_TRUE(agent_->wait_for_output("node urn:xiot:desired:0", in(10s))) << agent_->describe();
  const auto a = run("ops", {publish("<desired xmlns='urn:xiot:desired:0' version='1'>"
                                     "<value n='relay0.state' vb='true'/></desired>")});
  ASSERT_EQ(str(a[0].get(), "type"), "result") << dump(a[0]);
  const std::string node = device_node_with("version=\"1\"");
  EXPECT_NE(node.find("result=\"ok\""), std::string::npos) << node;
  EXPECT_NE(node.find("publisher=\"ops@" + server_.domain() + "\""), std::string::npos) << node;
  EXPECT_NE(node.find("value=\"true\""), std::string::npos) << node;  // the relay channel's value
  const auto r = run("viewer", {R"({"op":"subscribe"})", read_cmd()});
  EXPECT_EQ(form_value(r[1], "relay0.state"), "true") << dump(r[1]);
  EXPECT_TRUE(agent_->running()) << agent_->describe();
}

TEST_F(AgentDesired, OperatorMayNotChangeSettingsAndViewerMayNotPublish) {
  ASSERT_TRUE(agent_->wait_for_output("node urn:xiot:desired:0", in(10s))) << agent_->describe();
  // A setting is the owner's: the relay is applied, the setting is not (partial).
  auto a = run("ops", {publish("<desired xmlns='urn:xiot:desired:0' version='2'>"
                               "<value n='relay0.state' vb='true'/><value n='telemetry.interval_s' v='5'/>"
                               "</desired>")});
  ASSERT_EQ(str(a[0].get(), "type"), "result") << dump(a[0]);
  std::string node = device_node_with("version=\"2\"");
  EXPECT_NE(node.find("result=\"partial\""), std::string::npos) << node;
  EXPECT_NE(node.find("telemetry.interval_s"), std::string::npos) << node;
  EXPECT_NE(node.find("configure needs the owner role"), std::string::npos) << node;
  // A viewer is no publisher: the server refuses the publish.
  a = run("viewer", {R"({"op":"subscribe"})", publish("<desired xmlns='urn:xiot:desired:0' version='3'>"
                                                        "<value n='relay0.state' vb='false'/></desired>")});
  EXPECT_EQ(str(a[1].get(), "type"), "error") << dump(a[1]);
  EXPECT_EQ(str(a[1].get(), "condition"), "forbidden") << dump(a[1]);
  // The owner may change both (subscribed first: ejabberd applies the
  // presence access model to publishers too).
  a = run("admin", {R"({"op":"subscribe"})", publish("<desired xmlns='urn:xiot:desired:0' version='4'>"
                            "<value n='relay0.state' vb='false'/><value n='telemetry.interval_s' v='5'/>"
                            "</desired>")});
  ASSERT_EQ(str(a[1].get(), "type"), "result") << dump(a[1]);
  node = device_node_with("version=\"4\"");
  EXPECT_NE(node.find("result=\"ok\""), std::string::npos) << node;
  EXPECT_NE(node.find("applied=\"2\""), std::string::npos) << node;
  EXPECT_TRUE(agent_->wait_for_output("set telemetry.interval_s to 5", in(5s))) << agent_->describe();
}

TEST_F(AgentDesired, XiotctlDesireWaitsForTheReportAndDesiredReadsItBack) {
  ASSERT_TRUE(agent_->wait_for_output("node urn:xiot:desired:0", in(10s))) << agent_->describe();
  const std::string ops = xiot::test::write_ops_config(server_, server_.dir() + "/ops.json");
  Process desire({xiot::test::binary_path("xiotctl"), "--config", ops, "desire", "dev1", "relay0.state=on",
                  "--timeout", "20"});
  ASSERT_EQ(desire.wait_exit(in(30s)), 0) << desire.describe() << agent_->describe();
  EXPECT_NE(desire.out().find("ok, 1 of 1 applied"), std::string::npos) << desire.out();
  // A setting needs the owner: the device applies the relay, refuses the setting; exit 1.
  Process partial({xiot::test::binary_path("xiotctl"), "--config", ops, "desire", "dev1", "relay0.state=off",
                   "telemetry.interval_s=5", "--timeout", "20"});
  EXPECT_EQ(partial.wait_exit(in(30s)), 1) << partial.describe();
  EXPECT_NE(partial.out().find("partial, 1 of 2 applied"), std::string::npos) << partial.out();
  EXPECT_NE(partial.out().find("telemetry.interval_s: configure needs the owner role"), std::string::npos)
      << partial.out();
  Process desired({xiot::test::binary_path("xiotctl"), "--config", ops, "desired", "dev1", "--json"});
  ASSERT_EQ(desired.wait_exit(in(30s)), 0) << desired.describe();
  const Json doc = parse(desired.out());
  ASSERT_TRUE(doc) << desired.out();
  EXPECT_EQ(str(doc.get(), "result"), "partial") << desired.out();
  EXPECT_EQ(str(doc.get(), "publisher"), "ops@" + server_.domain()) << desired.out();
  const auto r = run("ops", {read_cmd()});
  EXPECT_EQ(form_value(r[0], "relay0.state"), "false") << dump(r[0]);
}

TEST_F(AgentDesired, ANotificationFromAnyoneButTheDevicesOwnServiceIsIgnored) {
  // An operator forging a PEP event to the device's full JID: the device
  // follows only its own PEP service (from = its bare JID).
  const std::string event =
      "<event xmlns='http://jabber.org/protocol/pubsub#event'><items node='urn:xiot:desired:0'>"
      "<item id='current' publisher='admin@" + server_.domain() + "'>"
      "<desired xmlns='urn:xiot:desired:0' version='forged'><value n='relay0.state' vb='true'/></desired>"
      "</item></items></event>";
  const auto a = run("ops", {std::string(R"({"op":"message","type":"headline","xml":)") + q(event) + "}",
                             read_cmd()});
  EXPECT_EQ(str(a[0].get(), "type"), "result") << dump(a[0]);
  EXPECT_EQ(form_value(a[1], "relay0.state"), "false") << dump(a[1]);
  EXPECT_EQ(agent_->count_output("desired: item", Process::Stream::Either), 0u) << agent_->describe();
}

TEST_F(AgentDesired, AJidRemovedFromTheAclLosesItsPublisherAffiliationAtTheNextLogin) {
  ASSERT_TRUE(agent_->wait_for_output("node urn:xiot:desired:0", in(10s))) << agent_->describe();
  auto a = run("ops", {publish("<desired xmlns='urn:xiot:desired:0' version='1'>"
                               "<value n='relay0.state' vb='true'/></desired>")});
  ASSERT_EQ(str(a[0].get(), "type"), "result") << dump(a[0]);
  agent_->kill(SIGTERM);
  ASSERT_TRUE(agent_->wait_exit(in(10s)).has_value()) << agent_->describe();
  AgentConfig c;
  c.viewers = {"viewer@" + server_.domain(), "ops@" + server_.domain()};
  c.operators = {"nobody@" + server_.domain()};
  config_ = write_agent_config(server_, server_.dir() + "/agent/agent.json", c);
  start_agent();
  ASSERT_TRUE(agent_->wait_for_output("is no longer a publisher of urn:xiot:desired:0", in(10s)))
      << agent_->describe();
  // Wait for the server's answer to the set before publishing.
  // Prosody orders attributes at random: the id and the type in either order.
  const std::regex aff_result(R"(<iq [^>]*(id="dsn-aff"[^>]*type="result"|type="result"[^>]*id="dsn-aff"))");
  ASSERT_TRUE(agent_->wait_for_output(aff_result, in(10s))) << agent_->describe();
  a = run("ops", {publish("<desired xmlns='urn:xiot:desired:0' version='2'>"
                          "<value n='relay0.state' vb='false'/></desired>")});
  EXPECT_EQ(str(a[0].get(), "condition"), "forbidden") << dump(a[0]);
}

TEST_F(AgentDesired, StateDesiredWhileStoppedIsAppliedOnStart) {
  ASSERT_TRUE(agent_->wait_for_output("node urn:xiot:desired:0", in(10s))) << agent_->describe();
  agent_->kill(SIGTERM);
  ASSERT_TRUE(agent_->wait_exit(in(10s)).has_value()) << agent_->describe();
  const auto a = run("ops", {publish("<desired xmlns='urn:xiot:desired:0' version='offline-1'>"
                                     "<value n='relay0.state' vb='true'/></desired>")});
  ASSERT_EQ(str(a[0].get(), "type"), "result") << dump(a[0]);
  start_agent();
  const std::string node = device_node_with("version=\"offline-1\"");
  EXPECT_NE(node.find("result=\"ok\""), std::string::npos) << node;
  const auto r = run("ops", {read_cmd()});
  EXPECT_EQ(form_value(r[0], "relay0.state"), "true") << dump(r[0]);
}

}  // namespace

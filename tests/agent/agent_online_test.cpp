// The agent end to end against a real Prosody (tools/devserver): login,
// presence and subscriptions, telemetry values, the device node, reconnect
// after a server restart, clean stop, and the start-up failures (wrong
// password, untrusted certificate, malformed config). The operator side is
// played by clients no one here wrote (slixmpp, tests/integration/probe) and by
// xiotctl.
#include <cjson/cJSON.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <cmath>
#include <fstream>
#include <map>
#include <regex>
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
using xiot::test::TempDir;

constexpr const char* kOnline = "INFO xmpp: online";

std::vector<std::string> probe_argv(const DevServer& s, const std::string& user,
                                    const std::vector<std::string>& rest) {
  std::vector<std::string> argv = {"/usr/bin/python3",
                                   xiot::test::source_path("tests/integration/probe/xmpp_probe.py"),
                                   "--jid", s.jid(user), "--password", s.password(user),
                                   "--host", s.host(), "--port", std::to_string(s.port()),
                                   "--ca-file", s.ca_file(), "--timeout", "30"};
  argv.insert(argv.end(), rest.begin(), rest.end());
  return argv;
}

std::vector<std::string> agent_argv(const std::string& config) {
  return {xiot::test::binary_path("xiot-agent"), "--config", config};
}

// Parses each non-empty line of `text` as JSON; lines that are not JSON are skipped.
struct JsonLines {
  std::vector<cJSON*> docs;
  explicit JsonLines(const std::string& text) {
    size_t start = 0;
    while (start < text.size()) {
      size_t end = text.find('\n', start);
      if (end == std::string::npos) end = text.size();
      const std::string line = text.substr(start, end - start);
      if (cJSON* d = cJSON_Parse(line.c_str())) docs.push_back(d);
      start = end + 1;
    }
  }
  ~JsonLines() {
    for (cJSON* d : docs) cJSON_Delete(d);
  }
  JsonLines(const JsonLines&) = delete;
  JsonLines& operator=(const JsonLines&) = delete;
};

std::string str(const cJSON* doc, const char* key) {
  const cJSON* v = cJSON_GetObjectItemCaseSensitive(doc, key);
  return cJSON_IsString(v) ? v->valuestring : "";
}

// The device's first available presence as the probe printed it, or nullptr.
const cJSON* first_with_type(const JsonLines& lines, const std::string& type) {
  for (const cJSON* d : lines.docs) {
    if (str(d, "type") == type) return d;
  }
  return nullptr;
}

// Starts an agent with `cfg` and waits until it is online.
void expect_online(Process& agent) {
  ASSERT_TRUE(agent.wait_for_output(kOnline, in(20s))) << agent.describe();
}

// The simulated physical values from the shipped board file, so the test
// follows the board rather than repeating its numbers.
std::map<std::string, double> sim_values() {
  std::map<std::string, double> out;
  const std::string text = xiot::test::read_file(xiot::test::source_path("boards/sim/board.json"));
  cJSON* board = cJSON_Parse(text.c_str());
  const cJSON* dev = nullptr;
  cJSON_ArrayForEach(dev, cJSON_GetObjectItem(board, "devices")) {
    if (str(dev, "name") != "env0") continue;
    const cJSON* sim = cJSON_GetObjectItem(dev, "sim");
    out["env0.temperature"] = cJSON_GetObjectItem(sim, "temperature_c")->valuedouble;
    out["env0.humidity"] = cJSON_GetObjectItem(sim, "humidity_pct")->valuedouble;
    out["env0.pressure"] = cJSON_GetObjectItem(sim, "pressure_pa")->valuedouble;
  }
  cJSON_Delete(board);
  return out;
}

TEST(AgentOnline, LogsInAndASubscribedOperatorSeesItsPresence) {
  DevServer server;
  Process agent(agent_argv(xiot::test::write_agent_config(server, server.dir() + "/agent.json")));
  expect_online(agent);

  Process probe(probe_argv(server, "admin", {"presence", server.jid("dev1"), "--subscribe"}));
  ASSERT_EQ(probe.wait_exit(in(40s)), 0) << probe.describe() << agent.describe();
  JsonLines lines(probe.out());
  const cJSON* p = first_with_type(lines, "available");
  ASSERT_NE(p, nullptr) << probe.out();
  EXPECT_EQ(str(p, "from"), server.jid("dev1") + "/xiot");
  EXPECT_EQ(str(p, "show"), "");  // healthy
  EXPECT_NE(str(p, "status").find("sim board"), std::string::npos) << str(p, "status");
  EXPECT_NE(str(p, "status").find(std::to_string(xiot::test::sim_board_channels()) + " channels"), std::string::npos)
      << str(p, "status");
  EXPECT_EQ(str(p, "caps_node"), "urn:xiot:agent");
  EXPECT_EQ(str(p, "caps_hash"), "sha-1");
  EXPECT_TRUE(std::regex_match(str(p, "caps_ver"), std::regex("[A-Za-z0-9+/]{27}=")))
      << str(p, "caps_ver");
  EXPECT_TRUE(agent.wait_for_output("approved presence subscription from admin@localhost (owner)", in(5s)))
      << agent.describe();
}

TEST(AgentOnline, TelemetryCarriesTheSimulatedSensorValues) {
  DevServer server;
  Process agent(agent_argv(xiot::test::write_agent_config(server, server.dir() + "/agent.json")));
  expect_online(agent);

  const std::string ops = xiot::test::write_ops_config(server, server.dir() + "/ops.json");
  // Three items of every channel of the sim board.
  const size_t channels = xiot::test::sim_board_channels();
  Process watch({xiot::test::binary_path("xiotctl"), "--config", ops, "watch", server.jid("dev1"), "--json",
                 "--count", std::to_string(3 * channels), "--timeout", "40"});
  ASSERT_EQ(watch.wait_exit(in(60s)), 0) << watch.describe() << agent.describe();

  JsonLines lines(watch.out());
  ASSERT_EQ(lines.docs.size(), 3 * channels) << watch.out();
  const std::map<std::string, double> expected = sim_values();
  ASSERT_EQ(expected.size(), 3u);
  std::set<std::string> items;
  std::map<std::string, int> seen;
  const std::regex item_id("[0-9a-f]{8}-[0-9]{6}");
  for (const cJSON* d : lines.docs) {
    EXPECT_EQ(str(d, "device"), server.jid("dev1"));
    EXPECT_TRUE(std::regex_match(str(d, "item"), item_id)) << str(d, "item");
    items.insert(str(d, "item"));
    const std::string name = str(d, "name");
    ++seen[name];
    const cJSON* value = cJSON_GetObjectItem(d, "value");
    auto it = expected.find(name);
    if (it != expected.end()) {
      ASSERT_TRUE(cJSON_IsNumber(value)) << name;
      // The model inverts the datasheet compensation; the driver reports
      // 0.01 °C, 0.1 %RH and 1 Pa steps.
      EXPECT_NEAR(value->valuedouble, it->second, 0.051) << name;
    }
    if (name == "relay0.state" || name == "button0.state") {
      EXPECT_TRUE(cJSON_IsFalse(value)) << name;  // relay initial 0; button released
    }
  }
  EXPECT_EQ(str(lines.docs[0], "unit"), "Cel");
  EXPECT_EQ(items.size(), 3u) << "three distinct item ids";
  for (const char* n : {"env0.temperature", "env0.humidity", "env0.pressure", "relay0.state", "button0.state",
                        "climate0.temperature", "climate0.humidity", "adc0.ain0", "adc0.ain1",
                        "light0.illuminance", "sys0.uptime", "sys0.load", "sys0.mem_available", "sys0.mem_used"}) {
    EXPECT_EQ(seen[n], 3) << n;
  }
}

TEST(AgentOnline, PublishesTheDeviceNode) {
  DevServer server;
  Process agent(agent_argv(xiot::test::write_agent_config(server, server.dir() + "/agent.json")));
  expect_online(agent);
  // PEP nodes are access_model=presence: subscribe first.
  Process sub(probe_argv(server, "admin", {"presence", server.jid("dev1"), "--subscribe"}));
  ASSERT_EQ(sub.wait_exit(in(40s)), 0) << sub.describe();

  Process probe(probe_argv(server, "admin", {"items", server.jid("dev1"), "urn:xiot:device:0"}));
  ASSERT_EQ(probe.wait_exit(in(40s)), 0) << probe.describe();
  JsonLines lines(probe.out());
  const cJSON* doc = nullptr;
  for (const cJSON* d : lines.docs) {
    if (cJSON_GetObjectItem(d, "items") != nullptr) doc = d;
  }
  ASSERT_NE(doc, nullptr) << probe.out();
  const cJSON* items = cJSON_GetObjectItem(doc, "items");
  ASSERT_EQ(cJSON_GetArraySize(items), 1);
  const cJSON* item = cJSON_GetArrayItem(items, 0);
  EXPECT_EQ(str(item, "id"), "current");
  const std::string payload = str(item, "payload");
  EXPECT_NE(payload.find("urn:xiot:device:0"), std::string::npos) << payload;
  EXPECT_NE(payload.find("board=\"sim\""), std::string::npos) << payload;
  EXPECT_NE(payload.find("health=\"healthy\""), std::string::npos) << payload;
  EXPECT_TRUE(std::regex_search(payload, std::regex("boot-id=\"[0-9a-f]{8}\""))) << payload;
  for (const char* n : {"env0.temperature", "env0.humidity", "env0.pressure", "relay0.state", "button0.state",
                        "sys0.uptime"}) {
    EXPECT_NE(payload.find(std::string("name=\"") + n + "\""), std::string::npos) << n;
  }
  EXPECT_NE(payload.find("kind=\"actuator\""), std::string::npos) << payload;
}

TEST(AgentOnline, ComesBackOnlineAfterTheServerRestarts) {
  DevServer server;
  AgentConfig cfg;
  cfg.override_json = R"({"xmpp":{"reconnect_base_s":0.2,"reconnect_cap_s":1}})";
  Process agent(agent_argv(xiot::test::write_agent_config(server, server.dir() + "/agent.json", cfg)));
  expect_online(agent);

  server.restart();
  ASSERT_TRUE(xiot::test::wait_until([&] { return agent.count_output(kOnline, Process::Stream::Either) >= 2; },
                                     in(30s)))
      << agent.describe() << server.log_tail();
  EXPECT_TRUE(agent.running());
  EXPECT_NE(agent.err().find("reconnecting in"), std::string::npos);

  // Telemetry flows again, from the same boot (the agent itself never restarted).
  const std::string ops = xiot::test::write_ops_config(server, server.dir() + "/ops.json");
  Process watch({xiot::test::binary_path("xiotctl"), "--config", ops, "watch", server.jid("dev1"), "--json",
                 "--count", std::to_string(2 * xiot::test::sim_board_channels()), "--timeout", "30"});
  ASSERT_EQ(watch.wait_exit(in(45s)), 0) << watch.describe() << agent.describe();
  JsonLines lines(watch.out());
  std::set<std::string> items;
  for (const cJSON* d : lines.docs) items.insert(str(d, "item"));
  EXPECT_GE(items.size(), 2u);
}

TEST(AgentOnline, AServerRestartCostsOneLogin) {
  // While the server is down a connect is refused: the agent then knows its
  // stream-management session is gone and logs in once on a fresh connection,
  // instead of a refused resumption and a second login (issue 13). The server
  // comes back only once the agent has met a refused connect (a server back
  // within the quick first attempt is the fallback's case, two logins).
  DevServer server;
  AgentConfig cfg;
  cfg.override_json = R"({"xmpp":{"reconnect_base_s":0.2,"reconnect_cap_s":1}})";
  Process agent(agent_argv(xiot::test::write_agent_config(server, server.dir() + "/agent.json", cfg)));
  expect_online(agent);
  server.stop_keeping_ports();
  ASSERT_TRUE(xiot::test::wait_until(
      [&] { return agent.count_output("reconnecting in", Process::Stream::Either) >= 2; },
      in(30s)))
      << agent.describe();
  server.start_again();
  ASSERT_TRUE(xiot::test::wait_until([&] { return agent.count_output(kOnline, Process::Stream::Either) >= 2; },
                                     in(30s)))
      << agent.describe() << server.log_tail();
  agent.kill(SIGTERM);
  ASSERT_EQ(agent.wait_exit(in(15s)), std::optional<int>(0)) << agent.describe();
  EXPECT_EQ(agent.count_output("INFO xmpp: logged in as", Process::Stream::Either), 2u) << agent.describe();
  EXPECT_EQ(agent.count_output("stream management did not resume", Process::Stream::Either), 0u)
      << agent.describe();
  EXPECT_EQ(agent.count_output("the server's session is gone", Process::Stream::Either), 1u) << agent.describe();
  EXPECT_EQ(agent.count_output("session: 2 logins (1 fresh starts, 0 fresh reconnects)", Process::Stream::Either),
            1u)
      << agent.describe();
}

TEST(AgentOnline, RefusesStrangers) {
  DevServer server;
  AgentConfig cfg;
  cfg.viewers = {"viewer@localhost"};  // so stranger@localhost is in no role
  Process agent(agent_argv(xiot::test::write_agent_config(server, server.dir() + "/agent.json", cfg)));
  expect_online(agent);

  Process sub(probe_argv(server, "stranger", {"subscribe", server.jid("dev1"), "--timeout", "5"}));
  const auto code = sub.wait_exit(in(30s));
  ASSERT_TRUE(code.has_value()) << sub.describe();
  EXPECT_TRUE(agent.wait_for_output("refused presence subscription from stranger@localhost", in(10s)))
      << agent.describe();
  JsonLines lines(sub.out());
  EXPECT_EQ(first_with_type(lines, "available"), nullptr) << "a stranger must not see the device's presence";
  EXPECT_EQ(first_with_type(lines, "subscribed"), nullptr);

  // And the PEP nodes stay closed to it. (Prosody says forbidden; ejabberd
  // not-authorized with <presence-subscription-required/>, XEP-0060 §6.5.9.2.)
  Process items(probe_argv(server, "stranger", {"items", server.jid("dev1"), "urn:xiot:telemetry:0"}));
  EXPECT_EQ(items.wait_exit(in(30s)), 1) << items.describe();
  const char* refused = xiot::test::testing_ejabberd() ? "not-authorized" : "forbidden";
  EXPECT_NE(items.out().find(refused), std::string::npos) << items.out();
}

TEST(AgentOnline, SigtermSendsUnavailableWithTheReasonAndExits0) {
  DevServer server;
  Process agent(agent_argv(xiot::test::write_agent_config(server, server.dir() + "/agent.json")));
  expect_online(agent);
  Process probe(probe_argv(server, "admin", {"presence", server.jid("dev1"), "--subscribe", "--want", "unavailable"}));
  ASSERT_TRUE(probe.wait_for_output("\"available\"", in(30s))) << probe.describe();

  agent.kill(SIGTERM);
  EXPECT_EQ(agent.wait_exit(in(10s)), 0) << agent.describe();
  ASSERT_EQ(probe.wait_exit(in(20s)), 0) << probe.describe();
  JsonLines lines(probe.out());
  const cJSON* last = nullptr;  // the device session's own unavailable
  for (const cJSON* d : lines.docs) {
    if (str(d, "type") == "unavailable" && str(d, "from") == server.jid("dev1") + "/xiot") last = d;
  }
  ASSERT_NE(last, nullptr) << probe.out();
  EXPECT_EQ(str(last, "status"), "agent stopped (SIGTERM)");
}

TEST(AgentStart, AWrongPasswordExits3WithAClearMessage) {
  DevServer server;
  AgentConfig cfg;
  cfg.override_json = R"({"xmpp":{"password":"not-the-password-42"}})";
  Process agent(agent_argv(xiot::test::write_agent_config(server, server.dir() + "/agent.json", cfg)));
  EXPECT_EQ(agent.wait_exit(in(20s)), 3) << agent.describe();
  EXPECT_NE(agent.err().find("authentication failed for dev1@localhost"), std::string::npos) << agent.describe();
  // The secret never reaches a log, not even at debug level.
  EXPECT_EQ(agent.err().find("not-the-password-42"), std::string::npos);
  EXPECT_EQ(agent.out().find("not-the-password-42"), std::string::npos);
}

TEST(AgentStart, AnUntrustedServerCertificateIsRefused) {
  DevServer server;
  AgentConfig cfg;
  cfg.use_rogue_ca = true;  // the agent trusts only an unrelated CA
  Process agent(agent_argv(xiot::test::write_agent_config(server, server.dir() + "/agent.json", cfg)));
  EXPECT_EQ(agent.wait_exit(in(20s)), 3) << agent.describe();
  EXPECT_NE(agent.err().find("TLS certificate of 127.0.0.1:"), std::string::npos) << agent.describe();
  EXPECT_NE(agent.err().find("not trusted"), std::string::npos) << agent.describe();
  EXPECT_EQ(agent.err().find("INFO xmpp: logged in"), std::string::npos) << "must never log in";
}

TEST(AgentStart, AServerPresentingAForeignCertificateIsRefused) {
  DevServer::Options opts;
  opts.serve_rogue_cert = true;
  DevServer server(opts);
  Process agent(agent_argv(xiot::test::write_agent_config(server, server.dir() + "/agent.json")));
  EXPECT_EQ(agent.wait_exit(in(20s)), 3) << agent.describe();
  EXPECT_NE(agent.err().find("not trusted"), std::string::npos) << agent.describe();
}

// Malformed configs need no server: the agent must stop before connecting.
struct BadConfig {
  const char* name;
  const char* json;
  const char* must_name;  // the key (or position) the message names
};

class AgentBadConfig : public ::testing::TestWithParam<BadConfig> {};

TEST_P(AgentBadConfig, Exits2NamingTheKey) {
  TempDir dir;
  const std::string board = xiot::test::source_path("boards/sim/board.json");
  std::string json = GetParam().json;
  const std::string marker = "@BOARD@";
  for (size_t at; (at = json.find(marker)) != std::string::npos;) json.replace(at, marker.size(), board);
  const std::string path = dir / "agent.json";
  std::ofstream(path) << json;
  Process agent(agent_argv(path));
  EXPECT_EQ(agent.wait_exit(in(10s)), 2) << agent.describe();
  EXPECT_NE(agent.err().find(path), std::string::npos) << agent.err();
  EXPECT_NE(agent.err().find(GetParam().must_name), std::string::npos) << agent.err();
  EXPECT_EQ(agent.err().find("connecting"), std::string::npos) << "must stop before connecting";
}

INSTANTIATE_TEST_SUITE_P(
    Configs, AgentBadConfig,
    ::testing::Values(
        BadConfig{"interval_zero",
                  R"({"xmpp":{"jid":"d@localhost","password":"x"},"board":"@BOARD@","telemetry":{"interval_s":0}})",
                  "telemetry.interval_s"},
        BadConfig{"unknown_key", R"({"xmpp":{"jid":"d@localhost","password":"x","colour":"red"},"board":"@BOARD@"})",
                  "xmpp.colour"},
        BadConfig{"port_range", R"({"xmpp":{"jid":"d@localhost","password":"x","port":70000},"board":"@BOARD@"})",
                  "xmpp.port"},
        BadConfig{"bad_jid", R"({"xmpp":{"jid":"no-at-sign","password":"x"},"board":"@BOARD@"})", "xmpp.jid"},
        BadConfig{"not_json", "{\"xmpp\": {\"jid\": \"d@localhost\",,}}", "1:"},
        BadConfig{"missing_board", R"({"xmpp":{"jid":"d@localhost","password":"x"}})", "board"}),
    [](const ::testing::TestParamInfo<BadConfig>& p) { return std::string(p.param.name); });

TEST(AgentStart, CheckConfigValidatesWithoutConnecting) {
  TempDir dir;
  const std::string path = dir / "agent.json";
  std::ofstream(path) << R"({"xmpp":{"jid":"d@localhost","password":"x","port":5299},"board":")"
                      << xiot::test::source_path("boards/sim/board.json") << "\"}";
  Process agent({xiot::test::binary_path("xiot-agent"), "--config", path, "--check-config"});
  EXPECT_EQ(agent.wait_exit(in(10s)), 0) << agent.describe();
  EXPECT_NE(agent.out().find("ok"), std::string::npos) << agent.describe();
}

TEST(AgentStart, UnknownArgumentsExit2) {
  Process agent({xiot::test::binary_path("xiot-agent"), "--colour"});
  EXPECT_EQ(agent.wait_exit(in(10s)), 2) << agent.describe();
  EXPECT_NE(agent.err().find("--colour"), std::string::npos);
}

}  // namespace

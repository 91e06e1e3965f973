// Event-driven reporting end to end (issue 10 item 2): a real xiot-agent on
// the simulated board with relay0 reporting "on_change", telemetry every hour,
// against a real Prosody. A `set` command's item reaches the PEP node at once:
// long before the next interval. The client is slixmpp
// (tests/integration/probe/xmpp_commander.py); every wait has a deadline.
#include <cjson/cJSON.h>
#include <gtest/gtest.h>

#include <chrono>
#include <algorithm>
#include <climits>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
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
constexpr double kIntervalS = 3600;

using Json = std::shared_ptr<cJSON>;
Json parse(const std::string& text) { return Json(cJSON_Parse(text.c_str()), cJSON_Delete); }
const cJSON* get(const cJSON* o, const char* key) { return cJSON_GetObjectItemCaseSensitive(o, key); }
std::string str(const cJSON* o, const char* key) {
  const cJSON* v = get(o, key);
  return cJSON_IsString(v) ? v->valuestring : "";
}

/// The shipped sim board with a "report" key added to device `device`.
std::string sim_board_with_report(const std::string& path, const std::string& device, const char* report_json) {
  std::ifstream in_file(xiot::test::source_path("boards/sim/board.json"));
  std::stringstream text;
  text << in_file.rdbuf();
  Json board = parse(text.str());
  cJSON* d = nullptr;
  cJSON_ArrayForEach(d, cJSON_GetObjectItemCaseSensitive(board.get(), "devices")) {
    if (str(d, "name") == device) cJSON_AddItemToObject(d, "report", cJSON_Parse(report_json));
  }
  // The copy lives elsewhere: its fixture tree stays the sim board's.
  cJSON_DeleteItemFromObjectCaseSensitive(board.get(), "sysfs");
  cJSON_AddStringToObject(board.get(), "sysfs", xiot::test::source_path("boards/sim/sysfs").c_str());
  char* out = cJSON_Print(board.get());
  std::ofstream(path) << out;
  cJSON_free(out);
  return path;
}

class AgentReport : public ::testing::Test {
 protected:
  void SetUp() override {
    AgentConfig c;
    c.board = sim_board_with_report(server_.dir() + "/board.json", "relay0", R"("on_change")");
    c.interval_s = kIntervalS;
    c.override_json = R"({"telemetry":{"sample_s":0.5}})";
    const std::string path = xiot::test::write_agent_config(server_, server_.dir() + "/agent/agent.json", c);
    agent_ = std::make_unique<Process>(std::vector<std::string>{xiot::test::binary_path("xiot-agent"), "--config", path});
    ASSERT_TRUE(agent_->wait_for_output(kOnline, in(20s))) << agent_->describe();
  }

  /// Runs `steps` (a JSON array of commander steps) as ops; one document per step.
  std::vector<Json> run(const std::string& steps) {
    const std::string path = server_.dir() + "/steps-" + std::to_string(++scripts_) + ".json";
    std::ofstream(path) << steps;
    Process p({"/usr/bin/python3", xiot::test::source_path("tests/integration/probe/xmpp_commander.py"), "--jid",
               server_.jid("ops"), "--password", server_.password("ops"), "--host", server_.host(), "--port",
               std::to_string(server_.port()), "--ca-file", server_.ca_file(), "--device",
               server_.jid("dev1") + "/xiot", "--steps", path});
    EXPECT_EQ(p.wait_exit(in(60s)), std::optional<int>(0)) << p.describe();
    std::vector<Json> out;
    std::istringstream lines(p.out());
    for (std::string line; std::getline(lines, line);) {
      Json d = parse(line);
      if (d && cJSON_IsNumber(get(d.get(), "step"))) out.push_back(d);
    }
    return out;
  }

  /// The newest item of the telemetry node (its payload), "" if none.
  std::string newest_item() {
    const auto a = run(R"([{"op":"items","node":"urn:xiot:telemetry:0","max":1}])");
    if (a.empty()) return "";
    const cJSON* item = cJSON_GetArrayItem(get(a[0].get(), "items"), 0);
    return item != nullptr ? str(item, "payload") : "";
  }

  DevServer server_;
  std::unique_ptr<Process> agent_;
  int scripts_ = 0;
};

TEST_F(AgentReport, SetPublishesTheChangedChannelBeforeTheNextInterval) {
  // PEP nodes are access_model=presence: subscribe first, then see the first
  // slot's item (every channel, relay off).
  const auto sub = run(R"([{"op":"subscribe"}])");
  ASSERT_EQ(sub.size(), 1u);
  std::string first;
  ASSERT_TRUE(xiot::test::wait_until([&] { return !(first = newest_item()).empty(); }, in(20s)));
  EXPECT_NE(first.find("env0.temperature"), std::string::npos) << first;

  const auto t0 = std::chrono::steady_clock::now();
  const auto set = run(R"([{"op":"command","node":"set","form":{"channel":"relay0.state","value":"true"}}])");
  ASSERT_EQ(set.size(), 1u);
  ASSERT_EQ(str(set[0].get(), "status"), "completed") << cJSON_PrintUnformatted(set[0].get());

  // The event item: relay0.state alone, at once (the next interval is an hour away).
  std::string event;
  ASSERT_TRUE(xiot::test::wait_until(
      [&] {
        event = newest_item();
        return event.find("relay0.state") != std::string::npos && event.find("env0") == std::string::npos;
      },
      in(20s)))
      << "newest item: " << event;
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_LT(seconds, kIntervalS);
  EXPECT_NE(event.find("vb=\"true\""), std::string::npos) << event;
  std::printf("set -> event item on the server: %.2f s (interval %.0f s)\n", seconds, kIntervalS);
  // The device node describes the policy.
  const auto node = run(R"([{"op":"items","node":"urn:xiot:device:0","max":1}])");
  ASSERT_EQ(node.size(), 1u);
  const std::string device = str(cJSON_GetArrayItem(get(node[0].get(), "items"), 0), "payload");
  EXPECT_NE(device.find("report=\"on_change\""), std::string::npos) << device;
  EXPECT_TRUE(agent_->running()) << agent_->describe();
}


// The batching window end to end (issue 13): 20 readings a second with the
// default 1 s window travel as items of up to 20 snapshots, each item's
// readings within 1 s of its first, in the columnar protobuf form, and
// xiotctl reads them like any other item.
TEST(AgentWindow, FastReadingsTravelTogetherAndXiotctlReadsThem) {
  DevServer server;
  AgentConfig c;
  c.board = xiot::test::source_path("boards/sim-bme280/board.json");  // 3 channels
  c.interval_s = 0.05;
  c.batch_window_s = 1;
  c.encoding = "protobuf";
  const std::string cfg = xiot::test::write_agent_config(server, server.dir() + "/agent/agent.json", c);
  Process agent({xiot::test::binary_path("xiot-agent"), "--config", cfg});
  ASSERT_TRUE(agent.wait_for_output(kOnline, in(20s))) << agent.describe();
  const std::string ops = xiot::test::write_ops_config(server, server.dir() + "/ops.json");
  Process watch({xiot::test::binary_path("xiotctl"), "--config", ops, "watch", server.jid("dev1"), "--json",
                 "--count", "180", "--timeout", "60"});
  ASSERT_EQ(watch.wait_exit(in(90s)), std::optional<int>(0)) << watch.describe();
  struct Span {
    size_t records = 0;
    int64_t first_ms = INT64_MAX;
    int64_t last_ms = INT64_MIN;
  };
  std::map<std::string, Span> items;
  std::istringstream lines(watch.out());
  for (std::string line; std::getline(lines, line);) {
    Json d = parse(line);
    ASSERT_TRUE(d) << line;
    // "2026-12-06T07:29:25.327Z": the seconds and milliseconds of the minute are enough
    // for a span under a second unless it crosses an hour; use the whole time of day.
    const std::string t = str(d.get(), "time");
    ASSERT_EQ(t.size(), 24u) << line;
    const int64_t ms = ((std::stoll(t.substr(11, 2)) * 60 + std::stoll(t.substr(14, 2))) * 60 +
                        std::stoll(t.substr(17, 2))) * 1000 + std::stoll(t.substr(20, 3));
    Span& s = items[str(d.get(), "item")];
    ++s.records;
    s.first_ms = std::min(s.first_ms, ms);
    s.last_ms = std::max(s.last_ms, ms);
  }
  ASSERT_GE(items.size(), 2u) << watch.out();
  size_t biggest = 0;
  for (const auto& [id, s] : items) {
    EXPECT_EQ(s.records % 3, 0u) << id;
    EXPECT_LE(s.records, 60u) << id;  // at most 20 snapshots
    EXPECT_LT(s.last_ms - s.first_ms, 1000) << id;
    biggest = std::max(biggest, s.records);
  }
  EXPECT_GE(biggest, 30u) << "no item held 10 or more readings: " << watch.out();
  EXPECT_TRUE(agent.running()) << agent.describe();
}

}  // namespace

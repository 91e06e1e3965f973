// xiotctl against a real Prosody, with fake_device.py publishing telemetry to
// its PEP node the way the agent does.
#include <cjson/cJSON.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <fstream>
#include <memory>
#include <sstream>

#include "harness.hpp"

using namespace std::chrono_literals;
using xiot::test::DevServer;
using xiot::test::in;
using xiot::test::Process;

namespace {

constexpr const char* kNode = "urn:xiot:telemetry:0";

std::string sensml(const std::string& records) {
  return "<sensml xmlns='urn:ietf:params:xml:ns:senml'>" + records + "</sensml>";
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream ss(text);
  std::string line;
  while (std::getline(ss, line)) out.push_back(line);
  return out;
}

class XiotctlTest : public ::testing::Test {
 protected:
  std::string logs() const { return server_.dir() + "/logs"; }

  /// A fake device logged in as dev1, ready for commands.
  std::unique_ptr<Process> start_device(const std::string& account = "dev1") {
    auto dev = std::make_unique<Process>(
        Process::Options{xiot::test::fake_device_argv(server_, account), {}, "", logs(), true});
    EXPECT_TRUE(dev->wait_for_output("ready\n", in(20s), Process::Stream::Out)) << dev->describe();
    return dev;
  }

  /// Publishes one item to the device's PEP telemetry node and waits for the result.
  void publish(Process& dev, const std::string& id, const std::string& payload) {
    const std::string done = "published " + id + "\n";
    const size_t before = dev.count_output(done);  // the same id may have been published before
    dev.write_stdin(std::string("publish ") + kNode + " " + id + " " + payload + "\n");
    ASSERT_TRUE(xiot::test::wait_until([&] { return dev.count_output(done) > before || !dev.running(); }, in(10s)) &&
                dev.count_output(done) > before)
        << dev.describe();
  }

  /// xiotctl with the ops config and `args` after it.
  std::unique_ptr<Process> xiotctl(std::vector<std::string> args, const std::string& config = "") {
    std::vector<std::string> argv = {xiot::test::binary_path("xiotctl"), "--config",
                                     config.empty() ? ops_config_ : config};
    argv.insert(argv.end(), args.begin(), args.end());
    return std::make_unique<Process>(Process::Options{argv, {}, "", logs(), false});
  }

  /// xiotctl with explicit flags (no config file).
  std::unique_ptr<Process> xiotctl_flags(const std::string& password, const std::string& ca, int port,
                                         std::vector<std::string> args) {
    std::vector<std::string> argv = {xiot::test::binary_path("xiotctl"), "--jid", "ops@localhost",
                                     "--password", password, "--host", "127.0.0.1",
                                     "--port", std::to_string(port), "--ca-file", ca};
    argv.insert(argv.end(), args.begin(), args.end());
    return std::make_unique<Process>(Process::Options{argv, {}, "", logs(), false});
  }

  DevServer server_;
  std::string ops_config_ = xiot::test::write_ops_config(server_, server_.dir() + "/ops.json");
};

TEST_F(XiotctlTest, WatchPrintsEachReadingOnceInOrder) {
  auto dev = start_device();
  auto watch = xiotctl({"watch", "dev1", "--count", "5", "--timeout", "30"});
  // The first item may reach xiotctl live or as the node's last item once the
  // subscription is through: wait for it before publishing more.
  publish(*dev, "boot1-000001",
          sensml("<senml bn='dev1_localhost:' bt='1763900000.25' n='env0.temperature' u='Cel' v='21.54'/>"));
  ASSERT_TRUE(watch->wait_for_output("env0.temperature = 21.54 Cel", in(20s))) << watch->describe();
  publish(*dev, "boot1-000002",
          sensml("<senml bn='dev1_localhost:' bt='1763900010.5' n='env0.humidity' u='%RH' v='40.1'/>"
                 "<senml n='relay0.state' vb='true'/>"));
  // The same item again (a retry after a lost link): printed once.
  publish(*dev, "boot1-000002",
          sensml("<senml bn='dev1_localhost:' bt='1763900010.5' n='env0.humidity' u='%RH' v='40.1'/>"
                 "<senml n='relay0.state' vb='true'/>"));
  publish(*dev, "boot1-000003",
          sensml("<senml bn='dev1_localhost:' bt='1763900020' n='env0.pressure' u='Pa' v='101325'/>"
                 "<senml n='sys0.host' vs='sim-1'/>"));
  ASSERT_EQ(watch->wait_exit(in(20s)), 0) << watch->describe();
  EXPECT_EQ(lines_of(watch->out()),
            (std::vector<std::string>{
                "2025-11-23T12:13:20.250Z dev1@localhost env0.temperature = 21.54 Cel",
                "2025-11-23T12:13:30.500Z dev1@localhost env0.humidity = 40.1 %RH",
                "2025-11-23T12:13:30.500Z dev1@localhost relay0.state = true",
                "2025-11-23T12:13:40.000Z dev1@localhost env0.pressure = 101325 Pa",
                "2025-11-23T12:13:40.000Z dev1@localhost sys0.host = \"sim-1\"",
            }))
      << watch->describe();
}

TEST_F(XiotctlTest, WatchReconnectsAfterAServerRestart) {
  auto dev = start_device();
  auto watch = xiotctl({"watch", "dev1", "--count", "2", "--timeout", "60"});
  publish(*dev, "r-1", sensml("<senml bn='dev1_localhost:' bt='1763900000' n='env0.temperature' u='Cel' v='20'/>"));
  ASSERT_TRUE(watch->wait_for_output("env0.temperature = 20 Cel", in(20s))) << watch->describe();
  dev.reset();
  server_.restart();
  ASSERT_TRUE(watch->wait_for_output("xiotctl: reconnected", in(30s), Process::Stream::Err)) << watch->describe();
  dev = start_device();
  publish(*dev, "r-2", sensml("<senml bn='dev1_localhost:' bt='1763900001' n='env0.temperature' u='Cel' v='21'/>"));
  ASSERT_EQ(watch->wait_exit(in(20s)), 0) << watch->describe();
  // r-1 came again after the new login (last item of the node) and was not printed twice.
  EXPECT_EQ(lines_of(watch->out()),
            (std::vector<std::string>{"2025-11-23T12:13:20.000Z dev1@localhost env0.temperature = 20 Cel",
                                      "2025-11-23T12:13:21.000Z dev1@localhost env0.temperature = 21 Cel"}))
      << watch->describe();
  EXPECT_NE(watch->err().find("lost; reconnecting"), std::string::npos) << watch->describe();
}

TEST_F(XiotctlTest, WatchJsonLinesParse) {
  auto dev = start_device();
  auto watch = xiotctl({"watch", "dev1@localhost", "--json", "--count", "3", "--timeout", "30"});
  publish(*dev, "j-1", sensml("<senml bn='dev1_localhost:' bt='1763900000.25' n='env0.temperature' u='Cel' v='2.50'/>"));
  ASSERT_TRUE(watch->wait_for_output("\"j-1\"", in(20s))) << watch->describe();
  publish(*dev, "j-2", sensml("<senml bn='dev1_localhost:' bt='1763900001' n='relay0.state' vb='false'/>"
                              "<senml n='sys0.host' vs='a &quot;b&quot;'/>"));
  ASSERT_EQ(watch->wait_exit(in(20s)), 0) << watch->describe();
  const auto lines = lines_of(watch->out());
  ASSERT_EQ(lines.size(), 3u) << watch->describe();
  struct Want {
    const char* item;
    const char* time;
    const char* name;
    const char* unit;  // nullptr = JSON null
  } want[] = {{"j-1", "2025-11-23T12:13:20.250Z", "env0.temperature", "Cel"},
              {"j-2", "2025-11-23T12:13:21.000Z", "relay0.state", nullptr},
              {"j-2", "2025-11-23T12:13:21.000Z", "sys0.host", nullptr}};
  for (size_t i = 0; i < lines.size(); ++i) {
    std::unique_ptr<cJSON, decltype(&cJSON_Delete)> j(cJSON_Parse(lines[i].c_str()), &cJSON_Delete);
    ASSERT_TRUE(j) << lines[i];
    EXPECT_STREQ(cJSON_GetObjectItem(j.get(), "device")->valuestring, "dev1@localhost");
    EXPECT_STREQ(cJSON_GetObjectItem(j.get(), "item")->valuestring, want[i].item);
    EXPECT_STREQ(cJSON_GetObjectItem(j.get(), "time")->valuestring, want[i].time);
    EXPECT_STREQ(cJSON_GetObjectItem(j.get(), "name")->valuestring, want[i].name);
    const cJSON* unit = cJSON_GetObjectItem(j.get(), "unit");
    if (want[i].unit != nullptr) {
      EXPECT_STREQ(unit->valuestring, want[i].unit);
    } else {
      EXPECT_TRUE(cJSON_IsNull(unit)) << lines[i];
    }
  }
  EXPECT_NE(lines[0].find("\"value\":2.50"), std::string::npos) << "exact decimal kept: " << lines[0];
  EXPECT_NE(lines[1].find("\"value\":false"), std::string::npos) << lines[1];
  EXPECT_NE(lines[2].find("\"value\":\"a \\\"b\\\"\""), std::string::npos) << lines[2];
}

TEST_F(XiotctlTest, BadPayloadsAreReportedAndSkipped) {
  auto dev = start_device();
  auto watch = xiotctl({"watch", "dev1", "--count", "2", "--timeout", "30"});
  publish(*dev, "ok-1", sensml("<senml bn='dev1_localhost:' n='env0.temperature' u='Cel' v='20'/>"));
  ASSERT_TRUE(watch->wait_for_output("env0.temperature = 20 Cel", in(20s))) << watch->describe();
  publish(*dev, "bad-1", sensml("<senml n='env0.temperature' v='warm'/>"));
  publish(*dev, "bad-2", "<weather xmlns='urn:example:weather'>sunny</weather>");
  // The compact encoding decodes too (docs/wire-format.md example).
  publish(*dev, "pb-1",
          "<senml-pb xmlns='urn:xiot:senml-pb:0'>CjgKD2RldjFfbG9jYWxob3N0OhCgovmOv5CiBhoQZW52MC50ZW1wZXJh"
          "dHVyZSIDQ2VsKgUI1CEQAwobGg1lbnYwLmh1bWlkaXR5IgMlUkgqBQiiBhABChAaDHJlbGF5MC5zdGF0ZTAB</senml-pb>");
  ASSERT_EQ(watch->wait_exit(in(20s)), 0) << watch->describe();
  EXPECT_EQ(lines_of(watch->out()).size(), 2u) << watch->describe();
  EXPECT_NE(watch->out().find("2025-11-23T12:13:20.250Z dev1@localhost env0.temperature = 21.54 Cel"),
            std::string::npos)
      << watch->describe();
  EXPECT_NE(watch->err().find("skipping item bad-1 from dev1@localhost: record 1: v='warm' is not a number"),
            std::string::npos)
      << watch->describe();
  EXPECT_NE(watch->err().find("skipping item bad-2 from dev1@localhost: unknown payload"), std::string::npos)
      << watch->describe();
}

TEST_F(XiotctlTest, TimeoutWithoutReadingsExits4) {
  auto watch = xiotctl({"watch", "dev1", "--count", "1", "--timeout", "1.5"});
  EXPECT_EQ(watch->wait_exit(in(30s)), 4) << watch->describe();
  EXPECT_NE(watch->err().find("timed out after 1.5 s: 0 of 1 readings"), std::string::npos) << watch->describe();
}

TEST_F(XiotctlTest, TimeoutWithoutCountJustStops) {
  auto watch = xiotctl({"watch", "--timeout", "1"});
  EXPECT_EQ(watch->wait_exit(in(30s)), 0) << watch->describe();
}

TEST_F(XiotctlTest, SigtermStopsWatchCleanly) {
  auto dev = start_device();
  auto watch = xiotctl({"watch", "dev1"});
  publish(*dev, "s-1", sensml("<senml bn='dev1_localhost:' n='env0.temperature' u='Cel' v='20'/>"));
  ASSERT_TRUE(watch->wait_for_output("env0.temperature = 20 Cel", in(20s))) << watch->describe();
  watch->kill(SIGTERM);
  EXPECT_EQ(watch->wait_exit(in(10s)), 0) << watch->describe();
}

TEST_F(XiotctlTest, WrongPasswordExits3) {
  auto watch = xiotctl_flags("not-the-password", server_.ca_file(), server_.port(), {"watch", "--timeout", "10"});
  EXPECT_EQ(watch->wait_exit(in(30s)), 3) << watch->describe();
  EXPECT_EQ(watch->err(), "xiotctl: authentication failed for ops@localhost\n");
}

TEST_F(XiotctlTest, ClientTrustingOnlyTheRogueCaExits3) {
  auto watch = xiotctl_flags(server_.password("ops"), server_.rogue_ca_file(), server_.port(),
                             {"watch", "--timeout", "10"});
  EXPECT_EQ(watch->wait_exit(in(30s)), 3) << watch->describe();
  EXPECT_EQ(watch->err().rfind("xiotctl: TLS certificate not trusted: ", 0), 0u) << watch->describe();
}

TEST(XiotctlRogueServer, ServerPresentingTheRogueCertificateExits3) {
  DevServer::Options o;
  o.serve_rogue_cert = true;
  DevServer server(o);
  std::vector<std::string> argv = {xiot::test::binary_path("xiotctl"), "--config",
                                   xiot::test::write_ops_config(server, server.dir() + "/ops.json"),
                                   "watch", "--timeout", "10"};
  Process watch(argv);
  EXPECT_EQ(watch.wait_exit(in(30s)), 3) << watch.describe();
  EXPECT_NE(watch.err().find("TLS certificate not trusted: "), std::string::npos) << watch.describe();
  EXPECT_NE(watch.err().find("rogue CA"), std::string::npos) << watch.describe();
}

TEST_F(XiotctlTest, ConnectionRefusedExits3) {
  const int port = server_.port();
  server_.stop();
  auto watch = xiotctl_flags(server_.password("ops"), server_.ca_file(), port, {"watch", "--timeout", "10"});
  EXPECT_EQ(watch->wait_exit(in(30s)), 3) << watch->describe();
  EXPECT_EQ(watch->err(), "xiotctl: cannot connect to 127.0.0.1:" + std::to_string(port) + ": connection refused\n");
}

TEST_F(XiotctlTest, BadConfigFilesExit2WithTheFileNamed) {
  struct Case {
    const char* name;
    const char* text;
    const char* expect;
  } cases[] = {
      {"broken.json", "{\"jid\": ", "broken.json: not valid JSON"},
      {"unknown.json", R"({"jid":"ops@localhost","password":"x","colour":"red"})", "unknown.json: key 'colour': unknown key"},
      {"port.json", R"({"jid":"ops@localhost","password":"x","port":0})", "port.json: key 'port': must be 1-65535"},
      {"nopw.json", R"({"jid":"ops@localhost"})", "no password"},
  };
  for (const auto& c : cases) {
    const std::string path = server_.dir() + "/" + c.name;
    std::ofstream(path) << c.text;
    auto watch = xiotctl({"watch", "--timeout", "5"}, path);
    EXPECT_EQ(watch->wait_exit(in(30s)), 2) << c.name << "\n" << watch->describe();
    EXPECT_NE(watch->err().find(c.expect), std::string::npos) << c.name << "\n" << watch->describe();
  }
  auto missing = xiotctl({"watch"}, server_.dir() + "/missing.json");
  EXPECT_EQ(missing->wait_exit(in(30s)), 2) << missing->describe();
  EXPECT_NE(missing->err().find("missing.json: No such file or directory"), std::string::npos) << missing->describe();
}

TEST_F(XiotctlTest, UsageErrorsExit2) {
  const std::vector<std::vector<std::string>> bad = {
      {},                                 // no command
      {"frobnicate"},                     // unknown command
      {"watch", "--count", "0"},          // out of range
      {"watch", "--timeout", "soon"},     // not a number
      {"watch", "--colour"},              // unknown option
      {"devices"},                        // not implemented yet
      {"info", "dev1"},
  };
  for (const auto& args : bad) {
    auto p = xiotctl(args);
    EXPECT_EQ(p->wait_exit(in(30s)), 2) << p->describe();
    EXPECT_FALSE(p->err().empty());
  }
  auto help = xiotctl({"--help"});
  EXPECT_EQ(help->wait_exit(in(30s)), 0);
  EXPECT_NE(help->out().find("watch [DEVICE...] [--json] [--count N] [--timeout S]"), std::string::npos);
}

}  // namespace

// xiotctl against a real server: `watch` with fake_device.py publishing
// telemetry to its PEP node the way the agent does; `devices`, `info`,
// `commands` and `run` against real xiot-agent processes on the simulated
// board (and, for the XEP-0050 paths the agent does not take, against
// adhoc_device.py: slixmpp's own ad-hoc commands). Every subcommand, its
// --json document (parsed with cJSON) and every error path with its exit code.
#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <map>
#include <memory>
#include <regex>
#include <set>
#include <sstream>

#include "harness.hpp"

using namespace std::chrono_literals;
using xiot::test::AgentConfig;
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

// --- helpers for devices / info / commands / run -------------------------------------

constexpr const char* kAgentOnline = "INFO xmpp: online";

using JsonDoc = std::shared_ptr<cJSON>;

/// The one JSON document of `text` (nullptr if it is not exactly one).
JsonDoc json_doc(const std::string& text) {
  const char* end = nullptr;
  JsonDoc d(cJSON_ParseWithOpts(text.c_str(), &end, 0), cJSON_Delete);
  if (!d) return nullptr;
  while (end != nullptr && (*end == '\n' || *end == ' ')) ++end;
  return end != nullptr && *end == '\0' ? d : nullptr;
}
const cJSON* get(const cJSON* o, const char* key) { return cJSON_GetObjectItemCaseSensitive(o, key); }
std::string str(const cJSON* o, const char* key) {
  const cJSON* v = get(o, key);
  return cJSON_IsString(v) ? v->valuestring : (v == nullptr ? "<absent>" : cJSON_IsNull(v) ? "<null>" : "<other>");
}
/// The element of array `arr` whose `key` is `value`, or nullptr.
const cJSON* find_by(const cJSON* arr, const char* key, const std::string& value) {
  const cJSON* e = nullptr;
  cJSON_ArrayForEach(e, arr) {
    if (str(e, key) == value) return e;
  }
  return nullptr;
}

/// A finished xiotctl run.
struct Result {
  std::optional<int> code;
  std::string out, err;
  std::string describe() const {
    return "exit " + (code ? std::to_string(*code) : std::string("(still running)")) + "\nout:\n" + out +
           "\nerr:\n" + err;
  }
};

/// A TCP port that accepts connections (the kernel completes the handshake)
/// and never says a word: a server that hangs.
class SilentListener {
 public:
  SilentListener() {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = 0;
    if (fd_ < 0 || bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || listen(fd_, 8) != 0) {
      throw std::runtime_error("SilentListener: cannot listen");
    }
    socklen_t len = sizeof a;
    getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
  }
  ~SilentListener() { close(fd_); }
  SilentListener(const SilentListener&) = delete;
  SilentListener& operator=(const SilentListener&) = delete;
  int port() const { return port_; }

 private:
  int fd_ = -1;
  int port_ = 0;
};

/// Real agents on the simulated board, and operators (ops = operator, admin =
/// owner, viewer = viewer in the agents' ACL) driving them with xiotctl.
class XiotctlFleetTest : public ::testing::Test {
 protected:
  std::string logs() const { return server_.dir() + "/logs"; }

  /// An operator config for `account` (ops, admin, viewer, …).
  std::string config(const std::string& account) {
    return xiot::test::write_ops_config(server_, server_.dir() + "/" + account + ".json", account);
  }

  /// Registers device accounts beyond the defaults (dev2, dev3, …).
  void add_devices(const std::vector<std::string>& accounts) {
    for (const auto& a : accounts) server_.add_account(a, "pw-" + a);
  }

  /// Starts xiot-agent as `account` and waits until it is online.
  std::unique_ptr<Process> start_agent(const std::string& account, AgentConfig cfg = AgentConfig()) {
    cfg.account = account;
    cfg.log_level = "info";
    const std::string path =
        xiot::test::write_agent_config(server_, server_.dir() + "/" + account + "/agent.json", cfg);
    auto agent = std::make_unique<Process>(
        Process::Options{{xiot::test::binary_path("xiot-agent"), "--config", path}, {}, "", logs(), false});
    EXPECT_TRUE(agent->wait_for_output(kAgentOnline, in(20s))) << agent->describe();
    return agent;
  }

  /// A copy of the sim board whose BME280 does not answer: the agent comes up
  /// degraded ("env0 failed: …").
  std::string degraded_board() {
    const std::string text = xiot::test::read_file(xiot::test::source_path("boards/sim/board.json"));
    JsonDoc board(cJSON_Parse(text.c_str()), cJSON_Delete);
    const cJSON* dev = nullptr;
    cJSON_ArrayForEach(dev, get(board.get(), "devices")) {
      if (str(dev, "name") != "env0") continue;
      cJSON* sim = cJSON_GetObjectItemCaseSensitive(dev, "sim");
      cJSON_DeleteItemFromObjectCaseSensitive(sim, "present");
      cJSON_AddFalseToObject(sim, "present");
    }
    // The copy lives elsewhere: its fixture tree stays the sim board's.
    cJSON_DeleteItemFromObjectCaseSensitive(board.get(), "sysfs");
    cJSON_AddStringToObject(board.get(), "sysfs", xiot::test::source_path("boards/sim/sysfs").c_str());
    const std::string path = server_.dir() + "/degraded-board.json";
    char* out = cJSON_Print(board.get());
    std::ofstream(path) << out;
    cJSON_free(out);
    return path;
  }

  /// xiotctl with `account`'s config, run to its end.
  Result xiotctl(const std::string& account, std::vector<std::string> args, std::chrono::seconds limit = 40s) {
    std::vector<std::string> argv = {xiot::test::binary_path("xiotctl"), "--config", config(account)};
    argv.insert(argv.end(), args.begin(), args.end());
    Process p(Process::Options{argv, {}, "", logs(), false});
    Result r;
    r.code = p.wait_exit(in(limit));
    r.out = p.out();
    r.err = p.err();
    return r;
  }
  Result ops(std::vector<std::string> args) { return xiotctl("ops", std::move(args)); }

  /// Puts `device` into `account`'s roster with its presence approved (the
  /// agent approves ACL'd operators and subscribes back; xiotctl approves
  /// that): `watch` asks for the subscription and returns with the first
  /// reading, i.e. once it sees the device's PEP.
  void subscribe(const std::string& account, const std::string& device) {
    const Result r = xiotctl(account, {"watch", device, "--count", "1", "--timeout", "30"});
    ASSERT_EQ(r.code, 0) << "subscribing " << account << " to " << device << "\n" << r.describe();
  }

  DevServer server_;
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
  // Prosody closes the TCP connection; ejabberd first sends the stream error
  // <system-shutdown/>, which is named.
  EXPECT_TRUE(std::regex_search(watch->err(), std::regex("xiotctl: connection to 127\\.0\\.0\\.1:" +
                                                         std::to_string(server_.port()) +
                                                         " lost(: system-shutdown)?; reconnecting\n")))
      << watch->describe();
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

// watch subscribes explicitly (XEP-0060) to the device's telemetry node as its
// own full JID and removes the subscription when it stops. A watch killed
// with SIGKILL cannot: its subscription stays until a watch with the same full
// JID (a resource set in the config or --jid) stops cleanly.
TEST_F(XiotctlTest, WatchRemovesItsSubscriptionWhenItStops) {
  auto dev = start_device();
  publish(*dev, "u-1", sensml("<senml bn='dev1_localhost:' bt='1763900000' n='env0.temperature' u='Cel' v='20'/>"));
  const std::string me = "ops@localhost/watch-test";
  // Our subscriptions to dev1's node, as the server lists them to this full JID.
  auto subscriptions = [&] {
    Process probe(Process::Options{
        {"/usr/bin/python3", xiot::test::source_path("tests/integration/probe/xmpp_probe.py"), "--jid",
         server_.jid("ops"), "--password", server_.password("ops"), "--resource", "watch-test", "--host",
         server_.host(), "--port", std::to_string(server_.port()), "--ca-file", server_.ca_file(), "--timeout", "20",
         "subscriptions", server_.jid("dev1"), kNode},
        {}, "", logs(), false});
    std::set<std::string> jids;
    EXPECT_EQ(probe.wait_exit(in(30s)), 0) << probe.describe();
    for (const auto& line : lines_of(probe.out())) {
      std::unique_ptr<cJSON, decltype(&cJSON_Delete)> doc(cJSON_Parse(line.c_str()), &cJSON_Delete);
      const cJSON* subs = doc ? cJSON_GetObjectItem(doc.get(), "subscriptions") : nullptr;
      const cJSON* sub = nullptr;
      cJSON_ArrayForEach(sub, subs) {
        const cJSON* state = cJSON_GetObjectItem(sub, "subscription");
        if (cJSON_IsString(state) && std::string(state->valuestring) == "subscribed") {
          jids.insert(cJSON_GetObjectItem(sub, "jid")->valuestring);
        }
      }
    }
    return jids;
  };
  const std::string subscribed = "dev1@localhost's urn:xiot:telemetry:0: subscribed";
  const std::string unsubscribed = "dev1@localhost's urn:xiot:telemetry:0: unsubscribed";

  // (The reading may come by +notify before the subscribe is answered: then
  // watch is done at once and its unsubscribe follows the subscribe.)
  auto once = xiotctl({"--jid", me, "-v", "watch", "dev1", "--count", "1", "--timeout", "30"});
  ASSERT_EQ(once->wait_exit(in(40s)), 0) << once->describe();
  EXPECT_NE(once->err().find("subscribing to dev1@localhost's urn:xiot:telemetry:0 as " + me), std::string::npos)
      << once->describe();
  EXPECT_NE(once->err().find(unsubscribed), std::string::npos) << once->describe();
  EXPECT_EQ(subscriptions(), std::set<std::string>{});

  auto killed = xiotctl({"--jid", me, "-v", "watch", "dev1"});
  ASSERT_TRUE(killed->wait_for_output(subscribed, in(20s), Process::Stream::Err)) << killed->describe();
  killed->kill(SIGKILL);
  ASSERT_TRUE(killed->wait_exit(in(10s)).has_value());
  EXPECT_EQ(subscriptions(), std::set<std::string>{me});

  auto again = xiotctl({"--jid", me, "-v", "watch", "dev1", "--count", "1", "--timeout", "30"});
  ASSERT_EQ(again->wait_exit(in(40s)), 0) << again->describe();
  EXPECT_NE(again->err().find(unsubscribed), std::string::npos) << again->describe();
  EXPECT_EQ(subscriptions(), std::set<std::string>{});
  EXPECT_EQ(again->out(), "2025-11-23T12:13:20.000Z dev1@localhost env0.temperature = 20 Cel\n") << again->describe();
}

// Two watches configured with the same full JID: the server replaces the first
// session with the second (stream error <conflict/>). The first stops (exit 3)
// instead of logging in again and replacing the second in turn.
TEST_F(XiotctlTest, WatchReplacedByANewSessionOfItsFullJidExits3) {
  auto dev = start_device();
  publish(*dev, "c-1", sensml("<senml bn='dev1_localhost:' bt='1763900000' n='env0.temperature' u='Cel' v='20'/>"));
  const std::string me = "ops@localhost/console";
  auto first = xiotctl({"--jid", me, "watch", "dev1", "--timeout", "60"});
  ASSERT_TRUE(first->wait_for_output("env0.temperature = 20 Cel", in(20s), Process::Stream::Out))
      << first->describe();
  auto second = xiotctl({"--jid", me, "watch", "dev1", "--timeout", "60"});
  ASSERT_EQ(first->wait_exit(in(20s)), 3) << first->describe() << second->describe();
  EXPECT_NE(first->err().find("lost: conflict"), std::string::npos) << first->describe();
  EXPECT_NE(first->err().find("another session logged in as ops@localhost/console\n"), std::string::npos)
      << first->describe();
  ASSERT_TRUE(second->wait_for_output("env0.temperature = 20 Cel", in(20s), Process::Stream::Out))
      << second->describe();
  second->kill(SIGTERM);
  EXPECT_EQ(second->wait_exit(in(10s)), 0) << second->describe();
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
      {"broken.json", "{\"jid\": ", "broken.json:1:9: malformed JSON"},
      {"unknown.json", R"({"jid":"ops@localhost","password":"x","colour":"red"})", "unknown.json: colour: unknown key"},
      {"port.json", R"({"jid":"ops@localhost","password":"x","port":0})", "port.json: port: expected an integer from 1 to 65535, got 0"},
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
  EXPECT_NE(missing->err().find("missing.json: cannot read: No such file or directory"), std::string::npos) << missing->describe();
}

TEST_F(XiotctlTest, UsageErrorsExit2) {
  const std::vector<std::vector<std::string>> bad = {
      {},                                 // no command
      {"frobnicate"},                     // unknown command
      {"watch", "--count", "0"},          // out of range
      {"watch", "--timeout", "soon"},     // not a number
      {"watch", "--colour"},              // unknown option
      {"devices", "dev1"},                // devices takes no DEVICE
      {"devices", "--timeout", "0"},      // not a positive time
      {"info"},                           // DEVICE missing
      {"info", "dev1", "dev2"},           // one DEVICE
      {"commands"},
      {"commands", "dev1", "--colour"},   // unknown option
      {"run", "dev1"},                    // NODE missing
      {"run", "dev1", "set", "relay0"},   // not field=value
      {"run", "dev1", "set", "=on"},      // no field name
      {"info", "dev9"},                   // not in the roster: unknown device
      {"run", "dev9", "read"},
  };
  for (const auto& args : bad) {
    auto p = xiotctl(args);
    EXPECT_EQ(p->wait_exit(in(30s)), 2) << p->describe();
    EXPECT_FALSE(p->err().empty());
  }
  auto help = xiotctl({"--help"});
  EXPECT_EQ(help->wait_exit(in(30s)), 0);
  for (const char* usage : {"watch [DEVICE...] [--json] [--count N] [--timeout S]", "devices [--json] [--timeout S]",
                            "commands DEVICE [--json] [--timeout S]",
                            "run DEVICE NODE [field=value ...] [--json] [--timeout S]",
                            "info DEVICE [--json] [--timeout S]", "exit codes: 0 ok, 1 the device answered"}) {
    EXPECT_NE(help->out().find(usage), std::string::npos) << usage << "\n" << help->out();
  }
}


// --- devices ----------------------------------------------------------------------------

TEST_F(XiotctlFleetTest, DevicesShowsEveryStateFirmwareAndTheLastTelemetry) {
  add_devices({"dev2", "dev3", "dev4"});
  auto dev1 = start_agent("dev1");
  AgentConfig degraded;
  degraded.board = degraded_board();
  auto dev2 = start_agent("dev2", degraded);
  auto dev3 = start_agent("dev3");
  for (const char* d : {"dev1", "dev2", "dev3"}) subscribe("ops", d);
  // dev3 goes offline; its last telemetry item stays on its PEP node.
  dev3->kill(SIGTERM);
  ASSERT_EQ(dev3->wait_exit(in(20s)), 0) << dev3->describe();
  // dev4 never logs in: the subscription request stays pending.
  const Result pending = ops({"watch", "dev4", "--timeout", "1"});
  ASSERT_EQ(pending.code, 0) << pending.describe();

  const Result r = ops({"devices", "--json"});
  ASSERT_EQ(r.code, 0) << r.describe();
  EXPECT_EQ(r.err, "");
  const JsonDoc doc = json_doc(r.out);
  ASSERT_TRUE(doc) << r.out;
  EXPECT_EQ(str(doc.get(), "operator"), "ops@localhost");
  EXPECT_TRUE(cJSON_IsTrue(get(doc.get(), "complete")));
  const cJSON* counts = get(doc.get(), "counts");
  EXPECT_EQ(get(counts, "total")->valueint, 4);
  EXPECT_EQ(get(counts, "online")->valueint, 1);
  EXPECT_EQ(get(counts, "degraded")->valueint, 1);
  EXPECT_EQ(get(counts, "offline")->valueint, 1);
  EXPECT_EQ(get(counts, "unknown")->valueint, 1);
  const cJSON* devices = get(doc.get(), "devices");
  ASSERT_EQ(cJSON_GetArraySize(devices), 4) << r.out;

  const cJSON* d1 = find_by(devices, "jid", "dev1@localhost");
  ASSERT_NE(d1, nullptr);
  EXPECT_EQ(str(d1, "state"), "online");
  EXPECT_EQ(str(d1, "resource"), "dev1@localhost/xiot");
  EXPECT_NE(str(d1, "status").find("sim board"), std::string::npos);
  EXPECT_EQ(str(d1, "last_seen_source"), "presence");
  const cJSON* desc1 = get(d1, "description");
  EXPECT_EQ(str(desc1, "board"), "sim");
  EXPECT_EQ(str(desc1, "firmware"), "0.1.0");
  EXPECT_EQ(str(desc1, "health"), "healthy");
  const int channels = static_cast<int>(xiot::test::sim_board_channels());
  EXPECT_EQ(cJSON_GetArraySize(get(desc1, "channels")), channels);
  const cJSON* t1 = get(d1, "telemetry");
  ASSERT_TRUE(cJSON_IsObject(t1)) << r.out;
  EXPECT_TRUE(std::regex_match(str(t1, "item"), std::regex("[0-9a-f]{8}-[0-9]{6}"))) << str(t1, "item");
  EXPECT_LT(get(t1, "age_s")->valuedouble, 30);
  const cJSON* temp = find_by(get(t1, "readings"), "name", "env0.temperature");
  ASSERT_NE(temp, nullptr);
  EXPECT_NEAR(get(temp, "value")->valuedouble, 21.54, 0.051);
  EXPECT_EQ(str(temp, "unit"), "Cel");

  const cJSON* d2 = find_by(devices, "jid", "dev2@localhost");
  ASSERT_NE(d2, nullptr);
  EXPECT_EQ(str(d2, "state"), "degraded");
  EXPECT_EQ(str(d2, "show"), "away");
  EXPECT_NE(str(d2, "status").find("degraded: env0 failed"), std::string::npos) << str(d2, "status");
  EXPECT_EQ(str(get(d2, "description"), "health"), "degraded");
  EXPECT_EQ(cJSON_GetArraySize(get(get(d2, "description"), "channels")), channels - 3);  // env0's three are missing

  const cJSON* d3 = find_by(devices, "jid", "dev3@localhost");
  ASSERT_NE(d3, nullptr);
  EXPECT_EQ(str(d3, "state"), "offline");
  EXPECT_EQ(str(d3, "resource"), "<null>");
  EXPECT_EQ(str(get(d3, "description"), "firmware"), "0.1.0");  // from the node, while offline
  ASSERT_TRUE(cJSON_IsObject(get(d3, "telemetry"))) << r.out;
  EXPECT_EQ(cJSON_GetArraySize(get(get(d3, "telemetry"), "readings")), channels);
  // Last seen: XEP-0012 where the server offers it, else its last telemetry.
  const std::string source = str(d3, "last_seen_source");
  EXPECT_TRUE(source == "telemetry" || source == "last-activity") << source;
  EXPECT_NE(str(d3, "last_seen"), "<null>");

  const cJSON* d4 = find_by(devices, "jid", "dev4@localhost");
  ASSERT_NE(d4, nullptr);
  EXPECT_EQ(str(d4, "state"), "unknown");
  EXPECT_TRUE(cJSON_IsNull(get(d4, "description")));
  EXPECT_EQ(str(d4, "description_error"), "our presence subscription is not approved yet");

  // The same for people: one line per device and a summary.
  const Result text = ops({"devices"});
  ASSERT_EQ(text.code, 0) << text.describe();
  EXPECT_EQ(text.out.rfind("DEVICE          STATE     LAST SEEN  FIRMWARE  CHANNELS  LAST TELEMETRY", 0), 0u)
      << text.out;
  EXPECT_TRUE(std::regex_search(text.out, std::regex("\ndev1@localhost  online    now        0\\.1\\.0 +" + std::to_string(channels) + "  ")))
      << text.out;
  EXPECT_TRUE(std::regex_search(text.out, std::regex("\ndev2@localhost  degraded  now        0\\.1\\.0 +" + std::to_string(channels - 3) + " .*"
                                                      "degraded: env0 failed")))
      << text.out;
  EXPECT_TRUE(std::regex_search(text.out, std::regex("\ndev3@localhost  offline   [0-9]+ s ago +0\\.1\\.0 +" + std::to_string(channels) + " ")))
      << text.out;
  EXPECT_TRUE(std::regex_search(text.out, std::regex("\ndev4@localhost  unknown   -  .*not approved yet\n")))
      << text.out;
  EXPECT_NE(text.out.find("\n4 devices: 1 online, 1 degraded, 1 offline, 1 unknown\n"), std::string::npos)
      << text.out;

  // info works for an offline device too (the node is the server's).
  const Result info = ops({"info", "dev3", "--json"});
  ASSERT_EQ(info.code, 0) << info.describe();
  const JsonDoc idoc = json_doc(info.out);
  ASSERT_TRUE(idoc) << info.out;
  EXPECT_EQ(str(idoc.get(), "device"), "dev3@localhost");
  EXPECT_EQ(str(idoc.get(), "health"), "healthy");
}

TEST_F(XiotctlFleetTest, DevicesWithAnEmptyRosterListsNone) {
  const Result r = ops({"devices"});
  ASSERT_EQ(r.code, 0) << r.describe();
  EXPECT_EQ(r.out, "DEVICE  STATE  LAST SEEN  FIRMWARE  CHANNELS  LAST TELEMETRY  NOTE\n0 devices: 0 online, 0 offline\n");
  const Result j = ops({"devices", "--json"});
  ASSERT_EQ(j.code, 0) << j.describe();
  const JsonDoc doc = json_doc(j.out);
  ASSERT_TRUE(doc) << j.out;
  EXPECT_EQ(cJSON_GetArraySize(get(doc.get(), "devices")), 0);
  EXPECT_EQ(get(get(doc.get(), "counts"), "total")->valueint, 0);
}

// --- info ---------------------------------------------------------------------------------

TEST_F(XiotctlFleetTest, InfoPrintsTheDeviceDescription) {
  auto dev1 = start_agent("dev1");
  subscribe("ops", "dev1");
  const Result text = ops({"info", "dev1"});
  ASSERT_EQ(text.code, 0) << text.describe();
  EXPECT_TRUE(std::regex_search(text.out, std::regex("^dev1@localhost\n  board     sim\n  firmware  0\\.1\\.0\n"
                                                      "  boot id   [0-9a-f]{8}\n  health    healthy\n"
                                                      "  channels  " + std::to_string(xiot::test::sim_board_channels()) + "\n")))
      << text.out;
  EXPECT_TRUE(std::regex_search(text.out, std::regex("\n    env0\\.temperature +sensor    numeric  Cel  interval\n")))
      << text.out;
  EXPECT_TRUE(std::regex_search(text.out, std::regex("\n    relay0\\.state +actuator  boolean  -    interval\n")))
      << text.out;
  EXPECT_NE(text.out.find("  problems  none\n"), std::string::npos) << text.out;

  const Result j = ops({"info", "dev1@localhost", "--json"});
  ASSERT_EQ(j.code, 0) << j.describe();
  const JsonDoc doc = json_doc(j.out);
  ASSERT_TRUE(doc) << j.out;
  EXPECT_EQ(str(doc.get(), "device"), "dev1@localhost");
  EXPECT_EQ(str(doc.get(), "board"), "sim");
  EXPECT_EQ(str(doc.get(), "firmware"), "0.1.0");
  EXPECT_TRUE(std::regex_match(str(doc.get(), "boot_id"), std::regex("[0-9a-f]{8}")));
  const cJSON* relay = find_by(get(doc.get(), "channels"), "name", "relay0.state");
  ASSERT_NE(relay, nullptr);
  EXPECT_EQ(str(relay, "kind"), "actuator");
  EXPECT_EQ(str(relay, "type"), "boolean");
  EXPECT_TRUE(cJSON_IsNull(get(relay, "unit")));
  EXPECT_EQ(cJSON_GetArraySize(get(doc.get(), "problems")), 0);
}

TEST_F(XiotctlFleetTest, InfoOfADeviceThatShowsNothingExits1) {
  add_devices({"dev4"});
  // Not approved yet: the server refuses its PEP nodes to us.
  const Result pending = ops({"watch", "dev4", "--timeout", "1"});
  ASSERT_EQ(pending.code, 0) << pending.describe();
  const Result r = ops({"info", "dev4", "--json"});
  EXPECT_EQ(r.code, 1) << r.describe();
  EXPECT_EQ(r.err.rfind("xiotctl: dev4@localhost (urn:xiot:device:0): ", 0), 0u) << r.describe();
  const JsonDoc doc = json_doc(r.out);
  ASSERT_TRUE(doc) << r.out;
  EXPECT_EQ(str(doc.get(), "device"), "dev4@localhost");
  EXPECT_NE(str(get(doc.get(), "error"), "condition"), "<absent>");
}

// --- commands -------------------------------------------------------------------------

TEST_F(XiotctlFleetTest, CommandsListsWhatEachRoleMayRun) {
  auto dev1 = start_agent("dev1");
  const std::map<std::string, std::vector<std::string>> want = {
      {"viewer", {"read"}},
      {"ops", {"read", "set", "diagnostics"}},
      {"admin", {"read", "set", "diagnostics", "configure", "alerts", "reboot", "firmware-update", "rotate-identity"}},
  };
  for (const auto& kv : want) {
    subscribe(kv.first, "dev1");
    const Result j = xiotctl(kv.first, {"commands", "dev1", "--json"});
    ASSERT_EQ(j.code, 0) << kv.first << "\n" << j.describe();
    const JsonDoc doc = json_doc(j.out);
    ASSERT_TRUE(doc) << j.out;
    EXPECT_EQ(str(doc.get(), "device"), "dev1@localhost");
    EXPECT_EQ(str(doc.get(), "jid"), "dev1@localhost/xiot");
    std::vector<std::string> nodes;
    const cJSON* c = nullptr;
    cJSON_ArrayForEach(c, get(doc.get(), "commands")) nodes.push_back(str(c, "node"));
    EXPECT_EQ(nodes, kv.second) << kv.first << "\n" << j.out;
  }
  const Result text = ops({"commands", "dev1"});
  ASSERT_EQ(text.code, 0) << text.describe();
  EXPECT_EQ(text.out, "read         Read sensors\nset          Set an actuator\ndiagnostics  Diagnostics\n");
}

TEST_F(XiotctlFleetTest, UnknownDeviceNamesTheRosterAndExits2) {
  auto dev1 = start_agent("dev1");
  subscribe("ops", "dev1");
  for (const std::vector<std::string>& args : {std::vector<std::string>{"info", "dev9"},
                                               {"commands", "dev9@localhost"},
                                               {"run", "dev9", "read", "--json"}}) {
    const Result r = ops(args);
    EXPECT_EQ(r.code, 2) << r.describe();
    EXPECT_EQ(r.err, "xiotctl: unknown device dev9@localhost: not in ops@localhost's roster (known: "
                     "dev1@localhost)\n");
    EXPECT_EQ(r.out, "");
  }
}

// --- run --------------------------------------------------------------------------------------

TEST_F(XiotctlFleetTest, RunReadPrintsEveryChannel) {
  auto dev1 = start_agent("dev1");
  subscribe("viewer", "dev1");
  const Result j = xiotctl("viewer", {"run", "dev1", "read", "--json"});
  ASSERT_EQ(j.code, 0) << j.describe();
  const JsonDoc doc = json_doc(j.out);
  ASSERT_TRUE(doc) << j.out;
  EXPECT_EQ(str(doc.get(), "device"), "dev1@localhost");
  EXPECT_EQ(str(doc.get(), "jid"), "dev1@localhost/xiot");
  EXPECT_EQ(str(doc.get(), "node"), "read");
  EXPECT_EQ(str(doc.get(), "status"), "completed");
  EXPECT_EQ(get(doc.get(), "stages")->valueint, 1);
  const cJSON* values = get(doc.get(), "values");
  EXPECT_EQ(str(values, "env0.temperature"), "21.54");
  EXPECT_EQ(str(values, "env0.pressure"), "101325");
  EXPECT_TRUE(cJSON_IsFalse(get(values, "relay0.state")));
  EXPECT_EQ(cJSON_GetArraySize(get(get(doc.get(), "form"), "fields")), static_cast<int>(xiot::test::sim_board_channels()));
  EXPECT_EQ(str(get(doc.get(), "form"), "title"), "Readings");

  const Result text = xiotctl("viewer", {"run", "dev1", "read"});
  ASSERT_EQ(text.code, 0) << text.describe();
  EXPECT_EQ(text.out.rfind("dev1@localhost/xiot read: completed\nReadings\n", 0), 0u) << text.out;
  // Values in a column after the longest "name (unit)".
  EXPECT_TRUE(std::regex_search(text.out, std::regex("\n  env0\\.temperature \\(Cel\\) +21\\.54\n"))) << text.out;
  EXPECT_TRUE(std::regex_search(text.out, std::regex("\n  relay0\\.state +false\n"))) << text.out;
}

TEST_F(XiotctlFleetTest, RunSetDrivesTheRelay) {
  auto dev1 = start_agent("dev1");
  subscribe("ops", "dev1");
  const Result set = ops({"run", "dev1", "set", "channel=relay0.state", "value=on"});
  ASSERT_EQ(set.code, 0) << set.describe();
  EXPECT_EQ(set.out, "dev1@localhost/xiot set: completed\nnote: relay0.state set to true\n");
  const Result read = ops({"run", "dev1", "read", "--json"});
  ASSERT_EQ(read.code, 0) << read.describe();
  const JsonDoc doc = json_doc(read.out);
  ASSERT_TRUE(doc) << read.out;
  EXPECT_TRUE(cJSON_IsTrue(get(get(doc.get(), "values"), "relay0.state"))) << read.out;

  const Result off = ops({"run", "dev1", "set", "channel=relay0.state", "value=false", "--json"});
  ASSERT_EQ(off.code, 0) << off.describe();
  const JsonDoc odoc = json_doc(off.out);
  ASSERT_TRUE(odoc) << off.out;
  EXPECT_EQ(str(odoc.get(), "status"), "completed");
  EXPECT_EQ(get(odoc.get(), "stages")->valueint, 2);  // the form, then its submission
  EXPECT_EQ(str(cJSON_GetArrayItem(get(odoc.get(), "notes"), 0), "text"), "relay0.state set to false");
  EXPECT_TRUE(cJSON_IsNull(get(odoc.get(), "form")));
}

TEST_F(XiotctlFleetTest, RunRefusesBadFieldsBeforeTheDeviceSeesThemAndExits2) {
  auto dev1 = start_agent("dev1");
  subscribe("ops", "dev1");
  const std::string fields =
      "fields of the form 'Set an actuator':\n"
      "  channel  \"Channel\", list-single, required, one of: relay0.state (relay0.state (boolean))\n"
      "  value    \"Value\", text-single, required\n";
  const Result missing = ops({"run", "dev1", "set"});
  EXPECT_EQ(missing.code, 2) << missing.describe();
  EXPECT_EQ(missing.err, "xiotctl: missing required field 'channel'\n" + fields);
  EXPECT_EQ(missing.out, "");

  const Result sensor = ops({"run", "dev1", "set", "channel=env0.temperature", "value=1"});
  EXPECT_EQ(sensor.code, 2) << sensor.describe();
  EXPECT_EQ(sensor.err, "xiotctl: channel: 'env0.temperature' is not one of: relay0.state (relay0.state "
                        "(boolean))\n" + fields);

  // An argument stage 1 does not know may be for stage 2: next, then the
  // fields of both stages.
  const Result unknown = ops({"run", "dev1", "set", "channel=relay0.state", "value=1", "colour=red"});
  EXPECT_EQ(unknown.code, 2) << unknown.describe();
  EXPECT_EQ(unknown.err, "xiotctl: command 'set' has no field 'colour'\n" + fields +
                             "fields of the form 'Set relay0.state':\n"
                             "  value  \"relay0.state\", boolean, required (true/false), default 0\n");

  const Result twice = ops({"run", "dev1", "set", "channel=relay0.state", "channel=relay0.state", "value=1"});
  EXPECT_EQ(twice.code, 2) << twice.describe();
  EXPECT_EQ(twice.err.rfind("xiotctl: channel: takes one value, got 2\n", 0), 0u) << twice.describe();

  // Every refused form canceled its session on the device.
  const Result diag = ops({"run", "dev1", "diagnostics", "--json"});
  ASSERT_EQ(diag.code, 0) << diag.describe();
  const JsonDoc doc = json_doc(diag.out);
  ASSERT_TRUE(doc) << diag.out;
  EXPECT_EQ(str(get(doc.get(), "values"), "command_sessions"), "0") << diag.out;
}

TEST_F(XiotctlFleetTest, RunPrintsTheDevicesErrorAndExits1) {
  auto dev1 = start_agent("dev1");
  subscribe("ops", "dev1");
  // A value only the device can judge: bad-request + bad-payload with its text.
  const Result bad = ops({"run", "dev1", "set", "channel=relay0.state", "value=maybe"});
  EXPECT_EQ(bad.code, 1) << bad.describe();
  EXPECT_EQ(bad.err, "xiotctl: dev1@localhost/xiot answered 'set' with bad-request (bad-payload): value: 'maybe' is "
                     "not a boolean for relay0.state (use true/false, 1/0 or on/off)\n");
  EXPECT_EQ(bad.out, "");

  const Result badj = ops({"run", "dev1", "set", "channel=relay0.state", "value=maybe", "--json"});
  EXPECT_EQ(badj.code, 1) << badj.describe();
  const JsonDoc doc = json_doc(badj.out);
  ASSERT_TRUE(doc) << badj.out;
  EXPECT_EQ(str(doc.get(), "device"), "dev1@localhost");
  EXPECT_EQ(str(doc.get(), "jid"), "dev1@localhost/xiot");
  EXPECT_EQ(str(doc.get(), "node"), "set");
  const cJSON* err = get(doc.get(), "error");
  EXPECT_EQ(str(err, "type"), "modify");
  EXPECT_EQ(str(err, "condition"), "bad-request");
  EXPECT_EQ(str(err, "app_condition"), "bad-payload");
  EXPECT_EQ(str(err, "text").rfind("value: 'maybe' is not a boolean", 0), 0u);

  // The role is too low; the node does not exist.
  const Result forbidden = ops({"run", "dev1", "configure", "interval_s=5", "--json"});
  EXPECT_EQ(forbidden.code, 1) << forbidden.describe();
  const JsonDoc fdoc = json_doc(forbidden.out);
  ASSERT_TRUE(fdoc) << forbidden.out;
  EXPECT_EQ(str(get(fdoc.get(), "error"), "condition"), "forbidden");
  EXPECT_EQ(str(get(fdoc.get(), "error"), "type"), "auth");
  EXPECT_TRUE(cJSON_IsNull(get(get(fdoc.get(), "error"), "app_condition")));
  EXPECT_NE(forbidden.err.find("forbidden: 'configure' needs the owner role (you are operator)"), std::string::npos)
      << forbidden.describe();
  const Result nope = ops({"run", "dev1", "nope"});
  EXPECT_EQ(nope.code, 1) << nope.describe();
  EXPECT_EQ(nope.err, "xiotctl: dev1@localhost/xiot answered 'nope' with item-not-found: no command 'nope'\n");
}

TEST_F(XiotctlFleetTest, RunConfigureAndRebootAsOwner) {
  auto dev1 = start_agent("dev1");
  subscribe("admin", "dev1");
  const Result cfg = xiotctl("admin", {"run", "dev1", "configure", "interval_s=0.5", "batch_max=2"});
  ASSERT_EQ(cfg.code, 0) << cfg.describe();
  EXPECT_NE(cfg.out.find("note: telemetry every 0.5 s, 2 readings per item, on-change sampling every 1 s\n"),
            std::string::npos)
      << cfg.out;

  // A boolean the form refuses; then the prefilled confirm=0: the device cancels.
  const Result maybe = xiotctl("admin", {"run", "dev1", "reboot", "confirm=maybe"});
  EXPECT_EQ(maybe.code, 2) << maybe.describe();
  EXPECT_EQ(maybe.err.rfind("xiotctl: confirm: 'maybe' is not a boolean (use true/false, 1/0, yes/no or on/off)\n"
                            "fields of the form 'Reboot the device':\n"
                            "  confirm  \"Reboot now?\", boolean, required (true/false), default 0\n",
                            0),
            0u)
      << maybe.describe();
  const Result no = xiotctl("admin", {"run", "dev1", "reboot"});
  EXPECT_EQ(no.code, 1) << no.describe();
  EXPECT_EQ(no.out, "dev1@localhost/xiot reboot: canceled\nnote: reboot not confirmed\n");
  EXPECT_EQ(no.err, "xiotctl: command 'reboot' was canceled by dev1@localhost/xiot: reboot not confirmed\n");

  const Result yes = xiotctl("admin", {"run", "dev1", "reboot", "confirm=yes", "reason=xiotctl test", "--json"});
  ASSERT_EQ(yes.code, 0) << yes.describe();
  const JsonDoc doc = json_doc(yes.out);
  ASSERT_TRUE(doc) << yes.out;
  EXPECT_EQ(str(doc.get(), "status"), "completed");
  EXPECT_EQ(str(cJSON_GetArrayItem(get(doc.get(), "notes"), 0), "text"), "rebooting");
  EXPECT_TRUE(dev1->wait_for_output("reboot requested by admin@localhost", in(10s))) << dev1->describe();
}

TEST_F(XiotctlFleetTest, AnOfflineDeviceExits1) {
  auto dev1 = start_agent("dev1");
  subscribe("ops", "dev1");
  dev1->kill(SIGTERM);
  ASSERT_EQ(dev1->wait_exit(in(20s)), 0) << dev1->describe();
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"commands", "dev1"}, {"run", "dev1", "read"}, {"run", "dev1", "read", "--json"}}) {
    const Result r = ops(args);
    EXPECT_EQ(r.code, 1) << r.describe();
    EXPECT_EQ(r.err, "xiotctl: dev1@localhost is offline\n");
    EXPECT_EQ(r.out, "");
  }
}

TEST_F(XiotctlFleetTest, ADeviceThatDoesNotAnswerExits4) {
  auto dev1 = start_agent("dev1");
  subscribe("ops", "dev1");
  // Stopped, not gone: its presence stays, its IQs are never answered.
  dev1->kill(SIGSTOP);
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"run", "dev1", "read", "--timeout", "1.5"}, {"commands", "dev1", "--timeout", "1.5"}}) {
    const auto start = xiot::test::Clock::now();
    const Result r = ops(args);
    EXPECT_EQ(r.code, 4) << r.describe();
    EXPECT_EQ(r.err.rfind("xiotctl: timed out waiting for ", 0), 0u) << r.describe();
    EXPECT_NE(r.err.find("from dev1@localhost/xiot"), std::string::npos) << r.describe();
    EXPECT_LT(xiot::test::Clock::now() - start, 10s);
  }
  // The PEP nodes are the server's: devices and info still answer.
  const Result devices = ops({"devices", "--timeout", "10"});
  EXPECT_EQ(devices.code, 0) << devices.describe();
  dev1->kill(SIGCONT);
}

TEST_F(XiotctlFleetTest, ASilentServerExits4) {
  SilentListener silent;
  const std::string cfg = server_.dir() + "/silent.json";
  std::ofstream(cfg) << "{\"jid\":\"ops@localhost\",\"password\":\"x\",\"host\":\"127.0.0.1\",\"port\":"
                     << silent.port() << ",\"ca_file\":\"" << server_.ca_file() << "\"}";
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"devices"}, {"info", "dev1"}, {"commands", "dev1"}, {"run", "dev1", "read"}}) {
    std::vector<std::string> argv = {xiot::test::binary_path("xiotctl"), "--config", cfg};
    argv.insert(argv.end(), args.begin(), args.end());
    argv.insert(argv.end(), {"--timeout", "1"});
    Process p(Process::Options{argv, {}, "", logs(), false});
    EXPECT_EQ(p.wait_exit(in(20s)), 4) << p.describe();
    EXPECT_EQ(p.err(), "xiotctl: timed out connecting to 127.0.0.1:" + std::to_string(silent.port()) + "\n")
        << p.describe();
  }
}

TEST_F(XiotctlFleetTest, AuthenticationFailureExits3ForEveryCommand) {
  const std::string cfg = server_.dir() + "/wrong.json";
  std::ofstream(cfg) << "{\"jid\":\"ops@localhost\",\"password\":\"not-the-password\",\"host\":\"127.0.0.1\","
                     << "\"port\":" << server_.port() << ",\"ca_file\":\"" << server_.ca_file() << "\"}";
  for (const std::vector<std::string>& args : {std::vector<std::string>{"devices", "--json"},
                                               {"info", "dev1"},
                                               {"commands", "dev1"},
                                               {"run", "dev1", "read", "--json"}}) {
    std::vector<std::string> argv = {xiot::test::binary_path("xiotctl"), "--config", cfg};
    argv.insert(argv.end(), args.begin(), args.end());
    Process p(Process::Options{argv, {}, "", logs(), false});
    EXPECT_EQ(p.wait_exit(in(30s)), 3) << p.describe();
    EXPECT_EQ(p.err(), "xiotctl: authentication failed for ops@localhost\n");
    EXPECT_EQ(p.out(), "");
  }
}

// --- run against slixmpp's XEP-0050 (tests/integration/adhoc_device.py) ----------------------

class XiotctlAdhocTest : public XiotctlFleetTest {
 protected:
  void SetUp() override {
    add_devices({"dev5"});
    device_ = std::make_unique<Process>(Process::Options{
        {"/usr/bin/python3", xiot::test::source_path("tests/integration/adhoc_device.py"), "--jid",
         server_.jid("dev5"), "--password", server_.password("dev5"), "--host", server_.host(), "--port",
         std::to_string(server_.port()), "--ca-file", server_.ca_file()},
        {},
        "",
        logs(),
        false});
    ASSERT_TRUE(device_->wait_for_output("ready\n", in(20s), Process::Stream::Out)) << device_->describe();
    // It has no telemetry for watch to wait for: subscribe and give up after a second.
    const Result r = ops({"watch", "dev5", "--timeout", "1"});
    ASSERT_EQ(r.code, 0) << r.describe();
    ASSERT_TRUE(xiot::test::wait_until(
        [&] {
          const Result c = ops({"commands", "dev5"});
          return c.code == 0;
        },
        in(20s), 100ms));
  }
  std::unique_ptr<Process> device_;
};

TEST_F(XiotctlAdhocTest, NextIsTakenWhenItIsTheStagesDefault) {
  const Result r = ops({"run", "dev5", "two-stage", "channel=a.state", "value=on", "--json"});
  ASSERT_EQ(r.code, 0) << r.describe() << device_->describe();
  const JsonDoc doc = json_doc(r.out);
  ASSERT_TRUE(doc) << r.out;
  EXPECT_EQ(get(doc.get(), "stages")->valueint, 3);  // choose (next), set (complete), result
  EXPECT_EQ(str(doc.get(), "status"), "completed");
  EXPECT_EQ(str(cJSON_GetArrayItem(get(doc.get(), "notes"), 0), "text"), "a.state set to true");
  EXPECT_EQ(str(get(doc.get(), "values"), "channel"), "a.state");
  EXPECT_TRUE(cJSON_IsTrue(get(get(doc.get(), "values"), "value")));

  const Result text = ops({"run", "dev5", "two-stage", "channel=b.state", "value=0"});
  ASSERT_EQ(text.code, 0) << text.describe();
  EXPECT_EQ(text.out, "dev5@localhost/adhoc two-stage: completed\nDone\n  channel  b.state\n  value    false\n"
                      "note: b.state set to false\n");
}

TEST_F(XiotctlAdhocTest, AMissingFieldOfALaterStageListsThatStagesFields) {
  const Result first = ops({"run", "dev5", "two-stage"});
  EXPECT_EQ(first.code, 2) << first.describe();
  EXPECT_EQ(first.err, "xiotctl: missing required field 'channel'\nfields of the form 'Choose':\n"
                       "  channel  \"Channel\", list-single, required, one of: a.state (A), b.state (B)\n");
  EXPECT_TRUE(device_->wait_for_output("canceled two-stage\n", in(10s), Process::Stream::Out)) << device_->describe();
  // Stage 2's boolean is prefilled: leaving it out submits the default.
  const Result dflt = ops({"run", "dev5", "two-stage", "channel=a.state"});
  EXPECT_EQ(dflt.code, 0) << dflt.describe();
  EXPECT_NE(dflt.out.find("note: a.state set to false\n"), std::string::npos) << dflt.out;
  const Result bad = ops({"run", "dev5", "two-stage", "channel=a.state", "value=perhaps"});
  EXPECT_EQ(bad.code, 2) << bad.describe();
  EXPECT_EQ(bad.err, "xiotctl: value: 'perhaps' is not a boolean (use true/false, 1/0, yes/no or on/off)\n"
                     "fields of the form 'Set a.state':\n"
                     "  value  \"a.state\", boolean, required (true/false), default 0\n");
}

TEST_F(XiotctlAdhocTest, MultiValuedFieldsAndXep0122Validation) {
  const Result r = ops({"run", "dev5", "echo", "tags=x", "tags=z", "lines=one", "lines=two", "peer=ops@localhost",
                        "count=3", "--json"});
  ASSERT_EQ(r.code, 0) << r.describe();
  const JsonDoc doc = json_doc(r.out);
  ASSERT_TRUE(doc) << r.out;
  const cJSON* values = get(doc.get(), "values");
  ASSERT_TRUE(cJSON_IsArray(get(values, "tags"))) << r.out;
  EXPECT_EQ(cJSON_GetArraySize(get(values, "tags")), 2);
  EXPECT_STREQ(cJSON_GetArrayItem(get(values, "tags"), 1)->valuestring, "z");
  EXPECT_STREQ(cJSON_GetArrayItem(get(values, "lines"), 0)->valuestring, "one");
  EXPECT_EQ(str(values, "peer"), "ops@localhost");
  EXPECT_EQ(str(values, "count"), "3");

  const Result range = ops({"run", "dev5", "echo", "count=11"});
  EXPECT_EQ(range.code, 2) << range.describe();
  EXPECT_EQ(range.err.rfind("xiotctl: count: '11' is above the maximum 10\n", 0), 0u) << range.describe();
  const Result option = ops({"run", "dev5", "echo", "tags=w"});
  EXPECT_EQ(option.code, 2) << option.describe();
  EXPECT_EQ(option.err.rfind("xiotctl: tags: 'w' is not one of: x, y, z\n", 0), 0u) << option.describe();
}

TEST_F(XiotctlAdhocTest, AnErrorWithoutAppConditionIsPrintedWithItsText) {
  const Result r = ops({"run", "dev5", "fail"});
  EXPECT_EQ(r.code, 1) << r.describe();
  EXPECT_EQ(r.err, "xiotctl: dev5@localhost/adhoc answered 'fail' with internal-server-error: sensor on fire\n");
  const Result j = ops({"run", "dev5", "fail", "--json"});
  EXPECT_EQ(j.code, 1) << j.describe();
  const JsonDoc doc = json_doc(j.out);
  ASSERT_TRUE(doc) << j.out;
  EXPECT_EQ(str(get(doc.get(), "error"), "condition"), "internal-server-error");
  EXPECT_EQ(str(get(doc.get(), "error"), "type"), "cancel");
  EXPECT_EQ(str(get(doc.get(), "error"), "text"), "sensor on fire");
}

}  // namespace

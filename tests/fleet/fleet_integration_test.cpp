// A provisioned fleet on a real server: `tools/fleet provision` creates the
// device accounts and wires them to the operator, xiot-fleet-sim runs the
// devices in one process, and the operator, with the project's own xiotctl,
// sees every device's presence and its own telemetry values and runs an
// ad-hoc command on simulated devices; the owner reboots one. Stopping the
// simulator takes every device offline.
#include <cjson/cJSON.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <map>
#include <memory>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "harness.hpp"

using namespace std::chrono_literals;
using xiot::test::DevServer;
using xiot::test::in;
using xiot::test::Process;

namespace {

using Json = std::unique_ptr<cJSON, decltype(&cJSON_Delete)>;

Json parse(const std::string& text) { return Json(cJSON_Parse(text.c_str()), &cJSON_Delete); }

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream ss(text);
  std::string line;
  while (std::getline(ss, line)) {
    if (!line.empty()) out.push_back(line);
  }
  return out;
}

std::string str(const cJSON* obj, const char* key) {
  const cJSON* v = cJSON_GetObjectItemCaseSensitive(obj, key);
  return cJSON_IsString(v) ? v->valuestring : "";
}

constexpr int kDevices = 5;

class FleetIntegration : public ::testing::Test {
 protected:
  std::string logs() const { return server_.dir() + "/logs"; }

  std::unique_ptr<Process> run(std::vector<std::string> argv) {
    return std::make_unique<Process>(Process::Options{std::move(argv), {}, "", logs(), false});
  }

  std::unique_ptr<Process> xiotctl(std::vector<std::string> args) {
    std::vector<std::string> argv = {xiot::test::binary_path("xiotctl"), "--config", ops_};
    argv.insert(argv.end(), args.begin(), args.end());
    return run(std::move(argv));
  }

  /// Provisions `count` devices and returns the fleet file's path.
  std::string provision(const std::vector<std::string>& extra = {}, int count = kDevices) {
    std::vector<std::string> argv = {xiot::test::source_path("tools/fleet"), "provision", "--server-dir",
                                     server_.dir(), "--count", std::to_string(count), "--interval", "0.5"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    auto p = run(argv);
    EXPECT_EQ(p->wait_exit(in(60s)), 0) << p->describe() << server_.log_tail();
    return server_.dir() + "/fleet.json";
  }

  DevServer server_;
  std::string ops_ = xiot::test::write_ops_config(server_, server_.dir() + "/ops.json");
};

TEST_F(FleetIntegration, ProvisioningWritesAFleetFileWithOneAccountPerDevice) {
  const std::string fleet_path = provision();
  Json fleet = parse(xiot::test::read_file(fleet_path));
  ASSERT_TRUE(fleet);
  const cJSON* server = cJSON_GetObjectItemCaseSensitive(fleet.get(), "server");
  EXPECT_EQ(str(server, "kind"), server_.kind());
  EXPECT_EQ(str(server, "host"), server_.host());
  EXPECT_EQ(cJSON_GetObjectItemCaseSensitive(server, "port")->valueint, server_.port());
  EXPECT_EQ(str(server, "ca_file"), server_.ca_file());
  const cJSON* devices = cJSON_GetObjectItemCaseSensitive(fleet.get(), "devices");
  ASSERT_EQ(cJSON_GetArraySize(devices), kDevices);
  std::set<std::string> jids, passwords;
  for (const cJSON* d = devices->child; d != nullptr; d = d->next) {
    jids.insert(str(d, "jid"));
    passwords.insert(str(d, "password"));
  }
  EXPECT_EQ(jids, (std::set<std::string>{"dev0001@localhost", "dev0002@localhost", "dev0003@localhost",
                                         "dev0004@localhost", "dev0005@localhost"}));
  EXPECT_EQ(passwords.size(), static_cast<size_t>(kDevices)) << "every device has its own password";
  const cJSON* acl = cJSON_GetObjectItemCaseSensitive(fleet.get(), "acl");
  const cJSON* operators = cJSON_GetObjectItemCaseSensitive(acl, "operators");
  ASSERT_EQ(cJSON_GetArraySize(operators), 1);
  EXPECT_STREQ(operators->child->valuestring, "ops@localhost");

  // The operator's roster now lists every device (before any of them ever
  // logged in): `devices` shows all of them, offline.
  auto devs = xiotctl({"devices", "--json", "--timeout", "10"});
  ASSERT_EQ(devs->wait_exit(in(20s)), 0) << devs->describe();
  Json doc = parse(devs->out());
  ASSERT_TRUE(doc) << devs->out();
  const cJSON* counts = cJSON_GetObjectItemCaseSensitive(doc.get(), "counts");
  EXPECT_EQ(cJSON_GetObjectItemCaseSensitive(counts, "total")->valueint, kDevices) << devs->out();
  EXPECT_EQ(cJSON_GetObjectItemCaseSensitive(counts, "offline")->valueint, kDevices) << devs->out();
}

TEST_F(FleetIntegration, SimulatedFleetComesOnlineAndTheOperatorSeesAndCommandsEveryDevice) {
  const std::string fleet = provision();
  auto sim = run({xiot::test::binary_path("xiot-fleet-sim"), "--fleet", fleet, "--ramp", "1", "--stats", "0.5",
                  "--log-level", "info"});
  ASSERT_TRUE(sim->wait_for_output("all 5 devices online", in(30s), Process::Stream::Out))
      << sim->describe() << server_.log_tail();

  // Presence and the last telemetry of every device, as the operator sees them.
  std::string last;
  ASSERT_TRUE(xiot::test::wait_until(
      [&] {
        auto devs = xiotctl({"devices", "--json", "--timeout", "10"});
        if (devs->wait_exit(in(20s)) != 0) return false;
        last = devs->out();
        Json doc = parse(last);
        const cJSON* counts = cJSON_GetObjectItemCaseSensitive(doc.get(), "counts");
        const cJSON* online = cJSON_GetObjectItemCaseSensitive(counts, "online");
        if (!cJSON_IsNumber(online) || online->valueint != kDevices) return false;
        for (const cJSON* d = cJSON_GetObjectItemCaseSensitive(doc.get(), "devices")->child; d; d = d->next) {
          if (!cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(d, "telemetry"))) return false;
          // The description too (with its boot id): on a loaded ejabberd the
          // item can still be on its way when presence and telemetry are in.
          const cJSON* description = cJSON_GetObjectItemCaseSensitive(d, "description");
          if (!cJSON_IsString(cJSON_GetObjectItemCaseSensitive(description, "boot_id"))) return false;
        }
        return true;
      },
      in(20s), 200ms))
      << last << sim->describe();

  // Live telemetry: every device's own temperature (distinct seeds, distinct values).
  // Two items from each device, of every channel of the sim board.
  const std::string readings = std::to_string(2 * kDevices * xiot::test::sim_board_channels());
  auto watch = xiotctl({"watch", "--json", "--count", readings, "--timeout", "15"});
  ASSERT_EQ(watch->wait_exit(in(25s)), 0) << watch->describe();
  std::map<std::string, std::set<std::string>> temps;  // device -> values seen
  for (const std::string& line : lines_of(watch->out())) {
    Json r = parse(line);
    ASSERT_TRUE(r) << line;
    if (str(r.get(), "name") != "env0.temperature") continue;
    const cJSON* v = cJSON_GetObjectItemCaseSensitive(r.get(), "value");
    ASSERT_TRUE(cJSON_IsNumber(v)) << line;
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.2f", v->valuedouble);
    temps[str(r.get(), "device")].insert(buf);
  }
  ASSERT_EQ(temps.size(), static_cast<size_t>(kDevices)) << watch->out();
  // Seeds 1..5: 18.1, 18.2, ... 18.5 °C, each within its drift (±0.03) and the
  // sensor's resolution (0.01).
  std::set<std::string> firsts;
  int seed = 1;
  for (const auto& [device, values] : temps) {
    EXPECT_EQ(device, "dev000" + std::to_string(seed) + "@localhost");
    for (const std::string& t : values) {
      EXPECT_NEAR(std::stod(t), 18.0 + 0.1 * seed, 0.045) << device;
    }
    firsts.insert(*values.begin());
    ++seed;
  }
  EXPECT_EQ(firsts.size(), static_cast<size_t>(kDevices)) << "values differ from device to device";

  // An ad-hoc command answered by simulated devices (two of them: the
  // devices share one command scratch per context).
  for (const char* dev : {"dev0003", "dev0005"}) {
    auto cmd = xiotctl({"run", dev, "read", "--json", "--timeout", "10"});
    ASSERT_EQ(cmd->wait_exit(in(20s)), 0) << cmd->describe();
    Json doc = parse(cmd->out());
    ASSERT_TRUE(doc) << cmd->out();
    EXPECT_EQ(str(doc.get(), "status"), "completed");
    EXPECT_EQ(str(doc.get(), "jid"), std::string(dev) + "@localhost/xiot");
    const cJSON* values = cJSON_GetObjectItemCaseSensitive(doc.get(), "values");
    const double want = 18.0 + 0.1 * (dev[6] - '0');
    EXPECT_NEAR(std::stod(str(values, "env0.temperature")), want, 0.045) << cmd->out();
    // The button is pressed on odd seeds.
    const cJSON* button = cJSON_GetObjectItemCaseSensitive(values, "button0.state");
    EXPECT_TRUE(cJSON_IsTrue(button)) << cmd->out();
  }
  // The owner reboots one simulated device: it goes offline with the reason
  // and comes back with a new boot id; the others are untouched.
  auto boot_id_of = [&](const std::string& devices_json, const std::string& jid) {
    Json doc = parse(devices_json);
    for (const cJSON* d = cJSON_GetObjectItemCaseSensitive(doc.get(), "devices")->child; d; d = d->next) {
      if (str(d, "jid") == jid) return str(cJSON_GetObjectItemCaseSensitive(d, "description"), "boot_id");
    }
    return std::string();
  };
  const std::string boot_before = boot_id_of(last, "dev0002@localhost");
  ASSERT_FALSE(boot_before.empty()) << last;
  const std::string owner = xiot::test::write_ops_config(server_, server_.dir() + "/admin.json", "admin");
  auto reboot = run({xiot::test::binary_path("xiotctl"), "--config", owner, "run", "dev0002", "reboot",
                     "confirm=true", "--timeout", "10"});
  ASSERT_EQ(reboot->wait_exit(in(20s)), 0) << reboot->describe();
  ASSERT_TRUE(sim->wait_for_output("[dev0002@localhost] fleet: rebooting (reboot requested by admin@localhost",
                                   in(10s), Process::Stream::Err))
      << sim->err();
  ASSERT_TRUE(xiot::test::wait_until(
      [&] {
        auto devs = xiotctl({"devices", "--json", "--timeout", "10"});
        if (devs->wait_exit(in(20s)) != 0) return false;
        last = devs->out();
        Json doc = parse(last);
        const cJSON* online = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(doc.get(), "counts"),
                                                                 "online");
        const std::string now = boot_id_of(last, "dev0002@localhost");
        return cJSON_IsNumber(online) && online->valueint == kDevices && !now.empty() && now != boot_before;
      },
      in(20s), 200ms))
      << last << sim->err();

  // The simulator's lines name the device (log tag).
  EXPECT_TRUE(sim->wait_for_output("[dev0003@localhost] cmd: 'read' for ops@localhost", in(5s), Process::Stream::Err))
      << sim->err();

  // A clean stop: every device goes offline, the summary says what happened.
  sim->kill(SIGTERM);
  ASSERT_EQ(sim->wait_exit(in(15s)), 0) << sim->describe();
  const std::vector<std::string> out = lines_of(sim->out());
  ASSERT_FALSE(out.empty());
  Json summary = parse(out.back());
  ASSERT_TRUE(summary) << out.back();
  EXPECT_EQ(cJSON_GetObjectItemCaseSensitive(summary.get(), "devices")->valueint, kDevices);
  EXPECT_EQ(cJSON_GetObjectItemCaseSensitive(summary.get(), "online_at_stop")->valueint, kDevices);
  EXPECT_EQ(cJSON_GetObjectItemCaseSensitive(summary.get(), "fatal")->valueint, 0);
  EXPECT_EQ(str(summary.get(), "stopped_by"), "SIGTERM");
  EXPECT_GT(cJSON_GetObjectItemCaseSensitive(summary.get(), "items_acked")->valuedouble, 0);
  EXPECT_GE(cJSON_GetObjectItemCaseSensitive(summary.get(), "commands")->valueint, 3);
  EXPECT_EQ(cJSON_GetObjectItemCaseSensitive(summary.get(), "reboots")->valueint, 1);
  EXPECT_GT(cJSON_GetObjectItemCaseSensitive(summary.get(), "rss_per_device_kib")->valuedouble, 0);

  ASSERT_TRUE(xiot::test::wait_until(
      [&] {
        auto devs = xiotctl({"devices", "--json", "--timeout", "10"});
        if (devs->wait_exit(in(20s)) != 0) return false;
        last = devs->out();
        Json doc = parse(last);
        const cJSON* counts = cJSON_GetObjectItemCaseSensitive(doc.get(), "counts");
        const cJSON* offline = cJSON_GetObjectItemCaseSensitive(counts, "offline");
        return cJSON_IsNumber(offline) && offline->valueint == kDevices;
      },
      in(15s), 200ms))
      << last;
}

// Beyond one process's 1000 devices (select()), tools/fleet-bench shares one
// fleet file between simulators with --first/--count: each runs its own slice
// and together they bring every device online, none twice.
TEST_F(FleetIntegration, TwoSimulatorsShareOneFleetFileAndEveryDeviceComesOnlineOnce) {
  const std::string fleet = provision({}, 6);
  auto too_many = run({xiot::test::binary_path("xiot-fleet-sim"), "--fleet", fleet, "--first", "4", "--count", "4"});
  EXPECT_EQ(too_many->wait_exit(in(10s)), 2) << too_many->describe();
  EXPECT_NE(too_many->err().find("has only 6 devices"), std::string::npos) << too_many->err();

  auto a = run({xiot::test::binary_path("xiot-fleet-sim"), "--fleet", fleet, "--first", "1", "--count", "3",
                "--ramp", "0.5", "--stats", "0.5"});
  auto b = run({xiot::test::binary_path("xiot-fleet-sim"), "--fleet", fleet, "--first", "4", "--count", "3",
                "--ramp", "0.5", "--stats", "0.5"});
  ASSERT_TRUE(a->wait_for_output("all 3 devices online", in(30s), Process::Stream::Out)) << a->describe();
  ASSERT_TRUE(b->wait_for_output("all 3 devices online", in(30s), Process::Stream::Out)) << b->describe();

  // The operator sees all six online at once: no slice overlapped another
  // (a second login of the same account would replace the first's resource
  // and the simulators would report reconnects).
  std::string last;
  ASSERT_TRUE(xiot::test::wait_until(
      [&] {
        auto devs = xiotctl({"devices", "--json", "--timeout", "10"});
        if (devs->wait_exit(in(20s)) != 0) return false;
        last = devs->out();
        Json doc = parse(last);
        const cJSON* counts = cJSON_GetObjectItemCaseSensitive(doc.get(), "counts");
        const cJSON* online = cJSON_GetObjectItemCaseSensitive(counts, "online");
        return cJSON_IsNumber(online) && online->valueint == 6;
      },
      in(20s), 200ms))
      << last;
  for (auto* sim : {a.get(), b.get()}) {
    sim->kill(SIGTERM);
    ASSERT_EQ(sim->wait_exit(in(15s)), 0) << sim->describe();
    const std::vector<std::string> out = lines_of(sim->out());
    ASSERT_FALSE(out.empty());
    Json summary = parse(out.back());
    ASSERT_TRUE(summary) << sim->out();
    EXPECT_EQ(cJSON_GetObjectItemCaseSensitive(summary.get(), "started")->valueint, 3) << out.back();
    EXPECT_EQ(cJSON_GetObjectItemCaseSensitive(summary.get(), "reconnects")->valueint, 0) << out.back();
  }
}

TEST_F(FleetIntegration, ProvisioningAgainReKeysTheDevicesAndTheOldPasswordsStopWorking) {
  const std::string fleet = provision();
  const std::string old_text = xiot::test::read_file(fleet);
  const std::string old_copy = server_.dir() + "/fleet-old.json";
  {
    FILE* f = std::fopen(old_copy.c_str(), "w");
    ASSERT_NE(f, nullptr);
    std::fputs(old_text.c_str(), f);
    std::fclose(f);
  }
  provision();
  // The old file's passwords are refused: every device fatal, exit 3.
  auto stale = run({xiot::test::binary_path("xiot-fleet-sim"), "--fleet", old_copy, "--ramp", "0", "--stats", "0"});
  EXPECT_EQ(stale->wait_exit(in(30s)), 3) << stale->describe();
  EXPECT_NE(stale->err().find("every device was refused"), std::string::npos) << stale->err();
  // The new one works.
  auto sim = run({xiot::test::binary_path("xiot-fleet-sim"), "--fleet", fleet, "--ramp", "0", "--stats", "0"});
  EXPECT_TRUE(sim->wait_for_output("all 5 devices online", in(30s), Process::Stream::Out)) << sim->describe();
}

}  // namespace

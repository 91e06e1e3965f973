// `xiotctl firmware push` updating a RAUC-backed xiot-agent end to end
// (docs/updates-installers.md): the real `rauc service` on a private D-Bus
// (tests/agent/rauc_fixture.sh: file-backed slots, the custom bootloader
// backend) that the agent reaches as its system bus, the agent with
// update.installer "rauc" and "reboot": "logind" (tests/agent/fake_logind.py
// accepts), Prosody from the harness. A reboot is what the test does once the
// agent exited for it: `rauc service` restarted on the slot the bootloader
// state makes primary, then the agent started again.
// Needs root (RAUC loop-mounts bundles), rauc and squashfs-tools; skips otherwise.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <thread>

#include "harness.hpp"

using namespace std::chrono_literals;
using xiot::test::DevServer;
using xiot::test::in;
using xiot::test::Process;
using xiot::test::TempDir;

namespace {

constexpr const char* kAgentOnline = "INFO xmpp: online";

std::string slurp(const std::string& path) {
  std::ifstream f(path);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

class RaucUpdate : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "RAUC loop-mounts bundles: needs root";
    if (access("/usr/bin/rauc", X_OK) != 0 || access("/usr/bin/mksquashfs", X_OK) != 0) {
      GTEST_SKIP() << "needs rauc and squashfs-tools (tools/deps)";
    }
    Process fixture({xiot::test::source_path("tests/agent/rauc_fixture.sh"), rauc_.path()});
    ASSERT_EQ(fixture.wait_exit(in(60s)), 0) << fixture.describe();
    address_ = "unix:path=" + (rauc_ / "bus");
    bus_ = std::make_unique<Process>(std::vector<std::string>{
        "dbus-daemon", "--session", "--nofork", "--nopidfile", "--address=" + address_, "--print-address=1"});
    ASSERT_TRUE(bus_->wait_for_output("unix:path=", in(10s), Process::Stream::Out)) << bus_->describe();
    Process::Options lo;
    lo.argv = {"/usr/bin/python3", xiot::test::source_path("tests/agent/fake_logind.py"), "accept"};
    lo.env["DBUS_SESSION_BUS_ADDRESS"] = address_;
    lo.log_dir = logs();
    logind_ = std::make_unique<Process>(lo);
    ASSERT_TRUE(logind_->wait_for_output("ready", in(10s), Process::Stream::Out)) << logind_->describe();
    boot();
    run({"firmware", "keygen", dir() + "/keys"});
  }
  void TearDown() override {
    agent_.reset();
    if (service_) {
      service_->kill(SIGTERM);
      (void)service_->wait_exit(in(10s));
    }
  }

  std::string dir() const { return server_.dir(); }
  std::string logs() const { return dir() + "/logs"; }

  /// The bootloader's choice: the primary slot if it is good, else the other.
  std::string bootname() const {
    const std::string s = slurp(rauc_ / "boot-state");
    const bool a = s.find("PRIMARY=A") != std::string::npos;
    const std::string primary = a ? "A" : "B";
    if (s.find("STATE_" + primary + "=good") != std::string::npos) return primary;
    return a ? "B" : "A";
  }

  /// (Re)starts `rauc service` on the slot the bootloader picks, once it answers.
  void boot() {
    if (service_) {
      service_->kill(SIGTERM);
      ASSERT_TRUE(service_->wait_exit(in(10s)).has_value()) << service_->describe();
    }
    booted_ = bootname();
    Process::Options o;
    o.argv = {"rauc", "service", "--conf=" + (rauc_ / "system.conf"), "--mount=" + (rauc_ / "mnt"),
              "--override-boot-slot=" + booted_};
    o.env["DBUS_STARTER_BUS_TYPE"] = "session";
    o.env["DBUS_SESSION_BUS_ADDRESS"] = address_;
    o.log_dir = logs();
    service_ = std::make_unique<Process>(o);
    const auto deadline = in(15s);
    for (;;) {
      Process probe(Process::Options{{"busctl", "--address=" + address_, "get-property", "de.pengutronix.rauc", "/",
                                      "de.pengutronix.rauc.Installer", "BootSlot"},
                                     {}, "", logs(), false});
      if (probe.wait_exit(in(5s)) == 0) break;
      ASSERT_LT(xiot::test::Clock::now(), deadline) << service_->describe();
      std::this_thread::sleep_for(50ms);
    }
  }

  void run(std::vector<std::string> args) {
    std::vector<std::string> argv = {xiot::test::binary_path("xiotctl")};
    argv.insert(argv.end(), args.begin(), args.end());
    Process p(Process::Options{argv, {}, "", logs(), false});
    ASSERT_EQ(p.wait_exit(in(30s)), 0) << p.describe();
  }

  /// xiot-agent with the RAUC installer; `port` 0 = the server's.
  void start_agent(double health_window_s, int port = 0) {
    xiot::test::AgentConfig cfg;
    cfg.log_level = "info";
    cfg.override_json = R"({"reboot": "logind", "update": {"public_keys": [")" + dir() +
                        R"(/keys/update-key.pub.pem"], "installer": "rauc", "health_window_s": )" +
                        std::to_string(health_window_s) + "}" +
                        (port != 0 ? R"(, "xmpp": {"port": )" + std::to_string(port) + "}" : std::string()) + "}";
    const std::string path = xiot::test::write_agent_config(server_, dir() + "/dev1/agent.json", cfg);
    Process::Options o;
    o.argv = {xiot::test::binary_path("xiot-agent"), "--config", path};
    o.env["DBUS_SYSTEM_BUS_ADDRESS"] = address_;
    o.log_dir = logs();
    agent_ = std::make_unique<Process>(o);
    if (port == 0) {
      ASSERT_TRUE(agent_->wait_for_output(kAgentOnline, in(20s))) << agent_->describe();
    }
  }

  /// Waits for the agent to exit for its reboot (logind accepted), then "reboots".
  void reboot() {
    ASSERT_TRUE(agent_->wait_for_output("reboot via logind under way", in(40s))) << agent_->describe();
    ASSERT_EQ(agent_->wait_exit(in(10s)), 0) << agent_->describe();
    boot();
  }

  /// The owner follows the device (roster subscription), as the IBB test does.
  void subscribe() {
    const std::string ops = xiot::test::write_ops_config(server_, dir() + "/admin.json", "admin");
    Process p(Process::Options{{xiot::test::binary_path("xiotctl"), "--config", ops, "watch", "dev1", "--count", "1",
                                "--timeout", "30"},
                               {}, "", logs(), false});
    ASSERT_EQ(p.wait_exit(in(40s)), 0) << p.describe();
  }

  std::unique_ptr<Process> push() {
    subscribe();
    const std::string bundle = rauc_ / "good.raucb";
    run({"firmware", "sign", "--key", dir() + "/keys/update-key.pem", "--version", "2.0.0", "--compatible",
         "xiot,sim", "--notes", "rauc", bundle, "--out", dir() + "/m"});
    const std::string ops = xiot::test::write_ops_config(server_, dir() + "/admin.json", "admin");
    return std::make_unique<Process>(Process::Options{{xiot::test::binary_path("xiotctl"), "--config", ops,
                                                       "firmware", "push", "dev1", "--manifest", dir() + "/m",
                                                       "--image", bundle, "--timeout", "55"},
                                                      {}, "", logs(), false});
  }

  DevServer server_;
  TempDir rauc_{"xiot-rauc-update"};
  std::string address_, booted_;
  std::unique_ptr<Process> bus_, logind_, service_, agent_;
};

TEST_F(RaucUpdate, PushInstallsTheBundleRebootsIntoTheOtherSlotAndCommits) {
  const auto t0 = xiot::test::Clock::now();
  start_agent(20);
  EXPECT_TRUE(agent_->wait_for_output("installer rauc", in(1s))) << agent_->describe();
  auto p = push();
  reboot();
  EXPECT_EQ(booted_, "B");
  start_agent(20);
  ASSERT_EQ(p->wait_exit(in(50s)), 0) << p->describe() << "\nagent:\n" << agent_->describe();
  EXPECT_TRUE(agent_->wait_for_output("update state booted-unconfirmed", in(1s))) << agent_->describe();
  EXPECT_NE(p->out().find("update committed 2.0.0"), std::string::npos) << p->out();
  EXPECT_NE(logind_->out().find("Reboot interactive=False"), std::string::npos) << logind_->out();
  // Slot B holds the bundle's image, is primary and good.
  EXPECT_NE(slurp(rauc_ / "boot-state").find("PRIMARY=B"), std::string::npos);
  EXPECT_NE(slurp(rauc_ / "boot-state").find("STATE_B=good"), std::string::npos);
  EXPECT_EQ(slurp(rauc_ / "slots/rootfs-1.img").substr(0, 524288), slurp(rauc_ / "content/rootfs.img"));
  std::printf("[figures] RAUC push (%zu-byte bundle) -> committed, reboot included: %.2f s\n",
              slurp(rauc_ / "good.raucb").size(),
              std::chrono::duration<double>(xiot::test::Clock::now() - t0).count());
}

TEST_F(RaucUpdate, FailedHealthGateMarksTheSlotBadAndBootsTheOldOne) {
  start_agent(5);
  auto p = push();
  reboot();
  EXPECT_EQ(booted_, "B");
  // The new version never gets its XMPP session: the gate fails after 5 s.
  start_agent(5, 1);
  ASSERT_TRUE(agent_->wait_for_output("health gate: no XMPP session within 5 s", in(20s))) << agent_->describe();
  reboot();
  EXPECT_EQ(booted_, "A");
  EXPECT_NE(slurp(rauc_ / "boot-state").find("STATE_B=bad"), std::string::npos) << slurp(rauc_ / "boot-state");
  start_agent(5);
  ASSERT_EQ(p->wait_exit(in(30s)), 1) << p->describe() << "\nagent:\n" << agent_->describe();
  EXPECT_NE(p->err().find("update rolled-back: health gate: no XMPP session within 5 s"), std::string::npos)
      << p->err();
}

}  // namespace

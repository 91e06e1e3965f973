// "reboot": "logind" against a real D-Bus: a private dbus-daemon stands in for
// the system bus ($DBUS_SYSTEM_BUS_ADDRESS points at it) and fake_logind.py
// owns org.freedesktop.login1 on it. hal::linux_::LogindRestart calls
// Manager.Reboot(false) and reports logind's refusal (AccessDenied, no logind
// on the bus) with the D-Bus error; the agent, told to reboot by its owner,
// goes offline, asks logind and exits 0 (a real logind would now take the
// machine down).
#include <gtest/gtest.h>
#include <stdlib.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "hal/linux/logind_restart.hpp"
#include "harness.hpp"

namespace {

using namespace std::chrono_literals;
using xiot::test::DevServer;
using xiot::test::in;
using xiot::test::Process;
using xiot::test::TempDir;

/// A private bus (dbus-daemon with the session policy: anyone may own any
/// name) on a socket in a temp dir; $DBUS_SYSTEM_BUS_ADDRESS of this process
/// points at it while the object lives.
class PrivateBus {
 public:
  PrivateBus() : address_("unix:path=" + (dir_ / "bus")) {
    daemon_ = std::make_unique<Process>(std::vector<std::string>{
        "dbus-daemon", "--session", "--nofork", "--nopidfile", "--address=" + address_, "--print-address=1"});
    ready_ = daemon_->wait_for_output("unix:path=", in(10s), Process::Stream::Out);
    const char* saved = std::getenv("DBUS_SYSTEM_BUS_ADDRESS");
    had_ = saved != nullptr;
    if (had_) saved_ = saved;
    setenv("DBUS_SYSTEM_BUS_ADDRESS", address_.c_str(), 1);
  }
  ~PrivateBus() {
    if (had_) {
      setenv("DBUS_SYSTEM_BUS_ADDRESS", saved_.c_str(), 1);
    } else {
      unsetenv("DBUS_SYSTEM_BUS_ADDRESS");
    }
  }
  bool ready() const { return ready_; }
  const std::string& address() const { return address_; }
  std::string describe() const { return daemon_->describe(); }

  /// fake_logind.py `mode` on this bus, once it owns its name (nullptr if it never did).
  std::unique_ptr<Process> logind(const std::string& mode) const {
    Process::Options o;
    o.argv = {"/usr/bin/python3", xiot::test::source_path("tests/agent/fake_logind.py"), mode};
    o.env["DBUS_SESSION_BUS_ADDRESS"] = address_;
    auto p = std::make_unique<Process>(o);
    EXPECT_TRUE(p->wait_for_output("ready", in(15s), Process::Stream::Out)) << p->describe();
    return p;
  }

 private:
  TempDir dir_{"xiot-dbus"};
  std::string address_;
  std::unique_ptr<Process> daemon_;
  bool ready_ = false;
  bool had_ = false;
  std::string saved_;
};

TEST(LogindRestart, CallsRebootNonInteractiveAndReturnsOk) {
  PrivateBus bus;
  ASSERT_TRUE(bus.ready()) << bus.describe();
  const auto logind = bus.logind("accept");
  hal::linux_::LogindRestart restart;
  EXPECT_EQ(restart.restart(), hal::Err::Ok) << restart.error_text();
  EXPECT_STREQ(restart.error_text(), "");
  EXPECT_TRUE(logind->wait_for_output("Reboot interactive=False", in(10s))) << logind->describe();
  EXPECT_EQ(logind->count_output("Reboot interactive="), 1u);
}

TEST(LogindRestart, RefusalIsIoWithTheDbusErrorNameAndMessage) {
  PrivateBus bus;
  ASSERT_TRUE(bus.ready()) << bus.describe();
  const auto logind = bus.logind("deny");
  hal::linux_::LogindRestart restart;
  EXPECT_EQ(restart.restart(), hal::Err::Io);
  EXPECT_STREQ(restart.error_text(),
               "logind Reboot: org.freedesktop.DBus.Error.AccessDenied: Interactive authentication required (fake "
               "polkit said no)");
}

TEST(LogindRestart, NoLogindOnTheBusIsIo) {
  PrivateBus bus;
  ASSERT_TRUE(bus.ready()) << bus.describe();
  hal::linux_::LogindRestart restart;
  EXPECT_EQ(restart.restart(), hal::Err::Io);
  EXPECT_EQ(std::string(restart.error_text()).rfind("logind Reboot: org.freedesktop.DBus.Error.ServiceUnknown: ", 0),
            0u)
      << restart.error_text();
}

TEST(AgentLogindReboot, OwnerRebootGoesOfflineAsksLogindAndExitsZero) {
  DevServer server;
  PrivateBus bus;
  ASSERT_TRUE(bus.ready()) << bus.describe();
  const auto logind = bus.logind("accept");
  xiot::test::AgentConfig cfg;
  cfg.override_json = R"({"reboot": "logind"})";
  Process::Options o;
  o.argv = {xiot::test::binary_path("xiot-agent"), "--config",
            xiot::test::write_agent_config(server, server.dir() + "/agent.json", cfg)};
  o.env["DBUS_SYSTEM_BUS_ADDRESS"] = bus.address();
  Process agent(o);
  ASSERT_TRUE(agent.wait_for_output("INFO xmpp: online", in(30s))) << agent.describe() << server.log_tail();

  const std::string steps = server.dir() + "/steps.json";
  std::FILE* f = std::fopen(steps.c_str(), "w");
  ASSERT_NE(f, nullptr);
  std::fputs(R"([{"op":"command","node":"reboot"},)"
             R"({"op":"command","node":"reboot","action":"complete","sessionid":"$last",)"
             R"("form":{"confirm":"true","reason":"logind test"}}])",
             f);
  std::fclose(f);
  Process commander({"/usr/bin/python3", xiot::test::source_path("tests/integration/probe/xmpp_commander.py"),
                     "--jid", server.jid("admin"), "--password", server.password("admin"), "--host", server.host(),
                     "--port", std::to_string(server.port()), "--ca-file", server.ca_file(), "--device",
                     server.jid("dev1") + "/xiot", "--steps", steps});
  EXPECT_EQ(commander.wait_exit(in(60s)), 0) << commander.describe();

  EXPECT_EQ(agent.wait_exit(in(30s)), 0) << agent.describe();
  EXPECT_TRUE(logind->wait_for_output("Reboot interactive=False", in(10s))) << logind->describe();
  const std::string err = agent.err();
  // Offline first (the stream closed, the journal synced), logind asked after.
  const size_t offline = err.find("libstrophe blocks outstanding at exit: 0");
  const size_t asked = err.find("INFO agent: reboot via logind under way; exiting");
  ASSERT_NE(offline, std::string::npos) << agent.describe();
  ASSERT_NE(asked, std::string::npos) << agent.describe();
  EXPECT_LT(offline, asked);
}

}  // namespace

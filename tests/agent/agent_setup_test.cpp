// `xiot-agent setup` end to end against the harness' real server: setup writes
// a config (flags, or a provisioning file with the password on stdin) into a
// temp config dir, and the agent started with exactly that config logs in and
// goes online. A `reboot` with "reboot": "logind" but no system bus: the agent
// logs the reason as an ERROR and comes back online by itself.
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

#include "harness.hpp"

namespace {

using namespace std::chrono_literals;
using xiot::test::DevServer;
using xiot::test::in;
using xiot::test::Process;
using xiot::test::TempDir;

constexpr const char* kOnline = "INFO xmpp: online";

std::vector<std::string> setup_argv(const TempDir& tmp, std::vector<std::string> more) {
  std::vector<std::string> argv = {xiot::test::binary_path("xiot-agent"), "setup",
                                   "--config-dir", tmp / "etc",
                                   "--state-dir", tmp / "state",
                                   "--boards-dir", xiot::test::source_path("boards")};
  argv.insert(argv.end(), more.begin(), more.end());
  return argv;
}

void write(const std::string& path, const std::string& text) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  ASSERT_NE(f, nullptr) << path;
  std::fwrite(text.data(), 1, text.size(), f);
  std::fclose(f);
}

TEST(AgentSetup, FlagsWriteAConfigTheAgentGoesOnlineWith) {
  DevServer server;
  TempDir tmp("xiot-setup");
  write(tmp / "pw", server.password("dev1") + "\n");
  Process setup(setup_argv(tmp, {"--jid", server.jid("dev1"), "--server",
                                 server.host() + ":" + std::to_string(server.port()), "--ca", server.ca_file(),
                                 "--board", "sim", "--owner", server.jid("admin"), "--viewer",
                                 "*@" + server.domain(), "--password-file", tmp / "pw"}));
  ASSERT_EQ(setup.wait_exit(in(20s)), 0) << setup.describe();
  EXPECT_NE(setup.out().find("next: systemctl restart xiot-agent"), std::string::npos) << setup.describe();
  EXPECT_EQ(setup.out().find(server.password("dev1")), std::string::npos);

  Process check({xiot::test::binary_path("xiot-agent"), "--config", tmp / "etc/agent.json", "--check-config"});
  EXPECT_EQ(check.wait_exit(in(20s)), 0) << check.describe();

  Process agent({xiot::test::binary_path("xiot-agent"), "--config", tmp / "etc/agent.json"});
  ASSERT_TRUE(agent.wait_for_output(kOnline, in(30s))) << agent.describe() << server.log_tail();
  EXPECT_NE(xiot::test::read_file(tmp / "etc/agent.json").find("\"reboot\":\t\"logind\""), std::string::npos);
}

TEST(AgentSetup, ProvisioningFileAndPasswordOnStdin) {
  DevServer server;
  TempDir tmp("xiot-setup");
  write(tmp / "dev1.json", "// provisioning file for dev1\n{\n  \"jid\": \"" + server.jid("dev1") +
                               "\",\n  \"server\": \"" + server.host() + ":" + std::to_string(server.port()) +
                               "\",\n  \"ca\": \"" + server.ca_file() +
                               "\",\n  \"board\": \"sim\",\n  \"owners\": [\"" + server.jid("admin") +
                               "\"],\n  \"telemetry\": {\"interval_s\": 0.5}\n}\n");
  Process::Options o;
  o.argv = setup_argv(tmp, {"--from", tmp / "dev1.json", "--password-stdin"});
  o.stdin_pipe = true;
  Process setup(o);
  setup.write_stdin(server.password("dev1") + "\n");
  setup.close_stdin();
  ASSERT_EQ(setup.wait_exit(in(20s)), 0) << setup.describe();

  // A second run without --force keeps the config (exit 2, one line).
  Process again(setup_argv(tmp, {"--from", tmp / "dev1.json", "--password-stdin"}));
  EXPECT_EQ(again.wait_exit(in(20s)), 2) << again.describe();
  EXPECT_NE(again.err().find("exists; not overwritten (give --force"), std::string::npos) << again.describe();

  Process agent({xiot::test::binary_path("xiot-agent"), "--config", tmp / "etc/agent.json"});
  ASSERT_TRUE(agent.wait_for_output(kOnline, in(30s))) << agent.describe() << server.log_tail();
  ASSERT_TRUE(agent.wait_for_output("every 500 ms", in(5s))) << agent.describe();
}

TEST(AgentSetup, LogindRebootWithoutABusIsLoggedAndTheAgentStaysOnline) {
  DevServer server;
  TempDir tmp("xiot-setup");
  write(tmp / "pw", server.password("dev1") + "\n");
  Process setup(setup_argv(tmp, {"--jid", server.jid("dev1"), "--server",
                                 server.host() + ":" + std::to_string(server.port()), "--ca", server.ca_file(),
                                 "--board", "sim", "--owner", server.jid("admin"), "--password-file", tmp / "pw"}));
  ASSERT_EQ(setup.wait_exit(in(20s)), 0) << setup.describe();

  Process::Options o;
  o.argv = {xiot::test::binary_path("xiot-agent"), "--config", tmp / "etc/agent.json"};
  o.env["DBUS_SYSTEM_BUS_ADDRESS"] = "unix:path=" + (tmp / "no-system-bus");
  Process agent(o);
  ASSERT_TRUE(agent.wait_for_output(kOnline, in(30s))) << agent.describe() << server.log_tail();

  // The owner reboots it (the standard ad-hoc client of the integration tests).
  write(tmp / "steps.json",
        R"([{"op":"command","node":"reboot"},)"
        R"({"op":"command","node":"reboot","action":"complete","sessionid":"$last",)"
        R"("form":{"confirm":"true","reason":"setup test"}}])");
  Process commander({"/usr/bin/python3", xiot::test::source_path("tests/integration/probe/xmpp_commander.py"),
                     "--jid", server.jid("admin"), "--password", server.password("admin"), "--host", server.host(),
                     "--port", std::to_string(server.port()), "--ca-file", server.ca_file(), "--device",
                     server.jid("dev1") + "/xiot", "--steps", tmp / "steps.json"});
  EXPECT_EQ(commander.wait_exit(in(60s)), 0) << commander.describe();
  EXPECT_NE(commander.out().find("\"completed\""), std::string::npos) << commander.describe();
  ASSERT_TRUE(agent.wait_for_output("ERROR agent: reboot via logind failed: cannot connect to the system D-Bus",
                                    in(30s)))
      << agent.describe();
  // Back online by itself, in the same process.
  ASSERT_TRUE(xiot::test::wait_until([&] { return agent.count_output(kOnline, Process::Stream::Either) >= 2; },
                                     in(30s)))
      << agent.describe();
  EXPECT_TRUE(agent.running());
}

}  // namespace

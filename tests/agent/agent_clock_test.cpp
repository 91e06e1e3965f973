// Clock sanity end to end (docs/time.md): xiot-agent started with its wall
// clock in 1970 (libfaketime, LD_PRELOAD, the fake time read from a file on
// every call; the monotonic clock left real) logs why it does not connect and
// stays offline; once the file says "now" the agent connects within a loop
// turn, and its presence status says it waited. Skipped without libfaketime.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "harness.hpp"

namespace {

using namespace std::chrono_literals;
using xiot::test::DevServer;
using xiot::test::in;
using xiot::test::Process;

constexpr const char* kFaketime = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1";

void set_fake_time(const std::string& path, const std::string& spec) {
  std::ofstream f(path + ".tmp");
  f << spec << "\n";
  f.close();
  ASSERT_EQ(std::rename((path + ".tmp").c_str(), path.c_str()), 0);
}

TEST(AgentClock, BootedIn1970ItWaitsForTheClockThenConnectsAndSaysSo) {
  if (access(kFaketime, R_OK) != 0) GTEST_SKIP() << "needs libfaketime (tools/deps)";
  DevServer server;
  const std::string faketime = server.dir() + "/faketime";
  set_fake_time(faketime, "@1970-01-01 00:00:05");
  Process::Options o;
  o.argv = {xiot::test::binary_path("xiot-agent"), "--config",
            xiot::test::write_agent_config(server, server.dir() + "/agent.json")};
  o.env["LD_PRELOAD"] = kFaketime;
  o.env["FAKETIME_TIMESTAMP_FILE"] = faketime;
  o.env["FAKETIME_NO_CACHE"] = "1";
  o.env["FAKETIME_DONT_FAKE_MONOTONIC"] = "1";
  // In the sanitized build libfaketime comes before the ASan runtime in the
  // library list, which ASan refuses by default; it works with the check off
  // (ignored by a plain agent).
  const char* asan = std::getenv("ASAN_OPTIONS");
  o.env["ASAN_OPTIONS"] = std::string(asan != nullptr ? asan : "") + (asan != nullptr && *asan ? ":" : "") +
                          "verify_asan_link_order=0";
  Process agent(o);
  ASSERT_TRUE(agent.wait_for_output("WARN clock: wall clock 1970-01-01T00:00:0", in(20s))) << agent.describe();
  EXPECT_TRUE(agent.wait_for_output("is before this build (", in(1s))) << agent.describe();
  EXPECT_NE(agent.err().find("waiting for time synchronisation before connecting; certificates cannot be checked"),
            std::string::npos)
      << agent.describe();
  // Offline while it waits: a few loop turns and no connection.
  EXPECT_FALSE(agent.wait_for_output("INFO xmpp: online", in(3s))) << agent.describe();
  EXPECT_EQ(agent.err().find("xmpp: connecting"), std::string::npos) << agent.describe();

  set_fake_time(faketime, "+0");  // NTP arrived: the real time
  ASSERT_TRUE(agent.wait_for_output("is after this build (waited", in(10s))) << agent.describe();
  ASSERT_TRUE(agent.wait_for_output("INFO xmpp: online", in(30s))) << agent.describe() << server.log_tail();

  Process probe({"/usr/bin/python3", xiot::test::source_path("tests/integration/probe/xmpp_probe.py"), "--jid",
                 server.jid("admin"), "--password", server.password("admin"), "--host", server.host(), "--port",
                 std::to_string(server.port()), "--ca-file", server.ca_file(), "--timeout", "30", "presence",
                 server.jid("dev1"), "--subscribe"});
  ASSERT_EQ(probe.wait_exit(in(40s)), 0) << probe.describe() << agent.describe();
  EXPECT_NE(probe.out().find("started after waiting "), std::string::npos) << probe.out();
  EXPECT_NE(probe.out().find(" s for the clock"), std::string::npos) << probe.out();
}

}  // namespace

// libstrophe's allocations go through the agent's counting allocator
// (agent::Context::outstanding_blocks()); the agent logs what is left at exit,
// after every session and the context are gone.
//
// Known upstream leak (libstrophe 0.12.2, Debian 12): while a connection holds
// resumable XEP-0198 state, a connection attempt that fails (server down)
// resets that state and overwrites the saved bound JID without freeing it:
// one block of strlen(full JID)+1 bytes per outage. Verified by tracing every
// live block's allocation site (all were xmpp_stanza_get_text() in
// _handle_bind), and by discarding the SM state before reconnecting, which
// removes the leak but also the session resumption issue 5 asks for. So: zero
// blocks for a run without outages, and at most one per outage with them.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <fstream>
#include <regex>
#include <string>

#include "harness.hpp"

namespace {

using namespace std::chrono_literals;
using xiot::test::AgentConfig;
using xiot::test::DevServer;
using xiot::test::in;
using xiot::test::Process;

constexpr const char* kOnline = "INFO xmpp: online";

/// Blocks the agent reported at exit (-1 if it did not say).
long long leaked_blocks(const Process& agent) {
  const std::string text = agent.out() + agent.err();
  if (text.find("libstrophe blocks outstanding at exit: 0") != std::string::npos) return 0;
  std::smatch m;
  if (std::regex_search(text, m, std::regex("libstrophe leaked ([0-9]+) blocks"))) return std::stoll(m[1]);
  return -1;
}

TEST(AgentLeaks, ARunWithCommandsEndsWithZeroLibstropheBlocksOutstanding) {
  DevServer server;
  AgentConfig c;
  c.interval_s = 0.1;
  const std::string cfg = write_agent_config(server, server.dir() + "/agent/agent.json", c);
  Process agent({xiot::test::binary_path("xiot-agent"), "--config", cfg});
  ASSERT_TRUE(agent.wait_for_output(kOnline, in(20s))) << agent.describe();
  // Some traffic through every stanza path: disco, a command, chat.
  const std::string steps = server.dir() + "/steps.json";
  std::ofstream(steps) << R"([{"op":"subscribe"},{"op":"caps"},{"op":"command","node":"read"},)"
                          R"({"op":"chat","body":"status"},{"op":"command","node":"set"}])";
  Process client({"/usr/bin/python3", xiot::test::source_path("tests/integration/probe/xmpp_commander.py"), "--jid",
                  server.jid("ops"), "--password", server.password("ops"), "--host", server.host(), "--port",
                  std::to_string(server.port()), "--ca-file", server.ca_file(), "--device",
                  server.jid("dev1") + "/xiot", "--steps", steps});
  ASSERT_EQ(client.wait_exit(in(60s)), std::optional<int>(0)) << client.describe();
  agent.kill(SIGTERM);
  ASSERT_EQ(agent.wait_exit(in(15s)), std::optional<int>(0)) << agent.describe();
  EXPECT_EQ(leaked_blocks(agent), 0) << agent.describe();
}

TEST(AgentLeaks, ManyReconnectsLeakAtMostTheKnownBlockPerOutage) {
  DevServer server;
  AgentConfig c;
  c.interval_s = 0.2;
  c.override_json = R"({"xmpp":{"reconnect_base_s":0.1,"reconnect_cap_s":0.5}})";
  const std::string cfg = write_agent_config(server, server.dir() + "/agent/agent.json", c);
  Process agent({xiot::test::binary_path("xiot-agent"), "--config", cfg});
  ASSERT_TRUE(agent.wait_for_output(kOnline, in(20s))) << agent.describe();
  constexpr long long kRestarts = 5;
  for (long long i = 1; i <= kRestarts; ++i) {
    server.restart();
    // Back online once more than before (each login logs "online" once).
    ASSERT_TRUE(xiot::test::wait_until(
        [&] { return agent.count_output(kOnline, Process::Stream::Either) > static_cast<size_t>(i); }, in(30s)))
        << "restart " << i << "\n" << agent.describe();
  }
  agent.kill(SIGTERM);
  ASSERT_EQ(agent.wait_exit(in(15s)), std::optional<int>(0)) << agent.describe();
  const long long leaked = leaked_blocks(agent);
  ASSERT_GE(leaked, 0) << agent.describe();
  EXPECT_LE(leaked, kRestarts) << agent.describe();
}

}  // namespace

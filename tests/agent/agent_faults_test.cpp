// Faults between the agent and its server (issue 5), against a real Prosody,
// with a subscriber (xiotctl watch --json) counting what arrives:
//  - the agent's TCP connection killed mid-stream (ss -K): it reconnects at
//    once, resumes, and no reading is lost or duplicated;
//  - the network cut for 30 s (the agent in a network namespace of the test's
//    own, the veth's host end taken down: packets vanish, nothing is reset):
//    the dead link is detected within two ping intervals, the agent comes
//    back when the network does, and no reading is lost or duplicated.
// "Lost" is checked by item ids: <boot-id>-<seq>, seq counting up from 1, so
// every seq between the first and the last one seen must have arrived.
#include <cjson/cJSON.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <map>
#include <regex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "harness.hpp"
#include "netns.hpp"

namespace {

using namespace std::chrono_literals;
using xiot::test::AgentConfig;
using xiot::test::DevServer;
using xiot::test::in;
using xiot::test::Process;

constexpr const char* kOnline = "INFO xmpp: online";

/// The seqs of the distinct item ids `watch` printed, per boot id.
std::map<std::string, std::set<long>> seqs_seen(const std::string& watch_out) {
  std::map<std::string, std::set<long>> out;
  const std::regex item("\"item\": *\"([0-9a-f]{8})-([0-9]+)\"");
  for (auto it = std::sregex_iterator(watch_out.begin(), watch_out.end(), item); it != std::sregex_iterator(); ++it) {
    out[(*it)[1]].insert(std::stol((*it)[2]));
  }
  return out;
}

size_t items_seen(const std::string& watch_out) {
  size_t n = 0;
  for (const auto& [boot, seqs] : seqs_seen(watch_out)) n += seqs.size();
  return n;
}

/// Every seq from the first to the last one seen arrived (per boot).
void expect_no_gaps(const std::string& watch_out) {
  const auto seen = seqs_seen(watch_out);
  ASSERT_FALSE(seen.empty()) << watch_out;
  for (const auto& [boot, seqs] : seen) {
    std::vector<long> missing;
    for (long s = *seqs.begin(); s <= *seqs.rbegin(); ++s) {
      if (!seqs.count(s)) missing.push_back(s);
    }
    std::string list;
    for (long m : missing) list += std::to_string(m) + " ";
    EXPECT_TRUE(missing.empty()) << "boot " << boot << ": " << missing.size() << " readings lost: " << list
                                 << "(saw " << *seqs.begin() << ".." << *seqs.rbegin() << ")";
  }
}

/// The local port of `pid`'s established TCP connection to `port`, or 0.
int local_port_of(pid_t pid, int port) {
  Process ss({"ss", "-tnpH", "state", "established", "dport", "=", ":" + std::to_string(port)});
  (void)ss.wait_exit(in(10s));
  const std::regex line(":([0-9]+) +[0-9.]+:" + std::to_string(port) + " .*pid=" + std::to_string(pid) + ",");
  std::smatch m;
  const std::string text = ss.out();
  return std::regex_search(text, m, line) ? std::stoi(m[1]) : 0;
}

Process watch_all(const DevServer& server) {
  const std::string ops = xiot::test::write_ops_config(server, server.dir() + "/ops.json");
  return Process({xiot::test::binary_path("xiotctl"), "--config", ops, "watch", server.jid("dev1"), "--json",
                  "--timeout", "600"});
}

TEST(AgentFaults, TcpConnectionKilledMidStreamLosesNothing) {
  DevServer server;
  AgentConfig c;
  c.interval_s = 0.2;
  c.override_json = R"({"xmpp":{"reconnect_base_s":0.2,"reconnect_cap_s":1}})";
  Process agent({xiot::test::binary_path("xiot-agent"), "--config",
                 write_agent_config(server, server.dir() + "/agent/agent.json", c)});
  ASSERT_TRUE(agent.wait_for_output(kOnline, in(20s))) << agent.describe();
  Process watch = watch_all(server);
  ASSERT_TRUE(xiot::test::wait_until([&] { return items_seen(watch.out()) >= 5; }, in(30s))) << watch.describe();

  for (int round = 1; round <= 3; ++round) {
    const int lport = local_port_of(agent.pid(), server.port());
    ASSERT_NE(lport, 0) << "no connection of the agent found";
    xiot::test::run_checked({"ss", "-K", "sport", "=", ":" + std::to_string(lport), "dport", "=",
                             ":" + std::to_string(server.port())});
    ASSERT_TRUE(xiot::test::wait_until(
        [&] { return agent.count_output(kOnline, Process::Stream::Either) > static_cast<size_t>(round); }, in(30s)))
        << "round " << round << "\n" << agent.describe();
    const size_t before = items_seen(watch.out());
    ASSERT_TRUE(xiot::test::wait_until([&] { return items_seen(watch.out()) >= before + 5; }, in(30s)))
        << watch.describe();
  }
  agent.kill(SIGTERM);
  ASSERT_EQ(agent.wait_exit(in(15s)), std::optional<int>(0)) << agent.describe();
  expect_no_gaps(watch.out());
}

TEST(AgentFaults, NetworkCutFor30sIsDetectedAndLosesNothing) {
  xiot::test::NetNs ns;
  DevServer::Options so;
  so.also_listen = ns.host_ip();
  DevServer server(so);
  AgentConfig c;
  c.interval_s = 1;
  c.ping_interval_s = 5;
  c.override_json = R"({"xmpp":{"host":")" + ns.host_ip() + R"(","reconnect_base_s":0.5,"reconnect_cap_s":2}})";
  Process agent(ns.wrap({xiot::test::binary_path("xiot-agent"), "--config",
                         write_agent_config(server, server.dir() + "/agent/agent.json", c)}));
  ASSERT_TRUE(agent.wait_for_output(kOnline, in(20s))) << agent.describe();
  Process watch = watch_all(server);
  ASSERT_TRUE(xiot::test::wait_until([&] { return items_seen(watch.out()) >= 3; }, in(30s))) << watch.describe();

  const auto cut_at = std::chrono::steady_clock::now();
  ns.cut();
  // Detected within two ping intervals (plus a second of slack for the loop).
  EXPECT_TRUE(agent.wait_for_output("ping timeout", cut_at + 2 * 5s + 1s)) << agent.describe();
  std::this_thread::sleep_until(cut_at + 30s);  // the fault's duration, not a wait for a condition
  ns.restore();
  ASSERT_TRUE(xiot::test::wait_until(
      [&] { return agent.count_output(kOnline, Process::Stream::Either) >= 2; }, in(60s)))
      << agent.describe();
  // The readings of the outage arrive, then live ones again.
  const auto seen_before = seqs_seen(watch.out());
  ASSERT_EQ(seen_before.size(), 1u);
  const long target = 30 + *seen_before.begin()->second.begin() + 3;
  ASSERT_TRUE(xiot::test::wait_until(
      [&] {
        const auto s = seqs_seen(watch.out());
        return !s.empty() && *s.begin()->second.rbegin() >= target;
      },
      in(60s)))
      << watch.describe();
  agent.kill(SIGTERM);
  ASSERT_EQ(agent.wait_exit(in(15s)), std::optional<int>(0)) << agent.describe();
  expect_no_gaps(watch.out());
}

/// The "libstrophe blocks in use" the agent logs every 10 acknowledged items.
std::vector<long long> blocks_at_acks(const Process& agent) {
  const std::string text = agent.out() + agent.err();
  const std::regex line("items acknowledged \\(libstrophe blocks in use: ([0-9]+)\\)");
  std::vector<long long> out;
  for (auto it = std::sregex_iterator(text.begin(), text.end(), line); it != std::sregex_iterator(); ++it) {
    out.push_back(std::stoll((*it)[1]));
  }
  return out;
}

TEST(AgentFaults, ALinkDropResumesAndStreamManagementFreesWhatWasSentRaw) {
  // Telemetry goes out with xmpp_send_raw (issue 13). Stream management must
  // count it like any stanza: the server's acks free it (libstrophe's blocks
  // stay flat over hundreds of items, before and after the drop), and a
  // dropped TCP connection with the server up is resumed, not logged into afresh.
  DevServer server;
  AgentConfig c;
  c.interval_s = 0.05;
  c.override_json = R"({"xmpp":{"reconnect_base_s":0.2,"reconnect_cap_s":1}})";
  Process agent({xiot::test::binary_path("xiot-agent"), "--config",
                 write_agent_config(server, server.dir() + "/agent/agent.json", c)});
  ASSERT_TRUE(agent.wait_for_output(kOnline, in(20s))) << agent.describe();
  ASSERT_TRUE(xiot::test::wait_until([&] { return blocks_at_acks(agent).size() >= 8; }, in(90s)))
      << agent.describe();
  const long long first = blocks_at_acks(agent)[1];  // after the first acks settled the queue's shape
  const int lport = local_port_of(agent.pid(), server.port());
  ASSERT_NE(lport, 0);
  xiot::test::run_checked({"ss", "-K", "sport", "=", ":" + std::to_string(lport), "dport", "=",
                           ":" + std::to_string(server.port())});
  ASSERT_TRUE(agent.wait_for_output("stream management session resumed", in(30s))) << agent.describe();
  const size_t seen = blocks_at_acks(agent).size();
  ASSERT_TRUE(xiot::test::wait_until([&] { return blocks_at_acks(agent).size() >= seen + 8; }, in(90s)))
      << agent.describe();
  const std::vector<long long> counts = blocks_at_acks(agent);
  EXPECT_LE(counts.back(), first + 16) << "blocks in use grew from " << first << " to " << counts.back() << " over "
                                       << counts.size() * 10 << " items";
  agent.kill(SIGTERM);
  ASSERT_EQ(agent.wait_exit(in(15s)), std::optional<int>(0)) << agent.describe();
  EXPECT_EQ(agent.count_output("logging in afresh", Process::Stream::Either), 0u) << agent.describe();
  EXPECT_EQ(agent.count_output("session: 2 logins (0 fresh starts, 0 fresh reconnects)", Process::Stream::Either), 1u)
      << agent.describe();
}

TEST(AgentFaults, RepliesAreNeitherLostNorRepeatedAcrossAResume) {
  // XEP-0198 on both sides: IQs keep coming while the agent's connection is
  // killed; the server holds them for the hibernating session, the agent
  // resumes, answers them, and libstrophe resends only what the server had not
  // acknowledged — so every IQ gets exactly one answer.
  DevServer server;
  AgentConfig c;
  c.override_json = R"({"xmpp":{"reconnect_base_s":0.2,"reconnect_cap_s":1}})";
  Process agent({xiot::test::binary_path("xiot-agent"), "--config",
                 write_agent_config(server, server.dir() + "/agent/agent.json", c)});
  ASSERT_TRUE(agent.wait_for_output(kOnline, in(20s))) << agent.describe();
  Process client({"/usr/bin/python3", xiot::test::source_path("tests/integration/probe/hostile.py"), "--jid",
                  server.jid("ops"), "--password", server.password("ops"), "--host", server.host(), "--port",
                  std::to_string(server.port()), "--ca-file", server.ca_file(), "--device",
                  server.jid("dev1") + "/xiot", "iq-stream"});
  // Mid-stream: the agent has answered some of them (debug log: SENT lines).
  ASSERT_TRUE(xiot::test::wait_until(
      [&] { return agent.count_output("disco#info", Process::Stream::Either) >= 40; }, in(30s)))
      << agent.describe();
  const int lport = local_port_of(agent.pid(), server.port());
  ASSERT_NE(lport, 0);
  xiot::test::run_checked({"ss", "-K", "sport", "=", ":" + std::to_string(lport), "dport", "=",
                           ":" + std::to_string(server.port())});
  ASSERT_TRUE(agent.wait_for_output("stream management session resumed", in(30s))) << agent.describe();
  ASSERT_EQ(client.wait_exit(in(120s)), std::optional<int>(0)) << client.describe();
  const std::regex summary("\"sent\": ([0-9]+), \"answered\": ([0-9]+), \"duplicates\": ([0-9]+), \"missing\": ([0-9]+)");
  std::smatch m;
  const std::string out = client.out();
  ASSERT_TRUE(std::regex_search(out, m, summary)) << client.describe();
  EXPECT_EQ(m[1], "300");
  EXPECT_EQ(m[2], "300") << out;
  EXPECT_EQ(m[3], "0") << "replies repeated after the resume: " << out;
  EXPECT_EQ(m[4], "0") << out;
}

}  // namespace

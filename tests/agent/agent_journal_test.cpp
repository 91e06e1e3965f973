// The outbox and journal end to end (issue 5, parts 1 and 2), against a real
// Prosody: what the server stored on the device's PEP telemetry node is
// counted by item id after the fact (tests/agent/pep_node.py), so nothing
// depends on a subscriber being online at the right moment.
//  - the server stopped for a while as the agent samples every 0.1 s: after it
//    returns, every item id of seq 1..N is on the node;
//  - the agent SIGKILLed (offline, and online mid-run) and restarted: every
//    item it had journaled before the kill is published after the restart,
//    with its original id, and the new run's seqs continue after them;
//  - a 4 KiB journal overflowing while the server is away: the oldest readings
//    of the outage are dropped, counted in diagnostics and the presence status
//    line (every missing one counted), and everything else arrives.
// Item ids are <boot-id>-<seq>; the agent's debug log names each item when it
// is queued ("outbox: queued <id> (...), journaled"), after the journal
// append, so the highest queued seq is what must arrive.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/types.h>

#include <chrono>
#include <fstream>
#include <functional>
#include <map>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "harness.hpp"
#include "netns.hpp"  // run_checked

namespace {

using namespace std::chrono_literals;
using xiot::test::AgentConfig;
using xiot::test::DevServer;
using xiot::test::in;
using xiot::test::Process;

constexpr const char* kOnline = "INFO xmpp: online";
constexpr const char* kNode = "urn:xiot:telemetry:0";

std::vector<std::string> pep_argv(const DevServer& s, const std::vector<std::string>& rest) {
  std::vector<std::string> argv = {"/usr/bin/python3", xiot::test::source_path("tests/agent/pep_node.py"),
                                   "--jid", s.jid("dev1"), "--password", s.password("dev1"),
                                   "--host", s.host(), "--port", std::to_string(s.port()),
                                   "--ca-file", s.ca_file()};
  argv.insert(argv.end(), rest.begin(), rest.end());
  return argv;
}

/// Prosody keeps one item per PEP node by default: make room to count.
void create_node(const DevServer& s) {
  Process p(pep_argv(s, {"create", kNode, "--max-items", "256"}));
  ASSERT_EQ(p.wait_exit(in(40s)), 0) << p.describe();
}

/// boot id -> the seqs of the items on the node.
std::map<std::string, std::set<long>> node_items(const DevServer& s, std::string* raw = nullptr) {
  Process p(pep_argv(s, {"items", kNode}));
  std::map<std::string, std::set<long>> out;
  if (p.wait_exit(in(40s)) != 0) {
    if (raw != nullptr) *raw = p.describe();
    return out;
  }
  const std::string text = p.out();
  if (raw != nullptr) *raw = text;
  const std::regex id("\"([0-9a-f]{8})-([0-9]+)\"");
  for (auto it = std::sregex_iterator(text.begin(), text.end(), id); it != std::sregex_iterator(); ++it) {
    out[(*it)[1]].insert(std::stol((*it)[2]));
  }
  return out;
}

/// boot id -> the seqs the agent queued (journaled), from its log.
std::map<std::string, std::set<long>> queued(const Process& agent) {
  std::map<std::string, std::set<long>> out;
  const std::string text = agent.err() + agent.out();
  const std::regex q("outbox: queued ([0-9a-f]{8})-([0-9]+) ");
  for (auto it = std::sregex_iterator(text.begin(), text.end(), q); it != std::sregex_iterator(); ++it) {
    out[(*it)[1]].insert(std::stol((*it)[2]));
  }
  return out;
}

long max_queued(const Process& agent) {
  long m = 0;
  for (const auto& [boot, seqs] : queued(agent)) {
    if (!seqs.empty() && *seqs.rbegin() > m) m = *seqs.rbegin();
  }
  return m;
}

std::string boot_of(const Process& agent) {
  const auto q = queued(agent);
  return q.size() == 1 ? q.begin()->first : std::string();
}

/// Seqs in [from, to] missing from `have`.
std::vector<long> missing(const std::set<long>& have, long from, long to) {
  std::vector<long> out;
  for (long s = from; s <= to; ++s) {
    if (!have.count(s)) out.push_back(s);
  }
  return out;
}

/// Polls the node until `done(items)` holds (each poll is a login: ~1 s).
bool wait_for_node(const DevServer& s, const std::function<bool(const std::map<std::string, std::set<long>>&)>& done,
                   xiot::test::Deadline deadline, std::string* last) {
  while (xiot::test::Clock::now() < deadline) {
    if (done(node_items(s, last))) return true;
  }
  return false;
}

/// Stops Prosody as DevServer::stop() does (SIGTERM: it closes every stream)
/// but keeps the server's port reservations: devserver's `stop` gives them
/// back, and a test running in parallel may take the port before
/// start_again() (seen under ctest -j2). DevServer::restart() then brings it
/// back on the same ports.
/// `sig` SIGKILL: the server dies without closing anything itself.
void stop_server_keeping_ports(const DevServer& s, int sig = SIGTERM) {
  const std::string text = xiot::test::read_file(s.dir() + "/prosody.pid");
  ASSERT_FALSE(text.empty()) << "no " << s.dir() << "/prosody.pid";
  const pid_t pid = static_cast<pid_t>(std::stol(text));
  ASSERT_EQ(::kill(pid, sig), 0);
  if (!xiot::test::wait_until([&] { return ::kill(pid, 0) != 0; }, in(10s))) {
    ::kill(pid, SIGKILL);
    ASSERT_TRUE(xiot::test::wait_until([&] { return ::kill(pid, 0) != 0; }, in(5s)));
  }
}

AgentConfig fast_config(double interval_s) {
  AgentConfig c;
  c.interval_s = interval_s;
  c.ping_interval_s = 5;
  c.override_json = R"({"xmpp": {"reconnect_base_s": 0.2, "reconnect_cap_s": 1}})";
  return c;
}

std::vector<std::string> agent_argv(const std::string& config) {
  return {xiot::test::binary_path("xiot-agent"), "--config", config};
}

void server_outage_loses_nothing(int sig) {
  DevServer server;
  create_node(server);
  const std::string cfg = xiot::test::write_agent_config(server, server.dir() + "/agent.json", fast_config(0.1));
  Process agent(agent_argv(cfg));
  ASSERT_TRUE(agent.wait_for_output(kOnline, in(20s))) << agent.describe();
  ASSERT_TRUE(xiot::test::wait_until([&] { return max_queued(agent) >= 10; }, in(10s))) << agent.describe();

  stop_server_keeping_ports(server, sig);
  ASSERT_TRUE(agent.wait_for_output("WARN xmpp: offline", in(10s))) << agent.describe();
  const long at_stop = max_queued(agent);
  // About 4 s of readings with nowhere to go.
  ASSERT_TRUE(xiot::test::wait_until([&] { return max_queued(agent) >= at_stop + 40; }, in(20s)))
      << agent.describe();
  server.restart();
  ASSERT_TRUE(xiot::test::wait_until([&] { return agent.count_output(kOnline, Process::Stream::Either) >= 2; },
                                     in(30s)))
      << agent.describe();
  const long back = max_queued(agent);
  const std::string boot = boot_of(agent);
  ASSERT_FALSE(boot.empty()) << agent.describe();

  // Everything up to a little after the server came back arrives, no gaps.
  const long n = back + 10;
  std::string last;
  const bool all = wait_for_node(
      server, [&](const auto& items) { return items.count(boot) && missing(items.at(boot), 1, n).empty(); },
      in(40s), &last);
  const auto items = node_items(server);
  ASSERT_TRUE(all) << "missing: " << testing::PrintToString(items.count(boot) ? missing(items.at(boot), 1, n)
                                                                              : std::vector<long>{})
                   << "\n" << last << agent.describe() << server.log_tail();
  // Nothing but this boot's items, none past what was queued, no gaps at all.
  EXPECT_EQ(items.size(), 1u);
  const std::set<long>& seqs = items.at(boot);
  EXPECT_EQ(*seqs.begin(), 1);
  EXPECT_LE(*seqs.rbegin(), max_queued(agent));
  EXPECT_TRUE(missing(seqs, 1, *seqs.rbegin()).empty());
  EXPECT_EQ(agent.count_output("dropped"), 0u) << agent.describe();

  agent.kill(SIGTERM);
  EXPECT_EQ(agent.wait_exit(in(10s)), 0) << agent.describe();
}

TEST(AgentPublish, PublishOptionsGoOnlyWithTheFirstPublishToEachNode) {
  // Issue 13: Prosody re-checks publish-options on every publish that carries
  // them, so only the first publish to each node after a login does (it
  // creates the node or checks it). The nodes still end up configured.
  DevServer server;
  AgentConfig c;
  c.interval_s = 0.1;
  const std::string cfg = write_agent_config(server, server.dir() + "/agent/agent.json", c);
  Process agent({xiot::test::binary_path("xiot-agent"), "--config", cfg});
  ASSERT_TRUE(agent.wait_for_output(kOnline, in(20s))) << agent.describe();
  ASSERT_TRUE(agent.wait_for_output("30 items acknowledged", in(60s))) << agent.describe();
  for (const char* node : {kNode, "urn:xiot:device:0"}) {
    Process p(pep_argv(server, {"config", node}));
    ASSERT_EQ(p.wait_exit(in(40s)), 0) << p.describe();
    EXPECT_NE(p.out().find("\"pubsub#persist_items\": true"), std::string::npos) << node << ": " << p.out();
    EXPECT_NE(p.out().find("\"pubsub#access_model\": \"presence\""), std::string::npos) << node << ": " << p.out();
  }
  agent.kill(SIGTERM);
  ASSERT_EQ(agent.wait_exit(in(15s)), std::optional<int>(0)) << agent.describe();
  // One login: one publish with options to the telemetry node, one to the device node.
  EXPECT_TRUE(std::regex_search(agent.err() + agent.out(),
                                std::regex("session: 1 logins .*, 2 publishes with publish-options, ([3-9][0-9]|[0-9]{3,}) items sent")))
      << agent.describe();
}

TEST(AgentJournal, ServerStoppedForAWhileLosesNothing) { server_outage_loses_nothing(SIGTERM); }

// SIGKILL: no stream is closed, Prosody's PEP store is left as the kill found
// it; what the agent saw acknowledged is on disk, the rest is sent again.
TEST(AgentJournal, ServerKilledWhilePublishingLosesNothing) { server_outage_loses_nothing(SIGKILL); }

// Kills the agent with SIGKILL, restarts it on the same journal, and checks that
// every item the first run journaled is on the node afterwards.
void kill_restart_and_check(DevServer& server, const std::string& cfg, Process& first, bool server_was_down) {
  const std::string old_boot = boot_of(first);
  ASSERT_FALSE(old_boot.empty()) << first.describe();
  first.kill(SIGKILL);
  ASSERT_EQ(first.wait_exit(in(10s)), 128 + SIGKILL);
  const long k = max_queued(first);  // journaled before the kill
  ASSERT_GT(k, 0);
  if (server_was_down) server.restart();

  Process second(agent_argv(cfg));
  ASSERT_TRUE(second.wait_for_output(kOnline, in(30s))) << second.describe();
  ASSERT_TRUE(second.wait_for_output("items from earlier runs are published first, with their original ids", in(5s)))
      << second.describe();
  // The new run's seqs continue after the old ones.
  ASSERT_TRUE(xiot::test::wait_until([&] { return !queued(second).empty(); }, in(10s))) << second.describe();
  const auto q2 = queued(second);
  ASSERT_EQ(q2.size(), 1u);
  EXPECT_NE(q2.begin()->first, old_boot);
  EXPECT_EQ(*q2.begin()->second.begin(), k + 1) << second.describe();

  std::string last;
  const bool all = wait_for_node(
      server,
      [&](const auto& items) { return items.count(old_boot) && missing(items.at(old_boot), 1, k).empty(); },
      in(40s), &last);
  const auto items = node_items(server);
  ASSERT_TRUE(all) << "old boot " << old_boot << " missing: "
                   << testing::PrintToString(items.count(old_boot) ? missing(items.at(old_boot), 1, k)
                                                                   : std::vector<long>{})
                   << "\n" << last << first.describe() << second.describe() << server.log_tail();
  EXPECT_EQ(*items.at(old_boot).rbegin(), k);  // nothing of the old boot beyond what it journaled
  second.kill(SIGTERM);
  EXPECT_EQ(second.wait_exit(in(10s)), 0) << second.describe();
}

TEST(AgentJournal, KilledWhileOfflineItsJournaledReadingsArePublishedAfterTheRestart) {
  DevServer server;
  create_node(server);
  const std::string cfg = xiot::test::write_agent_config(server, server.dir() + "/agent.json", fast_config(0.05));
  Process first(agent_argv(cfg));
  ASSERT_TRUE(first.wait_for_output(kOnline, in(20s))) << first.describe();
  ASSERT_TRUE(xiot::test::wait_until([&] { return max_queued(first) >= 10; }, in(10s))) << first.describe();
  stop_server_keeping_ports(server);
  ASSERT_TRUE(first.wait_for_output("WARN xmpp: offline", in(10s))) << first.describe();
  const long at_stop = max_queued(first);
  ASSERT_TRUE(xiot::test::wait_until([&] { return max_queued(first) >= at_stop + 30; }, in(20s)))
      << first.describe();
  kill_restart_and_check(server, cfg, first, /*server_was_down=*/true);
}

TEST(AgentJournal, KilledMidRunWithPublishesInFlightLosesNothing) {
  DevServer server;
  create_node(server);
  const std::string cfg = xiot::test::write_agent_config(server, server.dir() + "/agent.json", fast_config(0.05));
  Process first(agent_argv(cfg));
  ASSERT_TRUE(first.wait_for_output(kOnline, in(20s))) << first.describe();
  // Online and publishing 20 items a second: the kill lands with some sent
  // and not yet answered, and the newest maybe not sent at all.
  ASSERT_TRUE(xiot::test::wait_until([&] { return max_queued(first) >= 40; }, in(20s))) << first.describe();
  kill_restart_and_check(server, cfg, first, /*server_was_down=*/false);
}

/// Runs xmpp_commander.py steps (a JSON array) against the agent as `user`;
/// returns what it printed.
std::string commander(const DevServer& s, const std::string& user, const std::string& steps_json) {
  const std::string steps = s.dir() + "/steps-" + user + ".json";
  { std::ofstream(steps) << steps_json; }
  Process p({"/usr/bin/python3", xiot::test::source_path("tests/integration/probe/xmpp_commander.py"), "--jid",
             s.jid(user), "--password", s.password(user), "--host", s.host(), "--port", std::to_string(s.port()),
             "--ca-file", s.ca_file(), "--device", s.jid("dev1") + "/xiot", "--steps", steps});
  EXPECT_EQ(p.wait_exit(in(60s)), 0) << p.describe();
  return p.out();
}

/// The value of a diagnostics form field in commander output, -1 if absent.
long diagnostic(const std::string& out, const std::string& var) {
  std::smatch m;
  const std::regex re("\"var\": \"" + var + "\"[^{}]*?\"values\": \\[\"([0-9]+)\"\\]");
  return std::regex_search(out, m, re) ? std::stol(m[1]) : -1;
}

TEST(AgentJournal, AFullJournalDropsTheOldestCountsThemAndSaysSo) {
  DevServer server;
  create_node(server);
  AgentConfig c = fast_config(0.05);
  // 4 KiB: about 8 items (1 KiB segments) while the server is away.
  c.override_json = R"({"xmpp": {"reconnect_base_s": 0.2, "reconnect_cap_s": 1}, "journal": {"max_bytes": 4096}})";
  const std::string cfg = xiot::test::write_agent_config(server, server.dir() + "/agent.json", c);
  Process agent(agent_argv(cfg));
  ASSERT_TRUE(agent.wait_for_output(kOnline, in(20s))) << agent.describe();
  ASSERT_TRUE(xiot::test::wait_until([&] { return max_queued(agent) >= 5; }, in(10s))) << agent.describe();
  stop_server_keeping_ports(server);
  ASSERT_TRUE(agent.wait_for_output("WARN xmpp: offline", in(10s))) << agent.describe();
  const long at_stop = max_queued(agent);
  ASSERT_TRUE(xiot::test::wait_until([&] { return max_queued(agent) >= at_stop + 60; }, in(20s)))
      << agent.describe();
  ASSERT_TRUE(agent.wait_for_output("journal full: dropped", in(1s))) << agent.describe();
  server.restart();
  ASSERT_TRUE(xiot::test::wait_until([&] { return agent.count_output(kOnline, Process::Stream::Either) >= 2; },
                                     in(30s)))
      << agent.describe();
  // Stop the readings (an hour between samples) so the counts can settle.
  const std::string conf = commander(
      server, "admin",
      R"([{"op": "command", "node": "configure"},
          {"op": "command", "node": "configure", "action": "complete", "sessionid": "$last",
           "form": {"interval_s": "3600"}}])");
  ASSERT_NE(conf.find("telemetry every 3600 s"), std::string::npos) << conf;
  std::string diag;
  ASSERT_TRUE(xiot::test::wait_until(
      [&] {
        diag = commander(server, "ops", R"([{"op": "command", "node": "diagnostics"}])");
        return diagnostic(diag, "journal_depth") == 0;
      },
      in(40s), 200ms))
      << diag << agent.describe();
  const long k = max_queued(agent);
  const std::string boot = boot_of(agent);
  const long dropped = diagnostic(diag, "dropped_readings");
  EXPECT_GT(dropped, 0) << diag;
  EXPECT_LE(diagnostic(diag, "journal_bytes"), 4096) << diag;

  // Every seq up to k arrived or was counted, and the newest 16 (held in
  // memory) all arrived. The count may exceed what is missing by what was in
  // flight when the link died: published, unanswered, then dropped; the
  // server may have stored it (docs/journal.md, "Counters").
  const auto items = node_items(server);
  ASSERT_TRUE(items.count(boot)) << agent.describe();
  const std::vector<long> gone = missing(items.at(boot), 1, k);
  EXPECT_LE(static_cast<long>(gone.size()), dropped) << testing::PrintToString(gone) << agent.describe();
  EXPECT_LE(dropped - static_cast<long>(gone.size()), 16) << testing::PrintToString(gone) << agent.describe();
  ASSERT_FALSE(gone.empty());
  EXPECT_LT(gone.back(), k - 15) << testing::PrintToString(gone);
  EXPECT_EQ(*items.at(boot).rbegin(), k);

  // The operator sees them in the presence status line too.
  const std::string pres = commander(server, "ops", R"([{"op": "subscribe"}])");
  EXPECT_NE(pres.find(std::to_string(dropped) + " readings dropped"), std::string::npos) << pres;
  agent.kill(SIGTERM);
  EXPECT_EQ(agent.wait_exit(in(10s)), 0) << agent.describe();
}

// The journal's storage fills up (a 48 KiB tmpfs as the agent's state
// directory, the server away so readings pile up): the agent keeps running,
// says so (log, diagnostics), keeps the newest readings in memory and drops the
// oldest by policy, and journals again once delivery frees space.
TEST(AgentJournal, AFullDiskKeepsTheAgentRunningReportedAndDroppingByPolicy) {
  DevServer server;
  create_node(server);
  const std::string state = server.dir() + "/agent-state";
  xiot::test::run_checked({"mkdir", "-p", state});
  xiot::test::run_checked({"mount", "-t", "tmpfs", "-o", "size=48k", "tmpfs", state});
  struct Unmount {
    std::string dir;
    ~Unmount() { Process({"umount", "-l", dir}).wait_exit(in(10s)); }
  } unmount{state};
  AgentConfig c = fast_config(0.05);
  c.journal_path = state + "/journal";
  Process agent(agent_argv(xiot::test::write_agent_config(server, server.dir() + "/agent.json", c)));
  ASSERT_TRUE(agent.wait_for_output(kOnline, in(20s))) << agent.describe();

  stop_server_keeping_ports(server);
  // ~100 items of ~470 bytes fill 48 KiB within seconds.
  ASSERT_TRUE(agent.wait_for_output("journal append failed (no space)", in(60s))) << agent.describe();
  ASSERT_TRUE(agent.wait_for_output("pushed out of memory", in(30s))) << agent.describe();
  EXPECT_TRUE(agent.running());

  server.restart();
  ASSERT_TRUE(xiot::test::wait_until([&] { return agent.count_output(kOnline, Process::Stream::Either) >= 2; },
                                     in(30s)))
      << agent.describe();
  // Delivery empties the journal's segments: appends work again.
  ASSERT_TRUE(agent.wait_for_output("journal appends work again", in(60s))) << agent.describe();
  // Reported: diagnostics count the drops (ops runs the command like any client).
  const std::string steps = server.dir() + "/steps.json";
  std::ofstream(steps) << R"([{"op":"command","node":"diagnostics"}])";
  Process client({"/usr/bin/python3", xiot::test::source_path("tests/integration/probe/xmpp_commander.py"), "--jid",
                  server.jid("ops"), "--password", server.password("ops"), "--host", server.host(), "--port",
                  std::to_string(server.port()), "--ca-file", server.ca_file(), "--device",
                  server.jid("dev1") + "/xiot", "--steps", steps});
  ASSERT_EQ(client.wait_exit(in(60s)), std::optional<int>(0)) << client.describe();
  std::smatch m;
  const std::string out = client.out();
  ASSERT_TRUE(std::regex_search(out, m, std::regex("\"var\": \"dropped_readings\"[^}]*\"values\": \\[\"([0-9]+)\"")))
      << out;
  EXPECT_GT(std::stol(m[1]), 0) << out;
  // The full disk is the only error the agent reports (once, at ERROR).
  EXPECT_EQ(agent.count_output(" ERROR ", Process::Stream::Either),
            agent.count_output("ERROR journal: append failed", Process::Stream::Either))
      << agent.describe();
  EXPECT_TRUE(agent.wait_for_output("items were dropped meanwhile", in(1s))) << agent.describe();

  agent.kill(SIGTERM);
  EXPECT_EQ(agent.wait_exit(in(10s)), 0) << agent.describe();
}

}  // namespace

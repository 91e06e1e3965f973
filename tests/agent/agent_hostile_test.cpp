// Hostile input against a running agent, through the real server (issue 5):
// IQs of unknown namespaces, 64 KiB attributes, 400-deep nesting, a 2000-field
// form and a 200 KiB value, a flood of 2000 IQs, 500 abandoned command
// sessions, a 64 KiB chat body, malformed payloads — from an operator and from
// a stranger (tests/integration/probe/hostile.py). The agent answers every IQ
// with the right kind of answer, stays up, logs nothing at ERROR, and its
// memory stops growing: of up to three more identical rounds, one must not
// raise its RSS by 1 MiB or more (a per-stanza leak of 400 bytes would, every
// round).
#include <cjson/cJSON.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <fstream>
#include <map>
#include <string>

#include "harness.hpp"

namespace {

using namespace std::chrono_literals;
using xiot::test::AgentConfig;
using xiot::test::DevServer;
using xiot::test::in;
using xiot::test::Process;

long rss_kb(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  }
  return -1;
}

struct CaseResult {
  int sent = 0;
  int answered = 0;
  std::map<std::string, int> conditions;
  std::string replies;
};

std::map<std::string, CaseResult> run_hostile(const DevServer& server, const std::string& user) {
  Process p({"/usr/bin/python3", xiot::test::source_path("tests/integration/probe/hostile.py"), "--jid",
             server.jid(user), "--password", server.password(user), "--host", server.host(), "--port",
             std::to_string(server.port()), "--ca-file", server.ca_file(), "--device", server.jid("dev1") + "/xiot",
             "unknown-ns", "huge-attr", "deep", "giant-form", "iq-flood", "command-flood", "long-chat",
             "junk-payload"});
  EXPECT_EQ(p.wait_exit(in(240s)), std::optional<int>(0)) << p.describe();
  std::map<std::string, CaseResult> out;
  const std::string text = p.out();
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    cJSON* d = cJSON_Parse(text.substr(start, end - start).c_str());
    start = end + 1;
    if (d == nullptr) continue;
    const cJSON* name = cJSON_GetObjectItem(d, "case");
    if (cJSON_IsString(name)) {
      CaseResult& r = out[name->valuestring];
      if (const cJSON* v = cJSON_GetObjectItem(d, "sent")) r.sent = v->valueint;
      if (const cJSON* v = cJSON_GetObjectItem(d, "answered")) r.answered = v->valueint;
      const cJSON* c = nullptr;
      cJSON_ArrayForEach(c, cJSON_GetObjectItem(d, "conditions")) r.conditions[c->string] = c->valueint;
      cJSON_ArrayForEach(c, cJSON_GetObjectItem(d, "replies")) r.replies += std::string(c->valuestring) + "\n";
    }
    cJSON_Delete(d);
  }
  return out;
}

void expect_every_iq_answered(const std::map<std::string, CaseResult>& r) {
  for (const auto& [name, c] : r) EXPECT_EQ(c.answered, c.sent) << name;
}

TEST(AgentHostile, AnswersEveryHostileStanzaStaysUpAndStopsGrowing) {
  DevServer server;
  AgentConfig c;
  c.viewers = {"viewer@" + server.domain()};  // "stranger" is a stranger
  c.log_level = "info";
  Process agent({xiot::test::binary_path("xiot-agent"), "--config",
                 write_agent_config(server, server.dir() + "/agent/agent.json", c)});
  ASSERT_TRUE(agent.wait_for_output("INFO xmpp: online", in(20s))) << agent.describe();

  const auto op = run_hostile(server, "ops");
  expect_every_iq_answered(op);
  EXPECT_EQ(op.at("unknown-ns").conditions.at("service-unavailable"), 200);
  EXPECT_EQ(op.at("iq-flood").conditions.at("result"), 2000);
  EXPECT_EQ(op.at("command-flood").conditions.at("result"), 500);  // oldest sessions recycled
  EXPECT_EQ(op.at("giant-form").conditions.at("bad-request"), 2);   // bad-payload: over the limits
  EXPECT_EQ(op.at("deep").conditions.at("bad-request"), 1);
  EXPECT_EQ(op.at("huge-attr-disco").conditions.at("item-not-found"), 2);
  EXPECT_EQ(op.at("huge-attr").conditions.count("result"), 0u);
  EXPECT_NE(op.at("long-chat").replies.find("Message too long"), std::string::npos);
  EXPECT_EQ(op.at("junk-payload").conditions.count("result"), 0u);

  const auto stranger = run_hostile(server, "stranger");
  expect_every_iq_answered(stranger);
  EXPECT_EQ(stranger.at("command-flood").conditions.at("forbidden"), 500);
  EXPECT_EQ(stranger.at("giant-form").conditions.at("forbidden"), 2);  // the ACL before the form
  EXPECT_TRUE(stranger.at("long-chat").replies.empty()) << stranger.at("long-chat").replies;

  // Bounded: another identical round does not grow the agent. A leak grows
  // it every round; the heap's high-water mark may still rise once when a
  // loaded machine delivers a round in larger bursts than before. So up to
  // three more rounds: the first that grows RSS by less than 1 MiB settles
  // it, and a leak fails all three.
#if defined(__SANITIZE_ADDRESS__)
  constexpr int kRounds = 1;  // RSS says nothing under ASan (below): one round to run the code
#else
  constexpr int kRounds = 3;
#endif
  long before = 0;
  long after = 0;
  for (int round = 0; round < kRounds; ++round) {
    before = rss_kb(agent.pid());
    (void)run_hostile(server, "ops");
    (void)run_hostile(server, "stranger");
    after = rss_kb(agent.pid());
    ASSERT_GT(before, 0);
    RecordProperty("rss_kb_before_round_" + std::to_string(round + 2), std::to_string(before));
    RecordProperty("rss_kb_after_round_" + std::to_string(round + 2), std::to_string(after));
    if (after - before < 1024) break;
  }
#if defined(__SANITIZE_ADDRESS__)
  // ASan's quarantine holds freed memory back on purpose: RSS says nothing here.
  (void)after;
#else
  EXPECT_LT(after - before, 1024) << "RSS " << before << " kB -> " << after << " kB (three rounds in a row grew)";
#endif

  EXPECT_EQ(agent.count_output(" ERROR ", Process::Stream::Either), 0u) << agent.describe();
  agent.kill(SIGTERM);
  EXPECT_EQ(agent.wait_exit(in(15s)), std::optional<int>(0)) << agent.describe();
}

}  // namespace

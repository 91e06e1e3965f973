// agent/log: line format, levels, truncation, timestamps.
#include "agent/log.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "fakes.hpp"

namespace {

struct Captured {
  std::vector<std::string> lines;
  std::vector<agent::LogLevel> levels;
};

void capture(void* ctx, agent::LogLevel level, const char* line, size_t len) {
  auto* c = static_cast<Captured*>(ctx);
  c->lines.emplace_back(line, len);
  c->levels.push_back(level);
}

class Log : public ::testing::Test {
 protected:
  void SetUp() override {
    agent::log_set_sink(capture, &cap_);
    agent::log_set_clock(&clock_);
    agent::log_set_level(agent::LogLevel::Info);
  }
  void TearDown() override {
    agent::log_set_sink(nullptr, nullptr);
    agent::log_set_clock(nullptr);
    agent::log_set_level(agent::LogLevel::Info);
    agent::log_set_journal(false);
  }
  Captured cap_;
  xiot_test::FakeWallClock clock_;
};

TEST_F(Log, LineFormat) {
  clock_.now = hal::WallTime{1795475751042999};  // 2026-11-23T23:15:51.042999Z
  XLOG_INFO("xmpp", "connected to %s:%d", "localhost", 5222);
  ASSERT_EQ(cap_.lines.size(), 1u);
  EXPECT_EQ(cap_.lines[0], "2026-11-23T23:15:51.042Z INFO xmpp: connected to localhost:5222");
  EXPECT_EQ(cap_.levels[0], agent::LogLevel::Info);
}

TEST_F(Log, JournalFormatHasPriorityAndNoTimestamp) {
  clock_.now = hal::WallTime{1795475751042999};
  agent::log_set_level(agent::LogLevel::Debug);
  EXPECT_FALSE(agent::log_journal());
  agent::log_set_journal(true);
  EXPECT_TRUE(agent::log_journal());
  XLOG_ERROR("agent", "reboot failed: %s", "access denied");
  XLOG_WARN("board", "left out");
  XLOG_INFO("xmpp", "connected");
  XLOG_DEBUG("xmpp", "sent %d bytes", 42);
  agent::log_set_tag("dev1@localhost");
  XLOG_INFO("xmpp", "tagged");
  agent::log_set_tag(nullptr);
  agent::log_set_journal(false);
  XLOG_INFO("xmpp", "back to timestamps");
  ASSERT_EQ(cap_.lines.size(), 6u);
  EXPECT_EQ(cap_.lines[0], "<3>ERROR agent: reboot failed: access denied");
  EXPECT_EQ(cap_.lines[1], "<4>WARN board: left out");
  EXPECT_EQ(cap_.lines[2], "<6>INFO xmpp: connected");
  EXPECT_EQ(cap_.lines[3], "<7>DEBUG xmpp: sent 42 bytes");
  EXPECT_EQ(cap_.lines[4], "<6>INFO [dev1@localhost] xmpp: tagged");
  EXPECT_EQ(cap_.lines[5], "2026-11-23T23:15:51.042Z INFO xmpp: back to timestamps");
  EXPECT_EQ(agent::log_syslog_priority(agent::LogLevel::Error), 3);
  EXPECT_EQ(agent::log_syslog_priority(agent::LogLevel::Warn), 4);
  EXPECT_EQ(agent::log_syslog_priority(agent::LogLevel::Info), 6);
  EXPECT_EQ(agent::log_syslog_priority(agent::LogLevel::Debug), 7);
}

TEST_F(Log, JournalFormatTruncatesWithinTheLine) {
  agent::log_set_journal(true);
  XLOG_INFO("x", "%s", std::string(2000, 'a').c_str());
  ASSERT_EQ(cap_.lines.size(), 1u);
  EXPECT_LT(cap_.lines[0].size(), agent::kLogLineMax);
  EXPECT_EQ(cap_.lines[0].substr(0, 10), "<6>INFO x:");
  EXPECT_EQ(cap_.lines[0].substr(cap_.lines[0].size() - 3), "...");
}

TEST_F(Log, TagGoesBeforeTheAreaUntilCleared) {
  clock_.now = hal::WallTime{1795475751042999};
  EXPECT_EQ(agent::log_tag(), nullptr);
  agent::log_set_tag("dev0042@localhost");
  XLOG_WARN("xmpp", "offline (%s)", "connection closed");
  EXPECT_STREQ(agent::log_tag(), "dev0042@localhost");
  agent::log_set_tag("");  // empty = none
  XLOG_INFO("xmpp", "untagged");
  agent::log_set_tag("x");
  agent::log_set_tag(nullptr);
  XLOG_INFO("xmpp", "untagged again");
  ASSERT_EQ(cap_.lines.size(), 3u);
  EXPECT_EQ(cap_.lines[0], "2026-11-23T23:15:51.042Z WARN [dev0042@localhost] xmpp: offline (connection closed)");
  EXPECT_EQ(cap_.lines[1], "2026-11-23T23:15:51.042Z INFO xmpp: untagged");
  EXPECT_EQ(cap_.lines[2], "2026-11-23T23:15:51.042Z INFO xmpp: untagged again");
  EXPECT_EQ(agent::log_tag(), nullptr);
}

TEST_F(Log, AnOverlongTagStillYieldsOneBoundedLine) {
  const std::string tag(2 * agent::kLogLineMax, 't');
  agent::log_set_tag(tag.c_str());
  XLOG_INFO("xmpp", "message");
  agent::log_set_tag(nullptr);
  ASSERT_EQ(cap_.lines.size(), 1u);
  EXPECT_LT(cap_.lines[0].size(), agent::kLogLineMax);
  EXPECT_EQ(cap_.lines[0].substr(cap_.lines[0].size() - 3), "...");
}

TEST_F(Log, LevelsFilter) {
  agent::log_set_level(agent::LogLevel::Warn);
  XLOG_DEBUG("a", "debug");
  XLOG_INFO("a", "info");
  XLOG_WARN("a", "warn");
  XLOG_ERROR("a", "error");
  ASSERT_EQ(cap_.lines.size(), 2u);
  EXPECT_NE(cap_.lines[0].find(" WARN a: warn"), std::string::npos);
  EXPECT_NE(cap_.lines[1].find(" ERROR a: error"), std::string::npos);
  EXPECT_FALSE(agent::log_enabled(agent::LogLevel::Info));
  EXPECT_TRUE(agent::log_enabled(agent::LogLevel::Error));
  agent::log_set_level(agent::LogLevel::Debug);
  EXPECT_EQ(agent::log_level(), agent::LogLevel::Debug);
  XLOG_DEBUG("a", "now %s", "shown");
  EXPECT_NE(cap_.lines.back().find(" DEBUG a: now shown"), std::string::npos);
}

TEST_F(Log, LongMessagesAreTruncatedVisibly) {
  const std::string big(2000, 'x');
  XLOG_INFO("area", "%s", big.c_str());
  ASSERT_EQ(cap_.lines.size(), 1u);
  EXPECT_LT(cap_.lines[0].size(), agent::kLogLineMax);
  EXPECT_EQ(cap_.lines[0].substr(cap_.lines[0].size() - 4), "x...");
}

TEST_F(Log, NewlinesCannotForgeLines) {
  XLOG_WARN("chat", "from %s", "evil\nERROR fake: line");
  ASSERT_EQ(cap_.lines.size(), 1u);
  EXPECT_EQ(cap_.lines[0].find('\n'), std::string::npos);
}

TEST(LogTimestamp, Table) {
  const struct {
    int64_t us;
    const char* text;
  } cases[] = {{0, "1970-01-01T00:00:00.000Z"},
               {951782400000000, "2000-02-29T00:00:00.000Z"},
               {1763900000250000, "2025-11-23T12:13:20.250Z"},
               {-1, "1969-12-31T23:59:59.999Z"},
               {4102444799999000, "2099-12-31T23:59:59.999Z"}};
  for (const auto& c : cases) {
    char buf[32];
    EXPECT_EQ(agent::format_utc_timestamp(buf, sizeof buf, hal::WallTime{c.us}), 24u);
    EXPECT_STREQ(buf, c.text);
  }
  char small[24];
  EXPECT_EQ(agent::format_utc_timestamp(small, sizeof small, hal::WallTime{0}), 0u);
}

TEST(LogLabels, Names) {
  EXPECT_STREQ(agent::log_level_label(agent::LogLevel::Error), "ERROR");
  EXPECT_STREQ(agent::log_level_label(agent::LogLevel::Warn), "WARN");
  EXPECT_STREQ(agent::log_level_label(agent::LogLevel::Info), "INFO");
  EXPECT_STREQ(agent::log_level_label(agent::LogLevel::Debug), "DEBUG");
}

}  // namespace

// agent/chat: the chat grammar (help, status, read, read <channel>,
// set <channel> <value>), roles (as the commands), silence for strangers,
// trimming, case-insensitive verbs, length bounds. Runs on the sim board.
#include "agent/chat.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "agent/log.hpp"
#include "alloc_counter.hpp"
#include "boards/board.hpp"
#include "hal/sim/manual_clock.hpp"
#include "hal/sim/sim_gpio.hpp"

namespace {

const std::string kSimBoard = std::string(XIOT_BOARDS_DIR) + "/sim/board.json";

constexpr const char* kOwner = "admin@localhost/laptop";
constexpr const char* kOperator = "ops@localhost/phone";
constexpr const char* kViewer = "guest@localhost/tablet";
constexpr const char* kStranger = "eve@evil.example/x";

void quiet(void*, agent::LogLevel, const char*, size_t) {}

class Host : public agent::CommandHost {
 public:
  void publish_telemetry_now(const drv::Device&, size_t) override { ++publishes; }
  agent::TelemetrySettings telemetry_settings() override { return {}; }
  hal::Err reconfigure_telemetry(const agent::TelemetrySettings&) override { return hal::Err::Ok; }
  hal::Err request_reboot(const char*) override { return hal::Err::Ok; }
  void diagnostics(agent::DiagnosticsInfo* out) override {
    out->uptime_s = uptime_s;
    std::snprintf(out->firmware, sizeof out->firmware, "0.1.0");
    std::snprintf(out->board, sizeof out->board, "sim");
    std::snprintf(out->health, sizeof out->health, "%s", health);
    std::snprintf(out->problem, sizeof out->problem, "%s", problem);
  }
  int publishes = 0;
  uint64_t uptime_s = 3720;
  const char* health = "healthy";
  const char* problem = "";
};

class Chat : public ::testing::Test {
 protected:
  void SetUp() override {
    agent::log_set_sink(quiet, nullptr);
    acl_.owners = {"admin@localhost"};
    acl_.operators = {"ops@localhost"};
    acl_.viewers = {"*@localhost"};
    std::string error;
    board_ = boards::Board::open(kSimBoard.c_str(), clock_, clock_, &error);
    ASSERT_NE(board_, nullptr) << error;
    router_ = std::make_unique<agent::CommandRouter>(acl_, board_->registry(), clock_, rng_, host_, nullptr);
    bot_ = std::make_unique<agent::ChatBot>(*router_);
  }
  void TearDown() override { agent::log_set_sink(nullptr, nullptr); }

  /// The reply, or "<none>" when the bot stays silent.
  std::string say(const char* from, const char* body) {
    const char* r = bot_->reply(from, body);
    return r != nullptr ? std::string(r) : std::string("<none>");
  }
  bool relay() {
    return board_->registry().find("relay0.state").value().device->get(0).value().flag;
  }

  agent::AclConfig acl_;
  hal::sim::ManualClock clock_;
  agent::Rng rng_{7};
  Host host_;
  std::unique_ptr<boards::Board> board_;
  std::unique_ptr<agent::CommandRouter> router_;
  std::unique_ptr<agent::ChatBot> bot_;
};

TEST_F(Chat, StrangersGetNoAnswerAtAll) {
  for (const char* body : {"help", "status", "read", "read env0.temperature", "set relay0.state on", "hello", ""}) {
    EXPECT_EQ(say(kStranger, body), "<none>") << body;
  }
  const std::string huge(5000, 'x');
  EXPECT_EQ(say(kStranger, huge.c_str()), "<none>");
  EXPECT_EQ(say(nullptr, "help"), "<none>");
  EXPECT_EQ(say("localhost", "help"), "<none>");
  EXPECT_FALSE(relay());
  EXPECT_EQ(host_.publishes, 0);
}

TEST_F(Chat, EmptyOrBlankBodiesAreIgnored) {
  EXPECT_EQ(say(kViewer, nullptr), "<none>");
  EXPECT_EQ(say(kViewer, ""), "<none>");
  EXPECT_EQ(say(kViewer, " \t\r\n "), "<none>");
}

TEST_F(Chat, HelpDependsOnTheRole) {
  const std::string viewer = say(kViewer, "help");
  EXPECT_EQ(viewer,
            "You are viewer. Commands:\n"
            "status - one-line device status\n"
            "read - every channel\n"
            "read <channel> - one channel, e.g. read env0.temperature");
  const std::string op = say(kOperator, "HELP");
  EXPECT_EQ(op.rfind("You are operator.", 0), 0u);
  EXPECT_NE(op.find("\nset <channel> <value> - drive an actuator, e.g. set relay0.state on"), std::string::npos);
  EXPECT_NE(say(kOwner, "?").find("You are owner."), std::string::npos);
}

TEST_F(Chat, Status) {
  const std::string channels = std::to_string(board_->registry().channel_count()) + " channels";
  EXPECT_EQ(say(kViewer, "status"), "sim board, xiot 0.1.0, up 1h 02m, " + channels + ", healthy");
  host_.health = "degraded";
  host_.problem = "env0 read failed: timeout";
  host_.uptime_s = 42;
  EXPECT_EQ(say(kViewer, "  Status  "), "sim board, xiot 0.1.0, up 42s, " + channels + ", degraded: env0 read failed: timeout");
  host_.uptime_s = 3 * 86400 + 4 * 3600 + 5;
  EXPECT_EQ(say(kViewer, "status").find("up 3d 4h,") != std::string::npos, true);
  EXPECT_EQ(say(kViewer, "status now"), "Usage: status");
}

TEST_F(Chat, ReadEveryChannel) {
  clock_.advance_ms(42000);
  const std::string r = say(kViewer, "read");
  EXPECT_EQ(r.rfind("env0.temperature: 21.54 Cel\nenv0.humidity: 40.1 %RH\nenv0.pressure: 101325 Pa\n"
                    "relay0.state: false\nbutton0.state: false\n"
                    "climate0.temperature: 19.25 Cel\nclimate0.humidity: 52.50 %RH\n"
                    "adc0.ain0: 3.300000 V\nadc0.ain1: 1.250000 V\nlight0.illuminance: 320.00 lx\n"
                    "sys0.uptime: 42 s\n",
                    0),
            0u)
      << r;
  // One line per channel.
  size_t lines = 1;
  for (char c : r) lines += c == '\n' ? 1 : 0;
  EXPECT_EQ(lines, board_->registry().channel_count());
}

TEST_F(Chat, ReadOneChannel) {
  EXPECT_EQ(say(kViewer, "read env0.temperature"), "env0.temperature: 21.54 Cel");
  EXPECT_EQ(say(kViewer, "READ   relay0.state "), "relay0.state: false");
  EXPECT_EQ(say(kViewer, "read nope.x"), "Error: unknown channel 'nope.x'");
  EXPECT_EQ(say(kViewer, "read env0.temperature env0.humidity"), "Usage: read [channel]");
  // Channel names are exact.
  EXPECT_EQ(say(kViewer, "read ENV0.temperature"), "Error: unknown channel 'ENV0.temperature'");
}

TEST_F(Chat, SetNeedsOperator) {
  EXPECT_EQ(say(kViewer, "set relay0.state on"), "Error: set needs the operator role (you are viewer)");
  EXPECT_FALSE(relay());
  EXPECT_EQ(host_.publishes, 0);
  EXPECT_EQ(say(kOperator, "set relay0.state on"), "relay0.state set to true");
  EXPECT_TRUE(relay());
  EXPECT_TRUE(board_->sim_gpio()->level(17));
  EXPECT_EQ(host_.publishes, 1);
  EXPECT_EQ(say(kOwner, "  SET\trelay0.state   OFF  "), "relay0.state set to false");
  EXPECT_FALSE(relay());
  EXPECT_EQ(host_.publishes, 2);
}

TEST_F(Chat, SetErrorsAreExplained) {
  EXPECT_EQ(say(kOperator, "set relay0.state maybe"),
            "Error: value: 'maybe' is not a boolean for relay0.state (use true/false, 1/0 or on/off)");
  EXPECT_EQ(say(kOperator, "set env0.temperature 20"), "Error: channel: env0.temperature is a sensor and cannot be set");
  EXPECT_EQ(say(kOperator, "set nope.x 1"), "Error: channel: unknown channel 'nope.x'");
  EXPECT_EQ(say(kOperator, "set relay0.state"), "Usage: set <channel> <value>");
  EXPECT_EQ(say(kOperator, "set"), "Usage: set <channel> <value>");
  // The value is the rest of the line: a two-word value is not a boolean.
  EXPECT_EQ(say(kOperator, "set relay0.state on off"),
            "Error: value: 'on off' is not a boolean for relay0.state (use true/false, 1/0 or on/off)");
  board_->sim_gpio()->fail_next(17, hal::Err::Io);
  EXPECT_EQ(say(kOperator, "set relay0.state 1"), "Error: relay0.state: set failed: i/o error");
  EXPECT_FALSE(relay());
  EXPECT_EQ(host_.publishes, 0);
}

TEST_F(Chat, UnknownWordsGetAShortHelpLine) {
  EXPECT_EQ(say(kViewer, "hello there"), "Unknown command 'hello'. Try: help, status, read [channel]");
  EXPECT_EQ(say(kOperator, "reboot"), "Unknown command 'reboot'. Try: help, status, read [channel], set <channel> <value>");
  const std::string long_word(100, 'w');
  const std::string r = say(kViewer, long_word.c_str());
  EXPECT_EQ(r, "Unknown command '" + std::string(32, 'w') + "'. Try: help, status, read [channel]");
}

TEST_F(Chat, LongBodiesAreRefusedNotTruncated) {
  const std::string ok = "read " + std::string(agent::kChatBodyMax - 5, 'x');
  EXPECT_EQ(say(kViewer, ok.c_str()).rfind("Error: unknown channel", 0), 0u);
  const std::string too_long = "set relay0.state " + std::string(agent::kChatBodyMax, '1');
  EXPECT_EQ(say(kOperator, too_long.c_str()), "Message too long (at most 256 bytes). Try: help");
  EXPECT_FALSE(relay());
  // Surrounding whitespace does not count.
  const std::string padded = std::string(300, ' ') + "status" + std::string(300, '\n');
  EXPECT_EQ(say(kViewer, padded.c_str()).rfind("sim board", 0), 0u);
}

TEST_F(Chat, NoHeapAllocationPerMessage) {
  (void)say(kOperator, "read");  // warm-up
  const long before = xiot_test::allocation_count();
  const char* a = bot_->reply(kOperator, "read");
  const bool read_ok = a != nullptr;
  const char* b = bot_->reply(kOperator, "set relay0.state on");
  const bool set_ok = b != nullptr;
  const char* c = bot_->reply(kStranger, "help");
  const long after = xiot_test::allocation_count();
  EXPECT_EQ(after - before, 0);
  EXPECT_TRUE(read_ok);
  EXPECT_TRUE(set_ok);
  EXPECT_EQ(c, nullptr);
}

}  // namespace

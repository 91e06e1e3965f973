// agent/alerts: rule lines, the engine's states on a manual clock (above,
// below, hysteresis, for_s, flapping, missing readings, the bounded queue),
// the room message's exact text, persistence and a restart from it, and the
// publisher feeding the engine every sample. No sleeps, no network.
#include "agent/alerts.hpp"

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "agent/settings.hpp"
#include "alloc_counter.hpp"
#include "fakes.hpp"

namespace {

using agent::AlertEngine;
using agent::AlertRule;
using agent::AlertSettings;
using agent::AlertState;
using xiot_test::FakeDevice;
using xiot_test::FakeMonoClock;
using xiot_test::FakeWallClock;

AlertRule rule(const char* line) {
  AlertRule r;
  char why[128];
  EXPECT_TRUE(agent::parse_alert_rule(line, &r, why, sizeof why)) << line << ": " << why;
  return r;
}

std::string parse_error(const char* line) {
  AlertRule r;
  char why[128] = {};
  EXPECT_FALSE(agent::parse_alert_rule(line, &r, why, sizeof why)) << line;
  return why;
}

std::string formatted(const AlertRule& r) {
  char buf[agent::kAlertLineMax];
  EXPECT_TRUE(agent::format_alert_rule(buf, sizeof buf, r).ok());
  return buf;
}

TEST(AlertRules, LinesParseAndFormatBack) {
  EXPECT_EQ(formatted(rule("env0.temperature above 30 hysteresis 0.5 for 10")),
            "env0.temperature above 30 hysteresis 0.5 for 10");
  EXPECT_EQ(formatted(rule("  env0.temperature\tbelow -5.25  ")), "env0.temperature below -5.25");
  EXPECT_EQ(formatted(rule("adc0.ch0 above 1e3 for 0 hysteresis 0")), "adc0.ch0 above 1000");
  EXPECT_EQ(formatted(rule("a.b below 2 for 86400")), "a.b below 2 for 86400");
  const AlertRule r = rule("env0.temperature above 30.0 hysteresis 0.50 for 10");
  EXPECT_TRUE(agent::same_rule(r, rule("env0.temperature above 30 hysteresis 0.5 for 10")));
  EXPECT_FALSE(agent::same_rule(r, rule("env0.temperature above 30 hysteresis 0.5 for 11")));
  EXPECT_FALSE(agent::same_rule(r, rule("env0.temperature below 30 hysteresis 0.5 for 10")));
}

TEST(AlertRules, BadLinesSayWhatIsWrong) {
  EXPECT_EQ(parse_error(""), "empty rule; expected '<channel> above|below <number> [hysteresis <number>] [for <seconds>]'");
  EXPECT_EQ(parse_error("temperature above 3"), "channel 'temperature': expected device.quantity, like env0.temperature");
  EXPECT_EQ(parse_error("env0.t<x> above 3"),
            "channel 'env0.t<x>': expected device.quantity (letters, digits, '_', '-', '.')");
  EXPECT_EQ(parse_error("env0.temperature"), "expected 'above' or 'below' after the channel");
  EXPECT_EQ(parse_error("env0.temperature over 30"), "expected 'above' or 'below' after the channel, got 'over'");
  EXPECT_EQ(parse_error("env0.temperature above"), "expected a threshold after 'above'");
  EXPECT_EQ(parse_error("env0.temperature above thirty"), "threshold: 'thirty' is not a number");
  EXPECT_EQ(parse_error("env0.temperature above 1e13"), "threshold: '1e13' is out of range (at most 1e+12 in magnitude)");
  EXPECT_EQ(parse_error("env0.temperature above 30 hysteresis -1"), "hysteresis: '-1' must not be negative");
  EXPECT_EQ(parse_error("env0.temperature above 30 for 1.5"),
            "for: '1.5' is not a whole number of seconds from 0 to 86400");
  EXPECT_EQ(parse_error("env0.temperature above 30 for 86401"),
            "for: '86401' is not a whole number of seconds from 0 to 86400");
  EXPECT_EQ(parse_error("env0.temperature above 30 for"), "expected a number after 'for'");
  EXPECT_EQ(parse_error("env0.temperature above 30 for 1 for 2"), "'for' given twice");
  EXPECT_EQ(parse_error("env0.temperature above 30 during 5"),
            "expected 'hysteresis <number>' or 'for <seconds>', got 'during'");
  EXPECT_EQ(parse_error((std::string(70, 'a') + ".b above 1").c_str()), "channel name longer than 63 bytes");
}

TEST(AlertRules, DecimalsCompareExactly) {
  EXPECT_EQ(agent::compare_decimal(drv::Value::numeric(3000, -2), drv::Value::numeric(30, 0)), 0);
  EXPECT_EQ(agent::compare_decimal(drv::Value::numeric(3001, -2), drv::Value::numeric(30, 0)), 1);
  EXPECT_EQ(agent::compare_decimal(drv::Value::numeric(-5, -1), drv::Value::numeric(0, 0)), -1);
  // Too fine to align in 64 bits: still ordered.
  EXPECT_EQ(agent::compare_decimal(drv::Value::numeric(1, 18), drv::Value::numeric(1, -18)), 1);
  EXPECT_EQ(agent::compare_decimal(drv::Value::numeric(-1, 18), drv::Value::numeric(1, -18)), -1);
}

// A registry with one fake device "env0" (temperature, humidity, state) and
// the engine over it, on manual clocks.
class Engine : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dev = std::make_unique<FakeDevice>(
        "env0", std::vector<drv::ChannelSpec>{xiot_test::sensor("temperature", "Cel"),
                                              xiot_test::sensor("humidity", "%RH"),
                                              xiot_test::sensor("state", "", drv::ValueType::Boolean)});
    dev_ = dev.get();
    ASSERT_EQ(reg_.add(std::move(dev)), hal::Err::Ok);
    engine_ = std::make_unique<AlertEngine>(reg_, mono_, wall_);
  }
  void rules(std::vector<const char*> lines, const char* room = "alarms@conference.localhost") {
    AlertSettings s;
    std::snprintf(s.room, sizeof s.room, "%s", room);
    for (const char* l : lines) s.rules[s.count++] = rule(l);
    engine_->set_rules(s);
  }
  /// A reading of temperature (centi-degrees) after `after_ms`.
  void reading(int64_t centi, int64_t after_ms = 1000) {
    mono_.advance_ms(after_ms);
    wall_.advance_ms(after_ms);
    dev_->set_value(0, drv::Value::numeric(centi, -2));
    (void)reg_.sample_all();
    engine_->on_sampled(1u);
    (void)engine_->tick();
  }
  /// The queued messages as "ALARM 31.20" / "CLEAR 29.00 (+2)", emptying the queue.
  std::vector<std::string> drain() {
    std::vector<std::string> out;
    char v[48];
    while (engine_->queued() > 0) {
      const agent::AlertEvent& e = engine_->front();
      std::string s = e.alarm ? "ALARM " : "CLEAR ";
      std::snprintf(v, sizeof v, "%lld", static_cast<long long>(e.value.mantissa));
      s += v;
      if (e.suppressed != 0) s += " (+" + std::to_string(e.suppressed) + ")";
      out.push_back(s);
      engine_->pop();
    }
    return out;
  }
  using V = std::vector<std::string>;
  drv::Registry reg_;
  FakeDevice* dev_ = nullptr;
  FakeMonoClock mono_;
  FakeWallClock wall_;
  std::unique_ptr<AlertEngine> engine_;
};

TEST_F(Engine, AboveRaisesAtOnceAndClearsOnlyPastTheHysteresis) {
  rules({"env0.temperature above 30 hysteresis 0.5"});
  reading(2900);
  reading(3000);  // not above 30
  EXPECT_EQ(drain(), V{});
  EXPECT_EQ(engine_->state(0), AlertState::Normal);
  reading(3001);
  EXPECT_EQ(engine_->state(0), AlertState::Alarm);
  EXPECT_EQ(engine_->active_alarms(), 1u);
  EXPECT_EQ(drain(), V{"ALARM 3001"});
  reading(2990);  // below 30 but not below 29.5: still an alarm
  reading(2951);
  EXPECT_EQ(drain(), V{});
  EXPECT_EQ(engine_->state(0), AlertState::Alarm);
  reading(2950);  // at threshold - hysteresis: cleared
  EXPECT_EQ(drain(), V{"CLEAR 2950"});
  EXPECT_EQ(engine_->state(0), AlertState::Normal);
  EXPECT_EQ(engine_->active_alarms(), 0u);
}

TEST_F(Engine, BelowMirrorsAbove) {
  rules({"env0.temperature below 5 hysteresis 1"});
  reading(500);
  EXPECT_EQ(drain(), V{});
  reading(499);
  EXPECT_EQ(drain(), V{"ALARM 499"});
  reading(550);
  reading(599);
  EXPECT_EQ(drain(), V{});
  reading(600);
  EXPECT_EQ(drain(), V{"CLEAR 600"});
}

TEST_F(Engine, ForSecondsWaitsForAReadingThatLongAfterTheFirstAndPendingFallsBackSilently) {
  rules({"env0.temperature above 30 for 10"});
  reading(3100);
  EXPECT_EQ(engine_->state(0), AlertState::Pending);
  reading(3100, 5000);  // 5 s into it
  EXPECT_EQ(engine_->state(0), AlertState::Pending);
  reading(2900, 1000);  // the condition broke: back to normal, nothing said
  EXPECT_EQ(engine_->state(0), AlertState::Normal);
  reading(3100, 1000);  // starts again
  reading(3100, 9999);
  EXPECT_EQ(engine_->state(0), AlertState::Pending);
  EXPECT_EQ(drain(), V{});
  reading(3200, 1);  // 10 s exactly
  EXPECT_EQ(engine_->state(0), AlertState::Alarm);
  EXPECT_EQ(drain(), V{"ALARM 3200"});
  // for_s does not delay the clearing.
  reading(3000);
  EXPECT_EQ(drain(), V{"CLEAR 3000"});
}

TEST_F(Engine, FlappingSendsOnePairPerMinuteAndCountsTheRest) {
  rules({"env0.temperature above 30"});
  reading(3100, 1000);
  reading(2900, 1000);
  EXPECT_EQ(drain(), (V{"ALARM 3100", "CLEAR 2900"}));
  // Flapping every second for 20 s: nothing more is sent.
  for (int i = 0; i < 10; ++i) {
    reading(3100 + i, 1000);
    reading(2900, 1000);
  }
  EXPECT_EQ(drain(), V{});
  // It ends in alarm, 23 s after the first one: the room hears of it when
  // the minute since the last ALARM is up, from tick() alone.
  reading(3150, 1000);
  EXPECT_EQ(engine_->state(0), AlertState::Alarm);
  EXPECT_EQ(drain(), V{});
  mono_.advance_ms(30000);
  (void)engine_->tick();
  EXPECT_EQ(drain(), V{});
  mono_.advance_ms(8000);  // 60 s since the ALARM
  (void)engine_->tick();
  // 21 changes happened untold: this message tells the last; 20 more.
  EXPECT_EQ(drain(), V{"ALARM 3150 (+20)"});
  // Its clearing goes at once (the pair stays a pair).
  reading(2900, 1000);
  EXPECT_EQ(drain(), V{"CLEAR 2900"});
  // A flap that ends where the room already is gets mentioned in the next message.
  reading(3100, 1000);
  reading(2900, 1000);
  EXPECT_EQ(drain(), V{});
  mono_.advance_ms(60000);
  (void)engine_->tick();
  EXPECT_EQ(drain(), V{});
  reading(3300, 1000);
  EXPECT_EQ(drain(), V{"ALARM 3300 (+2)"});
}

TEST_F(Engine, TickSaysWhenTheDeferredMessageIsDue) {
  rules({"env0.temperature above 30"});
  reading(3100);
  reading(2900);
  reading(3100);
  EXPECT_EQ(drain(), (V{"ALARM 3100", "CLEAR 2900"}));
  const hal::MonoTime due = engine_->tick();
  EXPECT_EQ(due.us_since(mono_.now), 58000000);
}

TEST_F(Engine, MissingReadingsNeitherRaiseNorClear) {
  rules({"env0.temperature above 30 for 5"});
  reading(3100);
  EXPECT_EQ(engine_->state(0), AlertState::Pending);
  dev_->sample_error = hal::Err::Timeout;
  for (int i = 0; i < 10; ++i) reading(2000);  // failed samples: ignored
  EXPECT_EQ(engine_->state(0), AlertState::Pending);
  dev_->sample_error = hal::Err::Ok;
  reading(3100);  // 11 s after the first: the pending rule kept waiting
  EXPECT_EQ(drain(), V{"ALARM 3100"});
  dev_->get_error = hal::Err::Io;  // the channel's get() fails
  dev_->get_error_channel = 0;
  reading(2000);
  EXPECT_EQ(engine_->state(0), AlertState::Alarm);
  dev_->get_error = hal::Err::Ok;
  // A sample of other devices only: this rule is not evaluated.
  mono_.advance_ms(1000);
  dev_->set_value(0, drv::Value::numeric(2000, -2));
  engine_->on_sampled(2u);
  EXPECT_EQ(engine_->state(0), AlertState::Alarm);
  reading(2000);
  EXPECT_EQ(drain(), V{"CLEAR 2000"});
}

TEST_F(Engine, QueueIsBoundedAndDropsTheOldest) {
  // Eight rules alarm and clear, nobody takes the messages (offline).
  std::vector<const char*> lines(8, "env0.temperature above 30");
  rules(lines);
  reading(3100);
  reading(2900);
  EXPECT_EQ(engine_->queued(), AlertEngine::kQueueMax);
  EXPECT_EQ(engine_->dropped(), 8u);
  EXPECT_EQ(engine_->messages(), 16u);
  // What is left is the newest: the eight clears.
  EXPECT_EQ(drain(), V(8, "CLEAR 2900"));
}

TEST_F(Engine, RulesOnMissingOrNonNumericChannelsStayInactive) {
  rules({"env0.temperature above 30", "env1.temperature above 30", "env0.state above 0"});
  EXPECT_EQ(engine_->inactive(), 2u);
  EXPECT_STREQ(agent::alert_rule_channel_problem(reg_, engine_->settings().rules[1], nullptr, nullptr),
               "no such channel on this board");
  EXPECT_STREQ(agent::alert_rule_channel_problem(reg_, engine_->settings().rules[2], nullptr, nullptr),
               "not a numeric channel");
  reading(3100);
  EXPECT_EQ(drain(), V{"ALARM 3100"});
  EXPECT_EQ(engine_->state(1), AlertState::Normal);
}

TEST_F(Engine, NewRulesKeepTheStateOfEqualOnes) {
  rules({"env0.temperature above 30", "env0.humidity below 10"});
  dev_->set_value(1, drv::Value::numeric(50, 0));
  reading(3100);
  EXPECT_EQ(engine_->queued(), 1u);
  // The same temperature rule, moved to second place; the humidity rule gone.
  rules({"env0.humidity above 90", "env0.temperature above 30.0"});
  EXPECT_EQ(engine_->state(0), AlertState::Normal);
  EXPECT_EQ(engine_->state(1), AlertState::Alarm);
  ASSERT_EQ(engine_->queued(), 1u);
  EXPECT_EQ(engine_->front().rule, 1u);  // the queued ALARM follows its rule
  engine_->pop();
  reading(2900);
  EXPECT_EQ(drain(), V{"CLEAR 2900"});
  // A changed rule starts afresh.
  reading(3100);
  EXPECT_EQ(drain(), V{});  // within the minute: deferred
  rules({"env0.humidity above 90", "env0.temperature above 31"});
  EXPECT_EQ(engine_->state(1), AlertState::Normal);
}

TEST_F(Engine, MessageTextIsExact) {
  rules({"env0.temperature above 30 hysteresis 0.5 for 10"});
  wall_.now.unix_us = 1796551200000000 - 1000;  // 2026-12-06T10:00:00Z after the reading's step
  reading(3120, 0);
  reading(3120, 10000);
  ASSERT_EQ(engine_->queued(), 1u);
  char buf[1024];
  ASSERT_TRUE(engine_->format_message(buf, sizeof buf, engine_->front(), "dev1@localhost").ok());
  EXPECT_STREQ(buf,
               "<body>ALARM dev1@localhost env0.temperature 31.20 Cel above 30 for 10 s</body>"
               "<alert xmlns='urn:xiot:alert:0' device='dev1@localhost' channel='env0.temperature' state='alarm' "
               "comparison='above' threshold='30' value='31.20' unit='Cel' at='2026-12-06T10:00:09Z'/>");
  engine_->pop();
  reading(2950);
  ASSERT_TRUE(engine_->format_message(buf, sizeof buf, engine_->front(), "d<1>@x").ok());
  EXPECT_STREQ(buf,
               "<body>CLEAR d&lt;1&gt;@x env0.temperature 29.50 Cel no longer above 30</body>"
               "<alert xmlns='urn:xiot:alert:0' device='d&lt;1&gt;@x' channel='env0.temperature' state='clear' "
               "comparison='above' threshold='30' value='29.50' unit='Cel' at='2026-12-06T10:00:10Z'/>");
  agent::AlertEvent e = engine_->front();
  e.suppressed = 3;
  ASSERT_TRUE(engine_->format_message(buf, sizeof buf, e, "dev1@localhost").ok());
  EXPECT_NE(std::string(buf).find("no longer above 30 (3 more changes suppressed)</body>"), std::string::npos) << buf;
  EXPECT_NE(std::string(buf).find(" suppressed='3'/>"), std::string::npos) << buf;
  EXPECT_EQ(engine_->format_message(buf, 40, engine_->front(), "dev1@localhost").error(), hal::Err::Overflow);
  e.rule = 5;
  EXPECT_EQ(engine_->format_message(buf, sizeof buf, e, "dev1@localhost").error(), hal::Err::InvalidArgument);
}

TEST_F(Engine, NoHeapPerReading) {
  rules({"env0.temperature above 30 hysteresis 0.5", "env0.humidity below 10 for 5"});
  char buf[1024];
  reading(2900);
  const long before = xiot_test::allocation_count();
  for (int i = 0; i < 200; ++i) {
    reading(i % 2 == 0 ? 3100 : 2900, 1000);
    while (engine_->queued() > 0) {
      (void)engine_->format_message(buf, sizeof buf, engine_->front(), "dev1@localhost");
      engine_->pop();
    }
  }
  EXPECT_EQ(xiot_test::allocation_count(), before);
}

class MemoryStorage : public hal::Storage {
 public:
  hal::Result<size_t> read(const char* key, uint8_t* buf, size_t cap) override {
    auto it = files.find(key);
    if (it == files.end()) return hal::Err::NotFound;
    if (it->second.size() > cap) return hal::Err::Overflow;
    std::memcpy(buf, it->second.data(), it->second.size());
    return it->second.size();
  }
  hal::Err replace(const char* key, const uint8_t* data, size_t len) override {
    files[key] = std::string(reinterpret_cast<const char*>(data), len);
    return hal::Err::Ok;
  }
  hal::Err remove(const char* key) override {
    files.erase(key);
    return hal::Err::Ok;
  }
  std::map<std::string, std::string> files;
};

TEST_F(Engine, PersistedRulesSurviveARestart) {
  AlertSettings s;
  std::snprintf(s.room, sizeof s.room, "alarms@conference.localhost");
  std::snprintf(s.nick, sizeof s.nick, "dev1");
  s.rules[s.count++] = rule("env0.temperature above 30 hysteresis 0.5 for 10");
  s.rules[s.count++] = rule("env0.humidity below -2.5");
  MemoryStorage storage;
  ASSERT_EQ(agent::save_alerts(storage, agent::kAlertsKey, s), hal::Err::Ok);
  EXPECT_EQ(storage.files[agent::kAlertsKey],
            "{\"version\":1,\"room\":\"alarms@conference.localhost\",\"nick\":\"dev1\",\"rules\":"
            "[\"env0.temperature above 30 hysteresis 0.5 for 10\",\"env0.humidity below -2.5\"]}");
  // A new engine (the agent restarted) from what was persisted.
  AlertSettings loaded;
  ASSERT_EQ(agent::load_alerts(storage, agent::kAlertsKey, &loaded), hal::Err::Ok);
  EXPECT_STREQ(loaded.room, s.room);
  EXPECT_STREQ(loaded.nick, "dev1");
  ASSERT_EQ(loaded.count, 2u);
  EXPECT_TRUE(agent::same_rule(loaded.rules[0], s.rules[0]));
  EXPECT_TRUE(agent::same_rule(loaded.rules[1], s.rules[1]));
  engine_ = std::make_unique<AlertEngine>(reg_, mono_, wall_);
  engine_->set_rules(loaded);
  reading(3100);
  reading(3100, 10000);
  EXPECT_EQ(drain(), V{"ALARM 3100"});
  // Errors: never saved, damaged, a bad line, quotes in the room.
  AlertSettings untouched;
  EXPECT_EQ(agent::load_alerts(storage, "other.json", &untouched), hal::Err::NotFound);
  storage.files["bad.json"] = "{\"version\":1,\"room\":\"a@b\",\"rules\":[\"env0.t over 3\"]}";
  EXPECT_EQ(agent::load_alerts(storage, "bad.json", &untouched), hal::Err::Corrupt);
  storage.files["bad.json"] = "{\"version\":2,\"room\":\"a@b\",\"rules\":[]}";
  EXPECT_EQ(agent::load_alerts(storage, "bad.json", &untouched), hal::Err::Corrupt);
  storage.files["bad.json"] = "not json";
  EXPECT_EQ(agent::load_alerts(storage, "bad.json", &untouched), hal::Err::Corrupt);
  EXPECT_EQ(untouched.count, 0u);
  std::snprintf(s.room, sizeof s.room, "a\"b@c");
  EXPECT_EQ(agent::save_alerts(storage, agent::kAlertsKey, s), hal::Err::InvalidArgument);
}

// The publisher tells its observer of every sample, published or not.
class CountingObserver : public agent::SampleObserver {
 public:
  void on_sampled(uint32_t devices) override {
    ++calls;
    last = devices;
  }
  int calls = 0;
  uint32_t last = 0;
};

TEST_F(Engine, ThePublisherFeedsEverySampleBatchedOrNot) {
  agent::TelemetryConfig cfg;
  cfg.interval_s = 1;
  cfg.batch_max = 5;  // nothing published for five samples
  cfg.batch_window_s = 0;
  xiot_test::FakeSink sink(&mono_);
  agent::TelemetryPublisher pub(reg_, mono_, wall_, cfg, "dev1@localhost", "7f3a12cd", sink);
  CountingObserver seen;
  pub.set_sample_observer(&seen);
  ASSERT_EQ(pub.start(), hal::Err::Ok);
  for (int i = 0; i < 3; ++i) {
    (void)pub.tick();
    mono_.advance_ms(1000);
  }
  EXPECT_EQ(seen.calls, 3);
  EXPECT_EQ(seen.last, 1u);
  EXPECT_EQ(sink.items.size(), 0u);
  // And through it, the engine sees the readings.
  rules({"env0.temperature above 30"});
  pub.set_sample_observer(engine_.get());
  dev_->set_value(0, drv::Value::numeric(3100, -2));
  (void)pub.tick();
  EXPECT_EQ(drain(), V{"ALARM 3100"});
}

}  // namespace

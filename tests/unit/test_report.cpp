// Event-driven reporting in agent/telemetry (drv::ReportPolicy): deadband
// crossings, the heartbeat at the interval, on_change inputs published at
// once, `set` published at once, event items with only the changed
// channels, and no heap per event. Manual clocks; no sleeps.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "agent/log.hpp"
#include "agent/senml_pb_decode.hpp"
#include "agent/telemetry.hpp"
#include "alloc_counter.hpp"
#include "boards/board.hpp"
#include "boards/report.hpp"
#include "drv/report.hpp"
#include "fakes.hpp"
#include "hal/sim/manual_clock.hpp"
#include "hal/sim/sim_gpio.hpp"

namespace {

using drv::ReportPolicy;
using xiot_test::FakeDevice;

void quiet(void*, agent::LogLevel, const char*, size_t) {}

bool has(const std::string& payload, const std::string& text) { return payload.find(text) != std::string::npos; }

class Report : public ::testing::Test {
 protected:
  // Registry channels: env0.temperature, env0.humidity, button0.state, relay0.state.
  void SetUp() override {
    agent::log_set_sink(quiet, nullptr);
    auto env = std::make_unique<FakeDevice>(
        "env0", std::vector<drv::ChannelSpec>{xiot_test::sensor("temperature", "Cel"),
                                              xiot_test::sensor("humidity", "%RH")});
    auto button = std::make_unique<FakeDevice>(
        "button0", std::vector<drv::ChannelSpec>{xiot_test::sensor("state", "", drv::ValueType::Boolean)});
    auto relay = std::make_unique<FakeDevice>("relay0",
                                              std::vector<drv::ChannelSpec>{xiot_test::actuator("state", "")});
    env_ = env.get();
    button_ = button.get();
    relay_ = relay.get();
    env_->set_value(0, drv::Value::numeric(2154, -2));
    env_->set_value(1, drv::Value::numeric(401, -1));
    button_->set_value(0, drv::Value::boolean(false));
    relay_->set_value(0, drv::Value::boolean(false));
    ASSERT_EQ(reg_.add(std::move(env)), hal::Err::Ok);
    ASSERT_EQ(reg_.add(std::move(button)), hal::Err::Ok);
    ASSERT_EQ(reg_.add(std::move(relay)), hal::Err::Ok);
    cfg_.interval_s = 60;
    cfg_.sample_s = 1;
    cfg_.batch_max = 1;
    // temperature: deadband 0.2 Cel; humidity: interval; button and relay: on_change.
    policies_ = {ReportPolicy::deadband(2, -1), ReportPolicy::interval(), ReportPolicy::on_change(),
                 ReportPolicy::on_change()};
  }
  void TearDown() override { agent::log_set_sink(nullptr, nullptr); }

  std::unique_ptr<agent::TelemetryPublisher> start() {
    auto p = std::make_unique<agent::TelemetryPublisher>(reg_, mono_, wall_, cfg_, "dev1@localhost", "7f3a12cd",
                                                         sink_);
    sink_.listener = &p->outbox();
    p->set_report_policies(policies_.data(), policies_.size());
    EXPECT_EQ(p->start(), hal::Err::Ok);
    (void)p->tick();  // the first slot: everything, once
    EXPECT_EQ(sink_.items.size(), 1u);
    return p;
  }
  void advance_ms(int64_t ms) {
    mono_.advance_ms(ms);
    wall_.advance_ms(ms);
  }

  drv::Registry reg_;
  FakeDevice* env_ = nullptr;
  FakeDevice* button_ = nullptr;
  FakeDevice* relay_ = nullptr;
  xiot_test::FakeMonoClock mono_;
  xiot_test::FakeWallClock wall_;
  xiot_test::FakeSink sink_{&mono_};
  agent::TelemetryConfig cfg_;
  std::vector<ReportPolicy> policies_;
};

TEST_F(Report, DeadbandPublishesOnlyWhenMovedMoreThanTheBand) {
  auto p = start();
  EXPECT_TRUE(p->event_driven());
  // 21.54 was published. +0.10: inside the band.
  env_->set_value(0, drv::Value::numeric(2164, -2));
  advance_ms(1000);
  (void)p->tick();
  EXPECT_EQ(sink_.items.size(), 1u);
  // Exactly 0.20 from 21.54: not more than the band.
  env_->set_value(0, drv::Value::numeric(2174, -2));
  advance_ms(1000);
  (void)p->tick();
  EXPECT_EQ(sink_.items.size(), 1u);
  // 0.21 from 21.54: published at this check, with that channel alone.
  env_->set_value(0, drv::Value::numeric(2175, -2));
  env_->set_value(1, drv::Value::numeric(999, -1));  // an interval channel: waits for its slot
  advance_ms(1000);
  (void)p->tick();
  ASSERT_EQ(sink_.items.size(), 2u);
  EXPECT_EQ(sink_.items[1].id, "7f3a12cd-000002");
  EXPECT_EQ(sink_.items[1].at, mono_.now);
  const std::string& item = sink_.items[1].payload;
  EXPECT_TRUE(has(item, "n='env0.temperature' u='Cel' v='21.75'")) << item;
  EXPECT_FALSE(has(item, "env0.humidity")) << item;
  EXPECT_FALSE(has(item, "button0.state")) << item;
  EXPECT_EQ(p->events_published(), 1u);
  // The band is measured from the last *published* value, 21.75, now:
  // falling 0.15 is inside it, falling 0.25 is not.
  env_->set_value(0, drv::Value::numeric(2160, -2));
  advance_ms(1000);
  (void)p->tick();
  EXPECT_EQ(sink_.items.size(), 2u);
  env_->set_value(0, drv::Value::numeric(2150, -2));
  advance_ms(1000);
  (void)p->tick();
  ASSERT_EQ(sink_.items.size(), 3u);
  EXPECT_TRUE(has(sink_.items[2].payload, "v='21.50'")) << sink_.items[2].payload;
}

TEST_F(Report, DeadbandComparesAcrossExponents) {
  // A band of 0.2 and values with other exponents: 2154e-2 -> 217e-1 is 0.16.
  auto p = start();
  env_->set_value(0, drv::Value::numeric(217, -1));
  advance_ms(1000);
  (void)p->tick();
  EXPECT_EQ(sink_.items.size(), 1u);
  env_->set_value(0, drv::Value::numeric(21755, -3));  // 0.215
  advance_ms(1000);
  (void)p->tick();
  EXPECT_EQ(sink_.items.size(), 2u);
}

TEST_F(Report, HeartbeatAtTheInterval) {
  auto p = start();
  // Nothing moves: no event items, but the channels are checked every sample_s
  // and tick() asks to be called for the next check, not the next slot.
  for (int s = 1; s < 60; ++s) {
    advance_ms(1000);
    const hal::MonoTime next = p->tick();
    EXPECT_EQ(next, mono_.now.plus_ms(1000)) << "at " << s << " s";
  }
  EXPECT_EQ(sink_.items.size(), 1u);
  EXPECT_EQ(env_->sample_calls, 60);  // the first slot and 59 checks
  EXPECT_EQ(relay_->sample_calls, 60);
  advance_ms(1000);
  (void)p->tick();  // 60 s: the slot is the heartbeat, with every channel
  ASSERT_EQ(sink_.items.size(), 2u);
  const std::string& item = sink_.items[1].payload;
  EXPECT_TRUE(has(item, "env0.temperature")) << item;
  EXPECT_TRUE(has(item, "env0.humidity")) << item;
  EXPECT_TRUE(has(item, "button0.state")) << item;
  EXPECT_TRUE(has(item, "relay0.state")) << item;
  EXPECT_EQ(p->events_published(), 0u);
}

TEST_F(Report, HeartbeatResetsTheDeadbandReference) {
  auto p = start();
  env_->set_value(0, drv::Value::numeric(2170, -2));  // +0.16: inside the band
  advance_ms(60000);
  (void)p->tick();  // the heartbeat publishes 21.70
  ASSERT_EQ(sink_.items.size(), 2u);
  env_->set_value(0, drv::Value::numeric(2185, -2));  // +0.15 from the heartbeat's 21.70
  advance_ms(1000);
  (void)p->tick();
  EXPECT_EQ(sink_.items.size(), 2u);
}

TEST_F(Report, OnChangeInputPublishesAtOnce) {
  auto p = start();
  const int env_samples = env_->sample_calls;
  // A debounced edge between two checks: the next tick, at the same instant,
  // publishes the button alone; env0 is not sampled for it.
  advance_ms(300);
  button_->set_value(0, drv::Value::boolean(true));
  button_->changes = true;
  (void)p->tick();
  ASSERT_EQ(sink_.items.size(), 2u);
  EXPECT_EQ(sink_.items[1].at, mono_.now);
  const std::string& item = sink_.items[1].payload;
  EXPECT_TRUE(has(item, "n='button0.state' vb='true'")) << item;
  EXPECT_FALSE(has(item, "env0")) << item;
  EXPECT_FALSE(has(item, "relay0")) << item;
  EXPECT_EQ(env_->sample_calls, env_samples);
  // Polled on every tick, also the ones that do nothing else.
  const int polls = button_->poll_calls;
  (void)p->tick();
  EXPECT_EQ(button_->poll_calls, polls + 1);
  EXPECT_EQ(sink_.items.size(), 2u);
  // The check at sample_s does not publish it again (it did not change).
  advance_ms(1000);
  (void)p->tick();
  EXPECT_EQ(sink_.items.size(), 2u);
}

TEST_F(Report, EdgeThatReturnedIsStillPublished) {
  // Pressed and released between two polls: the value is back where it was,
  // but the driver saw an edge; the event is reported with the current value.
  auto p = start();
  button_->changes = true;
  (void)p->tick();
  ASSERT_EQ(sink_.items.size(), 2u);
  EXPECT_TRUE(has(sink_.items[1].payload, "n='button0.state' vb='false'")) << sink_.items[1].payload;
}

TEST_F(Report, OnChangeWithoutEdgesIsSeenAtTheCheck) {
  // A device that does not report edges itself (poll_changes() false): the
  // sample_s check finds the change.
  auto p = start();
  button_->set_value(0, drv::Value::boolean(true));
  advance_ms(500);
  (void)p->tick();
  EXPECT_EQ(sink_.items.size(), 1u);
  advance_ms(500);
  (void)p->tick();
  ASSERT_EQ(sink_.items.size(), 2u);
  EXPECT_TRUE(has(sink_.items[1].payload, "n='button0.state' vb='true'")) << sink_.items[1].payload;
}

TEST_F(Report, SetPublishesAtOnce) {
  auto p = start();
  advance_ms(200);
  relay_->set_value(0, drv::Value::boolean(true));
  p->publish_channel(*relay_, 0);  // what `set` does
  ASSERT_EQ(sink_.items.size(), 2u);
  EXPECT_EQ(sink_.items[1].at, mono_.now);
  const std::string& item = sink_.items[1].payload;
  EXPECT_TRUE(has(item, "n='relay0.state' vb='true'")) << item;
  EXPECT_FALSE(has(item, "env0")) << item;
  // A set to the same value is still an event: the command is.
  p->publish_channel(*relay_, 0);
  EXPECT_EQ(sink_.items.size(), 3u);
  EXPECT_EQ(sink_.items[2].id, "7f3a12cd-000003");
}

TEST_F(Report, SetOnAnIntervalChannelPublishesEverything) {
  policies_[3] = ReportPolicy::interval();
  auto p = start();
  advance_ms(200);
  p->publish_channel(*relay_, 0);
  ASSERT_EQ(sink_.items.size(), 2u);
  EXPECT_TRUE(has(sink_.items[1].payload, "env0.humidity")) << sink_.items[1].payload;
  EXPECT_TRUE(has(sink_.items[1].payload, "relay0.state")) << sink_.items[1].payload;
}

TEST_F(Report, EventClosesTheBatchAndKeepsOrder) {
  cfg_.batch_max = 3;
  auto p = std::make_unique<agent::TelemetryPublisher>(reg_, mono_, wall_, cfg_, "dev1@localhost", "7f3a12cd",
                                                       sink_);
  sink_.listener = &p->outbox();
  p->set_report_policies(policies_.data(), policies_.size());
  ASSERT_EQ(p->start(), hal::Err::Ok);
  (void)p->tick();  // one snapshot batched, not yet an item
  EXPECT_EQ(sink_.items.size(), 0u);
  button_->set_value(0, drv::Value::boolean(true));
  button_->changes = true;
  (void)p->tick();
  // The batch (first slot) and the event leave together, as one item.
  ASSERT_EQ(sink_.items.size(), 1u);
  const std::string& item = sink_.items[0].payload;
  EXPECT_TRUE(has(item, "env0.humidity")) << item;
  EXPECT_LT(item.find("vb='false'"), item.rfind("n='button0.state'")) << item;
  EXPECT_EQ(p->batched(), 0u);
}

TEST_F(Report, ProtobufEventItemHoldsTheChangedChannel) {
  cfg_.encoding = agent::Encoding::Protobuf;
  auto p = start();
  relay_->set_value(0, drv::Value::boolean(true));
  p->publish_channel(*relay_, 0);
  ASSERT_EQ(sink_.items.size(), 2u);
  std::vector<agent::DecodedRecord> recs;
  ASSERT_EQ(agent::decode_senml_pb(sink_.items[1].payload.data(), sink_.items[1].payload.size(), &recs),
            hal::Err::Ok);
  ASSERT_EQ(recs.size(), 1u);
  EXPECT_EQ(recs[0].name, "relay0.state");
  EXPECT_EQ(recs[0].type, drv::ValueType::Boolean);
  EXPECT_TRUE(recs[0].flag);
}

TEST_F(Report, IntervalOnlyBoardsAreNotSampledBetweenSlots) {
  policies_.assign(4, ReportPolicy::interval());
  auto p = start();
  EXPECT_FALSE(p->event_driven());
  advance_ms(1000);
  EXPECT_EQ(p->tick(), mono_.now.plus_ms(59000));
  EXPECT_EQ(env_->sample_calls, 1);
  EXPECT_EQ(button_->poll_calls, 0);
}

TEST_F(Report, StartRejectsPoliciesThatDoNotFit) {
  auto make = [this] {
    return std::make_unique<agent::TelemetryPublisher>(reg_, mono_, wall_, cfg_, "dev1@localhost", "7f3a12cd",
                                                       sink_);
  };
  auto short_list = make();
  short_list->set_report_policies(policies_.data(), 3);
  EXPECT_EQ(short_list->start(), hal::Err::InvalidArgument);
  std::vector<ReportPolicy> on_bool = policies_;
  on_bool[2] = ReportPolicy::deadband(1, 0);  // button0.state is boolean
  auto bad = make();
  bad->set_report_policies(on_bool.data(), on_bool.size());
  EXPECT_EQ(bad->start(), hal::Err::InvalidArgument);
  cfg_.sample_s = 0.01;
  auto fast = make();
  EXPECT_EQ(fast->start(), hal::Err::InvalidArgument);
}

TEST_F(Report, ReconfigureChangesTheSamplePeriod) {
  auto p = start();
  EXPECT_EQ(p->sample_us(), 1000000);
  ASSERT_EQ(p->reconfigure(60, 1, 5), hal::Err::Ok);
  EXPECT_EQ(p->sample_us(), 5000000);
  EXPECT_EQ(p->reconfigure(60, 1, 0.01), hal::Err::InvalidArgument);
  ASSERT_EQ(p->reconfigure(30, 1), hal::Err::Ok);  // 0 keeps it
  EXPECT_EQ(p->sample_us(), 5000000);
  env_->set_value(0, drv::Value::numeric(3000, -2));
  advance_ms(4000);
  (void)p->tick();
  EXPECT_EQ(sink_.items.size(), 1u);
  advance_ms(1000);
  (void)p->tick();
  EXPECT_EQ(sink_.items.size(), 2u);
}

TEST_F(Report, NoHeapPerEvent) {
  xiot_test::FakeSink counting(&mono_, /*record=*/false);
  agent::TelemetryPublisher p(reg_, mono_, wall_, cfg_, "dev1@localhost", "7f3a12cd", counting);
  counting.listener = &p.outbox();
  p.set_report_policies(policies_.data(), policies_.size());
  ASSERT_EQ(p.start(), hal::Err::Ok);
  (void)p.tick();
  const long before = xiot_test::allocation_count();
  for (int i = 0; i < 50; ++i) {
    button_->set_value(0, drv::Value::boolean(i % 2 == 0));
    button_->changes = true;
    env_->set_value(0, drv::Value::numeric(2154 + 50 * (i % 2), -2));
    advance_ms(1000);
    (void)p.tick();
    p.publish_channel(*relay_, 0);
  }
  const long after = xiot_test::allocation_count();
  EXPECT_EQ(after - before, 0);
  // Each turn: the edge (with the deadband crossing, one item) and the set.
  EXPECT_EQ(p.events_published(), 100u);
  EXPECT_EQ(counting.accepted, 101);
}

// The shipped sim board's button (xiot,gpio-input on SimGpio pin 27, active
// low, debounced 20 ms) with "report": "on_change": a press reaches the sink
// once the debounce has settled, through the driver's poll_changes(), long
// before the 1 s check and the 60 s interval.
TEST(ReportSimBoard, ButtonEdgePublishesAtOnce) {
  agent::log_set_sink(quiet, nullptr);
  hal::sim::ManualClock clock;
  std::string error;
  boards::BoardSpec spec;
  ASSERT_TRUE(boards::parse_board(XIOT_BOARDS_DIR "/sim/board.json", &spec, &error)) << error;
  for (boards::DeviceSpec& d : spec.devices) {
    if (d.name == "button0") d.report.push_back(boards::ReportSpec{"", drv::ReportPolicy::on_change()});
  }
  auto board = boards::Board::create(spec, clock, clock, &error);
  ASSERT_NE(board, nullptr) << error;
  const std::vector<drv::ReportPolicy> policies = boards::report_policies(*board);
  agent::TelemetryConfig cfg;
  cfg.interval_s = 60;
  cfg.sample_s = 1;
  xiot_test::FakeSink sink(&clock);
  agent::TelemetryPublisher p(board->registry(), clock, clock, cfg, "dev1@localhost", "7f3a12cd", sink);
  sink.listener = &p.outbox();
  p.set_report_policies(policies.data(), policies.size());
  ASSERT_EQ(p.start(), hal::Err::Ok);
  (void)p.tick();
  ASSERT_EQ(sink.items.size(), 1u);
  EXPECT_NE(sink.items[0].payload.find("n='button0.state' vb='false'"), std::string::npos) << sink.items[0].payload;

  clock.advance_ms(100);
  board->sim_gpio()->set_external(27, false);  // pressed: the line goes low
  const hal::MonoTime pressed = clock.mono_now();
  for (int ms = 0; ms < 900 && sink.items.size() == 1; ms += 5) {
    clock.advance_ms(5);
    (void)p.tick();
  }
  ASSERT_EQ(sink.items.size(), 2u);
  EXPECT_LT(sink.items[1].at.us_since(pressed), 100000) << "published after the debounce, not at the 1 s check";
  const std::string& item = sink.items[1].payload;
  EXPECT_NE(item.find("n='button0.state' vb='true'"), std::string::npos) << item;
  EXPECT_EQ(item.find("env0"), std::string::npos) << item;
  agent::log_set_sink(nullptr, nullptr);
}

}  // namespace

namespace {

TEST_F(Report, OnChangeEventLeavesAtOnceWithABatchingWindow) {
  cfg_.interval_s = 0.1;
  cfg_.batch_window_s = 1;  // 10 readings per item
  cfg_.sample_s = 0.1;
  auto p = std::make_unique<agent::TelemetryPublisher>(reg_, mono_, wall_, cfg_, "dev1@localhost", "7f3a12cd",
                                                       sink_);
  sink_.listener = &p->outbox();
  p->set_report_policies(policies_.data(), policies_.size());
  ASSERT_EQ(p->start(), hal::Err::Ok);
  ASSERT_EQ(p->batch_max(), 10u);
  (void)p->tick();
  advance_ms(100);
  (void)p->tick();
  EXPECT_TRUE(sink_.items.empty());  // two readings wait for the window
  EXPECT_EQ(p->batched(), 2u);
  advance_ms(30);
  button_->set_value(0, drv::Value::boolean(true));
  button_->changes = true;
  (void)p->tick();
  // The edge goes out now, closing the batch with it: one item, the two
  // readings and the event.
  ASSERT_EQ(sink_.items.size(), 1u);
  EXPECT_EQ(sink_.items[0].at, mono_.now);
  EXPECT_TRUE(has(sink_.items[0].payload, "n='button0.state' t='0.13' vb='true'")) << sink_.items[0].payload;
  EXPECT_EQ(p->batched(), 0u);
  // A `set` command publishes at once as well.
  advance_ms(10);
  relay_->set_value(0, drv::Value::boolean(true));
  p->publish_channel(*relay_, 0);
  ASSERT_EQ(sink_.items.size(), 2u);
  EXPECT_EQ(sink_.items[1].at, mono_.now);
  EXPECT_TRUE(has(sink_.items[1].payload, "relay0.state")) << sink_.items[1].payload;
}

}  // namespace

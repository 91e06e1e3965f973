// agent/telemetry: schedule, batching, ids, the outbox in memory and with a
// journal (journaled before published, ids continued after a restart), flush
// order, encodings, no heap after start().
#include "agent/telemetry.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "agent/log.hpp"
#include "alloc_counter.hpp"
#include "agent/senml_pb_decode.hpp"
#include "fakes.hpp"
#include "hal/sim/sim_segment_store.hpp"

namespace {

using xiot_test::FakeDevice;
using xiot_test::FakeMonoClock;
using xiot_test::FakeSink;
using xiot_test::FakeWallClock;

void quiet(void*, agent::LogLevel, const char*, size_t) {}

class Telemetry : public ::testing::Test {
 protected:
  void SetUp() override {
    agent::log_set_sink(quiet, nullptr);
    auto env = std::make_unique<FakeDevice>(
        "env0", std::vector<drv::ChannelSpec>{xiot_test::sensor("temperature", "Cel"),
                                              xiot_test::sensor("humidity", "%RH")});
    auto relay = std::make_unique<FakeDevice>("relay0",
                                              std::vector<drv::ChannelSpec>{xiot_test::actuator("state", "")});
    env_ = env.get();
    relay_ = relay.get();
    env_->set_value(0, drv::Value::numeric(2154, -2));
    env_->set_value(1, drv::Value::numeric(401, -1));
    relay_->set_value(0, drv::Value::boolean(true));
    ASSERT_EQ(reg_.add(std::move(env)), hal::Err::Ok);
    ASSERT_EQ(reg_.add(std::move(relay)), hal::Err::Ok);
    cfg_.interval_s = 10;
    cfg_.batch_max = 1;
  }
  void TearDown() override { agent::log_set_sink(nullptr, nullptr); }

  std::unique_ptr<agent::TelemetryPublisher> make(const char* boot_id = "7f3a12cd") {
    auto p = std::make_unique<agent::TelemetryPublisher>(reg_, mono_, wall_, cfg_, "dev1@localhost", boot_id,
                                                         sink_);
    sink_.listener = &p->outbox();  // the sink answers each publish at once
    return p;
  }
  /// Advances both clocks together.
  void advance_ms(int64_t ms) {
    mono_.advance_ms(ms);
    wall_.advance_ms(ms);
  }

  drv::Registry reg_;
  FakeDevice* env_ = nullptr;
  FakeDevice* relay_ = nullptr;
  FakeMonoClock mono_;
  FakeWallClock wall_;
  FakeSink sink_{&mono_};
  agent::TelemetryConfig cfg_;
};

TEST(BootId, EightLowercaseHex) {
  char id[9];
  ASSERT_TRUE(agent::make_boot_id(id, sizeof id, 0).ok());
  EXPECT_STREQ(id, "00000000");
  ASSERT_TRUE(agent::make_boot_id(id, sizeof id, 0x0123456789ABCDEFull).ok());
  EXPECT_STREQ(id, "88888888");  // 0x89abcdef ^ 0x01234567
  ASSERT_TRUE(agent::make_boot_id(id, sizeof id, 0x7F3A12CDull).ok());
  EXPECT_STREQ(id, "7f3a12cd");
  char small[8];
  EXPECT_EQ(agent::make_boot_id(small, sizeof small, 1).error(), hal::Err::Overflow);
}

TEST(ItemId, ZeroPaddedSequence) {
  char id[32];
  ASSERT_TRUE(agent::format_item_id(id, sizeof id, "7f3a", 42).ok());
  EXPECT_STREQ(id, "7f3a-000042");
  ASSERT_TRUE(agent::format_item_id(id, sizeof id, "7f3a", 1234567).ok());
  EXPECT_STREQ(id, "7f3a-1234567");
  EXPECT_EQ(agent::format_item_id(id, 8, "7f3a", 1).error(), hal::Err::Overflow);
}

TEST_F(Telemetry, StartValidates) {
  cfg_.interval_s = 0.04;
  EXPECT_EQ(make()->start(), hal::Err::InvalidArgument);
  cfg_.interval_s = 10;
  cfg_.batch_max = 0;
  EXPECT_EQ(make()->start(), hal::Err::InvalidArgument);
  cfg_.batch_max = 101;
  EXPECT_EQ(make()->start(), hal::Err::InvalidArgument);
  cfg_.batch_max = 1;
  EXPECT_EQ(make("")->start(), hal::Err::InvalidArgument);
  EXPECT_EQ(make("has space")->start(), hal::Err::InvalidArgument);
  EXPECT_EQ(make("012345678901234567890123456789012")->start(), hal::Err::InvalidArgument);
  agent::TelemetryPublisher no_id(reg_, mono_, wall_, cfg_, nullptr, "b", sink_);
  EXPECT_EQ(no_id.start(), hal::Err::InvalidArgument);
  auto p = make();
  EXPECT_EQ(p->start(), hal::Err::Ok);
  EXPECT_EQ(p->start(), hal::Err::InvalidArgument);
}

TEST_F(Telemetry, NothingBeforeStart) {
  auto p = make();
  EXPECT_EQ(p->tick(), mono_.now);
  p->publish_now();
  EXPECT_EQ(p->samples_taken(), 0u);
  EXPECT_EQ(env_->sample_calls, 0);
  EXPECT_EQ(p->reconfigure(5, 1), hal::Err::InvalidArgument);
}

TEST_F(Telemetry, FirstTickPublishesAtOnce) {
  auto p = make();
  ASSERT_EQ(p->start(), hal::Err::Ok);
  const hal::MonoTime t0 = mono_.now;
  EXPECT_EQ(p->tick(), t0.plus_ms(10000));
  ASSERT_EQ(sink_.items.size(), 1u);
  EXPECT_EQ(sink_.items[0].id, "7f3a12cd-000001");
  EXPECT_EQ(sink_.items[0].payload,
            "<sensml xmlns='urn:ietf:params:xml:ns:senml'>"
            "<senml bn='dev1_localhost:' bt='1763900000.25' n='env0.temperature' u='Cel' v='21.54'/>"
            "<senml n='env0.humidity' u='%RH' v='40.1'/>"
            "<senml n='relay0.state' vb='true'/>"
            "</sensml>");
  EXPECT_EQ(p->samples_taken(), 1u);
  EXPECT_EQ(p->items_published(), 1u);
  EXPECT_STREQ(p->last_item_id(), "7f3a12cd-000001");
  EXPECT_EQ(p->pending(), 0u);
}

TEST_F(Telemetry, ItemsAtTheRightTimesWithSequentialIds) {
  auto p = make();
  ASSERT_EQ(p->start(), hal::Err::Ok);
  const hal::MonoTime t0 = mono_.now;
  hal::MonoTime due = p->tick();
  for (int i = 1; i < 5; ++i) {
    // Ticks before the due time do nothing.
    mono_.now = due.plus_us(-1);
    EXPECT_EQ(p->tick(), due);
    EXPECT_EQ(sink_.items.size(), static_cast<size_t>(i));
    mono_.now = due;
    due = p->tick();
    EXPECT_EQ(due, t0.plus_ms(10000 * (i + 1)));
  }
  ASSERT_EQ(sink_.items.size(), 5u);
  for (size_t i = 0; i < 5; ++i) {
    EXPECT_EQ(sink_.items[i].id, "7f3a12cd-00000" + std::to_string(i + 1));
    EXPECT_EQ(sink_.items[i].at, t0.plus_ms(10000 * static_cast<int64_t>(i)));
  }
  EXPECT_EQ(env_->sample_calls, 5);
}

TEST_F(Telemetry, NoDriftWhenTicksAreLate) {
  auto p = make();
  ASSERT_EQ(p->start(), hal::Err::Ok);
  const hal::MonoTime t0 = mono_.now;
  (void)p->tick();
  mono_.now = t0.plus_ms(10300);  // 300 ms late
  EXPECT_EQ(p->tick(), t0.plus_ms(20000));
  mono_.now = t0.plus_ms(20001);
  EXPECT_EQ(p->tick(), t0.plus_ms(30000));
  EXPECT_EQ(p->slots_skipped(), 0u);
  EXPECT_EQ(sink_.items.size(), 3u);
}

TEST_F(Telemetry, MissedSlotsAreSkippedNotBurst) {
  auto p = make();
  ASSERT_EQ(p->start(), hal::Err::Ok);
  const hal::MonoTime t0 = mono_.now;
  (void)p->tick();
  mono_.now = t0.plus_ms(45000);  // slots at 10, 20, 30, 40 s passed
  EXPECT_EQ(p->tick(), t0.plus_ms(50000));
  EXPECT_EQ(sink_.items.size(), 2u);
  EXPECT_EQ(p->slots_skipped(), 3u);
  EXPECT_EQ(p->tick(), t0.plus_ms(50000));
  EXPECT_EQ(sink_.items.size(), 2u);
}

TEST_F(Telemetry, FractionalInterval) {
  cfg_.interval_s = 0.05;
  auto p = make();
  ASSERT_EQ(p->start(), hal::Err::Ok);
  const hal::MonoTime t0 = mono_.now;
  EXPECT_EQ(p->tick(), t0.plus_us(50000));
  EXPECT_EQ(p->interval_us(), 50000);
}

TEST_F(Telemetry, BatchesSnapshotsWithRelativeTime) {
  cfg_.batch_max = 3;
  auto p = make();
  ASSERT_EQ(p->start(), hal::Err::Ok);
  (void)p->tick();
  EXPECT_EQ(p->batched(), 1u);
  advance_ms(10000);
  env_->set_value(0, drv::Value::numeric(2160, -2));
  (void)p->tick();
  EXPECT_TRUE(sink_.items.empty());
  advance_ms(10000);
  relay_->set_value(0, drv::Value::boolean(false));
  (void)p->tick();
  ASSERT_EQ(sink_.items.size(), 1u);
  EXPECT_EQ(p->batched(), 0u);
  EXPECT_EQ(sink_.items[0].id, "7f3a12cd-000001");
  EXPECT_EQ(sink_.items[0].payload,
            "<sensml xmlns='urn:ietf:params:xml:ns:senml'>"
            "<senml bn='dev1_localhost:' bt='1763900000.25' n='env0.temperature' u='Cel' v='21.54'/>"
            "<senml n='env0.humidity' u='%RH' v='40.1'/>"
            "<senml n='relay0.state' vb='true'/>"
            "<senml n='env0.temperature' t='10' u='Cel' v='21.60'/>"
            "<senml n='env0.humidity' t='10' u='%RH' v='40.1'/>"
            "<senml n='relay0.state' t='10' vb='true'/>"
            "<senml n='env0.temperature' t='20' u='Cel' v='21.60'/>"
            "<senml n='env0.humidity' t='20' u='%RH' v='40.1'/>"
            "<senml n='relay0.state' t='20' vb='false'/>"
            "</sensml>");
}

TEST_F(Telemetry, TimestampsAreWallTime) {
  auto p = make();
  ASSERT_EQ(p->start(), hal::Err::Ok);
  (void)p->tick();
  mono_.advance_ms(10000);
  wall_.now.unix_us = 1800000000000000;  // the wall clock was set meanwhile
  (void)p->tick();
  ASSERT_EQ(sink_.items.size(), 2u);
  EXPECT_NE(sink_.items[1].payload.find("bt='1800000000'"), std::string::npos);
}

TEST_F(Telemetry, PendingRingDropsOldestAndFlushesInOrder) {
  auto p = make();
  ASSERT_EQ(p->start(), hal::Err::Ok);
  sink_.is_ready = false;
  for (int i = 0; i < 20; ++i) {
    (void)p->tick();
    advance_ms(10000);
  }
  EXPECT_EQ(sink_.calls, 0);
  EXPECT_EQ(p->pending(), 16u);
  EXPECT_EQ(p->items_dropped(), 4u);
  EXPECT_EQ(p->items_published(), 0u);
  EXPECT_STREQ(p->last_item_id(), "");

  sink_.is_ready = true;
  EXPECT_EQ(p->flush(), 16u);
  ASSERT_EQ(sink_.items.size(), 16u);
  for (size_t i = 0; i < 16; ++i) {
    char want[32];
    ASSERT_TRUE(agent::format_item_id(want, sizeof want, "7f3a12cd", 5 + i).ok());
    EXPECT_EQ(sink_.items[i].id, want);
  }
  EXPECT_EQ(p->pending(), 0u);
  EXPECT_EQ(p->items_published(), 16u);
  EXPECT_STREQ(p->last_item_id(), "7f3a12cd-000020");
  // The next tick publishes straight away.
  (void)p->tick();
  EXPECT_EQ(sink_.items.back().id, "7f3a12cd-000021");
}

TEST_F(Telemetry, WithAJournalItemsAreJournaledBeforePublishedAndSurviveARestart) {
  hal::sim::SimSegmentStore store;
  agent::JournalOptions jo;
  jo.fsync = agent::FsyncPolicy::Never;
  // The sink checks that each item is in the journal when it is published.
  struct CheckingSink : xiot_test::FakeSink {
    explicit CheckingSink(hal::sim::SimSegmentStore& s) : store(s) {}
    hal::Err publish(const char* id, const char* payload, size_t len) override {
      journaled_first = journaled_first && store.bytes_used() >= bytes_then + len;
      bytes_then = store.bytes_used();
      return FakeSink::publish(id, payload, len);
    }
    hal::sim::SimSegmentStore& store;
    uint64_t bytes_then = 0;
    bool journaled_first = true;
  } sink(store);
  sink.auto_ack = false;
  {
    agent::Journal journal(store, mono_, jo);
    agent::TelemetryPublisher p(reg_, mono_, wall_, cfg_, "dev1@localhost", "0ldb0071", sink, &journal);
    ASSERT_EQ(p.start(), hal::Err::Ok);
    sink.listener = &p.outbox();
    for (int i = 0; i < 3; ++i) {
      (void)p.tick();
      advance_ms(10000);
    }
    ASSERT_EQ(sink.items.size(), 3u);
    EXPECT_TRUE(sink.journaled_first);
    p.outbox().on_publish_result("0ldb0071-000001", agent::PublishOutcome::Accepted, "");
    EXPECT_EQ(p.pending(), 2u);
    sink.is_ready = false;
    (void)p.tick();  // item 4, offline
    EXPECT_EQ(p.pending(), 3u);
    sink.listener = nullptr;
  }  // the agent dies
  sink.items.clear();
  sink.is_ready = true;
  sink.auto_ack = true;
  agent::Journal journal(store, mono_, jo);
  agent::TelemetryPublisher p(reg_, mono_, wall_, cfg_, "dev1@localhost", "n3wb0072", sink, &journal);
  ASSERT_EQ(p.start(), hal::Err::Ok);
  sink.listener = &p.outbox();
  EXPECT_EQ(p.pending(), 3u);  // item 4's record carried the watermark: 1 was acknowledged
  (void)p.tick();
  std::vector<std::string> ids;
  for (const auto& it : sink.items) ids.push_back(it.id);
  EXPECT_EQ(ids, (std::vector<std::string>{"0ldb0071-000002", "0ldb0071-000003", "0ldb0071-000004",
                                           "n3wb0072-000005"}));
  EXPECT_EQ(p.pending(), 0u);
  EXPECT_EQ(p.items_dropped(), 0u);
}

TEST_F(Telemetry, TickFlushesWhenSinkBecomesReady) {
  auto p = make();
  ASSERT_EQ(p->start(), hal::Err::Ok);
  sink_.is_ready = false;
  (void)p->tick();
  advance_ms(10000);
  (void)p->tick();
  EXPECT_EQ(p->pending(), 2u);
  sink_.is_ready = true;
  advance_ms(1000);  // not due: only flushes
  (void)p->tick();
  ASSERT_EQ(sink_.items.size(), 2u);
  EXPECT_EQ(sink_.items[0].id, "7f3a12cd-000001");
  EXPECT_EQ(sink_.items[1].id, "7f3a12cd-000002");
  EXPECT_EQ(p->samples_taken(), 2u);
}

TEST_F(Telemetry, TransientErrorsKeepItemsOverflowDropsThem) {
  auto p = make();
  ASSERT_EQ(p->start(), hal::Err::Ok);
  sink_.results = {hal::Err::Io};
  (void)p->tick();
  EXPECT_EQ(p->pending(), 1u);
  EXPECT_EQ(p->last_error(), hal::Err::Io);
  sink_.results = {hal::Err::NotReady};
  EXPECT_EQ(p->flush(), 0u);
  EXPECT_EQ(p->pending(), 1u);
  // Retried with the same id: subscribers can de-duplicate.
  EXPECT_EQ(p->flush(), 1u);
  ASSERT_EQ(sink_.items.size(), 1u);
  EXPECT_EQ(sink_.items[0].id, "7f3a12cd-000001");

  advance_ms(10000);
  sink_.results = {hal::Err::Overflow};
  (void)p->tick();
  EXPECT_EQ(p->pending(), 0u);
  EXPECT_EQ(p->items_dropped(), 1u);
  EXPECT_EQ(p->last_error(), hal::Err::Overflow);
  advance_ms(10000);
  (void)p->tick();
  EXPECT_EQ(sink_.items.back().id, "7f3a12cd-000003");
}

TEST_F(Telemetry, PublishNowClosesPartialBatchAndKeepsSchedule) {
  cfg_.batch_max = 5;
  auto p = make();
  ASSERT_EQ(p->start(), hal::Err::Ok);
  const hal::MonoTime t0 = mono_.now;
  (void)p->tick();
  advance_ms(3000);
  relay_->set_value(0, drv::Value::boolean(false));
  p->publish_now();
  ASSERT_EQ(sink_.items.size(), 1u);
  EXPECT_NE(sink_.items[0].payload.find("<senml n='relay0.state' t='3' vb='false'/>"), std::string::npos);
  EXPECT_EQ(p->batched(), 0u);
  EXPECT_EQ(p->next_due(), t0.plus_ms(10000));
  EXPECT_EQ(p->samples_taken(), 2u);
}

TEST_F(Telemetry, FailedDeviceLeftOutOfSnapshot) {
  auto p = make();
  ASSERT_EQ(p->start(), hal::Err::Ok);
  env_->sample_error = hal::Err::Timeout;
  (void)p->tick();
  ASSERT_EQ(sink_.items.size(), 1u);
  EXPECT_EQ(sink_.items[0].payload,
            "<sensml xmlns='urn:ietf:params:xml:ns:senml'>"
            "<senml bn='dev1_localhost:' bt='1763900000.25' n='relay0.state' vb='true'/></sensml>");
  EXPECT_EQ(p->read_errors(), 1u);

  // Every device failing: nothing to publish, nothing queued.
  relay_->sample_error = hal::Err::Io;
  advance_ms(10000);
  (void)p->tick();
  EXPECT_EQ(sink_.items.size(), 1u);
  EXPECT_EQ(p->batched(), 0u);
  EXPECT_EQ(p->read_errors(), 3u);
}

TEST_F(Telemetry, ChannelReadErrorSkipsOnlyThatChannel) {
  auto p = make();
  ASSERT_EQ(p->start(), hal::Err::Ok);
  env_->get_error = hal::Err::NotReady;
  env_->get_error_channel = 1;
  (void)p->tick();
  ASSERT_EQ(sink_.items.size(), 1u);
  EXPECT_EQ(sink_.items[0].payload.find("humidity"), std::string::npos);
  EXPECT_NE(sink_.items[0].payload.find("temperature"), std::string::npos);
}

TEST_F(Telemetry, ProtobufEncoding) {
  cfg_.encoding = agent::Encoding::Protobuf;
  cfg_.batch_max = 2;
  auto p = make();
  ASSERT_EQ(p->start(), hal::Err::Ok);
  (void)p->tick();
  advance_ms(10000);
  (void)p->tick();
  ASSERT_EQ(sink_.items.size(), 1u);
  const std::string& payload = sink_.items[0].payload;
  EXPECT_EQ(payload.rfind("<senml-pb xmlns='urn:xiot:senml-pb:0'>", 0), 0u);
  std::vector<agent::DecodedRecord> recs;
  ASSERT_EQ(agent::decode_senml_pb(payload.data(), payload.size(), &recs), hal::Err::Ok);
  ASSERT_EQ(recs.size(), 6u);
  EXPECT_EQ(recs[0].base_name, "dev1_localhost:");
  EXPECT_EQ(recs[0].name, "env0.temperature");
  EXPECT_EQ(recs[0].mantissa, 2154);
  EXPECT_EQ(recs[0].exponent, -2);
  EXPECT_EQ(recs[0].time_us, 1763900000250000);
  EXPECT_EQ(recs[5].name, "relay0.state");
  EXPECT_TRUE(recs[5].flag);
  EXPECT_EQ(recs[5].time_us, 1763900010250000);
}

TEST_F(Telemetry, ItemCapacityFitsWorstCaseStrings) {
  auto dev = std::make_unique<FakeDevice>(
      "sys0", std::vector<drv::ChannelSpec>{xiot_test::sensor("label", "", drv::ValueType::String),
                                            xiot_test::sensor("big", "B")});
  FakeDevice* sys = dev.get();
  drv::Value worst;
  worst.type = drv::ValueType::String;
  std::memset(worst.text, '\'', sizeof worst.text - 1);
  sys->set_value(0, worst);
  sys->set_value(1, drv::Value::numeric(INT64_MIN, 18));
  ASSERT_EQ(reg_.add(std::move(dev)), hal::Err::Ok);
  for (agent::Encoding enc : {agent::Encoding::SenmlXml, agent::Encoding::Protobuf}) {
    cfg_.encoding = enc;
    cfg_.batch_max = 4;
    FakeSink sink(&mono_);
    agent::TelemetryPublisher p(reg_, mono_, wall_, cfg_, "dev1@localhost", "b", sink);
    ASSERT_EQ(p.start(), hal::Err::Ok);
    for (int i = 0; i < 4; ++i) {
      (void)p.tick();
      advance_ms(10000);
    }
    ASSERT_EQ(sink.items.size(), 1u);
    EXPECT_EQ(p.items_dropped(), 0u);
    EXPECT_LT(sink.items[0].payload.size(), p.item_capacity());
  }
}

TEST_F(Telemetry, ReconfigureIntervalAndGrowBatchKeepingPending) {
  auto p = make();
  ASSERT_EQ(p->start(), hal::Err::Ok);
  // Make the ring wrap: publish 10, then queue 12 while not ready.
  for (int i = 0; i < 10; ++i) {
    (void)p->tick();
    advance_ms(10000);
  }
  sink_.is_ready = false;
  for (int i = 0; i < 12; ++i) {
    (void)p->tick();
    advance_ms(10000);
  }
  ASSERT_EQ(p->pending(), 12u);
  const size_t old_cap = p->item_capacity();
  EXPECT_EQ(p->reconfigure(0.01, 1), hal::Err::InvalidArgument);
  EXPECT_EQ(p->reconfigure(60, 0), hal::Err::InvalidArgument);
  EXPECT_EQ(p->reconfigure(60, 8), hal::Err::Ok);
  EXPECT_GT(p->item_capacity(), old_cap);
  EXPECT_EQ(p->batch_max(), 8u);
  EXPECT_EQ(p->interval_us(), 60000000);
  EXPECT_EQ(p->next_due(), mono_.now.plus_ms(60000));
  EXPECT_EQ(p->pending(), 12u);
  sink_.is_ready = true;
  EXPECT_EQ(p->flush(), 12u);
  for (size_t i = 0; i < 12; ++i) {
    char want[32];
    ASSERT_TRUE(agent::format_item_id(want, sizeof want, "7f3a12cd", 11 + i).ok());
    EXPECT_EQ(sink_.items[10 + i].id, want);
  }
  // The new batch size applies.
  for (int i = 0; i < 8; ++i) {
    mono_.now = p->next_due();
    wall_.advance_ms(60000);
    (void)p->tick();
  }
  EXPECT_EQ(sink_.items.size(), 23u);
}

TEST_F(Telemetry, ReconfigureClosesCurrentBatch) {
  cfg_.batch_max = 10;
  auto p = make();
  ASSERT_EQ(p->start(), hal::Err::Ok);
  (void)p->tick();
  advance_ms(10000);
  (void)p->tick();
  EXPECT_EQ(p->batched(), 2u);
  ASSERT_EQ(p->reconfigure(10, 2), hal::Err::Ok);
  ASSERT_EQ(sink_.items.size(), 1u);
  EXPECT_EQ(p->batched(), 0u);
  EXPECT_EQ(p->batch_max(), 2u);
}

TEST_F(Telemetry, NoHeapAfterStart) {
  cfg_.batch_max = 2;
  FakeSink counting(&mono_, /*record=*/false);
  agent::TelemetryPublisher p(reg_, mono_, wall_, cfg_, "dev1@localhost", "7f3a12cd", counting);
  ASSERT_EQ(p.start(), hal::Err::Ok);
  counting.listener = &p.outbox();
  const long before = xiot_test::allocation_count();
  for (int i = 0; i < 200; ++i) {
    counting.is_ready = (i / 40) % 2 == 0;  // exercise the ring and drops too
    (void)p.tick();
    if (i % 7 == 0) p.publish_now();
    (void)p.flush();
    advance_ms(10000);
  }
  const long after = xiot_test::allocation_count();
  EXPECT_EQ(after - before, 0);
  EXPECT_GT(counting.accepted, 0);
  EXPECT_GT(p.items_dropped(), 0u);
}


// ---- batch_window_s: readings faster than the window travel together -------

size_t count_of(const std::string& s, const std::string& what) {
  size_t n = 0;
  for (size_t at = s.find(what); at != std::string::npos; at = s.find(what, at + 1)) ++n;
  return n;
}

TEST(EffectiveBatch, WindowOverIntervalCappedAndNeverBelowBatchMax) {
  using agent::TelemetryPublisher;
  EXPECT_EQ(TelemetryPublisher::effective_batch(50000, 1, 1000000), 20u);
  EXPECT_EQ(TelemetryPublisher::effective_batch(300000, 1, 1000000), 3u);  // floor
  EXPECT_EQ(TelemetryPublisher::effective_batch(10000000, 1, 1000000), 1u);
  EXPECT_EQ(TelemetryPublisher::effective_batch(10000000, 10, 1000000), 10u);
  EXPECT_EQ(TelemetryPublisher::effective_batch(50000, 30, 1000000), 30u);
  EXPECT_EQ(TelemetryPublisher::effective_batch(50000, 1, 60000000), 100u);  // at most 100
  EXPECT_EQ(TelemetryPublisher::effective_batch(50000, 4, 0), 4u);            // off
}

TEST_F(Telemetry, WindowBatchesFastReadingsAndBoundsTheirLatency) {
  cfg_.interval_s = 0.05;
  cfg_.batch_window_s = 1;
  auto p = make();
  ASSERT_EQ(p->start(), hal::Err::Ok);
  EXPECT_EQ(p->batch_max(), 20u);
  EXPECT_EQ(p->configured_batch_max(), 1u);
  const hal::MonoTime t0 = mono_.now;
  for (int k = 0; k < 60; ++k) {
    const hal::MonoTime next = p->tick();
    advance_ms(next.us_since(mono_.now) / 1000);
  }
  ASSERT_EQ(sink_.items.size(), 3u);
  for (size_t i = 0; i < sink_.items.size(); ++i) {
    const std::string& item = sink_.items[i].payload;
    EXPECT_EQ(count_of(item, "n='env0.temperature'"), 20u) << item;
    EXPECT_EQ(count_of(item, "n='relay0.state'"), 20u) << item;
    // The item's first reading was taken at slot 20 * i; it left within 1 s of it.
    const hal::MonoTime first = t0.plus_us(static_cast<int64_t>(i) * 20 * 50000);
    EXPECT_LT(sink_.items[i].at.us_since(first), 1000000) << i;
    EXPECT_GE(sink_.items[i].at.us_since(first), 0) << i;
  }
  EXPECT_EQ(p->samples_taken(), 60u);
}

TEST_F(Telemetry, WindowDeadlineClosesAPartialBatch) {
  cfg_.interval_s = 0.1;
  cfg_.batch_window_s = 0.95;  // 9 readings fit; the 10th slot is past the bound
  auto p = make();
  ASSERT_EQ(p->start(), hal::Err::Ok);
  ASSERT_EQ(p->batch_max(), 9u);
  const hal::MonoTime t0 = mono_.now;
  (void)p->tick();  // reading 1
  EXPECT_EQ(p->batched(), 1u);
  env_->sample_error = hal::Err::Timeout;  // the next readings have nothing to report
  relay_->sample_error = hal::Err::Timeout;
  for (int k = 1; k <= 9; ++k) {
    advance_ms(100);
    const hal::MonoTime next = p->tick();
    // After the slot at 900 ms the latency bound (950 ms) comes before the next slot.
    EXPECT_EQ(next, k == 9 ? t0.plus_ms(950) : t0.plus_ms(100 * (k + 1))) << k;
  }
  EXPECT_TRUE(sink_.items.empty());
  advance_ms(50);
  (void)p->tick();
  ASSERT_EQ(sink_.items.size(), 1u);
  EXPECT_EQ(sink_.items[0].at, t0.plus_ms(950));
  EXPECT_EQ(count_of(sink_.items[0].payload, "n='env0.temperature'"), 1u);
  EXPECT_EQ(p->window_closes(), 1u);
  EXPECT_EQ(p->batched(), 0u);
}

TEST_F(Telemetry, LateTickClosesTheWindowBeforeTheNextReading) {
  cfg_.interval_s = 0.05;
  cfg_.batch_window_s = 1;
  auto p = make();
  ASSERT_EQ(p->start(), hal::Err::Ok);
  (void)p->tick();
  advance_ms(50);
  (void)p->tick();
  advance_ms(3000);  // the loop stalled
  (void)p->tick();
  ASSERT_EQ(sink_.items.size(), 1u);
  EXPECT_EQ(count_of(sink_.items[0].payload, "n='env0.temperature'"), 2u);
  EXPECT_EQ(p->batched(), 1u);  // the late reading starts the next item
}

TEST_F(Telemetry, WindowSlowerThanTheIntervalKeepsOneReadingPerItem) {
  cfg_.interval_s = 10;
  cfg_.batch_window_s = 1;
  auto p = make();
  ASSERT_EQ(p->start(), hal::Err::Ok);
  EXPECT_EQ(p->batch_max(), 1u);
  for (int k = 0; k < 3; ++k) {
    (void)p->tick();
    EXPECT_EQ(sink_.items.size(), static_cast<size_t>(k + 1));
    EXPECT_EQ(count_of(sink_.items.back().payload, "n='env0.temperature'"), 1u);
    advance_ms(10000);
  }
}

TEST_F(Telemetry, ExplicitBatchMaxKeepsItsCountWithAWindow) {
  cfg_.interval_s = 10;
  cfg_.batch_max = 10;
  cfg_.batch_window_s = 1;
  auto p = make();
  ASSERT_EQ(p->start(), hal::Err::Ok);
  EXPECT_EQ(p->batch_max(), 10u);
  hal::MonoTime next = p->tick();
  EXPECT_EQ(next, mono_.now.plus_ms(10000));  // no 1 s deadline
  for (int k = 1; k < 10; ++k) {
    advance_ms(10000);
    next = p->tick();
    EXPECT_EQ(sink_.items.size(), k < 9 ? 0u : 1u);
  }
  ASSERT_EQ(sink_.items.size(), 1u);
  EXPECT_EQ(count_of(sink_.items[0].payload, "n='env0.temperature'"), 10u);
  EXPECT_EQ(p->window_closes(), 0u);
}

TEST_F(Telemetry, WindowZeroIsOneReadingPerItem) {
  cfg_.interval_s = 0.05;
  cfg_.batch_window_s = 0;
  auto p = make();
  ASSERT_EQ(p->start(), hal::Err::Ok);
  EXPECT_EQ(p->batch_max(), 1u);
  for (int k = 0; k < 5; ++k) {
    (void)p->tick();
    advance_ms(50);
  }
  EXPECT_EQ(sink_.items.size(), 5u);
}

TEST_F(Telemetry, BadWindowIsRefused) {
  cfg_.batch_window_s = -0.1;
  EXPECT_EQ(make()->start(), hal::Err::InvalidArgument);
  cfg_.batch_window_s = 60.5;
  EXPECT_EQ(make()->start(), hal::Err::InvalidArgument);
  cfg_.batch_window_s = std::nan("");
  EXPECT_EQ(make()->start(), hal::Err::InvalidArgument);
  cfg_.batch_window_s = 60;
  auto p = make();
  ASSERT_EQ(p->start(), hal::Err::Ok);
  EXPECT_EQ(p->reconfigure(10, 1, 0, 61), hal::Err::InvalidArgument);
  EXPECT_EQ(p->reconfigure(10, 1, 0, std::nan("")), hal::Err::InvalidArgument);
}

TEST_F(Telemetry, ReconfigureToAFasterIntervalGrowsTheWindowBatch) {
  cfg_.interval_s = 10;
  cfg_.batch_window_s = 1;
  auto p = make();
  ASSERT_EQ(p->start(), hal::Err::Ok);
  const size_t small = p->item_capacity();
  (void)p->tick();
  ASSERT_EQ(sink_.items.size(), 1u);
  ASSERT_EQ(p->reconfigure(0.05, 1), hal::Err::Ok);
  EXPECT_EQ(p->batch_max(), 20u);
  EXPECT_GT(p->item_capacity(), small);
  for (int k = 0; k < 40; ++k) {
    advance_ms(50);
    (void)p->tick();
  }
  ASSERT_EQ(sink_.items.size(), 3u);
  EXPECT_EQ(count_of(sink_.items[1].payload, "n='env0.temperature'"), 20u);
  // The window can be changed too (negative keeps it): off again.
  ASSERT_EQ(p->reconfigure(0.05, 1, 0, 0), hal::Err::Ok);
  EXPECT_EQ(p->batch_max(), 1u);
  EXPECT_EQ(p->batch_window_us(), 0);
}

}  // namespace

// agent/outbox: delivery on top of the journal. Order and original ids on
// replay, the in-flight window, out-of-order acks and the watermark, link loss
// (stream management's gap), "wait" and other errors, restarts after a crash,
// drop-oldest (journal full, memory full), a full disk and its recovery, and
// no heap per item. Storage: hal::sim::SimSegmentStore; clocks manual.
#include "agent/outbox.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "agent/journal.hpp"
#include "agent/log.hpp"
#include "alloc_counter.hpp"
#include "fakes.hpp"
#include "hal/sim/sim_segment_store.hpp"

namespace {

using agent::Journal;
using agent::JournalOptions;
using agent::Outbox;
using agent::OutboxOptions;
using agent::PublishOutcome;
using hal::Err;
using hal::sim::SimSegmentStore;

void quiet(void*, agent::LogLevel, const char*, size_t) {}

std::string id_of(uint64_t seq, const char* boot = "7f3a12cd") {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%s-%06llu", boot, static_cast<unsigned long long>(seq));
  return buf;
}

class OutboxTest : public ::testing::Test {
 protected:
  void SetUp() override {
    agent::log_set_sink(quiet, nullptr);
    jopt_.max_bytes = 8192;
    jopt_.fsync = agent::FsyncPolicy::Never;
    sink_.auto_ack = false;
  }
  void TearDown() override { agent::log_set_sink(nullptr, nullptr); }

  /// Starts an outbox (and its journal unless `with_journal` is false) on the
  /// same store: a (re)start of the agent.
  void boot(OutboxOptions o = OutboxOptions(), bool with_journal = true) {
    sink_.listener = nullptr;
    ob_.reset();
    journal_.reset();
    if (with_journal) journal_ = std::make_unique<Journal>(store_, clock_, jopt_);
    ob_ = std::make_unique<Outbox>(sink_, clock_, journal_.get(), o);
    ASSERT_EQ(ob_->start(256), Err::Ok);
    sink_.listener = ob_.get();
  }
  /// The process dies: nothing flushed.
  void crash() {
    sink_.listener = nullptr;
    ob_.reset();
    journal_.reset();
  }
  /// Queues one item whose payload names its seq.
  uint64_t add(const char* boot_id = "7f3a12cd") {
    size_t cap = 0;
    char* buf = ob_->item_buffer(&cap);
    const uint64_t seq = ob_->next_seq();
    const int n = std::snprintf(buf, cap, "<p n='%llu'/>", static_cast<unsigned long long>(seq));
    EXPECT_EQ(ob_->commit(static_cast<size_t>(n), boot_id), Err::Ok);
    return seq;
  }
  void ack(const std::string& id, PublishOutcome o = PublishOutcome::Accepted) {
    ob_->on_publish_result(id.c_str(), o, o == PublishOutcome::Accepted ? "" : "some-condition");
  }
  std::vector<std::string> sent() const {
    std::vector<std::string> out;
    for (const auto& it : sink_.items) out.push_back(it.id);
    return out;
  }
  /// Pumps and acknowledges everything until nothing is left; returns the ids
  /// sent (distinct, in first-send order).
  std::vector<std::string> drain() {
    std::vector<std::string> ids;
    for (int round = 0; round < 10000; ++round) {
      const size_t before = sink_.items.size();
      ob_->pump();
      if (sink_.items.size() == before) break;
      for (size_t i = before; i < sink_.items.size(); ++i) {
        ids.push_back(sink_.items[i].id);
        ack(sink_.items[i].id);
      }
    }
    return ids;
  }
  static std::vector<std::string> ids(uint64_t from, uint64_t to, const char* boot = "7f3a12cd") {
    std::vector<std::string> out;
    for (uint64_t s = from; s <= to; ++s) out.push_back(id_of(s, boot));
    return out;
  }

  SimSegmentStore store_{64, 0};
  xiot_test::FakeMonoClock clock_;
  xiot_test::FakeSink sink_{&clock_};
  JournalOptions jopt_;
  std::unique_ptr<Journal> journal_;
  std::unique_ptr<Outbox> ob_;
};

TEST_F(OutboxTest, PublishesInOrderWithABoundedWindowAndSettlesOnResults) {
  OutboxOptions o;
  o.max_in_flight = 4;
  boot(o);
  for (int i = 0; i < 10; ++i) add();
  EXPECT_EQ(ob_->depth(), 10u);
  EXPECT_EQ(ob_->pump(), 4u);
  EXPECT_EQ(sent(), ids(1, 4));
  EXPECT_EQ(ob_->in_flight(), 4u);
  EXPECT_EQ(ob_->pump(), 0u);  // the window is full
  ack(id_of(1));
  ack(id_of(2));
  EXPECT_EQ(ob_->acked_through(), 2u);
  EXPECT_EQ(ob_->depth(), 8u);
  EXPECT_EQ(ob_->pump(), 2u);
  EXPECT_EQ(sent(), ids(1, 6));
  EXPECT_EQ(sink_.items[0].payload, "<p n='1'/>");
  EXPECT_STREQ(ob_->last_item_id(), id_of(6).c_str());
  EXPECT_EQ(ob_->stats().published, 6u);
  EXPECT_EQ(ob_->stats().replayed, 0u);  // all served from memory
  EXPECT_EQ(store_.reads(), 0u);          // the journal was never read back
}

TEST_F(OutboxTest, OutOfOrderResultsMoveTheWatermarkOnlyOverAContiguousRun) {
  boot();
  for (int i = 0; i < 4; ++i) add();
  ob_->pump();
  ack(id_of(3));
  ack(id_of(2));
  EXPECT_EQ(ob_->acked_through(), 0u);
  EXPECT_EQ(ob_->depth(), 2u);
  ack(id_of(1));
  EXPECT_EQ(ob_->acked_through(), 3u);
  ack(id_of(3));  // a duplicate answer
  EXPECT_EQ(ob_->stats().stale_results, 1u);
  ack("someone-else-000001");
  EXPECT_EQ(ob_->stats().stale_results, 2u);
  ack(id_of(4));
  EXPECT_EQ(ob_->acked_through(), 4u);
  EXPECT_EQ(ob_->depth(), 0u);
  EXPECT_EQ(journal_->stats().unsettled, 0u);
  EXPECT_EQ(ob_->flush(), Err::Ok);
  boot();  // a clean restart: nothing to send again
  EXPECT_EQ(journal_->acked_through(), 4u);
  EXPECT_EQ(ob_->depth(), 0u);
  EXPECT_EQ(ob_->pump(), 0u);
  EXPECT_EQ(add(), 5u);  // the sequence continues
}

TEST_F(OutboxTest, LinkLossSendsTheUnansweredAgainWithTheirOriginalIds) {
  boot();
  for (int i = 0; i < 4; ++i) add();
  ob_->pump();
  ack(id_of(2));
  // The link died and came back (a new stream or a resumed one): whatever
  // libstrophe still had queued is gone.
  sink_.is_ready = false;
  add();
  EXPECT_EQ(ob_->pump(), 0u);
  sink_.is_ready = true;
  sink_.epoch = 1;
  sink_.items.clear();
  EXPECT_EQ(ob_->pump(), 4u);
  EXPECT_EQ(sent(), (std::vector<std::string>{id_of(1), id_of(3), id_of(4), id_of(5)}));
  EXPECT_EQ(ob_->stats().resent, 3u);
  // A late answer to the first send of item 1, then the answer to the resend.
  ack(id_of(1));
  ack(id_of(1));
  EXPECT_EQ(ob_->stats().stale_results, 1u);
  EXPECT_EQ(ob_->acked_through(), 2u);
}

TEST_F(OutboxTest, ReadingsTakenOfflineAreReplayedInOrderAfterReconnect) {
  boot();
  sink_.is_ready = false;
  for (int i = 0; i < 40; ++i) add();  // more than the 16 kept in memory
  EXPECT_EQ(ob_->pump(), 0u);
  EXPECT_EQ(ob_->depth(), 40u);
  EXPECT_EQ(ob_->dropped(), 0u);
  sink_.is_ready = true;
  EXPECT_EQ(drain(), ids(1, 40));
  EXPECT_EQ(ob_->stats().replayed, 24u);  // read back from the journal
  EXPECT_EQ(ob_->depth(), 0u);
  EXPECT_EQ(ob_->acked_through(), 40u);
}

TEST_F(OutboxTest, AfterACrashEarlierItemsGoFirstWithTheirOldIds) {
  boot();
  for (int i = 0; i < 5; ++i) add("0ldb0071");
  ob_->pump();
  ack(id_of(1, "0ldb0071"));
  ack(id_of(2, "0ldb0071"));
  ob_->tick();
  EXPECT_EQ(journal_->stats().markers, 0u);
  clock_.advance_ms(30000);  // no item came to carry the watermark (2)
  ob_->tick();
  EXPECT_EQ(journal_->stats().markers, 1u);
  crash();      // 3..5 were in flight: published, maybe, but never answered

  boot();
  EXPECT_EQ(ob_->next_seq(), 6u);
  add("n3wb0072");
  add("n3wb0072");
  sink_.items.clear();
  EXPECT_EQ(drain(), (std::vector<std::string>{id_of(3, "0ldb0071"), id_of(4, "0ldb0071"), id_of(5, "0ldb0071"),
                                               id_of(6, "n3wb0072"), id_of(7, "n3wb0072")}));
  EXPECT_EQ(sink_.items[0].payload, "<p n='3'/>");  // the original payload
  EXPECT_EQ(ob_->stats().replayed, 3u);
}

TEST_F(OutboxTest, WithoutAWatermarkEverythingUnansweredIsSentAgain) {
  boot();
  for (int i = 0; i < 3; ++i) add();
  ob_->pump();
  ack(id_of(1));  // acknowledged, but the process dies before persisting it
  crash();
  boot();
  // At least once: item 1 goes again (subscribers de-duplicate by id).
  EXPECT_EQ(drain(), ids(1, 3));
}

TEST_F(OutboxTest, WaitErrorsAreRetriedLaterOtherErrorsAreNot) {
  OutboxOptions o;
  o.retry_after_us = 5000000;
  boot(o);
  for (int i = 0; i < 3; ++i) add();
  ob_->pump();
  ack(id_of(1), PublishOutcome::Retry);
  ack(id_of(2), PublishOutcome::Rejected);
  ack(id_of(3));
  EXPECT_EQ(ob_->stats().retried, 1u);
  EXPECT_EQ(ob_->stats().rejected, 1u);
  EXPECT_EQ(ob_->acked_through(), 0u);
  sink_.items.clear();
  EXPECT_EQ(ob_->pump(), 0u);  // not yet
  clock_.advance_ms(5000);
  EXPECT_EQ(ob_->pump(), 1u);
  EXPECT_EQ(sent(), std::vector<std::string>{id_of(1)});
  ack(id_of(1));
  EXPECT_EQ(ob_->acked_through(), 3u);  // the rejected one is settled too
  EXPECT_EQ(ob_->depth(), 0u);
}

TEST_F(OutboxTest, APublishWithoutAnswerIsSentAgainAfterTheTimeout) {
  OutboxOptions o;
  o.resend_after_us = 30000000;
  boot(o);
  add();
  ob_->pump();
  clock_.advance_ms(29999);
  EXPECT_EQ(ob_->pump(), 0u);
  clock_.advance_ms(1);
  EXPECT_EQ(ob_->pump(), 1u);
  EXPECT_EQ(sent(), (std::vector<std::string>{id_of(1), id_of(1)}));
}

TEST_F(OutboxTest, SinkErrorsDeferOrDrop) {
  boot();
  for (int i = 0; i < 3; ++i) add();
  sink_.results = {Err::Io};
  EXPECT_EQ(ob_->pump(), 0u);
  EXPECT_EQ(ob_->last_error(), Err::Io);
  sink_.results = {Err::NotReady};
  EXPECT_EQ(ob_->pump(), 0u);
  // Item 1 can never fit, item 2 is no stanza: both dropped, the queue goes on.
  sink_.results = {Err::Overflow, Err::InvalidArgument};
  EXPECT_EQ(ob_->pump(), 1u);
  EXPECT_EQ(ob_->stats().dropped_other, 2u);
  EXPECT_EQ(sent(), std::vector<std::string>{id_of(3)});
  ack(id_of(3));
  EXPECT_EQ(ob_->acked_through(), 3u);
  EXPECT_EQ(journal_->stats().unsettled, 0u);  // the dropped ones are settled too
}

TEST_F(OutboxTest, FullJournalWhileOfflineDropsTheOldestAndCountsExactly) {
  jopt_.max_bytes = 4096;  // 1 KiB segments
  boot();
  sink_.is_ready = false;
  for (int i = 0; i < 300; ++i) add();
  const uint64_t dropped = ob_->dropped();
  const uint64_t depth = ob_->depth();
  EXPECT_GT(dropped, 0u);
  EXPECT_EQ(dropped + depth, 300u);
  EXPECT_EQ(ob_->stats().dropped_full, dropped);
  EXPECT_LE(journal_->stats().bytes, 4096u);
  sink_.is_ready = true;
  // The newest `depth` readings arrive, in order, and nothing else.
  EXPECT_EQ(drain(), ids(dropped + 1, 300));
  EXPECT_EQ(ob_->dropped(), dropped);
}

TEST_F(OutboxTest, ItemsStillInMemoryAreNotLostWhenTheirSegmentIsDropped) {
  jopt_.max_bytes = 4096;
  boot();
  // Everything sent and in flight, then the journal fills: the dropped segment
  // holds items that are in memory and in the window.
  for (int i = 0; i < 16; ++i) add();
  ob_->pump();
  sink_.is_ready = false;
  for (int i = 0; i < 60; ++i) add();
  sink_.is_ready = true;
  sink_.epoch = 1;
  sink_.items.clear();
  const std::vector<std::string> got = drain();
  // Nothing counted as dropped was delivered, and everything delivered or
  // dropped adds up.
  EXPECT_EQ(got.size() + ob_->dropped(), 76u);
  EXPECT_EQ(got.back(), id_of(76));
  for (size_t i = 1; i < got.size(); ++i) EXPECT_LT(got[i - 1], got[i]);
}

TEST_F(OutboxTest, DiskFullKeepsPublishingFromMemoryThenCatchesUp) {
  boot();
  add();
  ASSERT_EQ(drain(), ids(1, 1));
  store_.set_capacity(store_.bytes_used());  // nothing more fits
  sink_.is_ready = false;
  for (int i = 0; i < 5; ++i) add();
  ASSERT_NE(ob_->storage_problem(), nullptr);
  EXPECT_STREQ(ob_->storage_problem(), "journal append failed: no space");
  EXPECT_EQ(ob_->stats().journal_errors, 5u);
  EXPECT_EQ(ob_->depth(), 5u);
  EXPECT_EQ(ob_->dropped(), 0u);
  // Online again, disk still full: published from memory.
  sink_.is_ready = true;
  ob_->pump();
  EXPECT_EQ(sent(), ids(1, 6));
  ack(id_of(2));
  ack(id_of(3));
  // Space comes back: the next item first writes the unsettled ones (4..6)
  // into the journal, in order.
  store_.set_capacity(0);
  add();
  EXPECT_EQ(ob_->storage_problem(), nullptr);
  EXPECT_EQ(journal_->last_seq(), 7u);
  EXPECT_EQ(journal_->stats().unsettled, 4u);  // 4, 5, 6, 7
  crash();
  boot();
  EXPECT_EQ(drain(), ids(4, 7));  // they survived the crash
}

TEST_F(OutboxTest, DiskFullAndOfflineKeepsTheNewestInMemory) {
  boot();
  store_.set_capacity(1);
  sink_.is_ready = false;
  for (int i = 0; i < 20; ++i) add();
  EXPECT_EQ(ob_->stats().dropped_memory, 4u);
  EXPECT_EQ(ob_->depth(), 16u);
  sink_.is_ready = true;
  EXPECT_EQ(drain(), ids(5, 20));
}

TEST_F(OutboxTest, WithoutAJournalTheNewestItemsAreKeptInMemory) {
  boot(OutboxOptions(), /*with_journal=*/false);
  EXPECT_EQ(ob_->storage_problem(), nullptr);  // memory only by choice
  EXPECT_EQ(ob_->journal(), nullptr);
  sink_.is_ready = false;
  for (int i = 0; i < 20; ++i) add();
  EXPECT_EQ(ob_->dropped(), 4u);
  sink_.is_ready = true;
  EXPECT_EQ(drain(), ids(5, 20));
}

TEST_F(OutboxTest, AJournalThatCannotOpenDegradesToMemory) {
  store_.fail_next(hal::sim::SegmentOp::Open, Err::Io);
  boot();
  EXPECT_STREQ(ob_->storage_problem(), "journal unavailable: i/o error");
  add();
  EXPECT_EQ(drain(), ids(1, 1));
}

TEST_F(OutboxTest, SynchronousAnswersSettleAtOnce) {
  sink_.auto_ack = true;
  boot();
  for (int i = 0; i < 50; ++i) {
    add();
    ob_->pump();
  }
  EXPECT_EQ(ob_->acked_through(), 50u);
  EXPECT_EQ(ob_->depth(), 0u);
  EXPECT_EQ(ob_->stats().acked, 50u);
}

TEST_F(OutboxTest, GrowKeepsWhatIsQueued) {
  boot();
  sink_.is_ready = false;
  for (int i = 0; i < 3; ++i) add();
  ASSERT_EQ(ob_->grow(4096), Err::Ok);
  EXPECT_EQ(ob_->item_capacity(), 4096u);
  size_t cap = 0;
  char* buf = ob_->item_buffer(&cap);
  EXPECT_EQ(cap, 4096u);
  std::memset(buf, 'x', 3000);
  ASSERT_EQ(ob_->commit(3000, "7f3a12cd"), Err::Ok);
  sink_.is_ready = true;
  EXPECT_EQ(drain(), ids(1, 4));
  EXPECT_EQ(sink_.items[0].payload, "<p n='1'/>");
  EXPECT_EQ(sink_.items[3].payload.size(), 3000u);
  EXPECT_EQ(ob_->commit(4096, "7f3a12cd"), Err::Overflow);
}

TEST_F(OutboxTest, NoHeapPerItem) {
  SimSegmentStore store(64, 4096);
  Journal journal(store, clock_, jopt_);
  Outbox ob(sink_, clock_, &journal);
  ASSERT_EQ(ob.start(256), Err::Ok);
  sink_.listener = &ob;
  sink_.items.reserve(20000);  // ids and payloads fit std::string's inline buffer
  const long before = xiot_test::allocation_count();
  for (int i = 0; i < 2000; ++i) {
    size_t cap = 0;
    char* buf = ob.item_buffer(&cap);
    const int n = std::snprintf(buf, cap, "<p n='%d'/>", i);
    ASSERT_EQ(ob.commit(static_cast<size_t>(n), "7f3a12cd"), Err::Ok);
    sink_.is_ready = (i / 100) % 3 != 0;  // offline a third of the time: replay, drops
    if (i % 250 == 0) ++sink_.epoch;      // link losses
    ob.pump();
    for (auto& it : sink_.items) ob.on_publish_result(it.id.c_str(), PublishOutcome::Accepted, "");
    sink_.items.clear();
    clock_.advance_ms(100);
    ob.tick();
  }
  EXPECT_EQ(xiot_test::allocation_count() - before, 0);
  EXPECT_GT(ob.stats().replayed, 0u);
  EXPECT_GT(ob.stats().acked, 1000u);
  sink_.listener = nullptr;
}

}  // namespace

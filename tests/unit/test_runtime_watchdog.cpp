// The watchdog is fed in one place, AgentRuntime::tick(), and only while the
// loop is healthy (agent/runtime.hpp): the sim board's SimWatchdog on a manual
// clock. No server: the session tries 127.0.0.1:9 and backs off; the loop is
// healthy all the same (offline is a normal state, not a hang).
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "agent/config.hpp"
#include "agent/runtime.hpp"
#include "boards/board.hpp"
#include "hal/sim/manual_clock.hpp"
#include "hal/sim/sim_segment_store.hpp"
#include "hal/sim/sim_watchdog.hpp"

namespace {

const std::string kSimBoard = std::string(XIOT_BOARDS_DIR) + "/sim/board.json";
constexpr int64_t kTurnMs = 1000;  // one loop turn (tick() never asks for longer)

class RuntimeWatchdog : public ::testing::Test {
 protected:
  void SetUp() override {
    cfg_.xmpp.jid = "dev1@localhost";
    cfg_.xmpp.password = "unused";
    cfg_.xmpp.host = "127.0.0.1";
    cfg_.xmpp.port = 9;
    cfg_.telemetry.interval_s = 1.0;
    std::string error;
    board_ = boards::Board::open(kSimBoard.c_str(), clock_, clock_, &error);
    ASSERT_NE(board_, nullptr) << error;
    wd_ = board_->sim_watchdog();
    ASSERT_NE(wd_, nullptr);
  }
  void start(hal::SegmentStore* journal = nullptr) {
    runtime_ = std::make_unique<agent::AgentRuntime>(ctx_, cfg_, *board_, clock_, clock_, nullptr, 42, journal);
    ASSERT_EQ(runtime_->start(), hal::Err::Ok);
    ASSERT_TRUE(wd_->running());
    EXPECT_EQ(wd_->timeout_ms(), agent::AgentRuntime::kWatchdogTimeoutMs);
  }
  // One healthy turn of the app's loop: tick, then libstrophe.
  void turn() {
    clock_.advance_ms(kTurnMs);
    runtime_->tick();
    ctx_.run_once(0);
  }
  void TearDown() override {
    if (runtime_) runtime_->stop("test over");
  }

  hal::sim::ManualClock clock_;
  agent::AgentConfig cfg_;
  agent::Context ctx_;
  std::unique_ptr<boards::Board> board_;
  hal::sim::SimWatchdog* wd_ = nullptr;
  std::unique_ptr<agent::AgentRuntime> runtime_;
};

TEST_F(RuntimeWatchdog, AHealthyLoopFeedsItOncePerTurn) {
  start();
  ctx_.run_once(0);
  for (int i = 0; i < 100; ++i) turn();  // 100 s, three times the timeout
  EXPECT_EQ(wd_->feed_count(), 100u);
  EXPECT_FALSE(wd_->expired());
}

TEST_F(RuntimeWatchdog, ALoopThatStopsTurningStopsFeedingItAndItFires) {
  start();
  ctx_.run_once(0);
  for (int i = 0; i < 5; ++i) turn();
  const uint32_t fed = wd_->feed_count();
  // Stalled: nothing runs for longer than the timeout.
  clock_.advance_ms(agent::AgentRuntime::kWatchdogTimeoutMs + 1);
  EXPECT_TRUE(wd_->expired());
  EXPECT_EQ(wd_->feed_count(), fed);
}

TEST_F(RuntimeWatchdog, TickingWithoutRunningLibstropheIsAStall) {
  start();
  ctx_.run_once(0);
  turn();
  // The timers tick but the session loop no longer turns (libstrophe is not
  // serviced): the first tick still sees the run that followed the last
  // healthy one, then nothing is fed and the watchdog fires.
  clock_.advance_ms(kTurnMs);
  runtime_->tick();
  const uint32_t fed = wd_->feed_count();
  EXPECT_EQ(fed, 2u);
  for (int64_t t = 0; t <= agent::AgentRuntime::kWatchdogTimeoutMs; t += kTurnMs) {
    clock_.advance_ms(kTurnMs);
    runtime_->tick();
  }
  EXPECT_EQ(wd_->feed_count(), fed);
  EXPECT_TRUE(wd_->expired());
  // Turning again feeds it again.
  ctx_.run_once(0);
  runtime_->tick();
  EXPECT_EQ(wd_->feed_count(), fed + 1);
  EXPECT_FALSE(wd_->expired());
}

TEST_F(RuntimeWatchdog, AFailingJournalThatTheDeviceReportsKeepsItFed) {
  hal::sim::SimSegmentStore store;
  start(&store);
  ctx_.run_once(0);
  store.fail_next(hal::sim::SegmentOp::Append, hal::Err::Io, 1000);
  for (int i = 0; i < 60; ++i) turn();
  ASSERT_NE(runtime_->publisher().outbox().storage_problem(), nullptr);
  agent::DiagnosticsInfo info;
  runtime_->diagnostics(&info);
  EXPECT_STREQ(info.health, "degraded");
  EXPECT_EQ(wd_->feed_count(), 60u);
  EXPECT_FALSE(wd_->expired());
  // The runtime's journal writes its clean-stop marker into `store`: stop it
  // while the store still exists (TearDown would run after it is gone).
  runtime_->stop("test over");
  runtime_.reset();
}

TEST_F(RuntimeWatchdog, StopDisarmsIt) {
  start();
  runtime_->stop("bye");
  runtime_.reset();
  EXPECT_FALSE(wd_->running());
}

}  // namespace

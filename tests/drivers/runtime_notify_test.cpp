// The systemd notifier as the runtime feeds it (agent/runtime.hpp): the
// presence status line on every change, WATCHDOG=1 only from the one healthy
// feeding point (none while the loop stalls); READY=1 and STOPPING=1 are the
// app's (agent/app/main.cpp), in the order it sends them. A whole
// AgentRuntime on the sim board, a manual clock, a stand-in notification
// socket, no server (the session tries 127.0.0.1:9 and backs off).
#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "agent/clock_gate.hpp"
#include "agent/config.hpp"
#include "agent/runtime.hpp"
#include "boards/board.hpp"
#include "hal/linux/systemd_notifier.hpp"
#include "hal/sim/manual_clock.hpp"
#include "hal/sim/sim_segment_store.hpp"
#include "hal/sim/sim_watchdog.hpp"
#include "notify_socket.hpp"
#include "xiot/version.hpp"

using Messages = std::vector<std::string>;

namespace {

const std::string kSimBoard = std::string(XIOT_BOARDS_DIR) + "/sim/board.json";
constexpr int64_t kTurnMs = 1000;
constexpr unsigned long long kWatchdogUsec = 4000000;  // WatchdogSec=4: WATCHDOG=1 at most every 1 s

class RuntimeNotify : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(sock_.ok());
    cfg_.xmpp.jid = "dev1@localhost";
    cfg_.xmpp.password = "unused";
    cfg_.xmpp.host = "127.0.0.1";
    cfg_.xmpp.port = 9;
    cfg_.telemetry.interval_s = 1.0;
    std::string error;
    board_ = boards::Board::open(kSimBoard.c_str(), clock_, clock_, &error);
    ASSERT_NE(board_, nullptr) << error;
    notifier_ = std::make_unique<hal::linux_::SystemdNotifier>(clock_);
    ASSERT_EQ(notifier_->watchdog_usec(), kWatchdogUsec);
  }
  // What main() does: compose, start, then READY=1.
  void start() {
    runtime_ = std::make_unique<agent::AgentRuntime>(ctx_, cfg_, *board_, clock_, clock_, nullptr, 42, &store_);
    runtime_->set_service_notifier(notifier_.get());
    ASSERT_EQ(runtime_->start(), hal::Err::Ok);
    ASSERT_EQ(notifier_->ready(), hal::Err::Ok);
    ctx_.run_once(0);
  }
  void turn() {
    clock_.advance_ms(kTurnMs);
    runtime_->tick();
    ctx_.run_once(0);
  }
  // The presence status line of the sim board (agent/description.hpp), as
  // systemd gets it.
  std::string status(const std::string& problem = "") const {
    return "STATUS=sim board, xiot " XIOT_VERSION ", " + std::to_string(board_->registry().channel_count()) +
           " channels" + (problem.empty() ? "" : ", degraded: " + problem);
  }
  void TearDown() override {
    if (runtime_) runtime_->stop("test over");
  }

  xiot_test::NotifySocket sock_{kWatchdogUsec};
  hal::sim::ManualClock clock_;
  hal::sim::SimSegmentStore store_;
  agent::AgentConfig cfg_;
  agent::Context ctx_;
  std::unique_ptr<boards::Board> board_;
  std::unique_ptr<hal::linux_::SystemdNotifier> notifier_;
  std::unique_ptr<agent::AgentRuntime> runtime_;
};

TEST_F(RuntimeNotify, StatusThenReadyThenOneWatchdogPerHealthyTurn) {
  start();
  EXPECT_EQ(sock_.take(), (Messages{status(), "READY=1"}));
  turn();
  EXPECT_EQ(sock_.take(), Messages{"WATCHDOG=1"});
  turn();
  EXPECT_EQ(sock_.take(), Messages{"WATCHDOG=1"});
}

TEST_F(RuntimeNotify, TheStatusLineFollowsHealth) {
  start();
  EXPECT_EQ(sock_.take(), (Messages{status(), "READY=1"}));
  store_.fail_next(hal::sim::SegmentOp::Append, hal::Err::Io, 1000);
  Messages seen;
  for (int i = 0; i < 5; ++i) {
    turn();
    for (const std::string& m : sock_.take()) seen.push_back(m);
  }
  Messages statuses;
  for (const std::string& m : seen) {
    if (m != "WATCHDOG=1") statuses.push_back(m);
  }
  EXPECT_EQ(statuses, Messages{status("journal append failed: i/o error")});
}

TEST_F(RuntimeNotify, AStalledLoopSendsNoWatchdog) {
  start();
  turn();
  (void)sock_.take();
  // The timers tick but libstrophe is not run: the first tick still sees the
  // run of the previous turn, then nothing is sent.
  clock_.advance_ms(kTurnMs);
  runtime_->tick();
  EXPECT_EQ(sock_.take(), Messages{"WATCHDOG=1"});
  for (int i = 0; i < 10; ++i) {
    clock_.advance_ms(kTurnMs);
    runtime_->tick();
  }
  EXPECT_EQ(sock_.take(), Messages{});
  ctx_.run_once(0);
  runtime_->tick();
  EXPECT_EQ(sock_.take(), Messages{"WATCHDOG=1"});
}

// Clock sanity (agent/clock_gate.hpp): booted in 1970, the runtime says why it
// does not connect, makes no connection attempt, and connects at the first
// turn after time synchronisation; the status line then says it waited.
struct FakeSync final : hal::TimeSync {
  bool synced = false;
  bool synchronized() override { return synced; }
};

TEST_F(RuntimeNotify, ABootIn1970WaitsForTimeSyncBeforeConnecting) {
  constexpr int64_t kBuild = 1796515200;  // 2026-12-06T00:00:00Z
  clock_.set_wall(hal::WallTime{5 * 1000000});
  FakeSync sync;
  agent::ClockGate gate(clock_, clock_, kBuild, &sync);
  runtime_ = std::make_unique<agent::AgentRuntime>(ctx_, cfg_, *board_, clock_, clock_, nullptr, 42, &store_);
  runtime_->set_service_notifier(notifier_.get());
  runtime_->set_clock_gate(&gate);
  ASSERT_EQ(runtime_->start(), hal::Err::Ok);
  EXPECT_EQ(sock_.take(), Messages{"STATUS=wall clock 1970-01-01T00:00:05Z is before this build "
                                   "(2026-12-06T00:00:00Z): waiting for time synchronisation before "
                                   "connecting; certificates cannot be checked"});
  for (int i = 0; i < 3; ++i) turn();
  EXPECT_TRUE(runtime_->waiting_for_clock());
  EXPECT_EQ(runtime_->session().stats().connect_attempts, 0u);
  (void)sock_.take();

  sync.synced = true;
  clock_.set_wall(hal::WallTime{(kBuild + 100) * 1000000});
  turn();
  EXPECT_FALSE(runtime_->waiting_for_clock());
  EXPECT_EQ(runtime_->session().stats().connect_attempts, 1u);
  Messages statuses;
  for (const std::string& m : sock_.take()) {
    if (m != "WATCHDOG=1") statuses.push_back(m);
  }
  EXPECT_EQ(statuses, Messages{status() + ", started after waiting 4 s for the clock"});
}

TEST_F(RuntimeNotify, ASaneClockConnectsAtStartAndSaysNothingAboutIt) {
  agent::ClockGate gate(clock_, clock_, 1796515200 - 86400, nullptr);
  clock_.set_wall(hal::WallTime{1796515200LL * 1000000});
  runtime_ = std::make_unique<agent::AgentRuntime>(ctx_, cfg_, *board_, clock_, clock_, nullptr, 42, &store_);
  runtime_->set_service_notifier(notifier_.get());
  runtime_->set_clock_gate(&gate);
  ASSERT_EQ(runtime_->start(), hal::Err::Ok);
  EXPECT_FALSE(runtime_->waiting_for_clock());
  EXPECT_EQ(runtime_->session().stats().connect_attempts, 1u);
  EXPECT_EQ(sock_.take(), Messages{status()});
}

TEST_F(RuntimeNotify, ACleanStopSaysStopping) {
  start();
  (void)sock_.take();
  // main(): STOPPING=1, then the runtime goes offline.
  ASSERT_EQ(notifier_->stopping(), hal::Err::Ok);
  runtime_->stop("agent stopped (SIGTERM)");
  runtime_.reset();
  EXPECT_EQ(sock_.take(), Messages{"STOPPING=1"});
}

}  // namespace

// A kernel-backed device whose sysfs directory goes away after start (an IIO
// driver unbound, a USB sensor unplugged): the agent keeps running and says
// it is degraded; when the device is back, healthy again.
TEST_F(RuntimeNotify, AKernelDeviceThatGoesAwayDegradesHealthOnly) {
  xiot_test::TempDir tmp;
  const std::string sys = tmp.path() + "/sys";
  const std::string iio = "/bus/iio/devices/iio:device0";
  std::filesystem::copy(std::string(XIOT_BOARDS_DIR) + "/sim/sysfs", sys, std::filesystem::copy_options::recursive);
  const std::string path = tmp.write(
      "board.json", R"({"name": "sim", "hal": "sim", "sysfs": ")" + sys +
                        R"(", "devices": [{"name": "iio0", "compatible": "linux,iio", "params": {"device": "bme280"}},
                                          {"name": "sys0", "compatible": "xiot,system-metrics"}]})");
  std::string error;
  board_ = boards::Board::open(path.c_str(), clock_, clock_, &error);
  ASSERT_NE(board_, nullptr) << error;
  ASSERT_TRUE(board_->failed().empty());
  start();
  EXPECT_EQ(sock_.take(), (Messages{status(), "READY=1"}));
  std::filesystem::rename(sys + iio, tmp.path() + "/gone");
  Messages statuses;
  auto turns = [&](int n) {
    for (int i = 0; i < n; ++i) {
      turn();
      for (const std::string& m : sock_.take()) {
        if (m != "WATCHDOG=1") statuses.push_back(m);
      }
    }
  };
  turns(3);
  std::filesystem::rename(tmp.path() + "/gone", sys + iio);
  turns(3);
  EXPECT_EQ(statuses, (Messages{status("iio0 read failed: not found"), status()}));
  EXPECT_EQ(board_->registry().sample_all(), 0u);
}

// agent::ClockGate (clock sanity, docs/time.md): no connection while the wall
// clock is before the build time, until the clock passes it or time
// synchronisation says it is set. Manual clock, a fake hal::TimeSync.
#include <gtest/gtest.h>

#include <string>

#include "agent/clock_gate.hpp"
#include "hal/sim/manual_clock.hpp"

namespace {

constexpr int64_t kBuild = 1796515200;  // 2026-12-06T00:00:00Z

struct FakeSync final : hal::TimeSync {
  bool synced = false;
  int asked = 0;
  bool synchronized() override {
    ++asked;
    return synced;
  }
};

std::string utc(int64_t s) {
  char buf[32];
  agent::ClockGate::format_utc(s, buf, sizeof buf);
  return buf;
}

hal::WallTime at(int64_t unix_s) { return hal::WallTime{unix_s * 1000000}; }

TEST(ClockGate, FormatsUtc) {
  EXPECT_EQ(utc(0), "1970-01-01T00:00:00Z");
  EXPECT_EQ(utc(5), "1970-01-01T00:00:05Z");
  EXPECT_EQ(utc(kBuild), "2026-12-06T00:00:00Z");
  EXPECT_EQ(utc(951782400 + 3723), "2000-02-29T01:02:03Z");
  EXPECT_EQ(utc(-1), "1969-12-31T23:59:59Z");
}

TEST(ClockGate, ASaneClockOpensAtOnceWithoutAskingTimeSync) {
  hal::sim::ManualClock clock(hal::MonoTime{0}, at(kBuild + 60));
  FakeSync sync;
  agent::ClockGate gate(clock, clock, kBuild, &sync);
  EXPECT_TRUE(gate.check());
  EXPECT_FALSE(gate.waited());
  EXPECT_EQ(sync.asked, 0);
}

TEST(ClockGate, ABootIn1970WaitsUntilTheClockPassesTheBuild) {
  hal::sim::ManualClock clock(hal::MonoTime{0}, at(5));
  agent::ClockGate gate(clock, clock, kBuild, nullptr);
  EXPECT_FALSE(gate.check());
  EXPECT_STREQ(gate.waiting_line(),
               "wall clock 1970-01-01T00:00:05Z is before this build (2026-12-06T00:00:00Z): waiting for time "
               "synchronisation before connecting; certificates cannot be checked");
  clock.advance_ms(41000);
  EXPECT_FALSE(gate.check());
  EXPECT_NE(std::string(gate.waiting_line()).find("1970-01-01T00:00:46Z"), std::string::npos);
  clock.advance_ms(1000);
  clock.set_wall(at(kBuild + 3600));  // NTP stepped the clock
  EXPECT_TRUE(gate.check());
  EXPECT_TRUE(gate.waited());
  EXPECT_EQ(gate.waited_s(), 42);
  EXPECT_FALSE(gate.trusted_sync());
  EXPECT_STREQ(gate.opened_line(), "wall clock 2026-12-06T01:00:00Z is after this build (waited 42 s)");
}

TEST(ClockGate, TimeSyncOpensItEvenBeforeTheBuildTime) {
  hal::sim::ManualClock clock(hal::MonoTime{0}, at(5));
  FakeSync sync;
  agent::ClockGate gate(clock, clock, kBuild, &sync);
  EXPECT_FALSE(gate.check());
  EXPECT_EQ(sync.asked, 1);
  clock.advance_ms(7000);
  sync.synced = true;  // the flag file appeared; the clock is what NTP says
  EXPECT_TRUE(gate.check());
  EXPECT_TRUE(gate.trusted_sync());
  EXPECT_EQ(gate.waited_s(), 7);
  EXPECT_NE(std::string(gate.opened_line()).find("time synchronisation says it is set"), std::string::npos)
      << gate.opened_line();
}

TEST(ClockGate, OnceOpenItStaysOpen) {
  hal::sim::ManualClock clock(hal::MonoTime{0}, at(kBuild));
  agent::ClockGate gate(clock, clock, kBuild, nullptr);
  EXPECT_TRUE(gate.check());
  clock.set_wall(at(5));  // a later step backwards does not stop a running agent
  EXPECT_TRUE(gate.check());
}

}  // namespace

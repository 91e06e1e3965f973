// hal::sim backends: ManualClock, SimI2cBus, SimGpio, SimSystemInfo, SimWatchdog.
#include <gtest/gtest.h>

#include <vector>

#include "hal/sim/manual_clock.hpp"
#include "hal/sim/sim_gpio.hpp"
#include "hal/sim/sim_i2c_bus.hpp"
#include "hal/sim/sim_system_info.hpp"
#include "hal/sim/sim_watchdog.hpp"

using hal::Err;
using hal::MonoTime;
using hal::PinMode;
using hal::WallTime;
using hal::sim::ManualClock;

TEST(ManualClock, StartsWhereToldAndOnlyMovesWhenAdvanced) {
  ManualClock c(MonoTime{5000}, WallTime{1000000});
  EXPECT_EQ(c.mono_now().us, 5000);
  EXPECT_EQ(c.mono_now().us, 5000);
  EXPECT_EQ(c.wall_now().unix_us, 1000000);
  c.advance_ms(3);
  EXPECT_EQ(c.mono_now().us, 8000);
  EXPECT_EQ(c.wall_now().unix_us, 1003000);
  c.advance_us(7);
  EXPECT_EQ(c.mono_now().us, 8007);
}

TEST(ManualClock, DefaultWallIsFixedAndMonotonicIgnoresNegativeSteps) {
  ManualClock c;
  EXPECT_EQ(c.mono_now().us, 0);
  EXPECT_EQ(c.wall_now().unix_us, ManualClock::kDefaultWallUs);
  c.advance_us(-100);
  EXPECT_EQ(c.mono_now().us, 0);
}

TEST(ManualClock, SetWallJumpsOnlyTheWallClock) {
  ManualClock c(MonoTime{100});
  c.set_wall(WallTime{42});
  EXPECT_EQ(c.wall_now().unix_us, 42);
  EXPECT_EQ(c.mono_now().us, 100);
}

TEST(ManualClock, AutoAdvanceMovesAfterEachRead) {
  ManualClock c;
  c.set_auto_advance_us(250);
  EXPECT_EQ(c.mono_now().us, 0);
  EXPECT_EQ(c.mono_now().us, 250);
  EXPECT_EQ(c.peek_mono().us, 500);
  EXPECT_EQ(c.peek_mono().us, 500);  // peeking has no side effect
}

namespace {
/// Records what it saw; answers with a fixed pattern or an error.
class FakeTarget : public hal::sim::I2cTarget {
 public:
  Err on_transfer(const uint8_t* tx, size_t tx_len, uint8_t* rx, size_t rx_len) override {
    ++calls;
    written.assign(tx, tx + tx_len);
    for (size_t i = 0; i < rx_len; ++i) rx[i] = static_cast<uint8_t>(0xA0 + i);
    return answer;
  }
  int calls = 0;
  std::vector<uint8_t> written;
  Err answer = Err::Ok;
};
}  // namespace

TEST(SimI2cBus, RoutesByAddressAndAbsentAddressNacks) {
  hal::sim::SimI2cBus bus;
  FakeTarget a, b;
  ASSERT_EQ(bus.attach(0x10, &a), Err::Ok);
  ASSERT_EQ(bus.attach(0x20, &b), Err::Ok);
  const uint8_t tx[] = {0x05};
  uint8_t rx[2] = {};
  EXPECT_EQ(bus.transfer(0x20, tx, 1, rx, 2, 10), Err::Ok);
  EXPECT_EQ(b.calls, 1);
  EXPECT_EQ(a.calls, 0);
  EXPECT_EQ(b.written, std::vector<uint8_t>{0x05});
  EXPECT_EQ(rx[0], 0xA0);
  EXPECT_EQ(rx[1], 0xA1);
  EXPECT_EQ(bus.transfer(0x30, tx, 1, rx, 2, 10), Err::Nack);
  EXPECT_EQ(bus.last_timeout_ms(), 10u);
  EXPECT_EQ(bus.transfer_count(), 2u);
}

TEST(SimI2cBus, AttachRules) {
  hal::sim::SimI2cBus bus;
  FakeTarget t;
  EXPECT_EQ(bus.attach(0x80, &t), Err::InvalidArgument);
  EXPECT_EQ(bus.attach(0x10, nullptr), Err::InvalidArgument);
  EXPECT_EQ(bus.attach(0x10, &t), Err::Ok);
  EXPECT_EQ(bus.attach(0x10, &t), Err::Busy);
  EXPECT_EQ(bus.detach(0x10), Err::Ok);
  EXPECT_EQ(bus.detach(0x10), Err::NotFound);
  uint8_t rx = 0;
  EXPECT_EQ(bus.transfer(0x10, nullptr, 0, &rx, 1, 10), Err::Nack);
  FakeTarget many[hal::sim::SimI2cBus::kMaxTargets + 1];
  for (size_t i = 0; i < hal::sim::SimI2cBus::kMaxTargets; ++i) {
    ASSERT_EQ(bus.attach(static_cast<uint16_t>(0x08 + i), &many[i]), Err::Ok);
  }
  EXPECT_EQ(bus.attach(0x70, &many[hal::sim::SimI2cBus::kMaxTargets]), Err::NoSpace);
}

TEST(SimI2cBus, RejectsBadTransfersIncludingMissingTimeout) {
  hal::sim::SimI2cBus bus;
  FakeTarget t;
  ASSERT_EQ(bus.attach(0x10, &t), Err::Ok);
  uint8_t b = 0;
  EXPECT_EQ(bus.transfer(0x10, &b, 1, nullptr, 0, 0), Err::InvalidArgument);  // no timeout
  EXPECT_EQ(bus.transfer(0x10, nullptr, 0, nullptr, 0, 10), Err::InvalidArgument);
  EXPECT_EQ(bus.transfer(0x80, &b, 1, nullptr, 0, 10), Err::InvalidArgument);
  EXPECT_EQ(t.calls, 0);
}

TEST(SimI2cBus, FailNextInjectsBusFaultsThenRecovers) {
  hal::sim::SimI2cBus bus;
  FakeTarget t;
  ASSERT_EQ(bus.attach(0x10, &t), Err::Ok);
  uint8_t b = 0;
  bus.fail_next(Err::Timeout, 2);
  EXPECT_EQ(bus.transfer(0x10, &b, 1, nullptr, 0, 10), Err::Timeout);
  EXPECT_EQ(bus.transfer(0x10, &b, 1, nullptr, 0, 10), Err::Timeout);
  EXPECT_EQ(bus.transfer(0x10, &b, 1, nullptr, 0, 10), Err::Ok);
  EXPECT_EQ(t.calls, 1);
  bus.fail_next(Err::Io, 5);
  bus.fail_next(Err::Ok, 0);  // cancels
  EXPECT_EQ(bus.transfer(0x10, &b, 1, nullptr, 0, 10), Err::Ok);
}

TEST(SimI2cBus, TargetErrorsPassThrough) {
  hal::sim::SimI2cBus bus;
  FakeTarget t;
  t.answer = Err::Io;
  ASSERT_EQ(bus.attach(0x10, &t), Err::Ok);
  uint8_t b = 0;
  EXPECT_EQ(bus.transfer(0x10, &b, 1, nullptr, 0, 10), Err::Io);
}

TEST(SimGpio, ClaimOnceAndRange) {
  hal::sim::SimGpio gpio(32);
  auto p = gpio.claim(5);
  ASSERT_TRUE(p.ok());
  EXPECT_TRUE(gpio.claimed(5));
  EXPECT_EQ(gpio.claim(5).error(), Err::Busy);
  EXPECT_EQ(gpio.claim(32).error(), Err::NotFound);
  EXPECT_FALSE(gpio.claimed(6));
}

TEST(SimGpio, OutputLevelsAndModesAreObservable) {
  hal::sim::SimGpio gpio;
  hal::GpioPin* pin = gpio.claim(17).value();
  EXPECT_EQ(pin->write(true), Err::InvalidArgument);  // not an output yet
  ASSERT_EQ(pin->configure(PinMode::Output), Err::Ok);
  EXPECT_EQ(gpio.mode(17), PinMode::Output);
  EXPECT_EQ(pin->write(true), Err::Ok);
  EXPECT_TRUE(gpio.level(17));
  EXPECT_EQ(pin->write(false), Err::Ok);
  EXPECT_FALSE(gpio.level(17));
  EXPECT_EQ(gpio.write_count(17), 2u);
  EXPECT_FALSE(pin->read().value());
}

TEST(SimGpio, InputLevelFollowsExternalDriveThenBias) {
  hal::sim::SimGpio gpio;
  hal::GpioPin* pin = gpio.claim(27).value();
  ASSERT_EQ(pin->configure(PinMode::InputPullUp), Err::Ok);
  EXPECT_TRUE(pin->read().value());  // pulled up, nothing driving
  gpio.set_external(27, false);      // button pressed to ground
  EXPECT_FALSE(pin->read().value());
  gpio.release_external(27);
  EXPECT_TRUE(pin->read().value());
  ASSERT_EQ(pin->configure(PinMode::InputPullDown), Err::Ok);
  EXPECT_FALSE(pin->read().value());
  ASSERT_EQ(pin->configure(PinMode::Input), Err::Ok);
  EXPECT_FALSE(pin->read().value());  // floating reads low
  gpio.set_external(27, true);
  EXPECT_TRUE(pin->read().value());
}

TEST(SimGpio, FaultInjectionPerPin) {
  hal::sim::SimGpio gpio;
  hal::GpioPin* pin = gpio.claim(3).value();
  gpio.fail_next(3, Err::Io, 2);
  EXPECT_EQ(pin->configure(PinMode::Output), Err::Io);
  EXPECT_EQ(pin->read().error(), Err::Io);
  EXPECT_EQ(pin->configure(PinMode::Output), Err::Ok);
}

TEST(SimGpio, EdgesAreQueuedWithTheClocksTimeOnlyWhenWatched) {
  ManualClock clock(MonoTime{7000});
  hal::sim::SimGpio gpio(32, &clock);
  hal::GpioPin* pin = gpio.claim(5).value();
  hal::GpioEdge edges[4];
  EXPECT_EQ(pin->read_edges(edges, 4).error(), Err::NotReady);
  ASSERT_EQ(pin->configure(PinMode::InputPullUp), Err::Ok);
  gpio.set_external(5, false);  // not watched yet: no edge
  ASSERT_EQ(pin->watch_edges(), Err::Ok);
  EXPECT_TRUE(gpio.watching_edges(5));
  EXPECT_EQ(pin->read_edges(edges, 4).value(), 0u);
  clock.advance_us(10);
  gpio.set_external(5, false);  // same level: no edge
  gpio.set_external(5, true);
  clock.advance_us(5);
  gpio.release_external(5);     // stays high by the pull-up: no edge
  gpio.set_external(5, false);
  EXPECT_EQ(gpio.pending_edges(5), 2u);
  ASSERT_EQ(pin->read_edges(edges, 1).value(), 1u);
  EXPECT_TRUE(edges[0].level);
  EXPECT_EQ(edges[0].timestamp_ns, 7010000);
  ASSERT_EQ(pin->read_edges(edges, 4).value(), 1u);
  EXPECT_FALSE(edges[0].level);
  EXPECT_EQ(edges[0].timestamp_ns, 7015000);
  EXPECT_EQ(pin->read_edges(edges, 4).value(), 0u);
  ASSERT_EQ(pin->configure(PinMode::Input), Err::Ok);  // a new request ends watching
  EXPECT_FALSE(gpio.watching_edges(5));
  EXPECT_EQ(pin->read_edges(edges, 4).error(), Err::NotReady);
}

TEST(SimGpio, AFullEdgeQueueLosesTheNewestAsTheKernelDoes) {
  hal::sim::SimGpio gpio;
  hal::GpioPin* pin = gpio.claim(1).value();
  ASSERT_EQ(pin->configure(PinMode::Input), Err::Ok);
  ASSERT_EQ(pin->watch_edges(), Err::Ok);
  for (size_t i = 0; i < hal::sim::SimGpio::kEdgeQueue + 3; ++i) gpio.set_external(1, i % 2 == 0);
  EXPECT_EQ(gpio.pending_edges(1), hal::sim::SimGpio::kEdgeQueue);
  EXPECT_EQ(gpio.lost_edges(1), 3u);
  hal::GpioEdge edges[hal::sim::SimGpio::kEdgeQueue];
  ASSERT_EQ(pin->read_edges(edges, hal::sim::SimGpio::kEdgeQueue).value(), hal::sim::SimGpio::kEdgeQueue);
  EXPECT_TRUE(edges[0].level);
  EXPECT_FALSE(edges[hal::sim::SimGpio::kEdgeQueue - 1].level);
  EXPECT_EQ(edges[0].timestamp_ns, 0);  // no clock
}

TEST(SimGpio, OutputsHaveNoEdges) {
  hal::sim::SimGpio gpio;
  hal::GpioPin* pin = gpio.claim(2).value();
  ASSERT_EQ(pin->configure(PinMode::Output), Err::Ok);
  EXPECT_EQ(pin->watch_edges(), Err::InvalidArgument);
  gpio.fail_next(2, Err::Io);
  EXPECT_EQ(pin->watch_edges(), Err::Io);
}

TEST(SimSystemInfo, UptimeFollowsTheInjectedClock) {
  ManualClock clock(MonoTime{1000000});
  hal::sim::SimSystemInfo info(clock);
  EXPECT_EQ(info.uptime_ms().value(), 0u);
  clock.advance_ms(1500);
  EXPECT_EQ(info.uptime_ms().value(), 1500u);
  info.set_boot_offset_ms(60000);
  EXPECT_EQ(info.uptime_ms().value(), 61500u);
}

TEST(SimSystemInfo, DeterministicDefaultsAndSetters) {
  ManualClock clock;
  hal::sim::SimSystemInfo info(clock);
  EXPECT_EQ(info.load().value().load1_milli, 250u);
  EXPECT_EQ(info.memory().value().total_bytes, 256ull << 20);
  EXPECT_EQ(info.memory().value().available_bytes, 192ull << 20);
  info.set_load({1250, 1000, 500});
  info.set_memory({1000, 400});
  EXPECT_EQ(info.load().value().load5_milli, 1000u);
  EXPECT_EQ(info.memory().value().available_bytes, 400u);
}

TEST(SimSystemInfo, InjectedErrors) {
  ManualClock clock;
  hal::sim::SimSystemInfo info(clock);
  info.fail_uptime(Err::Io);
  info.fail_load(Err::NotSupported);
  info.fail_memory(Err::Io);
  EXPECT_EQ(info.uptime_ms().error(), Err::Io);
  EXPECT_EQ(info.load().error(), Err::NotSupported);
  EXPECT_EQ(info.memory().error(), Err::Io);
  info.fail_uptime(Err::Ok);
  EXPECT_TRUE(info.uptime_ms().ok());
}

TEST(SimWatchdog, CountsFeedsAndExpiresAgainstTheClock) {
  ManualClock clock;
  hal::sim::SimWatchdog wd(clock);
  EXPECT_EQ(wd.feed(), Err::NotReady);
  EXPECT_FALSE(wd.expired());
  EXPECT_EQ(wd.start(0), Err::NotSupported);
  EXPECT_EQ(wd.start(hal::sim::SimWatchdog::kMaxTimeoutMs + 1), Err::NotSupported);
  ASSERT_EQ(wd.start(1000), Err::Ok);
  clock.advance_ms(1000);
  EXPECT_FALSE(wd.expired());  // exactly at the limit is still in time
  EXPECT_EQ(wd.feed(), Err::Ok);
  clock.advance_ms(999);
  EXPECT_FALSE(wd.expired());
  clock.advance_ms(2);
  EXPECT_TRUE(wd.expired());
  EXPECT_EQ(wd.feed_count(), 1u);
  EXPECT_EQ(wd.stop(), Err::Ok);
  EXPECT_FALSE(wd.expired());
}

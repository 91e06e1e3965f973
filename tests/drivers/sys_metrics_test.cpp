// xiot,system-metrics from SimSystemInfo.
#include <gtest/gtest.h>

#include "hal/sim/manual_clock.hpp"
#include "hal/sim/sim_system_info.hpp"
#include "sys_metrics/sys_metrics.hpp"

using hal::Err;

namespace {
struct Rig {
  hal::sim::ManualClock clock;
  hal::sim::SimSystemInfo info{clock};
  drv::SysMetrics dev{"sys0", info};
};
}  // namespace

TEST(SysMetrics, ChannelsAndUnits) {
  Rig r;
  ASSERT_EQ(r.dev.channel_count(), 4u);
  const char* names[] = {"uptime", "load", "mem_available", "mem_used"};
  const char* units[] = {"s", "/", "B", "%"};
  for (size_t i = 0; i < 4; ++i) {
    EXPECT_STREQ(r.dev.channel(i).quantity, names[i]);
    EXPECT_STREQ(r.dev.channel(i).unit, units[i]);
    EXPECT_EQ(r.dev.channel(i).kind, drv::ChannelKind::Sensor);
    EXPECT_EQ(r.dev.channel(i).type, drv::ValueType::Numeric);
  }
}

TEST(SysMetrics, ValuesFromTheSystemInfo) {
  Rig r;
  ASSERT_EQ(r.dev.init(), Err::Ok);
  EXPECT_EQ(r.dev.get(0).error(), Err::NotReady);
  r.clock.advance_ms(90500);
  r.info.set_load({1250, 0, 0});
  r.info.set_memory({1000000, 250000});
  ASSERT_EQ(r.dev.sample(), Err::Ok);
  auto up = r.dev.get(0).value();
  EXPECT_EQ(up.mantissa, 90);
  EXPECT_EQ(up.exponent, 0);
  auto load = r.dev.get(1).value();
  EXPECT_EQ(load.mantissa, 1250);
  EXPECT_EQ(load.exponent, -3);
  auto avail = r.dev.get(2).value();
  EXPECT_EQ(avail.mantissa, 250000);
  EXPECT_EQ(avail.exponent, 0);
  auto used = r.dev.get(3).value();
  EXPECT_EQ(used.mantissa, 750);
  EXPECT_EQ(used.exponent, -1);
}

TEST(SysMetrics, SimDefaults) {
  Rig r;
  ASSERT_EQ(r.dev.init(), Err::Ok);
  ASSERT_EQ(r.dev.sample(), Err::Ok);
  EXPECT_EQ(r.dev.get(1).value().mantissa, 250);
  EXPECT_EQ(r.dev.get(2).value().mantissa, 192 << 20);
  EXPECT_EQ(r.dev.get(3).value().mantissa, 250);  // 25.0 %
}

TEST(SysMetrics, LoadNotSupportedOnlyAffectsThatChannel) {
  Rig r;
  r.info.fail_load(Err::NotSupported);
  ASSERT_EQ(r.dev.init(), Err::Ok);
  ASSERT_EQ(r.dev.sample(), Err::Ok);
  EXPECT_EQ(r.dev.get(1).error(), Err::NotSupported);
  EXPECT_TRUE(r.dev.get(2).ok());
}

TEST(SysMetrics, SourceErrorsPropagateAndKeepTheLastSnapshot) {
  Rig r;
  r.info.fail_uptime(Err::Io);
  EXPECT_EQ(r.dev.init(), Err::Io);
  EXPECT_EQ(r.dev.sample(), Err::NotReady);
  r.info.fail_uptime(Err::Ok);
  ASSERT_EQ(r.dev.init(), Err::Ok);
  ASSERT_EQ(r.dev.sample(), Err::Ok);
  r.info.fail_memory(Err::Io);
  r.clock.advance_ms(5000);
  EXPECT_EQ(r.dev.sample(), Err::Io);
  EXPECT_EQ(r.dev.get(0).value().mantissa, 0);  // previous snapshot
  r.info.fail_memory(Err::Ok);
  r.info.set_memory({0, 0});
  EXPECT_EQ(r.dev.sample(), Err::Io);  // nonsense totals are an I/O problem
  r.info.fail_load(Err::Io);
  r.info.set_memory({100, 50});
  EXPECT_EQ(r.dev.sample(), Err::Io);
}

TEST(SysMetrics, ReadOnlyAndRange) {
  Rig r;
  EXPECT_EQ(r.dev.set(0, drv::Value::numeric(1, 0)), Err::ReadOnly);
  EXPECT_EQ(r.dev.set(4, drv::Value::numeric(1, 0)), Err::NotFound);
  ASSERT_EQ(r.dev.init(), Err::Ok);
  ASSERT_EQ(r.dev.sample(), Err::Ok);
  EXPECT_EQ(r.dev.get(4).error(), Err::NotFound);
}

TEST(SysMetricsFactory, NeedsSystemInfoAndTakesNoParams) {
  drv::DeviceConfig c;
  c.name = "sys0";
  drv::DriverError err;
  EXPECT_EQ(drv::create_sys_metrics(c, &err), nullptr);
  EXPECT_STREQ(err.text, "needs the board's system info (not available on this board)");
  hal::sim::ManualClock clock;
  hal::sim::SimSystemInfo info(clock);
  c.system_info = &info;
  c.params[c.param_count++] = drv::Param{"period", false, 5, nullptr};
  EXPECT_EQ(drv::create_sys_metrics(c, &err), nullptr);
  EXPECT_STREQ(err.text, "params.period: unknown parameter (this driver takes none)");
}

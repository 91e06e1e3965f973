// linux,hwmon over the fixture tree (coretemp with labels, an ina219, a fan
// controller). Units: Documentation/ABI/testing/sysfs-class-hwmon.
#include <gtest/gtest.h>

#include <functional>

#include "device_config.hpp"
#include "linux_hwmon/linux_hwmon.hpp"
#include "sysfs_fixture.hpp"

using hal::Err;
using xiot_test::add_param;
using xiot_test::add_text;

namespace {

struct Rig {
  xiot_test::SysfsFixture fx;
  drv::DeviceConfig cfg;
  Rig() {
    cfg.name = "hw0";
    cfg.compatible = "linux,hwmon";
    cfg.sysfs = &fx.tree();
  }
  std::unique_ptr<drv::Device> make(drv::DriverError* err = nullptr) { return drv::create_linux_hwmon(cfg, err); }
};

struct Expect {
  const char* quantity;
  const char* unit;
  int64_t mantissa;
  int exponent;
};

void expect_channels(drv::Device& dev, const std::vector<Expect>& want) {
  ASSERT_EQ(dev.channel_count(), want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    EXPECT_STREQ(dev.channel(i).quantity, want[i].quantity) << i;
    EXPECT_STREQ(dev.channel(i).unit, want[i].unit) << want[i].quantity;
    hal::Result<drv::Value> v = dev.get(i);
    ASSERT_TRUE(v.ok()) << want[i].quantity;
    EXPECT_EQ(v.value().mantissa, want[i].mantissa) << want[i].quantity;
    EXPECT_EQ(v.value().exponent, want[i].exponent) << want[i].quantity;
  }
}

}  // namespace

TEST(LinuxHwmon, CoretempByNameWithLabels) {
  Rig r;
  add_text(&r.cfg, "device", "coretemp");
  auto dev = r.make();
  ASSERT_EQ(dev->init(), Err::Ok);
  ASSERT_EQ(dev->sample(), Err::Ok);
  // temp1 "Package id 0" 45000, temp2 "Core 0" 43000, temp10 "Core 8" 41000
  // (millidegrees), in number order (10 after 2).
  expect_channels(*dev, {{"package_id_0", "Cel", 45, 0}, {"core_0", "Cel", 43, 0}, {"core_8", "Cel", 41, 0}});
}

TEST(LinuxHwmon, AbiNamesWhenLabelsAreOff) {
  Rig r;
  add_text(&r.cfg, "device", "coretemp");
  add_param(&r.cfg, "labels", 0);
  auto dev = r.make();
  ASSERT_EQ(dev->init(), Err::Ok);
  ASSERT_EQ(dev->sample(), Err::Ok);
  expect_channels(*dev, {{"temp1", "Cel", 45, 0}, {"temp2", "Cel", 43, 0}, {"temp10", "Cel", 41, 0}});
}

TEST(LinuxHwmon, PowerMonitorByIndexUnits) {
  Rig r;
  add_param(&r.cfg, "device", 1);  // hwmon1, the ina219
  auto dev = r.make();
  ASSERT_EQ(dev->init(), Err::Ok);
  ASSERT_EQ(dev->sample(), Err::Ok);
  // in0 12 mV, in1 5012 mV, curr1 -150 mA, power1 751800 µW.
  expect_channels(*dev, {{"in0", "V", 12, -3}, {"in1", "V", 5012, -3}, {"curr1", "A", -15, -2},
                         {"power1", "W", 7518, -4}});
}

TEST(LinuxHwmon, FanHumidityEnergyAndNegativeTemperature) {
  Rig r;
  add_text(&r.cfg, "device", "pwmfan");
  auto dev = r.make();
  ASSERT_EQ(dev->init(), Err::Ok);
  ASSERT_EQ(dev->sample(), Err::Ok);
  // temp1 -5250 m°C, energy1 1500000 µJ, humidity1 41500 m%RH, fan1 1200 RPM.
  expect_channels(*dev, {{"temp1", "Cel", -525, -2}, {"energy1", "J", 15, -1}, {"humidity1", "%RH", 415, -1},
                         {"fan1", "1/min", 12, 2}});
}

TEST(LinuxHwmon, ChannelsParam) {
  Rig r;
  add_text(&r.cfg, "device", "coretemp");
  add_text(&r.cfg, "channels", "core_0,package_id_0");
  auto dev = r.make();
  ASSERT_EQ(dev->init(), Err::Ok);
  ASSERT_EQ(dev->sample(), Err::Ok);
  expect_channels(*dev, {{"core_0", "Cel", 43, 0}, {"package_id_0", "Cel", 45, 0}});

  Rig m;
  add_text(&m.cfg, "device", "coretemp");
  add_text(&m.cfg, "channels", "core_9");
  auto missing = m.make();
  EXPECT_EQ(missing->init(), Err::NotFound);
  EXPECT_STREQ(missing->error_detail(), "params.channels: hwmon0 has no channel \"core_9\"");
}

TEST(LinuxHwmon, DuplicateLabelFallsBackToTheAbiName) {
  Rig r;
  r.fx.write("class/hwmon/hwmon0/temp10_label", "Core 0\n");
  add_text(&r.cfg, "device", "coretemp");
  auto dev = r.make();
  ASSERT_EQ(dev->init(), Err::Ok);
  EXPECT_STREQ(dev->channel(1).quantity, "core_0");
  EXPECT_STREQ(dev->channel(2).quantity, "temp10");
}

TEST(LinuxHwmon, MissingDeviceAtInit) {
  Rig r;
  add_text(&r.cfg, "device", "nct6775");
  auto dev = r.make();
  EXPECT_EQ(dev->init(), Err::NotFound);
  EXPECT_STREQ(dev->error_detail(), "no hwmon device named \"nct6775\" in class/hwmon");
}

TEST(LinuxHwmon, DisappearsAfterInitThenMalformedThenOutOfRange) {
  Rig r;
  add_param(&r.cfg, "device", 1);
  auto dev = r.make();
  ASSERT_EQ(dev->init(), Err::Ok);
  ASSERT_EQ(dev->sample(), Err::Ok);
  r.fx.write("class/hwmon/hwmon1/curr1_input", "n/a\n");
  EXPECT_EQ(dev->sample(), Err::Io);
  EXPECT_STREQ(dev->error_detail(), "class/hwmon/hwmon1/curr1_input: not an integer (or EIO)");
  r.fx.write("class/hwmon/hwmon1/curr1_input", "99999999999999999999\n");
  EXPECT_EQ(dev->sample(), Err::Io);
  r.fx.remove("class/hwmon/hwmon1");
  EXPECT_EQ(dev->sample(), Err::NotFound);
  EXPECT_EQ(dev->get(2).value().mantissa, -15);  // the last good snapshot
}

TEST(LinuxHwmon, FactoryErrors) {
  Rig r;
  drv::DriverError err;
  EXPECT_FALSE(r.make(&err));
  EXPECT_STREQ(err.text, "params.device: missing; expected the hwmon device's name (\"coretemp\") or N of hwmonN");
  Rig l;
  add_text(&l.cfg, "device", "coretemp");
  add_param(&l.cfg, "labels", 2);
  EXPECT_FALSE(l.make(&err));
  EXPECT_STREQ(err.text, "params.labels: expected an integer 0..1, got 2");
}

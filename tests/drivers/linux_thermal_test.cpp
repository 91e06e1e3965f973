// linux,thermal-zone over the fixture tree. sysfs-class-thermal: "temp ...
// Unit: millidegree Celsius".
#include <gtest/gtest.h>

#include "device_config.hpp"
#include "linux_thermal/linux_thermal.hpp"
#include "sysfs_fixture.hpp"

using hal::Err;
using xiot_test::add_param;
using xiot_test::add_text;

namespace {

struct Rig {
  xiot_test::SysfsFixture fx;
  drv::DeviceConfig cfg;
  Rig() {
    cfg.name = "cpu0";
    cfg.compatible = "linux,thermal-zone";
    cfg.sysfs = &fx.tree();
  }
  std::unique_ptr<drv::Device> make(drv::DriverError* err = nullptr) {
    return drv::create_linux_thermal_zone(cfg, err);
  }
};

}  // namespace

TEST(LinuxThermalZone, ByTypeAndByIndex) {
  struct Case {
    const char* type;
    int index;
    int64_t milli;
  };
  for (const Case& c : {Case{"x86_pkg_temp", -1, 45000}, Case{"acpitz", -1, 27800}, Case{nullptr, 2, -12500}}) {
    Rig r;
    if (c.type != nullptr) {
      add_text(&r.cfg, "zone", c.type);
    } else {
      add_param(&r.cfg, "zone", c.index);
    }
    auto dev = r.make();
    ASSERT_EQ(dev->init(), Err::Ok);
    ASSERT_EQ(dev->channel_count(), 1u);
    EXPECT_STREQ(dev->channel(0).quantity, "temperature");
    EXPECT_STREQ(dev->channel(0).unit, "Cel");
    EXPECT_EQ(dev->get(0).error(), Err::NotReady);
    ASSERT_EQ(dev->sample(), Err::Ok);
    EXPECT_EQ(dev->get(0).value().mantissa, c.milli);
    EXPECT_EQ(dev->get(0).value().exponent, -3);
  }
}

TEST(LinuxThermalZone, MissingZoneAtInit) {
  Rig r;
  add_text(&r.cfg, "zone", "soc-thermal");
  auto dev = r.make();
  EXPECT_EQ(dev->init(), Err::NotFound);
  EXPECT_STREQ(dev->error_detail(), "no thermal zone of type \"soc-thermal\" in class/thermal");
  Rig n;
  add_param(&n.cfg, "zone", 9);
  auto dev9 = n.make();
  EXPECT_EQ(dev9->init(), Err::NotFound);
  EXPECT_STREQ(dev9->error_detail(), "no thermal zone class/thermal/thermal_zone9");
}

TEST(LinuxThermalZone, UnreadableAtInitIsLeftOut) {
  Rig r;
  r.fx.write("class/thermal/thermal_zone0/temp", "\n");
  add_text(&r.cfg, "zone", "acpitz");
  auto dev = r.make();
  EXPECT_EQ(dev->init(), Err::Io);
}

TEST(LinuxThermalZone, FaultsAfterInit) {
  Rig r;
  add_text(&r.cfg, "zone", "acpitz");
  auto dev = r.make();
  ASSERT_EQ(dev->init(), Err::Ok);
  ASSERT_EQ(dev->sample(), Err::Ok);
  // THERMAL_TEMP_INVALID: the kernel has no reading.
  r.fx.write("class/thermal/thermal_zone0/temp", "-274000\n");
  EXPECT_EQ(dev->sample(), Err::Io);
  EXPECT_STREQ(dev->error_detail(), "class/thermal/thermal_zone0/temp: -274000 m°C is out of range (-273150..1000000)");
  r.fx.write("class/thermal/thermal_zone0/temp", "27.8\n");
  EXPECT_EQ(dev->sample(), Err::Io);
  r.fx.remove("class/thermal/thermal_zone0");
  EXPECT_EQ(dev->sample(), Err::NotFound);
  EXPECT_STREQ(dev->error_detail(), "class/thermal/thermal_zone0/temp: not found");
  EXPECT_EQ(dev->get(0).value().mantissa, 27800);  // the last good value
  EXPECT_EQ(dev->set(0, drv::Value::numeric(1, 0)), Err::ReadOnly);
}

TEST(LinuxThermalZone, FactoryErrors) {
  Rig r;
  drv::DriverError err;
  EXPECT_FALSE(r.make(&err));
  EXPECT_STREQ(err.text, "params.zone: missing; expected the zone's type (\"x86_pkg_temp\") or N of thermal_zoneN");
  Rig u;
  add_text(&u.cfg, "device", "acpitz");
  EXPECT_FALSE(u.make(&err));
  EXPECT_STREQ(err.text, "params.device: unknown parameter (known: zone)");
}

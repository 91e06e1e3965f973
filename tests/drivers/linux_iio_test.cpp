// linux,iio over the fixture tree tests/drivers/fixtures/sysfs (a bme280 with
// processed channels, an ads1015 with raw x scale, a device mixing raw +
// offset, input-over-raw and unit conversions). Expected values follow
// Documentation/ABI/testing/sysfs-bus-iio.
#include <gtest/gtest.h>

#include <string>

#include "device_config.hpp"
#include "linux_iio/linux_iio.hpp"
#include "sysfs_fixture.hpp"

using hal::Err;
using xiot_test::add_param;
using xiot_test::add_text;

namespace {

struct Rig {
  xiot_test::SysfsFixture fx;
  drv::DeviceConfig cfg;
  Rig() {
    cfg.name = "iio0";
    cfg.compatible = "linux,iio";
    cfg.sysfs = &fx.tree();
  }
  std::unique_ptr<drv::Device> make(drv::DriverError* err = nullptr) { return drv::create_linux_iio(cfg, err); }
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
    EXPECT_EQ(dev.channel(i).kind, drv::ChannelKind::Sensor);
    hal::Result<drv::Value> v = dev.get(i);
    ASSERT_TRUE(v.ok()) << want[i].quantity;
    EXPECT_EQ(v.value().mantissa, want[i].mantissa) << want[i].quantity;
    EXPECT_EQ(v.value().exponent, want[i].exponent) << want[i].quantity;
  }
}

}  // namespace

TEST(LinuxIio, Bme280ProcessedChannelsByName) {
  Rig r;
  add_text(&r.cfg, "device", "bme280");
  auto dev = r.make();
  ASSERT_TRUE(dev);
  ASSERT_EQ(dev->init(), Err::Ok);
  EXPECT_EQ(dev->get(0).error(), Err::NotReady);
  ASSERT_EQ(dev->sample(), Err::Ok);
  // in_humidityrelative_input 47210 milli-% ; in_pressure_input 100.147656250 kPa ;
  // in_temp_input 24260 milli-°C. Sorted by quantity.
  expect_channels(*dev, {{"humidity", "%RH", 4721, -2},
                         {"pressure", "Pa", 10014765625, -5},
                         {"temperature", "Cel", 2426, -2}});
  EXPECT_EQ(dev->set(0, drv::Value::numeric(1, 0)), Err::ReadOnly);
  EXPECT_EQ(dev->get(3).error(), Err::NotFound);
}

TEST(LinuxIio, AdcRawTimesScaleByIndex) {
  Rig r;
  add_param(&r.cfg, "device", 1);  // iio:device1, the ads1015
  auto dev = r.make();
  ASSERT_EQ(dev->init(), Err::Ok);
  EXPECT_STREQ(static_cast<drv::LinuxIio&>(*dev).device_dir(), "iio:device1");
  ASSERT_EQ(dev->sample(), Err::Ok);
  // voltage0: 1234 * in_voltage0_scale 0.125 = 154.25 mV; voltage1: -200 *
  // the type's shared in_voltage_scale 3 = -600 mV.
  expect_channels(*dev, {{"voltage0", "V", 15425, -5}, {"voltage1", "V", -6, -1}});
}

TEST(LinuxIio, OffsetInputOverRawAndUnitConversions) {
  Rig r;
  add_text(&r.cfg, "device", "mixed");
  auto dev = r.make();
  ASSERT_EQ(dev->init(), Err::Ok);
  ASSERT_EQ(dev->sample(), Err::Ok);
  expect_channels(*dev, {
                            // 100 * in_accel_scale 0.009806 m/s^2
                            {"acceleration_x", "m/s2", 9806, -4},
                            // 412 * 0.0001 percent = 412 ppm
                            {"concentration_co2", "ppm", 412, 0},
                            // in_current_input 150 mA
                            {"current", "A", 15, -2},
                            // in_illuminance_input 123.45 lux wins over in_illuminance_raw 7
                            {"illuminance", "lx", 12345, -2},
                            // 1000 * 0.001 Gauss = 1 G = 10^-4 T
                            {"magnetic_field_x", "T", 1, -4},
                            // 2500 * 1 mW
                            {"power", "W", 25, -1},
                            // (1000 + -500.5) * 62.5 = 31218.75 m°C
                            {"temperature", "Cel", 3121875, -5},
                        });
  // in_intensity_both_raw has no SenML unit: not a channel.
}

TEST(LinuxIio, ChannelsParamSelectsAndOrders) {
  Rig r;
  add_text(&r.cfg, "device", "bme280");
  add_text(&r.cfg, "channels", "temperature,pressure");
  auto dev = r.make();
  ASSERT_EQ(dev->init(), Err::Ok);
  ASSERT_EQ(dev->sample(), Err::Ok);
  expect_channels(*dev, {{"temperature", "Cel", 2426, -2}, {"pressure", "Pa", 10014765625, -5}});
}

TEST(LinuxIio, ChannelsParamNamingAMissingChannelFailsInit) {
  Rig r;
  add_text(&r.cfg, "device", "bme280");
  add_text(&r.cfg, "channels", "temperature,voltage0");
  auto dev = r.make();
  EXPECT_EQ(dev->init(), Err::NotFound);
  EXPECT_STREQ(dev->error_detail(), "params.channels: iio:device0 has no channel \"voltage0\"");
}

TEST(LinuxIio, MissingDeviceAtInit) {
  Rig r;
  add_text(&r.cfg, "device", "bmp388");
  auto dev = r.make();
  EXPECT_EQ(dev->init(), Err::NotFound);
  EXPECT_STREQ(dev->error_detail(), "no IIO device named \"bmp388\" in bus/iio/devices");
  EXPECT_EQ(dev->sample(), Err::NotReady);

  Rig n;
  add_param(&n.cfg, "device", 7);
  auto dev7 = n.make();
  EXPECT_EQ(dev7->init(), Err::NotFound);
  EXPECT_STREQ(dev7->error_detail(), "no IIO device bus/iio/devices/iio:device7");
}

TEST(LinuxIio, NoIioBusAtAll) {
  Rig r;
  r.fx.remove("bus/iio");
  add_text(&r.cfg, "device", "bme280");
  auto dev = r.make();
  EXPECT_EQ(dev->init(), Err::NotFound);
}

TEST(LinuxIio, DeviceThatDisappearsAfterInit) {
  Rig r;
  add_text(&r.cfg, "device", "bme280");
  auto dev = r.make();
  ASSERT_EQ(dev->init(), Err::Ok);
  ASSERT_EQ(dev->sample(), Err::Ok);
  r.fx.remove("bus/iio/devices/iio:device0");
  EXPECT_EQ(dev->sample(), Err::NotFound);
  EXPECT_STREQ(dev->error_detail(), "bus/iio/devices/iio:device0/in_humidityrelative_input: not found");
  // The last good snapshot stays readable.
  EXPECT_EQ(dev->get(2).value().mantissa, 2426);
}

TEST(LinuxIio, MalformedAttributeIsIoAndKeepsTheSnapshot) {
  Rig r;
  add_text(&r.cfg, "device", "bme280");
  auto dev = r.make();
  ASSERT_EQ(dev->init(), Err::Ok);
  ASSERT_EQ(dev->sample(), Err::Ok);
  r.fx.write("bus/iio/devices/iio:device0/in_temp_input", "24.2.6\n");
  EXPECT_EQ(dev->sample(), Err::Io);
  EXPECT_STREQ(dev->error_detail(), "bus/iio/devices/iio:device0/in_temp_input: not a decimal number (or EIO)");
  EXPECT_EQ(dev->get(2).value().mantissa, 2426);
  r.fx.write("bus/iio/devices/iio:device0/in_temp_input", "25000\n");
  ASSERT_EQ(dev->sample(), Err::Ok);
  EXPECT_EQ(dev->get(2).value().mantissa, 25);
  EXPECT_EQ(dev->get(2).value().exponent, 0);
  EXPECT_STREQ(dev->error_detail(), "");
}

TEST(LinuxIio, OutOfRangeValueIsIo) {
  Rig r;
  add_param(&r.cfg, "device", 1);
  auto dev = r.make();
  ASSERT_EQ(dev->init(), Err::Ok);
  r.fx.write("bus/iio/devices/iio:device1/in_voltage0_raw", "99999999999999999999999\n");
  EXPECT_EQ(dev->sample(), Err::Io);
}

TEST(LinuxIio, MalformedScaleFailsInit) {
  Rig r;
  r.fx.write("bus/iio/devices/iio:device1/in_voltage_scale", "three\n");
  add_param(&r.cfg, "device", 1);
  auto dev = r.make();
  EXPECT_EQ(dev->init(), Err::Io);
  EXPECT_STREQ(dev->error_detail(), "bus/iio/devices/iio:device1/in_voltage_scale: not a decimal number");
}

TEST(LinuxIio, TooManyChannelsAskForTheChannelsParam) {
  Rig r;
  for (int i = 0; i < 20; ++i) r.fx.write("bus/iio/devices/iio:device1/in_voltage" + std::to_string(i + 2) + "_raw", "1\n");
  add_param(&r.cfg, "device", 1);
  auto dev = r.make();
  EXPECT_EQ(dev->init(), Err::NoSpace);
  EXPECT_STREQ(dev->error_detail(), "iio:device1 has 22 channels, at most 16: choose with params.channels");
}

TEST(LinuxIio, FactoryErrors) {
  struct Case {
    const char* what;
    std::function<void(drv::DeviceConfig*)> setup;
    const char* text;
  };
  const Case cases[] = {
      {"no tree", [](drv::DeviceConfig* c) { c->sysfs = nullptr; },
       "needs the board's sysfs tree (\"hal\": \"linux\", or \"sysfs\" on a sim board)"},
      {"no device", [](drv::DeviceConfig*) {},
       "params.device: missing; expected the IIO device's name (\"bme280\") or N of iio:deviceN"},
      {"bad name", [](drv::DeviceConfig* c) { add_text(c, "device", "../x"); },
       "params.device: expected the IIO device's name (\"bme280\") (1..31 characters, no '/') or N of iio:deviceN, "
       "got \"../x\""},
      {"negative", [](drv::DeviceConfig* c) { add_param(c, "device", -1); },
       "params.device: expected the IIO device's name (\"bme280\") or N of iio:deviceN (0..65535), got -1"},
      {"unknown", [](drv::DeviceConfig* c) { add_param(c, "index", 1); },
       "params.index: unknown parameter (known: device, channels)"},
  };
  for (const Case& c : cases) {
    Rig r;
    c.setup(&r.cfg);
    drv::DriverError err;
    EXPECT_FALSE(r.make(&err)) << c.what;
    EXPECT_STREQ(err.text, c.text) << c.what;
  }
}

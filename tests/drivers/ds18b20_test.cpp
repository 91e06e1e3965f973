// maxim,ds18b20 through w1_therm's sysfs files (fixture tree). w1_slave format:
// Documentation/w1/slaves/w1_therm.rst; `temperature`:
// Documentation/ABI/testing/sysfs-driver-w1_therm.
#include <gtest/gtest.h>

#include "device_config.hpp"
#include "ds18b20/ds18b20.hpp"
#include "sysfs_fixture.hpp"

using hal::Err;
using xiot_test::add_param;
using xiot_test::add_text;

namespace {

constexpr const char* kSlave = "bus/w1/devices/28-0000075a2b1c/w1_slave";

struct Rig {
  xiot_test::SysfsFixture fx;
  drv::DeviceConfig cfg;
  explicit Rig(const char* id = "28-0000075a2b1c") {
    cfg.name = "probe0";
    cfg.compatible = "maxim,ds18b20";
    cfg.sysfs = &fx.tree();
    add_text(&cfg, "id", id);
  }
  std::unique_ptr<drv::Device> make(drv::DriverError* err = nullptr) { return drv::create_ds18b20(cfg, err); }
};

}  // namespace

TEST(Ds18b20, Crc8DatasheetVector) {
  // The scratchpad of the kernel documentation's example (23.125 °C): its
  // ninth byte is the CRC of the first eight.
  const uint8_t pad[] = {0x72, 0x01, 0x4b, 0x46, 0x7f, 0xff, 0x0e, 0x10};
  EXPECT_EQ(drv::w1_crc8(pad, 8), 0x57);
  const uint8_t rom[] = {0x28, 0x1c, 0x2b, 0x5a, 0x07, 0x00, 0x00};
  const uint8_t crc = drv::w1_crc8(rom, 7);
  uint8_t full[8] = {0x28, 0x1c, 0x2b, 0x5a, 0x07, 0x00, 0x00, crc};
  EXPECT_EQ(drv::w1_crc8(full, 8), 0);  // CRC over data + CRC is 0
}

TEST(Ds18b20, ReadsW1Slave) {
  Rig r;
  auto dev = r.make();
  ASSERT_EQ(dev->init(), Err::Ok);
  EXPECT_FALSE(static_cast<drv::Ds18b20&>(*dev).uses_temperature_attr());
  EXPECT_STREQ(dev->channel(0).quantity, "temperature");
  EXPECT_STREQ(dev->channel(0).unit, "Cel");
  ASSERT_EQ(dev->sample(), Err::Ok);
  EXPECT_EQ(dev->get(0).value().mantissa, 23125);
  EXPECT_EQ(dev->get(0).value().exponent, -3);
}

TEST(Ds18b20, PrefersTheTemperatureAttribute) {
  Rig r("28-00000a1b2c3d");
  auto dev = r.make();
  ASSERT_EQ(dev->init(), Err::Ok);
  EXPECT_TRUE(static_cast<drv::Ds18b20&>(*dev).uses_temperature_attr());
  ASSERT_EQ(dev->sample(), Err::Ok);
  EXPECT_EQ(dev->get(0).value().mantissa, -10125);
  r.fx.write("bus/w1/devices/28-00000a1b2c3d/temperature", "-9875\n");
  ASSERT_EQ(dev->sample(), Err::Ok);
  EXPECT_EQ(dev->get(0).value().mantissa, -9875);
}

TEST(Ds18b20, MissingAtInit) {
  Rig r("28-000000000bad");
  auto dev = r.make();
  EXPECT_EQ(dev->init(), Err::NotFound);
  EXPECT_STREQ(dev->error_detail(), "no 1-wire sensor 28-000000000bad in bus/w1/devices (w1_therm loaded? sensor wired?)");
  EXPECT_EQ(dev->sample(), Err::NotReady);
}

TEST(Ds18b20, CrcNoFromTheKernelIsCorrupt) {
  Rig r;
  auto dev = r.make();
  ASSERT_EQ(dev->init(), Err::Ok);
  ASSERT_EQ(dev->sample(), Err::Ok);
  r.fx.write(kSlave, "72 01 4b 46 7f ff 0e 10 57 : crc=57 NO\n72 01 4b 46 7f ff 0e 10 57 t=23125\n");
  EXPECT_EQ(dev->sample(), Err::Corrupt);
  EXPECT_STREQ(dev->error_detail(), "bus/w1/devices/28-0000075a2b1c/w1_slave: CRC check failed (the kernel says NO)");
  EXPECT_EQ(dev->get(0).value().mantissa, 23125);  // the last good value
}

TEST(Ds18b20, CrcMismatchIsCorrupt) {
  Rig r;
  auto dev = r.make();
  ASSERT_EQ(dev->init(), Err::Ok);
  r.fx.write(kSlave, "72 01 4b 46 7f ff 0e 10 58 : crc=58 YES\n72 01 4b 46 7f ff 0e 10 58 t=23125\n");
  EXPECT_EQ(dev->sample(), Err::Corrupt);
  EXPECT_STREQ(dev->error_detail(),
               "bus/w1/devices/28-0000075a2b1c/w1_slave: CRC mismatch (computed 0x57, read 0x58)");
}

TEST(Ds18b20, MalformedAndImplausibleContents) {
  struct Case {
    const char* text;
    Err err;
  };
  const Case cases[] = {
      {"", Err::Io},
      {"garbage\n", Err::Io},
      {"72 01 4b 46 7f ff 0e 10 57 t=23125\n", Err::Io},                             // no crc line
      {"72 01 4b 46 7f ff 0e 10 57 : crc=57 YES\n72 01 4b 46 7f ff 0e 10 57\n", Err::Io},  // no t=
      {"72 01 4b 46 7f ff 0e 10 57 : crc=57 YES\n72 01 4b 46 7f ff 0e 10 57 t=abc\n", Err::Io},
      // a shorted bus: zeros pass the CRC
      {"00 00 00 00 00 00 00 00 00 : crc=00 YES\n00 00 00 00 00 00 00 00 00 t=0\n", Err::Io},
      // outside the chip's -55..125 °C
      {"72 01 4b 46 7f ff 0e 10 57 : crc=57 YES\n72 01 4b 46 7f ff 0e 10 57 t=127937\n", Err::Io},
      {"72 01 4b 46 7f ff 0e 10 57 : crc=57 YES\n72 01 4b 46 7f ff 0e 10 57 t=-55001\n", Err::Io},
  };
  for (const Case& c : cases) {
    Rig r;
    auto dev = r.make();
    ASSERT_EQ(dev->init(), Err::Ok);
    r.fx.write(kSlave, c.text);
    EXPECT_EQ(dev->sample(), c.err) << c.text;
    EXPECT_STRNE(dev->error_detail(), "") << c.text;
  }
}

TEST(Ds18b20, DisappearsAfterInit) {
  Rig r;
  auto dev = r.make();
  ASSERT_EQ(dev->init(), Err::Ok);
  r.fx.remove("bus/w1/devices/28-0000075a2b1c");
  EXPECT_EQ(dev->sample(), Err::NotFound);
  EXPECT_STREQ(dev->error_detail(), "bus/w1/devices/28-0000075a2b1c/w1_slave: not found");
}

TEST(Ds18b20, FactoryErrors) {
  drv::DriverError err;
  for (const char* bad : {"28-0000075A2B1C", "10-0000075a2b1c", "28-0000075a2b1", "28_0000075a2b1c", ""}) {
    Rig r(bad);
    EXPECT_FALSE(r.make(&err)) << bad;
    EXPECT_STREQ(err.text, (std::string("params.id: expected \"28-\" + 12 lower-case hex digits "
                                        "(\"28-0000075a2b1c\"), got \"") + bad + "\"").c_str());
  }
  xiot_test::SysfsFixture fx;
  drv::DeviceConfig c;
  c.name = "probe0";
  c.sysfs = &fx.tree();
  EXPECT_FALSE(drv::create_ds18b20(c, &err));
  EXPECT_STREQ(err.text,
               "params.id: missing; expected the sensor's 1-wire id, \"28-\" + 12 hex digits (\"28-0000075a2b1c\")");
  add_param(&c, "id", 28);
  EXPECT_FALSE(drv::create_ds18b20(c, &err));
  EXPECT_STREQ(err.text, "params.id: expected \"28-\" + 12 lower-case hex digits (\"28-0000075a2b1c\"), got a number");
}

// drv/sysfs_attr.hpp: the number formats sysfs prints and the IIO ABI's
// (raw + offset) * scale, as table-driven vectors.
#include <gtest/gtest.h>

#include "device_config.hpp"
#include "drv/sysfs_attr.hpp"

using hal::Err;

namespace {

struct DecimalCase {
  const char* text;
  int64_t mantissa;
  int exponent;
};

class ParseDecimal : public ::testing::TestWithParam<DecimalCase> {};

TEST_P(ParseDecimal, Vectors) {
  const DecimalCase& c = GetParam();
  hal::Result<drv::Decimal> d = drv::parse_decimal(c.text);
  ASSERT_TRUE(d.ok()) << c.text;
  EXPECT_EQ(d.value().mantissa, c.mantissa) << c.text;
  EXPECT_EQ(d.value().exponent, c.exponent) << c.text;
}

INSTANTIATE_TEST_SUITE_P(
    Sysfs, ParseDecimal,
    ::testing::Values(DecimalCase{"24260\n", 24260, 0}, DecimalCase{"-12500\n", -12500, 0},
                      DecimalCase{"100.147656250\n", 100147656250, -9},  // bmp280 in_pressure_input (kPa)
                      DecimalCase{"0.125000000", 125000000, -9}, DecimalCase{"-500.5", -5005, -1},
                      DecimalCase{"0.000123", 123, -6}, DecimalCase{"+7", 7, 0}, DecimalCase{"0", 0, 0},
                      DecimalCase{"  42 \n", 42, 0},
                      // more than 18 significant digits: the fraction is truncated
                      DecimalCase{"1.2345678901234567891", 123456789012345678, -17}));

TEST(SysfsAttr, MalformedNumbersAreIo) {
  for (const char* bad : {"", "\n", "abc", "12a", "1.", ".5", "--1", "1 2", "1e3", "0x10",
                          "1234567890123456789" /* 19 integer digits */}) {
    EXPECT_EQ(drv::parse_decimal(bad).error(), Err::Io) << '"' << bad << '"';
  }
  EXPECT_EQ(drv::parse_integer("12.5\n").error(), Err::Io);
  EXPECT_EQ(drv::parse_integer("-45000\n").value(), -45000);
}

struct ScaleCase {
  const char* what;
  drv::Decimal raw, offset, scale;
  int shift;
  int64_t mantissa;
  int exponent;
};

class ScaleValue : public ::testing::TestWithParam<ScaleCase> {};

TEST_P(ScaleValue, Vectors) {
  const ScaleCase& c = GetParam();
  hal::Result<drv::Decimal> d = drv::scale_value(c.raw, c.offset, c.scale, c.shift);
  ASSERT_TRUE(d.ok()) << c.what;
  EXPECT_EQ(d.value().mantissa, c.mantissa) << c.what;
  EXPECT_EQ(d.value().exponent, c.exponent) << c.what;
}

// sysfs-bus-iio: value = (raw + offset) * scale, then the ABI unit -> SenML.
INSTANTIATE_TEST_SUITE_P(
    Iio, ScaleValue,
    ::testing::Values(
        // 24260 m°C -> 24.26 Cel
        ScaleCase{"temp_input", {24260, 0}, {0, 0}, {1, 0}, -3, 2426, -2},
        // 100.147656250 kPa -> 100147.65625 Pa
        ScaleCase{"pressure_kpa", {100147656250, -9}, {0, 0}, {1, 0}, 3, 10014765625, -5},
        // ADC: 1234 * 0.125 mV = 154.25 mV -> 0.15425 V
        ScaleCase{"adc", {1234, 0}, {0, 0}, {125000000, -9}, -3, 15425, -5},
        // (1000 + -500.5) * 62.5 m°C = 31218.75 m°C -> 31.21875 Cel
        ScaleCase{"offset", {1000, 0}, {-5005, -1}, {625, -1}, -3, 3121875, -5},
        // 412 * 0.0001 % = 0.0412 % -> 412 ppm
        ScaleCase{"co2", {412, 0}, {0, 0}, {1, -4}, 4, 412, 0},
        // 0 stays 0 whatever the scale
        ScaleCase{"zero", {0, 0}, {0, 0}, {3, 0}, -3, 0, 0},
        // a product beyond int64 loses the scale's last digits, not the value
        ScaleCase{"big", {999999999, 0}, {0, 0}, {123456789123456789, -18}, 0, 123456788976543211, -9}));

TEST(SysfsAttr, ScaleValueOutOfRangeIsIo) {
  EXPECT_EQ(drv::scale_value({999999999999999999, 0}, {999999999999999999, 0}, {1, 0}, 0).ok(), true);
  EXPECT_EQ(drv::scale_value({INT64_MAX, 0}, {INT64_MAX, 0}, {1, 0}, 0).error(), Err::Io);
  EXPECT_EQ(drv::scale_value({1, 0}, {0, 0}, {1, 90}, 20).error(), Err::Io);
}

TEST(SysfsAttr, ChannelListParameter) {
  char out[64];
  drv::DriverError err;
  drv::DeviceConfig none;
  EXPECT_TRUE(drv::param_channel_list(none, 4, 31, out, sizeof out, &err));
  EXPECT_STREQ(out, "");

  drv::DeviceConfig c;
  xiot_test::add_text(&c, "channels", "pressure,temperature");
  ASSERT_TRUE(drv::param_channel_list(c, 4, 31, out, sizeof out, &err));
  EXPECT_EQ(drv::channel_list_count(out), 2u);
  EXPECT_EQ(drv::channel_list_index(out, "temperature"), 1);
  EXPECT_EQ(drv::channel_list_index(out, "temp"), -1);
  char name[32];
  drv::channel_list_name(out, 0, name, sizeof name);
  EXPECT_STREQ(name, "pressure");

  for (const char* bad : {"", "a,,b", "a,a", "Temp", "a b", "a,b,c,d,e", ","}) {
    drv::DeviceConfig b;
    xiot_test::add_text(&b, "channels", bad);
    EXPECT_FALSE(drv::param_channel_list(b, 4, 31, out, sizeof out, &err)) << bad;
    EXPECT_STREQ(err.text, (std::string("params.channels: expected distinct channel names separated by commas (at "
                                        "most 4), got \"") + bad + "\"").c_str());
  }
}

}  // namespace

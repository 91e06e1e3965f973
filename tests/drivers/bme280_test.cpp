// BME280 driver against its register model: datasheet vectors, an
// independent floating-point reference, physical round trips, calibration
// packing, configuration, injected faults with their exact errors.
#include <gtest/gtest.h>

#include "device_config.hpp"

#include <cmath>
#include <string>
#include <vector>

#include "bme280/bme280.hpp"
#include "bme280/bme280_model.hpp"
#include "hal/sim/manual_clock.hpp"
#include "hal/sim/sim_i2c_bus.hpp"

using drv::Bme280;
using drv::Bme280Calibration;
using drv::sim::Bme280Model;
using hal::Err;
namespace bme = drv::bme280;

namespace {

constexpr uint16_t kAddr = 0x76;

/// A bus with one model on it and a driver for it.
struct Rig {
  hal::sim::ManualClock clock;
  hal::sim::SimI2cBus bus;
  Bme280Model model;
  Bme280 dev;

  explicit Rig(Bme280::Settings s = {}, bool attach = true)
      : dev("env0", drv::RegIo(bus, kAddr), &clock, s) {
    if (attach) {
      EXPECT_EQ(bus.attach(kAddr, &model), Err::Ok);
    }
  }
  int64_t mantissa(size_t ch) {
    auto v = dev.get(ch);
    EXPECT_TRUE(v.ok()) << hal::err_name(v.error());
    return v.ok() ? v.value().mantissa : INT64_MIN;
  }
};

Bme280::Settings forced() {
  Bme280::Settings s;
  s.mode = Bme280::Mode::Forced;
  return s;
}

// --- Independent reference: the datasheet's floating-point formulas (§8.1) ---
struct FloatOut {
  double t_c, p_pa, h_pct;
};
FloatOut float_reference(int32_t adc_T, int32_t adc_P, int32_t adc_H, const Bme280Calibration& c) {
  double var1 = (adc_T / 16384.0 - c.dig_T1 / 1024.0) * c.dig_T2;
  double var2 = (adc_T / 131072.0 - c.dig_T1 / 8192.0) * (adc_T / 131072.0 - c.dig_T1 / 8192.0) * c.dig_T3;
  const double t_fine = static_cast<int32_t>(var1 + var2);
  FloatOut o{};
  o.t_c = (var1 + var2) / 5120.0;

  var1 = t_fine / 2.0 - 64000.0;
  var2 = var1 * var1 * c.dig_P6 / 32768.0;
  var2 = var2 + var1 * c.dig_P5 * 2.0;
  var2 = var2 / 4.0 + c.dig_P4 * 65536.0;
  var1 = (c.dig_P3 * var1 * var1 / 524288.0 + c.dig_P2 * var1) / 524288.0;
  var1 = (1.0 + var1 / 32768.0) * c.dig_P1;
  double p = 1048576.0 - adc_P;
  p = (p - var2 / 4096.0) * 6250.0 / var1;
  var1 = c.dig_P9 * p * p / 2147483648.0;
  var2 = p * c.dig_P8 / 32768.0;
  o.p_pa = p + (var1 + var2 + c.dig_P7) / 16.0;

  double h = t_fine - 76800.0;
  h = (adc_H - (c.dig_H4 * 64.0 + c.dig_H5 / 16384.0 * h)) *
      (c.dig_H2 / 65536.0 * (1.0 + c.dig_H6 / 67108864.0 * h * (1.0 + c.dig_H3 / 67108864.0 * h)));
  h = h * (1.0 - c.dig_H1 * h / 524288.0);
  o.h_pct = h > 100.0 ? 100.0 : (h < 0.0 ? 0.0 : h);
  return o;
}

}  // namespace

// ---------------------------------------------------------------------------
// Datasheet vectors

TEST(Bme280Compensation, DatasheetTemperatureExample) {
  // Datasheet example: dig_T1=27504, dig_T2=26435, dig_T3=-1000, adc_T=519888
  // -> 25.08 °C, t_fine = 128422.
  const Bme280Calibration c = Bme280Model::datasheet_calibration();
  int32_t t_fine = 0;
  EXPECT_EQ(bme::compensate_temperature(519888, c, &t_fine), 2508);
  EXPECT_EQ(t_fine, 128422);
}

TEST(Bme280Compensation, DatasheetPressureExample) {
  // dig_P1..P9 = 36477, -10685, 3024, 2855, 140, -7, 15500, -14600, 6000,
  // adc_P = 415148 at t_fine 128422 -> 100653.25 Pa (Q24.8: 25767233).
  const Bme280Calibration c = Bme280Model::datasheet_calibration();
  const uint32_t p = bme::compensate_pressure(415148, 128422, c);
  EXPECT_EQ(p, 25767233u);
  EXPECT_NEAR(p / 256.0, 100653.27, 0.05);
}

TEST(Bme280Compensation, PressureGuardsDivisionByZero) {
  Bme280Calibration c = Bme280Model::datasheet_calibration();
  c.dig_P1 = 0;
  EXPECT_EQ(bme::compensate_pressure(415148, 128422, c), 0u);
}

TEST(Bme280Compensation, HumidityIsClampedTo0And100) {
  const Bme280Calibration c = Bme280Model::datasheet_calibration();
  EXPECT_EQ(bme::compensate_humidity(0, 128422, c), 0u);
  EXPECT_EQ(bme::compensate_humidity(0xFFFF, 128422, c), 100u * 1024u);
}

TEST(Bme280Compensation, IntegerFormulasAgreeWithTheFloatingPointReference) {
  const Bme280Calibration c = Bme280Model::datasheet_calibration();
  int checked = 0;
  for (int32_t adc_T = 320000; adc_T <= 700000; adc_T += 19000) {
    for (int32_t adc_P = 300000; adc_P <= 800000; adc_P += 50000) {
      for (int32_t adc_H = 20000; adc_H <= 40000; adc_H += 2500) {
        int32_t t_fine = 0;
        const int32_t t = bme::compensate_temperature(adc_T, c, &t_fine);
        const uint32_t p = bme::compensate_pressure(adc_P, t_fine, c);
        const uint32_t h = bme::compensate_humidity(adc_H, t_fine, c);
        const FloatOut f = float_reference(adc_T, adc_P, adc_H, c);
        ASSERT_NEAR(t / 100.0, f.t_c, 0.01) << adc_T;
        ASSERT_NEAR(p / 256.0, f.p_pa, 0.5) << adc_T << " " << adc_P;
        ASSERT_NEAR(h / 1024.0, f.h_pct, 0.02) << adc_T << " " << adc_H;
        ++checked;
      }
    }
  }
  EXPECT_GT(checked, 1000);
}

TEST(Bme280Driver, DatasheetVectorsThroughTheModel) {
  Rig r;
  r.model.set_raw(519888, 415148, 30000);
  ASSERT_EQ(r.dev.init(), Err::Ok);
  ASSERT_EQ(r.dev.sample(), Err::Ok);
  EXPECT_EQ(r.dev.t_fine(), 128422);
  auto t = r.dev.get(0).value();
  EXPECT_EQ(t.mantissa, 2508);
  EXPECT_EQ(t.exponent, -2);
  auto p = r.dev.get(2).value();
  EXPECT_EQ(p.mantissa, 100653);
  EXPECT_EQ(p.exponent, 0);
  auto h = r.dev.get(1).value();
  EXPECT_EQ(h.exponent, -1);
  const FloatOut f = float_reference(519888, 415148, 30000, Bme280Model::datasheet_calibration());
  EXPECT_NEAR(h.mantissa / 10.0, f.h_pct, 0.06);
}

// ---------------------------------------------------------------------------
// Channels

TEST(Bme280Driver, ChannelsAreNamedWithSenmlUnits) {
  Rig r;
  ASSERT_EQ(r.dev.channel_count(), 3u);
  const char* names[] = {"temperature", "humidity", "pressure"};
  const char* units[] = {"Cel", "%RH", "Pa"};
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_STREQ(r.dev.channel(i).quantity, names[i]);
    EXPECT_STREQ(r.dev.channel(i).unit, units[i]);
    EXPECT_EQ(r.dev.channel(i).kind, drv::ChannelKind::Sensor);
    EXPECT_EQ(r.dev.channel(i).type, drv::ValueType::Numeric);
  }
  EXPECT_STREQ(r.dev.name(), "env0");
  EXPECT_STREQ(r.dev.compatible(), "bosch,bme280");
}

// ---------------------------------------------------------------------------
// Physical value -> model -> driver -> value

struct RoundTrip {
  double t_c, h_pct, p_pa;
};

void PrintTo(const RoundTrip& v, std::ostream* os) {
  *os << v.t_c << " Cel, " << v.h_pct << " %RH, " << v.p_pa << " Pa";
}

class Bme280RoundTrip : public ::testing::TestWithParam<RoundTrip> {};

TEST_P(Bme280RoundTrip, PhysicalValueSurvivesModelAndDriver) {
  const RoundTrip v = GetParam();
  Rig r;
  r.model.set_temperature_c(v.t_c);
  r.model.set_humidity_pct(v.h_pct);
  r.model.set_pressure_pa(v.p_pa);
  ASSERT_EQ(r.dev.init(), Err::Ok);
  ASSERT_EQ(r.dev.sample(), Err::Ok);
  EXPECT_EQ(r.mantissa(0), std::llround(v.t_c * 100));
  EXPECT_EQ(r.mantissa(1), std::llround(v.h_pct * 10));
  EXPECT_EQ(r.mantissa(2), std::llround(v.p_pa));
}

std::vector<RoundTrip> round_trip_table() {
  std::vector<RoundTrip> out;
  const double temps[] = {-40.0, -10.25, 0.0, 21.54, 25.0, 60.01, 85.0};
  const double hums[] = {0.0, 0.1, 40.1, 50.0, 99.9, 100.0};
  const double press[] = {30000.0, 70000.0, 101325.0, 110000.0};
  for (double t : temps) {
    for (double h : hums) {
      for (double p : press) out.push_back({t, h, p});
    }
  }
  return out;
}

INSTANTIATE_TEST_SUITE_P(EdgeAndTypicalValues, Bme280RoundTrip,
                         ::testing::ValuesIn(round_trip_table()));

TEST(Bme280Driver, SimBoardValuesComeOutExactly) {
  Rig r;
  r.model.set_temperature_c(21.54);
  r.model.set_humidity_pct(40.1);
  r.model.set_pressure_pa(101325);
  ASSERT_EQ(r.dev.init(), Err::Ok);
  ASSERT_EQ(r.dev.sample(), Err::Ok);
  EXPECT_EQ(r.mantissa(0), 2154);
  EXPECT_EQ(r.mantissa(1), 401);
  EXPECT_EQ(r.mantissa(2), 101325);
}

TEST(Bme280Driver, NewValuesAppearOnTheNextSampleOnly) {
  Rig r;
  r.model.set_temperature_c(20.0);
  ASSERT_EQ(r.dev.init(), Err::Ok);
  ASSERT_EQ(r.dev.sample(), Err::Ok);
  r.model.set_temperature_c(30.5);
  EXPECT_EQ(r.mantissa(0), 2000);  // get() only converts the last snapshot
  ASSERT_EQ(r.dev.sample(), Err::Ok);
  EXPECT_EQ(r.mantissa(0), 3050);
}

// ---------------------------------------------------------------------------
// Calibration: NVM packing (dig_H4/dig_H5 share 0xE5)

TEST(Bme280Driver, CalibrationIsUnpackedExactlyIncludingSharedNibbles) {
  std::vector<Bme280Calibration> table;
  table.push_back(Bme280Model::datasheet_calibration());
  Bme280Calibration c = Bme280Model::datasheet_calibration();
  c.dig_H4 = -1;  // 0xFFF
  c.dig_H5 = -2048;
  table.push_back(c);
  c.dig_H4 = 2047;
  c.dig_H5 = 0x5A5;
  c.dig_H2 = -300;
  c.dig_H6 = -7;
  c.dig_H1 = 255;
  c.dig_H3 = 200;
  table.push_back(c);
  c.dig_H4 = 0x123;
  c.dig_H5 = -0x321;
  c.dig_T2 = -1;
  c.dig_P9 = -32768;
  c.dig_T1 = 65534;
  table.push_back(c);
  for (const Bme280Calibration& want : table) {
    Rig r;
    r.model.set_calibration(want);
    ASSERT_EQ(r.dev.init(), Err::Ok);
    EXPECT_TRUE(r.dev.calibration() == want) << "H4=" << want.dig_H4 << " H5=" << want.dig_H5
                                             << " got H4=" << r.dev.calibration().dig_H4
                                             << " H5=" << r.dev.calibration().dig_H5;
  }
}

TEST(Bme280Driver, CalibrationRegisterLayoutMatchesTheDatasheet) {
  // Byte-level check of parse_calibration() against hand-packed registers.
  uint8_t tp[bme::kCalibTpLen] = {};
  tp[0] = 0x70;  // dig_T1 = 0x6B70 = 27504
  tp[1] = 0x6B;
  tp[25] = 0x4B;  // 0xA1: dig_H1 = 75
  uint8_t h[bme::kCalibHLen] = {0x6A, 0x01, 0x00, 0x13, 0x29, 0x03, 0x1E};
  // dig_H2 = 0x016A = 362; dig_H4 = 0x13<<4 | 0x9 = 313; dig_H5 = 0x03<<4 | 0x2 = 50; H6 = 30
  Bme280Calibration c;
  bme::parse_calibration(tp, h, &c);
  EXPECT_EQ(c.dig_T1, 27504);
  EXPECT_EQ(c.dig_H1, 75);
  EXPECT_EQ(c.dig_H2, 362);
  EXPECT_EQ(c.dig_H3, 0);
  EXPECT_EQ(c.dig_H4, 313);
  EXPECT_EQ(c.dig_H5, 50);
  EXPECT_EQ(c.dig_H6, 30);
  h[3] = 0xF0;  // negative dig_H4: 0xF0<<4 | 9 = -247
  h[5] = 0x80;  // negative dig_H5: 0x80<<4 | 2 = -2046
  bme::parse_calibration(tp, h, &c);
  EXPECT_EQ(c.dig_H4, -247);
  EXPECT_EQ(c.dig_H5, -2046);
}

TEST(Bme280Driver, ErasedCalibrationIsCorrupt) {
  Rig r;
  r.model.corrupt_calibration();
  EXPECT_EQ(r.dev.init(), Err::Corrupt);
  EXPECT_EQ(r.dev.sample(), Err::NotReady);
}

// ---------------------------------------------------------------------------
// Identity and presence

TEST(Bme280Driver, WrongChipIdIsBadChipId) {
  for (uint8_t id : {0x58, 0x56, 0x00, 0xFF}) {
    Rig r;
    r.model.set_chip_id(id);
    EXPECT_EQ(r.dev.init(), Err::BadChipId) << int(id);
    EXPECT_EQ(r.model.reset_count(), 0u);  // nothing written to a foreign chip
  }
}

TEST(Bme280Driver, AbsentChipIsNack) {
  Rig r({}, /*attach=*/false);
  EXPECT_EQ(r.dev.init(), Err::Nack);
  EXPECT_EQ(r.dev.get(0).error(), Err::NotReady);
}

// ---------------------------------------------------------------------------
// Configuration and bus discipline

TEST(Bme280Driver, InitSoftResetsAndConfiguresTheChip) {
  Bme280::Settings s;  // normal, x2 / x16 / x1, filter off, standby 1000 ms
  Rig r(s);
  ASSERT_EQ(r.dev.init(), Err::Ok);
  EXPECT_EQ(r.model.reset_count(), 1u);
  EXPECT_EQ(r.model.reg(bme::kRegCtrlHum), 0x01);
  EXPECT_EQ(r.model.reg(bme::kRegConfig), 5 << 5);
  EXPECT_EQ(r.model.reg(bme::kRegCtrlMeas), (2 << 5) | (5 << 2) | bme::kModeNormal);
}

TEST(Bme280Driver, ReconfiguresARunningChipWithoutReset) {
  // A chip left in normal mode ignores config writes; init() must put it to
  // sleep first (datasheet §5.4.6).
  Rig first;
  ASSERT_EQ(first.dev.init(), Err::Ok);
  Bme280::Settings s;
  s.soft_reset = false;
  s.filter = 4;
  s.standby = 0;
  Bme280 again("env0", drv::RegIo(first.bus, kAddr), &first.clock, s);
  ASSERT_EQ(again.init(), Err::Ok);
  EXPECT_EQ(first.model.reset_count(), 1u);
  EXPECT_EQ(first.model.reg(bme::kRegConfig), 4 << 2);
}

TEST(Bme280Driver, EveryTransferCarriesATimeoutAndSampleIsOneBurst) {
  Rig r;
  ASSERT_EQ(r.dev.init(), Err::Ok);
  EXPECT_EQ(r.bus.last_timeout_ms(), drv::RegIo::kDefaultTimeoutMs);
  const uint32_t before = r.bus.transfer_count();
  ASSERT_EQ(r.dev.sample(), Err::Ok);
  EXPECT_EQ(r.bus.transfer_count() - before, 1u);  // 0xF7..0xFE in one read
  EXPECT_EQ(r.bus.last_timeout_ms(), drv::RegIo::kDefaultTimeoutMs);
}

TEST(Bme280Driver, SensorChannelsAreReadOnly) {
  Rig r;
  EXPECT_EQ(r.dev.set(0, drv::Value::numeric(1, 0)), Err::ReadOnly);
  EXPECT_EQ(r.dev.set(3, drv::Value::numeric(1, 0)), Err::NotFound);
  EXPECT_EQ(r.dev.get(3).error(), Err::NotFound);
}

// ---------------------------------------------------------------------------
// Forced mode and deadlines

TEST(Bme280Driver, ForcedModeStartsAConversionAndWaitsForIt) {
  Rig r(forced());
  r.model.set_measuring_polls(3);
  r.model.set_temperature_c(-12.5);
  ASSERT_EQ(r.dev.init(), Err::Ok);
  EXPECT_EQ(r.model.mode(), bme::kModeSleep);
  const uint32_t conversions = r.model.conversion_count();
  ASSERT_EQ(r.dev.sample(), Err::Ok);
  EXPECT_EQ(r.model.conversion_count(), conversions + 1);
  EXPECT_EQ(r.model.mode(), bme::kModeSleep);  // back to sleep after one conversion
  EXPECT_EQ(r.mantissa(0), -1250);
}

TEST(Bme280Driver, StuckMeasuringBitTimesOutOnTheDeadline) {
  Rig r(forced());
  ASSERT_EQ(r.dev.init(), Err::Ok);
  ASSERT_EQ(r.dev.sample(), Err::Ok);
  r.model.set_measuring_polls(Bme280Model::kForever);
  r.clock.set_auto_advance_us(1000);  // each clock read is 1 ms later
  const hal::MonoTime start = r.clock.peek_mono();
  EXPECT_EQ(r.dev.sample(), Err::Timeout);
  const int64_t waited_ms = r.clock.peek_mono().us_since(start) / 1000;
  EXPECT_GE(waited_ms, Bme280::kWaitDeadlineMs);
  EXPECT_LE(waited_ms, Bme280::kWaitDeadlineMs + 5);
  EXPECT_EQ(r.mantissa(0), 2500);  // the previous snapshot is still there
}

TEST(Bme280Driver, WaitsEndEvenWithoutAClock) {
  hal::sim::SimI2cBus bus;
  Bme280Model model;
  ASSERT_EQ(bus.attach(kAddr, &model), Err::Ok);
  Bme280 dev("env0", drv::RegIo(bus, kAddr), nullptr, forced());
  ASSERT_EQ(dev.init(), Err::Ok);
  model.set_measuring_polls(Bme280Model::kForever);
  EXPECT_EQ(dev.sample(), Err::Timeout);
}

TEST(Bme280Driver, StuckNvmCopyAfterResetTimesOut) {
  Rig r;
  r.model.set_im_update_polls(Bme280Model::kForever);
  r.clock.set_auto_advance_us(500);
  EXPECT_EQ(r.dev.init(), Err::Timeout);
}

// ---------------------------------------------------------------------------
// Data validity

TEST(Bme280Driver, NoConversionYetIsNotReady) {
  Rig r(forced());
  ASSERT_EQ(r.dev.init(), Err::Ok);
  r.model.set_data_fault(Bme280Model::DataFault::Skipped);
  EXPECT_EQ(r.dev.sample(), Err::NotReady);
  EXPECT_EQ(r.dev.get(0).error(), Err::NotReady);
  r.model.set_data_fault(Bme280Model::DataFault::None);
  EXPECT_EQ(r.dev.sample(), Err::Ok);
}

TEST(Bme280Driver, NormalModeInitWaitsForTheFirstConversion) {
  Rig r;
  r.model.set_data_fault(Bme280Model::DataFault::Skipped);  // the chip never converts
  r.clock.set_auto_advance_us(1000);
  const hal::MonoTime start = r.clock.peek_mono();
  EXPECT_EQ(r.dev.init(), Err::Timeout);
  EXPECT_GE(r.clock.peek_mono().us_since(start) / 1000, Bme280::kWaitDeadlineMs);
  r.model.set_data_fault(Bme280Model::DataFault::None);
  ASSERT_EQ(r.dev.init(), Err::Ok);
  EXPECT_EQ(r.dev.sample(), Err::Ok);  // data right away after init()
}

TEST(Bme280Driver, SampleBeforeInitIsNotReady) {
  Rig r;
  EXPECT_EQ(r.dev.sample(), Err::NotReady);
}

TEST(Bme280Driver, GarbageDataStaysInsideTheCompensationRanges) {
  Rig r;
  r.model.set_data_fault(Bme280Model::DataFault::Garbage);
  ASSERT_EQ(r.dev.init(), Err::Ok);
  ASSERT_EQ(r.dev.sample(), Err::Ok);
  EXPECT_LE(r.mantissa(1), 1000);  // humidity clamps at 100.0 %RH
  EXPECT_GE(r.mantissa(2), 0);
}

// ---------------------------------------------------------------------------
// Injected per-register faults: the exact error comes out of init()/sample()

struct RegFault {
  const char* what;
  uint8_t reg;
  Bme280Model::Access access;
  Err err;
  bool during_sample;  // false: init() fails; true: init() passes, sample() fails
  bool forced_mode;
};

void PrintTo(const RegFault& f, std::ostream* os) { *os << f.what; }

class Bme280Fault : public ::testing::TestWithParam<RegFault> {};

TEST_P(Bme280Fault, ExactErrorPropagates) {
  const RegFault f = GetParam();
  Rig r(f.forced_mode ? forced() : Bme280::Settings{});
  if (f.during_sample) {
    ASSERT_EQ(r.dev.init(), Err::Ok);
  }
  ASSERT_EQ(r.model.fail_register(f.reg, f.err, f.access), Err::Ok);
  if (f.during_sample) {
    EXPECT_EQ(r.dev.sample(), f.err);
  } else {
    EXPECT_EQ(r.dev.init(), f.err);
    EXPECT_EQ(r.dev.sample(), Err::NotReady);
  }
  r.model.clear_faults();
  ASSERT_EQ(r.dev.init(), Err::Ok);  // recovers once the fault is gone
  EXPECT_EQ(r.dev.sample(), Err::Ok);
}

using A = Bme280Model::Access;
INSTANTIATE_TEST_SUITE_P(
    PerRegister, Bme280Fault,
    ::testing::Values(RegFault{"chip_id_read", 0xD0, A::Read, Err::Io, false, false},
                      RegFault{"reset_write", 0xE0, A::Write, Err::Nack, false, false},
                      RegFault{"status_read", 0xF3, A::Read, Err::Timeout, false, false},
                      RegFault{"calib00_read", 0x88, A::Read, Err::Io, false, false},
                      RegFault{"calib25_h1_read", 0xA1, A::Read, Err::Timeout, false, false},
                      RegFault{"calib_e5_read", 0xE5, A::Read, Err::Nack, false, false},
                      RegFault{"ctrl_hum_write", 0xF2, A::Write, Err::Nack, false, false},
                      RegFault{"config_write", 0xF5, A::Write, Err::Io, false, false},
                      RegFault{"ctrl_meas_write", 0xF4, A::Write, Err::Timeout, false, false},
                      RegFault{"first_conversion_read", 0xFA, A::Read, Err::Io, false, false},
                      RegFault{"press_msb_read", 0xF7, A::Read, Err::Io, true, false},
                      RegFault{"hum_lsb_read", 0xFE, A::Read, Err::Nack, true, false},
                      RegFault{"forced_trigger", 0xF4, A::Write, Err::Nack, true, true},
                      RegFault{"forced_status", 0xF3, A::Read, Err::Io, true, true}),
    [](const ::testing::TestParamInfo<RegFault>& i) { return std::string(i.param.what); });

TEST(Bme280Driver, BusLevelFaultsPropagate) {
  Rig r;
  ASSERT_EQ(r.dev.init(), Err::Ok);
  r.bus.fail_next(Err::Timeout);
  EXPECT_EQ(r.dev.sample(), Err::Timeout);
  EXPECT_EQ(r.dev.sample(), Err::Ok);
}

// ---------------------------------------------------------------------------
// Factory

namespace {
drv::DeviceConfig bme_config(hal::I2cBus* bus) {
  drv::DeviceConfig c;
  c.name = "env0";
  c.compatible = "bosch,bme280";
  c.i2c = bus;
  c.i2c_address = kAddr;
  return c;
}
using xiot_test::add_param;
using xiot_test::add_text;
}  // namespace

TEST(Bme280Factory, ParamsConfigureTheChip) {
  hal::sim::SimI2cBus bus;
  Bme280Model model;
  ASSERT_EQ(bus.attach(kAddr, &model), Err::Ok);
  drv::DeviceConfig c = bme_config(&bus);
  add_param(&c, "osrs_t", 1);
  add_param(&c, "osrs_p", 4);
  add_param(&c, "osrs_h", 16);
  add_param(&c, "filter", 8);
  add_param(&c, "standby_ms", 62);
  drv::DriverError err;
  auto dev = drv::create_bme280(c, &err);
  ASSERT_NE(dev, nullptr) << err.text;
  ASSERT_EQ(dev->init(), Err::Ok);
  EXPECT_EQ(model.reg(bme::kRegCtrlMeas), (1 << 5) | (3 << 2) | 3);
  EXPECT_EQ(model.reg(bme::kRegCtrlHum), 5);
  EXPECT_EQ(model.reg(bme::kRegConfig), (1 << 5) | (3 << 2));
}

TEST(Bme280Factory, RejectsUnusableConfigsWithOneLine) {
  hal::sim::SimI2cBus bus;
  struct Case {
    const char* key;
    bool text;
    int64_t n;
    const char* s;
    const char* message;
  } cases[] = {
      {"mode", true, 0, "turbo", "params.mode: expected \"normal\" or \"forced\", got \"turbo\""},
      {"osrs_t", false, 3, nullptr, "params.osrs_t: expected 1, 2, 4, 8 or 16, got 3"},
      {"osrs_p", false, 32, nullptr, "params.osrs_p: expected an integer 1..16, got 32"},
      {"osrs_h", true, 0, "x2", "params.osrs_h: expected an integer 1..16, got \"x2\""},
      {"filter", false, 3, nullptr, "params.filter: expected 0, 2, 4, 8 or 16, got 3"},
      {"standby_ms", false, 100, nullptr,
       "params.standby_ms: expected 1, 10, 20, 62, 125, 250, 500 or 1000, got 100"},
      {"soft_reset", false, 2, nullptr, "params.soft_reset: expected an integer 0..1, got 2"},
      {"speed", false, 1, nullptr,
       "params.speed: unknown parameter (known: mode, osrs_t, osrs_p, osrs_h, filter, "
       "standby_ms, soft_reset)"},
  };
  for (const Case& k : cases) {
    drv::DeviceConfig c = bme_config(&bus);
    if (k.text) {
      add_text(&c, k.key, k.s);
    } else {
      add_param(&c, k.key, k.n);
    }
    drv::DriverError err;
    EXPECT_EQ(drv::create_bme280(c, &err), nullptr) << k.key;
    EXPECT_STREQ(err.text, k.message);
  }
  drv::DeviceConfig no_bus = bme_config(nullptr);
  drv::DriverError err;
  EXPECT_EQ(drv::create_bme280(no_bus, &err), nullptr);
  EXPECT_STREQ(err.text, "needs an I2C bus and address (\"bus\", \"address\")");
}

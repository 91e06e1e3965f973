// SHT3x driver against its command model: datasheet vectors (CRC-8, the
// conversion formulas), physical round trips, busy NACKs with deadlines,
// injected per-transfer faults with their exact errors, the factory and the
// model-table row.
#include <gtest/gtest.h>

#include "device_config.hpp"

#include <cmath>
#include <string>
#include <vector>

#include "bme280/bme280_model.hpp"
#include "drv/model_table.hpp"
#include "hal/sim/manual_clock.hpp"
#include "hal/sim/sim_i2c_bus.hpp"
#include "json/reader.hpp"
#include "sht3x/sht3x.hpp"
#include "sht3x/sht3x_model.hpp"

using drv::Sht3x;
using drv::sim::Sht3xModel;
using hal::Err;
namespace sht = drv::sht3x;

namespace {

constexpr uint16_t kAddr = 0x44;

/// A bus with one model on it and a driver for it.
struct Rig {
  hal::sim::ManualClock clock;
  hal::sim::SimI2cBus bus;
  Sht3xModel model;
  Sht3x dev;

  explicit Rig(Sht3x::Settings s = {}, bool attach = true) : dev("rh0", bus, kAddr, &clock, s) {
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

Sht3x::Settings no_reset() {
  Sht3x::Settings s;
  s.soft_reset = false;
  return s;
}

/// An independent CRC: the message times x^8, plus the init value's
/// contribution, divided by x^8 + x^5 + x^4 + 1 bit by bit over a 24-bit word.
uint8_t reference_crc(uint8_t msb, uint8_t lsb) {
  // Init 0xFF is the same as XORing 0xFF into the first message byte.
  uint32_t r = (static_cast<uint32_t>(msb ^ 0xFF) << 16) | (static_cast<uint32_t>(lsb) << 8);
  for (int bit = 23; bit >= 8; --bit) {
    if (r & (1u << bit)) r ^= 0x131u << (bit - 8);
  }
  return static_cast<uint8_t>(r);
}

}  // namespace

// ---------------------------------------------------------------------------
// Datasheet vectors

TEST(Sht3xProtocol, CrcOfTheDatasheetExample) {
  // §4.12 table 20: CRC(0xBEEF) = 0x92.
  const uint8_t beef[2] = {0xBE, 0xEF};
  EXPECT_EQ(sht::crc8(beef, 2), 0x92);
  EXPECT_EQ(reference_crc(0xBE, 0xEF), 0x92);
}

TEST(Sht3xProtocol, CrcAgreesWithAnIndependentDivisionForEveryWord) {
  for (uint32_t w = 0; w <= 0xFFFF; ++w) {
    const uint8_t b[2] = {static_cast<uint8_t>(w >> 8), static_cast<uint8_t>(w)};
    ASSERT_EQ(sht::crc8(b, 2), reference_crc(b[0], b[1])) << w;
  }
}

TEST(Sht3xProtocol, ConversionEndpointsAndExactPoints) {
  // §4.13: T = -45 + 175 * S / 65535, RH = 100 * S / 65535.
  struct V {
    uint16_t raw;
    int32_t t_centi;
    int32_t rh_centi;
  } table[] = {
      {0x0000, -4500, 0},      // the formulas' lower ends
      {0xFFFF, 13000, 10000},  // divided by 2^16 - 1: exactly 130 °C and 100 %RH
      {0x6666, 2500, 4000},    // 26214 / 65535 = 0.4 exactly
      {0x3333, -1000, 2000},   // 0.2
      {0x9999, 6000, 6000},    // 0.6
      {0xBEEF, 8552, 7458},    // 85.5227 °C, 74.5846 %RH
      {0x8000, 4250, 5000},    // 42.5013 °C, 50.0008 %RH
  };
  for (const V& v : table) {
    EXPECT_EQ(sht::temperature_centi(v.raw), v.t_centi) << v.raw;
    EXPECT_EQ(sht::humidity_centi(v.raw), v.rh_centi) << v.raw;
  }
}

TEST(Sht3xProtocol, IntegerConversionIsTheFormulaRoundedForEveryWord) {
  for (uint32_t s = 0; s <= 0xFFFF; ++s) {
    const double t = -45.0 + 175.0 * s / 65535.0;
    const double rh = 100.0 * s / 65535.0;
    ASSERT_NEAR(sht::temperature_centi(static_cast<uint16_t>(s)) / 100.0, t, 0.005 + 1e-9) << s;
    ASSERT_NEAR(sht::humidity_centi(static_cast<uint16_t>(s)) / 100.0, rh, 0.005 + 1e-9) << s;
  }
}

TEST(Sht3xModelWire, MeasurementFrameCarriesTheDatasheetCrc) {
  // The datasheet's 0xBEEF on the wire: T msb, lsb, 0x92, then RH and its CRC.
  Sht3xModel m;
  m.set_measuring_polls(0);
  m.set_raw(0xBEEF, 0x6666);
  const uint8_t cmd[2] = {0x24, 0x00};
  uint8_t rx[6] = {};
  ASSERT_EQ(m.on_transfer(cmd, 2, nullptr, 0), Err::Ok);
  ASSERT_EQ(m.on_transfer(nullptr, 0, rx, 6), Err::Ok);
  const uint8_t rh[2] = {0x66, 0x66};
  EXPECT_EQ(std::vector<uint8_t>(rx, rx + 6),
            (std::vector<uint8_t>{0xBE, 0xEF, 0x92, 0x66, 0x66, sht::crc8(rh, 2)}));
  // Read once: a second read header has no data behind it (§4.6).
  EXPECT_EQ(m.on_transfer(nullptr, 0, rx, 6), Err::Nack);
}

TEST(Sht3xModelWire, CommandSetAndStatusRegister) {
  Sht3xModel m;
  uint8_t rx[3] = {};
  const uint8_t status[2] = {0xF3, 0x2D};
  // Combined transaction: command, repeated start, read.
  ASSERT_EQ(m.on_transfer(status, 2, rx, 3), Err::Ok);
  EXPECT_EQ((rx[0] << 8) | rx[1], sht::kStatusAlertPending | sht::kStatusResetDetected);
  EXPECT_EQ(rx[2], sht::crc8(rx, 2));
  const uint8_t heater_on[2] = {0x30, 0x6D};
  const uint8_t clear[2] = {0x30, 0x41};
  ASSERT_EQ(m.on_transfer(heater_on, 2, nullptr, 0), Err::Ok);
  ASSERT_EQ(m.on_transfer(clear, 2, nullptr, 0), Err::Ok);
  EXPECT_EQ(m.status(), sht::kStatusHeaterOn);
  const uint8_t bogus[2] = {0x12, 0x34};
  EXPECT_EQ(m.on_transfer(bogus, 2, nullptr, 0), Err::Nack);
  EXPECT_EQ(m.status(), sht::kStatusHeaterOn | sht::kStatusCommandFailed);
  // A clock-stretching measurement is not NACKed: the read waits instead.
  const uint8_t stretch[2] = {0x2C, 0x06};
  uint8_t d[6] = {};
  EXPECT_EQ(m.on_transfer(stretch, 2, d, 6), Err::Ok);
  EXPECT_EQ(m.measurement_count(), 1u);
  EXPECT_EQ(m.status(), sht::kStatusHeaterOn);  // a good command clears "failed"
}

// ---------------------------------------------------------------------------
// Channels

TEST(Sht3xDriver, ChannelsAreNamedWithSenmlUnits) {
  Rig r;
  ASSERT_EQ(r.dev.channel_count(), 2u);
  const char* names[] = {"temperature", "humidity"};
  const char* units[] = {"Cel", "%RH"};
  for (size_t i = 0; i < 2; ++i) {
    EXPECT_STREQ(r.dev.channel(i).quantity, names[i]);
    EXPECT_STREQ(r.dev.channel(i).unit, units[i]);
    EXPECT_EQ(r.dev.channel(i).kind, drv::ChannelKind::Sensor);
    EXPECT_EQ(r.dev.channel(i).type, drv::ValueType::Numeric);
  }
  EXPECT_STREQ(r.dev.name(), "rh0");
  EXPECT_STREQ(r.dev.compatible(), "sensirion,sht3x");
}

TEST(Sht3xDriver, DatasheetWordsThroughTheModel) {
  Rig r;
  r.model.set_raw(0xBEEF, 0x6666);
  ASSERT_EQ(r.dev.init(), Err::Ok);
  ASSERT_EQ(r.dev.sample(), Err::Ok);
  EXPECT_EQ(r.dev.raw_temperature(), 0xBEEF);
  EXPECT_EQ(r.dev.raw_humidity(), 0x6666);
  const drv::Value t = r.dev.get(0).value();
  EXPECT_EQ(t.mantissa, 8552);
  EXPECT_EQ(t.exponent, -2);
  const drv::Value h = r.dev.get(1).value();
  EXPECT_EQ(h.mantissa, 4000);
  EXPECT_EQ(h.exponent, -2);
}

// ---------------------------------------------------------------------------
// Physical value -> model -> driver -> value

struct Sht3xValues {
  double t_c, h_pct;
};

void PrintTo(const Sht3xValues& v, std::ostream* os) { *os << v.t_c << " Cel, " << v.h_pct << " %RH"; }

class Sht3xRoundTrip : public ::testing::TestWithParam<Sht3xValues> {};

TEST_P(Sht3xRoundTrip, PhysicalValueSurvivesModelAndDriver) {
  const Sht3xValues v = GetParam();
  Rig r;
  r.model.set_temperature_c(v.t_c);
  r.model.set_humidity_pct(v.h_pct);
  ASSERT_EQ(r.dev.init(), Err::Ok);
  ASSERT_EQ(r.dev.sample(), Err::Ok);
  EXPECT_EQ(r.mantissa(0), std::llround(v.t_c * 100));
  EXPECT_EQ(r.mantissa(1), std::llround(v.h_pct * 100));
}

std::vector<Sht3xValues> sht3x_round_trip_table() {
  std::vector<Sht3xValues> out;
  const double temps[] = {-45.0, -40.0, -10.25, 0.0, 21.54, 25.0, 60.01, 85.0, 125.0, 130.0};
  const double hums[] = {0.0, 0.01, 40.1, 50.0, 99.99, 100.0};
  for (double t : temps) {
    for (double h : hums) out.push_back({t, h});
  }
  return out;
}

INSTANTIATE_TEST_SUITE_P(EdgeAndTypicalValues, Sht3xRoundTrip, ::testing::ValuesIn(sht3x_round_trip_table()));

TEST(Sht3xDriver, NewValuesAppearOnTheNextSampleOnly) {
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
// Init: reset, status, identity, presence

TEST(Sht3xDriver, InitSoftResetsAndReadsTheStatus) {
  Rig r;
  r.model.set_reset_polls(3);  // the chip NACKs three transfers after the reset
  ASSERT_EQ(r.dev.init(), Err::Ok);
  EXPECT_EQ(r.model.reset_count(), 1u);
  EXPECT_EQ(r.dev.status(), sht::kStatusAlertPending | sht::kStatusResetDetected);
  EXPECT_EQ(r.model.last_command(), sht::kCmdReadStatus);
}

TEST(Sht3xDriver, InitWithoutResetOnlyReadsTheStatus) {
  Rig r(no_reset());
  ASSERT_EQ(r.dev.init(), Err::Ok);
  EXPECT_EQ(r.model.reset_count(), 0u);
  EXPECT_EQ(r.model.transfer_count(), 2u);  // command + read
}

TEST(Sht3xDriver, StuckResetTimesOutOnTheDeadline) {
  Rig r;
  r.model.set_reset_polls(Sht3xModel::kForever);
  r.clock.set_auto_advance_us(100);
  const hal::MonoTime start = r.clock.peek_mono();
  EXPECT_EQ(r.dev.init(), Err::Timeout);
  const int64_t waited_us = r.clock.peek_mono().us_since(start);
  EXPECT_GE(waited_us, Sht3x::kResetDeadlineMs * 1000);
  EXPECT_LE(waited_us, Sht3x::kResetDeadlineMs * 1000 + 300);
  EXPECT_EQ(r.dev.sample(), Err::NotReady);
}

TEST(Sht3xDriver, ReservedStatusBitsAreBadChipId) {
  for (uint16_t bits : {0x4000, 0x1000, 0x0008, 0x0004}) {
    Rig r;
    r.model.set_status_extra_bits(bits);
    EXPECT_EQ(r.dev.init(), Err::BadChipId) << bits;
    EXPECT_EQ(r.dev.sample(), Err::NotReady);
  }
  // Bits 9:5 are unspecified ("xxxxx"): not a reason to refuse the chip.
  Rig r;
  r.model.set_status_extra_bits(0x03E0);
  EXPECT_EQ(r.dev.init(), Err::Ok);
}

TEST(Sht3xDriver, AnotherChipAtTheAddressIsRefused) {
  // A BME280 acknowledges the command bytes as a register write and returns
  // register bytes whose third is not the CRC of the first two.
  hal::sim::ManualClock clock;
  hal::sim::SimI2cBus bus;
  drv::sim::Bme280Model bme;
  ASSERT_EQ(bus.attach(kAddr, &bme), Err::Ok);
  Sht3x dev("rh0", bus, kAddr, &clock, Sht3x::Settings{});
  EXPECT_EQ(dev.init(), Err::Corrupt);
}

TEST(Sht3xDriver, AbsentChipIsNack) {
  Rig r({}, /*attach=*/false);
  EXPECT_EQ(r.dev.init(), Err::Nack);
  EXPECT_EQ(r.dev.get(0).error(), Err::NotReady);
  Rig q(no_reset(), /*attach=*/false);
  EXPECT_EQ(q.dev.init(), Err::Nack);
}

// ---------------------------------------------------------------------------
// Measurement: repeatability, busy NACKs, deadlines

TEST(Sht3xDriver, EachRepeatabilitySendsItsSingleShotCommand) {
  struct Case {
    Sht3x::Repeatability r;
    uint16_t command;
    uint32_t deadline_ms;
  } cases[] = {
      {Sht3x::Repeatability::High, 0x2400, 16 + Sht3x::kMeasureMarginMs},
      {Sht3x::Repeatability::Medium, 0x240B, 7 + Sht3x::kMeasureMarginMs},
      {Sht3x::Repeatability::Low, 0x2416, 5 + Sht3x::kMeasureMarginMs},
  };
  for (const Case& c : cases) {
    Sht3x::Settings s;
    s.repeatability = c.r;
    Rig r(s);
    ASSERT_EQ(r.dev.init(), Err::Ok);
    ASSERT_EQ(r.dev.sample(), Err::Ok);
    EXPECT_EQ(r.model.last_command(), c.command);
    EXPECT_EQ(Sht3x::measure_deadline_ms(c.r), c.deadline_ms);
  }
}

TEST(Sht3xDriver, ReadIsRetriedWhileTheChipNacksAsBusy) {
  Rig r;
  ASSERT_EQ(r.dev.init(), Err::Ok);
  r.model.set_measuring_polls(5);
  r.model.set_temperature_c(-12.5);
  const uint32_t before = r.bus.transfer_count();
  ASSERT_EQ(r.dev.sample(), Err::Ok);
  EXPECT_EQ(r.bus.transfer_count() - before, 1u + 5u + 1u);  // command, 5 NACKs, the read
  EXPECT_EQ(r.model.measurement_count(), 1u);
  EXPECT_EQ(r.mantissa(0), -1250);
}

TEST(Sht3xDriver, EveryTransferCarriesATimeout) {
  Rig r;
  ASSERT_EQ(r.dev.init(), Err::Ok);
  EXPECT_EQ(r.bus.last_timeout_ms(), Sht3x::kTransferTimeoutMs);
  ASSERT_EQ(r.dev.sample(), Err::Ok);
  EXPECT_EQ(r.bus.last_timeout_ms(), Sht3x::kTransferTimeoutMs);
}

TEST(Sht3xDriver, EndlessMeasurementTimesOutOnTheDeadline) {
  for (Sht3x::Repeatability rep :
       {Sht3x::Repeatability::High, Sht3x::Repeatability::Medium, Sht3x::Repeatability::Low}) {
    Sht3x::Settings s;
    s.repeatability = rep;
    Rig r(s);
    ASSERT_EQ(r.dev.init(), Err::Ok);
    ASSERT_EQ(r.dev.sample(), Err::Ok);
    r.model.set_measuring_polls(Sht3xModel::kForever);
    r.clock.set_auto_advance_us(250);
    const hal::MonoTime start = r.clock.peek_mono();
    EXPECT_EQ(r.dev.sample(), Err::Timeout);
    const int64_t waited_us = r.clock.peek_mono().us_since(start);
    EXPECT_GE(waited_us, Sht3x::measure_deadline_ms(rep) * 1000);
    EXPECT_LE(waited_us, Sht3x::measure_deadline_ms(rep) * 1000 + 1000);
    EXPECT_EQ(r.mantissa(0), 2500);  // the previous snapshot is still there
  }
}

TEST(Sht3xDriver, WaitsEndEvenWithoutAClock) {
  hal::sim::SimI2cBus bus;
  Sht3xModel model;
  ASSERT_EQ(bus.attach(kAddr, &model), Err::Ok);
  Sht3x dev("rh0", bus, kAddr, nullptr, Sht3x::Settings{});
  ASSERT_EQ(dev.init(), Err::Ok);
  model.set_measuring_polls(Sht3xModel::kForever);
  const uint32_t before = bus.transfer_count();
  EXPECT_EQ(dev.sample(), Err::Timeout);
  EXPECT_EQ(bus.transfer_count() - before, 1u + Sht3x::kMaxPolls);
}

TEST(Sht3xDriver, SampleBeforeInitIsNotReady) {
  Rig r;
  EXPECT_EQ(r.dev.sample(), Err::NotReady);
  EXPECT_EQ(r.model.transfer_count(), 0u);
}

TEST(Sht3xDriver, SensorChannelsAreReadOnly) {
  Rig r;
  EXPECT_EQ(r.dev.set(0, drv::Value::numeric(1, 0)), Err::ReadOnly);
  EXPECT_EQ(r.dev.set(2, drv::Value::numeric(1, 0)), Err::NotFound);
  EXPECT_EQ(r.dev.get(2).error(), Err::NotFound);
}

// ---------------------------------------------------------------------------
// Injected per-transfer faults: the exact error comes out of init()/sample()

struct Sht3xTransferFault {
  const char* what;
  uint16_t command;
  Sht3xModel::Phase phase;
  Err injected;
  uint32_t count;
  bool soft_reset;
  bool during_sample;  // false: init() fails; true: init() passes, sample() fails
  Err expected;
};

void PrintTo(const Sht3xTransferFault& f, std::ostream* os) { *os << f.what; }

class Sht3xFault : public ::testing::TestWithParam<Sht3xTransferFault> {};

TEST_P(Sht3xFault, ExactErrorPropagates) {
  const Sht3xTransferFault f = GetParam();
  Sht3x::Settings s;
  s.soft_reset = f.soft_reset;
  Rig r(s);
  if (f.during_sample) {
    ASSERT_EQ(r.dev.init(), Err::Ok);
    ASSERT_EQ(r.dev.sample(), Err::Ok);
  }
  r.clock.set_auto_advance_us(100);
  ASSERT_EQ(r.model.fail_command(f.command, f.injected, f.phase, f.count), Err::Ok);
  if (f.during_sample) {
    EXPECT_EQ(r.dev.sample(), f.expected);
    if (f.expected != Err::Ok) {
      EXPECT_EQ(r.mantissa(0), 2500);  // previous snapshot kept
    }
  } else {
    EXPECT_EQ(r.dev.init(), f.expected);
    if (f.expected != Err::Ok) {
      EXPECT_EQ(r.dev.sample(), Err::NotReady);
    }
  }
  r.model.clear_faults();
  ASSERT_EQ(r.dev.init(), Err::Ok);  // recovers once the fault is gone
  EXPECT_EQ(r.dev.sample(), Err::Ok);
}

using P = Sht3xModel::Phase;
constexpr uint32_t kForever = Sht3xModel::kForever;
INSTANTIATE_TEST_SUITE_P(
    PerTransfer, Sht3xFault,
    ::testing::Values(
        Sht3xTransferFault{"reset_write_nack", 0x30A2, P::Command, Err::Nack, kForever, true, false, Err::Nack},
        Sht3xTransferFault{"reset_write_io", 0x30A2, P::Command, Err::Io, kForever, true, false, Err::Io},
        Sht3xTransferFault{"reset_write_timeout", 0x30A2, P::Command, Err::Timeout, kForever, true, false, Err::Timeout},
        Sht3xTransferFault{"status_command_io", 0xF32D, P::Command, Err::Io, kForever, true, false, Err::Io},
        Sht3xTransferFault{"status_command_nack_no_reset", 0xF32D, P::Command, Err::Nack, kForever, false, false, Err::Nack},
        Sht3xTransferFault{"status_read_timeout", 0xF32D, P::Read, Err::Timeout, kForever, true, false, Err::Timeout},
        Sht3xTransferFault{"status_read_io_no_reset", 0xF32D, P::Read, Err::Io, kForever, false, false, Err::Io},
        // After a reset a NACK means "still busy": retried to the deadline.
        Sht3xTransferFault{"status_read_nack_after_reset", 0xF32D, P::Read, Err::Nack, kForever, true, false, Err::Timeout},
        Sht3xTransferFault{"status_read_nack_once_after_reset", 0xF32D, P::Read, Err::Nack, 1, true, false, Err::Ok},
        Sht3xTransferFault{"status_read_nack_no_reset", 0xF32D, P::Read, Err::Nack, kForever, false, false, Err::Nack},
        Sht3xTransferFault{"measure_command_nack", 0x2400, P::Command, Err::Nack, kForever, true, true, Err::Nack},
        Sht3xTransferFault{"measure_command_io", 0x2400, P::Command, Err::Io, kForever, true, true, Err::Io},
        Sht3xTransferFault{"measure_command_timeout", 0x2400, P::Command, Err::Timeout, kForever, true, true, Err::Timeout},
        Sht3xTransferFault{"measure_read_io", 0x2400, P::Read, Err::Io, kForever, true, true, Err::Io},
        Sht3xTransferFault{"measure_read_timeout", 0x2400, P::Read, Err::Timeout, kForever, true, true, Err::Timeout},
        // A NACKed read header means "still measuring" (§4.4).
        Sht3xTransferFault{"measure_read_nack_forever", 0x2400, P::Read, Err::Nack, kForever, true, true, Err::Timeout},
        Sht3xTransferFault{"measure_read_nack_once", 0x2400, P::Read, Err::Nack, 1, true, true, Err::Ok}),
    [](const ::testing::TestParamInfo<Sht3xTransferFault>& i) { return std::string(i.param.what); });

TEST(Sht3xDriver, WrongChecksumsAreCorrupt) {
  for (Sht3xModel::Word w : {Sht3xModel::Word::Temperature, Sht3xModel::Word::Humidity}) {
    Rig r;
    ASSERT_EQ(r.dev.init(), Err::Ok);
    ASSERT_EQ(r.dev.sample(), Err::Ok);
    r.model.set_temperature_c(40.0);
    r.model.corrupt_crc(w);
    EXPECT_EQ(r.dev.sample(), Err::Corrupt);
    EXPECT_EQ(r.mantissa(0), 2500);  // a corrupt frame does not replace the snapshot
    r.model.clear_faults();
    ASSERT_EQ(r.dev.sample(), Err::Ok);
    EXPECT_EQ(r.mantissa(0), 4000);
  }
  Rig r;
  r.model.corrupt_crc(Sht3xModel::Word::Status);
  EXPECT_EQ(r.dev.init(), Err::Corrupt);
  EXPECT_EQ(r.dev.sample(), Err::NotReady);
}

TEST(Sht3xDriver, BusLevelFaultsPropagate) {
  Rig r;
  ASSERT_EQ(r.dev.init(), Err::Ok);
  r.bus.fail_next(Err::Io);
  EXPECT_EQ(r.dev.sample(), Err::Io);
  EXPECT_EQ(r.dev.sample(), Err::Ok);
}

// ---------------------------------------------------------------------------
// Factory

namespace {
drv::DeviceConfig sht_config(hal::I2cBus* bus) {
  drv::DeviceConfig c;
  c.name = "rh0";
  c.compatible = "sensirion,sht3x";
  c.i2c = bus;
  c.i2c_address = kAddr;
  return c;
}
using xiot_test::add_param;
using xiot_test::add_text;
}  // namespace

TEST(Sht3xFactory, ParamsConfigureTheChip) {
  hal::sim::ManualClock clock;
  hal::sim::SimI2cBus bus;
  Sht3xModel model;
  ASSERT_EQ(bus.attach(kAddr, &model), Err::Ok);
  drv::DeviceConfig c = sht_config(&bus);
  c.clock = &clock;
  add_text(&c, "repeatability", "low");
  add_param(&c, "soft_reset", 0);
  drv::DriverError err;
  auto dev = drv::create_sht3x(c, &err);
  ASSERT_NE(dev, nullptr) << err.text;
  EXPECT_EQ(model.transfer_count(), 0u);  // the factory does not touch the chip
  ASSERT_EQ(dev->init(), Err::Ok);
  EXPECT_EQ(model.reset_count(), 0u);
  ASSERT_EQ(dev->sample(), Err::Ok);
  EXPECT_EQ(model.last_command(), sht::kCmdMeasureLow);
}

TEST(Sht3xFactory, RejectsUnusableConfigsWithOneLine) {
  hal::sim::SimI2cBus bus;
  struct Case {
    const char* key;
    bool text;
    int64_t n;
    const char* s;
    const char* message;
  } cases[] = {
      {"repeatability", true, 0, "ultra",
       "params.repeatability: expected \"high\", \"medium\" or \"low\", got \"ultra\""},
      {"soft_reset", false, 2, nullptr, "params.soft_reset: expected an integer 0..1, got 2"},
      {"mode", true, 0, "periodic", "params.mode: unknown parameter (known: repeatability, soft_reset)"},
  };
  for (const Case& k : cases) {
    drv::DeviceConfig c = sht_config(&bus);
    if (k.text) {
      add_text(&c, k.key, k.s);
    } else {
      add_param(&c, k.key, k.n);
    }
    drv::DriverError err;
    EXPECT_EQ(drv::create_sht3x(c, &err), nullptr) << k.key;
    EXPECT_STREQ(err.text, k.message);
  }
  drv::DriverError err;
  EXPECT_EQ(drv::create_sht3x(sht_config(nullptr), &err), nullptr);
  EXPECT_STREQ(err.text, "needs an I2C bus and address (\"bus\", \"address\")");
}

// ---------------------------------------------------------------------------
// The model-table row: sim keys, attach

namespace {
std::string parse_sim(const std::string& sim_json, drv::sim::SimParams* out) {
  const std::string text = "{\"sim\": " + sim_json + "}";
  json::Reader r("b.json");
  EXPECT_TRUE(r.parse(text.data(), text.size()));
  const drv::sim::ModelEntry* m = drv::sim::find_model("sensirion,sht3x");
  EXPECT_NE(m, nullptr);
  if (m != nullptr) (void)m->parse_sim(r.root()["sim"], out);
  return r.error();
}
}  // namespace

TEST(Sht3xModelRow, ParsesItsSimKeysAndAttachesTheModel) {
  drv::sim::SimParams p;
  EXPECT_EQ(parse_sim(R"({"temperature_c": 21.54, "humidity_pct": 40.1})", &p), "");
  drv::sim::SimParams bad;
  EXPECT_EQ(parse_sim(R"({"temperature_c": 126})", &bad),
            "b.json: sim.temperature_c: expected a number from -40 to 125, got 126");
  EXPECT_EQ(parse_sim(R"({"chip_id": 1})", &bad),
            "b.json: sim.chip_id: unknown key (expected one of: present temperature_c humidity_pct)");

  hal::sim::ManualClock clock;
  hal::sim::SimI2cBus bus;
  drv::sim::ModelSite site;
  site.i2c = &bus;
  site.address = 0x45;
  std::unique_ptr<drv::sim::Model> model;
  ASSERT_EQ(drv::sim::find_model("sensirion,sht3x")->create(p, site, &model), Err::Ok);
  Sht3xModel* sht = drv::sim::as_sht3x(model.get());
  ASSERT_NE(sht, nullptr);
  EXPECT_EQ(drv::sim::as_sht3x(nullptr), nullptr);
  Sht3x dev("rh0", bus, 0x45, &clock, Sht3x::Settings{});
  ASSERT_EQ(dev.init(), Err::Ok);
  ASSERT_EQ(dev.sample(), Err::Ok);
  EXPECT_EQ(dev.get(0).value().mantissa, 2154);
  EXPECT_EQ(dev.get(1).value().mantissa, 4010);

  // present: false -> the model exists but nothing answers at the address.
  drv::sim::SimParams absent;
  EXPECT_EQ(parse_sim(R"({"present": false})", &absent), "");
  hal::sim::SimI2cBus empty_bus;
  site.i2c = &empty_bus;
  std::unique_ptr<drv::sim::Model> unattached;
  ASSERT_EQ(drv::sim::find_model("sensirion,sht3x")->create(absent, site, &unattached), Err::Ok);
  ASSERT_NE(unattached, nullptr);
  Sht3x missing("rh1", empty_bus, 0x45, &clock, Sht3x::Settings{});
  EXPECT_EQ(missing.init(), Err::Nack);
}

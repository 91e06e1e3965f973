// BH1750 driver against its instruction-level model: datasheet vectors,
// physical round trips, the instruction sequence, time-based waits on a
// manual clock (and their poll bound), injected faults with their exact errors.
#include <gtest/gtest.h>

#include "device_config.hpp"

#include <cmath>
#include <string>
#include <vector>

#include "bh1750/bh1750.hpp"
#include "bh1750/bh1750_model.hpp"
#include "drv/model_table.hpp"
#include "drv/reg_io.hpp"
#include "hal/sim/manual_clock.hpp"
#include "hal/sim/sim_i2c_bus.hpp"
#include "json/reader.hpp"

using drv::Bh1750;
using drv::bh1750::Mode;
using drv::sim::Bh1750Model;
using hal::Err;
namespace bh = drv::bh1750;

namespace {

constexpr uint16_t kAddr = 0x23;

/// Records every transfer (what was written, how much was read, the timeout)
/// and forwards it to a SimI2cBus.
class RecordingBus final : public hal::I2cBus {
 public:
  struct Transfer {
    std::vector<uint8_t> tx;
    size_t rx_len;
    uint32_t timeout_ms;
  };
  hal::sim::SimI2cBus sim;
  std::vector<Transfer> log;

  Err transfer(uint16_t address, const uint8_t* tx, size_t tx_len, uint8_t* rx, size_t rx_len,
               uint32_t timeout_ms) override {
    log.push_back(Transfer{std::vector<uint8_t>(tx, tx + tx_len), rx_len, timeout_ms});
    return sim.transfer(address, tx, tx_len, rx, rx_len, timeout_ms);
  }
  /// The instructions written, in order (reads left out).
  std::vector<uint8_t> instructions() const {
    std::vector<uint8_t> out;
    for (const Transfer& t : log) out.insert(out.end(), t.tx.begin(), t.tx.end());
    return out;
  }
  size_t reads() const {
    size_t n = 0;
    for (const Transfer& t : log) n += t.rx_len > 0 ? 1 : 0;
    return n;
  }
};

/// A bus with one model on it and a driver for it. The clock moves 1 ms per
/// read (the driver's wait polls it), and the model's measurements take time
/// on it.
struct Rig {
  hal::sim::ManualClock clock;
  RecordingBus bus;
  Bh1750Model model;
  Bh1750 dev;

  explicit Rig(Bh1750::Settings s = {}, bool attach = true) : dev("light0", bus, kAddr, &clock, s) {
    clock.set_auto_advance_us(1000);
    model.set_clock(&clock);
    if (attach) {
      EXPECT_EQ(bus.sim.attach(kAddr, &model), Err::Ok);
    }
  }
  int64_t mantissa() {
    auto v = dev.get(0);
    EXPECT_TRUE(v.ok()) << hal::err_name(v.error());
    return v.ok() ? v.value().mantissa : INT64_MIN;
  }
};

Bh1750::Settings settings(Mode mode, uint8_t mtreg = bh::kMtregDefault) {
  Bh1750::Settings s;
  s.mode = mode;
  s.mtreg = mtreg;
  return s;
}

}  // namespace

// ---------------------------------------------------------------------------
// Datasheet vectors and the conversion

TEST(Bh1750Conversion, DatasheetMeasurementSequenceExample) {
  // "Measurement sequence example": High Byte 1000_0011, Low Byte 1001_0000
  // -> (2^15 + 2^9 + 2^8 + 2^7 + 2^4) / 1.2 = 28067 lx (28066.67).
  EXPECT_EQ(bh::centilux(0x8390, Mode::High, 69), 2806667);
}

TEST(Bh1750Conversion, DatasheetMinimumDetectableIlluminance) {
  // Features: "min. 0.11 lx" = one count in H-resolution mode2 at MTreg 254
  // ("Adjust measurement result ...": 1 / 1.2 x 69 / 254 / 2 = 0.1132 lx).
  EXPECT_EQ(bh::centilux(1, Mode::High2, 254), 11);
}

TEST(Bh1750Conversion, TableOfEdgeValues) {
  struct V {
    uint16_t raw;
    Mode mode;
    uint8_t mtreg;
    int64_t centilux;
  } table[] = {
      {0, Mode::High, 69, 0},
      {1, Mode::High, 69, 83},           // 0.8333 lx
      {12, Mode::High, 69, 1000},        // 10 lx exactly
      {0xFFFF, Mode::High, 69, 5461250}, // 54612.5 lx: the default full scale
      {0xFFFF, Mode::High2, 69, 2730625},
      {0xFFFF, Mode::Low, 69, 5461250},  // same count scale as H mode
      {0xFFFF, Mode::High, 31, 12155685},  // 121556.85 lx: MTreg at its minimum
      {1, Mode::High, 31, 185},
      {0xFFFF, Mode::High2, 254, 741784},  // 7417.84 lx: mode2 at MTreg 254
      {33680, Mode::High, 138, 1403333},   // MTreg doubled: half the lux per count
  };
  for (const V& v : table) {
    EXPECT_EQ(bh::centilux(v.raw, v.mode, v.mtreg), v.centilux)
        << v.raw << " mode " << static_cast<int>(v.mode) << " mtreg " << static_cast<int>(v.mtreg);
    const double reference = v.raw / 1.2 * 69.0 / v.mtreg / (v.mode == Mode::High2 ? 2.0 : 1.0);
    EXPECT_EQ(bh::centilux(v.raw, v.mode, v.mtreg), std::llround(reference * 100)) << v.raw;
  }
}

TEST(Bh1750Conversion, MtregInstructionsSplitHighAndLowBits) {
  // "Instruction Set Architecture": 01000_MT[7:5], 011_MT[4:0].
  uint8_t mt[2];
  bh::mtreg_opcodes(69, mt);  // 010_00101
  EXPECT_EQ(mt[0], 0x42);
  EXPECT_EQ(mt[1], 0x65);
  bh::mtreg_opcodes(31, mt);  // 000_11111
  EXPECT_EQ(mt[0], 0x40);
  EXPECT_EQ(mt[1], 0x7F);
  bh::mtreg_opcodes(254, mt);  // 111_11110
  EXPECT_EQ(mt[0], 0x47);
  EXPECT_EQ(mt[1], 0x7E);
}

TEST(Bh1750Conversion, MaximumMeasurementTimes) {
  // Electrical characteristics: tHR max 180 ms, tLR max 24 ms at MTreg 69,
  // proportional to MTreg above it, never shorter below it.
  EXPECT_EQ(bh::max_measurement_us(Mode::High, 69), 180000u);
  EXPECT_EQ(bh::max_measurement_us(Mode::High2, 69), 180000u);
  EXPECT_EQ(bh::max_measurement_us(Mode::Low, 69), 24000u);
  EXPECT_EQ(bh::max_measurement_us(Mode::High, 254), 662609u);  // 662608.7 rounded up
  EXPECT_EQ(bh::max_measurement_us(Mode::High, 31), 180000u);
  EXPECT_EQ(bh::max_measurement_us(Mode::Low, 138), 48000u);
}

TEST(Bh1750Driver, DatasheetVectorThroughTheModel) {
  Rig r;
  r.model.set_lux(33680 / 1.2);  // the count of the datasheet's example
  ASSERT_EQ(r.dev.init(), Err::Ok);
  ASSERT_EQ(r.dev.sample(), Err::Ok);
  EXPECT_EQ(r.dev.raw(), 0x8390);
  const drv::Value v = r.dev.get(0).value();
  EXPECT_EQ(v.mantissa, 2806667);
  EXPECT_EQ(v.exponent, -2);
}

TEST(Bh1750Driver, ChannelIsIlluminanceInLux) {
  Rig r;
  ASSERT_EQ(r.dev.channel_count(), 1u);
  EXPECT_STREQ(r.dev.channel(0).quantity, "illuminance");
  EXPECT_STREQ(r.dev.channel(0).unit, "lx");
  EXPECT_EQ(r.dev.channel(0).kind, drv::ChannelKind::Sensor);
  EXPECT_EQ(r.dev.channel(0).type, drv::ValueType::Numeric);
  EXPECT_STREQ(r.dev.name(), "light0");
  EXPECT_STREQ(r.dev.compatible(), "rohm,bh1750");
}

// ---------------------------------------------------------------------------
// Physical value -> model -> driver -> value

namespace {

struct RoundTrip {
  double lux;
  Mode mode;
  uint8_t mtreg;
};

void PrintTo(const RoundTrip& v, std::ostream* os) {
  *os << v.lux << " lx, mode " << static_cast<int>(v.mode) << ", mtreg " << static_cast<int>(v.mtreg);
}

class Bh1750RoundTrip : public ::testing::TestWithParam<RoundTrip> {};

}  // namespace

TEST_P(Bh1750RoundTrip, PhysicalValueSurvivesModelAndDriver) {
  const RoundTrip v = GetParam();
  Rig r(settings(v.mode, v.mtreg));
  r.model.set_lux(v.lux);
  ASSERT_EQ(r.dev.init(), Err::Ok);
  ASSERT_EQ(r.dev.sample(), Err::Ok);
  const double div = v.mode == Mode::High2 ? 2.0 : 1.0;
  const double step = 69.0 / (1.2 * v.mtreg * div);  // lx per count
  const double full_scale = 65535 * step;
  const double expected = v.lux < full_scale ? v.lux : full_scale;  // saturates at 0xFFFF
  EXPECT_NEAR(r.mantissa() / 100.0, expected, step / 2 + 0.005);
}

namespace {
std::vector<RoundTrip> round_trip_table() {
  std::vector<RoundTrip> out;
  const double luxes[] = {0.0, 0.11, 1.0, 10.0, 250.0, 1234.5, 7416.0, 28066.67, 54612.0, 100000.0};
  const Mode modes[] = {Mode::High, Mode::High2, Mode::Low};
  const uint8_t mtregs[] = {31, 69, 138, 254};
  for (double l : luxes) {
    for (Mode m : modes) {
      for (uint8_t t : mtregs) out.push_back({l, m, t});
    }
  }
  return out;
}
}  // namespace

INSTANTIATE_TEST_SUITE_P(EdgeAndTypicalValues, Bh1750RoundTrip, ::testing::ValuesIn(round_trip_table()));

TEST(Bh1750Driver, BrightLightSaturatesAtFullScale) {
  Rig r;
  r.model.set_lux(100000);
  ASSERT_EQ(r.dev.init(), Err::Ok);
  ASSERT_EQ(r.dev.sample(), Err::Ok);
  EXPECT_EQ(r.dev.raw(), 0xFFFF);
  EXPECT_EQ(r.mantissa(), 5461250);
}

TEST(Bh1750Driver, NewValuesAppearOnTheNextSampleOnly) {
  Rig r;
  r.model.set_lux(120);
  ASSERT_EQ(r.dev.init(), Err::Ok);
  ASSERT_EQ(r.dev.sample(), Err::Ok);
  EXPECT_EQ(r.mantissa(), 12000);
  r.model.set_lux(600);
  EXPECT_EQ(r.mantissa(), 12000);  // get() only converts the last snapshot
  ASSERT_EQ(r.dev.sample(), Err::Ok);
  EXPECT_EQ(r.mantissa(), 60000);
}

// ---------------------------------------------------------------------------
// The instruction sequence

TEST(Bh1750Driver, InitPowersOnResetsChecksSetsMtregAndMeasures) {
  Rig r(settings(Mode::High2, 138));
  ASSERT_EQ(r.dev.init(), Err::Ok);
  const std::vector<uint8_t> expected = {bh::kPowerOn, bh::kReset, 0x44, 0x6A, bh::kOneTimeHigh2};
  EXPECT_EQ(r.bus.instructions(), expected);
  // The read right after Reset (the identity check) is the first read.
  ASSERT_GE(r.bus.log.size(), 3u);
  EXPECT_EQ(r.bus.log[2].tx.size(), 0u);
  EXPECT_EQ(r.bus.log[2].rx_len, 2u);
  EXPECT_EQ(r.model.mtreg(), 138);
  EXPECT_EQ(r.model.reset_count(), 1u);
  EXPECT_EQ(r.model.measurement_count(), 1u);  // the test measurement
  EXPECT_FALSE(r.model.powered());             // one-time mode powered down again
  EXPECT_EQ(r.dev.get(0).error(), Err::NotReady);  // the test measurement is no sample
}

TEST(Bh1750Driver, SampleIsOneInstructionThenReadsAndEveryTransferHasATimeout) {
  Rig r(settings(Mode::Low));
  ASSERT_EQ(r.dev.init(), Err::Ok);
  r.bus.log.clear();
  ASSERT_EQ(r.dev.sample(), Err::Ok);
  ASSERT_FALSE(r.bus.log.empty());
  EXPECT_EQ(r.bus.instructions(), std::vector<uint8_t>{bh::kOneTimeLow});
  EXPECT_EQ(r.bus.log[0].tx, std::vector<uint8_t>{bh::kOneTimeLow});
  for (const RecordingBus::Transfer& t : r.bus.log) {
    EXPECT_EQ(t.timeout_ms, drv::RegIo::kDefaultTimeoutMs);
    EXPECT_TRUE(t.tx.size() == 1 || t.rx_len == 2);
  }
}

TEST(Bh1750Driver, SensorChannelIsReadOnly) {
  Rig r;
  EXPECT_EQ(r.dev.set(0, drv::Value::numeric(1, 0)), Err::ReadOnly);
  EXPECT_EQ(r.dev.set(1, drv::Value::numeric(1, 0)), Err::NotFound);
  EXPECT_EQ(r.dev.get(1).error(), Err::NotFound);
}

TEST(Bh1750Driver, SampleBeforeInitIsNotReady) {
  Rig r;
  EXPECT_EQ(r.dev.sample(), Err::NotReady);
  EXPECT_EQ(r.dev.get(0).error(), Err::NotReady);
  EXPECT_EQ(r.bus.log.size(), 0u);
}

// ---------------------------------------------------------------------------
// Waiting by time

TEST(Bh1750Driver, WaitsTheDatasheetMaximumOnTheClock) {
  const struct {
    Mode mode;
    uint8_t mtreg;
  } cases[] = {{Mode::High, 69}, {Mode::High2, 69}, {Mode::Low, 69}, {Mode::High, 254}, {Mode::Low, 31}};
  for (const auto& c : cases) {
    Rig r(settings(c.mode, c.mtreg));
    ASSERT_EQ(r.dev.init(), Err::Ok);
    r.model.set_lux(500);
    const hal::MonoTime start = r.clock.peek_mono();
    ASSERT_EQ(r.dev.sample(), Err::Ok);
    const int64_t waited = r.clock.peek_mono().us_since(start);
    const uint32_t max_us = bh::max_measurement_us(c.mode, c.mtreg);
    EXPECT_GE(waited, max_us) << static_cast<int>(c.mode) << " " << static_cast<int>(c.mtreg);
    EXPECT_LE(waited, max_us + 3000);  // no more than a few polls longer
    EXPECT_EQ(r.dev.raw(), r.model.count_for(c.mode, c.mtreg));
  }
}

TEST(Bh1750Driver, AMeasurementSlowerThanTheDatasheetMaximumReadsThePreviousResult) {
  // The chip has no ready flag: a part slower than its datasheet shows as the
  // previous result, which the model reproduces.
  Rig r;
  r.model.set_lux(120);
  ASSERT_EQ(r.dev.init(), Err::Ok);
  ASSERT_EQ(r.dev.sample(), Err::Ok);
  EXPECT_EQ(r.mantissa(), 12000);
  r.model.set_measurement_us(bh::kHighMaxUs + 20000);
  r.model.set_lux(600);
  ASSERT_EQ(r.dev.sample(), Err::Ok);
  EXPECT_EQ(r.mantissa(), 12000);
  r.clock.advance_ms(50);  // now the slow measurement is over
  r.model.set_measurement_us(0);
  ASSERT_EQ(r.dev.sample(), Err::Ok);
  EXPECT_EQ(r.mantissa(), 60000);
}

TEST(Bh1750Driver, AClockThatDoesNotMoveEndsTheWaitAtThePollBound) {
  Rig r;
  r.clock.set_auto_advance_us(0);
  r.model.set_clock(nullptr);  // the chip itself finishes at once
  r.model.set_lux(80);
  ASSERT_EQ(r.dev.init(), Err::Ok);
  r.bus.log.clear();
  ASSERT_EQ(r.dev.sample(), Err::Ok);
  // One instruction, max_us / kMinPollUs + 1 pacing reads, one result read:
  // at 400 kHz those reads alone take at least the 180 ms.
  const size_t polls = bh::kHighMaxUs / Bh1750::kMinPollUs + 1;
  EXPECT_EQ(r.bus.log.size(), 1 + polls + 1);
  EXPECT_GE(polls * 67.5, bh::kHighMaxUs);
  EXPECT_EQ(r.mantissa(), 8000);
}

TEST(Bh1750Driver, WaitsEndEvenWithoutAClock) {
  RecordingBus bus;
  Bh1750Model model;
  model.set_lux(42);
  ASSERT_EQ(bus.sim.attach(kAddr, &model), Err::Ok);
  Bh1750 dev("light0", bus, kAddr, nullptr, settings(Mode::Low));
  ASSERT_EQ(dev.init(), Err::Ok);
  ASSERT_EQ(dev.sample(), Err::Ok);
  EXPECT_EQ(dev.get(0).value().mantissa, 4167);  // count 50 -> 41.67 lx
  EXPECT_LT(bus.log.size(), 2000u);
}

// ---------------------------------------------------------------------------
// The model's instruction set (datasheet "Instruction Set Architecture")

namespace {
Err write(hal::sim::SimI2cBus& bus, uint8_t opcode) { return bus.transfer(kAddr, &opcode, 1, nullptr, 0, 25); }
uint16_t read(hal::sim::SimI2cBus& bus) {
  uint8_t d[2] = {0xAA, 0xAA};
  EXPECT_EQ(bus.transfer(kAddr, nullptr, 0, d, 2, 25), Err::Ok);
  return static_cast<uint16_t>(d[0] << 8 | d[1]);
}
}  // namespace

TEST(Bh1750Model, OneTimeMeasurementLandsAfterItsTimeThenPowersDown) {
  hal::sim::ManualClock clock;
  hal::sim::SimI2cBus bus;
  Bh1750Model m;
  m.set_clock(&clock);
  ASSERT_EQ(bus.attach(kAddr, &m), Err::Ok);
  EXPECT_FALSE(m.powered());
  EXPECT_EQ(read(bus), 0);  // 0 after power-up
  m.set_lux(100);
  ASSERT_EQ(write(bus, bh::kOneTimeHigh), Err::Ok);
  EXPECT_TRUE(m.powered());
  EXPECT_TRUE(m.measuring());
  clock.advance_ms(119);
  EXPECT_EQ(read(bus), 0);  // not done yet: the previous result
  clock.advance_ms(1);      // typ. 120 ms
  EXPECT_EQ(read(bus), 120);
  EXPECT_FALSE(m.powered());
  EXPECT_FALSE(m.measuring());
  // A second measurement: the first result until it completes.
  m.set_lux(200);
  ASSERT_EQ(write(bus, bh::kOneTimeLow), Err::Ok);
  clock.advance_ms(15);
  EXPECT_EQ(read(bus), 120);
  clock.advance_ms(1);  // typ. 16 ms
  EXPECT_EQ(read(bus), 240);
  EXPECT_EQ(m.measurement_count(), 2u);
}

TEST(Bh1750Model, ResetClearsTheDataRegisterOnlyWhenPoweredOn) {
  hal::sim::SimI2cBus bus;
  Bh1750Model m;
  ASSERT_EQ(bus.attach(kAddr, &m), Err::Ok);
  m.set_lux(10);
  ASSERT_EQ(write(bus, bh::kOneTimeHigh), Err::Ok);  // no clock: done at once
  EXPECT_EQ(read(bus), 12);
  ASSERT_EQ(write(bus, bh::kReset), Err::Ok);  // powered down: not accepted
  EXPECT_EQ(read(bus), 12);
  EXPECT_EQ(m.reset_count(), 0u);
  ASSERT_EQ(write(bus, bh::kPowerOn), Err::Ok);
  ASSERT_EQ(write(bus, bh::kReset), Err::Ok);
  EXPECT_EQ(read(bus), 0);
  EXPECT_EQ(m.reset_count(), 1u);
}

TEST(Bh1750Model, MtregAndModeSetTheCount) {
  hal::sim::SimI2cBus bus;
  Bh1750Model m;
  ASSERT_EQ(bus.attach(kAddr, &m), Err::Ok);
  m.set_lux(1000);
  ASSERT_EQ(write(bus, 0x47), Err::Ok);  // MT[7:5] = 111
  ASSERT_EQ(write(bus, 0x7E), Err::Ok);  // MT[4:0] = 11110 -> 254
  EXPECT_EQ(m.mtreg(), 254);
  ASSERT_EQ(write(bus, bh::kOneTimeHigh2), Err::Ok);
  EXPECT_EQ(read(bus), 8835);  // 1000 x 1.2 x 254/69 x 2 = 8834.8
  m.set_lux(20000);  // 176696 counts: saturates
  ASSERT_EQ(write(bus, bh::kOneTimeHigh2), Err::Ok);
  EXPECT_EQ(read(bus), 0xFFFF);
  ASSERT_EQ(write(bus, 0x42), Err::Ok);  // back to 69
  ASSERT_EQ(write(bus, 0x65), Err::Ok);
  EXPECT_EQ(m.mtreg(), 69);
  m.set_lux(1000);
  ASSERT_EQ(write(bus, bh::kOneTimeLow), Err::Ok);
  EXPECT_EQ(read(bus), 1200);
}

TEST(Bh1750Model, ContinuousModeKeepsMeasuringAndPowerDownStopsIt) {
  hal::sim::ManualClock clock;
  hal::sim::SimI2cBus bus;
  Bh1750Model m;
  m.set_clock(&clock);
  ASSERT_EQ(bus.attach(kAddr, &m), Err::Ok);
  m.set_lux(50);
  ASSERT_EQ(write(bus, bh::kContinuousHigh), Err::Ok);
  clock.advance_ms(120);
  EXPECT_EQ(read(bus), 60);
  m.set_lux(100);
  clock.advance_ms(240);  // the measurement started at 120 ms still counts 50 lx
  EXPECT_EQ(read(bus), 120);
  EXPECT_TRUE(m.powered());
  EXPECT_EQ(m.measurement_count(), 3u);
  ASSERT_EQ(write(bus, bh::kPowerDown), Err::Ok);
  EXPECT_FALSE(m.powered());
  EXPECT_FALSE(m.measuring());
  clock.advance_ms(1000);
  EXPECT_EQ(read(bus), 120);
  // An undefined opcode is acknowledged and ignored.
  ASSERT_EQ(write(bus, 0x55), Err::Ok);
  EXPECT_EQ(m.ignored_count(), 1u);
}

// ---------------------------------------------------------------------------
// Identity and injected faults: the exact error comes out of init()/sample()

TEST(Bh1750Driver, AbsentChipIsNack) {
  Rig r({}, false);
  EXPECT_EQ(r.dev.init(), Err::Nack);
  EXPECT_EQ(r.dev.sample(), Err::NotReady);
}

TEST(Bh1750Driver, DataThatSurvivesResetIsBadChipId) {
  Rig r;
  r.model.set_lux(300);
  ASSERT_EQ(r.dev.init(), Err::Ok);  // leaves the test measurement's count
  r.model.set_ignore_reset(true);
  EXPECT_EQ(r.dev.init(), Err::BadChipId);
  EXPECT_EQ(r.dev.sample(), Err::NotReady);
  r.model.set_ignore_reset(false);
  EXPECT_EQ(r.dev.init(), Err::Ok);
}

namespace {

struct Fault {
  const char* what;
  int opcode;    // -1: reads fail
  uint8_t mask;  // for opcode faults
  uint32_t reads_before;  // for read faults
  Err err;
  bool during_sample;  // false: init() fails; true: init() passes, sample() fails
};

void PrintTo(const Fault& f, std::ostream* os) { *os << f.what; }

class Bh1750Fault : public ::testing::TestWithParam<Fault> {};

}  // namespace

TEST_P(Bh1750Fault, ExactErrorPropagates) {
  const Fault f = GetParam();
  Rig r;
  r.model.set_lux(100);
  if (f.during_sample) {
    ASSERT_EQ(r.dev.init(), Err::Ok);
    ASSERT_EQ(r.dev.sample(), Err::Ok);
    r.model.set_lux(200);
  }
  if (f.opcode >= 0) {
    ASSERT_EQ(r.model.fail_instruction(static_cast<uint8_t>(f.opcode), f.err, f.mask), Err::Ok);
  } else {
    r.model.fail_reads(f.err, f.reads_before);
  }
  if (f.during_sample) {
    EXPECT_EQ(r.dev.sample(), f.err);
    EXPECT_EQ(r.mantissa(), 10000);  // the previous snapshot stays readable
  } else {
    EXPECT_EQ(r.dev.init(), f.err);
    EXPECT_EQ(r.dev.sample(), Err::NotReady);
  }
  r.model.clear_faults();
  ASSERT_EQ(r.dev.init(), Err::Ok);  // recovers once the fault is gone
  ASSERT_EQ(r.dev.sample(), Err::Ok);
  EXPECT_EQ(r.mantissa(), f.during_sample ? 20000 : 10000);
}

INSTANTIATE_TEST_SUITE_P(
    PerTransfer, Bh1750Fault,
    ::testing::Values(Fault{"power_on", bh::kPowerOn, 0xFF, 0, Err::Nack, false},
                      Fault{"reset", bh::kReset, 0xFF, 0, Err::Io, false},
                      Fault{"read_after_reset", -1, 0, 0, Err::Timeout, false},
                      Fault{"mtreg_high", bh::kMtregHigh, 0xF8, 0, Err::Io, false},
                      Fault{"mtreg_low", bh::kMtregLow, 0xE0, 0, Err::Nack, false},
                      Fault{"test_measurement", bh::kOneTimeHigh, 0xFF, 0, Err::Timeout, false},
                      Fault{"test_measurement_wait_read", -1, 0, 1, Err::Nack, false},
                      Fault{"one_time_instruction", bh::kOneTimeHigh, 0xFF, 0, Err::Nack, true},
                      Fault{"wait_read", -1, 0, 0, Err::Io, true},
                      // 179 pacing reads (the clock moves 1 ms per look), then the result read.
                      Fault{"result_read", -1, 0, 179, Err::Timeout, true}),
    [](const ::testing::TestParamInfo<Fault>& i) { return std::string(i.param.what); });

TEST(Bh1750Driver, BusLevelFaultsPropagate) {
  Rig r;
  ASSERT_EQ(r.dev.init(), Err::Ok);
  r.bus.sim.fail_next(Err::Timeout);
  EXPECT_EQ(r.dev.sample(), Err::Timeout);
  EXPECT_EQ(r.dev.sample(), Err::Ok);
}

// ---------------------------------------------------------------------------
// Factory

namespace {
drv::DeviceConfig bh_config(hal::I2cBus* bus) {
  drv::DeviceConfig c;
  c.name = "light0";
  c.compatible = "rohm,bh1750";
  c.i2c = bus;
  c.i2c_address = kAddr;
  return c;
}
using xiot_test::add_param;
using xiot_test::add_text;
}  // namespace

TEST(Bh1750Factory, ParamsConfigureTheChip) {
  hal::sim::SimI2cBus bus;
  Bh1750Model model;
  ASSERT_EQ(bus.attach(kAddr, &model), Err::Ok);
  model.set_lux(1000);
  drv::DeviceConfig c = bh_config(&bus);
  add_text(&c, "mode", "low");
  add_param(&c, "mtreg", 31);
  drv::DriverError err;
  auto dev = drv::create_bh1750(c, &err);
  ASSERT_NE(dev, nullptr) << err.text;
  ASSERT_EQ(dev->init(), Err::Ok);
  EXPECT_EQ(model.mtreg(), 31);
  EXPECT_EQ(model.last_instruction(), bh::kOneTimeLow);
  ASSERT_EQ(dev->sample(), Err::Ok);
  EXPECT_NEAR(dev->get(0).value().mantissa / 100.0, 1000.0, 69.0 / (1.2 * 31) / 2 + 0.005);
}

TEST(Bh1750Factory, RejectsUnusableConfigsWithOneLine) {
  hal::sim::SimI2cBus bus;
  struct Case {
    const char* key;
    bool text;
    int64_t n;
    const char* s;
    const char* message;
  } cases[] = {
      {"mode", true, 0, "turbo", "params.mode: expected \"high\", \"high2\" or \"low\", got \"turbo\""},
      {"mtreg", false, 30, nullptr, "params.mtreg: expected an integer 31..254, got 30"},
      {"mtreg", false, 255, nullptr, "params.mtreg: expected an integer 31..254, got 255"},
      {"mtreg", true, 0, "69", "params.mtreg: expected an integer 31..254, got \"69\""},
      {"resolution", false, 1, nullptr, "params.resolution: unknown parameter (known: mode, mtreg)"},
  };
  for (const Case& k : cases) {
    drv::DeviceConfig c = bh_config(&bus);
    if (k.text) {
      add_text(&c, k.key, k.s);
    } else {
      add_param(&c, k.key, k.n);
    }
    drv::DriverError err;
    EXPECT_EQ(drv::create_bh1750(c, &err), nullptr) << k.key;
    EXPECT_STREQ(err.text, k.message);
  }
  drv::DriverError err;
  EXPECT_EQ(drv::create_bh1750(bh_config(nullptr), &err), nullptr);
  EXPECT_STREQ(err.text, "needs an I2C bus and address (\"bus\", \"address\")");
}

// ---------------------------------------------------------------------------
// The model table's row

TEST(Bh1750ModelRow, ParsesItsSimKeysAndAttachesTheModel) {
  const drv::sim::ModelEntry* row = drv::sim::find_model("rohm,bh1750");
  ASSERT_NE(row, nullptr);
  auto parse = [row](const std::string& sim_json, drv::sim::SimParams* out) {
    const std::string text = "{\"sim\": " + sim_json + "}";
    json::Reader r("b.json");
    EXPECT_TRUE(r.parse(text.data(), text.size()));
    (void)row->parse_sim(r.root()["sim"], out);
    return r.error();
  };
  drv::sim::SimParams p;
  EXPECT_EQ(parse(R"({"lux": 321.5, "present": true})", &p), "");
  EXPECT_DOUBLE_EQ(p.get("lux").value_or(0), 321.5);
  drv::sim::SimParams bad;
  EXPECT_EQ(parse(R"({"lux": -1})", &bad), "b.json: sim.lux: expected a number from 0 to 100000, got -1");
  EXPECT_EQ(parse(R"({"lx": 1})", &bad), "b.json: sim.lx: unknown key (did you mean \"lux\"?)");

  hal::sim::SimI2cBus bus;
  drv::sim::ModelSite site;
  site.i2c = &bus;
  site.address = kAddr;
  std::unique_ptr<drv::sim::Model> model;
  ASSERT_EQ(row->create(p, site, &model), Err::Ok);
  Bh1750Model* bh1750 = drv::sim::as_bh1750(model.get());
  ASSERT_NE(bh1750, nullptr);
  EXPECT_DOUBLE_EQ(bh1750->lux(), 321.5);
  EXPECT_EQ(write(bus, bh::kOneTimeHigh), Err::Ok);
  EXPECT_EQ(read(bus), 386);  // 321.5 x 1.2 = 385.8

  drv::sim::SimParams absent;
  absent.set("present", 0);
  hal::sim::SimI2cBus empty;
  site.i2c = &empty;
  std::unique_ptr<drv::sim::Model> detached;
  ASSERT_EQ(row->create(absent, site, &detached), Err::Ok);
  EXPECT_NE(detached, nullptr);
  EXPECT_EQ(write(empty, bh::kPowerOn), Err::Nack);
}

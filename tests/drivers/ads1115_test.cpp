// ADS1115 driver against its register model: the datasheet's output-code
// table, code -> µV conversion, physical round trips for every PGA, pointer
// and register semantics of the model, identity, deadlines, injected faults
// with their exact errors, and the factory's parameter checks.
#include <gtest/gtest.h>

#include "device_config.hpp"

#include <cmath>
#include <string>
#include <vector>

#include "ads1115/ads1115.hpp"
#include "ads1115/ads1115_model.hpp"
#include "drv/reg_io.hpp"
#include "hal/sim/manual_clock.hpp"
#include "hal/sim/sim_i2c_bus.hpp"
#include "json/reader.hpp"

using drv::Ads1115;
using drv::sim::Ads1115Model;
using hal::Err;
namespace ads = drv::ads1115;

namespace {

constexpr uint16_t kAddr = 0x48;

Ads1115::Settings with_pga(uint8_t pga) {
  Ads1115::Settings s;
  s.pga = pga;
  return s;
}

/// A bus with one model on it and a driver for it.
struct Rig {
  hal::sim::ManualClock clock;
  hal::sim::SimI2cBus bus;
  Ads1115Model model;
  Ads1115 dev;

  explicit Rig(Ads1115::Settings s = {}, bool attach = true) : dev("adc0", bus, kAddr, &clock, s) {
    if (attach) {
      EXPECT_EQ(bus.attach(kAddr, &model), Err::Ok);
    }
  }
  int64_t microvolts(size_t ch) {
    auto v = dev.get(ch);
    EXPECT_TRUE(v.ok()) << hal::err_name(v.error());
    if (v.ok()) {
      EXPECT_EQ(v.value().exponent, -6);
    }
    return v.ok() ? v.value().mantissa : INT64_MIN;
  }
  /// Raw transaction against the model: write `tx`, read `rx_len` bytes.
  Err xfer(std::vector<uint8_t> tx, uint8_t* rx = nullptr, size_t rx_len = 0) {
    return bus.transfer(kAddr, tx.data(), tx.size(), rx, rx_len, 10);
  }
  uint16_t read16(uint8_t reg) {
    uint8_t rx[2] = {};
    EXPECT_EQ(xfer({reg}, rx, 2), Err::Ok);
    return static_cast<uint16_t>((rx[0] << 8) | rx[1]);
  }
};

}  // namespace

// ---------------------------------------------------------------------------
// Datasheet vectors: SBAS444D §9.5.4, table "Input Signal Versus Ideal Output
// Code": >= +FS (2^15-1)/2^15 -> 7FFFh, +FS/2^15 -> 0001h, 0 -> 0,
// -FS/2^15 -> FFFFh, <= -FS -> 8000h (clipping beyond full scale).

TEST(Ads1115Codes, DatasheetOutputCodeTableForEveryFullScaleRange) {
  for (uint16_t fsr_mv : ads::kFsrMv) {
    const double fs = fsr_mv / 1000.0;
    const double lsb = fs / 32768.0;
    SCOPED_TRACE(fsr_mv);
    EXPECT_EQ(static_cast<uint16_t>(Ads1115Model::ideal_code(fs * 32767.0 / 32768.0, fs)), 0x7FFF);
    EXPECT_EQ(static_cast<uint16_t>(Ads1115Model::ideal_code(fs, fs)), 0x7FFF);
    EXPECT_EQ(static_cast<uint16_t>(Ads1115Model::ideal_code(2 * fs, fs)), 0x7FFF);
    EXPECT_EQ(static_cast<uint16_t>(Ads1115Model::ideal_code(lsb, fs)), 0x0001);
    EXPECT_EQ(static_cast<uint16_t>(Ads1115Model::ideal_code(0.0, fs)), 0x0000);
    EXPECT_EQ(static_cast<uint16_t>(Ads1115Model::ideal_code(-lsb, fs)), 0xFFFF);
    EXPECT_EQ(static_cast<uint16_t>(Ads1115Model::ideal_code(-fs, fs)), 0x8000);
    EXPECT_EQ(static_cast<uint16_t>(Ads1115Model::ideal_code(-2 * fs, fs)), 0x8000);
  }
}

TEST(Ads1115Codes, CodesToMicrovoltsFollowTheLsbSizeTable) {
  // §9.3.3, table "Full-Scale Range and Corresponding LSB Size": 187.5 µV,
  // 125 µV, 62.5 µV, 31.25 µV, 15.625 µV, 7.8125 µV; rounded to 1 µV.
  struct Case {
    uint16_t code;
    uint16_t fsr_mv;
    int64_t uv;
  } cases[] = {
      {0x7FFF, 6144, 6143813}, {0x0001, 6144, 188},  {0x8000, 6144, -6144000}, {0xFFFF, 6144, -188},
      {0x7FFF, 4096, 4095875}, {0x0001, 4096, 125},  {0x8000, 4096, -4096000},
      {0x7FFF, 2048, 2047938}, {0x0001, 2048, 63},   {0xFFFF, 2048, -63},      {0x8000, 2048, -2048000},
      {0x4000, 2048, 1024000}, {0x7FFF, 1024, 1023969}, {0x0002, 1024, 63},    {0x7FFF, 512, 511984},
      {0x0001, 512, 16},       {0x7FFF, 256, 255992},  {0x0001, 256, 8},       {0x8000, 256, -256000},
      {0x0000, 256, 0},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(ads::code_to_microvolts(static_cast<int16_t>(c.code), c.fsr_mv), c.uv)
        << std::hex << c.code << std::dec << " @ " << c.fsr_mv;
  }
}

TEST(Ads1115Codes, SingleShotConfigWordsMatchTheRegisterLayout) {
  // §9.6.3: OS=1, MUX=100 (AIN0/GND), PGA=010, MODE=1, DR=100, COMP_QUE=11.
  EXPECT_EQ(ads::single_shot_config(0, 2, 4), 0xC583);
  EXPECT_EQ(ads::single_shot_config(3, 2, 4), 0xF583);
  EXPECT_EQ(ads::single_shot_config(1, 0, 7), 0xD1E3);  // ±6.144 V, 860 SPS
  EXPECT_EQ(ads::single_shot_config(2, 5, 0), 0xEB03);  // ±0.256 V, 8 SPS
}

TEST(Ads1115Driver, DatasheetCodesThroughTheModel) {
  // Full-scale, one LSB, zero and clipping vectors at ±2.048 V through
  // model registers and the real driver.
  Rig r;
  r.model.set_input_v(0, 2.048);                   // >= +FS -> 7FFFh
  r.model.set_input_v(1, 2.048 / 32768.0);         // +1 LSB -> 0001h
  r.model.set_input_v(2, 0.0);                     // 0 -> 0
  r.model.set_input_v(3, -2.048);                  // -FS -> 8000h
  ASSERT_EQ(r.dev.init(), Err::Ok);
  ASSERT_EQ(r.dev.sample(), Err::Ok);
  EXPECT_EQ(static_cast<uint16_t>(r.dev.code(0)), 0x7FFF);
  EXPECT_EQ(static_cast<uint16_t>(r.dev.code(1)), 0x0001);
  EXPECT_EQ(static_cast<uint16_t>(r.dev.code(2)), 0x0000);
  EXPECT_EQ(static_cast<uint16_t>(r.dev.code(3)), 0x8000);
  EXPECT_EQ(r.microvolts(0), 2047938);
  EXPECT_EQ(r.microvolts(1), 63);
  EXPECT_EQ(r.microvolts(2), 0);
  EXPECT_EQ(r.microvolts(3), -2048000);
  r.model.set_input_v(0, 5.0);  // far beyond +FS: clips
  r.model.set_input_v(1, -2.048 / 32768.0);
  ASSERT_EQ(r.dev.sample(), Err::Ok);
  EXPECT_EQ(static_cast<uint16_t>(r.dev.code(0)), 0x7FFF);
  EXPECT_EQ(static_cast<uint16_t>(r.dev.code(1)), 0xFFFF);
  EXPECT_EQ(r.microvolts(1), -63);
}

// ---------------------------------------------------------------------------
// Channels

TEST(Ads1115Driver, ChannelsAreNamedInVolts) {
  Rig r;
  ASSERT_EQ(r.dev.channel_count(), 4u);
  const char* names[] = {"ain0", "ain1", "ain2", "ain3"};
  for (size_t i = 0; i < 4; ++i) {
    EXPECT_STREQ(r.dev.channel(i).quantity, names[i]);
    EXPECT_STREQ(r.dev.channel(i).unit, "V");
    EXPECT_EQ(r.dev.channel(i).kind, drv::ChannelKind::Sensor);
    EXPECT_EQ(r.dev.channel(i).type, drv::ValueType::Numeric);
  }
  EXPECT_STREQ(r.dev.name(), "adc0");
  EXPECT_STREQ(r.dev.compatible(), "ti,ads1115");
}

TEST(Ads1115Driver, FewerInputsMeanFewerChannelsAndConversions) {
  Ads1115::Settings s;
  s.inputs = 2;
  Rig r(s);
  r.model.set_input_v(0, 0.5);
  r.model.set_input_v(1, 1.25);
  r.model.set_input_v(2, 1.0);
  ASSERT_EQ(r.dev.init(), Err::Ok);
  const uint32_t before = r.model.conversion_count();
  ASSERT_EQ(r.dev.sample(), Err::Ok);
  EXPECT_EQ(r.model.conversion_count() - before, 2u);
  EXPECT_EQ(r.dev.channel_count(), 2u);
  EXPECT_EQ(r.microvolts(0), 500000);
  EXPECT_EQ(r.microvolts(1), 1250000);
  EXPECT_EQ(r.dev.get(2).error(), Err::NotFound);
  EXPECT_EQ(r.dev.set(2, drv::Value::numeric(1, 0)), Err::NotFound);
}

TEST(Ads1115Driver, SensorChannelsAreReadOnly) {
  Rig r;
  EXPECT_EQ(r.dev.set(0, drv::Value::numeric(1, 0)), Err::ReadOnly);
  EXPECT_EQ(r.dev.set(4, drv::Value::numeric(1, 0)), Err::NotFound);
  EXPECT_EQ(r.dev.get(4).error(), Err::NotFound);
  EXPECT_EQ(r.dev.get(0).error(), Err::NotReady);
}

// ---------------------------------------------------------------------------
// Physical value -> model -> driver -> value, for every PGA

struct AdsRoundTrip {
  uint8_t pga;
  double volts;
};

void PrintTo(const AdsRoundTrip& v, std::ostream* os) { *os << "pga " << int(v.pga) << ", " << v.volts << " V"; }

class Ads1115RoundTrip : public ::testing::TestWithParam<AdsRoundTrip> {};

TEST_P(Ads1115RoundTrip, PhysicalValueSurvivesModelAndDriver) {
  const AdsRoundTrip v = GetParam();
  Rig r(with_pga(v.pga));
  for (size_t i = 0; i < 4; ++i) r.model.set_input_v(i, v.volts * (i + 1) / 4.0);
  ASSERT_EQ(r.dev.init(), Err::Ok);
  ASSERT_EQ(r.dev.sample(), Err::Ok);
  const double fs = ads::kFsrMv[v.pga] / 1000.0;
  const double lsb_uv = fs / 32768.0 * 1e6;
  for (size_t i = 0; i < 4; ++i) {
    const double want = v.volts * (i + 1) / 4.0;
    const double clipped = std::fmin(want, fs * 32767.0 / 32768.0);
    // Half an LSB of quantisation plus half a µV of rounding.
    EXPECT_NEAR(static_cast<double>(r.microvolts(i)), clipped * 1e6, lsb_uv / 2 + 0.5) << i;
  }
}

std::vector<AdsRoundTrip> ads_round_trip_table() {
  std::vector<AdsRoundTrip> out;
  const double volts[] = {0.0, 0.0001, 0.1, 0.2559, 0.5, 1.0, 2.0, 3.3, 4.0, 5.0, -0.25};
  for (uint8_t pga = 0; pga < ads::kPgaCount; ++pga) {
    for (double v : volts) out.push_back({pga, v});
  }
  return out;
}

INSTANTIATE_TEST_SUITE_P(EveryRange, Ads1115RoundTrip, ::testing::ValuesIn(ads_round_trip_table()));

TEST(Ads1115Driver, NewValuesAppearOnTheNextSampleOnly) {
  Rig r;
  r.model.set_input_v(2, 1.0);
  ASSERT_EQ(r.dev.init(), Err::Ok);
  ASSERT_EQ(r.dev.sample(), Err::Ok);
  r.model.set_input_v(2, 0.25);
  EXPECT_EQ(r.microvolts(2), 1000000);  // get() only converts the last snapshot
  ASSERT_EQ(r.dev.sample(), Err::Ok);
  EXPECT_EQ(r.microvolts(2), 250000);
}

// ---------------------------------------------------------------------------
// Bus discipline: what the driver writes, and when it reads

TEST(Ads1115Driver, SampleStartsOneSingleShotPerInputAndWaitsForEach) {
  Ads1115::Settings s;
  s.pga = 1;        // ±4.096 V
  s.data_rate = 7;  // 860 SPS
  Rig r(s);
  r.model.set_busy_polls(3);
  r.model.set_input_v(3, 3.3);
  ASSERT_EQ(r.dev.init(), Err::Ok);
  const uint32_t transfers = r.bus.transfer_count();
  ASSERT_EQ(r.dev.sample(), Err::Ok);
  // Per input: write config, 4 config reads (3 busy + 1 idle), read conversion.
  EXPECT_EQ(r.bus.transfer_count() - transfers, 4u * 6u);
  EXPECT_EQ(r.bus.last_timeout_ms(), drv::RegIo::kDefaultTimeoutMs);
  // The last config written: OS | MUX 111 | PGA 001 | MODE | DR 111 | COMP_QUE 11 (OS reads 1: idle).
  EXPECT_EQ(r.model.reg(ads::kRegConfig), 0xF3E3);
  EXPECT_EQ(r.microvolts(3), 3300000);
  // The comparator thresholds are never touched.
  EXPECT_EQ(r.model.reg(ads::kRegLoThresh), ads::kLoThreshReset);
  EXPECT_EQ(r.model.reg(ads::kRegHiThresh), ads::kHiThreshReset);
}

TEST(Ads1115Driver, ConversionRegisterIsReadOnlyAfterTheConversionEnds) {
  // The model lands the code only when OS goes back to 1: a driver that read
  // the conversion register early would see the previous input's code.
  Rig r;
  r.model.set_busy_polls(5);
  r.model.set_input_v(0, 1.0);
  r.model.set_input_v(1, 0.5);
  ASSERT_EQ(r.dev.init(), Err::Ok);
  ASSERT_EQ(r.dev.sample(), Err::Ok);
  EXPECT_EQ(r.microvolts(0), 1000000);
  EXPECT_EQ(r.microvolts(1), 500000);
}

// ---------------------------------------------------------------------------
// The model's own register semantics (§9.5.3, §9.6)

TEST(Ads1115Model, PowerOnRegisterValues) {
  Rig r;
  EXPECT_EQ(r.read16(ads::kRegConversion), 0x0000);
  EXPECT_EQ(r.read16(ads::kRegConfig), 0x8583);
  EXPECT_EQ(r.read16(ads::kRegLoThresh), 0x8000);
  EXPECT_EQ(r.read16(ads::kRegHiThresh), 0x7FFF);
}

TEST(Ads1115Model, PointerWritesAndRegisterWrites) {
  Rig r;
  // A 3-byte write writes the register and leaves the pointer on it.
  ASSERT_EQ(r.xfer({ads::kRegLoThresh, 0x12, 0x34}), Err::Ok);
  EXPECT_EQ(r.model.reg(ads::kRegLoThresh), 0x1234);
  EXPECT_EQ(r.model.pointer(), ads::kRegLoThresh);
  // A 1-byte write only moves the pointer; a plain read then reads there.
  ASSERT_EQ(r.xfer({ads::kRegHiThresh}), Err::Ok);
  uint8_t rx[4] = {};
  ASSERT_EQ(r.bus.transfer(kAddr, nullptr, 0, rx, 2, 10), Err::Ok);
  EXPECT_EQ(rx[0], 0x7F);
  EXPECT_EQ(rx[1], 0xFF);
  // Reserved pointer bits are ignored; reads past two bytes repeat the register.
  ASSERT_EQ(r.xfer({static_cast<uint8_t>(0xFC | ads::kRegLoThresh)}, rx, 4), Err::Ok);
  EXPECT_EQ(rx[0], 0x12);
  EXPECT_EQ(rx[1], 0x34);
  EXPECT_EQ(rx[2], 0x12);
  EXPECT_EQ(rx[3], 0x34);
  // Half a register and writes to the conversion register are ignored.
  ASSERT_EQ(r.xfer({ads::kRegHiThresh, 0x00}), Err::Ok);
  EXPECT_EQ(r.model.reg(ads::kRegHiThresh), 0x7FFF);
  ASSERT_EQ(r.xfer({ads::kRegConversion, 0x55, 0x55}), Err::Ok);
  EXPECT_EQ(r.model.reg(ads::kRegConversion), 0x0000);
  EXPECT_EQ(r.model.ignored_write_count(), 2u);
}

TEST(Ads1115Model, SingleShotBusyPollsThenResult) {
  Rig r;
  r.model.set_busy_polls(2);
  r.model.set_input_v(0, 1.024);
  // Start AIN0/GND at ±2.048 V: OS reads 0 twice, then 1 with the code in place.
  ASSERT_EQ(r.xfer({ads::kRegConfig, 0xC5, 0x83}), Err::Ok);
  EXPECT_TRUE(r.model.busy());
  EXPECT_EQ(r.read16(ads::kRegConfig), 0x4583);
  EXPECT_EQ(r.read16(ads::kRegConversion), 0x0000);  // not there yet
  EXPECT_EQ(r.read16(ads::kRegConfig), 0x4583);
  EXPECT_EQ(r.read16(ads::kRegConfig), 0xC583);
  EXPECT_EQ(r.read16(ads::kRegConversion), 0x4000);
  EXPECT_EQ(r.model.conversion_count(), 1u);
}

TEST(Ads1115Model, DifferentialMuxSettings) {
  // §9.6.3 MUX 000..011: AIN0-AIN1, AIN0-AIN3, AIN1-AIN3, AIN2-AIN3.
  Rig r;
  r.model.set_busy_polls(0);
  r.model.set_input_v(0, 1.5);
  r.model.set_input_v(1, 0.5);
  r.model.set_input_v(2, 0.25);
  r.model.set_input_v(3, 1.0);
  const struct {
    uint8_t mux;
    double vin;
  } cases[] = {{0, 1.0}, {1, 0.5}, {2, -0.5}, {3, -0.75}};
  for (const auto& c : cases) {
    const uint16_t config = static_cast<uint16_t>(0x8583 | (c.mux << 12));
    ASSERT_EQ(r.xfer({ads::kRegConfig, static_cast<uint8_t>(config >> 8), static_cast<uint8_t>(config)}), Err::Ok);
    EXPECT_EQ(static_cast<int16_t>(r.read16(ads::kRegConversion)), Ads1115Model::ideal_code(c.vin, 2.048))
        << int(c.mux);
  }
}

TEST(Ads1115Model, ContinuousModeFollowsTheInput) {
  Rig r;
  r.model.set_input_v(2, 0.512);
  // MUX 110 (AIN2/GND), ±2.048 V, MODE=0 (continuous).
  ASSERT_EQ(r.xfer({ads::kRegConfig, 0x64, 0x83}), Err::Ok);
  EXPECT_EQ(r.read16(ads::kRegConversion), 0x2000);
  r.model.set_input_v(2, 1.024);
  EXPECT_EQ(r.read16(ads::kRegConversion), 0x4000);
}

// ---------------------------------------------------------------------------
// Identity and presence

TEST(Ads1115Driver, InitRestoresAndChecksThePowerOnConfig) {
  Rig r;
  ASSERT_EQ(r.dev.init(), Err::Ok);
  ASSERT_EQ(r.dev.sample(), Err::Ok);
  EXPECT_NE(r.model.reg(ads::kRegConfig), ads::kConfigReset);
  // A second init (agent restart) finds the chip configured by the first and
  // still recognises it: it restores the reset value before checking.
  ASSERT_EQ(r.dev.init(), Err::Ok);
  EXPECT_EQ(r.model.reg(ads::kRegConfig), ads::kConfigReset);
}

TEST(Ads1115Driver, ForeignChipIsBadChipId) {
  for (uint16_t value : {0xFFFF, 0x0000, 0x8580, 0x8503, 0xC583}) {
    Rig r;
    r.model.set_foreign(true, value);
    EXPECT_EQ(r.dev.init(), Err::BadChipId) << std::hex << value;
    EXPECT_EQ(r.dev.sample(), Err::NotReady);
  }
  // A register that keeps the written bits but never reads OS=1 looks like an
  // ADS1115 whose conversion never ends: that is a Timeout, not an identity.
  Rig r;
  r.model.set_foreign(true, 0x0583);
  r.clock.set_auto_advance_us(1000);
  EXPECT_EQ(r.dev.init(), Err::Timeout);
}

TEST(Ads1115Driver, AbsentChipIsNack) {
  Rig r({}, /*attach=*/false);
  EXPECT_EQ(r.dev.init(), Err::Nack);
  EXPECT_EQ(r.dev.sample(), Err::NotReady);
  EXPECT_EQ(r.dev.get(0).error(), Err::NotReady);
}

// ---------------------------------------------------------------------------
// Deadlines

TEST(Ads1115Driver, StuckBusyTimesOutOnTheDeadline) {
  Ads1115::Settings s;
  s.data_rate = 0;  // 8 SPS: 125 ms per conversion
  Rig r(s);
  ASSERT_EQ(r.dev.init(), Err::Ok);  // 1 busy poll, no clock movement needed
  r.model.set_input_v(0, 1.0);
  ASSERT_EQ(r.dev.sample(), Err::Ok);
  EXPECT_EQ(r.dev.conversion_deadline_us(), 251000u);
  r.model.set_busy_polls(Ads1115Model::kForever);
  r.clock.set_auto_advance_us(1000);  // each clock read is 1 ms later
  const hal::MonoTime start = r.clock.peek_mono();
  EXPECT_EQ(r.dev.sample(), Err::Timeout);
  const int64_t waited_us = r.clock.peek_mono().us_since(start);
  EXPECT_GE(waited_us, r.dev.conversion_deadline_us());
  EXPECT_LE(waited_us, r.dev.conversion_deadline_us() + 5000);
  EXPECT_EQ(r.microvolts(0), 1000000);  // the previous snapshot is still there
}

TEST(Ads1115Driver, DeadlineFollowsTheDataRate) {
  const uint32_t want[] = {251000, 126000, 63500, 32250, 16626, 9000, 5212, 3326};
  for (uint8_t dr = 0; dr < ads::kDataRateCount; ++dr) {
    Ads1115::Settings s;
    s.data_rate = dr;
    Rig r(s);
    EXPECT_EQ(r.dev.conversion_deadline_us(), want[dr]) << ads::kDataRateSps[dr];
    // At least twice the nominal conversion time.
    EXPECT_GE(r.dev.conversion_deadline_us(), 2000000u / ads::kDataRateSps[dr]);
  }
}

TEST(Ads1115Driver, StuckBusyAtInitTimesOut) {
  Rig r;
  r.model.set_busy_polls(Ads1115Model::kForever);
  r.clock.set_auto_advance_us(500);
  EXPECT_EQ(r.dev.init(), Err::Timeout);
  EXPECT_EQ(r.dev.sample(), Err::NotReady);
}

TEST(Ads1115Driver, WaitsEndEvenWithoutAClock) {
  hal::sim::SimI2cBus bus;
  Ads1115Model model;
  ASSERT_EQ(bus.attach(kAddr, &model), Err::Ok);
  Ads1115 dev("adc0", bus, kAddr, nullptr, {});
  ASSERT_EQ(dev.init(), Err::Ok);
  model.set_busy_polls(Ads1115Model::kForever);
  const uint32_t before = bus.transfer_count();
  EXPECT_EQ(dev.sample(), Err::Timeout);
  EXPECT_EQ(bus.transfer_count() - before, 1u + Ads1115::kMaxPolls);  // start + bounded polls
}

// ---------------------------------------------------------------------------
// Injected per-register faults: the exact error comes out of init()/sample()

struct AdsRegFault {
  const char* what;
  uint8_t reg;
  Ads1115Model::Access access;
  Err err;
  bool during_sample;  // false: init() fails; true: init() passes, sample() fails
};

void PrintTo(const AdsRegFault& f, std::ostream* os) { *os << f.what; }

class Ads1115Fault : public ::testing::TestWithParam<AdsRegFault> {};

TEST_P(Ads1115Fault, ExactErrorPropagates) {
  const AdsRegFault f = GetParam();
  Rig r;
  r.model.set_input_v(0, 0.75);
  if (f.during_sample) {
    ASSERT_EQ(r.dev.init(), Err::Ok);
    ASSERT_EQ(r.dev.sample(), Err::Ok);
  }
  ASSERT_EQ(r.model.fail_register(f.reg, f.err, f.access), Err::Ok);
  if (f.during_sample) {
    EXPECT_EQ(r.dev.sample(), f.err);
    EXPECT_EQ(r.microvolts(0), 750000);  // the previous snapshot survives
  } else {
    EXPECT_EQ(r.dev.init(), f.err);
    EXPECT_EQ(r.dev.sample(), Err::NotReady);
  }
  r.model.clear_faults();
  ASSERT_EQ(r.dev.init(), Err::Ok);  // recovers once the fault is gone
  EXPECT_EQ(r.dev.sample(), Err::Ok);
  EXPECT_EQ(r.microvolts(0), 750000);
}

using A = Ads1115Model::Access;
INSTANTIATE_TEST_SUITE_P(
    PerRegister, Ads1115Fault,
    ::testing::Values(AdsRegFault{"init_config_write_nack", 0x01, A::Write, Err::Nack, false},
                      AdsRegFault{"init_config_write_io", 0x01, A::Write, Err::Io, false},
                      AdsRegFault{"init_config_read_timeout", 0x01, A::Read, Err::Timeout, false},
                      AdsRegFault{"init_config_read_io", 0x01, A::Read, Err::Io, false},
                      AdsRegFault{"start_write_timeout", 0x01, A::Write, Err::Timeout, true},
                      AdsRegFault{"start_write_nack", 0x01, A::Write, Err::Nack, true},
                      AdsRegFault{"status_poll_io", 0x01, A::Read, Err::Io, true},
                      AdsRegFault{"conversion_read_nack", 0x00, A::Read, Err::Nack, true},
                      AdsRegFault{"conversion_read_timeout", 0x00, A::Read, Err::Timeout, true},
                      AdsRegFault{"conversion_read_io", 0x00, A::Read, Err::Io, true}),
    [](const ::testing::TestParamInfo<AdsRegFault>& i) { return std::string(i.param.what); });

TEST(Ads1115Driver, ThresholdFaultsDoNotMatter) {
  // The driver never touches Lo_thresh/Hi_thresh.
  Rig r;
  ASSERT_EQ(r.model.fail_register(ads::kRegLoThresh, Err::Io), Err::Ok);
  ASSERT_EQ(r.model.fail_register(ads::kRegHiThresh, Err::Io), Err::Ok);
  EXPECT_EQ(r.dev.init(), Err::Ok);
  EXPECT_EQ(r.dev.sample(), Err::Ok);
}

TEST(Ads1115Driver, FaultTableIsBounded) {
  Rig r;
  for (size_t i = 0; i < Ads1115Model::kMaxFaults; ++i) {
    ASSERT_EQ(r.model.fail_register(ads::kRegLoThresh, Err::Io), Err::Ok);
  }
  EXPECT_EQ(r.model.fail_register(ads::kRegLoThresh, Err::Io), Err::NoSpace);
}

TEST(Ads1115Driver, BusLevelFaultsPropagatePerTransfer) {
  // Whatever the bus reports for a transfer comes out of sample() unchanged,
  // and the next sample() works again.
  for (Err e : {Err::Timeout, Err::Io, Err::Nack}) {
    Rig r;
    ASSERT_EQ(r.dev.init(), Err::Ok);
    r.bus.fail_next(e);
    EXPECT_EQ(r.dev.sample(), e) << hal::err_name(e);
    EXPECT_EQ(r.dev.sample(), Err::Ok);
  }
}

// ---------------------------------------------------------------------------
// Factory

namespace {
drv::DeviceConfig ads_config(hal::I2cBus* bus, uint16_t address = kAddr) {
  drv::DeviceConfig c;
  c.name = "adc0";
  c.compatible = "ti,ads1115";
  c.i2c = bus;
  c.i2c_address = address;
  return c;
}
using xiot_test::add_param;
using xiot_test::add_text;
}  // namespace

TEST(Ads1115Factory, ParamsConfigureTheChip) {
  hal::sim::SimI2cBus bus;
  Ads1115Model model;
  ASSERT_EQ(bus.attach(0x4B, &model), Err::Ok);
  model.set_input_v(0, 0.2);
  drv::DeviceConfig c = ads_config(&bus, 0x4B);
  add_param(&c, "inputs", 1);
  add_param(&c, "pga", 256);
  add_param(&c, "data_rate", 860);
  drv::DriverError err;
  auto dev = drv::create_ads1115(c, &err);
  ASSERT_NE(dev, nullptr) << err.text;
  EXPECT_EQ(dev->channel_count(), 1u);
  ASSERT_EQ(dev->init(), Err::Ok);
  ASSERT_EQ(dev->sample(), Err::Ok);
  // OS | MUX 100 | PGA 101 | MODE | DR 111 | COMP_QUE 11
  EXPECT_EQ(model.reg(ads::kRegConfig), 0xCBE3);
  auto v = dev->get(0);
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v.value().mantissa, 200000);
  EXPECT_EQ(v.value().exponent, -6);
}

TEST(Ads1115Factory, DefaultsAreTheChipsResetValues) {
  hal::sim::SimI2cBus bus;
  Ads1115Model model;
  ASSERT_EQ(bus.attach(kAddr, &model), Err::Ok);
  drv::DeviceConfig c = ads_config(&bus);
  drv::DriverError err;
  auto dev = drv::create_ads1115(c, &err);
  ASSERT_NE(dev, nullptr) << err.text;
  EXPECT_EQ(dev->channel_count(), 4u);
  ASSERT_EQ(dev->init(), Err::Ok);
  ASSERT_EQ(dev->sample(), Err::Ok);
  EXPECT_EQ(model.reg(ads::kRegConfig), 0xF583);  // AIN3, ±2.048 V, 128 SPS
}

TEST(Ads1115Factory, RejectsUnusableConfigsWithOneLine) {
  hal::sim::SimI2cBus bus;
  struct Case {
    const char* key;
    bool text;
    int64_t n;
    const char* s;
    const char* message;
  } cases[] = {
      {"inputs", false, 0, nullptr, "params.inputs: expected an integer 1..4, got 0"},
      {"inputs", false, 5, nullptr, "params.inputs: expected an integer 1..4, got 5"},
      {"pga", false, 300, nullptr, "params.pga: expected 6144, 4096, 2048, 1024, 512 or 256, got 300"},
      {"pga", true, 0, "2.048", "params.pga: expected an integer 0..100000, got \"2.048\""},
      {"data_rate", false, 100, nullptr,
       "params.data_rate: expected 8, 16, 32, 64, 128, 250, 475 or 860, got 100"},
      {"gain", false, 1, nullptr, "params.gain: unknown parameter (known: inputs, pga, data_rate)"},
  };
  for (const Case& k : cases) {
    drv::DeviceConfig c = ads_config(&bus);
    if (k.text) {
      add_text(&c, k.key, k.s);
    } else {
      add_param(&c, k.key, k.n);
    }
    drv::DriverError err;
    EXPECT_EQ(drv::create_ads1115(c, &err), nullptr) << k.key;
    EXPECT_STREQ(err.text, k.message);
  }
  drv::DriverError err;
  EXPECT_EQ(drv::create_ads1115(ads_config(nullptr), &err), nullptr);
  EXPECT_STREQ(err.text, "needs an I2C bus and address (\"bus\", \"address\")");
  EXPECT_EQ(drv::create_ads1115(ads_config(&bus, 0x76), &err), nullptr);
  EXPECT_STREQ(err.text, "address: expected 0x48..0x4b (ADDR pin to GND, VDD, SDA or SCL), got 0x76");
}

// ---------------------------------------------------------------------------
// The model table's row: "sim" keys and the model it attaches

namespace {
/// Parses `sim_json` (the "sim" object) with the ADS1115's row; returns the error text.
std::string parse_ads_sim(const std::string& sim_json, drv::sim::SimParams* out) {
  const std::string text = "{\"sim\": " + sim_json + "}";
  json::Reader r("b.json");
  EXPECT_TRUE(r.parse(text.data(), text.size()));
  const drv::sim::ModelEntry* m = drv::sim::find_model("ti,ads1115");
  EXPECT_NE(m, nullptr);
  if (m != nullptr) (void)m->parse_sim(r.root()["sim"], out);
  return r.error();
}
}  // namespace

TEST(Ads1115Sim, RowParsesItsKeysAndAttachesTheModel) {
  drv::sim::SimParams p;
  EXPECT_EQ(parse_ads_sim(R"({"ain0_v": 1.25, "ain3_v": -0.1})", &p), "");
  EXPECT_DOUBLE_EQ(p.get("ain0_v").value_or(0), 1.25);
  EXPECT_DOUBLE_EQ(p.get("ain3_v").value_or(0), -0.1);
  EXPECT_FALSE(p.get("ain1_v"));

  drv::sim::SimParams bad;
  EXPECT_EQ(parse_ads_sim(R"({"ain2_v": 6})", &bad), "b.json: sim.ain2_v: expected a number from -0.3 to 5.5, got 6");
  EXPECT_EQ(parse_ads_sim(R"({"ain4_v": 1})", &bad).rfind("b.json: sim.ain4_v: unknown key", 0), 0u);

  hal::sim::SimI2cBus bus;
  drv::sim::ModelSite site;
  site.i2c = &bus;
  site.address = 0x49;
  std::unique_ptr<drv::sim::Model> model;
  ASSERT_EQ(drv::sim::find_model("ti,ads1115")->create(p, site, &model), Err::Ok);
  Ads1115Model* ads1115 = drv::sim::as_ads1115(model.get());
  ASSERT_NE(ads1115, nullptr);
  EXPECT_DOUBLE_EQ(ads1115->input_v(0), 1.25);
  Ads1115 dev("adc0", bus, 0x49, nullptr, {});
  ASSERT_EQ(dev.init(), Err::Ok);
  ASSERT_EQ(dev.sample(), Err::Ok);
  EXPECT_EQ(dev.get(0).value().mantissa, 1250000);

  drv::sim::SimParams absent;
  EXPECT_EQ(parse_ads_sim(R"({"present": false})", &absent), "");
  hal::sim::SimI2cBus empty_bus;
  site.i2c = &empty_bus;
  std::unique_ptr<drv::sim::Model> unattached;
  ASSERT_EQ(drv::sim::find_model("ti,ads1115")->create(absent, site, &unattached), Err::Ok);
  Ads1115 missing("adc0", empty_bus, 0x49, nullptr, {});
  EXPECT_EQ(missing.init(), Err::Nack);
}

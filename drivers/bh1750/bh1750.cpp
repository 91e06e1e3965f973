// ROHM BH1750FVI driver. Section names refer to the BH1750FVI datasheet
// (ROHM technical note, 2011.11 rev. D; same content in rev. B).
#include "bh1750/bh1750.hpp"

#include <new>

#include "drv/reg_io.hpp"

namespace drv {

namespace bh1750 {

uint8_t one_time_opcode(Mode mode) {
  switch (mode) {
    case Mode::High2: return kOneTimeHigh2;
    case Mode::Low: return kOneTimeLow;
    case Mode::High: break;
  }
  return kOneTimeHigh;
}

void mtreg_opcodes(uint8_t mtreg, uint8_t out[2]) {
  // "Instruction Set Architecture": Change Measurement time (High bit)
  // 01000_MT[7,6,5], (Low bit) 011_MT[4,3,2,1,0].
  out[0] = static_cast<uint8_t>(kMtregHigh | (mtreg >> 5));
  out[1] = static_cast<uint8_t>(kMtregLow | (mtreg & 0x1F));
}

uint32_t max_measurement_us(Mode mode, uint8_t mtreg) {
  const uint32_t at_default = mode == Mode::Low ? kLowMaxUs : kHighMaxUs;
  const uint32_t scale = mtreg > kMtregDefault ? mtreg : kMtregDefault;
  // Rounded up: waiting a microsecond longer is harmless, shorter is not.
  return static_cast<uint32_t>((static_cast<uint64_t>(at_default) * scale + kMtregDefault - 1) /
                               kMtregDefault);
}

int64_t centilux(uint16_t raw, Mode mode, uint8_t mtreg) {
  if (mtreg == 0) return 0;
  // "Measurement sequence example": lx = count / 1.2; "Adjust measurement
  // result ...": x 69 / MTreg, and H-resolution mode2 counts half-lux steps.
  // In 0.01 lx: raw x 69 x 100 / (1.2 x mtreg x div) = raw x 34500 / (6 x mtreg x div),
  // rounded to nearest (all terms positive).
  const int64_t num = static_cast<int64_t>(raw) * 34500;
  const int64_t den = int64_t{6} * mtreg * (mode == Mode::High2 ? 2 : 1);
  return (2 * num + den) / (2 * den);
}

}  // namespace bh1750

namespace {

using namespace bh1750;

const ChannelSpec kChannels[] = {
    {"illuminance", "lx", ChannelKind::Sensor, ValueType::Numeric},
};
constexpr size_t kChannelCount = sizeof kChannels / sizeof kChannels[0];

}  // namespace

Bh1750::Bh1750(const char* name, hal::I2cBus& bus, uint16_t address, hal::MonotonicClock* clock,
               const Settings& settings)
    : Device(name, "rohm,bh1750"), bus_(&bus), address_(address), clock_(clock), settings_(settings) {}

size_t Bh1750::channel_count() const { return kChannelCount; }

const ChannelSpec& Bh1750::channel(size_t i) const { return kChannels[i < kChannelCount ? i : 0]; }

hal::Err Bh1750::instruction(uint8_t opcode) {
  // "Write Format": one instruction per write transaction.
  return bus_->transfer(address_, &opcode, 1, nullptr, 0, RegIo::kDefaultTimeoutMs);
}

hal::Err Bh1750::read_data(uint16_t* out) {
  // "Read Format": high byte, then low byte.
  uint8_t d[2] = {};
  if (hal::Err e = bus_->transfer(address_, nullptr, 0, d, sizeof d, RegIo::kDefaultTimeoutMs);
      e != hal::Err::Ok) {
    return e;
  }
  *out = static_cast<uint16_t>((d[0] << 8) | d[1]);
  return hal::Err::Ok;
}

hal::Err Bh1750::measure(uint16_t* out) {
  // "Measurement sequence example": send the one-time instruction, wait for
  // the measurement (max. 180 ms in H-resolution mode), read the result. The
  // one-time modes power down afterwards by themselves.
  if (hal::Err e = instruction(one_time_opcode(settings_.mode)); e != hal::Err::Ok) return e;
  const uint32_t wait_us = max_measurement_us(settings_.mode, settings_.mtreg);
  const uint32_t max_polls = wait_us / kMinPollUs + 1;
  const hal::MonoTime done =
      clock_ != nullptr ? clock_->mono_now().plus_us(wait_us) : hal::MonoTime{};
  for (uint32_t poll = 0; poll < max_polls; ++poll) {
    if (clock_ != nullptr && clock_->mono_now() >= done) break;
    uint16_t pacing = 0;  // the previous result until the measurement ends
    if (hal::Err e = read_data(&pacing); e != hal::Err::Ok) return e;
  }
  return read_data(out);
}

hal::Err Bh1750::init() {
  initialised_ = false;
  have_sample_ = false;
  // Reset is not accepted in Power Down ("Instruction Set Architecture",
  // note on Reset), so Power On first.
  if (hal::Err e = instruction(kPowerOn); e != hal::Err::Ok) return e;
  if (hal::Err e = instruction(kReset); e != hal::Err::Ok) return e;
  // The part has no id register. Reset clears the data register, so a
  // BH1750 reads 0x0000 here; anything else is another part (or a BH1750
  // that did not take the Reset).
  uint16_t after_reset = 0;
  if (hal::Err e = read_data(&after_reset); e != hal::Err::Ok) return e;
  if (after_reset != 0) return hal::Err::BadChipId;
  uint8_t mt[2];
  mtreg_opcodes(settings_.mtreg, mt);
  if (hal::Err e = instruction(mt[0]); e != hal::Err::Ok) return e;
  if (hal::Err e = instruction(mt[1]); e != hal::Err::Ok) return e;
  // A test measurement: the communication check the part allows (the value
  // itself can be anything, 0 in the dark).
  uint16_t test = 0;
  if (hal::Err e = measure(&test); e != hal::Err::Ok) return e;
  initialised_ = true;
  return hal::Err::Ok;
}

hal::Err Bh1750::sample() {
  if (!initialised_) return hal::Err::NotReady;
  uint16_t raw = 0;
  if (hal::Err e = measure(&raw); e != hal::Err::Ok) return e;
  raw_ = raw;
  have_sample_ = true;
  return hal::Err::Ok;
}

hal::Result<Value> Bh1750::get(size_t i) const {
  if (i >= kChannelCount) return hal::Err::NotFound;
  if (!have_sample_) return hal::Err::NotReady;
  return Value::numeric(centilux(raw_, settings_.mode, settings_.mtreg), -2);
}

hal::Err Bh1750::set(size_t i, const Value&) {
  return i < kChannelCount ? hal::Err::ReadOnly : hal::Err::NotFound;
}

std::unique_ptr<Device> create_bh1750(const DeviceConfig& config, DriverError* error) {
  DriverError scratch;
  if (error == nullptr) error = &scratch;
  if (!check_i2c_resources(config, error)) return nullptr;
  static const char* const kKeys[] = {"mode", "mtreg"};
  if (!check_param_keys(config, kKeys, sizeof kKeys / sizeof kKeys[0], error)) return nullptr;

  Bh1750::Settings s;
  static const char* const kModes[] = {"high", "high2", "low"};
  static const Mode kModeOf[] = {Mode::High, Mode::High2, Mode::Low};
  size_t mode = 0;
  if (!param_choice(config, "mode", kModes, sizeof kModes / sizeof kModes[0], 0, &mode, error)) {
    return nullptr;
  }
  s.mode = kModeOf[mode];
  int64_t mtreg = kMtregDefault;
  if (!param_int(config, "mtreg", kMtregMin, kMtregMax, kMtregDefault, &mtreg, error)) return nullptr;
  s.mtreg = static_cast<uint8_t>(mtreg);

  std::unique_ptr<Device> dev(new (std::nothrow) Bh1750(config.name, *config.i2c, config.i2c_address,
                                                        config.clock, s));
  if (!dev) error->set("out of memory");
  return dev;
}

}  // namespace drv

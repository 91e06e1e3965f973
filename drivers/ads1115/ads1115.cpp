// TI ADS1115 driver. Section numbers refer to the ADS111x datasheet
// (TI SBAS444D, "ADS111x Ultra-Small, Low-Power, I2C-Compatible, 860-SPS,
// 16-Bit ADCs").
#include "ads1115/ads1115.hpp"

#include <cstdio>
#include <new>

#include "drv/reg_io.hpp"

namespace drv {

namespace ads1115 {

uint16_t fsr_mv(uint8_t pga_code) { return pga_code < kPgaCount ? kFsrMv[pga_code] : kFsrMv[kPgaCount - 1]; }

uint16_t single_shot_config(size_t input, uint8_t pga_code, uint8_t dr_code) {
  const unsigned mux = kMuxSingleEnded0 + static_cast<unsigned>(input & 0x3);
  return static_cast<uint16_t>(kOs | (mux << kMuxShift) | ((pga_code & 0x7u) << kPgaShift) | kModeSingleShot |
                               ((dr_code & 0x7u) << kDrShift) | kCompQueDisable);
}

int64_t code_to_microvolts(int16_t code, uint16_t fsr_mv) {
  // §9.3.3 / §9.5.4: one LSB is FSR / 2^15. In µV: code * fsr_mv * 1000 / 32768.
  const int64_t scaled = static_cast<int64_t>(code) * fsr_mv * 1000;
  const int64_t magnitude = (scaled < 0 ? -scaled : scaled) + 16384;
  const int64_t rounded = magnitude / 32768;
  return scaled < 0 ? -rounded : rounded;
}

}  // namespace ads1115

namespace {

using namespace ads1115;

const ChannelSpec kChannels[] = {
    {"ain0", "V", ChannelKind::Sensor, ValueType::Numeric},
    {"ain1", "V", ChannelKind::Sensor, ValueType::Numeric},
    {"ain2", "V", ChannelKind::Sensor, ValueType::Numeric},
    {"ain3", "V", ChannelKind::Sensor, ValueType::Numeric},
};
static_assert(sizeof kChannels / sizeof kChannels[0] == kInputCount, "one channel per input");

}  // namespace

Ads1115::Ads1115(const char* name, hal::I2cBus& bus, uint16_t address, hal::MonotonicClock* clock,
                 const Settings& settings)
    : Device(name, "ti,ads1115"), bus_(&bus), address_(address), clock_(clock), settings_(settings) {}

size_t Ads1115::channel_count() const { return settings_.inputs; }

const ChannelSpec& Ads1115::channel(size_t i) const { return kChannels[i < settings_.inputs ? i : 0]; }

uint32_t Ads1115::conversion_deadline_us() const {
  const uint32_t sps = kDataRateSps[settings_.data_rate & 0x7];
  const uint32_t conversion_us = (1000000 + sps - 1) / sps;  // 1 / DR, rounded up
  return 2 * conversion_us + 1000;
}

hal::Err Ads1115::write_reg16(uint8_t reg, uint16_t value) {
  // §9.5.3: a register write is the pointer byte followed by the MSB and LSB
  // (drv::RegIo writes 8-bit registers only, hence the bus call here).
  const uint8_t tx[3] = {reg, static_cast<uint8_t>(value >> 8), static_cast<uint8_t>(value & 0xFF)};
  return bus_->transfer(address_, tx, sizeof tx, nullptr, 0, RegIo::kDefaultTimeoutMs);
}

hal::Err Ads1115::read_reg16(uint8_t reg, uint16_t* value) {
  // §9.5.3: set the pointer, repeated start, read MSB and LSB.
  uint8_t rx[2] = {};
  if (hal::Err e = RegIo(*bus_, address_).read_regs(reg, rx, sizeof rx); e != hal::Err::Ok) return e;
  *value = static_cast<uint16_t>((rx[0] << 8) | rx[1]);
  return hal::Err::Ok;
}

hal::Err Ads1115::wait_idle(uint16_t written, bool check_identity, uint16_t* config) {
  // §9.4.2: in single-shot mode OS reads 0 while a conversion runs and 1 once
  // the result is in the conversion register and the chip is powered down.
  // Every poll is a bus transfer, which paces the loop on real hardware.
  const hal::MonoTime deadline =
      clock_ != nullptr ? clock_->mono_now().plus_us(conversion_deadline_us()) : hal::MonoTime{};
  for (uint32_t poll = 0; poll < kMaxPolls; ++poll) {
    uint16_t value = 0;
    if (hal::Err e = read_reg16(kRegConfig, &value); e != hal::Err::Ok) return e;
    // The bits below OS read back as written; a chip that does not keep them
    // is not an ADS111x.
    if (check_identity && (value & ~kOs) != (written & ~kOs)) return hal::Err::BadChipId;
    if ((value & kOs) != 0) {
      *config = value;
      return hal::Err::Ok;
    }
    if (clock_ != nullptr && clock_->mono_now() > deadline) return hal::Err::Timeout;
  }
  return hal::Err::Timeout;
}

hal::Err Ads1115::init() {
  initialised_ = false;
  have_sample_ = false;
  // No id register (§9.6): restore the power-on config (which, being OS=1 in
  // single-shot mode, runs one conversion of the reset input) and expect it
  // back once idle. The thresholds are left alone: the comparator stays off.
  if (hal::Err e = write_reg16(kRegConfig, kConfigReset); e != hal::Err::Ok) return e;
  uint16_t config = 0;
  if (hal::Err e = wait_idle(kConfigReset, true, &config); e != hal::Err::Ok) return e;
  if (config != kConfigReset) return hal::Err::BadChipId;
  initialised_ = true;
  return hal::Err::Ok;
}

hal::Err Ads1115::sample() {
  if (!initialised_) return hal::Err::NotReady;
  int16_t codes[kInputCount] = {};
  for (size_t i = 0; i < settings_.inputs; ++i) {
    // §9.4.2: writing OS=1 starts one conversion of the selected input, after
    // which the chip powers down again.
    const uint16_t start = single_shot_config(i, settings_.pga, settings_.data_rate);
    if (hal::Err e = write_reg16(kRegConfig, start); e != hal::Err::Ok) return e;
    uint16_t config = 0;
    if (hal::Err e = wait_idle(start, false, &config); e != hal::Err::Ok) return e;
    uint16_t raw = 0;
    if (hal::Err e = read_reg16(kRegConversion, &raw); e != hal::Err::Ok) return e;
    codes[i] = static_cast<int16_t>(raw);  // §9.6.2: two's complement
  }
  for (size_t i = 0; i < kInputCount; ++i) codes_[i] = codes[i];
  have_sample_ = true;
  return hal::Err::Ok;
}

hal::Result<Value> Ads1115::get(size_t i) const {
  if (i >= settings_.inputs) return hal::Err::NotFound;
  if (!have_sample_) return hal::Err::NotReady;
  return Value::numeric(code_to_microvolts(codes_[i], fsr_mv(settings_.pga)), -6);
}

hal::Err Ads1115::set(size_t i, const Value&) {
  return i < settings_.inputs ? hal::Err::ReadOnly : hal::Err::NotFound;
}

namespace {

/// `key` must be one of `allowed` (`count` values); stores its index.
bool param_listed(const DeviceConfig& config, const char* key, const uint16_t* allowed, size_t count,
                  size_t fallback, uint8_t* index, DriverError* error) {
  int64_t v = 0;
  if (!param_int(config, key, 0, 100000, allowed[fallback], &v, error)) return false;
  for (size_t i = 0; i < count; ++i) {
    if (allowed[i] == v) {
      *index = static_cast<uint8_t>(i);
      return true;
    }
  }
  char list[80] = {};
  size_t used = 0;
  for (size_t i = 0; i < count; ++i) {
    const char* sep = i == 0 ? "" : (i + 1 == count ? " or " : ", ");
    const int n = std::snprintf(list + used, sizeof list - used, "%s%u", sep, static_cast<unsigned>(allowed[i]));
    if (n < 0 || static_cast<size_t>(n) >= sizeof list - used) break;
    used += static_cast<size_t>(n);
  }
  error->set("params.%s: expected %s, got %lld", key, list, static_cast<long long>(v));
  return false;
}

}  // namespace

std::unique_ptr<Device> create_ads1115(const DeviceConfig& config, DriverError* error) {
  DriverError scratch;
  if (error == nullptr) error = &scratch;
  // §9.5.1.1: the ADDR pin (GND, VDD, SDA, SCL) selects one of four addresses.
  if (!check_i2c_resources(config, error, 0x48, 0x4B, "0x48..0x4b (ADDR pin to GND, VDD, SDA or SCL)")) {
    return nullptr;
  }
  static const char* const kKeys[] = {"inputs", "pga", "data_rate"};
  if (!check_param_keys(config, kKeys, sizeof kKeys / sizeof kKeys[0], error)) return nullptr;

  Ads1115::Settings s;
  int64_t inputs = 0;
  if (!param_int(config, "inputs", 1, kInputCount, kInputCount, &inputs, error)) return nullptr;
  s.inputs = static_cast<uint8_t>(inputs);
  if (!param_listed(config, "pga", kFsrMv, kPgaCount, 2, &s.pga, error)) return nullptr;
  if (!param_listed(config, "data_rate", kDataRateSps, kDataRateCount, 4, &s.data_rate, error)) return nullptr;

  std::unique_ptr<Device> dev(
      new (std::nothrow) Ads1115(config.name, *config.i2c, config.i2c_address, config.clock, s));
  if (!dev) error->set("out of memory");
  return dev;
}

}  // namespace drv

// Sensirion SHT3x driver. Section numbers refer to the SHT3x-DIS datasheet
// (Sensirion, version 5 and later).
#include "sht3x/sht3x.hpp"

#include <new>

namespace drv {

namespace sht3x {

uint8_t crc8(const uint8_t* data, size_t len) {
  // §4.12 table 20: CRC-8, polynomial 0x31, init 0xFF, MSB first, no final XOR.
  uint8_t crc = 0xFF;
  for (size_t i = 0; i < len; ++i) {
    crc ^= data[i];
    for (int bit = 0; bit < 8; ++bit) {
      crc = (crc & 0x80) != 0 ? static_cast<uint8_t>((crc << 1) ^ 0x31) : static_cast<uint8_t>(crc << 1);
    }
  }
  return crc;
}

namespace {
/// round(numerator * raw / 65535) for non-negative values, in integers.
int32_t scale_rounded(int64_t numerator, uint16_t raw) {
  return static_cast<int32_t>((numerator * raw * 2 + 65535) / (2 * 65535));
}
}  // namespace

// §4.13: the formulas divide by 2^16 - 1 (not 2^16), so 0xFFFF is exactly
// 130 °C and 100 %RH.
int32_t temperature_centi(uint16_t raw) { return -4500 + scale_rounded(17500, raw); }

int32_t humidity_centi(uint16_t raw) { return scale_rounded(10000, raw); }

}  // namespace sht3x

namespace {

using namespace sht3x;

const ChannelSpec kChannels[] = {
    {"temperature", "Cel", ChannelKind::Sensor, ValueType::Numeric},
    {"humidity", "%RH", ChannelKind::Sensor, ValueType::Numeric},
};
constexpr size_t kChannelCount = sizeof kChannels / sizeof kChannels[0];

uint16_t u16be(const uint8_t* p) { return static_cast<uint16_t>((p[0] << 8) | p[1]); }

/// True when the word at `p` (2 bytes) matches its CRC byte at p[2].
bool word_ok(const uint8_t* p) { return crc8(p, 2) == p[2]; }

/// Polls `step` (Ok when done, NotReady to go on, or an error to stop) until
/// `deadline_ms` passed on `clock` or Sht3x::kMaxPolls polls. Every poll is
/// a bus transfer, which paces the loop on real hardware.
template <typename Step>
hal::Err poll_until(hal::MonotonicClock* clock, uint32_t deadline_ms, Step step) {
  const hal::MonoTime deadline = clock != nullptr ? clock->mono_now().plus_ms(deadline_ms) : hal::MonoTime{};
  for (uint32_t poll = 0; poll < Sht3x::kMaxPolls; ++poll) {
    const hal::Err e = step();
    if (e != hal::Err::NotReady) return e;
    if (clock != nullptr && clock->mono_now() > deadline) return hal::Err::Timeout;
  }
  return hal::Err::Timeout;
}

/// While the chip is busy (measuring, resetting) it NACKs its address (§4.4):
/// inside a wait, a NACK means "not yet".
hal::Err busy_is_not_ready(hal::Err e) { return e == hal::Err::Nack ? hal::Err::NotReady : e; }

}  // namespace

uint16_t Sht3x::measure_command(Repeatability r) {
  switch (r) {
    case Repeatability::Medium: return kCmdMeasureMedium;
    case Repeatability::Low: return kCmdMeasureLow;
    default: return kCmdMeasureHigh;
  }
}

uint32_t Sht3x::measure_deadline_ms(Repeatability r) {
  // §2.2 table 4, t_MEAS max: high 15.5 ms, medium 6.5 ms, low 4.5 ms.
  switch (r) {
    case Repeatability::Medium: return 7 + kMeasureMarginMs;
    case Repeatability::Low: return 5 + kMeasureMarginMs;
    default: return 16 + kMeasureMarginMs;
  }
}

Sht3x::Sht3x(const char* name, hal::I2cBus& bus, uint16_t address, hal::MonotonicClock* clock,
             const Settings& settings)
    : Device(name, "sensirion,sht3x"), bus_(&bus), address_(address), clock_(clock), settings_(settings) {}

size_t Sht3x::channel_count() const { return kChannelCount; }

const ChannelSpec& Sht3x::channel(size_t i) const { return kChannels[i < kChannelCount ? i : 0]; }

hal::Err Sht3x::send_command(uint16_t command) {
  // §4.2: write header, command MSB, command LSB. The command carries its own
  // 3-bit checksum; no CRC byte follows.
  const uint8_t tx[2] = {static_cast<uint8_t>(command >> 8), static_cast<uint8_t>(command & 0xFF)};
  return bus_->transfer(address_, tx, sizeof tx, nullptr, 0, kTransferTimeoutMs);
}

hal::Err Sht3x::read_status(uint16_t* out) {
  // §4.11 table 17: the command, then a read header and msb, lsb, crc.
  if (hal::Err e = send_command(kCmdReadStatus); e != hal::Err::Ok) return e;
  uint8_t rx[kStatusLen];
  if (hal::Err e = bus_->transfer(address_, nullptr, 0, rx, sizeof rx, kTransferTimeoutMs); e != hal::Err::Ok) {
    return e;
  }
  if (!word_ok(rx)) return hal::Err::Corrupt;
  *out = u16be(rx);
  return hal::Err::Ok;
}

hal::Err Sht3x::init() {
  initialised_ = false;
  have_sample_ = false;

  uint16_t status = 0;
  if (settings_.soft_reset) {
    // §4.9: the soft reset reloads the calibration; the chip is busy for t_SR
    // (at most 1.5 ms, table 4) and does not acknowledge until it is idle.
    if (hal::Err e = send_command(kCmdSoftReset); e != hal::Err::Ok) return e;
    const hal::Err e = poll_until(clock_, kResetDeadlineMs, [this, &status]() {
      return busy_is_not_ready(read_status(&status));
    });
    if (e != hal::Err::Ok) return e;
  } else {
    if (hal::Err e = read_status(&status); e != hal::Err::Ok) return e;
  }
  // No id register: a correct checksum and the always-zero reserved bits
  // (§4.11 table 18) are what tells an SHT3x from another part at the address.
  if ((status & kStatusReservedZero) != 0) return hal::Err::BadChipId;

  status_ = status;
  initialised_ = true;
  return hal::Err::Ok;
}

hal::Err Sht3x::sample() {
  if (!initialised_) return hal::Err::NotReady;
  // §4.3: single shot with clock stretching disabled, so that no transfer
  // holds the bus for the whole measurement.
  if (hal::Err e = send_command(measure_command(settings_.repeatability)); e != hal::Err::Ok) return e;
  // §4.4: until the measurement is done the chip NACKs the read header.
  uint8_t d[kMeasurementLen];
  const hal::Err e = poll_until(clock_, measure_deadline_ms(settings_.repeatability), [this, &d]() {
    return busy_is_not_ready(bus_->transfer(address_, nullptr, 0, d, sizeof d, kTransferTimeoutMs));
  });
  if (e != hal::Err::Ok) return e;
  // §4.12: each word is followed by the CRC of its two bytes.
  if (!word_ok(d) || !word_ok(d + 3)) return hal::Err::Corrupt;
  raw_t_ = u16be(d);
  raw_rh_ = u16be(d + 3);
  have_sample_ = true;
  return hal::Err::Ok;
}

hal::Result<Value> Sht3x::get(size_t i) const {
  if (i >= kChannelCount) return hal::Err::NotFound;
  if (!have_sample_) return hal::Err::NotReady;
  return i == 0 ? Value::numeric(temperature_centi(raw_t_), -2) : Value::numeric(humidity_centi(raw_rh_), -2);
}

hal::Err Sht3x::set(size_t i, const Value&) { return i < kChannelCount ? hal::Err::ReadOnly : hal::Err::NotFound; }

std::unique_ptr<Device> create_sht3x(const DeviceConfig& config, DriverError* error) {
  DriverError scratch;
  if (error == nullptr) error = &scratch;
  if (!check_i2c_resources(config, error)) return nullptr;
  static const char* const kKeys[] = {"repeatability", "soft_reset"};
  if (!check_param_keys(config, kKeys, sizeof kKeys / sizeof kKeys[0], error)) return nullptr;

  Sht3x::Settings s;
  static const char* const kRepeatability[] = {"high", "medium", "low"};
  size_t r = 0;
  if (!param_choice(config, "repeatability", kRepeatability, 3, 0, &r, error)) return nullptr;
  s.repeatability = r == 0 ? Sht3x::Repeatability::High
                           : (r == 1 ? Sht3x::Repeatability::Medium : Sht3x::Repeatability::Low);
  int64_t reset = 1;
  if (!param_int(config, "soft_reset", 0, 1, 1, &reset, error)) return nullptr;
  s.soft_reset = reset != 0;

  std::unique_ptr<Device> dev(new (std::nothrow) Sht3x(config.name, *config.i2c, config.i2c_address, config.clock, s));
  if (!dev) error->set("out of memory");
  return dev;
}

}  // namespace drv

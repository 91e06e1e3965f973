// SHT3x command model. Section numbers refer to the SHT3x-DIS datasheet.
#include "sht3x/sht3x_model.hpp"

#include <cmath>

namespace drv {
namespace sim {

namespace {

using namespace drv::sht3x;

/// The raw word the §4.13 formula `value = offset + span * S / 65535` maps
/// nearest to `value`, clamped to 0..0xFFFF.
uint16_t raw_for(double value, double offset, double span) {
  const double s = std::round((value - offset) * 65535.0 / span);
  if (s <= 0) return 0;
  if (s >= 65535) return 0xFFFF;
  return static_cast<uint16_t>(s);
}

/// Writes `word` and its CRC (flipped when `bad_crc`) at p[0..2] (§4.12).
void put_word(uint8_t* p, uint16_t word, bool bad_crc) {
  p[0] = static_cast<uint8_t>(word >> 8);
  p[1] = static_cast<uint8_t>(word & 0xFF);
  p[2] = static_cast<uint8_t>(crc8(p, 2) ^ (bad_crc ? 0x01 : 0x00));
}

bool is_measurement(uint16_t command, bool* stretch) {
  switch (command) {
    case kCmdMeasureHigh:
    case kCmdMeasureMedium:
    case kCmdMeasureLow:
      *stretch = false;
      return true;
    case kCmdMeasureHighStretch:
    case kCmdMeasureMediumStretch:
    case kCmdMeasureLowStretch:
      *stretch = true;
      return true;
    default:
      return false;
  }
}

}  // namespace

Sht3xModel::Sht3xModel() {
  power_on_reset();
  set_temperature_c(temperature_c_);
  set_humidity_pct(humidity_pct_);
}

void Sht3xModel::power_on_reset() {
  // §4.11 table 18: after any reset, "alert pending" and "reset detected"
  // are 1, the heater is off, the command and checksum flags are 0.
  status_ = kStatusAlertPending | kStatusResetDetected;
  pending_ = Pending::None;
  busy_left_ = 0;
}

void Sht3xModel::set_temperature_c(double celsius) {
  temperature_c_ = celsius;
  raw_t_ = raw_for(celsius, -45.0, 175.0);
}

void Sht3xModel::set_humidity_pct(double percent) {
  humidity_pct_ = percent;
  raw_rh_ = raw_for(percent, 0.0, 100.0);
}

void Sht3xModel::set_raw(uint16_t s_t, uint16_t s_rh) {
  raw_t_ = s_t;
  raw_rh_ = s_rh;
}

hal::Err Sht3xModel::fail_command(uint16_t command, hal::Err err, Phase phase, uint32_t count) {
  if (fault_count_ == kMaxFaults) return hal::Err::NoSpace;
  faults_[fault_count_++] = Fault{command, err, phase, count};
  return hal::Err::Ok;
}

void Sht3xModel::corrupt_crc(Word word) { bad_crc_[static_cast<size_t>(word)] = true; }

void Sht3xModel::clear_faults() {
  fault_count_ = 0;
  for (bool& b : bad_crc_) b = false;
  status_extra_ = 0;
}

hal::Err Sht3xModel::take_fault(uint16_t command, Phase phase) {
  for (size_t i = 0; i < fault_count_; ++i) {
    Fault& f = faults_[i];
    if (f.command != command || f.count == 0) continue;
    if ((static_cast<uint8_t>(f.phase) & static_cast<uint8_t>(phase)) == 0) continue;
    if (f.count != kForever) --f.count;
    return f.err;
  }
  return hal::Err::Ok;
}

hal::Err Sht3xModel::execute(uint16_t command) {
  last_command_ = command;
  bool stretch = false;
  if (is_measurement(command, &stretch)) {
    // §4.3/§4.4: the values are those of this measurement; without clock
    // stretching the chip NACKs until it is done, with it the read waits.
    ++measurements_;
    latched_t_ = raw_t_;
    latched_rh_ = raw_rh_;
    pending_ = Pending::Measurement;
    pending_command_ = command;
    busy_left_ = stretch ? 0 : measuring_polls_;
    status_ &= static_cast<uint16_t>(~kStatusCommandFailed);
    return hal::Err::Ok;
  }
  switch (command) {
    case kCmdReadStatus:
      pending_ = Pending::Status;
      pending_command_ = command;
      break;
    case kCmdClearStatus:
      // §4.11 table 19: clears bits 15, 11, 10 and 4.
      status_ &= static_cast<uint16_t>(~(kStatusAlertPending | kStatusRhAlert | kStatusTAlert | kStatusResetDetected));
      break;
    case kCmdSoftReset:
      // §4.9: reloads calibration; busy for t_SR, NACKing meanwhile.
      ++resets_;
      power_on_reset();
      busy_left_ = reset_polls_;
      return hal::Err::Ok;
    case kCmdHeaterEnable:
      status_ |= kStatusHeaterOn;
      break;
    case kCmdHeaterDisable:
      status_ &= static_cast<uint16_t>(~kStatusHeaterOn);
      break;
    default:
      // §4.11 table 18 bit 1: "last command not processed" (invalid command).
      status_ |= kStatusCommandFailed;
      return hal::Err::Nack;
  }
  status_ &= static_cast<uint16_t>(~kStatusCommandFailed);
  return hal::Err::Ok;
}

hal::Err Sht3xModel::read(uint8_t* rx, size_t rx_len) {
  uint8_t out[kMeasurementLen] = {};
  size_t n = 0;
  switch (pending_) {
    case Pending::Measurement:
      put_word(out, latched_t_, bad_crc_[static_cast<size_t>(Word::Temperature)]);
      put_word(out + 3, latched_rh_, bad_crc_[static_cast<size_t>(Word::Humidity)]);
      n = kMeasurementLen;
      break;
    case Pending::Status:
      put_word(out, static_cast<uint16_t>(status_ | status_extra_), bad_crc_[static_cast<size_t>(Word::Status)]);
      n = kStatusLen;
      break;
    default:
      return hal::Err::Nack;  // §4.6: no data, the read header is not acknowledged
  }
  for (size_t i = 0; i < rx_len; ++i) rx[i] = i < n ? out[i] : 0xFF;
  pending_ = Pending::None;  // read once (§4.6: "the data memory is cleared")
  return hal::Err::Ok;
}

hal::Err Sht3xModel::on_transfer(const uint8_t* tx, size_t tx_len, uint8_t* rx, size_t rx_len) {
  ++transfers_;
  const bool has_command = tx_len == 2;
  const uint16_t command = has_command ? static_cast<uint16_t>((tx[0] << 8) | tx[1]) : 0;
  // A busy chip does not acknowledge its address (§4.4), whatever follows.
  if (busy_left_ > 0) {
    if (busy_left_ != kForever) --busy_left_;
    return hal::Err::Nack;
  }
  // Then the injected faults, with the model unchanged (as a transfer that
  // never reached the chip).
  if (has_command) {
    if (hal::Err e = take_fault(command, Phase::Command); e != hal::Err::Ok) return e;
  } else if (tx_len == 0 && pending_ != Pending::None) {
    if (hal::Err e = take_fault(pending_command_, Phase::Read); e != hal::Err::Ok) return e;
  }
  if (tx_len > 0) {
    if (!has_command) {
      status_ |= kStatusCommandFailed;
      return hal::Err::Nack;
    }
    if (hal::Err e = execute(command); e != hal::Err::Ok) return e;
    if (rx_len == 0) return hal::Err::Ok;
    // Combined transaction: the read header follows at once.
    if (hal::Err e = take_fault(pending_command_, Phase::Read); e != hal::Err::Ok) return e;
    if (busy_left_ > 0) {
      if (busy_left_ != kForever) --busy_left_;
      return hal::Err::Nack;
    }
  }
  return read(rx, rx_len);
}

}  // namespace sim
}  // namespace drv

// ADS1115 register model. Section numbers refer to the ADS111x datasheet
// (TI SBAS444D).
#include "ads1115/ads1115_model.hpp"

#include <cmath>

namespace drv {
namespace sim {

namespace {

using namespace drv::ads1115;

/// §9.6.3 table "MUX": AINp and AINn per MUX code; -1 is GND.
struct MuxPair {
  int8_t p;
  int8_t n;
};
constexpr MuxPair kMux[8] = {{0, 1}, {0, 3}, {1, 3}, {2, 3}, {0, -1}, {1, -1}, {2, -1}, {3, -1}};

}  // namespace

Ads1115Model::Ads1115Model() { power_on_reset(); }

void Ads1115Model::power_on_reset() {
  regs_[kRegConversion] = 0x0000;
  regs_[kRegConfig] = kConfigReset;
  regs_[kRegLoThresh] = kLoThreshReset;
  regs_[kRegHiThresh] = kHiThreshReset;
  pointer_ = kRegConversion;
  busy_left_ = 0;
}

int16_t Ads1115Model::ideal_code(double vin, double fsr_v) {
  // §9.5.4: +FS/2^15 -> 0x0001, >= +FS (2^15 - 1)/2^15 -> 0x7FFF,
  // <= -FS -> 0x8000; the output clips at these codes.
  const double code = std::nearbyint(vin * 32768.0 / fsr_v);
  if (code >= 32767.0) return 32767;
  if (code <= -32768.0) return -32768;
  return static_cast<int16_t>(code);
}

int16_t Ads1115Model::convert_now() const {
  const uint16_t config = regs_[kRegConfig];
  const MuxPair m = kMux[(config & kMuxMask) >> kMuxShift];
  const double vin = inputs_v_[m.p] - (m.n < 0 ? 0.0 : inputs_v_[m.n]);
  const uint8_t pga = static_cast<uint8_t>((config & kPgaMask) >> kPgaShift);
  return ideal_code(vin, fsr_mv(pga) / 1000.0);
}

void Ads1115Model::set_input_v(size_t i, double volts) {
  if (i < kInputCount) inputs_v_[i] = volts;
}

hal::Err Ads1115Model::fail_register(uint8_t reg, hal::Err err, Access access) {
  if (fault_count_ == kMaxFaults) return hal::Err::NoSpace;
  faults_[fault_count_++] = Fault{static_cast<uint8_t>(reg & kPointerMask), err, access};
  return hal::Err::Ok;
}

void Ads1115Model::clear_faults() { fault_count_ = 0; }

hal::Err Ads1115Model::fault_for(uint8_t reg, Access access) const {
  for (size_t i = 0; i < fault_count_; ++i) {
    const Fault& f = faults_[i];
    if ((static_cast<uint8_t>(f.access) & static_cast<uint8_t>(access)) == 0) continue;
    if (f.reg == reg) return f.err;
  }
  return hal::Err::Ok;
}

void Ads1115Model::write_register(uint8_t reg, uint16_t value) {
  switch (reg) {
    case kRegConfig: {
      // §9.6.3: OS is a command on write (1 = start a single conversion when
      // powered down, 0 = no effect); the stored OS bit is the status.
      const bool start = (value & kOs) != 0 && busy_left_ == 0 && (value & kModeSingleShot) != 0;
      regs_[kRegConfig] = static_cast<uint16_t>(value | kOs);
      if (start) {
        // §9.4.2: the input is sampled during the conversion; the result
        // lands in the conversion register when it ends.
        pending_code_ = convert_now();
        busy_left_ = busy_polls_;
        if (busy_left_ == 0) {
          regs_[kRegConversion] = static_cast<uint16_t>(pending_code_);
          ++conversions_;
        }
      }
      return;
    }
    case kRegLoThresh:
    case kRegHiThresh:
      regs_[reg] = value;
      return;
    default:
      ++ignored_writes_;  // the conversion register is read-only (§9.6.2)
      return;
  }
}

uint16_t Ads1115Model::read_register(uint8_t reg) {
  if (reg == kRegConfig && busy_left_ > 0) {
    const uint16_t value = static_cast<uint16_t>(regs_[kRegConfig] & ~kOs);
    if (busy_left_ != kForever && --busy_left_ == 0) {
      regs_[kRegConversion] = static_cast<uint16_t>(pending_code_);
      ++conversions_;
    }
    return value;
  }
  if (reg == kRegConversion && (regs_[kRegConfig] & kModeSingleShot) == 0) {
    // §9.4.1: in continuous mode the register holds the latest conversion.
    regs_[kRegConversion] = static_cast<uint16_t>(convert_now());
    ++conversions_;
  }
  return regs_[reg];
}

hal::Err Ads1115Model::on_transfer(const uint8_t* tx, size_t tx_len, uint8_t* rx, size_t rx_len) {
  ++transfers_;
  if (foreign_) {
    for (size_t i = 0; i < rx_len; ++i) {
      rx[i] = static_cast<uint8_t>(i % 2 == 0 ? foreign_value_ >> 8 : foreign_value_ & 0xFF);
    }
    return hal::Err::Ok;
  }
  // Check every register the transaction touches before changing anything, so
  // an injected fault leaves the model unchanged (like a NACKed transfer).
  const uint8_t target = tx_len > 0 ? static_cast<uint8_t>(tx[0] & kPointerMask) : pointer_;
  const bool writes = tx_len >= 3 || (tx_len > 0 && rx_len == 0);
  if (writes) {
    if (hal::Err e = fault_for(target, Access::Write); e != hal::Err::Ok) return e;
  }
  if (rx_len > 0) {
    if (hal::Err e = fault_for(target, Access::Read); e != hal::Err::Ok) return e;
  }

  // §9.5.3, §9.6.1: the first byte written is the pointer (bits 7:2 are
  // reserved); two more bytes write the register, MSB first.
  if (tx_len > 0) pointer_ = target;
  if (tx_len >= 3) {
    write_register(pointer_, static_cast<uint16_t>((tx[1] << 8) | tx[2]));
  } else if (tx_len == 2) {
    ++ignored_writes_;  // half a register: the chip does not latch it
  }
  if (rx_len > 0) {
    const uint16_t value = read_register(pointer_);
    for (size_t i = 0; i < rx_len; ++i) {
      rx[i] = static_cast<uint8_t>(i % 2 == 0 ? value >> 8 : value & 0xFF);
    }
  }
  return hal::Err::Ok;
}

}  // namespace sim
}  // namespace drv

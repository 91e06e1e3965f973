// BH1750FVI instruction model. Section names refer to the BH1750FVI datasheet.
#include "bh1750/bh1750_model.hpp"

#include <cmath>

namespace drv {
namespace sim {

using namespace drv::bh1750;

uint16_t Bh1750Model::count_for(Mode mode, uint8_t mtreg) const {
  // Inverse of the datasheet's lx = count / 1.2 x 69 / MTreg (mode2: / 2).
  const double count = lux_ * 1.2 * mtreg / kMtregDefault * (mode == Mode::High2 ? 2.0 : 1.0);
  if (!(count < 65535.0)) return 0xFFFF;  // saturates (also NaN)
  return static_cast<uint16_t>(std::lround(count));
}

hal::Err Bh1750Model::fail_instruction(uint8_t opcode, hal::Err err, uint8_t mask) {
  if (fault_count_ == kMaxFaults) return hal::Err::NoSpace;
  faults_[fault_count_++] = Fault{static_cast<uint8_t>(opcode & mask), mask, err};
  return hal::Err::Ok;
}

void Bh1750Model::fail_reads(hal::Err err, uint32_t after) {
  read_fault_ = err;
  reads_before_fault_ = after;
}

void Bh1750Model::clear_faults() {
  fault_count_ = 0;
  read_fault_ = hal::Err::Ok;
}

hal::MonoTime Bh1750Model::now() const { return clock_ != nullptr ? clock_->peek_mono() : hal::MonoTime{}; }

uint32_t Bh1750Model::measurement_us(Mode mode) const {
  if (measurement_us_override_ != 0) return measurement_us_override_;
  // Electrical characteristics: tHR typ. 120 ms, tLR typ. 16 ms at MTreg 69;
  // the time is proportional to MTreg (Adjust measurement result ...).
  const uint32_t typ = mode == Mode::Low ? kLowTypUs : kHighTypUs;
  return static_cast<uint32_t>(static_cast<uint64_t>(typ) * mtreg_ / kMtregDefault);
}

void Bh1750Model::start(Mode mode, bool continuous) {
  powered_ = true;
  pending_ = true;
  continuous_ = continuous;
  pending_mode_ = mode;
  pending_count_ = count_for(mode, mtreg_);
  pending_done_ = clock_ != nullptr ? now().plus_us(measurement_us(mode)) : hal::MonoTime{};
  settle();
}

void Bh1750Model::settle() {
  // Without a clock every measurement is already over; with one, the ones
  // whose time passed land in the data register.
  while (pending_ && (clock_ == nullptr || now() >= pending_done_)) {
    data_ = pending_count_;
    ++measurements_;
    if (continuous_ && clock_ != nullptr) {
      // Continuous modes start the next measurement at once.
      pending_count_ = count_for(pending_mode_, mtreg_);
      pending_done_ = pending_done_.plus_us(measurement_us(pending_mode_));
    } else {
      pending_ = false;
      // One-time modes: "automatically set to Power Down mode after measurement".
      if (!continuous_) powered_ = false;
    }
  }
}

void Bh1750Model::execute(uint8_t opcode) {
  last_instruction_ = opcode;
  if ((opcode & 0xF8) == kMtregHigh) {
    mtreg_ = static_cast<uint8_t>((mtreg_ & 0x1F) | ((opcode & 0x07) << 5));
    return;
  }
  if ((opcode & 0xE0) == kMtregLow) {
    mtreg_ = static_cast<uint8_t>((mtreg_ & 0xE0) | (opcode & 0x1F));
    return;
  }
  switch (opcode) {
    case kPowerDown:
      powered_ = false;
      pending_ = false;  // a measurement in progress is abandoned
      return;
    case kPowerOn:
      powered_ = true;
      return;
    case kReset:
      // "Reset command is for only reset Data register value ... not
      // acceptable in Power Down mode."
      if (powered_ && !ignore_reset_) {
        data_ = 0;
        ++resets_;
      }
      return;
    case kContinuousHigh: start(Mode::High, true); return;
    case kContinuousHigh2: start(Mode::High2, true); return;
    case kContinuousLow: start(Mode::Low, true); return;
    case kOneTimeHigh: start(Mode::High, false); return;
    case kOneTimeHigh2: start(Mode::High2, false); return;
    case kOneTimeLow: start(Mode::Low, false); return;
    default:
      ++ignored_;
      return;
  }
}

hal::Err Bh1750Model::on_transfer(const uint8_t* tx, size_t tx_len, uint8_t* rx, size_t rx_len) {
  ++transfers_;
  // Check the whole transfer before changing anything, so an injected fault
  // leaves the model unchanged (like a NACKed transfer).
  for (size_t i = 0; i < tx_len; ++i) {
    for (size_t f = 0; f < fault_count_; ++f) {
      if ((tx[i] & faults_[f].mask) == faults_[f].opcode) return faults_[f].err;
    }
  }
  if (rx_len > 0 && read_fault_ != hal::Err::Ok) {
    if (reads_before_fault_ == 0) return read_fault_;
    --reads_before_fault_;
  }

  settle();
  for (size_t i = 0; i < tx_len; ++i) execute(tx[i]);
  if (rx_len > 0) {
    ++reads_;
    settle();
    for (size_t i = 0; i < rx_len; ++i) {
      rx[i] = i == 0 ? static_cast<uint8_t>(data_ >> 8) : i == 1 ? static_cast<uint8_t>(data_ & 0xFF) : 0xFF;
    }
  }
  return hal::Err::Ok;
}

}  // namespace sim
}  // namespace drv

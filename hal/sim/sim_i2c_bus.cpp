#include "hal/sim/sim_i2c_bus.hpp"

namespace hal {
namespace sim {

Err SimI2cBus::attach(uint16_t address, I2cTarget* target) {
  if (address > 0x7f || target == nullptr) return Err::InvalidArgument;
  for (size_t i = 0; i < count_; ++i) {
    if (slots_[i].address == address) return Err::Busy;
  }
  if (count_ == kMaxTargets) return Err::NoSpace;
  slots_[count_++] = Slot{address, target};
  return Err::Ok;
}

Err SimI2cBus::detach(uint16_t address) {
  for (size_t i = 0; i < count_; ++i) {
    if (slots_[i].address != address) continue;
    slots_[i] = slots_[count_ - 1];
    slots_[count_ - 1] = Slot{};
    --count_;
    return Err::Ok;
  }
  return Err::NotFound;
}

void SimI2cBus::fail_next(Err err, uint32_t count) {
  inject_err_ = err;
  inject_count_ = err == Err::Ok ? 0 : count;
}

Err SimI2cBus::transfer(uint16_t address, const uint8_t* tx, size_t tx_len, uint8_t* rx,
                        size_t rx_len, uint32_t timeout_ms) {
  ++transfers_;
  last_timeout_ms_ = timeout_ms;
  if (address > 0x7f || (tx_len == 0 && rx_len == 0) || timeout_ms == 0 ||
      (tx_len > 0 && tx == nullptr) || (rx_len > 0 && rx == nullptr)) {
    return Err::InvalidArgument;
  }
  if (inject_count_ > 0) {
    --inject_count_;
    return inject_err_;
  }
  for (size_t i = 0; i < count_; ++i) {
    if (slots_[i].address == address) return slots_[i].target->on_transfer(tx, tx_len, rx, rx_len);
  }
  // Nobody pulled SDA low on the address byte.
  return Err::Nack;
}

}  // namespace sim
}  // namespace hal

// A simulated I2C bus: routes transactions by address to attached chip models.
#pragma once

#include <cstddef>
#include <cstdint>

#include "hal/i2c.hpp"
#include "hal/sim/i2c_target.hpp"

namespace hal {
namespace sim {

/// Implements hal::I2cBus over I2cTarget models. No allocation.
///
/// Strictness beyond real hardware, to catch driver bugs early: a transfer
/// with `timeout_ms == 0` is rejected with InvalidArgument (every transfer
/// must carry a timeout).
class SimI2cBus final : public I2cBus {
 public:
  static constexpr size_t kMaxTargets = 16;

  /// Puts `target` on the bus at 7-bit `address`. The target must outlive the
  /// bus or be detached first. Errors: InvalidArgument (address > 0x7f or null
  /// target), Busy (address taken), NoSpace (kMaxTargets reached).
  Err attach(uint16_t address, I2cTarget* target);
  /// Removes whatever is at `address` (a later transfer there gets Nack).
  /// Errors: NotFound.
  Err detach(uint16_t address);

  /// The next `count` transfers (to any address) fail with `err` before they
  /// reach a target. `count` 0 clears a pending injection.
  void fail_next(Err err, uint32_t count = 1);

  /// See hal::I2cBus. An address with no target answers Nack.
  Err transfer(uint16_t address, const uint8_t* tx, size_t tx_len, uint8_t* rx, size_t rx_len,
               uint32_t timeout_ms) override;

  /// Transfers attempted so far (including failed ones).
  uint32_t transfer_count() const { return transfers_; }
  /// Timeout of the most recent transfer, for asserting drivers pass one.
  uint32_t last_timeout_ms() const { return last_timeout_ms_; }

 private:
  struct Slot {
    uint16_t address = 0;
    I2cTarget* target = nullptr;
  };
  Slot slots_[kMaxTargets];
  size_t count_ = 0;
  Err inject_err_ = Err::Ok;
  uint32_t inject_count_ = 0;
  uint32_t transfers_ = 0;
  uint32_t last_timeout_ms_ = 0;
};

}  // namespace sim
}  // namespace hal

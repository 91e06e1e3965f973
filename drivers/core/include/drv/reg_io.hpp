// Register access for I2C chips: the seam between chip logic and the bus
// (Zephyr's bme280_bus_io, Linux regmap). Chip drivers speak registers; this
// turns them into hal::I2cBus transactions, each with a timeout.
#pragma once

#include <cstddef>
#include <cstdint>

#include "hal/i2c.hpp"
#include "hal/status.hpp"

namespace drv {

/// One chip at one address on one bus. Copyable, no allocation; the bus must
/// outlive every RegIo that points at it.
class RegIo {
 public:
  /// Per-transfer timeout used when none is given: ample for a 32-byte burst
  /// at 100 kHz (~3 ms) plus clock stretching.
  static constexpr uint32_t kDefaultTimeoutMs = 25;

  RegIo() = default;
  RegIo(hal::I2cBus& bus, uint16_t address, uint32_t timeout_ms = kDefaultTimeoutMs)
      : bus_(&bus), address_(address), timeout_ms_(timeout_ms == 0 ? kDefaultTimeoutMs : timeout_ms) {}

  /// Reads `n` (>= 1) consecutive registers starting at `reg` in one combined
  /// transaction (write the register address, repeated start, read; the chip
  /// auto-increments). Errors: Nack, Timeout, Io (from the bus),
  /// InvalidArgument (n == 0, null buf), NotReady (no bus bound).
  hal::Err read_regs(uint8_t reg, uint8_t* buf, size_t n) const;
  /// Reads one register. Errors: as read_regs().
  hal::Result<uint8_t> read_reg(uint8_t reg) const;
  /// Writes one register (address byte, value byte). Errors: Nack, Timeout,
  /// Io, NotReady (no bus bound).
  hal::Err write_reg(uint8_t reg, uint8_t value) const;

  uint16_t address() const { return address_; }
  uint32_t timeout_ms() const { return timeout_ms_; }
  bool bound() const { return bus_ != nullptr; }

 private:
  hal::I2cBus* bus_ = nullptr;
  uint16_t address_ = 0;
  uint32_t timeout_ms_ = kDefaultTimeoutMs;
};

}  // namespace drv

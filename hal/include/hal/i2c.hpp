// I2C bus master. Drivers reach registers through drv::RegIo on top of this.
#pragma once

#include <cstddef>
#include <cstdint>

#include "hal/status.hpp"

namespace hal {

class I2cBus {
 public:
  virtual ~I2cBus() = default;
  /// One combined transaction to the 7-bit `address`: writes `tx_len` bytes of
  /// `tx` (may be 0), then, after a repeated start, reads `rx_len` bytes into
  /// `rx` (may be 0). Completes or fails within `timeout_ms`.
  /// Errors: Nack (no device answered or a byte was not acknowledged),
  /// Timeout, Io, InvalidArgument (address > 0x7f, both lengths 0).
  virtual Err transfer(uint16_t address, const uint8_t* tx, size_t tx_len, uint8_t* rx,
                       size_t rx_len, uint32_t timeout_ms) = 0;
};

}  // namespace hal

// What a simulated I2C chip implements: the register-level model of one part.
#pragma once

#include <cstddef>
#include <cstdint>

#include "hal/status.hpp"

namespace hal {
namespace sim {

/// One chip on a SimI2cBus. The bus hands every combined transaction that is
/// addressed to the chip to on_transfer().
class I2cTarget {
 public:
  virtual ~I2cTarget() = default;
  /// One combined transaction: the master wrote `tx_len` bytes of `tx` (may be
  /// 0), then, after a repeated start, reads `rx_len` bytes, which the target
  /// fills into `rx` (may be 0). A target that returns an error leaves `rx`
  /// unspecified; the bus passes the error to the master unchanged (Nack, Io,
  /// Timeout are the realistic ones).
  virtual Err on_transfer(const uint8_t* tx, size_t tx_len, uint8_t* rx, size_t rx_len) = 0;
};

}  // namespace sim
}  // namespace hal

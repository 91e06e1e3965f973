// hal::I2cBus on a Linux i2c-dev node (/dev/i2c-N).
#pragma once

#include <cstddef>
#include <cstdint>

#include "hal/i2c.hpp"

namespace hal {
namespace linux_ {

/// One combined transfer = one I2C_RDWR ioctl (write message, repeated start,
/// read message). The kernel adapter timeout is set per transfer (I2C_TIMEOUT,
/// 10 ms units, rounded up) when it changes.
class I2cDevBus final : public I2cBus {
 public:
  static constexpr size_t kMaxPathLen = 63;

  /// Copies `device_path`; nothing is opened yet.
  explicit I2cDevBus(const char* device_path);
  ~I2cDevBus() override;
  I2cDevBus(const I2cDevBus&) = delete;
  I2cDevBus& operator=(const I2cDevBus&) = delete;

  /// Opens the node. Errors: NotFound (no such node), Io (permission, not an
  /// I2C adapter), InvalidArgument (path too long).
  Err open();
  /// See hal::I2cBus. Errors additionally: NotReady (open() not done).
  /// ENXIO/EREMOTEIO map to Nack, ETIMEDOUT to Timeout, the rest to Io.
  Err transfer(uint16_t address, const uint8_t* tx, size_t tx_len, uint8_t* rx, size_t rx_len,
               uint32_t timeout_ms) override;

 private:
  char path_[kMaxPathLen + 1] = {};
  int fd_ = -1;
  uint32_t timeout_set_ms_ = 0;
};

}  // namespace linux_
}  // namespace hal

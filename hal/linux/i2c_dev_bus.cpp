#include "hal/linux/i2c_dev_bus.hpp"

#include <errno.h>
#include <fcntl.h>
#include <linux/i2c-dev.h>
#include <linux/i2c.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cstring>

namespace hal {
namespace linux_ {

I2cDevBus::I2cDevBus(const char* device_path) {
  if (device_path == nullptr) return;
  const size_t n = std::strlen(device_path);
  if (n > kMaxPathLen) return;
  std::memcpy(path_, device_path, n + 1);
}

I2cDevBus::~I2cDevBus() {
  if (fd_ >= 0) ::close(fd_);
}

Err I2cDevBus::open() {
  if (path_[0] == '\0') return Err::InvalidArgument;
  if (fd_ >= 0) return Err::Ok;
  const int fd = ::open(path_, O_RDWR | O_CLOEXEC);
  if (fd < 0) return errno == ENOENT ? Err::NotFound : Err::Io;
  unsigned long funcs = 0;
  if (::ioctl(fd, I2C_FUNCS, &funcs) != 0 || (funcs & I2C_FUNC_I2C) == 0) {
    ::close(fd);
    return Err::Io;  // not an adapter that can do combined (RDWR) transfers
  }
  fd_ = fd;
  return Err::Ok;
}

Err I2cDevBus::transfer(uint16_t address, const uint8_t* tx, size_t tx_len, uint8_t* rx,
                        size_t rx_len, uint32_t timeout_ms) {
  if (address > 0x7f || (tx_len == 0 && rx_len == 0) || timeout_ms == 0 ||
      tx_len > UINT16_MAX || rx_len > UINT16_MAX) {
    return Err::InvalidArgument;
  }
  if (fd_ < 0) return Err::NotReady;
  if (timeout_ms != timeout_set_ms_) {
    // I2C_TIMEOUT is in units of 10 ms (jiffies on old kernels).
    const unsigned long tens = (timeout_ms + 9) / 10;
    if (::ioctl(fd_, I2C_TIMEOUT, tens) != 0) return Err::Io;
    timeout_set_ms_ = timeout_ms;
  }
  struct i2c_msg msgs[2];
  uint32_t n = 0;
  if (tx_len > 0) {
    msgs[n].addr = address;
    msgs[n].flags = 0;
    msgs[n].len = static_cast<uint16_t>(tx_len);
    msgs[n].buf = const_cast<uint8_t*>(tx);  // the kernel only reads write messages
    ++n;
  }
  if (rx_len > 0) {
    msgs[n].addr = address;
    msgs[n].flags = I2C_M_RD;
    msgs[n].len = static_cast<uint16_t>(rx_len);
    msgs[n].buf = rx;
    ++n;
  }
  struct i2c_rdwr_ioctl_data data {};
  data.msgs = msgs;
  data.nmsgs = n;
  for (;;) {
    if (::ioctl(fd_, I2C_RDWR, &data) >= 0) return Err::Ok;
    if (errno == EINTR) continue;
    break;
  }
  switch (errno) {
    case ENXIO:
    case EREMOTEIO: return Err::Nack;
    case ETIMEDOUT: return Err::Timeout;
    default: return Err::Io;
  }
}

}  // namespace linux_
}  // namespace hal

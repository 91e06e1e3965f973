#include "hal/linux/i2c_dev_bus.hpp"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/i2c-dev.h>
#include <linux/i2c.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "posix_io.hpp"

namespace hal {
namespace linux_ {

namespace {

class PosixI2cDevSys final : public I2cDevSys {
 public:
  int open(const char* path) override {
    const int fd = ::open(path, O_RDWR | O_CLOEXEC);
    return fd >= 0 ? fd : -errno;
  }
  void close(int fd) override { ::close(fd); }
  long ioctl(int fd, unsigned long request, unsigned long arg) override {
    const int rc = ::ioctl(fd, request, arg);
    return rc >= 0 ? rc : -errno;
  }
};

Err from_errno(long e) {
  switch (e) {
    case ENXIO:
    case EREMOTEIO:
    case ENODEV: return Err::Nack;  // i2c-stub answers an address it has no chip at with ENODEV
    case ETIMEDOUT: return Err::Timeout;
    case EBUSY: return Err::Busy;
    case EOPNOTSUPP: return Err::NotSupported;
    default: return Err::Io;
  }
}

// What an SMBus-only adapter must at least do to be of use to a register-based driver.
constexpr unsigned long kSmbusUseful = I2C_FUNC_SMBUS_BYTE_DATA | I2C_FUNC_SMBUS_WORD_DATA |
                                       I2C_FUNC_SMBUS_I2C_BLOCK | I2C_FUNC_SMBUS_BYTE;

}  // namespace

I2cDevSys& posix_i2c_dev_sys() {
  static PosixI2cDevSys sys;
  return sys;
}

I2cDevBus::I2cDevBus(const char* device_path, I2cDevSys* sys)
    : sys_(sys != nullptr ? sys : &posix_i2c_dev_sys()) {
  if (device_path == nullptr) return;
  const size_t n = std::strlen(device_path);
  if (n > kMaxPathLen) return;
  std::memcpy(path_, device_path, n + 1);
}

I2cDevBus::~I2cDevBus() {
  if (fd_ >= 0) sys_->close(fd_);
}

long I2cDevBus::call(unsigned long request, unsigned long arg) {
  for (;;) {
    const long rc = sys_->ioctl(fd_, request, arg);
    if (rc != -EINTR) return rc;
  }
}

Err I2cDevBus::open() {
  if (path_[0] == '\0') return Err::InvalidArgument;
  if (fd_ >= 0) return Err::Ok;
  const int fd = sys_->open(path_);
  if (fd < 0) return -fd == ENOENT ? Err::NotFound : Err::Io;
  unsigned long funcs = 0;
  if (sys_->ioctl(fd, I2C_FUNCS, reinterpret_cast<unsigned long>(&funcs)) < 0) {
    sys_->close(fd);
    return Err::Io;  // not an i2c-dev node
  }
  if ((funcs & I2C_FUNC_I2C) == 0 && (funcs & kSmbusUseful) == 0) {
    sys_->close(fd);
    return Err::NotSupported;
  }
  fd_ = fd;
  funcs_ = funcs;
  plain_i2c_ = (funcs & I2C_FUNC_I2C) != 0;
  slave_ = -1;
  timeout_set_ms_ = 0;
  return Err::Ok;
}

Err I2cDevBus::transfer(uint16_t address, const uint8_t* tx, size_t tx_len, uint8_t* rx,
                        size_t rx_len, uint32_t timeout_ms) {
  if (address > 0x7f || (tx_len == 0 && rx_len == 0) || timeout_ms == 0 ||
      tx_len > UINT16_MAX || rx_len > UINT16_MAX || (tx_len > 0 && tx == nullptr) ||
      (rx_len > 0 && rx == nullptr)) {
    return Err::InvalidArgument;
  }
  if (fd_ < 0) return Err::NotReady;
  if (timeout_ms != timeout_set_ms_) {
    // I2C_TIMEOUT is in units of 10 ms (jiffies on old kernels).
    const unsigned long tens = (timeout_ms + 9) / 10;
    if (call(I2C_TIMEOUT, tens) < 0) return Err::Io;
    timeout_set_ms_ = timeout_ms;
  }
  return plain_i2c_ ? rdwr(address, tx, tx_len, rx, rx_len) : smbus(address, tx, tx_len, rx, rx_len);
}

Err I2cDevBus::rdwr(uint16_t address, const uint8_t* tx, size_t tx_len, uint8_t* rx, size_t rx_len) {
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
  const long rc = call(I2C_RDWR, reinterpret_cast<unsigned long>(&data));
  return rc >= 0 ? Err::Ok : from_errno(-rc);
}

Err I2cDevBus::unsupported(const char* why, size_t tx_len, size_t rx_len) {
  std::snprintf(unsupported_, sizeof unsupported_, "%s is SMBus-only: cannot %s (write %zu, read %zu bytes)", path_,
                why, tx_len, rx_len);
  return Err::NotSupported;
}

Err I2cDevBus::need(unsigned long func, const char* command, size_t tx_len, size_t rx_len) {
  if ((funcs_ & func) == func) return Err::Ok;
  char why[64];
  std::snprintf(why, sizeof why, "use SMBus %s, which the adapter lacks", command);
  return unsupported(why, tx_len, rx_len);
}

Err I2cDevBus::smbus_call(uint8_t read_write, uint8_t command, uint32_t size, void* data) {
  struct i2c_smbus_ioctl_data args {};
  args.read_write = read_write;
  args.command = command;
  args.size = size;
  args.data = static_cast<union i2c_smbus_data*>(data);
  const long rc = call(I2C_SMBUS, reinterpret_cast<unsigned long>(&args));
  return rc >= 0 ? Err::Ok : from_errno(-rc);
}

// The shapes of the table in i2c_dev_bus.hpp (SMBus 3.1 §6.5: send/receive
// byte, write/read byte and word; the "I2C block" commands are Linux's
// register-addressed bursts with a 32-byte limit).
Err I2cDevBus::smbus(uint16_t address, const uint8_t* tx, size_t tx_len, uint8_t* rx, size_t rx_len) {
  unsupported_[0] = '\0';
  // Check the shape before touching the adapter.
  const char* missing = nullptr;
  unsigned long func = 0;
  if (tx_len == 0) {
    if (rx_len != 1) return unsupported("read more than one byte without a register address", tx_len, rx_len);
    func = I2C_FUNC_SMBUS_READ_BYTE, missing = "receive byte";
  } else if (rx_len > 0) {
    if (tx_len != 1) return unsupported("read after a command of more than one byte", tx_len, rx_len);
    if (rx_len == 2) {
      func = I2C_FUNC_SMBUS_READ_WORD_DATA, missing = "read word data";
    } else if (rx_len == 1 && (funcs_ & I2C_FUNC_SMBUS_READ_BYTE_DATA) != 0) {
      func = I2C_FUNC_SMBUS_READ_BYTE_DATA, missing = "read byte data";
    } else {
      func = I2C_FUNC_SMBUS_READ_I2C_BLOCK, missing = "read i2c block";
    }
  } else if (tx_len == 1) {
    func = I2C_FUNC_SMBUS_WRITE_BYTE, missing = "send byte";
  } else if (tx_len == 2) {
    func = I2C_FUNC_SMBUS_WRITE_BYTE_DATA, missing = "write byte data";
  } else if (tx_len == 3) {
    func = I2C_FUNC_SMBUS_WRITE_WORD_DATA, missing = "write word data";
  } else {
    func = I2C_FUNC_SMBUS_WRITE_I2C_BLOCK, missing = "write i2c block";
  }
  if (Err e = need(func, missing, tx_len, rx_len); e != Err::Ok) return e;
  if (slave_ != address) {
    const long rc = call(I2C_SLAVE, address);
    if (rc < 0) return from_errno(-rc);
    slave_ = address;
  }

  union i2c_smbus_data data {};
  switch (func) {
    case I2C_FUNC_SMBUS_READ_BYTE:
      if (Err e = smbus_call(I2C_SMBUS_READ, 0, I2C_SMBUS_BYTE, &data); e != Err::Ok) return e;
      rx[0] = data.byte;
      return Err::Ok;
    case I2C_FUNC_SMBUS_READ_WORD_DATA:
      if (Err e = smbus_call(I2C_SMBUS_READ, tx[0], I2C_SMBUS_WORD_DATA, &data); e != Err::Ok) return e;
      rx[0] = static_cast<uint8_t>(data.word & 0xff);  // SMBus sends the low byte first
      rx[1] = static_cast<uint8_t>(data.word >> 8);
      return Err::Ok;
    case I2C_FUNC_SMBUS_READ_BYTE_DATA:
      if (Err e = smbus_call(I2C_SMBUS_READ, tx[0], I2C_SMBUS_BYTE_DATA, &data); e != Err::Ok) return e;
      rx[0] = data.byte;
      return Err::Ok;
    case I2C_FUNC_SMBUS_READ_I2C_BLOCK:
      for (size_t done = 0; done < rx_len; done += kSmbusBlockMax) {
        const size_t n = rx_len - done < kSmbusBlockMax ? rx_len - done : kSmbusBlockMax;
        std::memset(&data, 0, sizeof data);
        data.block[0] = static_cast<uint8_t>(n);
        const uint8_t reg = static_cast<uint8_t>(tx[0] + done);
        if (Err e = smbus_call(I2C_SMBUS_READ, reg, I2C_SMBUS_I2C_BLOCK_DATA, &data); e != Err::Ok) return e;
        if (data.block[0] < n) return Err::Io;  // a short read
        std::memcpy(rx + done, &data.block[1], n);
      }
      return Err::Ok;
    case I2C_FUNC_SMBUS_WRITE_BYTE:
      return smbus_call(I2C_SMBUS_WRITE, tx[0], I2C_SMBUS_BYTE, nullptr);
    case I2C_FUNC_SMBUS_WRITE_BYTE_DATA:
      data.byte = tx[1];
      return smbus_call(I2C_SMBUS_WRITE, tx[0], I2C_SMBUS_BYTE_DATA, &data);
    case I2C_FUNC_SMBUS_WRITE_WORD_DATA:
      data.word = static_cast<uint16_t>(tx[1] | (tx[2] << 8));
      return smbus_call(I2C_SMBUS_WRITE, tx[0], I2C_SMBUS_WORD_DATA, &data);
    default:  // I2C_FUNC_SMBUS_WRITE_I2C_BLOCK
      for (size_t done = 0; done < tx_len - 1; done += kSmbusBlockMax) {
        const size_t left = tx_len - 1 - done;
        const size_t n = left < kSmbusBlockMax ? left : kSmbusBlockMax;
        data.block[0] = static_cast<uint8_t>(n);
        std::memcpy(&data.block[1], tx + 1 + done, n);
        const uint8_t reg = static_cast<uint8_t>(tx[0] + done);
        if (Err e = smbus_call(I2C_SMBUS_WRITE, reg, I2C_SMBUS_I2C_BLOCK_DATA, &data); e != Err::Ok) return e;
      }
      return Err::Ok;
  }
}

Result<uint32_t> find_i2c_adapter(const char* sys_root, const char* adapter_name) {
  if (sys_root == nullptr || adapter_name == nullptr || adapter_name[0] == '\0') return Err::InvalidArgument;
  char dir[PATH_MAX];
  if (std::snprintf(dir, sizeof dir, "%s/bus/i2c/devices", sys_root) >= static_cast<int>(sizeof dir)) {
    return Err::InvalidArgument;
  }
  DIR* d = ::opendir(dir);
  if (d == nullptr) return errno == ENOENT ? Err::NotFound : Err::Io;
  bool found = false;
  uint32_t best = 0;
  while (const dirent* e = ::readdir(d)) {
    // Adapters are i2c-N; clients (1-0050) live here too.
    if (std::strncmp(e->d_name, "i2c-", 4) != 0) continue;
    char* end = nullptr;
    const unsigned long n = std::strtoul(e->d_name + 4, &end, 10);
    if (end == e->d_name + 4 || *end != '\0' || n > UINT32_MAX) continue;
    char path[PATH_MAX];
    char name[128];
    if (std::snprintf(path, sizeof path, "%s/%s/name", dir, e->d_name) >= static_cast<int>(sizeof path)) continue;
    if (posix::read_small_file(path, name, sizeof name) < 0) continue;
    if (std::strcmp(name, adapter_name) == 0 && (!found || n < best)) {
      found = true;
      best = static_cast<uint32_t>(n);
    }
  }
  ::closedir(d);
  if (!found) return Err::NotFound;
  return best;
}

}  // namespace linux_
}  // namespace hal

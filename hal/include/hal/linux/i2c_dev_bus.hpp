// hal::I2cBus on a Linux i2c-dev node (/dev/i2c-N).
#pragma once

#include <cstddef>
#include <cstdint>

#include "hal/i2c.hpp"

namespace hal {
namespace linux_ {

/// The system calls I2cDevBus makes, behind a seam so unit tests can play the
/// kernel (a build host has no i2c-stub). posix_i2c_dev_sys() is the real one.
class I2cDevSys {
 public:
  virtual ~I2cDevSys() = default;
  /// open(2) with O_RDWR | O_CLOEXEC: a descriptor, or -errno.
  virtual int open(const char* path) = 0;
  virtual void close(int fd) = 0;
  /// ioctl(2) with `arg` as its argument (a value, or a pointer cast to
  /// unsigned long): >= 0, or -errno. EINTR is retried by the caller.
  virtual long ioctl(int fd, unsigned long request, unsigned long arg) = 0;
};

/// The real open/close/ioctl (lives as long as the program).
I2cDevSys& posix_i2c_dev_sys();

/// Transfers on an adapter that speaks plain I2C (I2C_FUNC_I2C) are one
/// I2C_RDWR ioctl: write message, repeated start, read message. On an
/// SMBus-only adapter (many SoC controllers, the kernel's i2c-stub) each
/// transfer shape a register-based driver uses maps to SMBus commands with the
/// same bytes on the wire (the address is set with I2C_SLAVE when it changes):
///
///   tx           rx       SMBus command
///   reg          1        READ BYTE DATA (or an I2C block read of 1)
///   reg          2        READ WORD DATA; rx = the word's low byte first,
///                         i.e. the bytes in wire order
///   reg          n (>2)   READ I2C BLOCK, split into <= 32-byte reads at
///                         reg, reg+32, ... (the chip must auto-increment)
///   reg, b       0        WRITE BYTE DATA
///   reg, lo, hi  0        WRITE WORD DATA (word = lo | hi << 8)
///   reg, n bytes 0        WRITE I2C BLOCK, split like reads (n > 2)
///   cmd          0        WRITE BYTE (SMBus "send byte")
///   none         1        READ BYTE ("receive byte")
///
/// Anything else (a read of more than one byte without a register address, a
/// read after a 2-byte command) is NotSupported, and so is a shape the adapter
/// lacks the functionality bit for; last_unsupported() then says why. The
/// kernel adapter timeout is set per transfer (I2C_TIMEOUT, 10 ms units,
/// rounded up) when it changes. Errno → Err: ENXIO/EREMOTEIO/ENODEV → Nack,
/// ETIMEDOUT → Timeout, EBUSY → Busy (I2C_SLAVE on an address a kernel driver
/// holds), EOPNOTSUPP → NotSupported, the rest → Io.
class I2cDevBus final : public I2cBus {
 public:
  static constexpr size_t kMaxPathLen = 63;
  /// The longest SMBus block (SMBus 2.0: 32 bytes).
  static constexpr size_t kSmbusBlockMax = 32;

  /// Copies `device_path`; nothing is opened yet. `sys` is the seam (tests);
  /// null = the real system calls. It must outlive the bus.
  explicit I2cDevBus(const char* device_path, I2cDevSys* sys = nullptr);
  ~I2cDevBus() override;
  I2cDevBus(const I2cDevBus&) = delete;
  I2cDevBus& operator=(const I2cDevBus&) = delete;

  /// Opens the node and asks the adapter what it can do (I2C_FUNCS). Errors:
  /// NotFound (no such node), Io (permission, not an I2C adapter),
  /// NotSupported (neither I2C nor SMBus byte/word/block transfers),
  /// InvalidArgument (path too long).
  Err open();
  /// See hal::I2cBus. Errors additionally: NotReady (open() not done),
  /// NotSupported (see the table above), Busy.
  Err transfer(uint16_t address, const uint8_t* tx, size_t tx_len, uint8_t* rx, size_t rx_len,
               uint32_t timeout_ms) override;

  /// True after open() when the adapter does only SMBus (no I2C_RDWR).
  bool smbus_only() const { return fd_ >= 0 && !plain_i2c_; }
  /// The adapter's I2C_FUNCS bits (0 before open()).
  unsigned long functionality() const { return funcs_; }
  /// Why the last transfer was NotSupported: one line naming the shape and
  /// the missing SMBus command; "" when none was. Lives as long as the bus.
  const char* last_unsupported() const { return unsupported_; }
  const char* path() const { return path_; }

 private:
  Err rdwr(uint16_t address, const uint8_t* tx, size_t tx_len, uint8_t* rx, size_t rx_len);
  Err smbus(uint16_t address, const uint8_t* tx, size_t tx_len, uint8_t* rx, size_t rx_len);
  Err smbus_call(uint8_t read_write, uint8_t command, uint32_t size, void* data);
  Err need(unsigned long func, const char* command, size_t tx_len, size_t rx_len);
  Err unsupported(const char* why, size_t tx_len, size_t rx_len);
  long call(unsigned long request, unsigned long arg);

  char path_[kMaxPathLen + 1] = {};
  I2cDevSys* sys_;
  int fd_ = -1;
  bool plain_i2c_ = false;
  unsigned long funcs_ = 0;
  uint32_t timeout_set_ms_ = 0;
  int slave_ = -1;  // the address I2C_SLAVE last set
  char unsupported_[256] = {};
};

/// The number N of the I2C adapter whose sysfs name
/// (`<sys_root>/bus/i2c/devices/i2c-N/name`) is `adapter_name`, the lowest N
/// when several match. `sys_root` is "/sys" on a real system (a fixture tree
/// in tests). Errors: NotFound (no adapter has that name), InvalidArgument
/// (null or empty name), Io (the directory cannot be read).
Result<uint32_t> find_i2c_adapter(const char* sys_root, const char* adapter_name);

}  // namespace linux_
}  // namespace hal

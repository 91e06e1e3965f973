// A fake kernel behind hal::linux_::I2cDevSys: one i2c-dev node whose adapter
// has the functionality bits a test gives it, with chip models (any
// hal::sim::I2cTarget) at addresses. I2C_RDWR and each SMBus command are
// turned into the combined transaction with the same bytes on the wire, so
// the real drivers and models run over the real I2cDevBus mapping. Every
// ioctl is logged for asserting shapes and chunking.
#pragma once

#include <errno.h>
#include <linux/i2c-dev.h>
#include <linux/i2c.h>

#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "hal/linux/i2c_dev_bus.hpp"
#include "hal/sim/i2c_target.hpp"

namespace xiot_test {

struct I2cOp {
  unsigned long request = 0;  ///< I2C_RDWR, I2C_SMBUS, I2C_SLAVE, I2C_TIMEOUT, I2C_FUNCS
  unsigned long value = 0;    ///< I2C_SLAVE address, I2C_TIMEOUT tens of ms
  uint8_t read_write = 0;     ///< SMBus
  uint8_t command = 0;        ///< SMBus
  uint32_t size = 0;          ///< SMBus transaction type (I2C_SMBUS_WORD_DATA, ...)
  size_t len = 0;             ///< I2C block length; RDWR: message count
};

class FakeI2cKernel final : public hal::linux_::I2cDevSys {
 public:
  static constexpr unsigned long kSmbusOnly = I2C_FUNC_SMBUS_EMUL;  // what i2c-stub offers (less PEC)

  std::string node = "/dev/i2c-0";
  unsigned long funcs = kSmbusOnly;
  std::map<uint16_t, hal::sim::I2cTarget*> chips;
  std::vector<I2cOp> ops;
  int fail_funcs = 0;     ///< errno for I2C_FUNCS
  int fail_next = 0;      ///< errno for the next I2C_RDWR/I2C_SMBUS
  int fail_slave = 0;     ///< errno for the next I2C_SLAVE
  int eintr_next = 0;     ///< this many EINTRs before the next transfer ioctl runs
  bool closed = false;

  int open(const char* path) override { return node == path ? 3 : -ENOENT; }
  void close(int) override { closed = true; }

  long ioctl(int, unsigned long request, unsigned long arg) override {
    I2cOp op;
    op.request = request;
    switch (request) {
      case I2C_FUNCS:
        if (fail_funcs != 0) return -fail_funcs;
        *reinterpret_cast<unsigned long*>(arg) = funcs;
        return 0;
      case I2C_TIMEOUT:
        op.value = arg;
        ops.push_back(op);
        return 0;
      case I2C_SLAVE:
        op.value = arg;
        ops.push_back(op);
        if (int e = take(&fail_slave)) return -e;
        slave_ = static_cast<uint16_t>(arg);
        return 0;
      case I2C_RDWR: return rdwr(reinterpret_cast<i2c_rdwr_ioctl_data*>(arg));
      case I2C_SMBUS: return smbus(reinterpret_cast<i2c_smbus_ioctl_data*>(arg));
      default: return -ENOTTY;
    }
  }

  /// The SMBus operations logged, in order.
  std::vector<I2cOp> smbus_ops() const {
    std::vector<I2cOp> out;
    for (const I2cOp& o : ops) {
      if (o.request == I2C_SMBUS) out.push_back(o);
    }
    return out;
  }
  size_t count(unsigned long request) const {
    size_t n = 0;
    for (const I2cOp& o : ops) n += o.request == request ? 1 : 0;
    return n;
  }

 private:
  static int take(int* e) {
    const int v = *e;
    *e = 0;
    return v;
  }
  static long to_errno(hal::Err e) {
    switch (e) {
      case hal::Err::Ok: return 0;
      case hal::Err::Nack: return -ENXIO;
      case hal::Err::Timeout: return -ETIMEDOUT;
      default: return -EIO;
    }
  }
  long pre() {
    if (eintr_next > 0) {
      --eintr_next;
      ops.pop_back();  // the retry logs it again
      return -EINTR;
    }
    if (int e = take(&fail_next)) return -e;
    return 0;
  }
  long wire(uint16_t addr, const uint8_t* tx, size_t tx_len, uint8_t* rx, size_t rx_len) {
    auto it = chips.find(addr);
    if (it == chips.end()) return -ENXIO;
    return to_errno(it->second->on_transfer(tx, tx_len, rx, rx_len));
  }
  long rdwr(i2c_rdwr_ioctl_data* d) {
    I2cOp op;
    op.request = I2C_RDWR;
    op.len = d->nmsgs;
    ops.push_back(op);
    if (long e = pre()) return e;
    if ((funcs & I2C_FUNC_I2C) == 0) return -EOPNOTSUPP;
    const i2c_msg* w = nullptr;
    const i2c_msg* r = nullptr;
    for (uint32_t i = 0; i < d->nmsgs; ++i) ((d->msgs[i].flags & I2C_M_RD) ? r : w) = &d->msgs[i];
    const uint16_t addr = (w ? w : r)->addr;
    return wire(addr, w ? w->buf : nullptr, w ? w->len : 0, r ? r->buf : nullptr, r ? r->len : 0);
  }
  long smbus(i2c_smbus_ioctl_data* a) {
    I2cOp op;
    op.request = I2C_SMBUS;
    op.read_write = a->read_write;
    op.command = a->command;
    op.size = a->size;
    if (a->size == I2C_SMBUS_I2C_BLOCK_DATA) op.len = a->data->block[0];
    ops.push_back(op);
    if (long e = pre()) return e;
    uint8_t tx[1 + I2C_SMBUS_BLOCK_MAX] = {a->command};
    const bool rd = a->read_write == I2C_SMBUS_READ;
    switch (a->size) {
      case I2C_SMBUS_BYTE:
        return rd ? wire(slave_, nullptr, 0, &a->data->byte, 1) : wire(slave_, tx, 1, nullptr, 0);
      case I2C_SMBUS_BYTE_DATA:
        if (rd) return wire(slave_, tx, 1, &a->data->byte, 1);
        tx[1] = a->data->byte;
        return wire(slave_, tx, 2, nullptr, 0);
      case I2C_SMBUS_WORD_DATA: {
        uint8_t b[2] = {static_cast<uint8_t>(a->data->word & 0xff), static_cast<uint8_t>(a->data->word >> 8)};
        if (rd) {
          const long rc = wire(slave_, tx, 1, b, 2);
          a->data->word = static_cast<uint16_t>(b[0] | (b[1] << 8));  // low byte first on the wire
          return rc;
        }
        tx[1] = b[0];
        tx[2] = b[1];
        return wire(slave_, tx, 3, nullptr, 0);
      }
      case I2C_SMBUS_I2C_BLOCK_DATA: {
        const size_t n = a->data->block[0];
        if (n == 0 || n > I2C_SMBUS_BLOCK_MAX) return -EINVAL;
        if (rd) return wire(slave_, tx, 1, &a->data->block[1], n);
        std::memcpy(tx + 1, &a->data->block[1], n);
        return wire(slave_, tx, 1 + n, nullptr, 0);
      }
      default: return -EOPNOTSUPP;
    }
  }
  uint16_t slave_ = 0;
};

/// A register file that records what it was asked (auto-incrementing reads
/// and writes, like most register-based chips).
class RegisterChip final : public hal::sim::I2cTarget {
 public:
  uint8_t regs[256] = {};
  hal::Err on_transfer(const uint8_t* tx, size_t tx_len, uint8_t* rx, size_t rx_len) override {
    if (tx_len > 0) {
      ptr = tx[0];
      for (size_t i = 1; i < tx_len; ++i) regs[static_cast<uint8_t>(ptr + i - 1)] = tx[i];
    }
    for (size_t i = 0; i < rx_len; ++i) rx[i] = regs[static_cast<uint8_t>(ptr + i)];
    return hal::Err::Ok;
  }
  uint8_t ptr = 0;
};

}  // namespace xiot_test

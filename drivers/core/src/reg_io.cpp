#include "drv/reg_io.hpp"

namespace drv {

hal::Err RegIo::read_regs(uint8_t reg, uint8_t* buf, size_t n) const {
  if (bus_ == nullptr) return hal::Err::NotReady;
  if (buf == nullptr || n == 0) return hal::Err::InvalidArgument;
  return bus_->transfer(address_, &reg, 1, buf, n, timeout_ms_);
}

hal::Result<uint8_t> RegIo::read_reg(uint8_t reg) const {
  uint8_t v = 0;
  if (hal::Err e = read_regs(reg, &v, 1); e != hal::Err::Ok) return e;
  return v;
}

hal::Err RegIo::write_reg(uint8_t reg, uint8_t value) const {
  if (bus_ == nullptr) return hal::Err::NotReady;
  const uint8_t tx[2] = {reg, value};
  return bus_->transfer(address_, tx, sizeof tx, nullptr, 0, timeout_ms_);
}

}  // namespace drv

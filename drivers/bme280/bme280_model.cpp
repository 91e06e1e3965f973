// BME280 register model. Section numbers refer to the BME280 datasheet.
#include "bme280/bme280_model.hpp"

#include <cmath>
#include <cstdlib>

namespace drv {
namespace sim {

namespace {

using namespace drv::bme280;

constexpr int32_t kMaxAdc20 = 0xFFFFF;
constexpr int32_t kMaxAdc16 = 0xFFFF;

void put_u16le(uint8_t* p, uint16_t v) {
  p[0] = static_cast<uint8_t>(v & 0xFF);
  p[1] = static_cast<uint8_t>(v >> 8);
}

/// Smallest x in [lo, hi] with f(x) >= target for increasing f (or <= target
/// for decreasing f); then the closer of x and x-1 (x+1 for decreasing).
/// Never returns `avoid` (the "skipped" marker): a neighbour instead.
template <typename F>
int32_t search_raw(int32_t lo, int32_t hi, int64_t target, bool increasing, int32_t avoid, F f) {
  int32_t a = lo;
  int32_t b = hi;
  while (a < b) {
    const int32_t mid = a + (b - a) / 2;
    const int64_t v = f(mid);
    const bool reached = increasing ? v >= target : v <= target;
    if (reached) {
      b = mid;
    } else {
      a = mid + 1;
    }
  }
  int32_t best = a;
  const int32_t other = a > lo ? a - 1 : a;
  if (other != a) {
    const int64_t d_best = std::llabs(f(a) - target);
    const int64_t d_other = std::llabs(f(other) - target);
    if (d_other < d_best) best = other;
  }
  if (best == avoid) best = best > lo ? best - 1 : best + 1;
  return best;
}

}  // namespace

Bme280Calibration Bme280Model::datasheet_calibration() {
  Bme280Calibration c;
  c.dig_T1 = 27504;
  c.dig_T2 = 26435;
  c.dig_T3 = -1000;
  c.dig_P1 = 36477;
  c.dig_P2 = -10685;
  c.dig_P3 = 3024;
  c.dig_P4 = 2855;
  c.dig_P5 = 140;
  c.dig_P6 = -7;
  c.dig_P7 = 15500;
  c.dig_P8 = -14600;
  c.dig_P9 = 6000;
  c.dig_H1 = 75;
  c.dig_H2 = 362;
  c.dig_H3 = 0;
  c.dig_H4 = 313;
  c.dig_H5 = 50;
  c.dig_H6 = 30;
  return c;
}

Bme280Model::Bme280Model(const Bme280Calibration& calibration)
    : calib_(calibration), chip_id_(kChipId) {
  power_on_reset();
  recompute_raw();
}

void Bme280Model::power_on_reset() {
  // §5.3 table 18: reset values. ctrl registers 0 (sleep, everything
  // skipped); data 0x80 00 00 / 0x80 00.
  for (int r = 0xF2; r <= 0xF5; ++r) regs_[r] = 0;
  const uint8_t data_reset[kDataLen] = {0x80, 0x00, 0x00, 0x80, 0x00, 0x00, 0x80, 0x00};
  for (size_t i = 0; i < kDataLen; ++i) regs_[kRegData + i] = data_reset[i];
  ctrl_hum_latched_ = 0;
  measuring_left_ = 0;
  load_nvm();
}

void Bme280Model::load_nvm() {
  regs_[kRegChipId] = chip_id_;
  uint8_t* tp = &regs_[kRegCalib00];
  uint8_t* h = &regs_[kRegCalib26];
  if (calib_erased_) {
    for (size_t i = 0; i < kCalibTpLen; ++i) tp[i] = 0;
    for (size_t i = 0; i < kCalibHLen; ++i) h[i] = 0;
    return;
  }
  // §4.2.2 table 16.
  const Bme280Calibration& c = calib_;
  put_u16le(tp + 0, c.dig_T1);
  put_u16le(tp + 2, static_cast<uint16_t>(c.dig_T2));
  put_u16le(tp + 4, static_cast<uint16_t>(c.dig_T3));
  put_u16le(tp + 6, c.dig_P1);
  put_u16le(tp + 8, static_cast<uint16_t>(c.dig_P2));
  put_u16le(tp + 10, static_cast<uint16_t>(c.dig_P3));
  put_u16le(tp + 12, static_cast<uint16_t>(c.dig_P4));
  put_u16le(tp + 14, static_cast<uint16_t>(c.dig_P5));
  put_u16le(tp + 16, static_cast<uint16_t>(c.dig_P6));
  put_u16le(tp + 18, static_cast<uint16_t>(c.dig_P7));
  put_u16le(tp + 20, static_cast<uint16_t>(c.dig_P8));
  put_u16le(tp + 22, static_cast<uint16_t>(c.dig_P9));
  tp[24] = 0;  // 0xA0: not used
  tp[25] = c.dig_H1;
  put_u16le(h + 0, static_cast<uint16_t>(c.dig_H2));
  h[2] = c.dig_H3;
  // dig_H4 = E4[7:0] E5[3:0]; dig_H5 = E6[7:0] E5[7:4] (12-bit two's complement).
  const uint16_t h4 = static_cast<uint16_t>(c.dig_H4) & 0x0FFF;
  const uint16_t h5 = static_cast<uint16_t>(c.dig_H5) & 0x0FFF;
  h[3] = static_cast<uint8_t>(h4 >> 4);
  h[4] = static_cast<uint8_t>(((h5 & 0x0F) << 4) | (h4 & 0x0F));
  h[5] = static_cast<uint8_t>(h5 >> 4);
  h[6] = static_cast<uint8_t>(c.dig_H6);
}

void Bme280Model::recompute_raw() {
  const Bme280Calibration& c = calib_;
  const int64_t fine_target = std::llround(temperature_c_ * 5120.0);
  adc_T_ = search_raw(0, kMaxAdc20, fine_target, true, kSkippedTP, [&c](int32_t adc) {
    int32_t fine = 0;
    (void)compensate_temperature(adc, c, &fine);
    return static_cast<int64_t>(fine);
  });
  int32_t t_fine = 0;
  (void)compensate_temperature(adc_T_, c, &t_fine);
  const int64_t p_target = std::llround(pressure_pa_ * 256.0);
  adc_P_ = search_raw(0, kMaxAdc20, p_target, false, kSkippedTP, [&c, t_fine](int32_t adc) {
    return static_cast<int64_t>(compensate_pressure(adc, t_fine, c));
  });
  const int64_t h_target = std::llround(humidity_pct_ * 1024.0);
  adc_H_ = search_raw(0, kMaxAdc16, h_target, true, kSkippedH, [&c, t_fine](int32_t adc) {
    return static_cast<int64_t>(compensate_humidity(adc, t_fine, c));
  });
}

void Bme280Model::set_temperature_c(double celsius) {
  temperature_c_ = celsius;
  recompute_raw();
}

void Bme280Model::set_humidity_pct(double percent) {
  humidity_pct_ = percent;
  recompute_raw();
}

void Bme280Model::set_pressure_pa(double pascal) {
  pressure_pa_ = pascal;
  recompute_raw();
}

void Bme280Model::set_raw(int32_t adc_T, int32_t adc_P, int32_t adc_H) {
  adc_T_ = adc_T & kMaxAdc20;
  adc_P_ = adc_P & kMaxAdc20;
  adc_H_ = adc_H & kMaxAdc16;
}

void Bme280Model::set_calibration(const Bme280Calibration& calibration) {
  calib_ = calibration;
  calib_erased_ = false;
  load_nvm();
  recompute_raw();
}

void Bme280Model::set_chip_id(uint8_t id) {
  chip_id_ = id;
  regs_[kRegChipId] = id;
}

hal::Err Bme280Model::fail_register(uint8_t reg, hal::Err err, Access access) {
  if (fault_count_ == kMaxFaults) return hal::Err::NoSpace;
  faults_[fault_count_++] = Fault{reg, err, access};
  return hal::Err::Ok;
}

void Bme280Model::clear_faults() { fault_count_ = 0; }

void Bme280Model::corrupt_calibration() {
  calib_erased_ = true;
  load_nvm();
}

hal::Err Bme280Model::fault_for(uint8_t first, size_t count, Access access) const {
  for (size_t i = 0; i < fault_count_; ++i) {
    const Fault& f = faults_[i];
    if ((static_cast<uint8_t>(f.access) & static_cast<uint8_t>(access)) == 0) continue;
    if (f.reg >= first && static_cast<size_t>(f.reg - first) < count) return f.err;
  }
  return hal::Err::Ok;
}

void Bme280Model::convert() {
  // §3.3, §5.4.7-9: one conversion lands in the data registers; a
  // measurement with oversampling "skipped" gives the reset value.
  ++conversions_;
  const uint8_t meas = regs_[kRegCtrlMeas];
  int32_t p = (meas >> 2) & 0x07 ? adc_P_ : kSkippedTP;
  int32_t t = (meas >> 5) & 0x07 ? adc_T_ : kSkippedTP;
  int32_t h = (ctrl_hum_latched_ & 0x07) ? adc_H_ : kSkippedH;
  if (data_fault_ == DataFault::Skipped) {
    p = kSkippedTP;
    t = kSkippedTP;
    h = kSkippedH;
  }
  uint8_t* d = &regs_[kRegData];
  d[0] = static_cast<uint8_t>(p >> 12);
  d[1] = static_cast<uint8_t>(p >> 4);
  d[2] = static_cast<uint8_t>((p & 0x0F) << 4);
  d[3] = static_cast<uint8_t>(t >> 12);
  d[4] = static_cast<uint8_t>(t >> 4);
  d[5] = static_cast<uint8_t>((t & 0x0F) << 4);
  d[6] = static_cast<uint8_t>(h >> 8);
  d[7] = static_cast<uint8_t>(h);
  if (data_fault_ == DataFault::Garbage) {
    for (size_t i = 0; i < kDataLen; ++i) d[i] = 0xFF;
  }
}

void Bme280Model::write_register(uint8_t reg, uint8_t value) {
  switch (reg) {
    case kRegReset:
      // §5.4.2: only 0xB6 resets; the NVM copy shows as status.im_update.
      if (value == kResetWord) {
        ++resets_;
        power_on_reset();
        im_update_left_ = im_update_polls_;
      }
      return;
    case kRegCtrlHum:
      regs_[kRegCtrlHum] = value & 0x07;
      return;
    case kRegCtrlMeas: {
      regs_[kRegCtrlMeas] = value;
      ctrl_hum_latched_ = regs_[kRegCtrlHum];  // §5.4.3
      const uint8_t mode = value & 0x03;
      if (mode == kModeNormal) {
        convert();
      } else if (mode == 0x01 || mode == 0x02) {
        // §3.3.3: forced mode converts once, then the chip is back in sleep.
        convert();
        measuring_left_ = measuring_polls_;
        regs_[kRegCtrlMeas] = static_cast<uint8_t>(value & ~0x03);
      }
      return;
    }
    case kRegConfig:
      // §5.4.6: writes in normal mode may be ignored; this model ignores them.
      if ((regs_[kRegCtrlMeas] & 0x03) != kModeNormal) regs_[kRegConfig] = value & 0xFD;
      return;
    default:
      return;  // read-only or reserved: ignored
  }
}

uint8_t Bme280Model::read_register(uint8_t reg) {
  if (reg == kRegStatus) {
    uint8_t s = 0;
    if (measuring_left_ > 0) {
      s |= kStatusMeasuring;
      if (measuring_left_ != kForever) --measuring_left_;
    }
    if (im_update_left_ > 0) {
      s |= kStatusImUpdate;
      if (im_update_left_ != kForever) --im_update_left_;
    }
    return s;
  }
  return regs_[reg];
}

hal::Err Bme280Model::on_transfer(const uint8_t* tx, size_t tx_len, uint8_t* rx, size_t rx_len) {
  ++transfers_;
  // Check every register the transaction touches before changing anything, so
  // an injected fault leaves the model unchanged (like a NACKed transfer).
  for (size_t i = 0; i + 1 < tx_len; i += 2) {
    if (hal::Err e = fault_for(tx[i], 1, Access::Write); e != hal::Err::Ok) return e;
  }
  const uint8_t read_from = (tx_len % 2 == 1) ? tx[tx_len - 1] : pointer_;
  if (rx_len > 0) {
    if (hal::Err e = fault_for(read_from, rx_len, Access::Read); e != hal::Err::Ok) return e;
  }

  // §6.2.1: writes are register/value pairs.
  for (size_t i = 0; i + 1 < tx_len; i += 2) write_register(tx[i], tx[i + 1]);
  if (tx_len % 2 == 1) pointer_ = tx[tx_len - 1];

  if (rx_len > 0) {
    // In normal mode the chip converts continuously: a burst of the data
    // registers sees the latest conversion.
    const size_t end = static_cast<size_t>(pointer_) + rx_len;
    if ((regs_[kRegCtrlMeas] & 0x03) == kModeNormal && end > kRegData &&
        pointer_ < kRegData + kDataLen) {
      convert();
    }
    // §6.2.2: auto-increment; past 0xFF the model reads 0x00.
    for (size_t i = 0; i < rx_len; ++i) {
      const size_t r = static_cast<size_t>(pointer_) + i;
      rx[i] = r <= 0xFF ? read_register(static_cast<uint8_t>(r)) : 0x00;
    }
    pointer_ = static_cast<uint8_t>(pointer_ + rx_len);
  }
  return hal::Err::Ok;
}

}  // namespace sim
}  // namespace drv

// Bosch BME280 driver. Section numbers refer to the BME280 datasheet
// (BST-BME280-DS002, rev. 1.6+).
#include "bme280/bme280.hpp"

#include <new>

namespace drv {

bool operator==(const Bme280Calibration& a, const Bme280Calibration& b) {
  return a.dig_T1 == b.dig_T1 && a.dig_T2 == b.dig_T2 && a.dig_T3 == b.dig_T3 &&
         a.dig_P1 == b.dig_P1 && a.dig_P2 == b.dig_P2 && a.dig_P3 == b.dig_P3 &&
         a.dig_P4 == b.dig_P4 && a.dig_P5 == b.dig_P5 && a.dig_P6 == b.dig_P6 &&
         a.dig_P7 == b.dig_P7 && a.dig_P8 == b.dig_P8 && a.dig_P9 == b.dig_P9 &&
         a.dig_H1 == b.dig_H1 && a.dig_H2 == b.dig_H2 && a.dig_H3 == b.dig_H3 &&
         a.dig_H4 == b.dig_H4 && a.dig_H5 == b.dig_H5 && a.dig_H6 == b.dig_H6;
}

namespace bme280 {

namespace {
uint16_t u16le(const uint8_t* p) { return static_cast<uint16_t>(p[0] | (p[1] << 8)); }
int16_t s16le(const uint8_t* p) { return static_cast<int16_t>(u16le(p)); }
}  // namespace

void parse_calibration(const uint8_t tp[kCalibTpLen], const uint8_t h[kCalibHLen],
                       Bme280Calibration* out) {
  // §4.2.2 table 16: little-endian words from 0x88; 0xA0 is unused; 0xA1 is dig_H1.
  Bme280Calibration& c = *out;
  c.dig_T1 = u16le(tp + 0);
  c.dig_T2 = s16le(tp + 2);
  c.dig_T3 = s16le(tp + 4);
  c.dig_P1 = u16le(tp + 6);
  c.dig_P2 = s16le(tp + 8);
  c.dig_P3 = s16le(tp + 10);
  c.dig_P4 = s16le(tp + 12);
  c.dig_P5 = s16le(tp + 14);
  c.dig_P6 = s16le(tp + 16);
  c.dig_P7 = s16le(tp + 18);
  c.dig_P8 = s16le(tp + 20);
  c.dig_P9 = s16le(tp + 22);
  c.dig_H1 = tp[25];
  // 0xE1..0xE7. dig_H4 and dig_H5 are signed 12-bit values sharing 0xE5:
  //   dig_H4 = 0xE4[7:0] << 4 | 0xE5[3:0]     (0xE4 carries the sign)
  //   dig_H5 = 0xE6[7:0] << 4 | 0xE5[7:4]     (0xE6 carries the sign)
  c.dig_H2 = s16le(h + 0);
  c.dig_H3 = h[2];
  c.dig_H4 = static_cast<int16_t>(static_cast<int16_t>(static_cast<int8_t>(h[3])) * 16 | (h[4] & 0x0F));
  c.dig_H5 = static_cast<int16_t>(static_cast<int16_t>(static_cast<int8_t>(h[5])) * 16 | (h[4] >> 4));
  c.dig_H6 = static_cast<int8_t>(h[6]);
}

// §4.2.3 / appendix 8.2. The reference code is written with 32-bit
// intermediates; here they are 64-bit so that a garbage raw value cannot
// overflow (undefined behaviour). Within the part's range the results are
// bit-identical. Left shifts of possibly negative values are written as
// multiplications (a negative left shift is undefined before C++20); right
// shifts are arithmetic, as the reference code assumes.
int32_t compensate_temperature(int32_t adc_T, const Bme280Calibration& c, int32_t* t_fine) {
  const int64_t adc = adc_T;
  const int64_t var1 = (((adc >> 3) - (static_cast<int64_t>(c.dig_T1) * 2)) * c.dig_T2) >> 11;
  const int64_t d = (adc >> 4) - static_cast<int64_t>(c.dig_T1);
  const int64_t var2 = (((d * d) >> 12) * c.dig_T3) >> 14;
  const int64_t fine = var1 + var2;
  if (t_fine != nullptr) *t_fine = static_cast<int32_t>(fine);
  return static_cast<int32_t>((fine * 5 + 128) >> 8);
}

uint32_t compensate_pressure(int32_t adc_P, int32_t t_fine, const Bme280Calibration& c) {
  int64_t var1 = static_cast<int64_t>(t_fine) - 128000;
  int64_t var2 = var1 * var1 * c.dig_P6;
  var2 = var2 + (var1 * c.dig_P5) * (int64_t{1} << 17);
  var2 = var2 + static_cast<int64_t>(c.dig_P4) * (int64_t{1} << 35);
  var1 = ((var1 * var1 * c.dig_P3) >> 8) + (var1 * c.dig_P2) * (int64_t{1} << 12);
  var1 = (((int64_t{1} << 47) + var1) * static_cast<int64_t>(c.dig_P1)) >> 33;
  if (var1 == 0) return 0;  // the reference code's guard against division by zero
  int64_t p = 1048576 - static_cast<int64_t>(adc_P);
  p = ((p * (int64_t{1} << 31) - var2) * 3125) / var1;
  var1 = (static_cast<int64_t>(c.dig_P9) * (p >> 13) * (p >> 13)) >> 25;
  var2 = (static_cast<int64_t>(c.dig_P8) * p) >> 19;
  p = ((p + var1 + var2) >> 8) + static_cast<int64_t>(c.dig_P7) * 16;
  if (p < 0) return 0;
  if (p > static_cast<int64_t>(UINT32_MAX)) return UINT32_MAX;
  return static_cast<uint32_t>(p);
}

uint32_t compensate_humidity(int32_t adc_H, int32_t t_fine, const Bme280Calibration& c) {
  int64_t v = static_cast<int64_t>(t_fine) - 76800;
  const int64_t a = ((static_cast<int64_t>(adc_H) * 16384) - (static_cast<int64_t>(c.dig_H4) * (1 << 20)) -
                     (static_cast<int64_t>(c.dig_H5) * v) + 16384) >> 15;
  const int64_t b = (((((((v * c.dig_H6) >> 10) * (((v * c.dig_H3) >> 11) + 32768)) >> 10) + 2097152) *
                          c.dig_H2 + 8192) >> 14);
  v = a * b;
  v = v - (((((v >> 15) * (v >> 15)) >> 7) * c.dig_H1) >> 4);
  if (v < 0) v = 0;
  if (v > 419430400) v = 419430400;  // 100 %RH in Q22.10 << 12
  return static_cast<uint32_t>(v >> 12);
}

}  // namespace bme280

namespace {

using namespace bme280;

const ChannelSpec kChannels[] = {
    {"temperature", "Cel", ChannelKind::Sensor, ValueType::Numeric},
    {"humidity", "%RH", ChannelKind::Sensor, ValueType::Numeric},
    {"pressure", "Pa", ChannelKind::Sensor, ValueType::Numeric},
};
constexpr size_t kChannelCount = sizeof kChannels / sizeof kChannels[0];

}  // namespace

Bme280::Bme280(const char* name, RegIo io, hal::MonotonicClock* clock, const Settings& settings)
    : Device(name, "bosch,bme280"), io_(io), clock_(clock), settings_(settings) {}

size_t Bme280::channel_count() const { return kChannelCount; }

const ChannelSpec& Bme280::channel(size_t i) const { return kChannels[i < kChannelCount ? i : 0]; }

uint8_t Bme280::ctrl_meas(uint8_t mode) const {
  // §5.4.5: osrs_t[7:5] osrs_p[4:2] mode[1:0].
  return static_cast<uint8_t>((settings_.osrs_t << 5) | (settings_.osrs_p << 2) | mode);
}

namespace {

/// Polls `done` (which returns Ok when finished, NotReady to go on, or an
/// error to stop) until kWaitDeadlineMs passed on `clock` or kMaxPolls polls.
/// Every poll is a bus transfer, which paces the loop on real hardware.
template <typename Step>
hal::Err poll_until(hal::MonotonicClock* clock, Step step) {
  const hal::MonoTime deadline =
      clock != nullptr ? clock->mono_now().plus_ms(Bme280::kWaitDeadlineMs) : hal::MonoTime{};
  for (uint32_t poll = 0; poll < Bme280::kMaxPolls; ++poll) {
    const hal::Err e = step();
    if (e != hal::Err::NotReady) return e;
    if (clock != nullptr && clock->mono_now() > deadline) return hal::Err::Timeout;
  }
  return hal::Err::Timeout;
}

}  // namespace

hal::Err Bme280::wait_status_clear(uint8_t mask) {
  return poll_until(clock_, [this, mask]() {
    hal::Result<uint8_t> status = io_.read_reg(kRegStatus);
    if (!status.ok()) return status.error();
    return (status.value() & mask) == 0 ? hal::Err::Ok : hal::Err::NotReady;
  });
}

hal::Err Bme280::wait_first_conversion() {
  // §9.1: the first normal-mode conversion lands after t_measure (up to
  // ~46 ms at x2/x16/x1); until then the data registers hold the reset value.
  return poll_until(clock_, [this]() {
    uint8_t t[3];
    if (hal::Err e = io_.read_regs(kRegData + 3, t, sizeof t); e != hal::Err::Ok) return e;
    const int32_t adc_T = (t[0] << 12) | (t[1] << 4) | (t[2] >> 4);
    return adc_T == kSkippedTP ? hal::Err::NotReady : hal::Err::Ok;
  });
}

hal::Err Bme280::init() {
  initialised_ = false;
  have_sample_ = false;

  hal::Result<uint8_t> id = io_.read_reg(kRegChipId);
  if (!id.ok()) return id.error();
  // §5.4.1: 0x60 for the BME280 (0x56..0x58 would be a BMP280, no humidity).
  if (id.value() != kChipId) return hal::Err::BadChipId;

  if (settings_.soft_reset) {
    if (hal::Err e = io_.write_reg(kRegReset, kResetWord); e != hal::Err::Ok) return e;
    // §5.4.4: after a reset the NVM is copied to the image registers while
    // status.im_update is 1 (start-up time: 2 ms, table 1).
    if (hal::Err e = wait_status_clear(kStatusImUpdate); e != hal::Err::Ok) return e;
  }

  uint8_t tp[kCalibTpLen];
  uint8_t h[kCalibHLen];
  if (hal::Err e = io_.read_regs(kRegCalib00, tp, sizeof tp); e != hal::Err::Ok) return e;
  if (hal::Err e = io_.read_regs(kRegCalib26, h, sizeof h); e != hal::Err::Ok) return e;
  Bme280Calibration calib;
  parse_calibration(tp, h, &calib);
  // An erased NVM reads 0x00 or 0xFF; dig_T1 and dig_P1 are divisors/scales
  // that are never 0 or 0xFFFF on a trimmed part.
  if (calib.dig_T1 == 0 || calib.dig_P1 == 0 || calib.dig_T1 == 0xFFFF || calib.dig_P1 == 0xFFFF) {
    return hal::Err::Corrupt;
  }

  // Configure in sleep mode: §5.4.6 says config writes may be ignored in
  // normal mode, and §5.4.3 says ctrl_hum takes effect only after a write to
  // ctrl_meas, so the order is ctrl_meas(sleep), ctrl_hum, config, ctrl_meas.
  if (hal::Err e = io_.write_reg(kRegCtrlMeas, ctrl_meas(kModeSleep)); e != hal::Err::Ok) return e;
  if (hal::Err e = io_.write_reg(kRegCtrlHum, settings_.osrs_h & 0x07); e != hal::Err::Ok) return e;
  const uint8_t config = static_cast<uint8_t>((settings_.standby << 5) | (settings_.filter << 2));
  if (hal::Err e = io_.write_reg(kRegConfig, config); e != hal::Err::Ok) return e;
  if (settings_.mode == Mode::Normal) {
    if (hal::Err e = io_.write_reg(kRegCtrlMeas, ctrl_meas(kModeNormal)); e != hal::Err::Ok) return e;
    // So that the first sample() after init() has data.
    if (hal::Err e = wait_first_conversion(); e != hal::Err::Ok) return e;
  }

  calib_ = calib;
  initialised_ = true;
  return hal::Err::Ok;
}

hal::Err Bme280::sample() {
  if (!initialised_) return hal::Err::NotReady;
  if (settings_.mode == Mode::Forced) {
    // §3.3.3: a write with mode=01 runs one conversion, then the chip
    // returns to sleep; status.measuring is 1 until the data registers hold it.
    if (hal::Err e = io_.write_reg(kRegCtrlMeas, ctrl_meas(kModeForced)); e != hal::Err::Ok) return e;
    if (hal::Err e = wait_status_clear(kStatusMeasuring); e != hal::Err::Ok) return e;
  }
  // §4: one burst read from 0xF7 to 0xFE, so that all three values come from
  // the same conversion (the chip shadows the data registers during a burst).
  uint8_t d[kDataLen];
  if (hal::Err e = io_.read_regs(kRegData, d, sizeof d); e != hal::Err::Ok) return e;
  const int32_t adc_P = (d[0] << 12) | (d[1] << 4) | (d[2] >> 4);
  const int32_t adc_T = (d[3] << 12) | (d[4] << 4) | (d[5] >> 4);
  const int32_t adc_H = (d[6] << 8) | d[7];
  // A skipped measurement or a chip that has not converted yet reads as the
  // reset value (§5.4.7-9).
  if (adc_T == kSkippedTP || adc_P == kSkippedTP || adc_H == kSkippedH) return hal::Err::NotReady;

  int32_t fine = 0;
  const int32_t t = compensate_temperature(adc_T, calib_, &fine);
  t_fine_ = fine;
  temperature_centi_ = t;
  pressure_q24_8_ = compensate_pressure(adc_P, fine, calib_);
  humidity_q22_10_ = compensate_humidity(adc_H, fine, calib_);
  have_sample_ = true;
  return hal::Err::Ok;
}

hal::Result<Value> Bme280::get(size_t i) const {
  if (i >= kChannelCount) return hal::Err::NotFound;
  if (!have_sample_) return hal::Err::NotReady;
  switch (i) {
    case 0:
      return Value::numeric(temperature_centi_, -2);
    case 1:
      // Q22.10 %RH -> 0.1 %RH, rounded.
      return Value::numeric((static_cast<int64_t>(humidity_q22_10_) * 10 + 512) >> 10, -1);
    default:
      // Q24.8 Pa -> Pa, rounded.
      return Value::numeric((static_cast<int64_t>(pressure_q24_8_) + 128) >> 8, 0);
  }
}

hal::Err Bme280::set(size_t i, const Value&) {
  return i < kChannelCount ? hal::Err::ReadOnly : hal::Err::NotFound;
}

namespace {

/// Oversampling factor -> register code (§5.4.3, §5.4.5).
bool osrs_code(int64_t factor, uint8_t* code) {
  switch (factor) {
    case 1: *code = 1; return true;
    case 2: *code = 2; return true;
    case 4: *code = 3; return true;
    case 8: *code = 4; return true;
    case 16: *code = 5; return true;
    default: return false;
  }
}

bool osrs_param(const DeviceConfig& config, const char* key, int64_t fallback, uint8_t* code,
                DriverError* error) {
  int64_t factor = 0;
  if (!param_int(config, key, 1, 16, fallback, &factor, error)) return false;
  if (!osrs_code(factor, code)) {
    error->set("params.%s: expected 1, 2, 4, 8 or 16, got %d", key, static_cast<int>(factor));
    return false;
  }
  return true;
}

}  // namespace

std::unique_ptr<Device> create_bme280(const DeviceConfig& config, DriverError* error) {
  DriverError scratch;
  if (error == nullptr) error = &scratch;
  if (!check_i2c_resources(config, error)) return nullptr;
  static const char* const kKeys[] = {"mode", "osrs_t", "osrs_p", "osrs_h", "filter", "standby_ms",
                                      "soft_reset"};
  if (!check_param_keys(config, kKeys, sizeof kKeys / sizeof kKeys[0], error)) return nullptr;

  Bme280::Settings s;
  static const char* const kModes[] = {"normal", "forced"};
  size_t mode = 0;
  if (!param_choice(config, "mode", kModes, 2, 0, &mode, error)) return nullptr;
  s.mode = mode == 0 ? Bme280::Mode::Normal : Bme280::Mode::Forced;
  if (!osrs_param(config, "osrs_t", 2, &s.osrs_t, error)) return nullptr;
  if (!osrs_param(config, "osrs_p", 16, &s.osrs_p, error)) return nullptr;
  if (!osrs_param(config, "osrs_h", 1, &s.osrs_h, error)) return nullptr;

  int64_t filter = 0;
  if (!param_int(config, "filter", 0, 16, 0, &filter, error)) return nullptr;
  switch (filter) {  // §5.4.6 table 28
    case 0: s.filter = 0; break;
    case 2: s.filter = 1; break;
    case 4: s.filter = 2; break;
    case 8: s.filter = 3; break;
    case 16: s.filter = 4; break;
    default:
      error->set("params.filter: expected 0, 2, 4, 8 or 16, got %d", static_cast<int>(filter));
      return nullptr;
  }
  int64_t standby = 0;
  if (!param_int(config, "standby_ms", 1, 1000, 1000, &standby, error)) return nullptr;
  switch (standby) {  // §5.4.6 table 27 (0.5 and 62.5 ms written as 1 and 62)
    case 1: s.standby = 0; break;
    case 62: s.standby = 1; break;
    case 125: s.standby = 2; break;
    case 250: s.standby = 3; break;
    case 500: s.standby = 4; break;
    case 1000: s.standby = 5; break;
    case 10: s.standby = 6; break;
    case 20: s.standby = 7; break;
    default:
      error->set("params.standby_ms: expected 1, 10, 20, 62, 125, 250, 500 or 1000, got %d",
                 static_cast<int>(standby));
      return nullptr;
  }
  int64_t reset = 1;
  if (!param_int(config, "soft_reset", 0, 1, 1, &reset, error)) return nullptr;
  s.soft_reset = reset != 0;

  std::unique_ptr<Device> dev(new (std::nothrow) Bme280(
      config.name, RegIo(*config.i2c, config.i2c_address), config.clock, s));
  if (!dev) error->set("out of memory");
  return dev;
}

}  // namespace drv

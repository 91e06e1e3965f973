// Bosch BME280 humidity / pressure / temperature sensor on I2C ("bosch,bme280").
//
// Channels (in this order):
//   temperature  Cel  numeric sensor  0.01 °C      (mantissa, exponent -2)
//   humidity     %RH  numeric sensor  0.1 %RH      (exponent -1)
//   pressure     Pa   numeric sensor  1 Pa         (exponent 0)
// The reported resolutions follow the part's accuracy (BME280 datasheet
// table 1-3: ±0.5 °C, ±3 %RH, ±100 Pa absolute / ±12 Pa relative).
//
// Board parameters ("params"), all optional:
//   mode        "normal" (default: the chip converts continuously, sample() is
//               one burst read) | "forced" (sample() starts one conversion and
//               waits for it, bounded by a deadline)
//   osrs_t, osrs_p, osrs_h   oversampling 1, 2, 4, 8, 16 (defaults 2, 16, 1)
//   filter      IIR coefficient 0 (off), 2, 4, 8, 16 (default 0)
//   standby_ms  normal-mode standby 1 (=0.5), 10, 20, 62 (=62.5), 125, 250,
//               500, 1000 (default 1000)
//   soft_reset  1 (default) resets the chip at init, 0 does not
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "drv/device.hpp"
#include "drv/driver_table.hpp"
#include "drv/reg_io.hpp"

namespace drv {

/// Trimming parameters from the chip's NVM (datasheet §4.2.2, table 16).
struct Bme280Calibration {
  uint16_t dig_T1 = 0;
  int16_t dig_T2 = 0;
  int16_t dig_T3 = 0;
  uint16_t dig_P1 = 0;
  int16_t dig_P2 = 0, dig_P3 = 0, dig_P4 = 0, dig_P5 = 0, dig_P6 = 0, dig_P7 = 0, dig_P8 = 0,
          dig_P9 = 0;
  uint8_t dig_H1 = 0;
  int16_t dig_H2 = 0;
  uint8_t dig_H3 = 0;
  int16_t dig_H4 = 0;  ///< signed 12 bit
  int16_t dig_H5 = 0;  ///< signed 12 bit
  int8_t dig_H6 = 0;

  friend bool operator==(const Bme280Calibration& a, const Bme280Calibration& b);
};

/// The datasheet's integer compensation (BME280 datasheet §4.2.3 and
/// appendix 8.2), exposed for table-driven tests.
namespace bme280 {

/// Register addresses and fixed values (datasheet §5.3, table 18).
constexpr uint8_t kRegCalib00 = 0x88;  ///< 0x88..0xA1: calib00..calib25
constexpr size_t kCalibTpLen = 26;
constexpr uint8_t kRegChipId = 0xD0;
constexpr uint8_t kChipId = 0x60;
constexpr uint8_t kRegReset = 0xE0;
constexpr uint8_t kResetWord = 0xB6;
constexpr uint8_t kRegCalib26 = 0xE1;  ///< 0xE1..0xE7: calib26..calib32
constexpr size_t kCalibHLen = 7;
constexpr uint8_t kRegCtrlHum = 0xF2;
constexpr uint8_t kRegStatus = 0xF3;
constexpr uint8_t kStatusMeasuring = 0x08;
constexpr uint8_t kStatusImUpdate = 0x01;
constexpr uint8_t kRegCtrlMeas = 0xF4;
constexpr uint8_t kRegConfig = 0xF5;
constexpr uint8_t kRegData = 0xF7;  ///< 0xF7..0xFE: press, temp, hum
constexpr size_t kDataLen = 8;
constexpr uint8_t kModeSleep = 0x00;
constexpr uint8_t kModeForced = 0x01;
constexpr uint8_t kModeNormal = 0x03;
/// ADC output of a skipped (or not yet run) measurement (datasheet §5.4.7-9).
constexpr int32_t kSkippedTP = 0x80000;
constexpr int32_t kSkippedH = 0x8000;

/// Unpacks calib00..25 (`tp`, from 0x88) and calib26..32 (`h`, from 0xE1),
/// including the dig_H4/dig_H5 nibble sharing in 0xE5.
void parse_calibration(const uint8_t tp[kCalibTpLen], const uint8_t h[kCalibHLen],
                       Bme280Calibration* out);

/// Temperature in 0.01 °C ("5123" = 51.23 °C); `t_fine` receives the fine
/// temperature the other two formulas need.
int32_t compensate_temperature(int32_t adc_T, const Bme280Calibration& c, int32_t* t_fine);
/// Pressure in Pa as unsigned Q24.8 ("24674867" = 96386.2 Pa); 0 when the
/// calibration would divide by zero (dig_P1 == 0).
uint32_t compensate_pressure(int32_t adc_P, int32_t t_fine, const Bme280Calibration& c);
/// Relative humidity in %RH as unsigned Q22.10 ("47445" = 46.333 %RH),
/// clamped to 0..100 %RH.
uint32_t compensate_humidity(int32_t adc_H, int32_t t_fine, const Bme280Calibration& c);

}  // namespace bme280

class Bme280 final : public Device {
 public:
  enum class Mode : uint8_t { Normal, Forced };

  struct Settings {
    Mode mode = Mode::Normal;
    uint8_t osrs_t = 2;  ///< register code: 1=x1 2=x2 3=x4 4=x8 5=x16
    uint8_t osrs_p = 5;
    uint8_t osrs_h = 1;
    uint8_t filter = 0;   ///< register code 0..4
    uint8_t standby = 5;  ///< register code (5 = 1000 ms)
    bool soft_reset = true;
  };

  /// Longest wait for a forced conversion, the post-reset NVM copy or the
  /// first normal-mode conversion (t_measure,max is ~112 ms at x16/x16/x16,
  /// datasheet §9.1; the defaults need ~46 ms).
  static constexpr uint32_t kWaitDeadlineMs = 150;
  /// Upper bound on status polls per wait, so a wait ends even with a clock
  /// that does not move.
  static constexpr uint32_t kMaxPolls = 1000;

  /// `name` must outlive the device; `clock` may be null (then waits are
  /// bounded by kMaxPolls only).
  Bme280(const char* name, RegIo io, hal::MonotonicClock* clock, const Settings& settings);

  size_t channel_count() const override;
  const ChannelSpec& channel(size_t i) const override;

  /// Checks the chip id, optionally soft-resets, reads the calibration and
  /// configures oversampling, filter, standby and mode. In normal mode it then
  /// waits for the first conversion, so the first sample() has data.
  /// Errors: Nack, Timeout, Io (bus); BadChipId (id register != 0x60);
  /// Timeout (the NVM copy after reset, or the first normal-mode conversion,
  /// did not finish within kWaitDeadlineMs); Corrupt (calibration with
  /// dig_T1/dig_P1 0 or 0xFFFF: an erased or broken NVM).
  hal::Err init() override;
  /// One burst read of 0xF7..0xFE (after starting a conversion and waiting for
  /// it in forced mode), then compensation.
  /// Errors: NotReady (init() not done, or the chip reports a skipped/no
  /// conversion yet), Timeout (forced conversion did not finish), bus errors.
  /// On error the previous snapshot stays readable.
  hal::Err sample() override;
  /// Errors: NotReady (no successful sample yet), NotFound (i out of range).
  hal::Result<Value> get(size_t i) const override;
  /// Every channel is a sensor. Errors: ReadOnly, NotFound (i out of range).
  hal::Err set(size_t i, const Value& v) override;

  /// The calibration read by init() (zeroes before).
  const Bme280Calibration& calibration() const { return calib_; }
  /// Raw snapshot of the last sample(), for diagnostics.
  int32_t t_fine() const { return t_fine_; }

 private:
  hal::Err wait_status_clear(uint8_t mask);
  hal::Err wait_first_conversion();
  uint8_t ctrl_meas(uint8_t mode) const;

  RegIo io_;
  hal::MonotonicClock* clock_;
  Settings settings_;
  Bme280Calibration calib_{};
  bool initialised_ = false;
  bool have_sample_ = false;
  int32_t t_fine_ = 0;
  int32_t temperature_centi_ = 0;
  uint32_t pressure_q24_8_ = 0;
  uint32_t humidity_q22_10_ = 0;
};

/// Factory for "bosch,bme280". Needs `i2c` + `i2c_address`; uses `clock`.
std::unique_ptr<Device> create_bme280(const DeviceConfig& config, DriverError* error);

}  // namespace drv

// TI ADS1115 16-bit delta-sigma ADC with PGA on I2C ("ti,ads1115").
//
// Channels (in this order; the first `inputs` of them):
//   ain0 .. ain3  V  numeric sensor  1 µV (mantissa, exponent -6)
// Each is the single-ended input AINx against GND (MUX 100..111), converted
// in single-shot mode. One LSB is FSR / 32768: 187.5 µV at ±6.144 V down to
// 7.8125 µV at ±0.256 V; values are rounded to the nearest µV.
//
// Board parameters ("params"), all optional:
//   inputs     1..4: how many inputs are converted, from ain0 (default 4)
//   pga        full-scale range in mV: 6144, 4096, 2048, 1024, 512, 256
//              (default 2048, the chip's reset value)
//   data_rate  samples per second: 8, 16, 32, 64, 128, 250, 475, 860
//              (default 128, the reset value). sample() waits one conversion
//              (1 / data_rate) per input: 4 inputs at 128 SPS take ~31 ms.
//
// Identity: the ADS111x has no id register. init() restores the config
// register's power-on value (0x8583, SBAS444 §9.6.3) and checks that the
// register reads it back once the chip is idle (the OS bit reads 1). A chip
// that does not keep the written bits is BadChipId. This cannot tell an
// ADS1115 from its pin-compatible siblings (ADS1113/1114/1015 share the
// reset value); the address is limited to the part's four (0x48..0x4B).
// The I2C general-call reset (§9.5.1.2) is not used: it would reset every
// chip on the bus that answers the general call.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "drv/device.hpp"
#include "drv/driver_table.hpp"

namespace drv {

/// Register map and conversions (TI SBAS444 "ADS111x", rev. D), exposed for
/// table-driven tests and the model.
namespace ads1115 {

/// Address pointer values P[1:0] (§9.6.1); registers are 16 bit, MSB first.
constexpr uint8_t kRegConversion = 0x00;
constexpr uint8_t kRegConfig = 0x01;
constexpr uint8_t kRegLoThresh = 0x02;
constexpr uint8_t kRegHiThresh = 0x03;
constexpr uint8_t kPointerMask = 0x03;

/// Reset values (§9.6.2-9.6.4).
constexpr uint16_t kConfigReset = 0x8583;
constexpr uint16_t kLoThreshReset = 0x8000;
constexpr uint16_t kHiThreshReset = 0x7FFF;

/// Config register fields (§9.6.3).
constexpr uint16_t kOs = 0x8000;  ///< write 1: start a single conversion; read 1: idle
constexpr unsigned kMuxShift = 12;
constexpr uint16_t kMuxMask = 0x7000;
constexpr uint8_t kMuxSingleEnded0 = 0x4;  ///< 100: AIN0 vs GND .. 111: AIN3 vs GND
constexpr unsigned kPgaShift = 9;
constexpr uint16_t kPgaMask = 0x0E00;
constexpr uint16_t kModeSingleShot = 0x0100;
constexpr unsigned kDrShift = 5;
constexpr uint16_t kDrMask = 0x00E0;
constexpr uint16_t kCompQueDisable = 0x0003;

constexpr size_t kInputCount = 4;
/// Full-scale range in mV by PGA code 0..5 (codes 6 and 7 are ±0.256 V too).
constexpr uint16_t kFsrMv[] = {6144, 4096, 2048, 1024, 512, 256};
constexpr size_t kPgaCount = sizeof kFsrMv / sizeof kFsrMv[0];
/// Data rate in SPS by DR code 0..7.
constexpr uint16_t kDataRateSps[] = {8, 16, 32, 64, 128, 250, 475, 860};
constexpr size_t kDataRateCount = sizeof kDataRateSps / sizeof kDataRateSps[0];

/// Full-scale range in mV of a PGA code (0..7).
uint16_t fsr_mv(uint8_t pga_code);
/// The config word that starts one single-shot conversion of AIN`input`
/// against GND (OS=1, MUX=100+input, MODE=1, comparator disabled).
uint16_t single_shot_config(size_t input, uint8_t pga_code, uint8_t dr_code);
/// A conversion code (two's complement) as microvolts: code * FSR / 32768,
/// rounded to the nearest µV (halves away from zero). §9.5.4.
int64_t code_to_microvolts(int16_t code, uint16_t fsr_mv);

}  // namespace ads1115

class Ads1115 final : public Device {
 public:
  struct Settings {
    uint8_t inputs = 4;     ///< 1..4
    uint8_t pga = 2;        ///< register code 0..5 (2 = ±2.048 V)
    uint8_t data_rate = 4;  ///< register code 0..7 (4 = 128 SPS)
  };

  /// Upper bound on config polls per wait, so a wait ends even with a clock
  /// that does not move. Each poll is one bus transfer (~0.4 ms at 100 kHz),
  /// so this outlasts the slowest conversion (125 ms at 8 SPS) on any bus speed.
  static constexpr uint32_t kMaxPolls = 10000;

  /// `name` must outlive the device, `bus` too; `clock` may be null (then
  /// waits are bounded by kMaxPolls only).
  Ads1115(const char* name, hal::I2cBus& bus, uint16_t address, hal::MonotonicClock* clock,
          const Settings& settings);

  size_t channel_count() const override;
  const ChannelSpec& channel(size_t i) const override;

  /// Restores the config register's power-on value and checks the identity
  /// (see the file comment). Errors: Nack, Timeout, Io (bus); BadChipId (the
  /// config register did not read back 0x8583); Timeout (the chip stayed
  /// busy past conversion_deadline_us()).
  hal::Err init() override;
  /// Converts every enabled input in turn: write config (start), poll the OS
  /// bit until idle, read the conversion register. Errors: NotReady (init()
  /// not done), Timeout (a conversion did not finish within
  /// conversion_deadline_us() or kMaxPolls polls), bus errors. On error the
  /// previous snapshot stays readable.
  hal::Err sample() override;
  /// Errors: NotReady (no successful sample yet), NotFound (i out of range).
  hal::Result<Value> get(size_t i) const override;
  /// Every channel is a sensor. Errors: ReadOnly, NotFound (i out of range).
  hal::Err set(size_t i, const Value& v) override;

  /// Longest wait for one conversion: twice the nominal 1 / data_rate (the
  /// internal oscillator is within ±10 %, §7.5) plus 1 ms for the wake-up
  /// from power-down.
  uint32_t conversion_deadline_us() const;
  /// Raw code of input `i` in the last snapshot, for diagnostics (0 before).
  int16_t code(size_t i) const { return i < ads1115::kInputCount ? codes_[i] : 0; }

 private:
  hal::Err write_reg16(uint8_t reg, uint16_t value);
  hal::Err read_reg16(uint8_t reg, uint16_t* value);
  hal::Err wait_idle(uint16_t written, bool check_identity, uint16_t* config);

  hal::I2cBus* bus_;
  uint16_t address_;
  hal::MonotonicClock* clock_;
  Settings settings_;
  bool initialised_ = false;
  bool have_sample_ = false;
  int16_t codes_[ads1115::kInputCount] = {};
};

/// Factory for "ti,ads1115". Needs `i2c` + `i2c_address` (0x48..0x4B); uses `clock`.
std::unique_ptr<Device> create_ads1115(const DeviceConfig& config, DriverError* error);

}  // namespace drv

// ROHM BH1750FVI ambient light sensor on I2C ("rohm,bh1750"), address 0x23
// (ADDR low) or 0x5C (ADDR high).
//
// Channels:
//   illuminance  lx  numeric sensor  0.01 lx  (mantissa, exponent -2)
// The chip's own step is 1/1.2 lx x 69/MTreg (H-resolution), half that in
// H-resolution mode 2 and 4 lx in L-resolution mode; the 0.01 lx exponent
// keeps every step representable (0.11 lx at MTreg 254, mode 2).
//
// Board parameters ("params"), all optional:
//   mode   "high" (default: One-Time H-Resolution Mode, 1 lx, max 180 ms)
//          | "high2" (One-Time H-Resolution Mode2, 0.5 lx, max 180 ms)
//          | "low" (One-Time L-Resolution Mode, 4 lx, max 24 ms)
//   mtreg  31..254 (default 69): the measurement time register, i.e. the
//          sensitivity (datasheet "Adjust measurement result for influence of
//          optical window"); the measurement time scales with it.
//
// The chip has no registers and no identity register: it takes 1-byte
// instructions and answers a 2-byte read with its data register. So init()
// checks what can be checked: every instruction is acknowledged, the data
// register reads 0 right after Reset (the datasheet's Reset clears it), and a
// test measurement completes and is read.
//
// The one-time modes power the chip down after each measurement, so sample()
// is: instruction, wait, read. The chip gives no ready flag; the wait is by
// time (see Bh1750::kMinPollUs).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "drv/device.hpp"
#include "drv/driver_table.hpp"
#include "hal/clock.hpp"
#include "hal/i2c.hpp"

namespace drv {

/// Instruction set and conversion (BH1750FVI datasheet, "Instruction Set
/// Architecture" and "Measurement sequence example"), exposed for tests and
/// the model.
namespace bh1750 {

constexpr uint8_t kPowerDown = 0x00;
constexpr uint8_t kPowerOn = 0x01;
/// Clears the data register; accepted only while powered on.
constexpr uint8_t kReset = 0x07;
constexpr uint8_t kContinuousHigh = 0x10;
constexpr uint8_t kContinuousHigh2 = 0x11;
constexpr uint8_t kContinuousLow = 0x13;
constexpr uint8_t kOneTimeHigh = 0x20;
constexpr uint8_t kOneTimeHigh2 = 0x21;
constexpr uint8_t kOneTimeLow = 0x23;
/// Change measurement time: 01000_MT[7:5], then 011_MT[4:0].
constexpr uint8_t kMtregHigh = 0x40;
constexpr uint8_t kMtregLow = 0x60;

constexpr uint8_t kMtregDefault = 69;
constexpr uint8_t kMtregMin = 31;
constexpr uint8_t kMtregMax = 254;

/// Maximum measurement times at MTreg 69 (datasheet, electrical
/// characteristics: tHR typ. 120 / max. 180 ms, tLR typ. 16 / max. 24 ms).
constexpr uint32_t kHighMaxUs = 180000;
constexpr uint32_t kHighTypUs = 120000;
constexpr uint32_t kLowMaxUs = 24000;
constexpr uint32_t kLowTypUs = 16000;

enum class Mode : uint8_t { High, High2, Low };

/// The one-time instruction of `mode`.
uint8_t one_time_opcode(Mode mode);
/// The two MTreg instructions for `mtreg` (high bits first).
void mtreg_opcodes(uint8_t mtreg, uint8_t out[2]);
/// Longest time a one-time measurement in `mode` takes at `mtreg`: the
/// datasheet maximum at MTreg 69, scaled by mtreg/69 (the measurement time is
/// proportional to MTreg), never shorter than at MTreg 69 (so a smaller MTreg
/// is never trusted to end early, in L mode too).
uint32_t max_measurement_us(Mode mode, uint8_t mtreg);
/// Illuminance in 0.01 lx from a raw count: raw / 1.2 x 69 / mtreg (mode 2:
/// halved), rounded to nearest. mtreg 0 gives 0.
int64_t centilux(uint16_t raw, Mode mode, uint8_t mtreg);

}  // namespace bh1750

class Bh1750 final : public Device {
 public:
  struct Settings {
    bh1750::Mode mode = bh1750::Mode::High;
    uint8_t mtreg = bh1750::kMtregDefault;  ///< 31..254
  };

  /// Shortest possible result read: address byte + 2 data bytes, 9 clocks
  /// each, at the part's fastest SCL (400 kHz, datasheet: fSCL max) is
  /// 27 x 2.5 us = 67.5 us, rounded down.
  ///
  /// How the driver waits: the HAL has no sleep, so the wait polls. Each poll
  /// reads the data register (harmless: until the measurement ends it reads
  /// the previous result), which paces the loop on a real bus, and checks the
  /// clock. It ends when max_measurement_us() passed on the injected clock,
  /// or after max_measurement_us() / kMinPollUs + 1 polls, which take at
  /// least that long on any bus the chip can run on. So a clock that does not
  /// move (a ManualClock in a test, none at all) cannot hang it, and on real
  /// hardware the measurement is complete either way.
  static constexpr uint32_t kMinPollUs = 67;

  /// `name` must outlive the device; `bus` must outlive it. `clock` may be
  /// null (then the wait is bounded by the poll count alone).
  Bh1750(const char* name, hal::I2cBus& bus, uint16_t address, hal::MonotonicClock* clock,
         const Settings& settings);

  size_t channel_count() const override;
  const ChannelSpec& channel(size_t i) const override;

  /// Power On, Reset, reads the data register (must be 0 after Reset), writes
  /// MTreg, and runs one test measurement in the configured mode.
  /// Errors: Nack, Timeout, Io (bus); BadChipId (the data register does not
  /// read 0 after Reset: not a BH1750, or one that ignored Reset).
  hal::Err init() override;
  /// One one-time measurement: instruction, wait (see kMinPollUs), one 2-byte
  /// read. Errors: NotReady (init() not done), Nack, Timeout, Io (bus). On
  /// error the previous snapshot stays readable.
  hal::Err sample() override;
  /// Errors: NotReady (no successful sample yet), NotFound (i out of range).
  hal::Result<Value> get(size_t i) const override;
  /// Every channel is a sensor. Errors: ReadOnly, NotFound (i out of range).
  hal::Err set(size_t i, const Value& v) override;

  /// The raw count of the last sample(), for diagnostics.
  uint16_t raw() const { return raw_; }
  const Settings& settings() const { return settings_; }

 private:
  hal::Err instruction(uint8_t opcode);
  hal::Err read_data(uint16_t* out);
  hal::Err measure(uint16_t* out);

  hal::I2cBus* bus_;
  uint16_t address_;
  hal::MonotonicClock* clock_;
  Settings settings_;
  bool initialised_ = false;
  bool have_sample_ = false;
  uint16_t raw_ = 0;
};

/// Factory for "rohm,bh1750". Needs `i2c` + `i2c_address`; uses `clock`.
/// Refuses unknown params, `mode` other than "high"/"high2"/"low" and `mtreg`
/// outside 31..254, each with one line naming the field.
std::unique_ptr<Device> create_bh1750(const DeviceConfig& config, DriverError* error);

}  // namespace drv

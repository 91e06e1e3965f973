// Sensirion SHT3x (SHT30/SHT31/SHT35) humidity / temperature sensor on I2C
// ("sensirion,sht3x"), at 0x44 (ADDR pin low) or 0x45 (ADDR pin high).
//
// Channels (in this order):
//   temperature  Cel  numeric sensor  0.01 °C   (mantissa, exponent -2)
//   humidity     %RH  numeric sensor  0.01 %RH  (exponent -2)
// The chip delivers 16-bit words (T step 175/65535 = 0.0027 °C, RH step
// 0.0015 %RH); 0.01 is the resolution the datasheet states for both
// (SHT3x-DIS datasheet §1, tables 1-2), so a value set on the model comes out
// exactly.
//
// Board parameters ("params"), all optional:
//   repeatability  "high" (default) | "medium" | "low": the single-shot
//                  command 0x2400 / 0x240B / 0x2416 (clock stretching
//                  disabled, §4.3 table 9) and so the measurement duration
//                  (at most 15.5 / 6.5 / 4.5 ms, §2.2 table 4)
//   soft_reset     1 (default) resets the chip at init, 0 does not
//
// The chip has no id register: init() reads the status register (0xF32D,
// §4.11) as its communication and identity check (checksum, reserved bits).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "drv/device.hpp"
#include "drv/driver_table.hpp"
#include "hal/clock.hpp"
#include "hal/i2c.hpp"

namespace drv {

/// The datasheet's protocol facts, exposed for table-driven tests and the model.
namespace sht3x {

/// 16-bit commands, sent MSB first (§4.3 table 9, §4.9 table 13, §4.10 table
/// 16, §4.11 tables 17 and 19).
constexpr uint16_t kCmdMeasureHigh = 0x2400;    ///< single shot, no clock stretching
constexpr uint16_t kCmdMeasureMedium = 0x240B;
constexpr uint16_t kCmdMeasureLow = 0x2416;
constexpr uint16_t kCmdMeasureHighStretch = 0x2C06;  ///< clock stretching (the model only)
constexpr uint16_t kCmdMeasureMediumStretch = 0x2C0D;
constexpr uint16_t kCmdMeasureLowStretch = 0x2C10;
constexpr uint16_t kCmdReadStatus = 0xF32D;
constexpr uint16_t kCmdClearStatus = 0x3041;
constexpr uint16_t kCmdSoftReset = 0x30A2;
constexpr uint16_t kCmdHeaterEnable = 0x306D;
constexpr uint16_t kCmdHeaterDisable = 0x3066;

/// Status register bits (§4.11 table 18).
constexpr uint16_t kStatusAlertPending = 0x8000;
constexpr uint16_t kStatusHeaterOn = 0x2000;
constexpr uint16_t kStatusRhAlert = 0x0800;
constexpr uint16_t kStatusTAlert = 0x0400;
constexpr uint16_t kStatusResetDetected = 0x0010;
constexpr uint16_t kStatusCommandFailed = 0x0002;
constexpr uint16_t kStatusWriteCrcFailed = 0x0001;
/// Bits 14, 12, 3 and 2: reserved, always '0' (bits 9:5 are unspecified).
constexpr uint16_t kStatusReservedZero = 0x500C;

/// A measurement read: T msb, T lsb, T crc, RH msb, RH lsb, RH crc (§4.4).
constexpr size_t kMeasurementLen = 6;
/// A status read: msb, lsb, crc (§4.11).
constexpr size_t kStatusLen = 3;

/// CRC-8 of `len` bytes as the chip computes it: polynomial 0x31
/// (x^8 + x^5 + x^4 + 1), init 0xFF, no reflection, no final XOR (§4.12
/// table 20; CRC(0xBEEF) = 0x92).
uint8_t crc8(const uint8_t* data, size_t len);

/// T = -45 + 175 * S_T / (2^16 - 1) °C (§4.13), in 0.01 °C, rounded to nearest.
int32_t temperature_centi(uint16_t raw);
/// RH = 100 * S_RH / (2^16 - 1) %RH (§4.13), in 0.01 %RH, rounded to nearest.
int32_t humidity_centi(uint16_t raw);

}  // namespace sht3x

class Sht3x final : public Device {
 public:
  enum class Repeatability : uint8_t { High, Medium, Low };

  struct Settings {
    Repeatability repeatability = Repeatability::High;
    bool soft_reset = true;
  };

  /// Per-transfer timeout: a 6-byte read at 100 kHz is under 1 ms.
  static constexpr uint32_t kTransferTimeoutMs = 25;
  /// Longest wait after a soft reset before the chip answers again (t_SR is
  /// at most 1.5 ms, §2.2 table 4), with margin.
  static constexpr uint32_t kResetDeadlineMs = 5;
  /// Added to a repeatability's maximum measurement duration for the read
  /// deadline (the bus and the host's scheduling are not free).
  static constexpr uint32_t kMeasureMarginMs = 5;
  /// Upper bound on read polls per wait, so a wait ends even with a clock
  /// that does not move. Each poll is one NACKed read header (~20 µs at
  /// 400 kHz plus the host's overhead), so 2000 polls outlast 15.5 ms.
  static constexpr uint32_t kMaxPolls = 2000;

  /// The single-shot command (clock stretching disabled) of `r` (§4.3 table 9).
  static uint16_t measure_command(Repeatability r);
  /// The read deadline of `r`: maximum measurement duration (15.5 / 6.5 /
  /// 4.5 ms, §2.2 table 4) rounded up, plus kMeasureMarginMs.
  static uint32_t measure_deadline_ms(Repeatability r);

  /// `name` must outlive the device; so must `bus`. `clock` may be null (then
  /// waits are bounded by kMaxPolls only).
  Sht3x(const char* name, hal::I2cBus& bus, uint16_t address, hal::MonotonicClock* clock,
        const Settings& settings);

  size_t channel_count() const override;
  const ChannelSpec& channel(size_t i) const override;

  /// Optionally soft-resets the chip (0x30A2), then reads the status register
  /// (0xF32D) as the communication and identity check. After a reset the chip
  /// NACKs until it is idle again: the status read is retried until
  /// kResetDeadlineMs (or kMaxPolls).
  /// Errors: Nack, Timeout, Io (bus; Nack also when no chip answers);
  /// Timeout (still NACKing after the reset deadline); Corrupt (the status
  /// word's checksum is wrong); BadChipId (a reserved status bit that is
  /// always 0 on an SHT3x is set: another part answered).
  hal::Err init() override;
  /// Sends the single-shot command, then reads the 6-byte result; while the
  /// chip measures it NACKs the read header (§4.4), so the read is retried
  /// until measure_deadline_ms() (or kMaxPolls). Both checksums are verified.
  /// Errors: NotReady (init() not done); Nack, Timeout, Io (the command write
  /// or a read); Timeout (still NACKing at the deadline); Corrupt (the
  /// temperature or humidity checksum is wrong). On error the previous
  /// snapshot stays readable.
  hal::Err sample() override;
  /// Errors: NotReady (no successful sample yet), NotFound (i out of range).
  hal::Result<Value> get(size_t i) const override;
  /// Every channel is a sensor. Errors: ReadOnly, NotFound (i out of range).
  hal::Err set(size_t i, const Value& v) override;

  /// The status word init() read (0 before), for diagnostics.
  uint16_t status() const { return status_; }
  /// Raw words of the last sample().
  uint16_t raw_temperature() const { return raw_t_; }
  uint16_t raw_humidity() const { return raw_rh_; }

 private:
  hal::Err send_command(uint16_t command);
  hal::Err read_status(uint16_t* out);

  hal::I2cBus* bus_;
  uint16_t address_;
  hal::MonotonicClock* clock_;
  Settings settings_;
  bool initialised_ = false;
  bool have_sample_ = false;
  uint16_t status_ = 0;
  uint16_t raw_t_ = 0;
  uint16_t raw_rh_ = 0;
};

/// Factory for "sensirion,sht3x". Needs `i2c` + `i2c_address`; uses `clock`.
std::unique_ptr<Device> create_sht3x(const DeviceConfig& config, DriverError* error);

}  // namespace drv

// "maxim,ds18b20": a DS18B20 1-wire thermometer through the kernel's
// w1_therm driver, read through the board's attribute tree
// (hal::SysfsTree; /sys on Linux). ABI: Documentation/ABI/testing/
// sysfs-driver-w1_therm and Documentation/w1/slaves/w1_therm.rst.
//
// The sensor: bus/w1/devices/<id>, params.id = family "28" + '-' + the
// 48-bit serial as 12 hex digits ("28-0000075a2b1c"), as the kernel names it.
//
// Channel: `temperature`, Cel, exponent -3 (the kernel's millidegrees;
// the chip's resolution is 0.0625 °C at 12 bits).
//
// Reading: `temperature` (kernels >= 5.9: millidegrees, the CRC checked by
// the kernel, which fails the read on a bad one) when the sensor directory has
// it, else `w1_slave`:
//   72 01 4b 46 7f ff 0e 10 57 : crc=57 YES
//   72 01 4b 46 7f ff 0e 10 57 t=23125
// The first line must end in YES and its nine scratchpad bytes must pass the
// Dallas CRC-8 (checked again here); the second line carries t= in
// millidegrees. Either read runs a conversion in the kernel and blocks up to
// 750 ms at 12 bits: keep the telemetry interval well above it.
//
// Errors: init() NotFound (no such sensor on the bus); sample() NotReady
// (before init), NotFound (the sensor went away), Corrupt (CRC NO or a CRC
// mismatch), Io (malformed text, an all-zero scratchpad, EIO, a value outside
// the chip's -55..125 °C). Each failure leaves a line in error_detail().
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "drv/device.hpp"
#include "drv/driver_table.hpp"
#include "hal/sysfs_tree.hpp"

namespace drv {

/// Dallas/Maxim 1-wire CRC-8 (x^8 + x^5 + x^4 + 1, reflected), DS18B20
/// datasheet "CRC generation". The CRC of the first eight scratchpad bytes
/// equals the ninth.
uint8_t w1_crc8(const uint8_t* data, size_t len);

class Ds18b20 final : public Device {
 public:
  static constexpr size_t kIdLen = 15;  // "28-" + 12 hex digits

  /// `name` and `tree` must outlive the device; `id` is copied.
  Ds18b20(const char* name, hal::SysfsTree& tree, const char* id);

  size_t channel_count() const override { return 1; }
  const ChannelSpec& channel(size_t i) const override;
  /// Checks that the sensor is on the bus (its directory) and which attribute
  /// to read. No conversion. Errors: NotFound, Io.
  hal::Err init() override;
  /// One conversion. On failure the previous value stays. Errors: see above.
  hal::Err sample() override;
  /// Errors: NotReady (no sample yet), NotFound.
  hal::Result<Value> get(size_t i) const override;
  /// Errors: ReadOnly, NotFound.
  hal::Err set(size_t i, const Value& v) override;
  const char* error_detail() const override { return detail_.text; }

  /// True when init() found the `temperature` attribute (else w1_slave).
  bool uses_temperature_attr() const { return use_temperature_; }

 private:
  friend struct Ds18b20Scan;
  hal::Err read_w1_slave(int64_t* milli);

  hal::SysfsTree& tree_;
  char id_[kIdLen + 1] = {};
  bool use_temperature_ = false;
  int64_t milli_c_ = 0;
  bool ready_ = false;
  bool have_sample_ = false;
  DriverError detail_;
};

/// Factory for "maxim,ds18b20". Needs the board's sysfs tree and params.id.
std::unique_ptr<Device> create_ds18b20(const DeviceConfig& config, DriverError* error);

}  // namespace drv

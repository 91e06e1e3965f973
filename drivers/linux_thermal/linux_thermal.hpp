// "linux,thermal-zone": the temperature of a kernel thermal zone
// (class/thermal/thermal_zoneN), read through the board's attribute tree
// (hal::SysfsTree; /sys on Linux). ABI: Documentation/ABI/testing/
// sysfs-class-thermal ("temp: Current temperature as reported by thermal
// zone (sensor). Unit: millidegree Celsius").
//
// The zone: params.zone, either its `type` attribute (text: "x86_pkg_temp",
// "cpu-thermal", "acpitz"; the lowest N when several share it) or N (an
// integer).
//
// Channel: `temperature`, Cel, exponent -3 (the kernel's millidegrees).
//
// Errors: init() NotFound (no such zone), Io/NotFound from a first read of
// `temp` (a zone whose sensor cannot be read is left out at start);
// sample() NotFound (the zone went away), Io (malformed text, EIO/ENODATA,
// or a value below absolute zero: the kernel's THERMAL_TEMP_INVALID is
// -274000). Each failure leaves a line in error_detail().
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "drv/device.hpp"
#include "drv/driver_table.hpp"
#include "hal/sysfs_tree.hpp"

namespace drv {

class LinuxThermalZone final : public Device {
 public:
  static constexpr size_t kMaxSelectorLen = 31;

  /// `name` and `tree` must outlive the device; `zone_type` (null = by
  /// `index`) is copied.
  LinuxThermalZone(const char* name, hal::SysfsTree& tree, const char* zone_type, uint32_t index);

  size_t channel_count() const override { return 1; }
  const ChannelSpec& channel(size_t i) const override;
  /// Finds the zone and reads it once. Errors: see the file comment.
  hal::Err init() override;
  /// Reads `temp`. On failure the previous value stays. Errors: NotReady
  /// (before init), NotFound, Io.
  hal::Err sample() override;
  /// Errors: NotReady (no sample yet), NotFound.
  hal::Result<Value> get(size_t i) const override;
  /// Errors: ReadOnly, NotFound.
  hal::Err set(size_t i, const Value& v) override;
  const char* error_detail() const override { return detail_.text; }

 private:
  hal::Err read_temp(int64_t* milli);

  hal::SysfsTree& tree_;
  char selector_[kMaxSelectorLen + 1] = {};
  bool by_type_ = false;
  uint32_t index_ = 0;
  char path_[hal::SysfsTree::kMaxPathLen + 1] = {};  // "class/thermal/thermal_zone0/temp"
  int64_t milli_c_ = 0;
  bool ready_ = false;
  bool have_sample_ = false;
  DriverError detail_;
};

/// Factory for "linux,thermal-zone". Needs the board's sysfs tree.
std::unique_ptr<Device> create_linux_thermal_zone(const DeviceConfig& config, DriverError* error);

}  // namespace drv

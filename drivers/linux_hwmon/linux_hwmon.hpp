// "linux,hwmon": a kernel hardware-monitoring device (coretemp, cpu_thermal,
// nct6775, an I2C sensor bound to its hwmon driver, ...) as channels, read
// through the board's attribute tree (hal::SysfsTree; /sys on Linux). The ABI
// is Documentation/ABI/testing/sysfs-class-hwmon.
//
// The device: class/hwmon/hwmonN, chosen by params.device: its `name`
// attribute (text: "coretemp"; the lowest N when several share it) or N (an
// integer).
//
// Channels are discovered at init() from `<kind><N>_input` attributes:
//   temp    milli °C   -> Cel    (x 10^-3)
//   in      mV         -> V      (x 10^-3)
//   curr    mA         -> A      (x 10^-3)
//   power   µW         -> W      (x 10^-6)
//   energy  µJ         -> J      (x 10^-6)
//   humidity milli %RH -> %RH    (x 10^-3)
//   fan     RPM        -> 1/min
// A channel is named after its `<kind><N>_label` when there is one
// ("Package id 0" -> "package_id_0": lower case, other characters '_'),
// unless params.labels is 0 or that name is taken; else `<kind><N>`
// ("temp1"). Order: by kind as above, then N (or params.channels' order).
// At most kMaxChannels.
//
// params:
//   device    text (the hwmon name) or integer N (hwmonN); required
//   labels    0/1 (1): name channels after their labels
//   channels  text: comma-separated channel names, in that order
//
// Errors: init() NotFound (no such device, a listed channel missing, no
// channel), NoSpace (more than kMaxChannels: choose with params.channels);
// sample() NotFound (the device went away), Io (malformed text, EIO/ENODATA
// from the chip). Each failure leaves a line in error_detail().
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "drv/device.hpp"
#include "drv/driver_table.hpp"
#include "drv/sysfs_attr.hpp"
#include "hal/sysfs_tree.hpp"

namespace drv {

class LinuxHwmon final : public Device {
 public:
  static constexpr size_t kMaxChannels = 16;
  static constexpr size_t kMaxQuantityLen = 31;
  static constexpr size_t kMaxSelectorLen = 31;
  static constexpr size_t kMaxChannelsParamLen = 127;

  /// `name` and `tree` must outlive the device; `device_name` (null = by
  /// `index`) and `channels` are copied.
  LinuxHwmon(const char* name, hal::SysfsTree& tree, const char* device_name, uint32_t index, bool labels,
             const char* channels);

  size_t channel_count() const override { return count_; }
  const ChannelSpec& channel(size_t i) const override;
  /// Finds the device and discovers its channels. Errors: see the file comment.
  hal::Err init() override;
  /// Reads every channel's _input. On failure the previous snapshot stays.
  /// Errors: NotReady (before init), NotFound, Io.
  hal::Err sample() override;
  /// Errors: NotReady (no sample yet), NotFound.
  hal::Result<Value> get(size_t i) const override;
  /// Errors: ReadOnly, NotFound.
  hal::Err set(size_t i, const Value& v) override;
  const char* error_detail() const override { return detail_.text; }

 private:
  struct Chan {
    char attr[24];  // "temp1_input"
    char quantity[kMaxQuantityLen + 1];
    uint8_t kind;
    uint32_t number;
    ChannelSpec spec;
  };
  friend struct HwmonScan;

  hal::Err discover();
  void name_channel(Chan& c);
  bool before(const Chan& a, const Chan& b) const;

  hal::SysfsTree& tree_;
  char selector_[kMaxSelectorLen + 1] = {};
  bool by_name_ = false;
  uint32_t index_ = 0;
  bool labels_ = true;
  char wanted_[kMaxChannelsParamLen + 1] = {};
  char dir_[hal::SysfsTree::kMaxNameLen + 1] = {};
  Chan chans_[kMaxChannels] = {};
  Decimal values_[kMaxChannels] = {};
  size_t count_ = 0;
  bool ready_ = false;
  bool have_sample_ = false;
  DriverError detail_;
};

/// Factory for "linux,hwmon". Needs the board's sysfs tree.
std::unique_ptr<Device> create_linux_hwmon(const DeviceConfig& config, DriverError* error);

}  // namespace drv

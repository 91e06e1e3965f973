// "linux,iio": any kernel Industrial I/O device as channels, read through
// the board's attribute tree (hal::SysfsTree; /sys on Linux). The ABI is
// Documentation/ABI/testing/sysfs-bus-iio.
//
// The device: bus/iio/devices/iio:deviceN, chosen by params.device, either its
// `name` attribute (text: "bme280"; the lowest N when several share it) or N
// (an integer).
//
// Channels are discovered at init() from the device's attributes:
//   in_<spec>_input                     processed: value = input
//   in_<spec>_raw [+ _scale, _offset]   value = (raw + offset) * scale
// where _scale/_offset are `in_<spec>_scale` or, shared by type,
// `in_<type>_scale` (scale 1 and offset 0 when absent; both read once at
// init). `_input` wins over `_raw` for the same <spec>. <spec> is an IIO type,
// then an optional index and modifier ("temp", "voltage0", "accel_x",
// "temp_ambient"); the quantity is the type's name below plus that rest
// ("voltage0", "acceleration_x", "temperature_ambient"). Types and the unit
// conversion from the ABI's unit to the SenML one:
//   temp              milli °C      -> temperature   Cel    (x 10^-3)
//   humidityrelative  milli %       -> humidity      %RH    (x 10^-3)
//   pressure          kPa           -> pressure      Pa     (x 10^3)
//   voltage           mV            -> voltage       V      (x 10^-3)
//   current           mA            -> current       A      (x 10^-3)
//   power             mW            -> power         W      (x 10^-3)
//   illuminance       lux           -> illuminance   lx
//   resistance        ohm           -> resistance    Ohm
//   concentration     percent       -> concentration ppm    (x 10^4)
//   accel             m/s^2         -> acceleration  m/s2
//   anglvel           rad/s         -> angular_velocity rad/s
//   magn              Gauss         -> magnetic_field T     (x 10^-4)
//   distance          m             -> distance      m
// Other types (intensity, proximity, steps, ...) have no SenML unit and are
// skipped. Without params.channels every discovered channel is used, sorted by
// quantity; at most kMaxChannels.
//
// params:
//   device    text (the IIO name) or integer N (iio:deviceN); required
//   channels  text: comma-separated quantities ("temperature,pressure"), in
//             that order; each must be discovered at init
//
// Errors: init() NotFound (no such device, a listed channel missing, no
// channel at all), NoSpace (more than kMaxChannels channels: choose with
// params.channels), Io (a malformed scale/offset); sample() NotFound (the
// device went away), Io (malformed or out-of-range text, EIO). Each failure
// leaves a line in error_detail(). No heap after the factory.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "drv/device.hpp"
#include "drv/driver_table.hpp"
#include "drv/sysfs_attr.hpp"
#include "hal/sysfs_tree.hpp"

namespace drv {

class LinuxIio final : public Device {
 public:
  static constexpr size_t kMaxChannels = 16;
  static constexpr size_t kMaxQuantityLen = 31;
  static constexpr size_t kMaxSelectorLen = 31;
  static constexpr size_t kMaxChannelsParamLen = 127;

  /// `name` and `tree` must outlive the device. `device_name` (null = by
  /// `index`) and `channels` (null or "" = all) are copied.
  LinuxIio(const char* name, hal::SysfsTree& tree, const char* device_name, uint32_t index, const char* channels);

  size_t channel_count() const override { return count_; }
  const ChannelSpec& channel(size_t i) const override;
  /// Finds the device and discovers its channels (see the file comment).
  hal::Err init() override;
  /// Reads every channel's input/raw attribute. On failure the previous
  /// snapshot stays. Errors: NotReady (before init), NotFound, Io.
  hal::Err sample() override;
  /// Errors: NotReady (no sample yet), NotFound.
  hal::Result<Value> get(size_t i) const override;
  /// Every channel is a sensor. Errors: ReadOnly, NotFound.
  hal::Err set(size_t i, const Value& v) override;
  const char* error_detail() const override { return detail_.text; }

  /// The directory found at init ("iio:device0"), "" before.
  const char* device_dir() const { return dir_; }

 private:
  struct Chan {
    char attr[hal::SysfsTree::kMaxNameLen + 1];  // "in_voltage0_raw"
    char quantity[kMaxQuantityLen + 1];          // "voltage0"
    bool raw;
    int8_t shift;
    Decimal scale;
    Decimal offset;
    ChannelSpec spec;
  };
  friend struct IioScan;

  hal::Err discover();
  bool before(const Chan& a, const Chan& b) const;
  hal::Err load_scale(Chan& c, const char* type);

  hal::SysfsTree& tree_;
  char selector_[kMaxSelectorLen + 1] = {};
  bool by_name_ = false;
  uint32_t index_ = 0;
  char wanted_[kMaxChannelsParamLen + 1] = {};
  char dir_[hal::SysfsTree::kMaxNameLen + 1] = {};
  Chan chans_[kMaxChannels] = {};
  Decimal values_[kMaxChannels] = {};
  size_t count_ = 0;
  bool ready_ = false;
  bool have_sample_ = false;
  DriverError detail_;
};

/// Factory for "linux,iio". Needs the board's sysfs tree.
std::unique_ptr<Device> create_linux_iio(const DeviceConfig& config, DriverError* error);

}  // namespace drv

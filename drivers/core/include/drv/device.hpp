// A device instance on a board: one chip or one pin function, with its channels.
#pragma once

#include <cstddef>

#include "drv/channel.hpp"
#include "hal/status.hpp"

namespace drv {

/// Lifecycle: init() once; then sample() takes one coherent snapshot of every
/// sensor channel (one bus burst), and get() only converts that snapshot.
class Device {
 public:
  virtual ~Device() = default;
  Device(const Device&) = delete;
  Device& operator=(const Device&) = delete;

  /// Instance name from the board file ("env0"). Lives as long as the device.
  const char* name() const { return name_; }
  /// The "vendor,part" compatible string this device was created from.
  const char* compatible() const { return compatible_; }

  /// Drivers that discover their channels (linux,iio, linux,hwmon) know
  /// them only after a successful init(): 0 before.
  virtual size_t channel_count() const = 0;
  /// Precondition: i < channel_count().
  virtual const ChannelSpec& channel(size_t i) const = 0;

  /// Checks chip identity and loads calibration/initial state.
  /// Errors: Nack, Timeout, Io (bus), BadChipId, InvalidArgument (bad parameters).
  virtual hal::Err init() = 0;
  /// One coherent snapshot of all channels. Errors: as the bus returns, NotReady.
  virtual hal::Err sample() = 0;
  /// Converts channel `i` of the last snapshot. Errors: NotReady (no snapshot
  /// yet), NotFound (i out of range).
  virtual hal::Result<Value> get(size_t i) const = 0;
  /// Drives actuator channel `i`. Errors: ReadOnly (a sensor channel),
  /// InvalidArgument (wrong type/range), NotFound, bus errors.
  virtual hal::Err set(size_t i, const Value& v) {
    (void)i;
    (void)v;
    return hal::Err::NotSupported;
  }
  /// Inputs that change on their own (a GPIO input's debounced edges):
  /// consumes what happened since the last call, without blocking, and returns
  /// true when a channel's value changed (the next sample() sees the new
  /// value). The runtime calls it every loop turn for devices that report
  /// "on_change". Default: nothing changes by itself.
  virtual bool poll_changes() { return false; }
  /// What the error code of the last failed init() or sample() does not say,
  /// in one line (`no IIO device named "bme280" in bus/iio/devices`), or ""
  /// when there is nothing to add. The board appends it to a failed device's
  /// text. Valid until the next call on the device.
  virtual const char* error_detail() const { return ""; }

 protected:
  Device(const char* name, const char* compatible) : name_(name), compatible_(compatible) {}

 private:
  const char* name_;
  const char* compatible_;
};

}  // namespace drv

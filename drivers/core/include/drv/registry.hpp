// The set of live devices on a board and name lookup for their channels.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "drv/device.hpp"
#include "hal/status.hpp"

namespace drv {

struct ChannelRef {
  Device* device = nullptr;
  uint8_t index = 0;
  const ChannelSpec& spec() const { return device->channel(index); }
};

/// Fixed capacity, filled at start-up; owns its devices.
class Registry {
 public:
  static constexpr size_t kMaxDevices = 32;

  /// Takes ownership. Errors: NoSpace (table full), InvalidArgument (null or a
  /// duplicate device name).
  hal::Err add(std::unique_ptr<Device> device);

  size_t device_count() const { return count_; }
  Device& device(size_t i) const { return *devices_[i]; }
  /// Total channels across all devices.
  size_t channel_count() const;

  /// Looks up "device.quantity". Errors: NotFound.
  hal::Result<ChannelRef> find(const char* full_name) const;

  /// Calls sample() on every device and remembers each outcome.
  /// Returns how many devices failed.
  size_t sample_all();
  /// Calls sample() on device i only (precondition: i < device_count()),
  /// remembers and returns the outcome (the errors of Device::sample()).
  hal::Err sample(size_t i);
  /// Outcome of device i's last sample() (Ok before the first).
  hal::Err last_sample_error(size_t i) const { return last_err_[i]; }

 private:
  std::unique_ptr<Device> devices_[kMaxDevices];
  hal::Err last_err_[kMaxDevices] = {};
  size_t count_ = 0;
};

}  // namespace drv

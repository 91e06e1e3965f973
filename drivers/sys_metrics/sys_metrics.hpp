// Facts about the host as channels ("xiot,system-metrics").
//
// Channels (in this order), all numeric sensors:
//   uptime         s   whole seconds since boot           (exponent 0)
//   load           /   1-minute load average (a ratio)    (exponent -3, from load1_milli)
//   mem_available  B   memory available for new work      (exponent 0)
//   mem_used       %   (total - available) / total        (exponent -1, 0.1 %)
// No board resources besides the system info; no parameters.
#pragma once

#include <cstdint>
#include <memory>

#include "drv/device.hpp"
#include "drv/driver_table.hpp"
#include "hal/system_info.hpp"

namespace drv {

class SysMetrics final : public Device {
 public:
  /// `name` and `info` must outlive the device.
  SysMetrics(const char* name, hal::SystemInfo& info);

  size_t channel_count() const override;
  const ChannelSpec& channel(size_t i) const override;
  /// Takes one reading to prove the source works. Errors: Io (from the source).
  hal::Err init() override;
  /// Reads uptime, load and memory. A source without load averages
  /// (NotSupported) is not an error: that channel's get() returns NotSupported.
  /// Errors: Io (from the source; the previous snapshot stays), NotReady
  /// (before init()).
  hal::Err sample() override;
  /// Errors: NotReady (no sample yet), NotFound, NotSupported (load on a
  /// system without it).
  hal::Result<Value> get(size_t i) const override;
  /// Every channel is a sensor. Errors: ReadOnly, NotFound.
  hal::Err set(size_t i, const Value& v) override;

 private:
  hal::SystemInfo& info_;
  bool ready_ = false;
  bool have_sample_ = false;
  bool have_load_ = false;
  uint64_t uptime_s_ = 0;
  uint32_t load1_milli_ = 0;
  uint64_t available_ = 0;
  uint32_t used_permille_ = 0;
};

/// Factory for "xiot,system-metrics". Needs `system_info`.
std::unique_ptr<Device> create_sys_metrics(const DeviceConfig& config, DriverError* error);

}  // namespace drv

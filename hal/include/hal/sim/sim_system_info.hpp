// Deterministic system facts for the simulated board and unit tests.
#pragma once

#include <cstdint>

#include "hal/clock.hpp"
#include "hal/system_info.hpp"

namespace hal {
namespace sim {

/// Uptime follows the injected monotonic clock (uptime = mono_now().us/1000
/// minus the clock reading at construction, plus set_boot_offset_ms()); load
/// and memory are whatever the test set, with these defaults:
///   load 0.25 / 0.20 / 0.15, memory 256 MiB total, 192 MiB available.
class SimSystemInfo final : public SystemInfo {
 public:
  static constexpr uint64_t kDefaultTotalBytes = 256ULL * 1024 * 1024;
  static constexpr uint64_t kDefaultAvailableBytes = 192ULL * 1024 * 1024;

  /// `clock` must outlive this object.
  explicit SimSystemInfo(MonotonicClock& clock);

  /// Errors: as injected by fail_uptime().
  Result<uint64_t> uptime_ms() override;
  /// Errors: as injected by fail_load() (NotSupported models an OS without it).
  Result<LoadAverage> load() override;
  /// Errors: as injected by fail_memory().
  Result<MemoryInfo> memory() override;

  void set_load(LoadAverage l) { load_ = l; }
  void set_memory(MemoryInfo m) { memory_ = m; }
  /// Uptime the system already had when this object was created.
  void set_boot_offset_ms(uint64_t ms) { offset_ms_ = ms; }
  /// Every later call of that method fails with `err` until set back to Ok.
  void fail_uptime(Err err) { uptime_err_ = err; }
  void fail_load(Err err) { load_err_ = err; }
  void fail_memory(Err err) { memory_err_ = err; }

 private:
  MonotonicClock& clock_;
  MonoTime start_;
  uint64_t offset_ms_ = 0;
  LoadAverage load_{250, 200, 150};
  MemoryInfo memory_{kDefaultTotalBytes, kDefaultAvailableBytes};
  Err uptime_err_ = Err::Ok;
  Err load_err_ = Err::Ok;
  Err memory_err_ = Err::Ok;
};

}  // namespace sim
}  // namespace hal

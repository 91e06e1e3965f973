// Facts about the running system, for the system-metrics device and diagnostics.
#pragma once

#include <cstdint>

#include "hal/status.hpp"

namespace hal {

/// Load averages in thousandths (1.25 -> 1250).
struct LoadAverage {
  uint32_t load1_milli = 0;
  uint32_t load5_milli = 0;
  uint32_t load15_milli = 0;
};

struct MemoryInfo {
  uint64_t total_bytes = 0;
  uint64_t available_bytes = 0;
};

class SystemInfo {
 public:
  virtual ~SystemInfo() = default;
  /// Seconds*1000 since the system booted. Errors: Io.
  virtual Result<uint64_t> uptime_ms() = 0;
  /// Errors: NotSupported (no such notion on this OS), Io.
  virtual Result<LoadAverage> load() = 0;
  /// Errors: Io.
  virtual Result<MemoryInfo> memory() = 0;
};

}  // namespace hal

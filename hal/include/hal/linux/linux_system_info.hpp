// hal::SystemInfo from procfs.
#pragma once

#include <cstddef>

#include "hal/system_info.hpp"

namespace hal {
namespace linux_ {

/// Reads <proc_root>/uptime, <proc_root>/loadavg and <proc_root>/meminfo on
/// every call (small files; a few µs each). No allocation.
class LinuxSystemInfo final : public SystemInfo {
 public:
  static constexpr size_t kMaxRootLen = 127;

  /// `proc_root` is copied; tests point it at a directory of fake files.
  explicit LinuxSystemInfo(const char* proc_root = "/proc");

  /// Errors: Io (file missing, unreadable or not in the expected format).
  Result<uint64_t> uptime_ms() override;
  Result<LoadAverage> load() override;
  /// Uses MemAvailable (kernel >= 3.14). Errors: Io.
  Result<MemoryInfo> memory() override;

 private:
  Result<size_t> slurp(const char* name, char* buf, size_t cap) const;
  char root_[kMaxRootLen + 1] = {};
};

}  // namespace linux_
}  // namespace hal

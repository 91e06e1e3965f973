// hal::TimeSync from systemd-timesyncd: it creates
// /run/systemd/timesync/synchronized once it has set the clock from NTP
// (systemd-timesyncd.service(8); systemd-time-wait-sync waits on the same
// file). The path is injectable for tests.
#pragma once

#include <cstddef>

#include "hal/time_sync.hpp"

namespace hal {
namespace linux_ {

class TimesyncdFlag final : public TimeSync {
 public:
  static constexpr const char* kDefaultPath = "/run/systemd/timesync/synchronized";
  static constexpr size_t kPathMax = 256;

  /// `path` is copied; nullptr = kDefaultPath.
  explicit TimesyncdFlag(const char* path = nullptr);
  /// True when the file exists.
  bool synchronized() override;
  const char* path() const { return path_; }

 private:
  char path_[kPathMax] = {};
};

}  // namespace linux_
}  // namespace hal

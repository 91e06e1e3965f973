// Whether the system's time synchronisation says the wall clock is set (the
// clock sanity check of agent/clock_gate.hpp). Backend: hal/linux
// (TimesyncdFlag: systemd-timesyncd's /run/systemd/timesync/synchronized).
#pragma once

namespace hal {

class TimeSync {
 public:
  virtual ~TimeSync() = default;
  /// True once the clock has been synchronised since boot. Cheap enough to
  /// ask once per loop turn (a stat()).
  virtual bool synchronized() = 0;
};

}  // namespace hal

// Time sources. Monotonic time (timeouts, backoff, scheduling) and wall time
// (timestamps on the wire) are different types so they cannot be mixed up.
#pragma once

#include <cstdint>

namespace hal {

/// A point on the monotonic clock, microseconds since an arbitrary epoch.
struct MonoTime {
  int64_t us = 0;
  friend bool operator<(MonoTime a, MonoTime b) { return a.us < b.us; }
  friend bool operator<=(MonoTime a, MonoTime b) { return a.us <= b.us; }
  friend bool operator>(MonoTime a, MonoTime b) { return a.us > b.us; }
  friend bool operator>=(MonoTime a, MonoTime b) { return a.us >= b.us; }
  friend bool operator==(MonoTime a, MonoTime b) { return a.us == b.us; }
  friend bool operator!=(MonoTime a, MonoTime b) { return a.us != b.us; }
  MonoTime plus_us(int64_t d) const { return MonoTime{us + d}; }
  MonoTime plus_ms(int64_t d) const { return MonoTime{us + d * 1000}; }
  /// Microseconds from `earlier` to this point (negative if `earlier` is later).
  int64_t us_since(MonoTime earlier) const { return us - earlier.us; }
};

/// Wall-clock time: microseconds since the Unix epoch (UTC).
struct WallTime {
  int64_t unix_us = 0;
};

/// Never goes backwards; unaffected by wall-clock changes.
class MonotonicClock {
 public:
  virtual ~MonotonicClock() = default;
  virtual MonoTime mono_now() = 0;
};

/// Calendar time; may jump when the system clock is set.
class WallClock {
 public:
  virtual ~WallClock() = default;
  virtual WallTime wall_now() = 0;
};

}  // namespace hal

// Clock sanity (docs/time.md). A board without a battery-backed clock boots
// in 1970, and then every certificate looks not yet valid. The agent never
// weakens verification to get around that: it does not connect while the wall
// clock is before the time this agent was built (XIOT_BUILD_UNIX_S, compiled
// in), and waits until either the clock has passed it or the system's time
// synchronisation (hal::TimeSync: systemd-timesyncd's flag file) says the
// clock is set. AgentRuntime asks check() once per loop turn while waiting.
#pragma once

#include <cstddef>
#include <cstdint>

#include "hal/clock.hpp"
#include "hal/time_sync.hpp"

namespace agent {

class ClockGate {
 public:
  static constexpr size_t kLineMax = 256;

  /// `sync` may be null (then only the wall clock passing the build time
  /// opens the gate). Borrowed; must outlive the gate.
  ClockGate(hal::WallClock& wall, hal::MonotonicClock& mono, int64_t build_unix_s, hal::TimeSync* sync);

  /// True when the clock may be trusted: the wall clock is not before the
  /// build time, or time synchronisation says it was set. Once true it stays
  /// true (a later clock step does not stop a running agent). The first call
  /// that finds it false starts the wait (see waited_s()).
  bool check();
  /// Whether the gate ever had to wait, and for how long (monotonic seconds
  /// from the first failed check() to the one that opened it).
  bool waited() const { return waited_; }
  int64_t waited_s() const { return waited_us_ / 1000000; }
  /// Why it waits (valid after a check() that returned false), e.g. "wall
  /// clock 1970-01-01T00:00:05Z is before this build (2026-12-06T00:00:00Z):
  /// waiting for time synchronisation before connecting; certificates cannot
  /// be checked".
  const char* waiting_line() const { return line_; }
  /// How it opened (valid after a check() that returned true after a wait):
  /// "wall clock 2026-12-06T03:00:00Z after time synchronisation (waited 42 s)".
  const char* opened_line() const { return line_; }
  /// True if the last check() opened the gate because of the time sync flag
  /// while the clock was still before the build time.
  bool trusted_sync() const { return by_sync_; }

  /// `unix_s` as "YYYY-MM-DDThh:mm:ssZ" (UTC) into `buf` (at least 21 bytes).
  static void format_utc(int64_t unix_s, char* buf, size_t cap);

 private:
  hal::WallClock& wall_;
  hal::MonotonicClock& mono_;
  int64_t build_s_;
  hal::TimeSync* sync_;
  bool open_ = false;
  bool waiting_ = false;
  bool waited_ = false;
  bool by_sync_ = false;
  hal::MonoTime wait_start_{};
  int64_t waited_us_ = 0;
  char line_[kLineMax] = {};
};

}  // namespace agent

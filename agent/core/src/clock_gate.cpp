// See agent/clock_gate.hpp.
#include "agent/clock_gate.hpp"

#include <cstdio>

namespace agent {

namespace {

// Days since 1970-01-01 to a civil date (Howard Hinnant's algorithm).
void civil_from_days(int64_t z, int64_t* y, unsigned* m, unsigned* d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp < 10 ? mp + 3 : mp - 9;
  *y = static_cast<int64_t>(yoe) + era * 400 + (*m <= 2 ? 1 : 0);
}

int64_t floor_div(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0)) ? 1 : 0); }

}  // namespace

ClockGate::ClockGate(hal::WallClock& wall, hal::MonotonicClock& mono, int64_t build_unix_s, hal::TimeSync* sync)
    : wall_(wall), mono_(mono), build_s_(build_unix_s), sync_(sync) {}

void ClockGate::format_utc(int64_t unix_s, char* buf, size_t cap) {
  const int64_t days = floor_div(unix_s, 86400);
  const int64_t secs = unix_s - days * 86400;
  int64_t y = 0;
  unsigned m = 0;
  unsigned d = 0;
  civil_from_days(days, &y, &m, &d);
  std::snprintf(buf, cap, "%04lld-%02u-%02uT%02lld:%02lld:%02lldZ", static_cast<long long>(y), m, d,
                static_cast<long long>(secs / 3600), static_cast<long long>(secs / 60 % 60),
                static_cast<long long>(secs % 60));
}

bool ClockGate::check() {
  if (open_) return true;
  const int64_t now_s = floor_div(wall_.wall_now().unix_us, 1000000);
  const bool clock_ok = now_s >= build_s_;
  const bool synced = !clock_ok && sync_ != nullptr && sync_->synchronized();
  char now_text[32];
  format_utc(now_s, now_text, sizeof now_text);
  if (clock_ok || synced) {
    open_ = true;
    by_sync_ = synced;
    if (waiting_) {
      waited_ = true;
      waited_us_ = mono_.mono_now().us_since(wait_start_);
      std::snprintf(line_, sizeof line_, "wall clock %s %s (waited %lld s)", now_text,
                    synced ? "trusted: time synchronisation says it is set" : "is after this build",
                    static_cast<long long>(waited_us_ / 1000000));
    }
    return true;
  }
  if (!waiting_) {
    waiting_ = true;
    wait_start_ = mono_.mono_now();
  }
  char build_text[32];
  format_utc(build_s_, build_text, sizeof build_text);
  std::snprintf(line_, sizeof line_,
                "wall clock %s is before this build (%s): waiting for time synchronisation before connecting; "
                "certificates cannot be checked",
                now_text, build_text);
  return false;
}

}  // namespace agent

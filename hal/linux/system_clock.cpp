#include "hal/linux/system_clock.hpp"

#include <time.h>

namespace hal {
namespace linux_ {

namespace {
int64_t read_us(clockid_t id) {
  struct timespec ts {};
  // clock_gettime cannot fail for these clock ids with a valid pointer.
  (void)clock_gettime(id, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000 + ts.tv_nsec / 1000;
}
}  // namespace

MonoTime SystemClock::mono_now() { return MonoTime{read_us(CLOCK_MONOTONIC)}; }

WallTime SystemClock::wall_now() { return WallTime{read_us(CLOCK_REALTIME)}; }

}  // namespace linux_
}  // namespace hal

#include "hal/sim/manual_clock.hpp"

namespace hal {
namespace sim {

MonoTime ManualClock::mono_now() {
  const MonoTime now = mono_;
  if (auto_advance_us_ > 0) advance_us(auto_advance_us_);
  return now;
}

void ManualClock::advance_us(int64_t us) {
  if (us <= 0) return;
  mono_.us += us;
  wall_.unix_us += us;
}

}  // namespace sim
}  // namespace hal

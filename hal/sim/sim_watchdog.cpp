#include "hal/sim/sim_watchdog.hpp"

namespace hal {
namespace sim {

Err SimWatchdog::start(uint32_t timeout_ms) {
  if (timeout_ms == 0 || timeout_ms > kMaxTimeoutMs) return Err::NotSupported;
  timeout_ms_ = timeout_ms;
  running_ = true;
  last_kick_ = clock_.mono_now();
  return Err::Ok;
}

Err SimWatchdog::feed() {
  if (!running_) return Err::NotReady;
  ++feeds_;
  last_kick_ = clock_.mono_now();
  return Err::Ok;
}

Err SimWatchdog::stop() {
  running_ = false;
  return Err::Ok;
}

bool SimWatchdog::expired() {
  if (!running_) return false;
  return clock_.mono_now().us_since(last_kick_) > static_cast<int64_t>(timeout_ms_) * 1000;
}

}  // namespace sim
}  // namespace hal

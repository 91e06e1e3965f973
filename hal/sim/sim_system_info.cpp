#include "hal/sim/sim_system_info.hpp"

namespace hal {
namespace sim {

SimSystemInfo::SimSystemInfo(MonotonicClock& clock) : clock_(clock), start_(clock.mono_now()) {}

Result<uint64_t> SimSystemInfo::uptime_ms() {
  if (uptime_err_ != Err::Ok) return uptime_err_;
  const int64_t since = clock_.mono_now().us_since(start_);
  return offset_ms_ + static_cast<uint64_t>(since > 0 ? since / 1000 : 0);
}

Result<LoadAverage> SimSystemInfo::load() {
  if (load_err_ != Err::Ok) return load_err_;
  return load_;
}

Result<MemoryInfo> SimSystemInfo::memory() {
  if (memory_err_ != Err::Ok) return memory_err_;
  return memory_;
}

}  // namespace sim
}  // namespace hal

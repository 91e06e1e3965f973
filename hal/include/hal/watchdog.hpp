// Hardware (or software) watchdog. The agent feeds it in exactly one place,
// AgentRuntime::tick(), once per loop turn and only while the loop is healthy
// (the rule is in agent/runtime.hpp).
#pragma once

#include <cstdint>

#include "hal/status.hpp"

namespace hal {

class Watchdog {
 public:
  virtual ~Watchdog() = default;
  /// Arms the watchdog. Errors: NotSupported (timeout impossible), Io.
  virtual Err start(uint32_t timeout_ms) = 0;
  /// Restarts the countdown. Errors: NotReady (not started), Io.
  virtual Err feed() = 0;
  /// Disarms it, where the hardware allows. Errors: NotSupported, Io.
  virtual Err stop() = 0;
};

}  // namespace hal

// Restarting the device (the `reboot` command). On a board this is a system
// reset; on a Linux host or the simulated board the agent restarts itself.
#pragma once

#include "hal/status.hpp"

namespace hal {

class Restart {
 public:
  virtual ~Restart() = default;
  /// Restarts now. Returns only on failure (the caller reports it and keeps
  /// running). Call after the agent went offline cleanly.
  /// Errors: NotSupported, Io.
  virtual Err restart() = 0;
};

}  // namespace hal

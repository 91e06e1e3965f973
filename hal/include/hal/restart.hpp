// Restarting the device (the `reboot` command). On a board this is a system
// reset; on a Linux host or the simulated board the agent restarts itself.
#pragma once

#include "hal/status.hpp"

namespace hal {

class Restart {
 public:
  virtual ~Restart() = default;
  /// Restarts now. Call after the agent went offline cleanly. A backend that
  /// restarts in place (exec) returns only on failure; one that asks the
  /// system to reboot (logind) returns Ok once the request was accepted, and
  /// the caller then exits (the system stops it). On failure the caller logs
  /// error_text() and keeps running.
  /// Errors: NotSupported, InvalidArgument, Io.
  virtual Err restart() = 0;
  /// Why the last restart() failed, one line for a log ("" when the backend
  /// has nothing to add to the Err). Lives as long as the object.
  virtual const char* error_text() const { return ""; }
};

}  // namespace hal

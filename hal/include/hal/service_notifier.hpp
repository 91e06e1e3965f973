// The service manager that runs the agent (systemd on Linux): told when the
// agent is ready, what its status line says, that its loop is alive, and
// that it is stopping. A second watchdog sink beside hal::Watchdog: the
// runtime calls keepalive() only in the one place it feeds the board's
// watchdog (AgentRuntime::tick(), only while the loop is healthy), status()
// when the presence status line changes; the composition root (agent/app)
// calls ready() and stopping().
#pragma once

#include "hal/status.hpp"

namespace hal {

class ServiceNotifier {
 public:
  virtual ~ServiceNotifier() = default;
  /// Start-up is complete. Errors: NotSupported (no service manager), Io.
  virtual Err ready() = 0;
  /// One status line (a newline in it is sent as a space). Errors as ready().
  virtual Err status(const char* line) = 0;
  /// The loop is alive. Sends only when the service manager asked for a
  /// watchdog, at most as often as it needs. Errors: NotSupported (no
  /// watchdog asked for), Io.
  virtual Err keepalive() = 0;
  /// A clean stop has begun. Errors as ready().
  virtual Err stopping() = 0;
};

}  // namespace hal

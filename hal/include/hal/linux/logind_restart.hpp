// hal::Restart for a device run by systemd: asks systemd-logind to reboot the
// machine (org.freedesktop.login1.Manager.Reboot(interactive=false) on the
// system D-Bus, through sd-bus from libsystemd). The agent need not be root:
// logind asks polkit, and the xiot-agent package installs a polkit rule that
// lets user xiot reboot (docs/provisioning.md "Reboot").
#pragma once

#include <cstddef>

#include "hal/restart.hpp"

namespace hal {
namespace linux_ {

class LogindRestart final : public Restart {
 public:
  /// Longest error_text(), NUL included.
  static constexpr size_t kErrorMax = 256;

  /// Connects to the system bus (sd_bus_open_system: $DBUS_SYSTEM_BUS_ADDRESS,
  /// else /run/dbus/system_bus_socket), calls Reboot(false) and waits for
  /// logind's answer (sd-bus' default method timeout, 25 s). Returns Ok when
  /// logind accepted: the machine then shuts down asynchronously and systemd
  /// stops the agent with SIGTERM. Errors: Io (no system bus, or logind
  /// refused: polkit denied, an inhibitor, logind not running), with
  /// error_text() naming the reason (the sd_bus_error name and message, or
  /// the errno text of the connection).
  Err restart() override;
  /// Why the last restart() failed, one line; "" after a success.
  const char* error_text() const override { return error_; }

 private:
  char error_[kErrorMax] = {};
};

}  // namespace linux_
}  // namespace hal

// Opening the D-Bus connection the sd-bus backends (RaucInstaller,
// DebInstaller) talk over. Internal to hal/linux: not part of the HAL interface.
#pragma once

#include <systemd/sd-bus.h>

namespace hal {
namespace linux_ {

/// Opens the system bus when `address` is empty, else a client connection to
/// `address` (a test's private bus). Returns sd-bus's result (negative errno);
/// on success *bus is the new connection.
inline int open_bus(const char* address, sd_bus** bus) {
  if (address == nullptr || address[0] == '\0') return sd_bus_open_system(bus);
  int r = sd_bus_new(bus);
  if (r >= 0) r = sd_bus_set_address(*bus, address);
  if (r >= 0) r = sd_bus_set_bus_client(*bus, 1);
  if (r >= 0) r = sd_bus_start(*bus);
  return r;
}

}  // namespace linux_
}  // namespace hal

// See hal/linux/logind_restart.hpp. org.freedesktop.login1(5): Reboot(in b
// interactive); interactive=false because nobody is there to answer a polkit
// password prompt, so polkit's answer is final (a rule, or a refusal).
#include "hal/linux/logind_restart.hpp"

#include <systemd/sd-bus.h>

#include <cstdio>
#include <cstring>

namespace hal {
namespace linux_ {

Err LogindRestart::restart() {
  error_[0] = '\0';
  sd_bus* bus = nullptr;
  int r = sd_bus_open_system(&bus);
  if (r < 0) {
    std::snprintf(error_, sizeof error_, "cannot connect to the system D-Bus: %s", std::strerror(-r));
    return Err::Io;
  }
  sd_bus_error err = SD_BUS_ERROR_NULL;
  r = sd_bus_call_method(bus, "org.freedesktop.login1", "/org/freedesktop/login1", "org.freedesktop.login1.Manager",
                         "Reboot", &err, nullptr, "b", 0);
  if (r < 0) {
    if (sd_bus_error_is_set(&err)) {
      std::snprintf(error_, sizeof error_, "logind Reboot: %s: %s", err.name,
                    err.message != nullptr ? err.message : std::strerror(-r));
    } else {
      std::snprintf(error_, sizeof error_, "logind Reboot: %s", std::strerror(-r));
    }
  }
  sd_bus_error_free(&err);
  sd_bus_flush_close_unref(bus);
  return r < 0 ? Err::Io : Err::Ok;
}

}  // namespace linux_
}  // namespace hal

// sd_notify(3): the messages are "KEY=value" lines on the AF_UNIX datagram
// socket named by $NOTIFY_SOCKET; libsystemd does the sending (abstract
// socket names, credentials) and sd_watchdog_enabled() the WATCHDOG_USEC /
// WATCHDOG_PID check.
#include "hal/linux/systemd_notifier.hpp"

#include <systemd/sd-daemon.h>

#include <cstdio>
#include <cstdlib>

namespace hal {
namespace linux_ {

SystemdNotifier::SystemdNotifier(MonotonicClock& mono) : mono_(mono) {
  const char* socket = std::getenv("NOTIFY_SOCKET");
  active_ = socket != nullptr && socket[0] != '\0';
  uint64_t usec = 0;
  if (active_ && sd_watchdog_enabled(0, &usec) > 0) watchdog_usec_ = usec;
}

Err SystemdNotifier::send(const char* message) {
  if (!active_) return Err::NotSupported;
  const int r = sd_notify(0, message);
  if (r < 0) return Err::Io;
  return r == 0 ? Err::NotSupported : Err::Ok;
}

Err SystemdNotifier::ready() { return send("READY=1"); }

Err SystemdNotifier::status(const char* line) {
  if (!active_) return Err::NotSupported;
  char msg[sizeof "STATUS=" + kMaxStatus];
  const int n = std::snprintf(msg, sizeof msg, "STATUS=%s", line != nullptr ? line : "");
  // One line: sd_notify splits its message at newlines into assignments.
  for (int i = 0; i < n && msg[i] != '\0'; ++i) {
    if (msg[i] == '\n' || msg[i] == '\r') msg[i] = ' ';
  }
  return send(msg);
}

Err SystemdNotifier::keepalive() {
  if (!active_ || watchdog_usec_ == 0) return Err::NotSupported;
  const MonoTime now = mono_.mono_now();
  if (fed_ && now.us_since(last_feed_) < static_cast<int64_t>(watchdog_usec_ / 4)) return Err::Ok;
  const Err e = send("WATCHDOG=1");
  if (e == Err::Ok) {
    fed_ = true;
    last_feed_ = now;
  }
  return e;
}

Err SystemdNotifier::stopping() { return send("STOPPING=1"); }

}  // namespace linux_
}  // namespace hal

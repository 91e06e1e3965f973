// hal::ServiceNotifier for systemd (sd_notify(3), libsystemd).
#pragma once

#include <cstdint>

#include "hal/clock.hpp"
#include "hal/service_notifier.hpp"

namespace hal {
namespace linux_ {

/// Sends sd_notify messages when $NOTIFY_SOCKET is set (a `Type=notify`
/// unit); otherwise every call is NotSupported and sends nothing.
///   ready()     "READY=1"
///   status(s)   "STATUS=<s>" (newlines sent as spaces, at most kMaxStatus bytes of s)
///   keepalive() "WATCHDOG=1" when systemd asked for a watchdog
///               (WatchdogSec=: sd_watchdog_enabled(), i.e. $WATCHDOG_USEC and
///               $WATCHDOG_PID naming this process), at most once per quarter
///               of WATCHDOG_USEC on `mono` (systemd wants one within each half)
///   stopping()  "STOPPING=1"
/// The environment is read once, at construction, and left as it is (a
/// re-exec keeps the PID, so the `reboot` command's new image sees it too).
/// No allocation per message.
class SystemdNotifier final : public ServiceNotifier {
 public:
  static constexpr uint32_t kMaxStatus = 255;

  /// `mono` must outlive the notifier.
  explicit SystemdNotifier(MonotonicClock& mono);

  /// Errors of all four: NotSupported (no $NOTIFY_SOCKET; keepalive(): no
  /// watchdog asked for), Io (sd_notify failed, e.g. the socket is gone).
  Err ready() override;
  Err status(const char* line) override;
  Err keepalive() override;
  Err stopping() override;

  /// True when $NOTIFY_SOCKET was set.
  bool active() const { return active_; }
  /// WATCHDOG_USEC when systemd asked for a watchdog, else 0.
  uint64_t watchdog_usec() const { return watchdog_usec_; }

 private:
  Err send(const char* message);

  MonotonicClock& mono_;
  bool active_ = false;
  uint64_t watchdog_usec_ = 0;
  bool fed_ = false;
  MonoTime last_feed_{};
};

}  // namespace linux_
}  // namespace hal

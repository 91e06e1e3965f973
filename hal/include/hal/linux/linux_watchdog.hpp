// hal::Watchdog on the kernel watchdog API (/dev/watchdog, /dev/watchdogN;
// Documentation/watchdog/watchdog-api.rst).
#pragma once

#include <cstddef>
#include <cstdint>

#include "hal/watchdog.hpp"

namespace hal {
namespace linux_ {

/// The kernel arms a watchdog when its node is opened and disarms it only on
/// a "magic close" (the character 'V' written, then close()), unless the
/// kernel was built or loaded with nowayout, in which case nothing disarms it.
/// So this class writes 'V' before every close it makes on purpose: a clean
/// stop(), a failed open() or start() (it gives back what its open armed), and
/// the destructor of a watchdog that was opened but never started. A watchdog
/// destroyed while started is closed WITHOUT 'V': an exit that skipped stop()
/// is not a clean stop, and the kernel keeps counting.
///
/// The node is opened O_CLOEXEC, so a re-exec (the `reboot` command) does not
/// inherit it. Not copyable; one instance per node (the kernel allows one
/// opener: a second gets EBUSY).
class LinuxWatchdog final : public Watchdog {
 public:
  static constexpr size_t kMaxPathLen = 63;

  /// Copies `device_path`; nothing is opened yet. `timeout_s` > 0 is the
  /// timeout the board asks for (a board file knows its hardware, e.g. a
  /// BCM2835 allows at most 15 s) and replaces the one start() is given;
  /// 0 = use start()'s.
  explicit LinuxWatchdog(const char* device_path, uint32_t timeout_s = 0);
  /// See the class comment: 'V' only when opened and never started.
  ~LinuxWatchdog() override;
  LinuxWatchdog(const LinuxWatchdog&) = delete;
  LinuxWatchdog& operator=(const LinuxWatchdog&) = delete;

  /// Opens the node (which arms the watchdog with the driver's current
  /// timeout until start() sets ours) and reads its identity and options
  /// (WDIOC_GETSUPPORT). Ok when already open. Errors: InvalidArgument (empty
  /// or too long path), NotFound (no such node: ENOENT, ENODEV, ENXIO), Busy
  /// (another process holds it: systemd's RuntimeWatchdogSec=, a watchdog
  /// daemon), NotSupported (the node is no watchdog: WDIOC_GETSUPPORT fails
  /// with ENOTTY or EINVAL; a regular file, /dev/null), Io (permission, any
  /// other failure). On an error the node is closed again (with 'V').
  Err open();
  /// Opens the node if needed (errors as open()), sets the timeout
  /// (WDIOC_SETTIMEOUT, seconds: the constructor's `timeout_s`, else
  /// `timeout_ms` rounded up; a driver without WDIOF_SETTIMEOUT keeps its
  /// fixed one), reads back what the driver set (WDIOC_GETTIMEOUT; drivers
  /// round) and feeds it once. Errors: NotSupported (the driver refuses the
  /// timeout: EINVAL; or a timeout of 0 s), Io. On an error it is disarmed
  /// and closed (with 'V').
  Err start(uint32_t timeout_ms) override;
  /// WDIOC_KEEPALIVE (or, for a driver without WDIOF_KEEPALIVEPING, a write
  /// of one byte other than 'V'), at most once per quarter of the timeout:
  /// the runtime calls this every loop turn, and a syscall per turn buys
  /// nothing. Errors: NotReady (not started), Io.
  Err feed() override;
  /// Magic close: writes 'V' and closes. Errors: NotReady (not open), Io (the
  /// write or the close failed; the node is closed all the same). A kernel
  /// with nowayout ignores the 'V' and keeps counting (not visible here).
  Err stop() override;

  const char* path() const { return path_; }
  /// The driver's identity from WDIOC_GETSUPPORT ("i6300ESB timer"); "" before open().
  const char* identity() const { return identity_; }
  /// WDIOF_* flags from WDIOC_GETSUPPORT; 0 before open().
  uint32_t options() const { return options_; }
  /// The timeout the driver reported after start(), in seconds; 0 before.
  uint32_t timeout_s() const { return actual_timeout_s_; }
  bool started() const { return started_; }

 private:
  /// Writes 'V' and closes; returns Io when either failed.
  Err magic_close();

  char path_[kMaxPathLen + 1] = {};
  char identity_[33] = {};
  uint32_t board_timeout_s_ = 0;
  uint32_t options_ = 0;
  uint32_t actual_timeout_s_ = 0;
  int fd_ = -1;
  bool started_ = false;
  int64_t last_ping_ms_ = 0;  ///< CLOCK_MONOTONIC of the last ping (0: none yet)
};

}  // namespace linux_
}  // namespace hal

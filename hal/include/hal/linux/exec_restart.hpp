// hal::Restart for Linux hosts and the simulated board: the process replaces
// itself with a fresh copy of its own executable (/proc/self/exe) and the
// same arguments, so the agent comes back with a new boot id, re-reads its
// config and persisted settings, and logs in again. The pid stays the same,
// so a supervisor (systemd, a test) keeps tracking it.
#pragma once

#include "hal/restart.hpp"

namespace hal {
namespace linux_ {

class ExecRestart final : public Restart {
 public:
  /// `argv` (NULL-terminated, as main() got it) is borrowed and must outlive
  /// the object.
  explicit ExecRestart(char* const* argv) : argv_(argv) {}
  /// Closes every descriptor above stderr (close-on-exec) and execs.
  /// Errors: InvalidArgument (no argv), Io (exec failed; error_text() says
  /// why: "execv /proc/self/exe: <strerror>").
  Err restart() override;
  const char* error_text() const override { return error_; }

 private:
  char* const* argv_;
  char error_[128] = {};
};

}  // namespace linux_
}  // namespace hal

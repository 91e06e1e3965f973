// Errors of the operator client and the exit codes xiotctl maps them to.
#pragma once

#include <stdexcept>
#include <string>

namespace fleet {

/// xiotctl's exit codes (DESIGN.md "xiotctl").
enum class Exit : int {
  Ok = 0,
  DeviceError = 1,  ///< the device answered with an error
  Usage = 2,        ///< bad arguments or configuration
  Connect = 3,      ///< cannot connect, TLS refused, authentication failed, link lost
  Timeout = 4,      ///< a deadline passed
};

/// The one exception type of the fleet client: a message meant for the
/// operator (no "error:" prefix, no trailing newline), the exit code, and
/// whether trying again later may help (refused or lost connection, timeout)
/// or not (wrong password, untrusted certificate, bad options).
class Error : public std::runtime_error {
 public:
  Error(Exit code, const std::string& message, bool transient = false)
      : std::runtime_error(message), code_(code), transient_(transient) {}
  Exit code() const { return code_; }
  bool transient() const { return transient_; }

 private:
  Exit code_;
  bool transient_;
};

}  // namespace fleet

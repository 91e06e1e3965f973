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
/// operator (no "error:" prefix, no trailing newline) and the exit code.
class Error : public std::runtime_error {
 public:
  Error(Exit code, const std::string& message) : std::runtime_error(message), code_(code) {}
  Exit code() const { return code_; }

 private:
  Exit code_;
};

}  // namespace fleet

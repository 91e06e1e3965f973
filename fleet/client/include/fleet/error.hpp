// Errors of the operator client and the exit codes xiotctl maps them to.
#pragma once

#include <stdexcept>
#include <string>
#include <utility>

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

/// An XMPP stanza error (RFC 6120 §8.3):
/// `<error type=…><condition/><text/><app-condition/></error>`.
struct StanzaError {
  std::string type;           ///< cancel | continue | modify | auth | wait ("" if absent)
  std::string condition;      ///< defined condition ("undefined-condition" when none is given)
  std::string app_condition;  ///< application-specific condition element's name, "" if none
  std::string app_ns;         ///< its namespace
  std::string text;           ///< the <text/>, "" if none

  /// "bad-request (bad-payload): value: 'maybe' is not a boolean" — the
  /// condition, the app condition in parentheses and the text, as present.
  std::string describe() const;
};

/// Error(Exit::DeviceError) that carries the stanza error the device (or
/// its server, on its behalf) answered with, for --json output.
class RemoteError : public Error {
 public:
  RemoteError(const std::string& message, StanzaError stanza)
      : Error(Exit::DeviceError, message), stanza_(std::move(stanza)) {}
  const StanzaError& stanza() const { return stanza_; }

 private:
  StanzaError stanza_;
};

}  // namespace fleet

// Error codes and Result<T>, shared by hal, drivers and agent.
//
// No exceptions anywhere below the application: every fallible call returns an
// Err (or a Result<T> carrying one) and the caller propagates or handles it.
#pragma once

#include <cstdint>
#include <utility>

namespace hal {

/// Why an operation failed. `Ok` is success.
enum class [[nodiscard]] Err : uint8_t {
  Ok = 0,
  Timeout,          ///< a deadline passed (bus transfer, wait)
  Nack,             ///< the bus target did not acknowledge (absent chip)
  Io,               ///< transfer or OS-level I/O error
  NotSupported,     ///< the operation does not exist for this object
  InvalidArgument,  ///< a parameter is out of range or malformed
  NotFound,         ///< no such key, channel, device or pin
  BadChipId,        ///< the chip answered but is not the expected part
  NoSpace,          ///< storage is full, or a fixed-capacity table is full
  Overflow,         ///< the caller's buffer is too small for the result
  Corrupt,          ///< stored data failed its integrity check
  Busy,             ///< the resource is in use; try later
  NotReady,         ///< no data yet (e.g. a channel read before the first sample)
  ReadOnly,         ///< writing a sensor channel
};

/// Stable lower-case name of an error, for logs and protocol texts ("timeout").
const char* err_name(Err e);

/// A value or an error. T must be default-constructible and movable.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)), err_(Err::Ok) {}  // NOLINT: implicit by design
  Result(Err err) : err_(err) {}                                // NOLINT: implicit by design

  bool ok() const { return err_ == Err::Ok; }
  Err error() const { return err_; }
  /// Only meaningful when ok().
  T& value() { return value_; }
  const T& value() const { return value_; }
  T value_or(T fallback) const { return ok() ? value_ : fallback; }

 private:
  T value_{};
  Err err_;
};

}  // namespace hal

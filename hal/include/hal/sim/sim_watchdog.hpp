// A watchdog that counts feeds and tells whether it would have fired.
#pragma once

#include <cstdint>

#include "hal/clock.hpp"
#include "hal/watchdog.hpp"

namespace hal {
namespace sim {

/// Implements hal::Watchdog against an injected monotonic clock. Nothing
/// resets the process: tests ask expired() instead.
class SimWatchdog final : public Watchdog {
 public:
  /// Longest timeout start() accepts (like a hardware limit).
  static constexpr uint32_t kMaxTimeoutMs = 3600u * 1000u;

  /// `clock` must outlive this object.
  explicit SimWatchdog(MonotonicClock& clock) : clock_(clock) {}

  /// Errors: NotSupported (timeout 0 or above kMaxTimeoutMs).
  Err start(uint32_t timeout_ms) override;
  /// Errors: NotReady (not started).
  Err feed() override;
  Err stop() override;

  bool running() const { return running_; }
  uint32_t feed_count() const { return feeds_; }
  uint32_t timeout_ms() const { return timeout_ms_; }
  /// True when running and more than timeout_ms passed since start or the last feed.
  bool expired();

 private:
  MonotonicClock& clock_;
  bool running_ = false;
  uint32_t timeout_ms_ = 0;
  uint32_t feeds_ = 0;
  MonoTime last_kick_{};
};

}  // namespace sim
}  // namespace hal

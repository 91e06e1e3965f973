// Reconnect delays: exponential backoff with full jitter (AWS architecture
// blog, "Exponential Backoff And Jitter"): delay = uniform(0, min(cap, base*2^n)),
// with a small floor so that a run of tiny draws cannot hammer a server.
// The first attempt after a lost link (after reset()) is quick instead:
// uniform(0, min(250 ms, base)), not counted as an attempt; a server that is
// back (or never went: a dropped connection) is met at once, and a fleet that
// lost a server which is still down meets a refused port and goes on to the
// full-jitter draws, so logins after an outage still spread.
// Monotonic milliseconds only; never allocates.
#pragma once

#include <cstdint>

namespace agent {

/// A small deterministic PRNG (xorshift64*) so tests can fix the seed.
class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed ? seed : 0x9E3779B97F4A7C15ull) {}
  /// The next 64 pseudo-random bits.
  uint64_t next();
  /// Uniform in [0, bound] inclusive, without modulo bias.
  uint64_t uniform(uint64_t bound);

 private:
  uint64_t state_;
};

class Backoff {
 public:
  /// base_ms >= 1, cap_ms >= base_ms (out-of-range values are clamped to
  /// that). `rng` is borrowed and must outlive the Backoff.
  Backoff(uint32_t base_ms, uint32_t cap_ms, Rng& rng);
  /// The delay before the next attempt, then counts the attempt. The ceiling
  /// doubles per attempt from base_ms up to cap_ms; the delay is uniform in
  /// [min_delay_ms(), ceiling] (so a storm of zero delays cannot hammer a
  /// server).
  /// Right after reset() (not before the first one) the quick first draw
  /// instead: uniform in [0, quick_ceiling_ms()], attempt() unchanged.
  uint32_t next_delay_ms();
  /// After a successful login: the schedule starts over, with a quick first
  /// attempt.
  void reset() {
    attempt_ = 0;
    quick_next_ = true;
  }
  /// The ceiling of the quick first draw: min(kQuickMs, base_ms).
  uint32_t quick_ceiling_ms() const { return base_ms_ < kQuickMs ? base_ms_ : kQuickMs; }
  static constexpr uint32_t kQuickMs = 250;
  uint32_t attempt() const { return attempt_; }
  /// The ceiling that the next call would draw under.
  uint32_t ceiling_ms() const;
  uint32_t min_delay_ms() const { return base_ms_ / 10 ? base_ms_ / 10 : 1; }

 private:
  uint32_t base_ms_;
  uint32_t cap_ms_;
  Rng& rng_;
  uint32_t attempt_ = 0;
  bool quick_next_ = false;
};

}  // namespace agent

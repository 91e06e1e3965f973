#include "agent/backoff.hpp"

namespace agent {

uint64_t Rng::next() {
  // xorshift64* (Vigna, "An experimental exploration of Marsaglia's xorshift
  // generators, scrambled", 2016): 12/25/27 shifts and the M32 multiplier.
  state_ ^= state_ >> 12;
  state_ ^= state_ << 25;
  state_ ^= state_ >> 27;
  return state_ * 0x2545F4914F6CDD1Dull;
}

uint64_t Rng::uniform(uint64_t bound) {
  if (bound == UINT64_MAX) return next();
  const uint64_t range = bound + 1;
  // Rejection sampling: drop the top partial block so every value in
  // [0, bound] is equally likely (no modulo bias).
  const uint64_t threshold = (0 - range) % range;
  for (;;) {
    const uint64_t r = next();
    if (r >= threshold) return r % range;
  }
}

Backoff::Backoff(uint32_t base_ms, uint32_t cap_ms, Rng& rng)
    : base_ms_(base_ms == 0 ? 1 : base_ms), cap_ms_(cap_ms < base_ms_ ? base_ms_ : cap_ms), rng_(rng) {}

uint32_t Backoff::ceiling_ms() const {
  uint64_t c = base_ms_;
  for (uint32_t i = 0; i < attempt_ && c < cap_ms_; ++i) c <<= 1;
  return c > cap_ms_ ? cap_ms_ : static_cast<uint32_t>(c);
}

uint32_t Backoff::next_delay_ms() {
  if (quick_next_) {
    quick_next_ = false;
    return static_cast<uint32_t>(rng_.uniform(quick_ceiling_ms()));
  }
  const uint32_t ceiling = ceiling_ms();
  const uint32_t lowest = min_delay_ms() < ceiling ? min_delay_ms() : ceiling;
  // Full jitter over [floor, ceiling]: uniform, but never a near-zero delay.
  const uint32_t delay = lowest + static_cast<uint32_t>(rng_.uniform(ceiling - lowest));
  if (attempt_ != UINT32_MAX) ++attempt_;
  return delay;
}

}  // namespace agent

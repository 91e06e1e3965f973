// A clock that only moves when a test (or the simulator) says so.
#pragma once

#include <cstdint>

#include "hal/clock.hpp"

namespace hal {
namespace sim {

/// Implements both MonotonicClock and WallClock. Both advance together on
/// advance_us()/advance_ms(); set_wall() jumps only the wall clock (as a
/// system-clock change would). Unit tests use this instead of sleeping.
class ManualClock final : public MonotonicClock, public WallClock {
 public:
  /// Wall time a fresh clock starts at: 2025-11-23T12:13:20Z (1763900000 s).
  static constexpr int64_t kDefaultWallUs = 1763900000LL * 1000000LL;

  explicit ManualClock(MonoTime mono_start = MonoTime{0},
                       WallTime wall_start = WallTime{kDefaultWallUs})
      : mono_(mono_start), wall_(wall_start) {}

  /// Returns the current monotonic time, then moves it on by the auto-advance
  /// step (0 unless set_auto_advance_us() was called).
  MonoTime mono_now() override;
  WallTime wall_now() override { return wall_; }

  /// Moves both clocks forward. Negative steps are ignored (monotonic time
  /// never goes backwards).
  void advance_us(int64_t us);
  void advance_ms(int64_t ms) { advance_us(ms * 1000); }
  /// Sets the wall clock only; the monotonic clock is unaffected.
  void set_wall(WallTime t) { wall_ = t; }
  /// Every mono_now() call advances both clocks by `us` after reading.
  /// Lets a polling loop with a deadline run to its timeout without sleeping.
  void set_auto_advance_us(int64_t us) { auto_advance_us_ = us < 0 ? 0 : us; }

  /// Current monotonic time without side effects (no auto-advance).
  MonoTime peek_mono() const { return mono_; }

 private:
  MonoTime mono_;
  WallTime wall_;
  int64_t auto_advance_us_ = 0;
};

}  // namespace sim
}  // namespace hal

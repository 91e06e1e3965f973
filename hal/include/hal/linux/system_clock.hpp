// The real clocks for the running agent on Linux.
#pragma once

#include "hal/clock.hpp"

namespace hal {
namespace linux_ {  // `linux` is a predefined macro in GNU mode

/// mono_now(): CLOCK_MONOTONIC (time since boot, excluding suspend; never
/// jumps). wall_now(): CLOCK_REALTIME. Stateless; any number may exist.
class SystemClock final : public MonotonicClock, public WallClock {
 public:
  MonoTime mono_now() override;
  WallTime wall_now() override;
};

}  // namespace linux_
}  // namespace hal

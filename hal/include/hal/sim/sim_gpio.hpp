// A simulated GPIO controller. Tests drive input levels from "outside" and
// observe the levels and modes the code under test set.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "hal/gpio.hpp"

namespace hal {
namespace sim {

/// Implements hal::GpioController with `line_count` pins numbered
/// 0..line_count-1. Pins are allocated when first claimed or touched by a
/// test hook (start-up only), never per read/write.
///
/// Electrical model of a pin's level as read():
///   Output mode                -> the level last written
///   an external level is set   -> that level (set_external())
///   InputPullUp / InputPullDown -> high / low
///   Input, nothing driving     -> low (a floating pin reads low here)
class SimGpio final : public GpioController {
 public:
  explicit SimGpio(uint32_t line_count = 1024);
  ~SimGpio() override;
  SimGpio(const SimGpio&) = delete;
  SimGpio& operator=(const SimGpio&) = delete;

  /// See hal::GpioController. Errors: NotFound (number >= line_count), Busy
  /// (already claimed). The pin lives as long as the controller.
  Result<GpioPin*> claim(uint32_t number) override;

  // --- test hooks; `number` out of range is ignored / reads as defaults ---
  /// Something outside drives the pin to `level` (a pressed button, a jumper).
  void set_external(uint32_t number, bool level);
  /// Nothing outside drives the pin any more (bias or floating applies).
  void release_external(uint32_t number);
  /// The level the pin shows right now (see the model above).
  bool level(uint32_t number) const;
  /// The mode last configured (Input for a never-configured pin).
  PinMode mode(uint32_t number) const;
  bool claimed(uint32_t number) const;
  /// Number of write() calls on the pin, to assert "no glitch" behaviour.
  uint32_t write_count(uint32_t number) const;
  /// The next `count` configure/read/write calls on pin `number` fail with `err`.
  void fail_next(uint32_t number, Err err, uint32_t count = 1);

  uint32_t line_count() const { return line_count_; }

 private:
  class Pin;
  Pin* pin(uint32_t number);              // allocates on first use
  const Pin* find(uint32_t number) const;  // nullptr if never touched

  uint32_t line_count_;
  std::unique_ptr<std::unique_ptr<Pin>[]> pins_;
};

}  // namespace sim
}  // namespace hal

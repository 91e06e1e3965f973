// A simulated GPIO controller. Tests drive input levels from "outside" and
// observe the levels and modes the code under test set.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "hal/clock.hpp"
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
///
/// Edges: after watch_edges(), every change of an input's level caused by
/// set_external()/release_external() is queued with the time of `clock`
/// (0 without one) in ns, at most kEdgeQueue per pin; when the queue is full,
/// newer edges are lost (as the Linux kernel's per-line event FIFO does).
class SimGpio final : public GpioController {
 public:
  /// Pending edges kept per pin (the Linux GPIO v1 uAPI keeps 16).
  static constexpr size_t kEdgeQueue = 16;

  /// `clock` (may be null) timestamps edges; it must outlive the controller.
  explicit SimGpio(uint32_t line_count = 1024, MonotonicClock* clock = nullptr);
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
  /// Whether watch_edges() is active on the pin.
  bool watching_edges(uint32_t number) const;
  /// Edges queued and not yet read.
  size_t pending_edges(uint32_t number) const;
  /// Edges lost because the queue was full (since the controller was made).
  uint32_t lost_edges(uint32_t number) const;
  /// Number of write() calls on the pin, to assert "no glitch" behaviour.
  uint32_t write_count(uint32_t number) const;
  /// The next `count` configure/read/write/watch_edges/read_edges calls on pin
  /// `number` fail with `err`.
  void fail_next(uint32_t number, Err err, uint32_t count = 1);

  uint32_t line_count() const { return line_count_; }

 private:
  class Pin;
  Pin* pin(uint32_t number);              // allocates on first use
  const Pin* find(uint32_t number) const;  // nullptr if never touched

  void drive(Pin* p, bool has_external, bool external);

  uint32_t line_count_;
  MonotonicClock* clock_;
  std::unique_ptr<std::unique_ptr<Pin>[]> pins_;
};

}  // namespace sim
}  // namespace hal

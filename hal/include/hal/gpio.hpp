// General-purpose I/O. Levels are physical (true = high); polarity such as
// active-low is board data applied by the driver, not by the HAL.
#pragma once

#include <cstddef>
#include <cstdint>

#include "hal/status.hpp"

namespace hal {

enum class PinMode : uint8_t { Input, InputPullUp, InputPullDown, Output };

/// One change of an input's level, as the edge detector saw it.
struct GpioEdge {
  bool level = false;        ///< the level after the edge: true = rising, false = falling
  int64_t timestamp_ns = 0;  ///< when it happened, on the monotonic clock (CLOCK_MONOTONIC
                             ///< on Linux: comparable with MonoTime::us * 1000)
};

/// One pin. Owned by its GpioController; valid for the controller's lifetime.
class GpioPin {
 public:
  virtual ~GpioPin() = default;
  /// Sets the pin's direction/bias. Errors: NotSupported (mode impossible), Io,
  /// Busy (another user holds the line).
  virtual Err configure(PinMode mode) = 0;
  /// Reads the physical level. Errors: Io.
  virtual Result<bool> read() = 0;
  /// Drives the physical level; the pin must be an Output. Errors: InvalidArgument
  /// (not an output), Io.
  virtual Err write(bool level) = 0;
  /// Starts recording both edges of an input pin (after configure() with an
  /// input mode; a later configure() stops it). Edges before this call are not
  /// reported. Errors: InvalidArgument (an output), NotSupported (no edge
  /// detection on this pin/backend), Busy, Io.
  virtual Err watch_edges() { return Err::NotSupported; }
  /// Copies up to `max` pending edges, oldest first, into `out` and removes
  /// them; never blocks. Returns how many (0: nothing happened). The backend
  /// queues a bounded number of edges (Linux: 16 per line); when the queue is
  /// full, newer edges are lost, so a caller that needs the final level after
  /// a burst confirms it with read(). Errors: NotReady (watch_edges() not
  /// done), NotSupported, Io.
  virtual Result<size_t> read_edges(GpioEdge* out, size_t max) {
    (void)out;
    (void)max;
    return Err::NotSupported;
  }
};

/// A bank of pins addressed by number (as written in the board file).
class GpioController {
 public:
  virtual ~GpioController() = default;
  /// The pin `number`. Errors: NotFound (no such pin), Busy (already claimed,
  /// here or, on Linux, by another consumer of the line).
  virtual Result<GpioPin*> claim(uint32_t number) = 0;
};

}  // namespace hal

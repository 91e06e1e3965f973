// General-purpose I/O. Levels are physical (true = high); polarity such as
// active-low is board data applied by the driver, not by the HAL.
#pragma once

#include <cstdint>

#include "hal/status.hpp"

namespace hal {

enum class PinMode : uint8_t { Input, InputPullUp, InputPullDown, Output };

/// One pin. Owned by its GpioController; valid for the controller's lifetime.
class GpioPin {
 public:
  virtual ~GpioPin() = default;
  /// Sets the pin's direction/bias. Errors: NotSupported (mode impossible), Io.
  virtual Err configure(PinMode mode) = 0;
  /// Reads the physical level. Errors: Io.
  virtual Result<bool> read() = 0;
  /// Drives the physical level; the pin must be an Output. Errors: InvalidArgument
  /// (not an output), Io.
  virtual Err write(bool level) = 0;
};

/// A bank of pins addressed by number (as written in the board file).
class GpioController {
 public:
  virtual ~GpioController() = default;
  /// The pin `number`. Errors: NotFound (no such pin), Busy (already claimed).
  virtual Result<GpioPin*> claim(uint32_t number) = 0;
};

}  // namespace hal

// A GPIO input: contact, button, door switch ("xiot,gpio-input").
//
// Channel: state  (no unit)  boolean sensor. true = "active" = the pin at its
// active level (low when the board says active_low, e.g. a button to ground
// with a pull-up).
// Board: "pin" (+ "active_low"). Parameters: pull "up" | "down" | "none"
// (default "none"): the bias configured at init().
#pragma once

#include <memory>

#include "drv/device.hpp"
#include "drv/driver_table.hpp"
#include "hal/gpio.hpp"

namespace drv {

class GpioInput final : public Device {
 public:
  /// `name` and `pin` must outlive the device. `mode` is one of the input modes.
  GpioInput(const char* name, hal::GpioPin& pin, bool active_low, hal::PinMode mode);

  size_t channel_count() const override { return 1; }
  const ChannelSpec& channel(size_t i) const override;
  /// Configures the pin as an input with the bias. Errors: NotSupported (bias
  /// impossible on this pin), Io.
  hal::Err init() override;
  /// Reads the level once. Errors: NotReady (before init()), Io.
  hal::Err sample() override;
  /// Errors: NotReady (no sample yet), NotFound.
  hal::Result<Value> get(size_t i) const override;
  /// A sensor. Errors: ReadOnly (i == 0), NotFound.
  hal::Err set(size_t i, const Value& v) override;

 private:
  hal::GpioPin& pin_;
  bool active_low_;
  hal::PinMode mode_;
  bool ready_ = false;
  bool have_sample_ = false;
  bool state_ = false;
};

/// Factory for "xiot,gpio-input". Needs `pin`.
std::unique_ptr<Device> create_gpio_input(const DeviceConfig& config, DriverError* error);

}  // namespace drv

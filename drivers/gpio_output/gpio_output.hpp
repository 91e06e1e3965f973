// A GPIO output: relay, LED, enable line ("xiot,gpio-output").
//
// Channel: state  (no unit)  boolean actuator. true = "on" = the pin at its
// active level (low when the board says active_low).
// Board: "pin" (+ "active_low"). Parameters: initial 0|1 (default 0), the
// state driven at init().
#pragma once

#include <memory>

#include "drv/device.hpp"
#include "drv/driver_table.hpp"
#include "hal/gpio.hpp"

namespace drv {

class GpioOutput final : public Device {
 public:
  /// `name` and `pin` must outlive the device.
  GpioOutput(const char* name, hal::GpioPin& pin, bool active_low, bool initial);

  size_t channel_count() const override { return 1; }
  const ChannelSpec& channel(size_t i) const override;
  /// Makes the pin an output and drives the initial state.
  /// Errors: NotSupported, Io (from the pin).
  hal::Err init() override;
  /// Nothing to read: the state is the commanded one. Errors: NotReady before init().
  hal::Err sample() override;
  /// The last commanded state. Errors: NotReady (before init()), NotFound.
  hal::Result<Value> get(size_t i) const override;
  /// Drives the pin. Accepts Value::boolean, or a numeric 0/1 with exponent 0.
  /// On error the commanded state is unchanged.
  /// Errors: NotFound (i != 0), InvalidArgument (other values), NotReady
  /// (before init()), Io (from the pin).
  hal::Err set(size_t i, const Value& v) override;

 private:
  hal::GpioPin& pin_;
  bool active_low_;
  bool state_;
  bool ready_ = false;
};

/// Factory for "xiot,gpio-output". Needs `pin`.
std::unique_ptr<Device> create_gpio_output(const DeviceConfig& config, DriverError* error);

}  // namespace drv

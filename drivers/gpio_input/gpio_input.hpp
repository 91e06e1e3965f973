// A GPIO input: contact, button, door switch ("xiot,gpio-input").
//
// Channel: state  (no unit)  boolean sensor. true = "active" = the pin at its
// active level (low when the board says active_low, e.g. a button to ground
// with a pull-up). The value is the *debounced* level.
// Board: "pin" or "line" (+ "active_low"). Parameters:
//   pull        "up" | "down" | "none" (default "none": the bias is left as
//               the hardware has it): the bias configured at init();
//   debounce_ms 0..1000 (default 20): a change counts once the level has
//               stayed for this long (0: every edge counts).
//
// Edges: init() asks the pin for its edges (hal::GpioPin::watch_edges). Each
// edge's kernel timestamp starts the debounce window; a level that holds for
// debounce_ms after its last edge becomes the state. A bounce that ends back
// at the old level changes nothing. When the window closes the level is read
// once more, so edges lost to a full queue cannot leave a stale state. A pin
// without edge detection (NotSupported) is polled instead: the level is read
// at each poll_changes()/sample() and debounced by the clock.
#pragma once

#include <cstdint>
#include <memory>

#include "drv/device.hpp"
#include "drv/driver_table.hpp"
#include "hal/clock.hpp"
#include "hal/gpio.hpp"

namespace drv {

class GpioInput final : public Device {
 public:
  static constexpr uint32_t kDefaultDebounceMs = 20;
  static constexpr uint32_t kMaxDebounceMs = 1000;

  /// `name`, `pin` and `clock` must outlive the device. `mode` is one of the
  /// input modes. `clock` is the monotonic clock edge timestamps are on.
  GpioInput(const char* name, hal::GpioPin& pin, bool active_low, hal::PinMode mode,
            hal::MonotonicClock& clock, uint32_t debounce_ms = kDefaultDebounceMs);

  size_t channel_count() const override { return 1; }
  const ChannelSpec& channel(size_t i) const override;
  /// Configures the pin as an input with the bias, starts edge detection and
  /// takes the current level as the state. Errors: NotSupported (bias
  /// impossible on this pin), Busy (the line is held elsewhere), Io.
  hal::Err init() override;
  /// Consumes pending edges (as poll_changes() does) and snapshots the
  /// debounced state. Does not take a change away from poll_changes().
  /// Errors: NotReady (before init()), Io (the pin could not be read).
  hal::Err sample() override;
  /// Errors: NotReady (no sample yet), NotFound.
  hal::Result<Value> get(size_t i) const override;
  /// A sensor. Errors: ReadOnly (i == 0), NotFound.
  hal::Err set(size_t i, const Value& v) override;
  /// Consumes pending edges without blocking; true once per change of the
  /// debounced state (also when a sample() already saw it). False before init().
  bool poll_changes() override;

  /// Whether the pin reports edges (false: it is polled).
  bool uses_edges() const { return edges_; }

 private:
  hal::Err update();
  hal::Err take_edges();

  hal::GpioPin& pin_;
  hal::MonotonicClock& clock_;
  bool active_low_;
  hal::PinMode mode_;
  int64_t debounce_ns_;
  bool ready_ = false;
  bool edges_ = false;
  bool have_sample_ = false;
  bool state_ = false;       // the snapshot get() converts (logical)
  bool stable_ = false;      // the debounced physical level
  bool candidate_ = false;   // the physical level after the latest edge
  bool pending_ = false;     // candidate_ waits for its window to close
  bool changed_ = false;     // stable_ changed since the last poll_changes()
  int64_t since_ns_ = 0;     // when candidate_ began
};

/// Factory for "xiot,gpio-input". Needs `pin` and `clock`.
std::unique_ptr<Device> create_gpio_input(const DeviceConfig& config, DriverError* error);

}  // namespace drv

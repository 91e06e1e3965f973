// From board data to driver instances: the resources a board hands a driver
// (DeviceConfig), the factory each driver exports, and the explicit constant
// table that maps a "vendor,part" compatible string to its factory. There is
// no self-registration: adding a driver means adding a row to kDrivers
// (driver_table.cpp).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "drv/device.hpp"
#include "hal/clock.hpp"
#include "hal/gpio.hpp"
#include "hal/i2c.hpp"
#include "hal/sysfs_tree.hpp"
#include "hal/system_info.hpp"

namespace drv {

/// One board-file parameter ("params": {"initial": 1, "pull": "up"}).
/// Numbers are integers; booleans arrive as 0/1.
struct Param {
  const char* key = nullptr;
  bool is_text = false;
  int64_t number = 0;          ///< when !is_text
  const char* text = nullptr;  ///< when is_text
};

/// Everything a driver may use. Lifetimes: `name` and every resource pointer
/// must outlive the device (the board keeps them); `compatible` should be a
/// string literal (find_driver() gives the table's); params are only read
/// during the factory call (drivers copy what they keep).
struct DeviceConfig {
  static constexpr size_t kMaxParams = 8;

  const char* name = nullptr;        ///< instance name, "env0"
  const char* compatible = nullptr;  ///< "bosch,bme280"
  hal::I2cBus* i2c = nullptr;        ///< the bus an I2C chip hangs on
  uint16_t i2c_address = 0;          ///< 7-bit address on that bus
  hal::GpioPin* pin = nullptr;       ///< the (claimed) pin of a GPIO function
  bool active_low = false;           ///< pin polarity: logical true = low level
  hal::SystemInfo* system_info = nullptr;
  hal::SysfsTree* sysfs = nullptr;   ///< the kernel's attribute tree (linux: /sys; "sysfs" key)
  hal::MonotonicClock* clock = nullptr;  ///< for deadlines of waits inside drivers
  Param params[kMaxParams];
  size_t param_count = 0;

  /// The parameter `key`, or nullptr.
  const Param* find_param(const char* key) const;
};

/// Why a factory refused a configuration: one line naming the field, e.g.
/// `params.pull: expected "up", "down" or "none", got "sideways"`.
struct DriverError {
  char text[128] = {};
  /// printf-style; truncates to fit.
  void set(const char* fmt, ...) __attribute__((format(printf, 2, 3)));
  /// As set(), then returns `e`: `return detail_.fail(Err::NotFound, ...)`.
  hal::Err fail(hal::Err e, const char* fmt, ...) __attribute__((format(printf, 3, 4)));
};

/// Creates a device from `config` without touching hardware (init() does).
/// Returns nullptr and fills `error` when the config is unusable (missing
/// resource, unknown or out-of-range parameter, out of memory).
using DriverFactory = std::unique_ptr<Device> (*)(const DeviceConfig& config, DriverError* error);

struct DriverEntry {
  const char* compatible;  ///< "vendor,part"
  DriverFactory create;
  const char* summary;     ///< one line for --help/diagnostics
};

/// Every driver built into xiot, in a constant table.
extern const DriverEntry kDrivers[];
extern const size_t kDriverCount;

/// The entry for `compatible`, or nullptr if no driver has it.
const DriverEntry* find_driver(const char* compatible);

// --- helpers for factories: each returns false and fills `error` on a bad value ---

/// An I2C chip's resources: a bus, and a 7-bit address within [lo, hi]
/// (default: any). Fails with "needs an I2C bus and address ("bus",
/// "address")" or "address: expected <what>, got 0x<a>"; `what` names the
/// chip's choices ("0x48..0x4b (ADDR pin to GND, VDD, SDA or SCL)"), null =
/// "a 7-bit I2C address".
bool check_i2c_resources(const DeviceConfig& config, DriverError* error, uint16_t lo = 0, uint16_t hi = 0x7f,
                         const char* what = nullptr);

/// Every parameter key must be one of `allowed` (`count` names).
bool check_param_keys(const DeviceConfig& config, const char* const* allowed, size_t count,
                      DriverError* error);
/// Integer parameter `key` in [min, max]; `fallback` when absent.
bool param_int(const DeviceConfig& config, const char* key, int64_t min, int64_t max,
               int64_t fallback, int64_t* out, DriverError* error);
/// Text parameter `key` that must be one of `choices`; stores the index.
/// `fallback` (an index) when absent.
bool param_choice(const DeviceConfig& config, const char* key, const char* const* choices,
                  size_t count, size_t fallback, size_t* out, DriverError* error);

}  // namespace drv

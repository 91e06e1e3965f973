// Chip models as data, beside the driver table (drv/driver_table.hpp): for
// each "vendor,part" that has a simulation model, how to read its simulation
// parameters (the device's "sim" object in a board file) and how to create
// the model and attach it to the simulated bus or pin. Board code names no
// chip: it looks the compatible up here. There is no self-registration:
// adding a chip with a model means one row in kModels (model_table.cpp); the
// recipe is in drivers/README.md.
//
// Built into xiot_driver_models (simulation only: tests, the sim board, the
// fleet simulator), not into the drivers a real board runs.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "hal/status.hpp"

namespace json {
class Value;
}  // namespace json
namespace hal {
namespace sim {
class SimGpio;
class SimI2cBus;
}  // namespace sim
}  // namespace hal

namespace drv {
namespace sim {

/// A device's simulation parameters as its chip's parser read them from the
/// "sim" object: numbers by key (booleans as 0/1). Plain data: a board spec
/// holds it, copies it, and hands it back to the same chip's factory.
class SimParams {
 public:
  /// Sets (or replaces) `key`.
  void set(const char* key, double value) {
    for (Item& i : items_) {
      if (i.key == key) {
        i.value = value;
        return;
      }
    }
    items_.push_back(Item{key, value});
  }
  /// The value of `key`, or nothing when the board file did not set it.
  std::optional<double> get(const char* key) const {
    for (const Item& i : items_) {
      if (i.key == key) return i.value;
    }
    return std::nullopt;
  }
  bool empty() const { return items_.empty(); }

 private:
  struct Item {
    std::string key;
    double value;
  };
  std::vector<Item> items_;
};

/// Base of every chip model a board owns. compatible() lets a typed helper
/// (e.g. drv::sim::as_bme280()) check the type without RTTI.
class Model {
 public:
  virtual ~Model() = default;
  /// The table's "vendor,part" of this model (a string literal).
  virtual const char* compatible() const = 0;
};

/// Where the board puts a device's model: its simulated I2C bus and address,
/// and/or its simulated GPIO controller and pin (nullptr when the device has
/// none). Lifetimes: the bus and controller outlive the model.
struct ModelSite {
  hal::sim::SimI2cBus* i2c = nullptr;
  uint16_t address = 0;
  hal::sim::SimGpio* gpio = nullptr;
  uint32_t pin = 0;
};

/// Checks the device's "sim" object `sim` (present; any JSON value) against
/// the chip's keys and ranges and stores the values in *out. Returns false
/// with the error recorded by `sim`'s reader (the one JSON error format:
/// "board.json: devices[0].sim.temperature_c: expected a number from -40 to
/// 85, got 200").
using SimParser = bool (*)(const json::Value& sim, SimParams* out);

/// Creates the model for `params` and attaches it at `site` (start-up; it may
/// allocate). *out may stay null for a chip that needs no object of its own
/// (a level driven onto a pin). Errors: NoSpace (out of memory).
using ModelFactory = hal::Err (*)(const SimParams& params, const ModelSite& site, std::unique_ptr<Model>* out);

struct ModelEntry {
  const char* compatible;  ///< "vendor,part", as in kDrivers
  SimParser parse_sim;
  ModelFactory create;
  const char* summary;     ///< one line: what is simulated
};

/// Every chip model built into xiot, in a constant table.
extern const ModelEntry kModels[];
extern const size_t kModelCount;

/// The entry for `compatible`, or nullptr if no model has it.
const ModelEntry* find_model(const char* compatible);

}  // namespace sim
}  // namespace drv

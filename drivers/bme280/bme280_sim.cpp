// The BME280's row in the model table: its board-file simulation parameters
// and how the board creates and attaches its model (drv/model_table.hpp).
#include <new>

#include "bme280/bme280_model.hpp"
#include "hal/sim/sim_i2c_bus.hpp"
#include "json/reader.hpp"

namespace drv {
namespace sim {

bool parse_bme280_sim(const json::Value& sim, SimParams* out) {
  static const char* const kKeys[] = {"present", "temperature_c", "humidity_pct", "pressure_pa", "chip_id"};
  if (!sim.object(kKeys)) return false;
  // The part's operating range (BME280 datasheet table 1-3).
  struct Range {
    const char* key;
    double lo;
    double hi;
  };
  static const Range kPhysical[] = {{"temperature_c", -40, 85}, {"humidity_pct", 0, 100}, {"pressure_pa", 30000, 110000}};
  for (const Range& r : kPhysical) {
    double v = 0;
    if (!sim[r.key].number(&v, r.lo, r.hi)) return false;
    if (!sim[r.key].absent()) out->set(r.key, v);
  }
  uint8_t id = bme280::kChipId;
  bool present = true;
  if (!sim["chip_id"].integer(&id, 0, 255) || !sim["present"].boolean(&present)) return false;
  if (!sim["chip_id"].absent()) out->set("chip_id", id);
  if (!sim["present"].absent()) out->set("present", present ? 1 : 0);
  return true;
}

hal::Err create_bme280_model(const SimParams& params, const ModelSite& site, std::unique_ptr<Model>* out) {
  if (site.i2c == nullptr) return hal::Err::Ok;
  auto* model = new (std::nothrow) Bme280Model();
  if (model == nullptr) return hal::Err::NoSpace;
  out->reset(model);
  if (const auto t = params.get("temperature_c")) model->set_temperature_c(*t);
  if (const auto h = params.get("humidity_pct")) model->set_humidity_pct(*h);
  if (const auto p = params.get("pressure_pa")) model->set_pressure_pa(*p);
  if (const auto id = params.get("chip_id")) model->set_chip_id(static_cast<uint8_t>(*id));
  if (params.get("present").value_or(1) != 0) {
    // Cannot clash: the board parser rejects two devices on one address.
    (void)site.i2c->attach(site.address, model);
  }
  return hal::Err::Ok;
}

}  // namespace sim
}  // namespace drv

// The SHT3x's row in the model table: its board-file simulation parameters
// and how the board creates and attaches its model (drv/model_table.hpp).
#include <new>

#include "hal/sim/sim_i2c_bus.hpp"
#include "json/reader.hpp"
#include "sht3x/sht3x_model.hpp"

namespace drv {
namespace sim {

bool parse_sht3x_sim(const json::Value& sim, SimParams* out) {
  static const char* const kKeys[] = {"present", "temperature_c", "humidity_pct"};
  if (!sim.object(kKeys)) return false;
  // The part's specified range (SHT3x-DIS datasheet §1, tables 1-2).
  struct Range {
    const char* key;
    double lo;
    double hi;
  };
  static const Range kPhysical[] = {{"temperature_c", -40, 125}, {"humidity_pct", 0, 100}};
  for (const Range& r : kPhysical) {
    double v = 0;
    if (!sim[r.key].number(&v, r.lo, r.hi)) return false;
    if (!sim[r.key].absent()) out->set(r.key, v);
  }
  bool present = true;
  if (!sim["present"].boolean(&present)) return false;
  if (!sim["present"].absent()) out->set("present", present ? 1 : 0);
  return true;
}

hal::Err create_sht3x_model(const SimParams& params, const ModelSite& site, std::unique_ptr<Model>* out) {
  if (site.i2c == nullptr) return hal::Err::Ok;
  auto* model = new (std::nothrow) Sht3xModel();
  if (model == nullptr) return hal::Err::NoSpace;
  out->reset(model);
  if (const auto t = params.get("temperature_c")) model->set_temperature_c(*t);
  if (const auto h = params.get("humidity_pct")) model->set_humidity_pct(*h);
  if (params.get("present").value_or(1) != 0) {
    // Cannot clash: the board parser rejects two devices on one address.
    (void)site.i2c->attach(site.address, model);
  }
  return hal::Err::Ok;
}

}  // namespace sim
}  // namespace drv

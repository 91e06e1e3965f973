// The BH1750's row in the model table: its board-file simulation parameters
// and how the board creates and attaches its model (drv/model_table.hpp).
#include <new>

#include "bh1750/bh1750_model.hpp"
#include "hal/sim/sim_i2c_bus.hpp"
#include "json/reader.hpp"

namespace drv {
namespace sim {

bool parse_bh1750_sim(const json::Value& sim, SimParams* out) {
  static const char* const kKeys[] = {"present", "lux"};
  if (!sim.object(kKeys)) return false;
  double lux = 0;
  bool present = true;
  if (!sim["lux"].number(&lux, 0, 100000) || !sim["present"].boolean(&present)) return false;
  if (!sim["lux"].absent()) out->set("lux", lux);
  if (!sim["present"].absent()) out->set("present", present ? 1 : 0);
  return true;
}

hal::Err create_bh1750_model(const SimParams& params, const ModelSite& site, std::unique_ptr<Model>* out) {
  if (site.i2c == nullptr) return hal::Err::Ok;
  auto* model = new (std::nothrow) Bh1750Model();
  if (model == nullptr) return hal::Err::NoSpace;
  out->reset(model);
  if (const auto lux = params.get("lux")) model->set_lux(*lux);
  if (params.get("present").value_or(1) != 0) {
    // Cannot clash: the board parser rejects two devices on one address.
    (void)site.i2c->attach(site.address, model);
  }
  return hal::Err::Ok;
}

}  // namespace sim
}  // namespace drv

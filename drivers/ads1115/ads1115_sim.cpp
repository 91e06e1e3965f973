// The ADS1115's row in the model table: its board-file simulation parameters
// and how the board creates and attaches its model (drv/model_table.hpp).
#include <new>

#include "ads1115/ads1115_model.hpp"
#include "hal/sim/sim_i2c_bus.hpp"
#include "json/reader.hpp"

namespace drv {
namespace sim {

namespace {
const char* const kInputKeys[ads1115::kInputCount] = {"ain0_v", "ain1_v", "ain2_v", "ain3_v"};
}  // namespace

bool parse_ads1115_sim(const json::Value& sim, SimParams* out) {
  static const char* const kKeys[] = {"present", "ain0_v", "ain1_v", "ain2_v", "ain3_v"};
  if (!sim.object(kKeys)) return false;
  for (const char* key : kInputKeys) {
    // GND - 0.3 V (absolute maximum, SBAS444D §7.1) to VDD at most 5.5 V (§7.3).
    double v = 0;
    if (!sim[key].number(&v, -0.3, 5.5)) return false;
    if (!sim[key].absent()) out->set(key, v);
  }
  bool present = true;
  if (!sim["present"].boolean(&present)) return false;
  if (!sim["present"].absent()) out->set("present", present ? 1 : 0);
  return true;
}

hal::Err create_ads1115_model(const SimParams& params, const ModelSite& site, std::unique_ptr<Model>* out) {
  if (site.i2c == nullptr) return hal::Err::Ok;
  auto* model = new (std::nothrow) Ads1115Model();
  if (model == nullptr) return hal::Err::NoSpace;
  out->reset(model);
  for (size_t i = 0; i < ads1115::kInputCount; ++i) {
    if (const auto v = params.get(kInputKeys[i])) model->set_input_v(i, *v);
  }
  if (params.get("present").value_or(1) != 0) {
    // Cannot clash: the board parser rejects two devices on one address.
    (void)site.i2c->attach(site.address, model);
  }
  return hal::Err::Ok;
}

}  // namespace sim
}  // namespace drv

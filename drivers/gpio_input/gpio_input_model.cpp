// See gpio_input_model.hpp.
#include "gpio_input/gpio_input_model.hpp"

#include "hal/sim/sim_gpio.hpp"
#include "json/reader.hpp"

namespace drv {
namespace sim {

bool parse_gpio_input_sim(const json::Value& sim, SimParams* out) {
  static const char* const kKeys[] = {"level"};
  if (!sim.object(kKeys)) return false;
  const json::Value level = sim["level"];
  if (level.absent()) return true;
  int64_t n = 0;
  if (level.is_bool()) {
    out->set("level", level.is_true() ? 1 : 0);
  } else if (level.as_integer(&n) && (n == 0 || n == 1)) {
    out->set("level", static_cast<double>(n));
  } else {
    return level.expected("0, 1, true or false");
  }
  return true;
}

hal::Err create_gpio_input_model(const SimParams& params, const ModelSite& site, std::unique_ptr<Model>* /*out*/) {
  const std::optional<double> level = params.get("level");
  if (level && site.gpio != nullptr) site.gpio->set_external(site.pin, *level != 0);
  return hal::Err::Ok;
}

}  // namespace sim
}  // namespace drv

// The simulated world of a GPIO input (contact, button): the level something
// outside drives onto its pin. No object of its own: the level is set on the
// simulated GPIO controller (hal::sim::SimGpio::set_external).
//
// Board file: "sim": {"level": 0 | 1 | true | false} (absent: the pin floats
// to its pull, see SimGpio).
#pragma once

#include <memory>

#include "drv/model_table.hpp"

namespace drv {
namespace sim {

/// SimParser of "xiot,gpio-input": key "level" (0, 1, true or false).
bool parse_gpio_input_sim(const json::Value& sim, SimParams* out);
/// ModelFactory of "xiot,gpio-input": drives "level" onto site.gpio/pin when
/// both are set. Never creates an object (*out stays null). Errors: none.
hal::Err create_gpio_input_model(const SimParams& params, const ModelSite& site, std::unique_ptr<Model>* out);

}  // namespace sim
}  // namespace drv

#include "fleet/error.hpp"

namespace fleet {

std::string StanzaError::describe() const {
  std::string out = condition.empty() ? "undefined-condition" : condition;
  if (!app_condition.empty()) out += " (" + app_condition + ")";
  if (!text.empty()) out += ": " + text;
  return out;
}

}  // namespace fleet

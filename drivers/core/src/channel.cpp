#include "drv/channel.hpp"

namespace drv {

const char* kind_name(ChannelKind k) {
  return k == ChannelKind::Actuator ? "actuator" : "sensor";
}

const char* type_name(ValueType t) {
  switch (t) {
    case ValueType::Boolean: return "boolean";
    case ValueType::String: return "string";
    case ValueType::Numeric: break;
  }
  return "numeric";
}

}  // namespace drv

// A channel is one physical quantity of one device (RIOT SAUL): `env0.temperature`.
#pragma once

#include <cstdint>

#include "drv/value.hpp"

namespace drv {

enum class ChannelKind : uint8_t { Sensor, Actuator };

/// Static description of a channel; drivers keep these in constant tables.
struct ChannelSpec {
  const char* quantity;  ///< the part after the dot: "temperature", "state"
  const char* unit;      ///< SenML unit ("Cel", "%RH", "Pa", "s", "B", "%"), "" if none
  ChannelKind kind;
  ValueType type;
};

const char* kind_name(ChannelKind k);   ///< "sensor" | "actuator"
const char* type_name(ValueType t);     ///< "numeric" | "boolean" | "string"

}  // namespace drv

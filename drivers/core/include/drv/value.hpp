// Values crossing the driver boundary: integers with a decimal exponent and a
// unit (RIOT phydat_t style). They become text only at the protocol edge.
#pragma once

#include <cstdint>

namespace drv {

enum class ValueType : uint8_t { Numeric, Boolean, String };

struct Value {
  ValueType type = ValueType::Numeric;
  int64_t mantissa = 0;  ///< Numeric: value = mantissa * 10^exponent
  int8_t exponent = 0;
  bool flag = false;     ///< Boolean
  char text[24] = {};    ///< String, NUL-terminated, truncated to fit

  static Value numeric(int64_t mantissa, int8_t exponent) {
    Value v;
    v.type = ValueType::Numeric;
    v.mantissa = mantissa;
    v.exponent = exponent;
    return v;
  }
  static Value boolean(bool b) {
    Value v;
    v.type = ValueType::Boolean;
    v.flag = b;
    return v;
  }
};

}  // namespace drv

// Test helpers: board-file parameters added to a drv::DeviceConfig, as the
// board parser hands them to a driver factory (numbers, booleans as 0/1, text).
#pragma once

#include <cstdint>

#include "drv/driver_table.hpp"

namespace xiot_test {

inline void add_param(drv::DeviceConfig* c, const char* key, int64_t n) {
  c->params[c->param_count++] = drv::Param{key, false, n, nullptr};
}
inline void add_text(drv::DeviceConfig* c, const char* key, const char* text) {
  c->params[c->param_count++] = drv::Param{key, true, 0, text};
}

}  // namespace xiot_test

// DeviceConfig lookup and the parameter helpers factories use.
#include <cinttypes>
#include <cstdarg>
#include <cstdio>
#include <cstring>

#include "drv/driver_table.hpp"

namespace drv {

const Param* DeviceConfig::find_param(const char* key) const {
  if (key == nullptr) return nullptr;
  for (size_t i = 0; i < param_count && i < kMaxParams; ++i) {
    if (params[i].key != nullptr && std::strcmp(params[i].key, key) == 0) return &params[i];
  }
  return nullptr;
}

void DriverError::set(const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  std::vsnprintf(text, sizeof text, fmt, ap);
  va_end(ap);
}

hal::Err DriverError::fail(hal::Err e, const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  std::vsnprintf(text, sizeof text, fmt, ap);
  va_end(ap);
  return e;
}

bool check_i2c_resources(const DeviceConfig& config, DriverError* error, uint16_t lo, uint16_t hi,
                         const char* what) {
  if (config.i2c == nullptr) {
    error->set("needs an I2C bus and address (\"bus\", \"address\")");
    return false;
  }
  if (config.i2c_address < lo || config.i2c_address > hi || config.i2c_address > 0x7f) {
    error->set("address: expected %s, got 0x%x", what != nullptr ? what : "a 7-bit I2C address", config.i2c_address);
    return false;
  }
  return true;
}

bool check_param_keys(const DeviceConfig& config, const char* const* allowed, size_t count,
                      DriverError* error) {
  for (size_t i = 0; i < config.param_count && i < DeviceConfig::kMaxParams; ++i) {
    const char* key = config.params[i].key;
    bool known = false;
    for (size_t a = 0; a < count && !known; ++a) known = key != nullptr && std::strcmp(key, allowed[a]) == 0;
    if (known) continue;
    if (error != nullptr) {
      char list[96] = {};
      size_t used = 0;
      for (size_t a = 0; a < count; ++a) {
        const int n = std::snprintf(list + used, sizeof list - used, "%s%s", a ? ", " : "", allowed[a]);
        if (n < 0 || static_cast<size_t>(n) >= sizeof list - used) break;
        used += static_cast<size_t>(n);
      }
      if (count == 0) {
        error->set("params.%s: unknown parameter (this driver takes none)", key ? key : "?");
      } else {
        error->set("params.%s: unknown parameter (known: %s)", key ? key : "?", list);
      }
    }
    return false;
  }
  return true;
}

bool param_int(const DeviceConfig& config, const char* key, int64_t min, int64_t max,
               int64_t fallback, int64_t* out, DriverError* error) {
  const Param* p = config.find_param(key);
  if (p == nullptr) {
    *out = fallback;
    return true;
  }
  if (p->is_text) {
    if (error) error->set("params.%s: expected an integer %" PRId64 "..%" PRId64 ", got \"%s\"", key, min, max, p->text ? p->text : "");
    return false;
  }
  if (p->number < min || p->number > max) {
    if (error) error->set("params.%s: expected an integer %" PRId64 "..%" PRId64 ", got %" PRId64, key, min, max, p->number);
    return false;
  }
  *out = p->number;
  return true;
}

bool param_choice(const DeviceConfig& config, const char* key, const char* const* choices,
                  size_t count, size_t fallback, size_t* out, DriverError* error) {
  const Param* p = config.find_param(key);
  if (p == nullptr) {
    *out = fallback;
    return true;
  }
  if (p->is_text && p->text != nullptr) {
    for (size_t i = 0; i < count; ++i) {
      if (std::strcmp(p->text, choices[i]) == 0) {
        *out = i;
        return true;
      }
    }
  }
  if (error) {
    char list[96] = {};
    size_t used = 0;
    for (size_t i = 0; i < count; ++i) {
      const char* sep = i == 0 ? "" : (i + 1 == count ? " or " : ", ");
      const int n = std::snprintf(list + used, sizeof list - used, "%s\"%s\"", sep, choices[i]);
      if (n < 0 || static_cast<size_t>(n) >= sizeof list - used) break;
      used += static_cast<size_t>(n);
    }
    if (p->is_text) {
      error->set("params.%s: expected %s, got \"%s\"", key, list, p->text ? p->text : "");
    } else {
      error->set("params.%s: expected %s, got %" PRId64, key, list, p->number);
    }
  }
  return false;
}

}  // namespace drv

#include "agent/settings.hpp"

#include <cjson/cJSON.h>

#include <cinttypes>
#include <cstdio>

namespace agent {

namespace {

/// A JSON number that is a whole number in lo..hi.
bool whole_in_range(const cJSON* item, double lo, double hi, uint32_t* v) {
  if (!cJSON_IsNumber(item)) return false;
  const double d = item->valuedouble;
  if (!(d >= lo && d <= hi)) return false;
  const auto u = static_cast<uint32_t>(d);
  if (static_cast<double>(u) != d) return false;
  *v = u;
  return true;
}

}  // namespace

hal::Err save_settings(hal::Storage& storage, const char* key, const TelemetrySettings& s) {
  if (s.interval_ms < kIntervalMinMs || s.interval_ms > kIntervalMaxMs || s.batch_max < kBatchMaxMin ||
      s.batch_max > kBatchMaxMax) {
    return hal::Err::InvalidArgument;
  }
  char blob[128];
  const int n = std::snprintf(blob, sizeof blob,
                              "{\"version\":1,\"telemetry\":{\"interval_ms\":%" PRIu32
                              ",\"batch_max\":%" PRIu32 "}}",
                              s.interval_ms, s.batch_max);
  if (n < 0 || static_cast<size_t>(n) >= sizeof blob) return hal::Err::Overflow;
  return storage.replace(key, reinterpret_cast<const uint8_t*>(blob), static_cast<size_t>(n));
}

hal::Err load_settings(hal::Storage& storage, const char* key, TelemetrySettings* out) {
  uint8_t buf[512];
  const hal::Result<size_t> r = storage.read(key, buf, sizeof buf);
  if (!r.ok()) return r.error();
  cJSON* root = cJSON_ParseWithLength(reinterpret_cast<const char*>(buf), r.value());
  if (root == nullptr) return hal::Err::Corrupt;
  TelemetrySettings s;
  uint32_t version = 0;
  const cJSON* tel = cJSON_GetObjectItemCaseSensitive(root, "telemetry");
  const bool ok = cJSON_IsObject(root) &&
                  whole_in_range(cJSON_GetObjectItemCaseSensitive(root, "version"), 1, 1, &version) &&
                  cJSON_IsObject(tel) &&
                  whole_in_range(cJSON_GetObjectItemCaseSensitive(tel, "interval_ms"), kIntervalMinMs,
                                 kIntervalMaxMs, &s.interval_ms) &&
                  whole_in_range(cJSON_GetObjectItemCaseSensitive(tel, "batch_max"), kBatchMaxMin,
                                 kBatchMaxMax, &s.batch_max);
  cJSON_Delete(root);
  if (!ok) return hal::Err::Corrupt;
  *out = s;
  return hal::Err::Ok;
}

}  // namespace agent

#include "agent/settings.hpp"

#include <cinttypes>
#include <cstdio>

#include "json/reader.hpp"

namespace agent {

hal::Err save_settings(hal::Storage& storage, const char* key, const TelemetrySettings& s) {
  if (s.interval_ms < kIntervalMinMs || s.interval_ms > kIntervalMaxMs || s.batch_max < kBatchMaxMin ||
      s.batch_max > kBatchMaxMax || s.sample_ms < kSampleMinMs || s.sample_ms > kSampleMaxMs ||
      s.batch_window_ms < kBatchWindowMinMs || s.batch_window_ms > kBatchWindowMaxMs) {
    return hal::Err::InvalidArgument;
  }
  char blob[160];
  const int n = std::snprintf(blob, sizeof blob,
                              "{\"version\":1,\"telemetry\":{\"interval_ms\":%" PRIu32 ",\"batch_max\":%" PRIu32
                              ",\"sample_ms\":%" PRIu32 ",\"batch_window_ms\":%" PRIu32 "}}",
                              s.interval_ms, s.batch_max, s.sample_ms, s.batch_window_ms);
  if (n < 0 || static_cast<size_t>(n) >= sizeof blob) return hal::Err::Overflow;
  return storage.replace(key, reinterpret_cast<const uint8_t*>(blob), static_cast<size_t>(n));
}

hal::Err load_settings(hal::Storage& storage, const char* key, TelemetrySettings* out) {
  uint8_t buf[512];
  const hal::Result<size_t> r = storage.read(key, buf, sizeof buf);
  if (!r.ok()) return r.error();
  // The reader's message is not needed: any problem is Corrupt.
  json::Reader doc(key);
  if (!doc.parse(reinterpret_cast<const char*>(buf), r.value())) return hal::Err::Corrupt;
  const json::Value root = doc.root();
  const json::Value tel = root["telemetry"];
  TelemetrySettings s;
  s.batch_window_ms = out->batch_window_ms;  // a blob from before the window keeps the config's
  int64_t version = 0;
  const bool ok = root["version"].integer(&version, 1, 1, json::kRequired) && tel.is_object() &&
                  tel["interval_ms"].integer(&s.interval_ms, kIntervalMinMs, kIntervalMaxMs, json::kRequired) &&
                  tel["batch_max"].integer(&s.batch_max, kBatchMaxMin, kBatchMaxMax, json::kRequired) &&
                  tel["sample_ms"].integer(&s.sample_ms, kSampleMinMs, kSampleMaxMs) &&
                  tel["batch_window_ms"].integer(&s.batch_window_ms, kBatchWindowMinMs, kBatchWindowMaxMs);
  if (!ok) return hal::Err::Corrupt;
  *out = s;
  return hal::Err::Ok;
}

}  // namespace agent

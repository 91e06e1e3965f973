// The settings the `configure` command changes and their persisted form
// (shared/DESIGN.md "Commands": configure persists across restarts). The
// command applies them through CommandHost; the runtime reads them back at
// start-up with load_settings() and applies them over the config file.
#pragma once

#include <cstdint>

#include "hal/status.hpp"
#include "hal/storage.hpp"

namespace agent {

/// Telemetry settings the `configure` command changes. Milliseconds, so no
/// floating point is needed here: interval 50..86400000 (0.05 s..1 day),
/// batch_max 1..100 (shared/DESIGN.md ranges).
struct TelemetrySettings {
  uint32_t interval_ms = 10000;
  uint32_t batch_max = 1;
};
constexpr uint32_t kIntervalMinMs = 50;
constexpr uint32_t kIntervalMaxMs = 86400000;
constexpr uint32_t kBatchMaxMin = 1;
constexpr uint32_t kBatchMaxMax = 100;

/// Storage key of the persisted settings blob.
constexpr const char* kSettingsKey = "settings.json";
/// Writes `s` as `{"version":1,"telemetry":{"interval_ms":N,"batch_max":N}}`
/// with Storage::replace (atomic). `key` is borrowed for the call. Errors:
/// InvalidArgument (out of range, or a bad key), NoSpace, Io.
hal::Err save_settings(hal::Storage& storage, const char* key, const TelemetrySettings& s);
/// Reads what save_settings() wrote into `*out` (left untouched on error).
/// Start-up only: parses with cJSON, which allocates. Errors: NotFound (never
/// saved), Corrupt (not that JSON shape, or values out of range), Overflow
/// (blob over 512 bytes), InvalidArgument, Io.
hal::Err load_settings(hal::Storage& storage, const char* key, TelemetrySettings* out);

}  // namespace agent

// The settings the `configure` command changes and their persisted form
// (shared/DESIGN.md "Commands": configure persists across restarts). The
// command applies them through CommandHost; the runtime reads them back at
// start-up with load_settings() and applies them over the config file.
#pragma once

#include <cstdint>

#include "agent/alerts.hpp"
#include "agent/limits.hpp"
#include "hal/status.hpp"
#include "hal/storage.hpp"

namespace agent {

/// Telemetry settings the `configure` command changes. Milliseconds, so no
/// floating point is needed here; the ranges are limits::kIntervalS and
/// limits::kBatchMax (agent/limits.hpp), in the units below.
struct TelemetrySettings {
  uint32_t interval_ms = 10000;
  uint32_t batch_max = 1;
  /// How often on_change/deadband channels are sampled (limits::kSampleS).
  uint32_t sample_ms = 1000;
  /// The batching window (limits::kBatchWindowS), 0 = off.
  uint32_t batch_window_ms = 1000;
};

namespace detail {
/// Seconds -> whole milliseconds, rounded (a constant expression).
constexpr uint32_t seconds_to_ms(double s) { return static_cast<uint32_t>(s * 1000 + 0.5); }
}  // namespace detail

/// limits::kIntervalS in milliseconds (50..86400000).
constexpr uint32_t kIntervalMinMs = detail::seconds_to_ms(limits::kIntervalS.lo);
constexpr uint32_t kIntervalMaxMs = detail::seconds_to_ms(limits::kIntervalS.hi);
static_assert(kIntervalMinMs / 1000.0 == limits::kIntervalS.lo && kIntervalMaxMs / 1000.0 == limits::kIntervalS.hi,
              "limits::kIntervalS must be whole milliseconds");
/// limits::kSampleS in milliseconds (50..86400000).
constexpr uint32_t kSampleMinMs = detail::seconds_to_ms(limits::kSampleS.lo);
constexpr uint32_t kSampleMaxMs = detail::seconds_to_ms(limits::kSampleS.hi);
static_assert(kSampleMinMs / 1000.0 == limits::kSampleS.lo && kSampleMaxMs / 1000.0 == limits::kSampleS.hi,
              "limits::kSampleS must be whole milliseconds");
/// limits::kBatchWindowS in milliseconds (0..60000).
constexpr uint32_t kBatchWindowMinMs = detail::seconds_to_ms(limits::kBatchWindowS.lo);
constexpr uint32_t kBatchWindowMaxMs = detail::seconds_to_ms(limits::kBatchWindowS.hi);
static_assert(kBatchWindowMinMs / 1000.0 == limits::kBatchWindowS.lo &&
                  kBatchWindowMaxMs / 1000.0 == limits::kBatchWindowS.hi,
              "limits::kBatchWindowS must be whole milliseconds");
/// limits::kBatchMax as uint32_t (1..100).
constexpr uint32_t kBatchMaxMin = static_cast<uint32_t>(limits::kBatchMax.lo);
constexpr uint32_t kBatchMaxMax = static_cast<uint32_t>(limits::kBatchMax.hi);
static_assert(limits::kBatchMax.lo >= 0 && kBatchMaxMin == limits::kBatchMax.lo && kBatchMaxMax == limits::kBatchMax.hi,
              "limits::kBatchMax must fit uint32_t");

/// Storage key of the persisted settings blob.
constexpr const char* kSettingsKey = "settings.json";
/// Writes `s` as
/// `{"version":1,"telemetry":{"interval_ms":N,"batch_max":N,"sample_ms":N,"batch_window_ms":N}}`
/// with Storage::replace (atomic). `key` is borrowed for the call. Errors:
/// InvalidArgument (out of range, or a bad key), NoSpace, Io.
hal::Err save_settings(hal::Storage& storage, const char* key, const TelemetrySettings& s);
/// Reads what save_settings() wrote into `*out` (left untouched on error).
/// Start-up only: reads through json::Reader (json/reader.hpp), which
/// allocates. Unknown keys are ignored; a blob without "sample_ms" (written
/// before it existed) leaves sample_ms at the default, one without
/// "batch_window_ms" leaves out->batch_window_ms as it was (the config file's). Errors: NotFound (never saved),
/// Corrupt (not that JSON shape, or values out of range), Overflow (blob over
/// 512 bytes), InvalidArgument, Io.
hal::Err load_settings(hal::Storage& storage, const char* key, TelemetrySettings* out);

/// Storage key of the persisted alert settings (the `alerts` command).
constexpr const char* kAlertsKey = "alerts.json";
/// Bytes the persisted alert settings take at most (room, nick, every rule line).
constexpr size_t kAlertsBlobMax = 64 + 2 * (kAlertRoomMax + kAlertNickMax) + kAlertRulesMax * (kAlertLineMax + 4);
/// Writes `s` as `{"version":1,"room":"..","nick":"..","rules":["<rule line>",..]}`
/// (the lines of format_alert_rule()) with Storage::replace (atomic). No
/// heap: formatted on the stack. Errors: InvalidArgument (more than
/// kAlertRulesMax rules, a room or nick with a quote, backslash or control
/// character, a bad key), Overflow, NoSpace, Io.
hal::Err save_alerts(hal::Storage& storage, const char* key, const AlertSettings& s);
/// Reads what save_alerts() wrote into `*out` (left untouched on error).
/// Start-up only (json::Reader allocates). Errors: NotFound (never saved),
/// Corrupt (not that shape, a rule line that does not parse), Overflow (blob
/// over kAlertsBlobMax bytes), InvalidArgument, Io.
hal::Err load_alerts(hal::Storage& storage, const char* key, AlertSettings* out);

}  // namespace agent

// How a channel reports: with every telemetry interval, at once when it
// changes, or when it moved more than a deadband. Board data (a device
// entry's "report" key, boards/README.md "Reporting"); the telemetry
// publisher acts on it (agent/telemetry.hpp), the device node describes it.
#pragma once

#include <cstdint>

namespace drv {

enum class ReportMode : uint8_t {
  /// Sampled and published every telemetry.interval_s (the default).
  Interval,
  /// Published at once when the value changes: a debounced edge
  /// (Device::poll_changes), a `set` command, or any difference seen when
  /// sampled every telemetry.sample_s; and every interval_s as a heartbeat.
  OnChange,
  /// Numeric channels: published when the value moved more than the
  /// deadband since the last published value (checked every
  /// telemetry.sample_s); and every interval_s as a heartbeat.
  Deadband,
};

/// A channel's report policy. The deadband is mantissa * 10^exponent in the
/// channel's unit (0.2 Cel = {2, -1}); it is not used by other modes.
struct ReportPolicy {
  ReportMode mode = ReportMode::Interval;
  int64_t deadband_mantissa = 0;
  int8_t deadband_exponent = 0;

  static constexpr ReportPolicy interval() { return ReportPolicy{}; }
  static constexpr ReportPolicy on_change() { return ReportPolicy{ReportMode::OnChange, 0, 0}; }
  static constexpr ReportPolicy deadband(int64_t mantissa, int8_t exponent) {
    return ReportPolicy{ReportMode::Deadband, mantissa, exponent};
  }
};

/// The board-file spelling of a mode: "interval", "on_change", "deadband".
constexpr const char* report_mode_name(ReportMode m) {
  return m == ReportMode::OnChange ? "on_change" : m == ReportMode::Deadband ? "deadband" : "interval";
}

}  // namespace drv

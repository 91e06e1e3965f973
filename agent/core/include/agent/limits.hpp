// The ranges of the agent's configuration values (shared/DESIGN.md "Agent
// configuration"), in one place: the config loader (config.cpp) checks them,
// and the fleet tools (fleet/sim/fleet_spec.cpp) check the same keys of the
// fleet file against the same numbers instead of restating them.
#pragma once

#include <cstdint>

namespace agent {
namespace limits {

/// An inclusive integer range [lo, hi].
struct IntRange {
  int64_t lo;
  int64_t hi;
};
/// An inclusive range [lo, hi] of numbers with fractions (seconds).
struct NumberRange {
  double lo;
  double hi;
};

// ---- xmpp -----------------------------------------------------------------
constexpr IntRange kPort{1, 65535};
constexpr IntRange kPingIntervalS{5, 3600};
/// xmpp.cert_warn_days: the renewal window of the client certificate (days).
constexpr IntRange kCertWarnDays{1, 3650};
/// Full-jitter backoff base.
constexpr NumberRange kReconnectBaseS{0.1, 3600};
/// Backoff cap: at least the base (checked against the configured base), at most a day.
constexpr double kReconnectCapMaxS = 86400;
/// The cap when not configured: max(kReconnectCapDefaultS, base).
constexpr double kReconnectCapDefaultS = 60;

// ---- telemetry --------------------------------------------------------------
constexpr NumberRange kIntervalS{0.05, 86400};
constexpr IntRange kBatchMax{1, 100};
/// How often on_change/deadband channels are sampled between intervals.
constexpr NumberRange kSampleS{0.05, 86400};
/// telemetry.batch_window_s: readings taken faster than this travel together
/// (0 = off). Above 60 s a "latency bound" would not bound much.
constexpr NumberRange kBatchWindowS{0, 60};

// ---- journal ----------------------------------------------------------------
constexpr IntRange kJournalMaxBytes{4096, int64_t{1} << 30};
constexpr NumberRange kFsyncIntervalS{0.05, 3600};

// ---- alerts (docs/alerts.md) ------------------------------------------------
/// Rules per device ("alerts.rules", the `alerts` command): one line each in
/// the command's text-multi field, so at most what one form field carries
/// (agent/forms.hpp kFieldMaxValues; alerts.hpp checks it).
constexpr IntRange kAlertRules{0, 8};
/// alerts.rules[i].for_s: how long the condition must hold before the alarm (s).
constexpr IntRange kAlertForS{0, 86400};
/// |threshold| and hysteresis: kept well inside an exact 64-bit decimal.
constexpr double kAlertValueMax = 1e12;

}  // namespace limits
}  // namespace agent

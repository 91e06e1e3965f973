// `diagnostics` (operator): completes at once with a result form of the
// host's counters (docs/commands.md "diagnostics"). Also the chat's `status`
// line (CommandRouter::status_line), which reads the same counters.
#include <cinttypes>
#include <cstdio>

#include "agent/commands.hpp"
#include "agent/identity.hpp"
#include "stage.hpp"

namespace agent {
namespace cmd {

namespace {

/// "3d 4h", "1h 02m", "5m 07s", "42s".
void format_uptime(char* buf, size_t cap, uint64_t s) {
  if (s >= 86400) {
    std::snprintf(buf, cap, "%" PRIu64 "d %" PRIu64 "h", s / 86400, (s % 86400) / 3600);
  } else if (s >= 3600) {
    std::snprintf(buf, cap, "%" PRIu64 "h %02" PRIu64 "m", s / 3600, (s % 3600) / 60);
  } else if (s >= 60) {
    std::snprintf(buf, cap, "%" PRIu64 "m %02" PRIu64 "s", s / 60, s % 60);
  } else {
    std::snprintf(buf, cap, "%" PRIu64 "s", s);
  }
}

void execute(const CommandCall& call, CommandResponse* out) {
  DiagnosticsInfo d;
  call.host.diagnostics(&d);
  Form& f = out->form;
  f.reset(FormType::Result);
  (void)f.set_title("Diagnostics");
  auto text = [&f](const char* var, const char* label, const char* value) {
    (void)f.add_field(FieldType::TextSingle, var, label);
    (void)f.add_value(value);
  };
  auto number = [&text](const char* var, const char* label, uint64_t value) {
    char buf[24];
    std::snprintf(buf, sizeof buf, "%" PRIu64, value);
    text(var, label, buf);
  };
  number("uptime_s", "Agent uptime (s)", d.uptime_s);
  text("firmware", "Firmware", d.firmware);
  text("board", "Board", d.board);
  if (d.boot_id[0] != '\0') text("boot_id", "Boot id", d.boot_id);
  if (d.health[0] != '\0') text("health", "Health", d.health);
  if (d.problem[0] != '\0') text("problem", "Problem", d.problem);
  number("channels", "Channels", call.registry.channel_count());
  number("reconnects", "Reconnects", d.reconnects);
  number("journal_depth", "Readings waiting for delivery", d.journal_depth);
  number("dropped_readings", "Readings dropped", d.dropped_readings);
  number("journal_bytes", "Journal size (bytes)", d.journal_bytes);
  number("journal_corrupt", "Corrupt journal records skipped", d.journal_corrupt);
  number("power_cut_lost", "Readings lost in a power cut before this start (at most)", d.power_cut_lost);
  number("replayed", "Items sent again", d.replayed);
  number("errors", "Errors", d.errors);
  if (d.last_error[0] != '\0') text("last_error", "Last error", d.last_error);
  number("command_sessions", "Open command sessions", call.live_sessions);
  if (d.alert_rules != 0 || d.alerts_dropped != 0) {
    number("alert_rules", "Alert rules", d.alert_rules);
    number("active_alarms", "Active alarms", d.active_alarms);
    number("alerts_queued", "Alert messages waiting for the room", d.alerts_queued);
    number("alerts_dropped", "Alert messages dropped (queue full)", d.alerts_dropped);
  }
  if (d.cert_not_after != 0) {
    char when[32];
    if (identity::format_iso8601(d.cert_not_after, when, sizeof when) > 0) {
      text("cert_expires", "Client certificate expires", when);
    }
    char days[24];
    std::snprintf(days, sizeof days, "%lld", static_cast<long long>(d.cert_days_left));
    text("cert_days_left", "Client certificate days left", days);
  }
  complete_with_form(out);
}

}  // namespace

extern const CommandInfo kDiagnosticsCommand;  // listed in table.cpp
const CommandInfo kDiagnosticsCommand = {
    "diagnostics", "Diagnostics", Role::Operator,
    /*stages=*/0, execute, /*precheck=*/nullptr, /*next=*/nullptr, /*prev=*/nullptr, /*complete=*/nullptr,
};

}  // namespace cmd

bool CommandRouter::status_line(const char* from, char* buf, size_t cap, CommandError* err) {
  if (!allowed(from, Role::Viewer, "status", err)) return false;
  DiagnosticsInfo d;
  host_.diagnostics(&d);
  char up[32];
  cmd::format_uptime(up, sizeof up, d.uptime_s);
  const size_t channels = registry_.channel_count();
  const char* health = d.health[0] != '\0' ? d.health : "healthy";
  const int n = std::snprintf(buf, cap, "%s board, xiot %s, up %s, %zu channel%s, %s%s%s",
                              d.board[0] != '\0' ? d.board : "unknown", d.firmware[0] != '\0' ? d.firmware : "?",
                              up, channels, channels == 1 ? "" : "s", health, d.problem[0] != '\0' ? ": " : "",
                              d.problem);
  if (n < 0 || static_cast<size_t>(n) >= cap) {
    cmd::set_error(err, StanzaCondition::InternalServerError, CommandCondition::None, "status line too long");
    return false;
  }
  return true;
}

}  // namespace agent

// `configure` (owner): one form (interval_s, batch_max, sample_s, batch_window_s) prefilled with the
// settings in force; complete applies them through the host and persists
// them with save_settings() (docs/commands.md "configure").
#include <cinttypes>
#include <cstdio>
#include <cstring>

#include "agent/commands.hpp"
#include "agent/limits.hpp"
#include "agent/log.hpp"
#include "agent/senml.hpp"
#include "agent/settings.hpp"
#include "stage.hpp"

namespace agent {
namespace cmd {

namespace {

/// "10", "0.05", "1.5": milliseconds as seconds, trailing zeros dropped.
void format_ms_as_seconds(char* buf, size_t cap, uint32_t ms) {
  if (ms % 1000 == 0) {
    std::snprintf(buf, cap, "%" PRIu32, ms / 1000);
  } else if (ms % 100 == 0) {
    std::snprintf(buf, cap, "%" PRIu32 ".%" PRIu32, ms / 1000, (ms % 1000) / 100);
  } else if (ms % 10 == 0) {
    std::snprintf(buf, cap, "%" PRIu32 ".%02" PRIu32, ms / 1000, (ms % 1000) / 10);
  } else {
    std::snprintf(buf, cap, "%" PRIu32 ".%03" PRIu32, ms / 1000, ms % 1000);
  }
}

/// Parses `text` (the value of field or setting `var`) as an exact decimal
/// scaled by 10^scale, in lo..hi. Returns false with *err (bad-payload naming
/// `var`).
bool scaled_text(const char* var, const char* text, int scale, int64_t lo, int64_t hi, const char* range,
                 int64_t* out, CommandError* err) {
  if (text == nullptr || text[0] == '\0') {
    set_error(err, StanzaCondition::BadRequest, CommandCondition::BadPayload, "%s: required", var);
    return false;
  }
  const hal::Result<drv::Value> v = parse_decimal(text);
  if (!v.ok() && v.error() == hal::Err::InvalidArgument) {
    set_error(err, StanzaCondition::BadRequest, CommandCondition::BadPayload, "%s: '%.32s' is not a number",
              var, text);
    return false;
  }
  hal::Result<int64_t> n = v.ok() ? decimal_to_scaled(v.value(), scale) : hal::Result<int64_t>(v.error());
  if (!n.ok() && n.error() == hal::Err::InvalidArgument) {
    set_error(err, StanzaCondition::BadRequest, CommandCondition::BadPayload,
              scale == 0 ? "%s: '%.32s' is not a whole number" : "%s: '%.32s' is finer than a millisecond",
              var, text);
    return false;
  }
  if (!n.ok() || n.value() < lo || n.value() > hi) {
    set_error(err, StanzaCondition::BadRequest, CommandCondition::BadPayload, "%s: '%.32s' is out of range (%s)",
              var, text, range);
    return false;
  }
  *out = n.value();
  return true;
}

/// Parses field `var` of `form` with scaled_text(); an absent field leaves
/// *present false and is fine (unchanged).
bool scaled_field(const Form& form, const char* var, int scale, int64_t lo, int64_t hi, const char* range,
                  bool* present, int64_t* out, CommandError* err) {
  const FormField* f = form.find(var);
  *present = f != nullptr;
  if (f == nullptr) return true;  // absent: unchanged
  return scaled_text(var, f->first_value(), scale, lo, hi, range, out, err);
}

/// "0.05 to 86400" and "1 to 100": the ranges of agent/limits.hpp as the form
/// and its errors show them (each buffer 32 bytes).
void format_ranges(char* interval, char* batch, char* sample, char* window) {
  std::snprintf(window, 32, "%g to %g", limits::kBatchWindowS.lo, limits::kBatchWindowS.hi);
  std::snprintf(interval, 32, "%g to %g", limits::kIntervalS.lo, limits::kIntervalS.hi);
  std::snprintf(sample, 32, "%g to %g", limits::kSampleS.lo, limits::kSampleS.hi);
  std::snprintf(batch, 32, "%" PRId64 " to %" PRId64, static_cast<int64_t>(limits::kBatchMax.lo),
                static_cast<int64_t>(limits::kBatchMax.hi));
}

/// The settings in force with the form's fields applied; false with `out`
/// failed (bad-payload naming the field).
bool settings_from_form(const CommandCall& call, CommandResponse* out, TelemetrySettings* s) {
  *s = call.host.telemetry_settings();
  char interval_range[32];
  char batch_range[32];
  char sample_range[32];
  char window_range[32];
  format_ranges(interval_range, batch_range, sample_range, window_range);
  CommandError e;
  bool present = false;
  int64_t v = 0;
  if (!scaled_field(*call.form, "interval_s", 3, kIntervalMinMs, kIntervalMaxMs, interval_range, &present, &v,
                    &e)) {
    fail_with(out, e);
    return false;
  }
  if (present) s->interval_ms = static_cast<uint32_t>(v);
  if (!scaled_field(*call.form, "batch_max", 0, kBatchMaxMin, kBatchMaxMax, batch_range, &present, &v, &e)) {
    fail_with(out, e);
    return false;
  }
  if (present) s->batch_max = static_cast<uint32_t>(v);
  if (!scaled_field(*call.form, "sample_s", 3, kSampleMinMs, kSampleMaxMs, sample_range, &present, &v, &e)) {
    fail_with(out, e);
    return false;
  }
  if (present) s->sample_ms = static_cast<uint32_t>(v);
  if (!scaled_field(*call.form, "batch_window_s", 3, kBatchWindowMinMs, kBatchWindowMaxMs, window_range, &present,
                    &v, &e)) {
    fail_with(out, e);
    return false;
  }
  if (present) s->batch_window_ms = static_cast<uint32_t>(v);
  return true;
}

void execute(const CommandCall& call, CommandResponse* out) {
  const TelemetrySettings cur = call.host.telemetry_settings();
  Form& f = out->form;
  f.reset(FormType::Form);
  (void)f.set_title("Configure telemetry");
  (void)f.set_instructions("Changes apply at once and are kept across restarts.");
  char interval_range[32];
  char batch_range[32];
  char sample_range[32];
  char window_range[32];
  format_ranges(interval_range, batch_range, sample_range, window_range);
  char label[96];
  char interval[24];
  format_ms_as_seconds(interval, sizeof interval, cur.interval_ms);
  std::snprintf(label, sizeof label, "Sampling interval in seconds (%s)", interval_range);
  (void)f.add_field(FieldType::TextSingle, "interval_s", label, true);
  (void)f.add_value(interval);
  char batch[12];
  std::snprintf(batch, sizeof batch, "%" PRIu32, cur.batch_max);
  std::snprintf(label, sizeof label, "Readings per published item (%s)", batch_range);
  (void)f.add_field(FieldType::TextSingle, "batch_max", label, true);
  (void)f.add_value(batch);
  char sample[24];
  format_ms_as_seconds(sample, sizeof sample, cur.sample_ms);
  std::snprintf(label, sizeof label, "On-change/deadband sampling period in seconds (%s)", sample_range);
  (void)f.add_field(FieldType::TextSingle, "sample_s", label, true);
  (void)f.add_value(sample);
  char window[24];
  format_ms_as_seconds(window, sizeof window, cur.batch_window_ms);
  std::snprintf(label, sizeof label, "Batching window in seconds (%s; 0 = off)", window_range);
  (void)f.add_field(FieldType::TextSingle, "batch_window_s", label, true);
  (void)f.add_value(window);
  show_form(out, kActionComplete);
}

void complete(const CommandCall& call, CommandResponse* out) {
  TelemetrySettings s;
  if (!settings_from_form(call, out, &s)) return;
  const hal::Err r = call.host.reconfigure_telemetry(s);
  if (r == hal::Err::InvalidArgument) {
    fail(out, StanzaCondition::BadRequest, CommandCondition::BadPayload, "settings rejected by the publisher");
    return;
  }
  if (r == hal::Err::NoSpace) {
    fail(out, StanzaCondition::ResourceConstraint, CommandCondition::None,
         "not enough memory for batch_max %" PRIu32, s.batch_max);
    return;
  }
  if (r != hal::Err::Ok) {
    fail(out, StanzaCondition::InternalServerError, CommandCondition::None, "reconfigure failed: %s",
         hal::err_name(r));
    return;
  }
  char interval[24];
  format_ms_as_seconds(interval, sizeof interval, s.interval_ms);
  char sample[24];
  format_ms_as_seconds(sample, sizeof sample, s.sample_ms);
  char window[24];
  format_ms_as_seconds(window, sizeof window, s.batch_window_ms);
  XLOG_INFO(kArea, "%.128s configured telemetry: every %s s, batch %" PRIu32 ", sample %s s, window %s s",
            nz(call.from), interval, s.batch_max, sample, window);
  out->status = CommandStatus::Completed;
  out->add_note(NoteType::Info, "telemetry every %s s, %" PRIu32 " reading%s per item, on-change sampling every %s s",
                interval, s.batch_max, s.batch_max == 1 ? "" : "s", sample);
  if (call.storage == nullptr) {
    out->add_note(NoteType::Warn, "applied, but not persisted (no storage on this device)");
  } else if (const hal::Err p = save_settings(*call.storage, call.settings_key, s); p != hal::Err::Ok) {
    // The new settings are in force; say plainly that a restart loses them.
    XLOG_WARN(kArea, "persisting settings failed: %s", hal::err_name(p));
    out->add_note(NoteType::Error, "applied, but not persisted: %s", hal::err_name(p));
  }
}

}  // namespace

extern const CommandInfo kConfigureCommand;  // listed in table.cpp
const CommandInfo kConfigureCommand = {
    "configure", "Configure telemetry", Role::Owner,
    /*stages=*/1, execute, /*precheck=*/nullptr, /*next=*/nullptr, /*prev=*/nullptr, complete,
};

}  // namespace cmd

bool CommandRouter::desire_setting(const char* from, const char* setting, const char* value_text, bool* changed,
                                   CommandError* err) {
  *changed = false;
  if (!allowed(from, Role::Owner, "configure", err)) return false;
  char interval_range[32];
  char batch_range[32];
  char sample_range[32];
  char window_range[32];
  cmd::format_ranges(interval_range, batch_range, sample_range, window_range);
  // The configure form's fields, prefixed: one table, the form's ranges.
  struct Row {
    const char* name;
    int scale;
    int64_t lo, hi;
    const char* range;
    uint32_t TelemetrySettings::*field;
  };
  const Row rows[] = {
      {"telemetry.interval_s", 3, kIntervalMinMs, kIntervalMaxMs, interval_range, &TelemetrySettings::interval_ms},
      {"telemetry.batch_max", 0, kBatchMaxMin, kBatchMaxMax, batch_range, &TelemetrySettings::batch_max},
      {"telemetry.sample_s", 3, kSampleMinMs, kSampleMaxMs, sample_range, &TelemetrySettings::sample_ms},
      {"telemetry.batch_window_s", 3, kBatchWindowMinMs, kBatchWindowMaxMs, window_range,
       &TelemetrySettings::batch_window_ms},
  };
  const Row* row = nullptr;
  for (const Row& r : rows) {
    if (setting != nullptr && std::strcmp(r.name, setting) == 0) row = &r;
  }
  if (row == nullptr) {
    cmd::set_error(err, StanzaCondition::BadRequest, CommandCondition::BadPayload, "%.64s: unknown setting",
                   setting != nullptr ? setting : "");
    return false;
  }
  int64_t v = 0;
  if (!cmd::scaled_text(row->name, value_text, row->scale, row->lo, row->hi, row->range, &v, err)) return false;
  TelemetrySettings s = host_.telemetry_settings();
  if (s.*(row->field) == static_cast<uint32_t>(v)) return true;  // already in force
  s.*(row->field) = static_cast<uint32_t>(v);
  const hal::Err r = host_.reconfigure_telemetry(s);
  if (r != hal::Err::Ok) {
    cmd::set_error(err, r == hal::Err::InvalidArgument ? StanzaCondition::BadRequest
                                                        : StanzaCondition::InternalServerError,
                   CommandCondition::None, "%s: reconfigure failed: %s", row->name, hal::err_name(r));
    return false;
  }
  *changed = true;
  XLOG_INFO(cmd::kArea, "%.128s set %s to %.32s (desired state)", cmd::nz(from), row->name, value_text);
  if (storage_ != nullptr) {
    if (const hal::Err p = save_settings(*storage_, options_.settings_key, s); p != hal::Err::Ok) {
      XLOG_WARN(cmd::kArea, "persisting settings failed: %s", hal::err_name(p));
    }
  }
  return true;
}

}  // namespace agent

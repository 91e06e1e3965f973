// `alerts` (owner): one form (room, nick, the rules one per line) prefilled
// with the alert settings in force; complete checks every line against the
// board, applies them through the host and persists them with save_alerts()
// (docs/commands.md "alerts", docs/alerts.md).
#include <cinttypes>
#include <cstdio>
#include <cstring>

#include "agent/alerts.hpp"
#include "agent/commands.hpp"
#include "agent/jid.hpp"
#include "agent/log.hpp"
#include "agent/settings.hpp"
#include "stage.hpp"

namespace agent {
namespace cmd {

namespace {

constexpr const char* kRulesLabel =
    "Rules, one per line: <channel> above|below <number> [hysteresis <number>] [for <seconds>]";

void execute(const CommandCall& call, CommandResponse* out) {
  AlertSettings cur;
  call.host.alert_settings(&cur);
  Form& f = out->form;
  f.reset(FormType::Form);
  (void)f.set_title("Alerts");
  char text[kFormTextMax];
  std::snprintf(text, sizeof text,
                "Threshold rules sent to a group chat (XEP-0045 room). At most %zu rules; changes apply at once "
                "and are kept across restarts.",
                kAlertRulesMax);
  (void)f.set_instructions(text);
  (void)f.add_field(FieldType::JidSingle, "room", "Room (bare JID; empty with no rules = alerts off)");
  if (cur.room[0] != '\0') (void)f.add_value(cur.room);
  (void)f.add_field(FieldType::TextSingle, "nick", "Nickname in the room (empty = the device's JID)");
  if (cur.nick[0] != '\0') (void)f.add_value(cur.nick);
  (void)f.add_field(FieldType::TextMulti, "rules", kRulesLabel);
  for (size_t i = 0; i < cur.count; ++i) {
    char line[kAlertLineMax];
    if (format_alert_rule(line, sizeof line, cur.rules[i]).ok()) (void)f.add_value(line);
  }
  show_form(out, kActionComplete);
}

/// Copies field `var`'s value into `dst` when the field is present.
bool text_field(const Form& form, const char* var, char* dst, size_t cap, CommandResponse* out) {
  const FormField* field = form.find(var);
  if (field == nullptr) return true;  // absent: unchanged
  const char* v = field->first_value();
  if (v == nullptr) v = "";
  if (std::strlen(v) >= cap) {
    fail(out, StanzaCondition::BadRequest, CommandCondition::BadPayload, "%s: longer than %zu bytes", var, cap - 1);
    return false;
  }
  std::memcpy(dst, v, std::strlen(v) + 1);
  return true;
}

/// One line of the rules field (1-based `number`) into s->rules[s->count].
bool add_line(const CommandCall& call, const char* line, size_t len, size_t number, AlertSettings* s,
              CommandResponse* out) {
  char text[kAlertLineMax];
  if (len >= sizeof text) {
    fail(out, StanzaCondition::BadRequest, CommandCondition::BadPayload, "rules line %zu: longer than %zu bytes",
         number, sizeof text - 1);
    return false;
  }
  std::memcpy(text, line, len);
  text[len] = '\0';
  if (s->count == kAlertRulesMax) {
    fail(out, StanzaCondition::BadRequest, CommandCondition::BadPayload, "rules line %zu: more than %zu rules",
         number, kAlertRulesMax);
    return false;
  }
  char why[128];
  AlertRule& rule = s->rules[s->count];
  if (!parse_alert_rule(text, &rule, why, sizeof why)) {
    fail(out, StanzaCondition::BadRequest, CommandCondition::BadPayload, "rules line %zu '%.48s': %s", number, text,
         why);
    return false;
  }
  if (const char* problem = alert_rule_channel_problem(call.registry, rule, nullptr, nullptr)) {
    fail(out, StanzaCondition::BadRequest, CommandCondition::BadPayload, "rules line %zu '%.48s': %s: %s", number,
         text, rule.channel, problem);
    return false;
  }
  ++s->count;
  return true;
}

bool settings_from_form(const CommandCall& call, CommandResponse* out, AlertSettings* s) {
  call.host.alert_settings(s);
  const Form& form = *call.form;
  if (!text_field(form, "room", s->room, sizeof s->room, out) ||
      !text_field(form, "nick", s->nick, sizeof s->nick, out)) {
    return false;
  }
  if (s->room[0] != '\0') {
    if (const char* why = bare_jid_problem(s->room)) {
      fail(out, StanzaCondition::BadRequest, CommandCondition::BadPayload,
           "room: '%.64s' is not a bare JID of a room (%s)", s->room, why);
      return false;
    }
  }
  for (const char* c = s->nick; *c != '\0'; ++c) {
    if (static_cast<unsigned char>(*c) < 0x20 || *c == '"' || *c == '\\') {
      fail(out, StanzaCondition::BadRequest, CommandCondition::BadPayload,
           "nick: control characters, quotes and backslashes are not allowed");
      return false;
    }
  }
  const FormField* rules = form.find("rules");
  if (rules != nullptr) {
    // One rule per value (XEP-0004 text-multi); a client that sends the
    // lines in one value with newlines is read the same. Blank lines skipped.
    s->count = 0;
    size_t number = 0;
    for (size_t v = 0; v < rules->value_count(); ++v) {
      const char* p = rules->value(v);
      for (;;) {
        const char* end = std::strchr(p, '\n');
        size_t len = end != nullptr ? static_cast<size_t>(end - p) : std::strlen(p);
        ++number;
        size_t lead = 0;
        while (lead < len && (p[lead] == ' ' || p[lead] == '\t' || p[lead] == '\r')) ++lead;
        while (len > lead && (p[len - 1] == ' ' || p[len - 1] == '\t' || p[len - 1] == '\r')) --len;
        if (len > lead && !add_line(call, p + lead, len - lead, number, s, out)) return false;
        if (end == nullptr) break;
        p = end + 1;
      }
    }
  }
  if (s->count != 0 && s->room[0] == '\0') {
    fail(out, StanzaCondition::BadRequest, CommandCondition::BadPayload,
         "room: required when there are rules (the room the alarms go to)");
    return false;
  }
  return true;
}

void complete(const CommandCall& call, CommandResponse* out) {
  AlertSettings s;
  if (!settings_from_form(call, out, &s)) return;
  const hal::Err r = call.host.apply_alert_settings(s);
  if (r == hal::Err::NotSupported) {
    fail(out, StanzaCondition::FeatureNotImplemented, CommandCondition::None, "alerts are not available here");
    return;
  }
  if (r != hal::Err::Ok) {
    fail(out, StanzaCondition::InternalServerError, CommandCondition::None, "applying the rules failed: %s",
         hal::err_name(r));
    return;
  }
  XLOG_INFO(kArea, "%.128s set %zu alert rule%s, room %s", nz(call.from), s.count, s.count == 1 ? "" : "s",
            s.room[0] != '\0' ? s.room : "(none)");
  out->status = CommandStatus::Completed;
  if (s.count == 0) {
    out->add_note(NoteType::Info, "no alert rules%s%.100s", s.room[0] != '\0' ? "; room " : "", s.room);
  } else {
    out->add_note(NoteType::Info, "%zu alert rule%s, alarms to %.120s", s.count, s.count == 1 ? "" : "s", s.room);
  }
  if (call.storage == nullptr) {
    out->add_note(NoteType::Warn, "applied, but not persisted (no storage on this device)");
  } else if (const hal::Err p = save_alerts(*call.storage, kAlertsKey, s); p != hal::Err::Ok) {
    XLOG_WARN(kArea, "persisting alert rules failed: %s", hal::err_name(p));
    out->add_note(NoteType::Error, "applied, but not persisted: %s", hal::err_name(p));
  }
}

}  // namespace

extern const CommandInfo kAlertsCommand;  // listed in table.cpp
const CommandInfo kAlertsCommand = {
    "alerts", "Alert rules", Role::Owner,
    /*stages=*/1, execute, /*precheck=*/nullptr, /*next=*/nullptr, /*prev=*/nullptr, complete,
};

}  // namespace cmd
}  // namespace agent

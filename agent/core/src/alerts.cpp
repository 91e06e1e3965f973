// See agent/alerts.hpp and docs/alerts.md.
#include "agent/alerts.hpp"

#include <cinttypes>
#include <cstdarg>
#include <cstdio>
#include <cstring>

#include "agent/forms.hpp"
#include "agent/identity.hpp"
#include "agent/senml.hpp"
#include "text_writer.hpp"

namespace agent {

static_assert(kAlertRulesMax <= kFieldMaxValues, "every rule is one value of the alerts command's text-multi field");
static_assert(kAlertRulesMax <= 255, "AlertEvent::rule is 8 bits");

namespace {

/// *out = m * 10^k (k >= 0). False on overflow.
bool scale_up(int64_t m, int k, int64_t* out) {
  for (; k > 0; --k) {
    if (__builtin_mul_overflow(m, int64_t{10}, &m)) return false;
  }
  *out = m;
  return true;
}

/// a and b at their smaller exponent; false when either does not fit.
bool align(const drv::Value& a, const drv::Value& b, int64_t* am, int64_t* bm, int* e) {
  *e = a.exponent < b.exponent ? a.exponent : b.exponent;
  return scale_up(a.mantissa, a.exponent - *e, am) && scale_up(b.mantissa, b.exponent - *e, bm);
}

/// a + sign * b, exactly. False on overflow.
bool add_decimal(const drv::Value& a, const drv::Value& b, int sign, drv::Value* out) {
  int64_t am = 0;
  int64_t bm = 0;
  int e = 0;
  if (!align(a, b, &am, &bm, &e)) return false;
  int64_t r = 0;
  if (sign < 0 ? __builtin_sub_overflow(am, bm, &r) : __builtin_add_overflow(am, bm, &r)) return false;
  if (e < -128 || e > 127) return false;
  *out = drv::Value::numeric(r, static_cast<int8_t>(e));
  return true;
}

void say(char* why, size_t cap, const char* fmt, ...) __attribute__((format(printf, 3, 4)));
void say(char* why, size_t cap, const char* fmt, ...) {
  if (why == nullptr || cap == 0) return;
  va_list ap;
  va_start(ap, fmt);
  std::vsnprintf(why, cap, fmt, ap);
  va_end(ap);
}

bool channel_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
         c == '.';
}

/// The next space-separated token of *p (copied into tok, at most cap - 1
/// bytes); false at the end. A longer token is cut and flagged by *cut.
bool next_token(const char** p, char* tok, size_t cap, bool* cut) {
  const char* s = *p;
  while (*s == ' ' || *s == '\t') ++s;
  if (*s == '\0') {
    *p = s;
    return false;
  }
  size_t n = 0;
  *cut = false;
  while (*s != '\0' && *s != ' ' && *s != '\t') {
    if (n + 1 < cap) {
      tok[n++] = *s;
    } else {
      *cut = true;
    }
    ++s;
  }
  tok[n] = '\0';
  *p = s;
  return true;
}

/// A decimal within +-kAlertValueMax (and >= 0 when `non_negative`).
bool parse_number(const char* tok, const char* what, bool non_negative, drv::Value* out, char* why, size_t cap) {
  const hal::Result<drv::Value> v = parse_decimal(tok);
  if (!v.ok()) {
    say(why, cap, "%s: '%.32s' is not a number", what, tok);
    return false;
  }
  // Compare with the limit as an exact decimal (1e12 = (1, 12)).
  const drv::Value max = drv::Value::numeric(static_cast<int64_t>(limits::kAlertValueMax), 0);
  drv::Value mag = v.value();
  if (mag.mantissa < 0) mag.mantissa = -mag.mantissa;
  if (compare_decimal(mag, max) > 0) {
    say(why, cap, "%s: '%.32s' is out of range (at most %g in magnitude)", what, tok, limits::kAlertValueMax);
    return false;
  }
  if (non_negative && v.value().mantissa < 0) {
    say(why, cap, "%s: '%.32s' must not be negative", what, tok);
    return false;
  }
  *out = v.value();
  return true;
}

}  // namespace

const char* alert_comparison_name(AlertComparison c) { return c == AlertComparison::Below ? "below" : "above"; }

const char* alert_state_name(AlertState s) {
  switch (s) {
    case AlertState::Normal: return "normal";
    case AlertState::Pending: return "pending";
    case AlertState::Alarm: return "alarm";
  }
  return "normal";
}

int compare_decimal(const drv::Value& a, const drv::Value& b) {
  int64_t am = 0;
  int64_t bm = 0;
  int e = 0;
  if (align(a, b, &am, &bm, &e)) return am < bm ? -1 : (am > bm ? 1 : 0);
  // One of them does not fit 64 bits at the finer exponent: its magnitude is
  // beyond anything the other can reach at its own; long double settles it.
  long double x = static_cast<long double>(a.mantissa);
  long double y = static_cast<long double>(b.mantissa);
  for (int k = a.exponent; k > 0; --k) x *= 10;
  for (int k = a.exponent; k < 0; ++k) x /= 10;
  for (int k = b.exponent; k > 0; --k) y *= 10;
  for (int k = b.exponent; k < 0; ++k) y /= 10;
  return x < y ? -1 : (x > y ? 1 : 0);
}

bool same_rule(const AlertRule& a, const AlertRule& b) {
  return std::strcmp(a.channel, b.channel) == 0 && a.comparison == b.comparison && a.for_s == b.for_s &&
         compare_decimal(a.threshold, b.threshold) == 0 && compare_decimal(a.hysteresis, b.hysteresis) == 0;
}

bool parse_alert_rule(const char* line, AlertRule* out, char* why, size_t cap) {
  if (line == nullptr) line = "";
  AlertRule r;
  const char* p = line;
  char tok[kAlertChannelMax + 1];
  bool cut = false;
  if (!next_token(&p, tok, sizeof tok, &cut)) {
    say(why, cap, "empty rule; expected '<channel> above|below <number> [hysteresis <number>] [for <seconds>]'");
    return false;
  }
  if (cut || std::strlen(tok) >= kAlertChannelMax) {
    say(why, cap, "channel name longer than %zu bytes", kAlertChannelMax - 1);
    return false;
  }
  for (const char* c = tok; *c != '\0'; ++c) {
    if (!channel_char(*c)) {
      say(why, cap, "channel '%.64s': expected device.quantity (letters, digits, '_', '-', '.')", tok);
      return false;
    }
  }
  if (std::strchr(tok, '.') == nullptr) {
    say(why, cap, "channel '%.64s': expected device.quantity, like env0.temperature", tok);
    return false;
  }
  std::memcpy(r.channel, tok, std::strlen(tok) + 1);
  if (!next_token(&p, tok, sizeof tok, &cut)) {
    say(why, cap, "expected 'above' or 'below' after the channel");
    return false;
  }
  if (std::strcmp(tok, "above") == 0) {
    r.comparison = AlertComparison::Above;
  } else if (std::strcmp(tok, "below") == 0) {
    r.comparison = AlertComparison::Below;
  } else {
    say(why, cap, "expected 'above' or 'below' after the channel, got '%.32s'", tok);
    return false;
  }
  if (!next_token(&p, tok, sizeof tok, &cut)) {
    say(why, cap, "expected a threshold after '%s'", alert_comparison_name(r.comparison));
    return false;
  }
  if (!parse_number(tok, "threshold", false, &r.threshold, why, cap)) return false;
  bool have_h = false;
  bool have_for = false;
  while (next_token(&p, tok, sizeof tok, &cut)) {
    const bool is_h = std::strcmp(tok, "hysteresis") == 0;
    const bool is_for = std::strcmp(tok, "for") == 0;
    if (!is_h && !is_for) {
      say(why, cap, "expected 'hysteresis <number>' or 'for <seconds>', got '%.32s'", tok);
      return false;
    }
    if ((is_h && have_h) || (is_for && have_for)) {
      say(why, cap, "'%s' given twice", is_h ? "hysteresis" : "for");
      return false;
    }
    const char* const word = is_h ? "hysteresis" : "for";  // tok is reused below
    if (!next_token(&p, tok, sizeof tok, &cut)) {
      say(why, cap, "expected a number after '%s'", word);
      return false;
    }
    if (is_h) {
      have_h = true;
      if (!parse_number(tok, "hysteresis", true, &r.hysteresis, why, cap)) return false;
    } else {
      have_for = true;
      const hal::Result<drv::Value> v = parse_decimal(tok);
      const hal::Result<int64_t> s = v.ok() ? decimal_to_scaled(v.value(), 0) : hal::Result<int64_t>(v.error());
      if (!s.ok() || s.value() < limits::kAlertForS.lo || s.value() > limits::kAlertForS.hi) {
        say(why, cap, "for: '%.32s' is not a whole number of seconds from %" PRId64 " to %" PRId64, tok,
            limits::kAlertForS.lo, limits::kAlertForS.hi);
        return false;
      }
      r.for_s = static_cast<uint32_t>(s.value());
    }
  }
  *out = r;
  return true;
}

hal::Result<size_t> format_alert_rule(char* buf, size_t cap, const AlertRule& rule) {
  detail::TextWriter w(buf, cap);
  w.put(rule.channel);
  w.put_char(' ');
  w.put(alert_comparison_name(rule.comparison));
  w.put_char(' ');
  w.put_decimal(rule.threshold.mantissa, rule.threshold.exponent);
  if (rule.hysteresis.mantissa != 0) {
    w.put(" hysteresis ");
    w.put_decimal(rule.hysteresis.mantissa, rule.hysteresis.exponent);
  }
  if (rule.for_s != 0) {
    w.put(" for ");
    w.put_uint(rule.for_s);
  }
  return w.finish();
}

const char* alert_rule_channel_problem(const drv::Registry& reg, const AlertRule& rule, drv::ChannelRef* ref,
                                       size_t* device_index) {
  const hal::Result<drv::ChannelRef> found = reg.find(rule.channel);
  if (!found.ok()) return "no such channel on this board";
  if (found.value().spec().type != drv::ValueType::Numeric) return "not a numeric channel";
  if (ref != nullptr) *ref = found.value();
  if (device_index != nullptr) {
    for (size_t i = 0; i < reg.device_count(); ++i) {
      if (&reg.device(i) == found.value().device) *device_index = i;
    }
  }
  return nullptr;
}

// ---- the engine ---------------------------------------------------------------

AlertEngine::AlertEngine(const drv::Registry& reg, hal::MonotonicClock& mono, hal::WallClock& wall)
    : reg_(reg), mono_(mono), wall_(wall) {}

void AlertEngine::set_rules(const AlertSettings& s) {
  RuleState next[kAlertRulesMax];
  int keep_from[kAlertRulesMax];  // old index of an equal rule, or -1
  const size_t count = s.count < kAlertRulesMax ? s.count : kAlertRulesMax;
  for (size_t i = 0; i < count; ++i) {
    keep_from[i] = -1;
    for (size_t j = 0; j < settings_.count; ++j) {
      bool taken = false;
      for (size_t k = 0; k < i; ++k) taken = taken || keep_from[k] == static_cast<int>(j);
      if (!taken && same_rule(s.rules[i], settings_.rules[j])) {
        keep_from[i] = static_cast<int>(j);
        break;
      }
    }
    if (keep_from[i] >= 0) {
      next[i] = rules_[keep_from[i]];
      continue;
    }
    RuleState& r = next[i];
    r = RuleState{};
    drv::ChannelRef ref;
    size_t dev = 0;
    if (alert_rule_channel_problem(reg_, s.rules[i], &ref, &dev) == nullptr) {
      r.device = ref.device;
      r.device_index = dev;
      r.channel = ref.index;
      r.unit = ref.spec().unit != nullptr ? ref.spec().unit : "";
    }
    const int sign = s.rules[i].comparison == AlertComparison::Above ? -1 : 1;
    if (!add_decimal(s.rules[i].threshold, s.rules[i].hysteresis, sign, &r.clear_level)) {
      r.clear_level = s.rules[i].threshold;  // cannot happen within kAlertValueMax
    }
  }
  // Queued messages follow their rule to its new index; those of rules that
  // are gone are dropped (they would name a rule that no longer exists).
  AlertEvent kept[kQueueMax];
  size_t n = 0;
  for (size_t q = 0; q < queue_count_; ++q) {
    AlertEvent e = queue_[(queue_head_ + q) % kQueueMax];
    for (size_t i = 0; i < count; ++i) {
      if (keep_from[i] == static_cast<int>(e.rule)) {
        e.rule = static_cast<uint8_t>(i);
        kept[n++] = e;
        break;
      }
    }
  }
  for (size_t q = 0; q < n; ++q) queue_[q] = kept[q];
  queue_head_ = 0;
  queue_count_ = n;
  settings_ = s;
  settings_.count = count;
  for (size_t i = 0; i < count; ++i) rules_[i] = next[i];
}

size_t AlertEngine::inactive() const {
  size_t n = 0;
  for (size_t i = 0; i < settings_.count; ++i) n += rules_[i].device == nullptr ? 1 : 0;
  return n;
}

size_t AlertEngine::active_alarms() const {
  size_t n = 0;
  for (size_t i = 0; i < settings_.count; ++i) n += rules_[i].state == AlertState::Alarm ? 1 : 0;
  return n;
}

void AlertEngine::on_sampled(uint32_t devices) {
  if (settings_.count == 0) return;
  const hal::MonoTime now = mono_.mono_now();
  const hal::WallTime at = wall_.wall_now();
  for (size_t i = 0; i < settings_.count; ++i) {
    const RuleState& r = rules_[i];
    if (r.device == nullptr || r.device_index >= 32 || (devices & (1u << r.device_index)) == 0) continue;
    // A missing reading neither raises nor clears (see the top of alerts.hpp).
    if (reg_.last_sample_error(r.device_index) != hal::Err::Ok) continue;
    const hal::Result<drv::Value> v = r.device->get(r.channel);
    if (!v.ok() || v.value().type != drv::ValueType::Numeric) continue;
    evaluate(i, v.value(), now, at);
  }
}

void AlertEngine::evaluate(size_t i, const drv::Value& v, hal::MonoTime now, hal::WallTime at) {
  RuleState& r = rules_[i];
  const AlertRule& rule = settings_.rules[i];
  r.last = v;
  r.last_at = at;
  const int vs_threshold = compare_decimal(v, rule.threshold);
  const bool condition = rule.comparison == AlertComparison::Above ? vs_threshold > 0 : vs_threshold < 0;
  switch (r.state) {
    case AlertState::Normal:
      if (!condition) return;
      r.pending_since = now;
      r.state = AlertState::Pending;
      if (rule.for_s != 0) return;
      break;  // for_s 0: on to the alarm with this same reading
    case AlertState::Pending:
      if (!condition) {
        r.state = AlertState::Normal;
        return;
      }
      break;
    case AlertState::Alarm: {
      const int vs_clear = compare_decimal(v, r.clear_level);
      const bool cleared = rule.comparison == AlertComparison::Above ? vs_clear <= 0 : vs_clear >= 0;
      if (cleared) {
        r.state = AlertState::Normal;
        changed(i, now);
      }
      return;
    }
  }
  if (now.us_since(r.pending_since) >= static_cast<int64_t>(rule.for_s) * 1000000) {
    r.state = AlertState::Alarm;
    changed(i, now);
  }
}

bool AlertEngine::may_tell(const RuleState& r, bool alarm, hal::MonoTime now) const {
  if (!alarm) return true;  // a clear of a told alarm always goes (the pair stays a pair)
  return !r.have_alarm_sent || now.us_since(r.alarm_sent) >= kMinAlarmIntervalMs * 1000;
}

void AlertEngine::changed(size_t i, hal::MonoTime now) {
  RuleState& r = rules_[i];
  const bool alarm = r.state == AlertState::Alarm;
  if (alarm != r.told_alarm && may_tell(r, alarm, now)) {
    push(i, alarm, r.suppressed);
    r.suppressed = 0;
    return;
  }
  ++r.suppressed;  // told later by tick(), or undone before anyone heard of it
}

hal::MonoTime AlertEngine::tick() {
  const hal::MonoTime now = mono_.mono_now();
  hal::MonoTime next = now.plus_ms(3600 * 1000);
  for (size_t i = 0; i < settings_.count; ++i) {
    RuleState& r = rules_[i];
    const bool alarm = r.state == AlertState::Alarm;
    if (alarm == r.told_alarm || r.suppressed == 0) continue;
    if (may_tell(r, alarm, now)) {
      // The change told now was counted when it happened: the others are "more".
      push(i, alarm, r.suppressed - 1);
      r.suppressed = 0;
    } else {
      const hal::MonoTime due = r.alarm_sent.plus_ms(kMinAlarmIntervalMs);
      if (due < next) next = due;
    }
  }
  return next;
}

void AlertEngine::push(size_t i, bool alarm, uint32_t suppressed) {
  RuleState& r = rules_[i];
  r.told_alarm = alarm;
  if (alarm) {
    r.have_alarm_sent = true;
    r.alarm_sent = mono_.mono_now();
  }
  if (queue_count_ == kQueueMax) {
    // Offline for long with many changes: the oldest goes (counted; docs/alerts.md).
    queue_head_ = (queue_head_ + 1) % kQueueMax;
    --queue_count_;
    ++dropped_;
  }
  AlertEvent& e = queue_[(queue_head_ + queue_count_) % kQueueMax];
  e.rule = static_cast<uint8_t>(i);
  e.alarm = alarm;
  e.value = r.last;
  e.at = r.last_at;
  e.suppressed = suppressed;
  ++queue_count_;
  ++messages_;
}

void AlertEngine::pop() {
  if (queue_count_ == 0) return;
  queue_head_ = (queue_head_ + 1) % kQueueMax;
  --queue_count_;
}

hal::Result<size_t> AlertEngine::format_message(char* buf, size_t cap, const AlertEvent& e,
                                                const char* device) const {
  if (e.rule >= settings_.count) return hal::Err::InvalidArgument;
  const AlertRule& rule = settings_.rules[e.rule];
  const char* unit = rules_[e.rule].unit;
  const char* cmp = alert_comparison_name(rule.comparison);
  char value[48];
  char threshold[48];
  (void)format_decimal(value, sizeof value, e.value.mantissa, e.value.exponent);
  (void)format_decimal(threshold, sizeof threshold, rule.threshold.mantissa, rule.threshold.exponent);
  char at[32];
  if (identity::format_iso8601(e.at.unix_us / 1000000, at, sizeof at) == 0) at[0] = '\0';
  detail::TextWriter w(buf, cap);
  // The body, for people: "ALARM dev1@localhost env0.temperature 31.2 Cel above 30 for 10 s".
  w.put("<body>");
  w.put(e.alarm ? "ALARM " : "CLEAR ");
  w.put_escaped(device);
  w.put_char(' ');
  w.put_escaped(rule.channel);
  w.put_char(' ');
  w.put(value);
  if (unit[0] != '\0') {
    w.put_char(' ');
    w.put_escaped(unit);
  }
  w.put(e.alarm ? " " : " no longer ");
  w.put(cmp);
  w.put_char(' ');
  w.put(threshold);
  if (e.alarm && rule.for_s != 0) {
    w.put(" for ");
    w.put_uint(rule.for_s);
    w.put(" s");
  }
  if (e.suppressed != 0) {
    w.put(" (");
    w.put_uint(e.suppressed);
    w.put(e.suppressed == 1 ? " more change suppressed)" : " more changes suppressed)");
  }
  w.put("</body>");
  // The element, for programs (the console).
  w.put("<alert xmlns='");
  w.put(kAlertXmlns);
  w.put("' device='");
  w.put_escaped(device);
  w.put("' channel='");
  w.put_escaped(rule.channel);
  w.put("' state='");
  w.put(e.alarm ? "alarm" : "clear");
  w.put("' comparison='");
  w.put(cmp);
  w.put("' threshold='");
  w.put(threshold);
  w.put("' value='");
  w.put(value);
  w.put("' unit='");
  w.put_escaped(unit);
  if (at[0] != '\0') {
    w.put("' at='");
    w.put(at);
  }
  if (e.suppressed != 0) {
    w.put("' suppressed='");
    w.put_uint(e.suppressed);
  }
  w.put("'/>");
  return w.finish();
}

}  // namespace agent

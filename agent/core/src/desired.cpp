// Desired state: applying an item through the `set`/`configure` paths and
// the report (agent/desired.hpp, docs/desired-state.md).
#include "agent/desired.hpp"

#include <cstdarg>
#include <cstdio>
#include <cstring>

#include "agent/acl.hpp"
#include "agent/log.hpp"
#include "agent/senml.hpp"
#include "agent/xml_text.hpp"
#include "text_writer.hpp"

namespace agent {

namespace {

constexpr const char* kArea = "desired";
constexpr const char* kSettingPrefix = "telemetry.";

bool copy_text(char* dst, size_t cap, const char* src) {
  const size_t n = std::strlen(src);
  if (n >= cap) return false;
  std::memcpy(dst, src, n + 1);
  return true;
}

const char* type_attr(DesiredType t) {
  switch (t) {
    case DesiredType::Boolean: return "vb";
    case DesiredType::String: return "vs";
    case DesiredType::Numeric: break;
  }
  return "v";
}

}  // namespace

void DesiredItem::reset() {
  item_id[0] = '\0';
  version[0] = '\0';
  publisher[0] = '\0';
  count = 0;
  error[0] = '\0';
}

void DesiredItem::fail(const char* fmt, ...) {
  if (error[0] != '\0') return;
  va_list ap;
  va_start(ap, fmt);
  std::vsnprintf(error, sizeof error, fmt, ap);
  va_end(ap);
  if (error[0] == '\0') std::snprintf(error, sizeof error, "malformed");
}

bool DesiredItem::add(const char* n, DesiredType type, const char* text) {
  if (error[0] != '\0') return false;
  if (count >= kDesiredValuesMax) {
    fail("too many values (at most %zu)", kDesiredValuesMax);
    return false;
  }
  if (n == nullptr || n[0] == '\0') {
    fail("value %zu: n required", count + 1);
    return false;
  }
  DesiredValue& v = values[count];
  if (!copy_text(v.name, sizeof v.name, n)) {
    fail("value %zu: n longer than %zu bytes", count + 1, sizeof v.name - 1);
    return false;
  }
  if (text == nullptr || !copy_text(v.text, sizeof v.text, text)) {
    fail("%s: %s longer than %zu bytes", v.name, type_attr(type), sizeof v.text - 1);
    return false;
  }
  v.type = type;
  ++count;
  return true;
}

const char* desired_result_name(DesiredResult r) {
  switch (r) {
    case DesiredResult::Ok: return "ok";
    case DesiredResult::Partial: return "partial";
    case DesiredResult::Refused: return "refused";
  }
  return "?";
}

hal::Result<size_t> format_desired_report(char* buf, size_t cap, const DesiredReport& r, size_t* at_offset) {
  detail::TextWriter w(buf, cap);
  w.put("<desired item='");
  w.put_escaped(r.item_id != nullptr ? r.item_id : "");
  w.put("'");
  if (r.version != nullptr && r.version[0] != '\0') {
    w.put(" version='");
    w.put_escaped(r.version);
    w.put("'");
  }
  if (r.publisher != nullptr && r.publisher[0] != '\0') {
    w.put(" publisher='");
    w.put_escaped(r.publisher);
    w.put("'");
  }
  w.put(" result='");
  w.put(desired_result_name(r.result));
  w.put("' applied='");
  w.put_uint(r.applied);
  w.put("' of='");
  w.put_uint(r.total);
  w.put("'");
  if (at_offset != nullptr) *at_offset = w.length();
  w.put(" at='");
  char at[32];
  if (!format_seconds_us(at, sizeof at, r.at.unix_us).ok()) at[0] = '\0';
  w.put(at);
  w.put("'");
  // How many errors fit: each costs its escaped texts plus the markup; the
  // rest is counted, never cut mid-element.
  const char* refusal = r.refusal != nullptr ? r.refusal : "";
  size_t need = w.length() + 40 + xml_escaped_len(refusal, kDesiredErrorTextMax) + 16;
  size_t shown = 0;
  for (; shown < r.error_count; ++shown) {
    const DesiredValueError& e = r.errors[shown];
    const size_t one = 24 + xml_escaped_len(e.name != nullptr ? e.name : "") +
                       xml_escaped_len(e.text != nullptr ? e.text : "", kDesiredErrorTextMax);
    if (need + one + 24 > cap) break;
    need += one;
  }
  if (shown < r.error_count) {
    w.put(" omitted='");
    w.put_uint(r.error_count - shown);
    w.put("'");
  }
  w.put(">");
  if (refusal[0] != '\0') {
    w.put("<error>");
    w.put_escaped(refusal, kDesiredErrorTextMax);
    w.put("</error>");
  }
  for (size_t i = 0; i < shown; ++i) {
    w.put("<error n='");
    w.put_escaped(r.errors[i].name != nullptr ? r.errors[i].name : "");
    w.put("'>");
    w.put_escaped(r.errors[i].text != nullptr ? r.errors[i].text : "", kDesiredErrorTextMax);
    w.put("</error>");
  }
  w.put("</desired>");
  return w.finish();
}

// Off the stack (a small target's loop has little of it) and not per device
// until the device receives desired state (the fleet simulator runs many).
struct DesiredState::Work {
  char report[kDesiredReportMax];
  char scratch[kDesiredReportMax];
  CommandError errs[kDesiredValuesMax];
  DesiredValueError errors[kDesiredValuesMax];
};

DesiredState::DesiredState(CommandRouter& router) : router_(router) {}
DesiredState::~DesiredState() = default;

const char* DesiredState::report_xml() const { return work_ != nullptr ? work_->report : ""; }

bool DesiredState::apply(const DesiredItem& item, hal::WallTime now) {
  if (work_ == nullptr) {
    work_.reset(new Work);
    work_->report[0] = '\0';
  }
  ++items_;
  DesiredValueError* errors = work_->errors;
  CommandError* errs = work_->errs;
  size_t n_errors = 0;
  size_t applied = 0;
  size_t changes = 0;
  size_t considered = 0;  // values after dropping superseded duplicates
  char refusal[kCommandTextMax] = {};
  const Role role = item.publisher[0] != '\0' ? router_.role_of(item.publisher) : Role::Stranger;
  if (item.error[0] != '\0') {
    std::snprintf(refusal, sizeof refusal, "%s", item.error);
  } else if (item.publisher[0] == '\0') {
    std::snprintf(refusal, sizeof refusal, "publisher unknown: the server did not say who published the item");
  } else if (!role_allows(role, Role::Operator)) {
    std::snprintf(refusal, sizeof refusal, "%.128s may not publish desired state (%s)", item.publisher,
                  role_name(role));
  }
  if (refusal[0] == '\0') {
    for (size_t i = 0; i < item.count; ++i) {
      const DesiredValue& v = item.values[i];
      // A name given again later: only its last value counts, or every
      // re-apply would move the channel twice (not idempotent).
      bool superseded = false;
      for (size_t j = i + 1; j < item.count && !superseded; ++j) {
        superseded = std::strcmp(item.values[j].name, v.name) == 0;
      }
      if (superseded) continue;
      ++considered;
      CommandError& e = errs[n_errors];
      bool changed = false;
      bool ok = false;
      if (std::strncmp(v.name, kSettingPrefix, std::strlen(kSettingPrefix)) == 0) {
        if (v.type != DesiredType::Numeric) {
          std::snprintf(e.text, sizeof e.text, "%s: a setting takes v (a number), not %s", v.name,
                        type_attr(v.type));
        } else {
          ok = router_.desire_setting(item.publisher, v.name, v.text, &changed, &e);
        }
      } else {
        // The SenML type must be the channel's; the value's own validation
        // is set's (desire_channel), which also reports unknown channels
        // and sensors.
        const hal::Result<drv::ChannelRef> ref = router_.registry().find(v.name);
        const drv::ValueType want = v.type == DesiredType::Boolean  ? drv::ValueType::Boolean
                                    : v.type == DesiredType::String ? drv::ValueType::String
                                                                    : drv::ValueType::Numeric;
        if (ref.ok() && ref.value().spec().kind == drv::ChannelKind::Actuator && ref.value().spec().type != want) {
          std::snprintf(e.text, sizeof e.text, "%s: %s given for a %s channel", v.name, type_attr(v.type),
                        drv::type_name(ref.value().spec().type));
        } else {
          drv::Value value;
          ok = router_.desire_channel(item.publisher, v.name, v.text, &value, &changed, &e);
        }
      }
      if (ok) {
        ++applied;
        if (changed) ++changes;
      } else {
        errors[n_errors] = {v.name, e.text};
        ++n_errors;
        XLOG_WARN(kArea, "%.128s: %s not applied: %s", item.publisher, v.name, e.text);
      }
    }
  }
  DesiredReport rep;
  rep.item_id = item.item_id;
  rep.version = item.version;
  rep.publisher = item.publisher;
  rep.result = refusal[0] != '\0'   ? DesiredResult::Refused
               : n_errors == 0      ? DesiredResult::Ok
               : applied == 0       ? DesiredResult::Refused
                                    : DesiredResult::Partial;
  rep.applied = applied;
  rep.total = refusal[0] != '\0' ? item.count : considered;
  rep.at = now;
  rep.refusal = refusal;
  rep.errors = errors;
  rep.error_count = n_errors;
  size_t at = 0;
  const hal::Result<size_t> len = format_desired_report(work_->scratch, kDesiredReportMax, rep, &at);
  last_result_ = rep.result;
  last_changes_ = changes;
  if (!len.ok()) {
    XLOG_ERROR(kArea, "report does not fit %zu bytes", kDesiredReportMax);
    return false;
  }
  if (rep.result == DesiredResult::Refused && refusal[0] != '\0') {
    XLOG_WARN(kArea, "item '%.64s' refused: %s", item.item_id, refusal);
  } else {
    XLOG_INFO(kArea, "item '%.64s' from %.128s: %s, %zu of %zu applied, %zu changed", item.item_id,
              item.publisher, desired_result_name(rep.result), applied, rep.total, changes);
  }
  // The same report apart from its time: nothing to publish again.
  const char* s = work_->scratch;
  char* report = work_->report;
  const char* after_at = std::strchr(s + at + 5, '\'');  // the closing quote of at='...'
  const char* old_after_at = report_len_ > 0 ? std::strchr(report + report_at_ + 5, '\'') : nullptr;
  const bool same = report_len_ > 0 && at == report_at_ && std::memcmp(s, report, at) == 0 &&
                    after_at != nullptr && old_after_at != nullptr && std::strcmp(after_at, old_after_at) == 0;
  if (same) return false;
  std::memcpy(report, s, len.value() + 1);
  report_len_ = len.value();
  report_at_ = at;
  return true;
}

}  // namespace agent

#include "agent/senml.hpp"

#include <cstring>

#include "agent/xml_text.hpp"
#include "text_writer.hpp"

namespace agent {

namespace {

constexpr int kPlainExponentLimit = 18;
/// Longest format_decimal() output: "-" + 19 digits + 18 zeros.
constexpr size_t kMaxDecimalLen = 39;
/// Longest format_seconds_us() output: "-" + 19 digits + ".".
constexpr size_t kMaxSecondsLen = 21;
/// drv::Value::text holds at most this many bytes before its NUL.
constexpr size_t kValueTextMax = sizeof(drv::Value{}.text) - 1;

/// Magnitude of a signed 64-bit value without overflowing on INT64_MIN.
uint64_t magnitude(int64_t v) {
  return v < 0 ? static_cast<uint64_t>(-(v + 1)) + 1u : static_cast<uint64_t>(v);
}

/// Decimal digits of v, most significant first; returns the count (1..20).
size_t digits_of(uint64_t v, char* out) {
  char tmp[20];
  size_t n = 0;
  do {
    tmp[n++] = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v != 0);
  for (size_t i = 0; i < n; ++i) out[i] = tmp[n - 1 - i];
  return n;
}

bool is_name_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == ':' || c == '.' || c == '/' || c == '_';
}

bool is_alnum(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

void put_value(detail::TextWriter& w, const drv::Value& v) {
  switch (v.type) {
    case drv::ValueType::Numeric:
      w.put(" v='");
      w.put_decimal(v.mantissa, v.exponent);
      w.put_char('\'');
      return;
    case drv::ValueType::Boolean:
      w.put(v.flag ? " vb='true'" : " vb='false'");
      return;
    case drv::ValueType::String:
      w.put(" vs='");
      w.put_escaped(v.text, kValueTextMax);
      w.put_char('\'');
      return;
  }
  w.put(" v='0'");
}

}  // namespace

hal::Result<size_t> format_decimal(char* buf, size_t cap, int64_t mantissa, int8_t exponent) {
  detail::TextWriter w(buf, cap);
  char digits[20];
  const uint64_t mag = magnitude(mantissa);
  const size_t nd = digits_of(mag, digits);
  if (mantissa < 0) w.put_char('-');
  if (exponent > kPlainExponentLimit || exponent < -kPlainExponentLimit) {
    // E notation keeps huge and tiny values short and still exact.
    w.put(digits, nd);
    if (mag != 0) {
      w.put_char('e');
      if (exponent < 0) w.put_char('-');
      char ed[20];
      const size_t ne = digits_of(magnitude(exponent), ed);
      w.put(ed, ne);
    }
    return w.finish();
  }
  if (exponent >= 0) {
    w.put(digits, nd);
    if (mag != 0) {
      for (int i = 0; i < exponent; ++i) w.put_char('0');
    }
    return w.finish();
  }
  const size_t frac = static_cast<size_t>(-exponent);
  if (nd > frac) {
    w.put(digits, nd - frac);
    w.put_char('.');
    w.put(digits + (nd - frac), frac);
  } else {
    w.put("0.");
    for (size_t i = nd; i < frac; ++i) w.put_char('0');
    w.put(digits, nd);
  }
  return w.finish();
}

hal::Result<size_t> format_seconds_us(char* buf, size_t cap, int64_t microseconds) {
  int64_t m = microseconds;
  int8_t e = -6;
  while (e < 0 && m % 10 == 0) {
    m /= 10;
    ++e;
  }
  if (m == 0) e = 0;
  return format_decimal(buf, cap, m, e);
}

hal::Result<size_t> senml_base_name(char* buf, size_t cap, const char* device_id) {
  detail::TextWriter w(buf, cap);
  const char* id = device_id != nullptr ? device_id : "";
  if (!is_alnum(id[0])) w.put_char('x');
  for (const char* p = id; *p != '\0'; ++p) w.put_char(is_name_char(*p) ? *p : '_');
  w.put_char(':');
  return w.finish();
}

hal::Result<size_t> format_senml_xml(char* buf, size_t cap, const char* base_name,
                                     const Snapshot* snapshots, size_t snapshot_count) {
  if (base_name == nullptr || (snapshots == nullptr && snapshot_count != 0)) {
    return hal::Err::InvalidArgument;
  }
  const Snapshot* first = nullptr;
  for (size_t s = 0; s < snapshot_count; ++s) {
    if (snapshots[s].count != 0 && snapshots[s].samples == nullptr) return hal::Err::InvalidArgument;
    for (size_t i = 0; i < snapshots[s].count; ++i) {
      if (snapshots[s].samples[i].name == nullptr) return hal::Err::InvalidArgument;
    }
    if (first == nullptr && snapshots[s].count != 0) first = &snapshots[s];
  }
  if (first == nullptr) return hal::Err::InvalidArgument;

  detail::TextWriter w(buf, cap);
  char num[32];
  w.put("<sensml xmlns='");
  w.put(kSenmlXmlns);
  w.put("'>");
  bool first_record = true;
  for (size_t s = 0; s < snapshot_count; ++s) {
    const Snapshot& snap = snapshots[s];
    const int64_t rel_us = snap.time.unix_us - first->time.unix_us;
    for (size_t i = 0; i < snap.count; ++i) {
      const Sample& smp = snap.samples[i];
      w.put("<senml");
      if (first_record) {
        w.put(" bn='");
        w.put_escaped(base_name);
        w.put("' bt='");
        const hal::Result<size_t> n = format_seconds_us(num, sizeof num, snap.time.unix_us);
        if (!n.ok()) return n.error();
        w.put(num, n.value());
        w.put_char('\'');
      }
      w.put(" n='");
      w.put_escaped(smp.name);
      w.put_char('\'');
      if (&snap != first && rel_us != 0) {
        w.put(" t='");
        const hal::Result<size_t> n = format_seconds_us(num, sizeof num, rel_us);
        if (!n.ok()) return n.error();
        w.put(num, n.value());
        w.put_char('\'');
      }
      if (smp.unit != nullptr && smp.unit[0] != '\0') {
        w.put(" u='");
        w.put_escaped(smp.unit);
        w.put_char('\'');
      }
      put_value(w, smp.value);
      w.put("/>");
      first_record = false;
    }
  }
  w.put("</sensml>");
  return w.finish();
}

size_t senml_xml_bound(const char* base_name, const Sample* channels, size_t channel_count,
                       size_t snapshot_count) {
  // Envelope: "<sensml xmlns='…'>" + "</sensml>" + NUL, and bn/bt on the first record.
  size_t total = std::strlen("<sensml xmlns=''>") + std::strlen(kSenmlXmlns) +
                 std::strlen("</sensml>") + 1;
  total += std::strlen(" bn=''") + xml_escaped_len(base_name) + std::strlen(" bt=''") +
           kMaxSecondsLen;
  size_t per_snapshot = 0;
  for (size_t i = 0; i < channel_count; ++i) {
    const Sample& c = channels[i];
    size_t rec = std::strlen("<senml n=''/>") + xml_escaped_len(c.name);
    rec += std::strlen(" t=''") + kMaxSecondsLen;
    if (c.unit != nullptr && c.unit[0] != '\0') rec += std::strlen(" u=''") + xml_escaped_len(c.unit);
    switch (c.value.type) {
      case drv::ValueType::Numeric: rec += std::strlen(" v=''") + kMaxDecimalLen; break;
      case drv::ValueType::Boolean: rec += std::strlen(" vb='false'"); break;
      case drv::ValueType::String:
        rec += std::strlen(" vs=''") + kValueTextMax * kXmlEscapeMaxGrowth;
        break;
    }
    per_snapshot += rec;
  }
  return total + per_snapshot * snapshot_count;
}

hal::Result<size_t> format_value_text(char* buf, size_t cap, const drv::Value& v) {
  switch (v.type) {
    case drv::ValueType::Numeric: return format_decimal(buf, cap, v.mantissa, v.exponent);
    case drv::ValueType::Boolean: {
      detail::TextWriter w(buf, cap);
      w.put(v.flag ? "true" : "false");
      return w.finish();
    }
    case drv::ValueType::String: {
      detail::TextWriter w(buf, cap);
      w.put(v.text, strnlen(v.text, sizeof v.text));
      return w.finish();
    }
  }
  return hal::Err::InvalidArgument;
}

}  // namespace agent

// SenML resolution per RFC 8428 §4; see fleet/senml.hpp.
#include "fleet/senml.hpp"

#include <cjson/cJSON.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <memory>

#include "agent/forms.hpp"
#include "agent/senml.hpp"
#include "agent/senml_pb_decode.hpp"
#include "json_util.hpp"

namespace fleet {
namespace {

// §4.5.3: a resolved time below 2**28 s is relative to the current time.
constexpr int64_t kRelativeTimeLimitUs = (int64_t{1} << 28) * 1000000;

std::string trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return "";
  size_t e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// RFC 8259 §6 number grammar.
bool is_json_number(const std::string& s) {
  size_t i = 0;
  const size_t n = s.size();
  if (i < n && s[i] == '-') ++i;
  if (i >= n) return false;
  if (s[i] == '0') {
    ++i;
  } else if (is_digit(s[i])) {
    while (i < n && is_digit(s[i])) ++i;
  } else {
    return false;
  }
  if (i < n && s[i] == '.') {
    ++i;
    if (i >= n || !is_digit(s[i])) return false;
    while (i < n && is_digit(s[i])) ++i;
  }
  if (i < n && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < n && (s[i] == '+' || s[i] == '-')) ++i;
    if (i >= n || !is_digit(s[i])) return false;
    while (i < n && is_digit(s[i])) ++i;
  }
  return i == n;
}

// xsd:double as SenML XML uses it; infinities and NaN are not readings.
bool parse_double(const std::string& text, double* out) {
  const std::string s = trim(text);
  if (s.empty()) return false;
  char* end = nullptr;
  errno = 0;
  const double d = std::strtod(s.c_str(), &end);
  if (end != s.c_str() + s.size() || errno == ERANGE || !std::isfinite(d)) return false;
  *out = d;
  return true;
}

// The shortest text that reads back as the same double; always a JSON number.
std::string shortest_double(double d) {
  char buf[40];
  for (int prec = 1; prec <= 17; ++prec) {
    std::snprintf(buf, sizeof buf, "%.*g", prec, d);
    if (std::strtod(buf, nullptr) == d) break;
  }
  std::string s = buf;
  if (s == "-0") s = "0";
  return s;
}

bool parse_seconds_us(const std::string& text, int64_t* out) {
  const std::string s = trim(text);
  if (s.empty()) return false;
  char* end = nullptr;
  errno = 0;
  const long double d = std::strtold(s.c_str(), &end);
  if (end != s.c_str() + s.size() || errno == ERANGE || !std::isfinite(d)) return false;
  const long double us = d * 1e6L;
  if (us > 9.2e18L || us < -9.2e18L) return false;
  *out = static_cast<int64_t>(std::llroundl(us));
  return true;
}

// §4.5.1: names start with a letter or digit and use A-Za-z0-9-:./_ only.
bool valid_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) || c == '-' ||
         c == ':' || c == '.' || c == '/' || c == '_';
}
bool valid_full_name(const std::string& n) {
  if (n.empty()) return false;
  const char c0 = n[0];
  if (!((c0 >= 'a' && c0 <= 'z') || (c0 >= 'A' && c0 <= 'Z') || is_digit(c0))) return false;
  for (char c : n) {
    if (!valid_name_char(c)) return false;
  }
  return true;
}

// "dev1_localhost:" is the device id the agent puts in bn (docs/wire-format.md):
// exactly one ':' and at the end. Only such a base name is dropped from the
// displayed channel name; any other base stays part of the name.
bool is_device_base(const std::string& bn) {
  return !bn.empty() && bn.back() == ':' && bn.find(':') == bn.size() - 1;
}

std::string display_name(const std::string& bn, const std::string& full) {
  if (is_device_base(bn) && full.size() > bn.size() && full.compare(0, bn.size(), bn) == 0) {
    return full.substr(bn.size());
  }
  return full;
}

int64_t absolute_time(int64_t t_us, int64_t now_us) {
  return t_us < kRelativeTimeLimitUs ? now_us + t_us : t_us;
}

[[noreturn]] void refuse(size_t record, const std::string& why) {
  throw SenmlError("record " + std::to_string(record) + ": " + why);
}

std::string decimal_text(int64_t mantissa, int32_t exponent) {
  char buf[48];
  if (exponent >= -128 && exponent <= 127) {
    auto r = agent::format_decimal(buf, sizeof buf, mantissa, static_cast<int8_t>(exponent));
    if (r.ok()) return std::string(buf, r.value());
  }
  std::snprintf(buf, sizeof buf, "%llde%d", static_cast<long long>(mantissa), exponent);
  return buf;
}

}  // namespace

std::vector<Reading> parse_senml_xml(const XmlElement& sensml, int64_t now_us) {
  if (sensml.name != "sensml" || sensml.ns != kSenmlNs) {
    throw SenmlError("not a <sensml xmlns='" + std::string(kSenmlNs) + "'> element");
  }
  std::vector<Reading> out;
  std::string bn, bu;
  int64_t bt_us = 0;
  double bv = 0, bs = 0;
  bool has_bv = false, has_bs = false;
  size_t index = 0;
  for (const XmlElement& rec : sensml.children) {
    if (rec.name != "senml" || rec.ns != kSenmlNs) continue;  // not a record
    ++index;
    for (const auto& kv : rec.attrs) {
      if (!kv.first.empty() && kv.first.back() == '_') {
        refuse(index, "must-understand field '" + kv.first + "' is not supported");
      }
    }
    const std::string* a;
    if ((a = rec.attr("bn")) != nullptr) bn = *a;
    if ((a = rec.attr("bt")) != nullptr && !parse_seconds_us(*a, &bt_us)) {
      refuse(index, "bt='" + *a + "' is not a number");
    }
    if ((a = rec.attr("bu")) != nullptr) bu = *a;
    if ((a = rec.attr("bv")) != nullptr) {
      if (!parse_double(*a, &bv)) refuse(index, "bv='" + *a + "' is not a number");
      has_bv = true;
    }
    if ((a = rec.attr("bs")) != nullptr) {
      if (!parse_double(*a, &bs)) refuse(index, "bs='" + *a + "' is not a number");
      has_bs = true;
    }

    Reading r;
    const std::string* n = rec.attr("n");
    const std::string full = bn + (n != nullptr ? *n : "");
    if (!valid_full_name(full)) refuse(index, "invalid name '" + full + "'");
    r.name = display_name(bn, full);

    int64_t t_us = 0;
    if ((a = rec.attr("t")) != nullptr && !parse_seconds_us(*a, &t_us)) {
      refuse(index, "t='" + *a + "' is not a number");
    }
    r.time_us = absolute_time(bt_us + t_us, now_us);

    const std::string* u = rec.attr("u");
    r.unit = u != nullptr ? *u : bu;

    const std::string* v = rec.attr("v");
    const std::string* vs = rec.attr("vs");
    const std::string* vb = rec.attr("vb");
    const std::string* vd = rec.attr("vd");
    const std::string* s = rec.attr("s");
    const int values = (v != nullptr) + (vs != nullptr) + (vb != nullptr) + (vd != nullptr);
    if (values > 1) refuse(index, "more than one of v, vs, vb, vd");
    if (v != nullptr) {
      r.kind = Reading::Kind::Number;
      double d = 0;
      if (!parse_double(*v, &d)) refuse(index, "v='" + *v + "' is not a number");
      const std::string text = trim(*v);
      r.number = (!has_bv && is_json_number(text)) ? text : shortest_double(bv + d);
    } else if (vs != nullptr) {
      r.kind = Reading::Kind::String;
      r.text = *vs;
    } else if (vb != nullptr) {
      r.kind = Reading::Kind::Boolean;
      // RFC 8428 §7 (XML): vb is an xs:boolean, "true"/"false"/"1"/"0" after
      // whitespace collapsing: exactly XEP-0004's strict boolean, so the
      // agent's one grammar (agent/forms.hpp) decides.
      const hal::Result<bool> b = agent::parse_form_bool(trim(*vb).c_str());
      if (!b.ok()) refuse(index, "vb='" + *vb + "' is not a boolean");
      r.boolean = b.value();
    } else if (vd != nullptr) {
      r.kind = Reading::Kind::Data;
      r.text = *vd;
    } else if (s != nullptr) {
      // Only a sum: report it as the reading (§4.2, "sum" of the quantity).
      double d = 0;
      if (!parse_double(*s, &d)) refuse(index, "s='" + *s + "' is not a number");
      r.kind = Reading::Kind::Number;
      const std::string text = trim(*s);
      r.number = (!has_bs && is_json_number(text)) ? text : shortest_double(bs + d);
    } else {
      refuse(index, "no value (v, vs, vb, vd or s)");
    }
    out.push_back(std::move(r));
  }
  if (index == 0) throw SenmlError("no <senml/> records");
  return out;
}

std::vector<Reading> parse_senml_pb(const XmlElement& senml_pb, int64_t now_us) {
  if (senml_pb.name != "senml-pb" || senml_pb.ns != kSenmlPbNs) {
    throw SenmlError("not a <senml-pb xmlns='" + std::string(kSenmlPbNs) + "'> element");
  }
  std::vector<agent::DecodedRecord> records;
  const hal::Err err = agent::decode_senml_pb(senml_pb.text.data(), senml_pb.text.size(), &records);
  if (err != hal::Err::Ok) {
    throw SenmlError(std::string("cannot decode senml-pb: ") + hal::err_name(err));
  }
  if (records.empty()) throw SenmlError("no records");
  std::vector<Reading> out;
  size_t index = 0;
  for (const auto& rec : records) {
    ++index;
    const std::string full = rec.base_name + rec.name;
    if (!valid_full_name(full)) refuse(index, "invalid name '" + full + "'");
    if (!rec.has_value) refuse(index, "no value");
    Reading r;
    r.name = display_name(rec.base_name, full);
    r.unit = rec.unit;
    r.time_us = absolute_time(rec.time_us, now_us);
    switch (rec.type) {
      case drv::ValueType::Numeric:
        r.kind = Reading::Kind::Number;
        r.number = decimal_text(rec.mantissa, rec.exponent);
        break;
      case drv::ValueType::Boolean:
        r.kind = Reading::Kind::Boolean;
        r.boolean = rec.flag;
        break;
      case drv::ValueType::String:
        r.kind = Reading::Kind::String;
        r.text = rec.text;
        break;
    }
    out.push_back(std::move(r));
  }
  return out;
}

std::vector<Reading> parse_telemetry_payload(const XmlElement& payload, int64_t now_us) {
  if (payload.ns == kSenmlNs) return parse_senml_xml(payload, now_us);
  if (payload.ns == kSenmlPbNs) return parse_senml_pb(payload, now_us);
  throw SenmlError("unknown payload <" + payload.name + " xmlns='" + payload.ns + "'>");
}

std::string format_time_ms(int64_t time_us) {
  int64_t ms = time_us / 1000;
  if (time_us % 1000 < 0) --ms;  // floor
  int64_t secs = ms / 1000;
  int64_t frac = ms % 1000;
  if (frac < 0) {
    frac += 1000;
    --secs;
  }
  const std::time_t t = static_cast<std::time_t>(secs);
  std::tm tm{};
  if (gmtime_r(&t, &tm) == nullptr) return "(time out of range)";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(frac));
  return buf;
}

namespace {

std::string json_string(const std::string& s) {
  std::unique_ptr<cJSON, decltype(&cJSON_Delete)> j(cJSON_CreateString(s.c_str()), &cJSON_Delete);
  char* text = cJSON_PrintUnformatted(j.get());
  std::string out = text != nullptr ? text : "\"\"";
  cJSON_free(text);
  return out;
}

std::string value_text(const Reading& r) {
  switch (r.kind) {
    case Reading::Kind::Number: return r.number;
    case Reading::Kind::Boolean: return r.boolean ? "true" : "false";
    case Reading::Kind::String: return json_string(r.text);
    case Reading::Kind::Data: return "data:" + r.text;
  }
  return "";
}

}  // namespace

std::string format_reading_line(const Reading& r) {
  std::string line = format_time_ms(r.time_us) + " " + r.device + " " + r.name + " = " + value_text(r);
  if (!r.unit.empty()) line += " " + r.unit;
  return line;
}

std::string format_reading_json(const Reading& r) {
  detail::JsonPtr o(detail::reading_json(r, true), &cJSON_Delete);
  return detail::json_text(o.get());
}

namespace detail {

std::string json_text(const cJSON* doc) {
  char* text = cJSON_PrintUnformatted(doc);
  std::string out = text != nullptr ? text : "null";
  cJSON_free(text);
  return out;
}

void add_string(cJSON* obj, const char* key, const std::string& value, bool empty_is_null) {
  if (empty_is_null && value.empty()) {
    cJSON_AddNullToObject(obj, key);
  } else {
    cJSON_AddStringToObject(obj, key, value.c_str());
  }
}

cJSON* reading_json(const Reading& r, bool with_source) {
  cJSON* o = cJSON_CreateObject();
  if (with_source) {
    cJSON_AddStringToObject(o, "device", r.device.c_str());
    cJSON_AddStringToObject(o, "item", r.item.c_str());
  }
  cJSON_AddStringToObject(o, "time", format_time_ms(r.time_us).c_str());
  cJSON_AddStringToObject(o, "name", r.name.c_str());
  switch (r.kind) {
    case Reading::Kind::Number:
      // The decimal text is a valid JSON number: keep it exact ("2.50").
      cJSON_AddRawToObject(o, "value", r.number.c_str());
      break;
    case Reading::Kind::Boolean:
      cJSON_AddBoolToObject(o, "value", r.boolean ? 1 : 0);
      break;
    case Reading::Kind::String:
    case Reading::Kind::Data:
      cJSON_AddStringToObject(o, "value", r.text.c_str());
      break;
  }
  add_string(o, "unit", r.unit, true);
  return o;
}

}  // namespace detail
}  // namespace fleet

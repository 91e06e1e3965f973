#include "agent/settings.hpp"

#include <cinttypes>
#include <cstdio>
#include <cstring>

#include "json/reader.hpp"

namespace agent {

hal::Err save_settings(hal::Storage& storage, const char* key, const TelemetrySettings& s) {
  if (s.interval_ms < kIntervalMinMs || s.interval_ms > kIntervalMaxMs || s.batch_max < kBatchMaxMin ||
      s.batch_max > kBatchMaxMax || s.sample_ms < kSampleMinMs || s.sample_ms > kSampleMaxMs ||
      s.batch_window_ms < kBatchWindowMinMs || s.batch_window_ms > kBatchWindowMaxMs) {
    return hal::Err::InvalidArgument;
  }
  char blob[160];
  const int n = std::snprintf(blob, sizeof blob,
                              "{\"version\":1,\"telemetry\":{\"interval_ms\":%" PRIu32 ",\"batch_max\":%" PRIu32
                              ",\"sample_ms\":%" PRIu32 ",\"batch_window_ms\":%" PRIu32 "}}",
                              s.interval_ms, s.batch_max, s.sample_ms, s.batch_window_ms);
  if (n < 0 || static_cast<size_t>(n) >= sizeof blob) return hal::Err::Overflow;
  return storage.replace(key, reinterpret_cast<const uint8_t*>(blob), static_cast<size_t>(n));
}

hal::Err load_settings(hal::Storage& storage, const char* key, TelemetrySettings* out) {
  uint8_t buf[512];
  const hal::Result<size_t> r = storage.read(key, buf, sizeof buf);
  if (!r.ok()) return r.error();
  // The reader's message is not needed: any problem is Corrupt.
  json::Reader doc(key);
  if (!doc.parse(reinterpret_cast<const char*>(buf), r.value())) return hal::Err::Corrupt;
  const json::Value root = doc.root();
  const json::Value tel = root["telemetry"];
  TelemetrySettings s;
  s.batch_window_ms = out->batch_window_ms;  // a blob from before the window keeps the config's
  int64_t version = 0;
  const bool ok = root["version"].integer(&version, 1, 1, json::kRequired) && tel.is_object() &&
                  tel["interval_ms"].integer(&s.interval_ms, kIntervalMinMs, kIntervalMaxMs, json::kRequired) &&
                  tel["batch_max"].integer(&s.batch_max, kBatchMaxMin, kBatchMaxMax, json::kRequired) &&
                  tel["sample_ms"].integer(&s.sample_ms, kSampleMinMs, kSampleMaxMs) &&
                  tel["batch_window_ms"].integer(&s.batch_window_ms, kBatchWindowMinMs, kBatchWindowMaxMs);
  if (!ok) return hal::Err::Corrupt;
  *out = s;
  return hal::Err::Ok;
}

namespace {

/// Room and nick go into the blob as JSON strings unescaped: refuse what
/// would need escaping (a bare JID and a sane nick never do).
bool plain_json_text(const char* s) {
  for (const char* p = s; *p != '\0'; ++p) {
    const auto c = static_cast<unsigned char>(*p);
    if (c < 0x20 || c == '"' || c == '\\' || c == 0x7F) return false;
  }
  return true;
}

}  // namespace

hal::Err save_alerts(hal::Storage& storage, const char* key, const AlertSettings& s) {
  if (s.count > kAlertRulesMax || !plain_json_text(s.room) || !plain_json_text(s.nick)) {
    return hal::Err::InvalidArgument;
  }
  char blob[kAlertsBlobMax];
  size_t used = 0;
  bool over = false;
  auto put = [&](const char* text) {
    const size_t n = std::strlen(text);
    if (over || n > sizeof blob - used) {
      over = true;
      return;
    }
    std::memcpy(blob + used, text, n);
    used += n;
  };
  put("{\"version\":1,\"room\":\"");
  put(s.room);
  put("\",\"nick\":\"");
  put(s.nick);
  put("\",\"rules\":[");
  for (size_t i = 0; i < s.count; ++i) {
    char line[kAlertLineMax];
    if (!format_alert_rule(line, sizeof line, s.rules[i]).ok()) return hal::Err::Overflow;
    put(i == 0 ? "\"" : ",\"");
    put(line);  // channel names and numbers: nothing to escape
    put("\"");
  }
  put("]}");
  if (over) return hal::Err::Overflow;
  return storage.replace(key, reinterpret_cast<const uint8_t*>(blob), used);
}

hal::Err load_alerts(hal::Storage& storage, const char* key, AlertSettings* out) {
  uint8_t buf[kAlertsBlobMax];
  const hal::Result<size_t> r = storage.read(key, buf, sizeof buf);
  if (!r.ok()) return r.error();
  json::Reader doc(key);
  if (!doc.parse(reinterpret_cast<const char*>(buf), r.value())) return hal::Err::Corrupt;
  const json::Value root = doc.root();
  AlertSettings s;
  int64_t version = 0;
  std::string room;
  std::string nick;
  const json::Value rules = root["rules"];
  if (!root["version"].integer(&version, 1, 1, json::kRequired) ||
      !root["room"].text(&room, "", json::kRequired | json::kEmptyOk) ||
      !root["nick"].text(&nick, "", json::kEmptyOk) || !rules.array("", json::kRequired) ||
      room.size() >= sizeof s.room || nick.size() >= sizeof s.nick || rules.size() > kAlertRulesMax) {
    return hal::Err::Corrupt;
  }
  std::memcpy(s.room, room.c_str(), room.size() + 1);
  std::memcpy(s.nick, nick.c_str(), nick.size() + 1);
  const bool ok = rules.each([&s](json::Value v) {
    char why[8];
    if (!v.is_string() || !parse_alert_rule(v.c_str(), &s.rules[s.count], why, sizeof why)) return false;
    ++s.count;
    return true;
  });
  if (!ok) return hal::Err::Corrupt;
  *out = s;
  return hal::Err::Ok;
}

}  // namespace agent

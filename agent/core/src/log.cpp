#include "agent/log.hpp"

#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <ctime>

namespace agent {

namespace {

LogLevel g_level = LogLevel::Info;
LogSink g_sink = nullptr;
void* g_sink_ctx = nullptr;
hal::WallClock* g_clock = nullptr;
const char* g_tag = nullptr;
bool g_journal = false;

hal::WallTime default_now() {
  std::timespec ts{};
  if (std::timespec_get(&ts, TIME_UTC) == 0) return hal::WallTime{};
  return hal::WallTime{static_cast<int64_t>(ts.tv_sec) * 1000000 + ts.tv_nsec / 1000};
}

/// Days since 1970-01-01 -> civil date (H. Hinnant, "chrono-Compatible
/// Low-Level Date Algorithms", civil_from_days). Valid for any int64 day count
/// that fits a year in int64.
void civil_from_days(int64_t z, int64_t* y, unsigned* m, unsigned* d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp < 10 ? mp + 3 : mp - 9;
  *y = static_cast<int64_t>(yoe) + era * 400 + (*m <= 2 ? 1 : 0);
}

}  // namespace

void log_set_level(LogLevel level) { g_level = level; }
LogLevel log_level() { return g_level; }
bool log_enabled(LogLevel level) { return static_cast<int>(level) <= static_cast<int>(g_level); }

const char* log_level_label(LogLevel level) {
  switch (level) {
    case LogLevel::Error: return "ERROR";
    case LogLevel::Warn: return "WARN";
    case LogLevel::Info: return "INFO";
    case LogLevel::Debug: return "DEBUG";
  }
  return "LOG";
}

void log_set_sink(LogSink sink, void* ctx) {
  g_sink = sink;
  g_sink_ctx = ctx;
}

void log_set_clock(hal::WallClock* clock) { g_clock = clock; }

void log_set_journal(bool on) { g_journal = on; }
bool log_journal() { return g_journal; }

int log_syslog_priority(LogLevel level) {
  // <syslog.h> LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG (sd-daemon.h SD_ERR...).
  switch (level) {
    case LogLevel::Error: return 3;
    case LogLevel::Warn: return 4;
    case LogLevel::Info: return 6;
    case LogLevel::Debug: return 7;
  }
  return 6;
}

void log_set_tag(const char* tag) { g_tag = tag != nullptr && tag[0] != '\0' ? tag : nullptr; }
const char* log_tag() { return g_tag; }

size_t format_utc_timestamp(char* buf, size_t cap, hal::WallTime t) {
  if (buf == nullptr || cap < 25) return 0;
  int64_t secs = t.unix_us / 1000000;
  int64_t us = t.unix_us % 1000000;
  if (us < 0) {  // floor division for times before the epoch
    us += 1000000;
    --secs;
  }
  int64_t days = secs / 86400;
  int64_t sod = secs % 86400;
  if (sod < 0) {
    sod += 86400;
    --days;
  }
  int64_t y = 0;
  unsigned mo = 0;
  unsigned d = 0;
  civil_from_days(days, &y, &mo, &d);
  if (y < 0 || y > 9999) y = y < 0 ? 0 : 9999;  // keep the fixed width
  const int n = std::snprintf(buf, cap, "%04d-%02u-%02uT%02d:%02d:%02d.%03dZ", static_cast<int>(y), mo,
                              d, static_cast<int>(sod / 3600), static_cast<int>(sod / 60 % 60),
                              static_cast<int>(sod % 60), static_cast<int>(us / 1000));
  return n > 0 && static_cast<size_t>(n) < cap ? static_cast<size_t>(n) : 0;
}

void log_write(LogLevel level, const char* area, const char* fmt, ...) {
  if (!log_enabled(level)) return;
  char line[kLogLineMax];
  // Reserve room for "...\n" + NUL so truncation is visible and the line ends.
  constexpr size_t kBody = kLogLineMax - 5;
  size_t len = 0;
  if (g_journal) {
    // journald reads the "<N>" prefix as the priority and stamps the time.
    line[0] = '<';
    line[1] = static_cast<char>('0' + log_syslog_priority(level));
    line[2] = '>';
    len = 3;
  } else {
    const hal::WallTime now = g_clock != nullptr ? g_clock->wall_now() : default_now();
    len = format_utc_timestamp(line, kBody, now);
    line[len++] = ' ';
  }
  int n = g_tag != nullptr ? std::snprintf(line + len, kBody - len, "%s [%s] %s: ", log_level_label(level), g_tag,
                                           area != nullptr ? area : "-")
                            : std::snprintf(line + len, kBody - len, "%s %s: ", log_level_label(level),
                                            area != nullptr ? area : "-");
  if (n > 0) len += static_cast<size_t>(n) < kBody - len ? static_cast<size_t>(n) : kBody - len - 1;
  bool truncated = false;
  if (len < kBody - 1) {
    va_list ap;
    va_start(ap, fmt);
    n = std::vsnprintf(line + len, kBody - len, fmt, ap);
    va_end(ap);
    if (n > 0) {
      if (static_cast<size_t>(n) >= kBody - len) {
        truncated = true;
        len = kBody - 1;
      } else {
        len += static_cast<size_t>(n);
      }
    }
  } else {
    truncated = true;
  }
  // One event, one line: a newline inside the message would forge a line.
  for (size_t i = 0; i < len; ++i) {
    if (line[i] == '\n' || line[i] == '\r') line[i] = ' ';
  }
  if (truncated) {
    std::memcpy(line + len, "...", 3);
    len += 3;
  }
  line[len] = '\0';
  if (g_sink != nullptr) {
    g_sink(g_sink_ctx, level, line, len);
    return;
  }
  line[len] = '\n';
  std::fwrite(line, 1, len + 1, stderr);
  std::fflush(stderr);
}

}  // namespace agent

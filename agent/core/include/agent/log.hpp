// The agent's logger: one line per event, by default on stderr:
//   2026-11-23T23:15:51.042Z INFO xmpp: connected to localhost:5222
// or, when stderr is the journal (log_set_journal; a systemd service), with
// the syslog priority for journald instead of the timestamp journald adds:
//   <6>INFO xmpp: connected to localhost:5222
// (sd-daemon(3): <3> ERROR, <4> WARN, <6> INFO, <7> DEBUG).
// Timestamps are UTC wall time (ISO 8601, milliseconds). Each line is built in
// a fixed stack buffer (kLogLineMax bytes; longer messages end in "...") and
// written with one call: no heap, usable from any code path. Single-threaded
// by design (one loop). Secrets are never passed to it.
#pragma once

#include <cstddef>

#include "agent/config.hpp"
#include "hal/clock.hpp"

namespace agent {

/// Longest line, timestamp and newline included.
constexpr size_t kLogLineMax = 512;

/// Messages above `level` are dropped (Error < Warn < Info < Debug). Default Info.
void log_set_level(LogLevel level);
LogLevel log_level();
/// True when a message at `level` would be written (to skip costly formatting).
bool log_enabled(LogLevel level);
/// "ERROR" | "WARN" | "INFO" | "DEBUG".
const char* log_level_label(LogLevel level);

/// Where lines go. `line` is NUL-terminated, without the trailing newline, and
/// lives only for the call.
using LogSink = void (*)(void* ctx, LogLevel level, const char* line, size_t len);
/// Routes lines to `sink` (tests, syslog); nullptr restores stderr.
void log_set_sink(LogSink sink, void* ctx);
/// Timestamps come from `clock` (borrowed; must outlive its use, or be reset
/// with nullptr); nullptr restores the C library's UTC clock.
void log_set_clock(hal::WallClock* clock);

/// Journal format on (true) or off (false, the default): lines start with the
/// syslog priority "<N>" and carry no timestamp. The app turns it on when
/// hal::linux_::is_journal_stream(STDERR_FILENO); sinks get the same line.
void log_set_journal(bool on);
bool log_journal();
/// The syslog priority of `level` (3 error, 4 warning, 6 info, 7 debug).
int log_syslog_priority(LogLevel level);

/// A tag written before the area of every line until changed, e.g. the
/// device's JID when one process runs many agents (the fleet simulator):
///   2026-11-23T23:15:51.042Z WARN [dev0042@localhost] xmpp: offline (...)
/// nullptr or "" = no tag (the default; the single agent never sets one).
/// Borrowed: the string must stay valid until the tag is changed.
void log_set_tag(const char* tag);
/// The current tag (nullptr when none).
const char* log_tag();

/// Formats "YYYY-MM-DDTHH:MM:SS.mmmZ" (24 chars + NUL) for `t`; `cap` >= 25.
/// Returns the length, 0 if cap is too small.
size_t format_utc_timestamp(char* buf, size_t cap, hal::WallTime t);

/// Writes one line "<timestamp> LEVEL area: message" (with a tag:
/// "<timestamp> LEVEL [tag] area: message"; in journal format "<N>LEVEL
/// area: message") if `level` is enabled.
void log_write(LogLevel level, const char* area, const char* fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define XLOG_ERROR(area, ...) ::agent::log_write(::agent::LogLevel::Error, area, __VA_ARGS__)
#define XLOG_WARN(area, ...) ::agent::log_write(::agent::LogLevel::Warn, area, __VA_ARGS__)
#define XLOG_INFO(area, ...) ::agent::log_write(::agent::LogLevel::Info, area, __VA_ARGS__)
#define XLOG_DEBUG(area, ...) ::agent::log_write(::agent::LogLevel::Debug, area, __VA_ARGS__)

}  // namespace agent

// The agent's logger: one line per event on stderr, "LEVEL area: message".
// Secrets are never passed to it.
#pragma once

#include "agent/config.hpp"

namespace agent {

void log_set_level(LogLevel level);
LogLevel log_level();
void log_write(LogLevel level, const char* area, const char* fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define XLOG_ERROR(area, ...) ::agent::log_write(::agent::LogLevel::Error, area, __VA_ARGS__)
#define XLOG_WARN(area, ...) ::agent::log_write(::agent::LogLevel::Warn, area, __VA_ARGS__)
#define XLOG_INFO(area, ...) ::agent::log_write(::agent::LogLevel::Info, area, __VA_ARGS__)
#define XLOG_DEBUG(area, ...) ::agent::log_write(::agent::LogLevel::Debug, area, __VA_ARGS__)

}  // namespace agent

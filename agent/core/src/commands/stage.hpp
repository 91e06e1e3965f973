// Internal to agent/core/src/commands/: the helpers every command file and
// the router share to answer (errors, notes, forms) and to log.
#pragma once

#include <cstdarg>
#include <cstddef>

#include "agent/commands.hpp"

namespace agent {
namespace cmd {

/// Log area of the command code.
constexpr const char* kArea = "cmd";

/// `s`, or "" for null (for log lines and error texts).
inline const char* nz(const char* s) { return s != nullptr ? s : ""; }

/// vsnprintf that marks a cut with "..." instead of cutting silently.
void vformat_text(char* buf, size_t cap, const char* fmt, va_list ap);

/// Fills `*e` (its type is default_error_type(c)).
void set_error(CommandError* e, StanzaCondition c, CommandCondition app, const char* fmt, ...)
    __attribute__((format(printf, 4, 5)));

/// Turns `out` into an IQ error: no form, notes, actions or sessionid.
void fail(CommandResponse* out, StanzaCondition c, CommandCondition app, const char* fmt, ...)
    __attribute__((format(printf, 4, 5)));
/// fail() with an error built by set_error() (its type kept).
void fail_with(CommandResponse* out, const CommandError& e);

/// False, with `out` failed as resource-constraint, when out->form did not
/// fit the fixed tables (our tables are too small for this board: say so,
/// never send a cut form).
bool form_fits(CommandResponse* out);
/// Shows out->form as the form of a stage that is still executing, with the
/// `actions` (kAction* bits) and `complete` as the default (form_fits() first).
void show_form(CommandResponse* out, uint8_t actions);
/// Completes with out->form as the result form (form_fits() first).
void complete_with_form(CommandResponse* out);

}  // namespace cmd
}  // namespace agent

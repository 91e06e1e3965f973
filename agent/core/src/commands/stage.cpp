#include "stage.hpp"

#include <cstdio>
#include <cstring>

namespace agent {
namespace cmd {

void vformat_text(char* buf, size_t cap, const char* fmt, va_list ap) {
  const int n = std::vsnprintf(buf, cap, fmt, ap);
  if (n >= 0 && static_cast<size_t>(n) >= cap && cap > 4) std::memcpy(buf + cap - 4, "...", 4);
}

void set_error(CommandError* e, StanzaCondition c, CommandCondition app, const char* fmt, ...) {
  e->type = default_error_type(c);
  e->condition = c;
  e->app = app;
  va_list ap;
  va_start(ap, fmt);
  vformat_text(e->text, sizeof e->text, fmt, ap);
  va_end(ap);
}

void fail(CommandResponse* out, StanzaCondition c, CommandCondition app, const char* fmt, ...) {
  out->is_error = true;
  out->has_form = false;
  out->note_count = 0;
  out->actions = 0;
  out->sessionid[0] = '\0';
  out->err.type = default_error_type(c);
  out->err.condition = c;
  out->err.app = app;
  va_list ap;
  va_start(ap, fmt);
  vformat_text(out->err.text, sizeof out->err.text, fmt, ap);
  va_end(ap);
}

void fail_with(CommandResponse* out, const CommandError& e) {
  fail(out, e.condition, e.app, "%s", e.text);
  out->err.type = e.type;
}

bool form_fits(CommandResponse* out) {
  if (out->form.build_error() == hal::Err::Ok) return true;
  char why[96];
  std::snprintf(why, sizeof why, "%s", out->form.build_error_text());
  fail(out, StanzaCondition::ResourceConstraint, CommandCondition::None, "answer does not fit: %s", why);
  return false;
}

void show_form(CommandResponse* out, uint8_t actions) {
  if (!form_fits(out)) return;
  out->has_form = true;
  out->status = CommandStatus::Executing;
  out->actions = actions;
  out->default_action = CommandAction::Complete;
}

void complete_with_form(CommandResponse* out) {
  if (!form_fits(out)) return;
  out->has_form = true;
  out->status = CommandStatus::Completed;
}

}  // namespace cmd
}  // namespace agent

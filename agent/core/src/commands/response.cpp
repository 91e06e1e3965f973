// The XEP-0050 vocabulary (actions, statuses, notes, error conditions), the
// response's own methods, and the `<command/>` and `<error/>` XML.
#include "agent/command_response.hpp"

#include <cstdarg>
#include <cstdio>
#include <cstring>

#include "../text_writer.hpp"
#include "stage.hpp"

namespace agent {

namespace {

template <typename W>
void write_command(W& w, const CommandResponse& r) {
  w.put("<command xmlns='");
  w.put(kCommandsXmlns);
  w.put("' node='");
  w.put_escaped(r.node);
  w.put("'");
  if (r.sessionid[0] != '\0') {
    w.put(" sessionid='");
    w.put_escaped(r.sessionid);
    w.put("'");
  }
  w.put(" status='");
  w.put(command_status_name(r.status));
  w.put("'>");
  if (r.status == CommandStatus::Executing && r.actions != 0) {
    w.put("<actions execute='");
    w.put(command_action_name(r.default_action));
    w.put("'>");
    if ((r.actions & kActionPrev) != 0) w.put("<prev/>");
    if ((r.actions & kActionNext) != 0) w.put("<next/>");
    if ((r.actions & kActionComplete) != 0) w.put("<complete/>");
    w.put("</actions>");
  }
  for (size_t i = 0; i < r.note_count; ++i) {
    w.put("<note type='");
    w.put(note_type_name(r.notes[i].type));
    w.put("'>");
    w.put_escaped(r.notes[i].text);
    w.put("</note>");
  }
}

}  // namespace

// --- names ---

const char* command_action_name(CommandAction a) {
  switch (a) {
    case CommandAction::Execute: return "execute";
    case CommandAction::Next: return "next";
    case CommandAction::Prev: return "prev";
    case CommandAction::Complete: return "complete";
    case CommandAction::Cancel: return "cancel";
    case CommandAction::Malformed: break;
  }
  return "malformed";
}

CommandAction parse_command_action(const char* attr) {
  if (attr == nullptr || *attr == '\0') return CommandAction::Execute;
  static constexpr CommandAction kActions[] = {CommandAction::Execute, CommandAction::Next,
                                               CommandAction::Prev, CommandAction::Complete,
                                               CommandAction::Cancel};
  for (CommandAction a : kActions) {
    if (std::strcmp(attr, command_action_name(a)) == 0) return a;
  }
  return CommandAction::Malformed;
}

const char* command_status_name(CommandStatus s) {
  switch (s) {
    case CommandStatus::Executing: return "executing";
    case CommandStatus::Canceled: return "canceled";
    case CommandStatus::Completed: break;
  }
  return "completed";
}

const char* note_type_name(NoteType t) {
  switch (t) {
    case NoteType::Warn: return "warn";
    case NoteType::Error: return "error";
    case NoteType::Info: break;
  }
  return "info";
}

const char* error_type_name(ErrorType t) {
  switch (t) {
    case ErrorType::Modify: return "modify";
    case ErrorType::Auth: return "auth";
    case ErrorType::Wait: return "wait";
    case ErrorType::Cancel: break;
  }
  return "cancel";
}

const char* stanza_condition_name(StanzaCondition c) {
  switch (c) {
    case StanzaCondition::BadRequest: return "bad-request";
    case StanzaCondition::Forbidden: return "forbidden";
    case StanzaCondition::ItemNotFound: return "item-not-found";
    case StanzaCondition::InternalServerError: return "internal-server-error";
    case StanzaCondition::NotAllowed: return "not-allowed";
    case StanzaCondition::ResourceConstraint: return "resource-constraint";
    case StanzaCondition::Conflict: return "conflict";
    case StanzaCondition::FeatureNotImplemented: return "feature-not-implemented";
  }
  return "undefined-condition";
}

ErrorType default_error_type(StanzaCondition c) {
  switch (c) {
    case StanzaCondition::BadRequest: return ErrorType::Modify;
    case StanzaCondition::Forbidden: return ErrorType::Auth;
    case StanzaCondition::ResourceConstraint: return ErrorType::Wait;
    case StanzaCondition::ItemNotFound:
    case StanzaCondition::InternalServerError:
    case StanzaCondition::NotAllowed:
    case StanzaCondition::Conflict:
    case StanzaCondition::FeatureNotImplemented: break;
  }
  return ErrorType::Cancel;
}

const char* command_condition_name(CommandCondition c) {
  switch (c) {
    case CommandCondition::BadPayload: return "bad-payload";
    case CommandCondition::BadSessionid: return "bad-sessionid";
    case CommandCondition::MalformedAction: return "malformed-action";
    case CommandCondition::BadAction: return "bad-action";
    case CommandCondition::SessionExpired: return "session-expired";
    case CommandCondition::None: break;
  }
  return "";
}

// --- CommandResponse ---

void CommandResponse::reset() {
  is_error = false;
  err = CommandError();
  node = "";
  status = CommandStatus::Completed;
  sessionid[0] = '\0';
  actions = 0;
  default_action = CommandAction::Complete;
  has_form = false;
  form.reset(FormType::Form);
  note_count = 0;
}

void CommandResponse::add_note(NoteType type, const char* fmt, ...) {
  if (note_count == kCommandNotesMax) {
    std::snprintf(notes[kCommandNotesMax - 1].text, kCommandTextMax, "(more notes omitted)");
    return;
  }
  CommandNote& n = notes[note_count++];
  n.type = type;
  va_list ap;
  va_start(ap, fmt);
  cmd::vformat_text(n.text, sizeof n.text, fmt, ap);
  va_end(ap);
}

// --- XML ---

hal::Result<size_t> format_command_xml(char* buf, size_t cap, const CommandResponse& r) {
  if (r.is_error) return hal::Err::InvalidArgument;
  detail::TextWriter w(buf, cap);
  write_command(w, r);
  if (r.has_form && !w.overflowed()) {
    // The form is formatted straight into the rest of the buffer.
    const size_t used = w.length();
    const hal::Result<size_t> f = format_form_xml(buf + used, cap - used, r.form);
    if (!f.ok()) return f.error();
    detail::TextWriter tail(buf + used + f.value(), cap - used - f.value());
    tail.put("</command>");
    const hal::Result<size_t> t = tail.finish();
    if (!t.ok()) return t.error();
    return used + f.value() + t.value();
  }
  w.put("</command>");
  return w.finish();
}

size_t command_xml_len(const CommandResponse& r) {
  detail::LengthCounter c;
  write_command(c, r);
  if (r.has_form) c.put(nullptr, form_xml_len(r.form));
  c.put("</command>");
  return c.length();
}

hal::Result<size_t> format_command_error_xml(char* buf, size_t cap, const CommandError& e) {
  detail::TextWriter w(buf, cap);
  w.put("<error type='");
  w.put(error_type_name(e.type));
  w.put("'><");
  w.put(stanza_condition_name(e.condition));
  w.put(" xmlns='");
  w.put(kStanzaErrorXmlns);
  w.put("'/>");
  // RFC 6120 §8.3.2: defined condition, then <text/>, then the
  // application-specific condition.
  if (e.text[0] != '\0') {
    w.put("<text xmlns='");
    w.put(kStanzaErrorXmlns);
    w.put("'>");
    w.put_escaped(e.text);
    w.put("</text>");
  }
  if (e.app != CommandCondition::None) {
    w.put("<");
    w.put(command_condition_name(e.app));
    w.put(" xmlns='");
    w.put(kCommandsXmlns);
    w.put("'/>");
  }
  w.put("</error>");
  return w.finish();
}

}  // namespace agent

#include "agent/commands.hpp"

#include <cjson/cJSON.h>

#include <cinttypes>
#include <cstdarg>
#include <cstdio>
#include <cstring>

#include "agent/jid.hpp"
#include "agent/log.hpp"
#include "agent/senml.hpp"
#include "agent/xml_text.hpp"
#include "text_writer.hpp"

namespace agent {

namespace {

constexpr const char* kArea = "cmd";

constexpr CommandInfo kCommands[] = {
    {"read", "Read sensors", Role::Viewer},
    {"set", "Set an actuator", Role::Operator},
    {"diagnostics", "Diagnostics", Role::Operator},
    {"configure", "Configure telemetry", Role::Owner},
    {"reboot", "Reboot", Role::Owner},
};
constexpr size_t kCommandCount = sizeof kCommands / sizeof kCommands[0];

const char* nz(const char* s) { return s != nullptr ? s : ""; }

/// vsnprintf that marks a cut with "..." instead of cutting silently.
void vformat_text(char* buf, size_t cap, const char* fmt, va_list ap) {
  const int n = std::vsnprintf(buf, cap, fmt, ap);
  if (n >= 0 && static_cast<size_t>(n) >= cap && cap > 4) std::memcpy(buf + cap - 4, "...", 4);
}

void set_error(CommandError* e, StanzaCondition c, CommandCondition app, const char* fmt, ...)
    __attribute__((format(printf, 4, 5)));
void set_error(CommandError* e, StanzaCondition c, CommandCondition app, const char* fmt, ...) {
  e->type = default_error_type(c);
  e->condition = c;
  e->app = app;
  va_list ap;
  va_start(ap, fmt);
  vformat_text(e->text, sizeof e->text, fmt, ap);
  va_end(ap);
}

/// Turns `out` into an IQ error.
void fail(CommandResponse* out, StanzaCondition c, CommandCondition app, const char* fmt, ...)
    __attribute__((format(printf, 4, 5)));
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

/// Full JIDs are the same entity: bare parts ASCII case-insensitively (as the
/// ACL compares them), resources exactly (RFC 7622 §3.4: case-sensitive).
bool same_full_jid(const char* a, const char* b) {
  const hal::Result<JidParts> pa = split_jid(a);
  const hal::Result<JidParts> pb = split_jid(b);
  if (!pa.ok() || !pb.ok()) return false;
  const JidParts& x = pa.value();
  const JidParts& y = pb.value();
  if (!equal_ci(x.local, x.local_len, y.local, y.local_len)) return false;
  if (!equal_ci(x.domain, x.domain_len, y.domain, y.domain_len)) return false;
  if ((x.resource == nullptr) != (y.resource == nullptr)) return false;
  return x.resource == nullptr ||
         (x.resource_len == y.resource_len && std::memcmp(x.resource, y.resource, x.resource_len) == 0);
}

bool same_bare_jid(const char* a, const char* b) {
  const hal::Result<JidParts> pa = split_jid(a);
  const hal::Result<JidParts> pb = split_jid(b);
  if (!pa.ok() || !pb.ok()) return false;
  const JidParts& x = pa.value();
  const JidParts& y = pb.value();
  return equal_ci(x.local, x.local_len, y.local, y.local_len) &&
         equal_ci(x.domain, x.domain_len, y.domain, y.domain_len);
}

/// "10", "0.05", "1.5": milliseconds as seconds, trailing zeros dropped.
void format_ms_as_seconds(char* buf, size_t cap, uint32_t ms) {
  if (ms % 1000 == 0) {
    std::snprintf(buf, cap, "%" PRIu32, ms / 1000);
  } else if (ms % 100 == 0) {
    std::snprintf(buf, cap, "%" PRIu32 ".%" PRIu32, ms / 1000, (ms % 1000) / 100);
  } else if (ms % 10 == 0) {
    std::snprintf(buf, cap, "%" PRIu32 ".%02" PRIu32, ms / 1000, (ms % 1000) / 10);
  } else {
    std::snprintf(buf, cap, "%" PRIu32 ".%03" PRIu32, ms / 1000, ms % 1000);
  }
}

/// "3d 4h", "1h 02m", "5m 07s", "42s".
void format_uptime(char* buf, size_t cap, uint64_t s) {
  if (s >= 86400) {
    std::snprintf(buf, cap, "%" PRIu64 "d %" PRIu64 "h", s / 86400, (s % 86400) / 3600);
  } else if (s >= 3600) {
    std::snprintf(buf, cap, "%" PRIu64 "h %02" PRIu64 "m", s / 3600, (s % 3600) / 60);
  } else if (s >= 60) {
    std::snprintf(buf, cap, "%" PRIu64 "m %02" PRIu64 "s", s / 60, s % 60);
  } else {
    std::snprintf(buf, cap, "%" PRIu64 "s", s);
  }
}

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
    case StanzaCondition::NotAllowed: break;
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
  vformat_text(n.text, sizeof n.text, fmt, ap);
  va_end(ap);
}

// --- table ---

const CommandInfo* command_table(size_t* count) {
  if (count != nullptr) *count = kCommandCount;
  return kCommands;
}

const CommandInfo* find_command(const char* node) {
  if (node == nullptr) return nullptr;
  for (const CommandInfo& c : kCommands) {
    if (std::strcmp(c.node, node) == 0) return &c;
  }
  return nullptr;
}

// --- persisted settings ---

hal::Err save_settings(hal::Storage& storage, const char* key, const TelemetrySettings& s) {
  if (s.interval_ms < kIntervalMinMs || s.interval_ms > kIntervalMaxMs || s.batch_max < kBatchMaxMin ||
      s.batch_max > kBatchMaxMax) {
    return hal::Err::InvalidArgument;
  }
  char blob[128];
  const int n = std::snprintf(blob, sizeof blob,
                              "{\"version\":1,\"telemetry\":{\"interval_ms\":%" PRIu32
                              ",\"batch_max\":%" PRIu32 "}}",
                              s.interval_ms, s.batch_max);
  if (n < 0 || static_cast<size_t>(n) >= sizeof blob) return hal::Err::Overflow;
  return storage.replace(key, reinterpret_cast<const uint8_t*>(blob), static_cast<size_t>(n));
}

hal::Err load_settings(hal::Storage& storage, const char* key, TelemetrySettings* out) {
  uint8_t buf[512];
  const hal::Result<size_t> r = storage.read(key, buf, sizeof buf);
  if (!r.ok()) return r.error();
  cJSON* root = cJSON_ParseWithLength(reinterpret_cast<const char*>(buf), r.value());
  if (root == nullptr) return hal::Err::Corrupt;
  auto integer = [](const cJSON* item, double lo, double hi, uint32_t* v) {
    if (!cJSON_IsNumber(item)) return false;
    const double d = item->valuedouble;
    if (!(d >= lo && d <= hi)) return false;
    const auto u = static_cast<uint32_t>(d);
    if (static_cast<double>(u) != d) return false;
    *v = u;
    return true;
  };
  TelemetrySettings s;
  uint32_t version = 0;
  const cJSON* tel = cJSON_GetObjectItemCaseSensitive(root, "telemetry");
  const bool ok = cJSON_IsObject(root) &&
                  integer(cJSON_GetObjectItemCaseSensitive(root, "version"), 1, 1, &version) &&
                  cJSON_IsObject(tel) &&
                  integer(cJSON_GetObjectItemCaseSensitive(tel, "interval_ms"), kIntervalMinMs,
                          kIntervalMaxMs, &s.interval_ms) &&
                  integer(cJSON_GetObjectItemCaseSensitive(tel, "batch_max"), kBatchMaxMin,
                          kBatchMaxMax, &s.batch_max);
  cJSON_Delete(root);
  if (!ok) return hal::Err::Corrupt;
  *out = s;
  return hal::Err::Ok;
}

// --- formatting ---


hal::Result<size_t> format_channel_name(char* buf, size_t cap, const drv::Device& d, size_t channel) {
  detail::TextWriter w(buf, cap);
  w.put(d.name());
  w.put_char('.');
  w.put(d.channel(channel).quantity);
  return w.finish();
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

// --- CommandRouter ---

CommandRouter::CommandRouter(const AclConfig& acl, drv::Registry& registry, hal::MonotonicClock& clock,
                             Rng& rng, CommandHost& host, hal::Storage* storage,
                             const CommandRouterOptions& options)
    : acl_(acl),
      registry_(registry),
      clock_(clock),
      rng_(rng),
      host_(host),
      storage_(storage),
      options_(options) {
  if (options_.settings_key == nullptr) options_.settings_key = kSettingsKey;
  if (options_.session_idle_ms <= 0) options_.session_idle_ms = kCommandSessionIdleMs;
}

Role CommandRouter::role_of(const char* from) const { return agent::role_of(acl_, from); }

bool CommandRouter::allowed(const char* from, Role needed, const char* what, CommandError* err) const {
  const Role held = role_of(from);
  if (held == Role::Stranger) {
    set_error(err, StanzaCondition::Forbidden, CommandCondition::None, "not authorised");
    return false;
  }
  if (!role_allows(held, needed)) {
    set_error(err, StanzaCondition::Forbidden, CommandCondition::None, "%s needs the %s role (you are %s)",
              what, role_name(needed), role_name(held));
    return false;
  }
  return true;
}

size_t CommandRouter::list_commands(const char* from, const CommandInfo** out, size_t cap) const {
  const Role held = role_of(from);
  size_t n = 0;
  if (held == Role::Stranger) return 0;
  for (const CommandInfo& c : kCommands) {
    if (n == cap) break;
    if (role_allows(held, c.role)) out[n++] = &c;
  }
  return n;
}

CommandRouter::Node CommandRouter::node_of(const CommandInfo* info) {
  // kCommands is in the order of the Node enum.
  return static_cast<Node>(info - kCommands);
}

// --- sessions ---

void CommandRouter::make_session_id(char* out) {
  // A serial (unique for the router's life) and 64 random bits, so ids are
  // never reused and cannot be guessed from one another. Sessions are also
  // bound to the full JID that started them.
  const uint64_t serial = next_serial_++;
  std::snprintf(out, kSessionIdMax + 1, "%" PRIu64 "-%016" PRIx64, serial, rng_.next());
}

bool CommandRouter::expired(const Session& s, hal::MonoTime now) const {
  return s.state == SlotState::Expired ||
         (s.state == SlotState::Live && now.us_since(s.last_used) > options_.session_idle_ms * 1000);
}

CommandRouter::Session* CommandRouter::find_session(const char* id) {
  if (id == nullptr || std::strlen(id) > kSessionIdMax) return nullptr;
  for (Session& s : sessions_) {
    if (s.state != SlotState::Free && std::strcmp(s.id, id) == 0) return &s;
  }
  return nullptr;
}

void CommandRouter::free_session(Session* s) {
  s->state = SlotState::Free;
  s->id[0] = '\0';
  s->jid[0] = '\0';
  s->device = nullptr;
}

size_t CommandRouter::expire_sessions() {
  const hal::MonoTime now = clock_.mono_now();
  size_t n = 0;
  for (Session& s : sessions_) {
    if (s.state == SlotState::Live && expired(s, now)) {
      // Kept as a tombstone (its id answers session-expired) until the slot
      // is needed again.
      s.state = SlotState::Expired;
      ++n;
    }
  }
  return n;
}

size_t CommandRouter::live_sessions() const {
  size_t n = 0;
  for (const Session& s : sessions_) n += s.state == SlotState::Live ? 1 : 0;
  return n;
}

CommandRouter::Session* CommandRouter::allocate_session(const char* from) {
  if (from == nullptr || std::strlen(from) > kCommandJidMax) return nullptr;
  (void)expire_sessions();
  // One bare JID may hold at most kCommandSessionsPerJid sessions: a flood
  // from one account recycles its own oldest session, not other people's.
  size_t mine = 0;
  Session* my_oldest = nullptr;
  for (Session& s : sessions_) {
    if (s.state != SlotState::Live || !same_bare_jid(s.jid, from)) continue;
    ++mine;
    if (my_oldest == nullptr || s.serial < my_oldest->serial) my_oldest = &s;
  }
  Session* slot = nullptr;
  if (mine >= kCommandSessionsPerJid) {
    slot = my_oldest;
  } else {
    // A free slot, else the oldest tombstone, else the least recently used
    // live session.
    for (Session& s : sessions_) {
      if (s.state == SlotState::Free) {
        slot = &s;
        break;
      }
    }
    for (Session& s : sessions_) {
      if (slot != nullptr) break;
      if (s.state == SlotState::Expired) slot = &s;
    }
    if (slot == nullptr) {
      for (Session& s : sessions_) {
        if (slot == nullptr || s.last_used < slot->last_used ||
            (s.last_used == slot->last_used && s.serial < slot->serial)) {
          slot = &s;
        }
      }
    }
  }
  if (slot->state == SlotState::Live) {
    XLOG_INFO(kArea, "session limit reached: recycled session %s of %s", slot->id, slot->jid);
  }
  free_session(slot);
  slot->state = SlotState::Live;
  slot->serial = next_serial_;
  make_session_id(slot->id);
  std::snprintf(slot->jid, sizeof slot->jid, "%s", from);
  slot->last_used = clock_.mono_now();
  slot->stage = 1;
  return slot;
}

// --- dispatch ---

void CommandRouter::handle(const CommandRequest& req, CommandResponse* out) {
  out->reset();
  out->node = nz(req.node);
  // 1. ACL first: nothing below runs for a stranger, and a stranger learns
  // nothing about which nodes exist.
  const Role held = role_of(req.from);
  if (held == Role::Stranger) {
    // Debug only: anyone on the federated network can send these.
    XLOG_DEBUG(kArea, "refused command '%.64s' from stranger %.128s", nz(req.node), nz(req.from));
    fail(out, StanzaCondition::Forbidden, CommandCondition::None, "not authorised");
    return;
  }
  // 2. The node.
  const CommandInfo* info = find_command(req.node);
  if (info == nullptr) {
    fail(out, StanzaCondition::ItemNotFound, CommandCondition::None, "no command '%.64s'", nz(req.node));
    return;
  }
  out->node = info->node;
  // 3. The role it needs.
  if (!role_allows(held, info->role)) {
    XLOG_INFO(kArea, "refused command '%s' from %s %.128s", info->node, role_name(held), req.from);
    fail(out, StanzaCondition::Forbidden, CommandCondition::None, "'%s' needs the %s role (you are %s)",
         info->node, role_name(info->role), role_name(held));
    return;
  }
  // 4. The action attribute.
  if (req.action == CommandAction::Malformed) {
    fail(out, StanzaCondition::BadRequest, CommandCondition::MalformedAction,
         "action must be execute, next, prev, complete or cancel");
    return;
  }
  // 5. A form that did not fit the fixed tables is refused, never truncated.
  if (req.form != nullptr && req.form->build_error() != hal::Err::Ok) {
    fail(out, StanzaCondition::BadRequest, CommandCondition::BadPayload, "form rejected: %s",
         req.form->build_error_text());
    return;
  }
  const Node node = node_of(info);
  // 6. The session.
  if (req.sessionid == nullptr || req.sessionid[0] == '\0') {
    if (req.action != CommandAction::Execute) {
      fail(out, StanzaCondition::BadRequest, CommandCondition::BadSessionid, "'%s' needs a sessionid",
           command_action_name(req.action));
      return;
    }
    start(node, req, out);
    return;
  }
  Session* s = find_session(req.sessionid);
  if (s == nullptr) {
    fail(out, StanzaCondition::BadRequest, CommandCondition::BadSessionid, "unknown session");
    return;
  }
  if (!same_full_jid(s->jid, req.from)) {
    // Same answer as for an unknown id: do not confirm that it exists.
    XLOG_WARN(kArea, "session %s of %s used by %.128s", s->id, s->jid, req.from);
    fail(out, StanzaCondition::BadRequest, CommandCondition::BadSessionid, "unknown session");
    return;
  }
  if (s->node != node) {
    fail(out, StanzaCondition::BadRequest, CommandCondition::BadSessionid,
         "session belongs to another command");
    return;
  }
  if (expired(*s, clock_.mono_now())) {
    s->state = SlotState::Expired;
    // XEP-0050 §4.6: a session that timed out is not-allowed + session-expired.
    fail(out, StanzaCondition::NotAllowed, CommandCondition::SessionExpired,
         "session expired after %" PRId64 " s idle", options_.session_idle_ms / 1000);
    return;
  }
  resume(s, req, out);
}

void CommandRouter::start(Node node, const CommandRequest& req, CommandResponse* out) {
  if (node == Node::Read || node == Node::Diagnostics) {
    make_session_id(out->sessionid);
    if (node == Node::Read) {
      run_read(out);
    } else {
      run_diagnostics(out);
    }
    return;
  }
  if (req.form != nullptr) {
    switch (req.form->type()) {
      case FormType::Cancel:
        make_session_id(out->sessionid);
        out->status = CommandStatus::Canceled;
        return;
      case FormType::Submit: {
        // One round trip for scripts: an execute that already carries the
        // submitted form is the final stage.
        make_session_id(out->sessionid);
        (void)finish(node, nullptr, req, out);
        return;
      }
      case FormType::Form:
      case FormType::Result:
        fail(out, StanzaCondition::BadRequest, CommandCondition::BadPayload,
             "expected a submit form, got '%s'", form_type_name(req.form->type()));
        return;
    }
  }
  if (node == Node::Set) {
    size_t actuators = 0;
    for (size_t i = 0; i < registry_.device_count(); ++i) {
      const drv::Device& d = registry_.device(i);
      for (size_t c = 0; c < d.channel_count(); ++c) {
        actuators += d.channel(c).kind == drv::ChannelKind::Actuator ? 1 : 0;
      }
    }
    if (actuators == 0) {
      make_session_id(out->sessionid);
      out->add_note(NoteType::Warn, "this device has no actuator channels");
      return;
    }
  }
  Session* s = allocate_session(req.from);
  if (s == nullptr) {
    fail(out, StanzaCondition::ResourceConstraint, CommandCondition::None,
         "JID longer than %zu bytes cannot hold a session", kCommandJidMax);
    return;
  }
  s->node = node;
  std::snprintf(out->sessionid, sizeof out->sessionid, "%s", s->id);
  switch (node) {
    case Node::Set: render_set_choose(nullptr, out); break;
    case Node::Configure: render_configure(out); break;
    case Node::Reboot: render_reboot(out); break;
    case Node::Read:
    case Node::Diagnostics: break;
  }
  if (out->is_error) free_session(s);
}

const Form* CommandRouter::submitted(const CommandRequest& req, CommandResponse* out) {
  if (req.form == nullptr) {
    fail(out, StanzaCondition::BadRequest, CommandCondition::BadPayload,
         "missing form (expected a submit data form)");
    return nullptr;
  }
  if (req.form->type() != FormType::Submit) {
    fail(out, StanzaCondition::BadRequest, CommandCondition::BadPayload, "expected a submit form, got '%s'",
         form_type_name(req.form->type()));
    return nullptr;
  }
  return req.form;
}

void CommandRouter::resume(Session* s, const CommandRequest& req, CommandResponse* out) {
  s->last_used = clock_.mono_now();
  std::snprintf(out->sessionid, sizeof out->sessionid, "%s", s->id);
  CommandAction action = req.action;
  // XEP-0004 §3.1: a form of type cancel means the user gave up.
  if (req.form != nullptr && req.form->type() == FormType::Cancel) action = CommandAction::Cancel;
  // XEP-0050 §3.4: execute on an open session is the stage's default
  // action; every stage here defaults to complete.
  if (action == CommandAction::Execute) action = CommandAction::Complete;
  const bool set_value_stage = s->node == Node::Set && s->stage == 2;
  switch (action) {
    case CommandAction::Cancel:
      free_session(s);
      out->status = CommandStatus::Canceled;
      return;
    case CommandAction::Prev:
      if (!set_value_stage) {
        fail(out, StanzaCondition::BadRequest, CommandCondition::BadAction, "no previous stage");
        return;
      }
      {
        char name[kChannelNameMax];
        if (!format_channel_name(name, sizeof name, *s->device, s->channel).ok()) name[0] = '\0';
        s->stage = 1;
        s->device = nullptr;
        render_set_choose(name, out);
      }
      return;
    case CommandAction::Next: {
      if (s->node != Node::Set || s->stage != 1) {
        fail(out, StanzaCondition::BadRequest, CommandCondition::BadAction, "no next stage");
        return;
      }
      const Form* form = submitted(req, out);
      if (form == nullptr) return;
      (void)set_next(s, *form, out);
      return;
    }
    case CommandAction::Complete: {
      const Form* form = submitted(req, out);
      if (form == nullptr) return;
      if (finish(s->node, s, req, out)) free_session(s);
      return;
    }
    case CommandAction::Execute:
    case CommandAction::Malformed: break;
  }
  fail(out, StanzaCondition::BadRequest, CommandCondition::MalformedAction, "unexpected action");
}

bool CommandRouter::finish(Node node, Session* s, const CommandRequest& req, CommandResponse* out) {
  const Form& form = *req.form;
  bool done = false;
  switch (node) {
    case Node::Set: done = submit_set(req.from, s, form, out); break;
    case Node::Configure: done = submit_configure(req.from, form, out); break;
    case Node::Reboot: done = submit_reboot(req.from, form, out); break;
    case Node::Read:
    case Node::Diagnostics: break;
  }
  return done;
}

void CommandRouter::form_overflow(CommandResponse* out) {
  // Our own tables are too small for this board: say so, never truncate.
  char why[96];
  std::snprintf(why, sizeof why, "%s", out->form.build_error_text());
  fail(out, StanzaCondition::ResourceConstraint, CommandCondition::None, "answer does not fit: %s", why);
}

// --- read ---

namespace {

struct ReadCollector {
  CommandResponse* out;
  size_t total;
  size_t failed;
  const drv::Device* noted;  // last device whose sample failure got a note
  char first_problem[96];
};

void collect_reading(void* ctx, const ChannelReading& r) {
  auto* c = static_cast<ReadCollector*>(ctx);
  Form& f = c->out->form;
  ++c->total;
  char label[kChannelNameMax + 24];
  if (r.spec->unit != nullptr && r.spec->unit[0] != '\0') {
    std::snprintf(label, sizeof label, "%s (%s)", r.name, r.spec->unit);
  } else {
    std::snprintf(label, sizeof label, "%s", r.name);
  }
  const FieldType type = r.spec->type == drv::ValueType::Boolean ? FieldType::Boolean : FieldType::TextSingle;
  (void)f.add_field(type, r.name, label);
  if (r.error == hal::Err::Ok) {
    char text[kValueTextMax];
    if (format_value_text(text, sizeof text, r.value).ok()) {
      (void)f.add_value(text);
      return;
    }
  }
  // The field says what went wrong; it has no value.
  const hal::Err e = r.error != hal::Err::Ok ? r.error : hal::Err::Overflow;
  char desc[64];
  std::snprintf(desc, sizeof desc, "read failed: %s", hal::err_name(e));
  (void)f.set_desc(desc);
  if (c->failed++ == 0) {
    std::snprintf(c->first_problem, sizeof c->first_problem, "%s: %s", r.name, hal::err_name(e));
  }
  if (r.sample_error != hal::Err::Ok) {
    if (c->noted != r.device) {
      c->out->add_note(NoteType::Warn, "%s: read failed: %s", r.device->name(), hal::err_name(e));
      c->noted = r.device;
    }
  } else {
    c->out->add_note(NoteType::Warn, "%s: read failed: %s", r.name, hal::err_name(e));
  }
}

}  // namespace

void CommandRouter::visit_readings(ReadingVisitor visit, void* ctx) {
  (void)registry_.sample_all();
  for (size_t i = 0; i < registry_.device_count(); ++i) {
    const drv::Device& d = registry_.device(i);
    const hal::Err sampled = registry_.last_sample_error(i);
    for (size_t c = 0; c < d.channel_count(); ++c) {
      char name[kChannelNameMax];
      if (!format_channel_name(name, sizeof name, d, c).ok()) continue;  // names are <= 31+1+quantity
      ChannelReading r{name, &d.channel(c), &d, sampled, sampled, drv::Value()};
      if (sampled == hal::Err::Ok) {
        const hal::Result<drv::Value> v = d.get(c);
        r.error = v.error();
        if (v.ok()) r.value = v.value();
      }
      visit(ctx, r);
    }
  }
}

void CommandRouter::run_read(CommandResponse* out) {
  const size_t channels = registry_.channel_count();
  if (channels > kFormMaxFields) {
    fail(out, StanzaCondition::ResourceConstraint, CommandCondition::None,
         "%zu channels do not fit one form (at most %zu)", channels, kFormMaxFields);
    return;
  }
  Form& f = out->form;
  f.reset(FormType::Result);
  (void)f.set_title("Readings");
  ReadCollector c{out, 0, 0, nullptr, {}};
  visit_readings(collect_reading, &c);
  if (f.build_error() != hal::Err::Ok) {
    form_overflow(out);
    return;
  }
  if (c.total > 0 && c.failed == c.total) {
    fail(out, StanzaCondition::InternalServerError, CommandCondition::None,
         "no channel could be read (%s)", c.first_problem);
    return;
  }
  if (c.total == 0) out->add_note(NoteType::Info, "this device has no channels");
  out->has_form = true;
  out->status = CommandStatus::Completed;
}

// --- diagnostics ---

void CommandRouter::run_diagnostics(CommandResponse* out) {
  DiagnosticsInfo d;
  host_.diagnostics(&d);
  Form& f = out->form;
  f.reset(FormType::Result);
  (void)f.set_title("Diagnostics");
  auto text = [&f](const char* var, const char* label, const char* value) {
    (void)f.add_field(FieldType::TextSingle, var, label);
    (void)f.add_value(value);
  };
  auto number = [&text](const char* var, const char* label, uint64_t value) {
    char buf[24];
    std::snprintf(buf, sizeof buf, "%" PRIu64, value);
    text(var, label, buf);
  };
  number("uptime_s", "Agent uptime (s)", d.uptime_s);
  text("firmware", "Firmware", d.firmware);
  text("board", "Board", d.board);
  if (d.boot_id[0] != '\0') text("boot_id", "Boot id", d.boot_id);
  if (d.health[0] != '\0') text("health", "Health", d.health);
  if (d.problem[0] != '\0') text("problem", "Problem", d.problem);
  number("channels", "Channels", registry_.channel_count());
  number("reconnects", "Reconnects", d.reconnects);
  number("journal_depth", "Readings waiting for delivery", d.journal_depth);
  number("dropped_readings", "Readings dropped", d.dropped_readings);
  number("journal_bytes", "Journal size (bytes)", d.journal_bytes);
  number("journal_corrupt", "Corrupt journal records skipped", d.journal_corrupt);
  number("replayed", "Items sent again", d.replayed);
  number("errors", "Errors", d.errors);
  if (d.last_error[0] != '\0') text("last_error", "Last error", d.last_error);
  number("command_sessions", "Open command sessions", live_sessions());
  if (f.build_error() != hal::Err::Ok) {
    form_overflow(out);
    return;
  }
  out->has_form = true;
  out->status = CommandStatus::Completed;
}

// --- set ---

bool CommandRouter::resolve_actuator(const char* channel, drv::ChannelRef* ref, CommandError* err) const {
  if (channel == nullptr || channel[0] == '\0') {
    set_error(err, StanzaCondition::BadRequest, CommandCondition::BadPayload, "channel: required");
    return false;
  }
  const hal::Result<drv::ChannelRef> found = registry_.find(channel);
  if (!found.ok()) {
    set_error(err, StanzaCondition::BadRequest, CommandCondition::BadPayload, "channel: unknown channel '%.64s'",
              channel);
    return false;
  }
  if (found.value().spec().kind != drv::ChannelKind::Actuator) {
    // A sensor is not among the list-single options: a bad payload, as any
    // other value outside the list (docs/commands.md).
    set_error(err, StanzaCondition::BadRequest, CommandCondition::BadPayload,
              "channel: %.64s is a sensor and cannot be set", channel);
    return false;
  }
  *ref = found.value();
  return true;
}

bool CommandRouter::apply_set(const char* from, drv::Device& dev, size_t channel, const char* value_text,
                              drv::Value* applied, CommandError* err) {
  char name[kChannelNameMax];
  if (!format_channel_name(name, sizeof name, dev, channel).ok()) name[0] = '\0';
  const drv::ChannelSpec& spec = dev.channel(channel);
  if (value_text == nullptr) {
    set_error(err, StanzaCondition::BadRequest, CommandCondition::BadPayload, "value: required");
    return false;
  }
  drv::Value v;
  switch (spec.type) {
    case drv::ValueType::Boolean: {
      const hal::Result<bool> b = parse_loose_bool(value_text);
      if (!b.ok()) {
        set_error(err, StanzaCondition::BadRequest, CommandCondition::BadPayload,
                  "value: '%.32s' is not a boolean for %s (use true/false, 1/0 or on/off)", value_text, name);
        return false;
      }
      v = drv::Value::boolean(b.value());
      break;
    }
    case drv::ValueType::Numeric: {
      const hal::Result<drv::Value> n = parse_decimal(value_text);
      if (!n.ok()) {
        set_error(err, StanzaCondition::BadRequest, CommandCondition::BadPayload,
                  n.error() == hal::Err::Overflow ? "value: '%.32s' is out of range for %s"
                                                  : "value: '%.32s' is not a number (for %s)",
                  value_text, name);
        return false;
      }
      v = n.value();
      break;
    }
    case drv::ValueType::String: {
      const size_t len = std::strlen(value_text);
      if (len >= sizeof v.text) {
        set_error(err, StanzaCondition::BadRequest, CommandCondition::BadPayload,
                  "value: longer than %zu bytes (for %s)", sizeof v.text - 1, name);
        return false;
      }
      v.type = drv::ValueType::String;
      std::memcpy(v.text, value_text, len + 1);
      break;
    }
  }
  const hal::Err e = dev.set(channel, v);
  switch (e) {
    case hal::Err::Ok: {
      char text[kValueTextMax];
      if (!format_value_text(text, sizeof text, v).ok()) text[0] = '\0';
      XLOG_INFO(kArea, "%.128s set %s to %s", nz(from), name, text);
      host_.publish_telemetry_now();
      *applied = v;
      return true;
    }
    case hal::Err::InvalidArgument:
      set_error(err, StanzaCondition::BadRequest, CommandCondition::BadPayload,
                "value: '%.32s' is out of range for %s", value_text, name);
      return false;
    case hal::Err::ReadOnly:
    case hal::Err::NotSupported:
      set_error(err, StanzaCondition::BadRequest, CommandCondition::BadPayload, "channel: %s cannot be set (%s)",
                name, hal::err_name(e));
      return false;
    default: break;
  }
  XLOG_WARN(kArea, "set %s failed: %s", name, hal::err_name(e));
  set_error(err, StanzaCondition::InternalServerError, CommandCondition::None, "%s: set failed: %s", name,
            hal::err_name(e));
  return false;
}

void CommandRouter::render_set_choose(const char* preselect, CommandResponse* out) {
  Form& f = out->form;
  f.reset(FormType::Form);
  (void)f.set_title("Set an actuator");
  (void)f.set_instructions(
      "Choose a channel and a value (true/false, on/off or a number), then complete. "
      "Next shows the channel's current value first.");
  (void)f.add_field(FieldType::ListSingle, "channel", "Channel", true);
  if (preselect != nullptr && preselect[0] != '\0') (void)f.add_value(preselect);
  for (size_t i = 0; i < registry_.device_count(); ++i) {
    const drv::Device& d = registry_.device(i);
    for (size_t c = 0; c < d.channel_count(); ++c) {
      const drv::ChannelSpec& spec = d.channel(c);
      if (spec.kind != drv::ChannelKind::Actuator) continue;
      char name[kChannelNameMax];
      if (!format_channel_name(name, sizeof name, d, c).ok()) continue;
      char label[kChannelNameMax + 24];
      std::snprintf(label, sizeof label, "%s (%s)", name, drv::type_name(spec.type));
      (void)f.add_option(label, name);
    }
  }
  // Required: `complete` (the default action) needs it; `next` ignores it.
  (void)f.add_field(FieldType::TextSingle, "value", "Value", true);
  if (f.build_error() != hal::Err::Ok) {
    form_overflow(out);
    return;
  }
  out->has_form = true;
  out->status = CommandStatus::Executing;
  out->actions = kActionNext | kActionComplete;
  out->default_action = CommandAction::Complete;
}

void CommandRouter::render_set_value(const Session& s, CommandResponse* out) {
  const drv::Device& d = *s.device;
  const drv::ChannelSpec& spec = d.channel(s.channel);
  char name[kChannelNameMax];
  if (!format_channel_name(name, sizeof name, d, s.channel).ok()) name[0] = '\0';
  // get() only converts the device's last snapshot (an output's last level):
  // no bus traffic just to show a form.
  const hal::Result<drv::Value> current = d.get(s.channel);
  char now[kValueTextMax] = {};
  const bool known = current.ok() && format_value_text(now, sizeof now, current.value()).ok();
  Form& f = out->form;
  f.reset(FormType::Form);
  char title[kChannelNameMax + 8];
  std::snprintf(title, sizeof title, "Set %s", name);
  (void)f.set_title(title);
  char fixed[kChannelNameMax + kValueTextMax + 32];
  if (known) {
    std::snprintf(fixed, sizeof fixed, "%s is now %s%s%s", name, now, spec.unit[0] != '\0' ? " " : "",
                  spec.unit);
  } else {
    std::snprintf(fixed, sizeof fixed, "%s: current value unknown (%s)", name,
                  hal::err_name(current.ok() ? hal::Err::Overflow : current.error()));
  }
  (void)f.add_field(FieldType::Fixed, nullptr);
  (void)f.add_value(fixed);
  char label[kChannelNameMax + 24];
  if (spec.unit[0] != '\0') {
    std::snprintf(label, sizeof label, "%s (%s)", name, spec.unit);
  } else {
    std::snprintf(label, sizeof label, "%s", name);
  }
  if (spec.type == drv::ValueType::Boolean) {
    (void)f.add_field(FieldType::Boolean, "value", label, true);
    if (known) (void)f.add_value(current.value().flag ? "1" : "0");
  } else {
    (void)f.add_field(FieldType::TextSingle, "value", label, true);
    if (known) (void)f.add_value(now);
  }
  if (f.build_error() != hal::Err::Ok) {
    form_overflow(out);
    return;
  }
  out->has_form = true;
  out->status = CommandStatus::Executing;
  out->actions = kActionPrev | kActionComplete;
  out->default_action = CommandAction::Complete;
}

bool CommandRouter::set_next(Session* s, const Form& form, CommandResponse* out) {
  drv::ChannelRef ref;
  CommandError e;
  if (!resolve_actuator(form.value_of("channel"), &ref, &e)) {
    fail_with(out, e);
    return false;
  }
  s->device = ref.device;
  s->channel = ref.index;
  s->stage = 2;
  render_set_value(*s, out);
  return !out->is_error;
}

bool CommandRouter::submit_set(const char* from, Session* s, const Form& form, CommandResponse* out) {
  drv::ChannelRef ref;
  CommandError e;
  if (s != nullptr && s->stage == 2) {
    ref.device = s->device;
    ref.index = s->channel;
  } else if (!resolve_actuator(form.value_of("channel"), &ref, &e)) {
    fail_with(out, e);
    return false;
  }
  drv::Value applied;
  if (!apply_set(from, *ref.device, ref.index, form.value_of("value"), &applied, &e)) {
    fail_with(out, e);
    return false;
  }
  char name[kChannelNameMax];
  char text[kValueTextMax];
  if (!format_channel_name(name, sizeof name, *ref.device, ref.index).ok()) name[0] = '\0';
  if (!format_value_text(text, sizeof text, applied).ok()) text[0] = '\0';
  out->add_note(NoteType::Info, "%s set to %s", name, text);
  out->status = CommandStatus::Completed;
  return true;
}

bool CommandRouter::set_channel(const char* from, const char* channel, const char* value_text,
                                drv::Value* applied, CommandError* err) {
  if (!allowed(from, Role::Operator, "set", err)) return false;
  drv::ChannelRef ref;
  if (!resolve_actuator(channel, &ref, err)) return false;
  return apply_set(from, *ref.device, ref.index, value_text, applied, err);
}

bool CommandRouter::read_all(const char* from, ReadingVisitor visit, void* ctx, CommandError* err) {
  if (!allowed(from, Role::Viewer, "read", err)) return false;
  visit_readings(visit, ctx);
  return true;
}

bool CommandRouter::read_channel(const char* from, const char* channel, drv::Value* value, CommandError* err) {
  if (!allowed(from, Role::Viewer, "read", err)) return false;
  const hal::Result<drv::ChannelRef> found = registry_.find(channel);
  if (!found.ok()) {
    set_error(err, StanzaCondition::ItemNotFound, CommandCondition::None, "unknown channel '%.64s'",
              nz(channel));
    return false;
  }
  drv::Device& d = *found.value().device;
  // Only this channel's device is sampled (one bus burst), not the board.
  hal::Err e = d.sample();
  if (e == hal::Err::Ok) {
    const hal::Result<drv::Value> v = d.get(found.value().index);
    if (v.ok()) {
      *value = v.value();
      return true;
    }
    e = v.error();
  }
  set_error(err, StanzaCondition::InternalServerError, CommandCondition::None, "%.64s: read failed: %s", channel,
            hal::err_name(e));
  return false;
}

// --- configure ---

void CommandRouter::render_configure(CommandResponse* out) {
  const TelemetrySettings cur = host_.telemetry_settings();
  Form& f = out->form;
  f.reset(FormType::Form);
  (void)f.set_title("Configure telemetry");
  (void)f.set_instructions("Changes apply at once and are kept across restarts.");
  char interval[24];
  format_ms_as_seconds(interval, sizeof interval, cur.interval_ms);
  (void)f.add_field(FieldType::TextSingle, "interval_s", "Sampling interval in seconds (0.05 to 86400)", true);
  (void)f.add_value(interval);
  char batch[12];
  std::snprintf(batch, sizeof batch, "%" PRIu32, cur.batch_max);
  (void)f.add_field(FieldType::TextSingle, "batch_max", "Readings per published item (1 to 100)", true);
  (void)f.add_value(batch);
  if (f.build_error() != hal::Err::Ok) {
    form_overflow(out);
    return;
  }
  out->has_form = true;
  out->status = CommandStatus::Executing;
  out->actions = kActionComplete;
  out->default_action = CommandAction::Complete;
}

namespace {

/// Parses field `var` of `form` as an exact decimal scaled by 10^scale, in
/// lo..hi. Returns false with *err (bad-payload naming the field).
bool scaled_field(const Form& form, const char* var, int scale, int64_t lo, int64_t hi, const char* range,
                  bool* present, int64_t* out, CommandError* err) {
  const FormField* f = form.find(var);
  *present = f != nullptr;
  if (f == nullptr) return true;  // absent: unchanged
  const char* text = f->first_value();
  if (text == nullptr || text[0] == '\0') {
    set_error(err, StanzaCondition::BadRequest, CommandCondition::BadPayload, "%s: required", var);
    return false;
  }
  const hal::Result<drv::Value> v = parse_decimal(text);
  if (!v.ok() && v.error() == hal::Err::InvalidArgument) {
    set_error(err, StanzaCondition::BadRequest, CommandCondition::BadPayload, "%s: '%.32s' is not a number",
              var, text);
    return false;
  }
  hal::Result<int64_t> n = v.ok() ? decimal_to_scaled(v.value(), scale) : hal::Result<int64_t>(v.error());
  if (!n.ok() && n.error() == hal::Err::InvalidArgument) {
    set_error(err, StanzaCondition::BadRequest, CommandCondition::BadPayload,
              scale == 0 ? "%s: '%.32s' is not a whole number" : "%s: '%.32s' is finer than a millisecond",
              var, text);
    return false;
  }
  if (!n.ok() || n.value() < lo || n.value() > hi) {
    set_error(err, StanzaCondition::BadRequest, CommandCondition::BadPayload, "%s: '%.32s' is out of range (%s)",
              var, text, range);
    return false;
  }
  *out = n.value();
  return true;
}

}  // namespace

bool CommandRouter::submit_configure(const char* from, const Form& form, CommandResponse* out) {
  TelemetrySettings s = host_.telemetry_settings();
  CommandError e;
  bool present = false;
  int64_t v = 0;
  if (!scaled_field(form, "interval_s", 3, kIntervalMinMs, kIntervalMaxMs, "0.05 to 86400", &present, &v, &e)) {
    fail_with(out, e);
    return false;
  }
  if (present) s.interval_ms = static_cast<uint32_t>(v);
  if (!scaled_field(form, "batch_max", 0, kBatchMaxMin, kBatchMaxMax, "1 to 100", &present, &v, &e)) {
    fail_with(out, e);
    return false;
  }
  if (present) s.batch_max = static_cast<uint32_t>(v);
  const hal::Err r = host_.reconfigure_telemetry(s);
  if (r == hal::Err::InvalidArgument) {
    fail(out, StanzaCondition::BadRequest, CommandCondition::BadPayload, "settings rejected by the publisher");
    return false;
  }
  if (r == hal::Err::NoSpace) {
    fail(out, StanzaCondition::ResourceConstraint, CommandCondition::None,
         "not enough memory for batch_max %" PRIu32, s.batch_max);
    return false;
  }
  if (r != hal::Err::Ok) {
    fail(out, StanzaCondition::InternalServerError, CommandCondition::None, "reconfigure failed: %s",
         hal::err_name(r));
    return false;
  }
  char interval[24];
  format_ms_as_seconds(interval, sizeof interval, s.interval_ms);
  XLOG_INFO(kArea, "%.128s configured telemetry: every %s s, batch %" PRIu32, nz(from), interval, s.batch_max);
  out->status = CommandStatus::Completed;
  out->add_note(NoteType::Info, "telemetry every %s s, %" PRIu32 " reading%s per item", interval, s.batch_max,
                s.batch_max == 1 ? "" : "s");
  if (storage_ == nullptr) {
    out->add_note(NoteType::Warn, "applied, but not persisted (no storage on this device)");
  } else if (const hal::Err p = save_settings(*storage_, options_.settings_key, s); p != hal::Err::Ok) {
    // The new settings are in force; say plainly that a restart loses them.
    XLOG_WARN(kArea, "persisting settings failed: %s", hal::err_name(p));
    out->add_note(NoteType::Error, "applied, but not persisted: %s", hal::err_name(p));
  }
  return true;
}

// --- reboot ---

void CommandRouter::render_reboot(CommandResponse* out) {
  Form& f = out->form;
  f.reset(FormType::Form);
  (void)f.set_title("Reboot the device");
  (void)f.set_instructions("The device goes offline and restarts. Confirm to proceed.");
  (void)f.add_field(FieldType::Boolean, "confirm", "Reboot now?", true);
  (void)f.add_value("0");
  (void)f.add_field(FieldType::TextSingle, "reason", "Reason (optional, logged)");
  if (f.build_error() != hal::Err::Ok) {
    form_overflow(out);
    return;
  }
  out->has_form = true;
  out->status = CommandStatus::Executing;
  out->actions = kActionComplete;
  out->default_action = CommandAction::Complete;
}

bool CommandRouter::submit_reboot(const char* from, const Form& form, CommandResponse* out) {
  const char* confirm = form.value_of("confirm");
  if (confirm == nullptr || confirm[0] == '\0') {
    fail(out, StanzaCondition::BadRequest, CommandCondition::BadPayload, "confirm: required");
    return false;
  }
  const hal::Result<bool> yes = parse_form_bool(confirm);
  if (!yes.ok()) {
    fail(out, StanzaCondition::BadRequest, CommandCondition::BadPayload,
         "confirm: '%.32s' is not a boolean (1, 0, true or false)", confirm);
    return false;
  }
  if (!yes.value()) {
    out->status = CommandStatus::Canceled;
    out->add_note(NoteType::Info, "reboot not confirmed");
    return true;
  }
  const char* reason = form.value_of("reason");
  char why[kCommandTextMax + 64];
  if (reason != nullptr && reason[0] != '\0') {
    std::snprintf(why, sizeof why, "reboot requested by %.60s: %.120s", from, reason);
  } else {
    std::snprintf(why, sizeof why, "reboot requested by %.60s", from);
  }
  XLOG_INFO(kArea, "%s", why);
  const hal::Err e = host_.request_reboot(why);
  if (e != hal::Err::Ok) {
    fail(out, StanzaCondition::InternalServerError, CommandCondition::None, "reboot failed: %s", hal::err_name(e));
    return false;
  }
  out->status = CommandStatus::Completed;
  out->add_note(NoteType::Info, "rebooting");
  return true;
}

// --- status ---

bool CommandRouter::status_line(const char* from, char* buf, size_t cap, CommandError* err) {
  if (!allowed(from, Role::Viewer, "status", err)) return false;
  DiagnosticsInfo d;
  host_.diagnostics(&d);
  char up[32];
  format_uptime(up, sizeof up, d.uptime_s);
  const size_t channels = registry_.channel_count();
  const char* health = d.health[0] != '\0' ? d.health : "healthy";
  const int n = std::snprintf(buf, cap, "%s board, xiot %s, up %s, %zu channel%s, %s%s%s",
                              d.board[0] != '\0' ? d.board : "unknown", d.firmware[0] != '\0' ? d.firmware : "?",
                              up, channels, channels == 1 ? "" : "s", health, d.problem[0] != '\0' ? ": " : "",
                              d.problem);
  if (n < 0 || static_cast<size_t>(n) >= cap) {
    set_error(err, StanzaCondition::InternalServerError, CommandCondition::None, "status line too long");
    return false;
  }
  return true;
}

}  // namespace agent

// The XEP-0050 router: what every command has in common (checks, sessions,
// stage dispatch, errors). What a command does lives in its handler file.
#include <cinttypes>
#include <cstdio>
#include <cstring>

#include "../text_writer.hpp"
#include "agent/commands.hpp"
#include "agent/jid.hpp"
#include "agent/log.hpp"
#include "stage.hpp"

namespace agent {

using cmd::fail;
using cmd::kArea;
using cmd::nz;

namespace {

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

}  // namespace

hal::Result<size_t> format_channel_name(char* buf, size_t cap, const drv::Device& d, size_t channel) {
  detail::TextWriter w(buf, cap);
  w.put(d.name());
  w.put_char('.');
  w.put(d.channel(channel).quantity);
  return w.finish();
}

CommandRouter::CommandRouter(const AclConfig& acl, drv::Registry& registry, hal::MonotonicClock& clock,
                             Rng& rng, CommandHost& host, hal::Storage* storage,
                             const CommandRouterOptions& options)
    : acl_(acl),
      registry_(registry),
      clock_(clock),
      rng_(rng),
      host_(host),
      storage_(storage),
      options_(options),
      commands_(options.commands.entries != nullptr ? options.commands : agent_command_table()) {
  if (options_.settings_key == nullptr) options_.settings_key = kSettingsKey;
  if (options_.session_idle_ms <= 0) options_.session_idle_ms = kCommandSessionIdleMs;
}

Role CommandRouter::role_of(const char* from) const { return agent::role_of(acl_, from); }

bool CommandRouter::allowed(const char* from, Role needed, const char* what, CommandError* err) const {
  const Role held = role_of(from);
  if (held == Role::Stranger) {
    cmd::set_error(err, StanzaCondition::Forbidden, CommandCondition::None, "not authorised");
    return false;
  }
  if (!role_allows(held, needed)) {
    cmd::set_error(err, StanzaCondition::Forbidden, CommandCondition::None, "%s needs the %s role (you are %s)",
                   what, role_name(needed), role_name(held));
    return false;
  }
  return true;
}

size_t CommandRouter::visit_commands(const char* from, CommandVisitor visit, void* ctx) const {
  const Role held = role_of(from);
  if (held == Role::Stranger) return 0;
  size_t n = 0;
  for (size_t i = 0; i < commands_.count; ++i) {
    const CommandInfo& c = commands_.entries[i];
    if (!role_allows(held, c.role)) continue;
    visit(ctx, c);
    ++n;
  }
  return n;
}

size_t CommandRouter::list_commands(const char* from, const CommandInfo** out, size_t cap) const {
  struct Sink {
    const CommandInfo** out;
    size_t cap;
    size_t n;
  } sink{out, cap, 0};
  (void)visit_commands(
      from,
      [](void* ctx, const CommandInfo& c) {
        auto* s = static_cast<Sink*>(ctx);
        if (s->n < s->cap) s->out[s->n++] = &c;
      },
      &sink);
  return sink.n;
}

CommandCall CommandRouter::call_for(const char* from, const Form* form, CommandStageState* state) {
  return CommandCall{from, form, state, registry_, host_, storage_, options_.settings_key, live_sessions()};
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
  s->stage = CommandStageState();
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

CommandRouter::Session* CommandRouter::pick_slot(const char* from) {
  // One bare JID may hold at most kCommandSessionsPerJid sessions: a flood
  // from one account recycles its own oldest session, not other people's.
  size_t mine = 0;
  Session* my_oldest = nullptr;
  for (Session& s : sessions_) {
    if (s.state != SlotState::Live || !same_bare_jid(s.jid, from)) continue;
    ++mine;
    if (my_oldest == nullptr || s.serial < my_oldest->serial) my_oldest = &s;
  }
  if (mine >= kCommandSessionsPerJid) return my_oldest;
  // A free slot, else the oldest tombstone, else the least recently used
  // live session.
  for (Session& s : sessions_) {
    if (s.state == SlotState::Free) return &s;
  }
  for (Session& s : sessions_) {
    if (s.state == SlotState::Expired) return &s;
  }
  Session* slot = nullptr;
  for (Session& s : sessions_) {
    if (slot == nullptr || s.last_used < slot->last_used ||
        (s.last_used == slot->last_used && s.serial < slot->serial)) {
      slot = &s;
    }
  }
  return slot;
}

CommandRouter::Session* CommandRouter::allocate_session(const char* from) {
  if (from == nullptr || std::strlen(from) > kCommandJidMax) return nullptr;
  (void)expire_sessions();
  Session* slot = pick_slot(from);
  if (slot->state == SlotState::Live) {
    XLOG_INFO(kArea, "session limit reached: recycled session %s of %s", slot->id, slot->jid);
  }
  free_session(slot);
  slot->state = SlotState::Live;
  slot->serial = next_serial_;
  make_session_id(slot->id);
  std::snprintf(slot->jid, sizeof slot->jid, "%s", from);
  slot->last_used = clock_.mono_now();
  slot->stage.stage = 1;
  return slot;
}

// --- dispatch ---

void CommandRouter::handle(const CommandRequest& req, CommandResponse* out) {
  out->reset();
  out->node = nz(req.node);
  const CommandInfo* command = admit(req, out);
  if (command == nullptr) return;
  // 6. The session.
  if (req.sessionid == nullptr || req.sessionid[0] == '\0') {
    if (req.action != CommandAction::Execute) {
      fail(out, StanzaCondition::BadRequest, CommandCondition::BadSessionid, "'%s' needs a sessionid",
           command_action_name(req.action));
      return;
    }
    start(*command, req, out);
    return;
  }
  Session* s = open_session_of(*command, req, out);
  if (s != nullptr) resume(s, req, out);
}

const CommandInfo* CommandRouter::admit(const CommandRequest& req, CommandResponse* out) {
  // 1. ACL first: nothing below runs for a stranger, and a stranger learns
  // nothing about which nodes exist.
  const Role held = role_of(req.from);
  if (held == Role::Stranger) {
    // Debug only: anyone on the federated network can send these.
    XLOG_DEBUG(kArea, "refused command '%.64s' from stranger %.128s", nz(req.node), nz(req.from));
    fail(out, StanzaCondition::Forbidden, CommandCondition::None, "not authorised");
    return nullptr;
  }
  // 2. The node.
  const CommandInfo* command = find(req.node);
  if (command == nullptr) {
    fail(out, StanzaCondition::ItemNotFound, CommandCondition::None, "no command '%.64s'", nz(req.node));
    return nullptr;
  }
  out->node = command->node;
  // 3. The role it needs.
  if (!role_allows(held, command->role)) {
    XLOG_INFO(kArea, "refused command '%s' from %s %.128s", command->node, role_name(held), req.from);
    fail(out, StanzaCondition::Forbidden, CommandCondition::None, "'%s' needs the %s role (you are %s)",
         command->node, role_name(command->role), role_name(held));
    return nullptr;
  }
  // 4. The action attribute.
  if (req.action == CommandAction::Malformed) {
    fail(out, StanzaCondition::BadRequest, CommandCondition::MalformedAction,
         "action must be execute, next, prev, complete or cancel");
    return nullptr;
  }
  // 5. A form that did not fit the fixed tables is refused, never truncated.
  if (req.form != nullptr && req.form->build_error() != hal::Err::Ok) {
    fail(out, StanzaCondition::BadRequest, CommandCondition::BadPayload, "form rejected: %s",
         req.form->build_error_text());
    return nullptr;
  }
  return command;
}

CommandRouter::Session* CommandRouter::open_session_of(const CommandInfo& command, const CommandRequest& req,
                                                       CommandResponse* out) {
  Session* s = find_session(req.sessionid);
  if (s == nullptr) {
    fail(out, StanzaCondition::BadRequest, CommandCondition::BadSessionid, "unknown session");
    return nullptr;
  }
  if (!same_full_jid(s->jid, req.from)) {
    // Same answer as for an unknown id: do not confirm that it exists.
    XLOG_WARN(kArea, "session %s of %s used by %.128s", s->id, s->jid, req.from);
    fail(out, StanzaCondition::BadRequest, CommandCondition::BadSessionid, "unknown session");
    return nullptr;
  }
  if (s->command != &command) {
    fail(out, StanzaCondition::BadRequest, CommandCondition::BadSessionid,
         "session belongs to another command");
    return nullptr;
  }
  if (expired(*s, clock_.mono_now())) {
    s->state = SlotState::Expired;
    // XEP-0050 §4.6: a session that timed out is not-allowed + session-expired.
    fail(out, StanzaCondition::NotAllowed, CommandCondition::SessionExpired,
         "session expired after %" PRId64 " s idle", options_.session_idle_ms / 1000);
    return nullptr;
  }
  return s;
}

void CommandRouter::start(const CommandInfo& command, const CommandRequest& req, CommandResponse* out) {
  // 7. The handler.
  if (command.stages == 0) {
    make_session_id(out->sessionid);
    command.execute(call_for(req.from, nullptr, nullptr), out);
    return;
  }
  if (req.form != nullptr) {
    switch (req.form->type()) {
      case FormType::Cancel:
        make_session_id(out->sessionid);
        out->status = CommandStatus::Canceled;
        return;
      case FormType::Submit:
        // One round trip for scripts: an execute that already carries the
        // submitted form is the final stage.
        make_session_id(out->sessionid);
        command.complete(call_for(req.from, req.form, nullptr), out);
        return;
      case FormType::Form:
      case FormType::Result:
        fail(out, StanzaCondition::BadRequest, CommandCondition::BadPayload,
             "expected a submit form, got '%s'", form_type_name(req.form->type()));
        return;
    }
  }
  if (command.precheck != nullptr && command.precheck(call_for(req.from, nullptr, nullptr), out)) {
    make_session_id(out->sessionid);
    return;
  }
  Session* s = allocate_session(req.from);
  if (s == nullptr) {
    fail(out, StanzaCondition::ResourceConstraint, CommandCondition::None,
         "JID longer than %zu bytes cannot hold a session", kCommandJidMax);
    return;
  }
  s->command = &command;
  std::snprintf(out->sessionid, sizeof out->sessionid, "%s", s->id);
  command.execute(call_for(req.from, nullptr, &s->stage), out);
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
  const CommandInfo& command = *s->command;
  CommandAction action = req.action;
  // XEP-0004 §3.1: a form of type cancel means the user gave up.
  if (req.form != nullptr && req.form->type() == FormType::Cancel) action = CommandAction::Cancel;
  // XEP-0050 §3.4: execute on an open session is the stage's default
  // action; every stage here defaults to complete.
  if (action == CommandAction::Execute) action = CommandAction::Complete;
  switch (action) {
    case CommandAction::Cancel:
      free_session(s);
      out->status = CommandStatus::Canceled;
      return;
    case CommandAction::Prev:
      if (s->stage.stage <= 1 || command.prev == nullptr) {
        fail(out, StanzaCondition::BadRequest, CommandCondition::BadAction, "no previous stage");
        return;
      }
      command.prev(call_for(req.from, nullptr, &s->stage), out);
      return;
    case CommandAction::Next: {
      if (s->stage.stage >= command.stages || command.next == nullptr) {
        fail(out, StanzaCondition::BadRequest, CommandCondition::BadAction, "no next stage");
        return;
      }
      const Form* form = submitted(req, out);
      if (form != nullptr) command.next(call_for(req.from, form, &s->stage), out);
      return;
    }
    case CommandAction::Complete: {
      const Form* form = submitted(req, out);
      if (form == nullptr) return;
      command.complete(call_for(req.from, form, &s->stage), out);
      // An error leaves the session open for a corrected submission.
      if (!out->is_error) free_session(s);
      return;
    }
    case CommandAction::Execute:
    case CommandAction::Malformed: break;
  }
  fail(out, StanzaCondition::BadRequest, CommandCondition::MalformedAction, "unexpected action");
}

}  // namespace agent

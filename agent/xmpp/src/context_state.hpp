// Private to agent/xmpp: what one agent::Context keeps besides the libstrophe
// context (its allocation count, logger, sessions and the command scratch),
// shared by context.cpp and session.cpp.
//
// What libstrophe calls without a session pointer (allocator, logger) reaches
// the context's ContextState through its userdata; nothing here is
// process-wide, so two contexts in one process never meet.
//
// Which session a libstrophe log line belongs to: libstrophe 0.12.2 logs with
// the context only, never the conn (src/ctx.c), so within one context:
//  - a line logged while libstrophe calls a session back (conn events, stanza
//    handlers) or while a session calls into it (connecting) is that
//    session's: exact;
//  - "Session resumed successfully." is logged by the stream-management
//    handler right before it raises XMPP_CONN_CONNECT for the same conn
//    (auth.c _handle_sm -> _auth_success): held until that CONNECT, exact;
//  - a login failure ("Cannot authenticate with known methods" after SASL,
//    "Certificate verification FAILED" at the end of the TLS handshake) is
//    the session's that is at that stage of its login, when only one is:
//    exact (always so for xiot-agent). With several at that stage at once
//    (the fleet simulator) the line is held, and the first of them to be
//    disconnected before it logged in takes it: approximate only when
//    another one's login breaks for another reason within the same round trip.
//  - "connection failed, error 111" (ECONNREFUSED) is logged by the event
//    loop right before it disconnects that conn (event.c: the line, then
//    conn_disconnect(), whose DISCONNECT carries error 0, so the handler
//    never learns why): held until the next DISCONNECT, exact.
// The certificate callback cannot help: it carries no userdata and a conn's
// context has no public userdata getter in 0.12.
#pragma once

#include <strophe.h>

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "agent/chat.hpp"
#include "agent/commands.hpp"
#include "agent/desired.hpp"
#include "agent/forms.hpp"
#include "agent/log.hpp"
#include "agent/xmpp/session.hpp"

namespace agent {

// Size of the scratch a <command/> answer is formatted into. A full Form
// (4 KiB of text) escaped and wrapped fits comfortably; a larger answer is
// refused with resource-constraint rather than cut.
constexpr size_t kCommandXmlCap = 16384;

// What one <command/> or chat message needs: the request's form, the
// router's answer and the text it is formatted into. Used only while one
// stanza is handled, so the sessions of a context share one.
struct CommandScratch {
  Form form;
  CommandResponse response;
  char xml[kCommandXmlCap];
  char chat_body[kChatBodyMax + 2];  // one byte over the bot's limit: it says "too long"
  DesiredItem desired;  // a desired-state notification, read and applied in one go
};

/// What a libstrophe log line says about a login.
enum class LoginLine : uint8_t { Other, Resumed, AuthFailed, TlsFailed, ConnectRefused };

inline LoginLine classify(const char* area, const char* msg) {
  if (std::strcmp(area, "auth") == 0 && std::strstr(msg, "Cannot authenticate") != nullptr) {
    return LoginLine::AuthFailed;
  }
  // SASL EXTERNAL refused, and no password to fall back to (a certificate login).
  if (std::strcmp(area, "auth") == 0 && std::strstr(msg, "Password hasn't been set") != nullptr) {
    return LoginLine::AuthFailed;
  }
  if (std::strcmp(area, "xmpp") == 0 && std::strstr(msg, "Got unexpected reply to SASL") != nullptr) {
    return LoginLine::AuthFailed;
  }
  if (std::strcmp(area, "tls") == 0 && std::strstr(msg, "Certificate verification FAILED") != nullptr) {
    return LoginLine::TlsFailed;
  }
  if (std::strstr(msg, "Session resumed successfully") != nullptr) return LoginLine::Resumed;
  constexpr const char* kConnectFailed = "connection failed, error ";
  if (std::strcmp(area, "xmpp") == 0 && std::strncmp(msg, kConnectFailed, std::strlen(kConnectFailed)) == 0 &&
      std::atoi(msg + std::strlen(kConnectFailed)) == ECONNREFUSED) {
    return LoginLine::ConnectRefused;
  }
  return LoginLine::Other;
}


struct ContextState {
  xmpp_mem_t mem{};
  xmpp_log_t log{};
  int64_t outstanding = 0;
  std::vector<Session*> sessions;  ///< this context's sessions; grows per session, never per stanza
  Session* current = nullptr;      ///< the session libstrophe is working for right now (see above)
  size_t online_sessions = 0;      ///< of them, how many are Online (Session::set_state())
  bool resumed_held = false;       ///< a "resumed" line waits for its CONNECT
  bool refused_held = false;       ///< a "connection failed, error 111" line waits for its DISCONNECT
  uint32_t failures_held = 0;      ///< login-failure lines no session could be named for yet
  std::string held_area;           ///< the latest of them
  std::string held_msg;

  void remove(const Session* s) {
    for (size_t i = 0; i < sessions.size(); ++i) {
      if (sessions[i] == s) {
        sessions[i] = sessions.back();
        sessions.pop_back();
        break;
      }
    }
    if (current == s) current = nullptr;
  }

  /// Every session of the context is online (and there is one). Asked on
  /// every loop turn: a count kept by Session::set_state(), not a walk over
  /// up to a thousand sessions.
  bool all_online() const { return !sessions.empty() && online_sessions == sessions.size(); }

  /// Attributes one libstrophe line (see above); returns the session it was
  /// given to, or nullptr.
  Session* on_line(const char* area, const char* msg) {
    if (current != nullptr) {
      current->on_log(area, msg);
      return current;
    }
    const LoginLine kind = classify(area, msg);
    if (kind == LoginLine::Resumed) {
      resumed_held = true;
    } else if (kind == LoginLine::ConnectRefused) {
      refused_held = true;
    } else if (kind == LoginLine::AuthFailed || kind == LoginLine::TlsFailed) {
      const Session::LoginStage stage =
          kind == LoginLine::AuthFailed ? Session::LoginStage::Authenticating : Session::LoginStage::Handshaking;
      Session* only = nullptr;
      size_t n = 0;
      for (Session* s : sessions) {
        if (s->login_stage() != stage) continue;
        only = s;
        ++n;
      }
      if (n == 1) {
        only->on_log(area, msg);
        return only;
      }
      if (n > 1) {
        ++failures_held;
        held_area = area;
        held_msg = msg;
      }
    }
    return nullptr;
  }

  /// At a DISCONNECT: whether libstrophe just said the connect was refused (once).
  bool take_refused() {
    const bool r = refused_held;
    refused_held = false;
    return r;
  }

  /// `s` was disconnected before it logged in: gives it a held login
  /// failure, if any.
  void take_held_failure(Session* s) {
    if (failures_held == 0) return;
    --failures_held;
    s->on_log(held_area.c_str(), held_msg.c_str());
  }

  bool take_resumed() {
    const bool r = resumed_held;
    resumed_held = false;
    return r;
  }
};

// While libstrophe calls a session back (or a session calls into libstrophe),
// the context knows it is working for that session (log attribution), and
// lines carry that session's log tag (if it has one: the single agent has
// none, and nothing changes then).
class SessionScope {
 public:
  SessionScope(ContextState& st, Session* s)
      : st_(st), prev_session_(st.current), prev_tag_(log_tag()), tag_(s->log_tag()) {
    st_.current = s;
    if (tag_ != nullptr) log_set_tag(tag_);
  }
  ~SessionScope() {
    st_.current = prev_session_;
    if (tag_ != nullptr) log_set_tag(prev_tag_);
  }
  SessionScope(const SessionScope&) = delete;
  SessionScope& operator=(const SessionScope&) = delete;

 private:
  ContextState& st_;
  Session* prev_session_;
  const char* prev_tag_;
  const char* tag_;
};

}  // namespace agent

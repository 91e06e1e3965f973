// libstrophe 0.12 session. See session.hpp for the contract.
//
// Facts this file relies on (verified against libstrophe 0.12 and Prosody 0.12):
//  - libstrophe has no reconnect and no XEP-0199 ping: both are ours, driven by
//    tick() on the injected monotonic clock.
//  - A failed SASL login surfaces only as the log line "Cannot authenticate with
//    known methods" (area "auth") followed by a disconnect: on_log() catches it.
//  - A server certificate that fails verification shows as the "tls" log line
//    "Certificate verification FAILED, result=..."; the certfail handler is
//    often not called at all. on_log() catches that too.
//  - XMPP_CONN_CONNECT fires before the server's <enabled/>/<failed/> for stream
//    management; stanzas sent before it are not tracked, so we wait (Settling).
//  - Reconnecting the same xmpp_conn_t resumes the XEP-0198 session when the
//    server still has it; CONNECT fires again either way.
//  - A handler that returns 0 is removed: every persistent handler returns 1.
//  - xmpp_send_raw() (libstrophe 0.12.2 conn.c: send_raw(..., XMPP_QUEUE_USER))
//    queues the text exactly like xmpp_send() queues a serialised stanza: when
//    stream management is on, _send_raw() appends <r/> after it, and event.c
//    moves each written USER item into the SM queue with h = sm_sent_nr++.
//    So a raw send is counted, acknowledged and resent on resumption like any
//    stanza, PROVIDED one raw send carries exactly one complete stanza. The
//    agent's own stanzas (publishes, command answers, presence) go out raw
//    from one reused buffer: no parse into a tree and no serialising again
//    (~250k instructions per stanza saved). Nothing parses that text any
//    more, so everything in it is escaped where it is formatted
//    (xml_escape_append here, the formatters in agent/core); the unit tests
//    parse what these formatters make (test_raw_stanzas.cpp).
//  - A resumption refused by the server costs libstrophe 0.12.2 a second login
//    (see on_conn_event); so when the server's session is known to be gone
//    (the stream ended with a stream error, a connect was refused, or more
//    than the advertised resumption window passed) the next attempt starts on
//    a fresh connection object instead (connect_now()).
#include "agent/xmpp/session.hpp"

#include <strophe.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>

#include "agent/acl.hpp"
#include "agent/caps.hpp"
#include "agent/description.hpp"
#include "agent/jid.hpp"
#include "agent/log.hpp"
#include "agent/xml_text.hpp"
#include "agent/xmpp/stanza_desired.hpp"
#include "agent/xmpp/stanza_form.hpp"
#include "agent/xmpp/stanza_text.hpp"
#include "context_state.hpp"
#include "xiot/version.hpp"

namespace agent {
namespace {

constexpr const char* kNsDiscoInfo = "http://jabber.org/protocol/disco#info";
constexpr const char* kNsDiscoItems = "http://jabber.org/protocol/disco#items";
constexpr const char* kNsCaps = "http://jabber.org/protocol/caps";
constexpr const char* kNsPing = "urn:xmpp:ping";
constexpr const char* kNsVersion = "jabber:iq:version";
constexpr const char* kNsTime = "urn:xmpp:time";
constexpr const char* kNsSm = "urn:xmpp:sm:3";
constexpr const char* kNsStanzas = "urn:ietf:params:xml:ns:xmpp-stanzas";
constexpr const char* kNsPubsub = "http://jabber.org/protocol/pubsub";
constexpr const char* kNsPubsubOwner = "http://jabber.org/protocol/pubsub#owner";
constexpr const char* kNsPubsubEvent = "http://jabber.org/protocol/pubsub#event";
// XEP-0163 §4: the device wants notifications of its own desired node.
constexpr const char* kDesiredNotify = "urn:xiot:desired:0+notify";
// The desired node's setup IQ ids.
constexpr const char* kDesiredCreateId = "dsn-create";
constexpr const char* kDesiredAffGetId = "dsn-affget";
constexpr const char* kDesiredAffId = "dsn-aff";
constexpr const char* kCapsNode = "urn:xiot:agent";
// Telemetry publish IQ ids: the prefix says whether publish-options went with it.
constexpr const char* kPubPrefix = "pub-";
constexpr const char* kPubOptionsPrefix = "pbo-";

// Sorted as XEP-0115 §5.1 would sort them (caps_ver sorts anyway).
constexpr const char* kFeatures[] = {
    kNsCaps, kCommandsXmlns, kNsDiscoInfo, kNsDiscoItems, kDataFormsXmlns, kNsPing, kNsVersion, kNsTime,
    kDesiredNotify,
};
// XEP-0050 §2.2 / §2.3: the commands node and each command node.
constexpr Identity kCommandListIdentity = {"automation", "command-list", "", "Commands"};
constexpr const char* kCommandNodeFeatures[] = {kCommandsXmlns, kDataFormsXmlns};
constexpr Identity kIdentity = {"client", "bot", "", "xiot"};

// ---- trampolines ----------------------------------------------------------
void conn_handler(xmpp_conn_t* /*conn*/, xmpp_conn_event_t event, int error,
                  xmpp_stream_error_t* stream_error, void* userdata) {
  // The condition ("system-shutdown", what Prosody sends when it stops) and
  // the text when there is one: non-null whenever the stream ended with an error.
  const char* se = nullptr;
  char se_buf[160];
  if (stream_error != nullptr) {
    const char* condition = "undefined-condition";
    for (xmpp_stanza_t* c = stream_error->stanza != nullptr ? xmpp_stanza_get_children(stream_error->stanza) : nullptr;
         c != nullptr; c = xmpp_stanza_get_next(c)) {
      const char* name = xmpp_stanza_is_tag(c) ? xmpp_stanza_get_name(c) : nullptr;
      if (name != nullptr && std::strcmp(name, "text") != 0) {
        condition = name;
        break;
      }
    }
    if (stream_error->text != nullptr) {
      std::snprintf(se_buf, sizeof se_buf, "%s (%s)", condition, stream_error->text);
    } else {
      std::snprintf(se_buf, sizeof se_buf, "%s", condition);
    }
    se = se_buf;
  }
  Session* s = static_cast<Session*>(userdata);
  SessionScope scope(s->context_state(), s);
  s->on_conn_event(static_cast<int>(event), error, se);
}
// libstrophe refuses a second handler with the same function and userdata
// (whatever the name filter), so each stanza kind gets its own function: one
// instantiation per (member, kind).
template <int (Session::*Member)(xmpp_stanza_t*), int Kind>
int trampoline(xmpp_conn_t* /*conn*/, xmpp_stanza_t* stanza, void* userdata) {
  Session* s = static_cast<Session*>(userdata);
  SessionScope scope(s->context_state(), s);
  return (s->*Member)(stanza);
}
constexpr xmpp_handler iq_handler = &trampoline<&Session::on_stanza, 0>;
constexpr xmpp_handler presence_handler = &trampoline<&Session::on_stanza, 1>;
constexpr xmpp_handler message_handler = &trampoline<&Session::on_message, 0>;
constexpr xmpp_handler sm_handler = &trampoline<&Session::on_sm, 0>;
// Never accepts an unverified certificate. Which session it was is learnt
// from the "Certificate verification FAILED" line the handshake logs next
// (the callback carries no userdata; see above).
int certfail_handler(const xmpp_tlscert_t* /*cert*/, const char* errormsg) {
  XLOG_DEBUG("xmpp", "server certificate refused: %s", errormsg != nullptr ? errormsg : "?");
  return 0;
}

xmpp_stanza_t* new_child(xmpp_ctx_t* ctx, xmpp_stanza_t* parent, const char* name, const char* ns) {
  xmpp_stanza_t* c = xmpp_stanza_new(ctx);
  xmpp_stanza_set_name(c, name);
  if (ns != nullptr) xmpp_stanza_set_ns(c, ns);
  xmpp_stanza_add_child_ex(parent, c, 0);  // parent takes our reference
  return c;
}

void add_text_child(xmpp_ctx_t* ctx, xmpp_stanza_t* parent, const char* name, const char* text) {
  xmpp_stanza_t* c = new_child(ctx, parent, name, nullptr);
  xmpp_stanza_t* t = xmpp_stanza_new(ctx);
  xmpp_stanza_set_text(t, text);
  xmpp_stanza_add_child_ex(c, t, 0);
}

// The RFC 6120 defined condition of an IQ error ("item-not-found"), or
// `fallback` when there is none.
const char* error_condition(xmpp_stanza_t* iq, const char* fallback) {
  xmpp_stanza_t* err = xmpp_stanza_get_child_by_name(iq, "error");
  for (xmpp_stanza_t* c = err ? xmpp_stanza_get_children(err) : nullptr; c; c = xmpp_stanza_get_next(c)) {
    const char* ns = xmpp_stanza_get_ns(c);
    if (ns != nullptr && std::strcmp(ns, kNsStanzas) == 0) return xmpp_stanza_get_name(c);
  }
  return fallback;
}

// Opens the text of a reply to `iq` of `type` in `b` (stanza_text.hpp).
void open_reply(std::string& b, xmpp_stanza_t* iq, const char* type) {
  reply_open_text(b, type, xmpp_stanza_get_id(iq), xmpp_stanza_get_from(iq));
}

// A reply to `iq` of `type` ("result"/"error"). Unlike libstrophe's own
// reply helper, copes with a request that has no 'from' (server-originated,
// e.g. a roster push), which would hand libstrophe a NULL attribute value.
xmpp_stanza_t* make_reply(xmpp_ctx_t* ctx, xmpp_stanza_t* iq, const char* type) {
  xmpp_stanza_t* r = xmpp_iq_new(ctx, type, nullptr);
  const char* id = xmpp_stanza_get_id(iq);
  if (id != nullptr) xmpp_stanza_set_id(r, id);
  const char* from = xmpp_stanza_get_from(iq);
  if (from != nullptr) xmpp_stanza_set_to(r, from);
  return r;
}

}  // namespace


// ---- Session ---------------------------------------------------------------
Session::Session(Context& ctx, const AgentConfig& cfg, hal::MonotonicClock& clock, Rng& rng)
    : ctx_(ctx),
      cfg_(cfg),
      clock_(clock),
      backoff_(static_cast<uint32_t>(cfg.xmpp.reconnect_base_s * 1000.0),
               static_cast<uint32_t>(cfg.xmpp.reconnect_cap_s * 1000.0), rng) {
  full_jid_ = cfg_.xmpp.jid + "/" + cfg_.xmpp.resource;
  domain_ = cfg_.xmpp.jid.substr(cfg_.xmpp.jid.find('@') + 1);
  const size_t n_features = sizeof(kFeatures) / sizeof(kFeatures[0]);
  if (!caps_ver(caps_ver_, sizeof(caps_ver_), &kIdentity, 1, kFeatures, n_features).ok()) {
    caps_ver_[0] = '\0';
  }
  caps_node_ver_ = std::string(kCapsNode) + "#" + caps_ver_;
  out_buf_.reserve(4096);
  ctx_.state_->sessions.push_back(this);
}

Session::~Session() {
  if (conn_ != nullptr) xmpp_conn_release(conn_);
  set_state(State::Stopped);  // leaves the context's online count
  ctx_.state_->remove(this);
}

void Session::set_state(State next) {
  // The context's count of online sessions follows every change into and out
  // of Online, so the loop asks it instead of visiting every session.
  if (next == State::Online && state_ != State::Online) ++ctx_.state_->online_sessions;
  if (next != State::Online && state_ == State::Online) --ctx_.state_->online_sessions;
  state_ = next;
}

ContextState& Session::context_state() { return *ctx_.state_; }

Session::LoginStage Session::login_stage() const {
  if (state_ != State::Connecting || conn_ == nullptr || xmpp_conn_is_connected(conn_) == 0) {
    return LoginStage::None;
  }
  // TLS is mandatory (STARTTLS or direct): SASL starts on a secured stream.
  return xmpp_conn_is_secured(conn_) != 0 ? LoginStage::Authenticating : LoginStage::Handshaking;
}

hal::Err Session::start() {
  const hal::Err e = new_connection();
  if (e != hal::Err::Ok) return e;
  connect_now();
  return hal::Err::Ok;
}

hal::Err Session::new_connection() {
  xmpp_conn_t* conn = xmpp_conn_new(ctx_.raw());
  if (conn == nullptr) return hal::Err::Io;
  long flags = XMPP_CONN_FLAG_MANDATORY_TLS;
  if (cfg_.xmpp.tls == TlsMode::Direct) flags = XMPP_CONN_FLAG_LEGACY_SSL;
  if (xmpp_conn_set_flags(conn, flags) != XMPP_EOK) {
    xmpp_conn_release(conn);
    return hal::Err::InvalidArgument;
  }
  // Always set the JID, also for SASL EXTERNAL (a certificate whose first
  // extension is the subjectAltName hides its xmppAddr from libstrophe).
  xmpp_conn_set_jid(conn, full_jid_.c_str());
  if (!cfg_.xmpp.client_cert.empty()) {
    xmpp_conn_set_client_cert(conn, cfg_.xmpp.client_cert.c_str(), cfg_.xmpp.client_key.c_str());
  } else {
    xmpp_conn_set_pass(conn, cfg_.xmpp.password.c_str());
  }
  if (!cfg_.xmpp.ca_file.empty()) xmpp_conn_set_cafile(conn, cfg_.xmpp.ca_file.c_str());
  xmpp_conn_set_certfail_handler(conn, certfail_handler);
  xmpp_conn_set_sockopt_callback(conn, xmpp_sockopt_cb_keepalive);
  if (conn_ != nullptr) {
    // The old object goes with its stream-management state (the stale queue).
    xmpp_conn_release(conn_);
  }
  conn_ = conn;
  return hal::Err::Ok;
}

bool Session::resumption_hopeless(hal::MonoTime now) const {
  if (server_session_gone_) return true;
  // Prosody hibernates a session for smacks_hibernation_time (600 s by
  // default) and says so in <enabled max='600'/>; past that it is gone.
  return sm_max_s_ != 0 && now.us_since(link_lost_at_) > static_cast<int64_t>(sm_max_s_) * 1000000;
}

void Session::connect_now() {
  if (sm_was_enabled_ && resumption_hopeless(clock_.mono_now())) {
    // Resuming cannot work: do not let libstrophe try (a refused resumption
    // costs two logins, see on_conn_event). A fresh connection object logs in
    // once; the outbox resends what was not acknowledged (link_epoch).
    XLOG_INFO("xmpp", "the server's session is gone (%s): logging in afresh",
              server_session_gone_ ? "stream error or refused connection" : "resumption window passed");
    sm_was_enabled_ = false;
    fresh_connection_next_ = true;
    ++stats_.fresh_starts;
  }
  server_session_gone_ = false;
  if (fresh_connection_next_) {
    fresh_connection_next_ = false;
    if (new_connection() != hal::Err::Ok) {
      schedule_reconnect("cannot create a connection object");
      return;
    }
  }
  ++stats_.connect_attempts;
  auth_failed_ = false;
  resumed_ = false;
  tls_error_.clear();
  set_state(State::Connecting);
  XLOG_INFO("xmpp", "connecting to %s:%u as %s", cfg_.xmpp.host.c_str(), cfg_.xmpp.port,
            cfg_.xmpp.jid.c_str());
  int rc = 0;
  {
    SessionScope scope(context_state(), this);  // what libstrophe logs now is ours
    rc = xmpp_connect_client(conn_, cfg_.xmpp.host.c_str(), cfg_.xmpp.port, conn_handler, this);
  }
  if (rc != XMPP_EOK) {
    schedule_reconnect("connect failed to start");
  }
}

void Session::schedule_reconnect(const char* why) {
  set_state(State::Waiting);
  const uint32_t delay = backoff_.next_delay_ms();
  next_connect_ = clock_.mono_now().plus_ms(delay);
  XLOG_WARN("xmpp", "offline (%s); reconnecting in %u ms (attempt %u)", why, delay, backoff_.attempt());
}

void Session::on_log(const char* area, const char* msg) {
  switch (classify(area, msg)) {
    case LoginLine::AuthFailed: auth_failed_ = true; break;
    case LoginLine::TlsFailed: {
      // libstrophe 0.12 (OpenSSL) reports a failed chain here, often without
      // calling the certfail handler ("Certificate was not presented by peer"
      // inside its verify callback). "..., result=X509_V_ERR_...(20)".
      const char* result = std::strstr(msg, "result=");
      tls_error_ = result != nullptr ? result + 7 : "certificate verification failed";
      break;
    }
    case LoginLine::ConnectRefused:
      // No server process behind the port: whatever session it held is gone.
      server_session_gone_ = true;
      break;
    case LoginLine::Resumed:
      // CONNECT follows <resumed/> directly: stream management is already settled.
      resumed_ = true;
      break;
    case LoginLine::Other: break;
  }
}

void Session::on_conn_event(int event, int error, const char* stream_error) {
  ContextState& st = context_state();
  if (event == XMPP_CONN_CONNECT) {
    if (st.take_resumed()) resumed_ = true;
    ++stats_.logins;
    server_session_gone_ = false;
    auth_failed_ = false;  // logged in: a held failure line was another session's
    set_state(State::Settling);
    XLOG_INFO("xmpp", "logged in as %s", xmpp_conn_get_bound_jid(conn_) ? xmpp_conn_get_bound_jid(conn_) : full_jid_.c_str());
    // Handlers may survive a reconnect; delete first so they are never doubled.
    xmpp_handler_delete(conn_, iq_handler);
    xmpp_handler_delete(conn_, presence_handler);
    xmpp_handler_delete(conn_, sm_handler);
    xmpp_handler_delete(conn_, message_handler);
    xmpp_handler_add(conn_, iq_handler, nullptr, "iq", nullptr, this);
    xmpp_handler_add(conn_, presence_handler, nullptr, "presence", nullptr, this);
    xmpp_handler_add(conn_, sm_handler, kNsSm, nullptr, nullptr, this);
    xmpp_handler_add(conn_, message_handler, nullptr, "message", nullptr, this);
    settle_deadline_ = clock_.mono_now().plus_ms(3000);
    if (!resumed_ && sm_was_enabled_) {
      // libstrophe 0.12.2 bug: when a stream-management session cannot be
      // resumed (the server restarted, or the resumption window passed), it
      // binds anew but keeps the old session's counters and queue, so no
      // acknowledgement ever frees a queued stanza again: memory grows with
      // every stanza sent (measured: ~670 blocks per reconnect at 20
      // items/s). Go round once more on a fresh connection object, which
      // starts clean; the outbox resends whatever was not acknowledged.
      XLOG_INFO("xmpp", "stream management did not resume; logging in again on a fresh connection");
      sm_was_enabled_ = false;
      fresh_connection_next_ = true;
      ++stats_.fresh_reconnects;
      set_state(State::Connecting);
      xmpp_disconnect(conn_);
      return;
    }
    if (resumed_) {
      XLOG_INFO("xmpp", "stream management session resumed");
      go_online();
    }
    return;
  }
  // XMPP_CONN_DISCONNECT (XMPP_CONN_FAIL is never raised by libstrophe 0.12).
  const bool was_online = state_ == State::Online || state_ == State::Settling;
  ++stats_.disconnects;
  if (was_online) link_lost_at_ = clock_.mono_now();
  // Signals that the server no longer holds our stream-management session:
  // the stream ended with a stream error (a stream error ends the session
  // rather than hibernating it; Prosody sends system-shutdown when it stops
  // gracefully), or a connection attempt was refused (context_state.hpp: no server
  // process, its sessions are gone). A timeout or a stream cut without a word
  // proves nothing (a cut network; the server may still hold the session).
  const bool refused = st.take_refused();  // always taken: it is this DISCONNECT's
  if (stream_error != nullptr || refused) server_session_gone_ = true;
  ping_outstanding_ = false;
  if (state_ == State::Stopped) return;
  if (state_ == State::Connecting && !auth_failed_ && tls_error_.empty()) st.take_held_failure(this);
  if (auth_failed_) {
    fatal_ = Fatal::AuthFailed;
    fatal_message_ = "authentication failed for " + cfg_.xmpp.jid + " at " + cfg_.xmpp.host + ":" +
                     std::to_string(cfg_.xmpp.port) +
                     (cfg_.xmpp.client_cert.empty()
                          ? " (wrong password or unknown account)"
                          : " (SASL EXTERNAL: the server refused the client certificate " + cfg_.xmpp.client_cert +
                                ": another CA, expired, not yet valid, revoked or no such account; see its log)");
    set_state(State::Stopped);
    XLOG_ERROR("xmpp", "%s", fatal_message_.c_str());
    return;
  }
  if (!tls_error_.empty()) {
    fatal_ = Fatal::TlsUntrusted;
    fatal_message_ = "TLS certificate of " + cfg_.xmpp.host + ":" + std::to_string(cfg_.xmpp.port) +
                     " not trusted (" + tls_error_ + "); ca_file: " +
                     (cfg_.xmpp.ca_file.empty() ? std::string("system store") : cfg_.xmpp.ca_file);
    set_state(State::Stopped);
    XLOG_ERROR("xmpp", "%s", fatal_message_.c_str());
    return;
  }
  if (fresh_connection_next_) {
    // Our own disconnect right after a login that did not resume: at once.
    set_state(State::Waiting);
    next_connect_ = clock_.mono_now();
    return;
  }
  char why[160];
  if (stream_error != nullptr) {
    std::snprintf(why, sizeof(why), "stream error: %s", stream_error);
  } else if (error != 0) {
    std::snprintf(why, sizeof(why), "%s", std::strerror(error));
  } else {
    std::snprintf(why, sizeof(why), "%s", was_online ? "connection closed" : "connection refused or closed");
  }
  schedule_reconnect(why);
}

int Session::on_sm(xmpp_stanza_t* stanza) {
  const char* name = xmpp_stanza_get_name(stanza);
  if (state_ == State::Settling && name != nullptr &&
      (std::strcmp(name, "enabled") == 0 || std::strcmp(name, "failed") == 0 ||
       std::strcmp(name, "resumed") == 0)) {
    XLOG_DEBUG("xmpp", "stream management: %s", name);
    go_online();
  }
  // libstrophe now counts stanzas for this session. Not for a session we are
  // already leaving (its <enabled/> can arrive after our disconnect).
  if (name != nullptr && (state_ == State::Settling || state_ == State::Online) &&
      (std::strcmp(name, "enabled") == 0 || std::strcmp(name, "resumed") == 0)) {
    sm_was_enabled_ = true;
    if (std::strcmp(name, "enabled") == 0) {
      // XEP-0198 §3: the longest the server keeps the session after the link dies.
      const char* max = xmpp_stanza_get_attribute(stanza, "max");
      sm_max_s_ = max != nullptr ? static_cast<uint32_t>(std::strtoul(max, nullptr, 10)) : 0;
    }
  }
  return 1;
}

void Session::go_online() {
  set_state(State::Online);
  ++link_epoch_;
  backoff_.reset();
  if (!resumed_) {
    // A new session: the first publish to each node creates it or checks its
    // configuration. A resumed stream keeps what the old one settled.
    options_wanted_[0] = true;
    options_wanted_[1] = true;
  }
  next_ping_ = clock_.mono_now().plus_ms(static_cast<int64_t>(cfg_.xmpp.ping_interval_s) * 1000);
  // RFC 6121 §2.2 and §3.1.3: a server delivers subscription requests only to
  // "interested" resources, those that requested the roster; pending requests
  // stored while we were offline are delivered after this and our presence.
  xmpp_stanza_t* roster = xmpp_iq_new(ctx_.raw(), "get", "roster-1");
  new_child(ctx_.raw(), roster, "query", "jabber:iq:roster");
  xmpp_send(conn_, roster);
  xmpp_stanza_release(roster);
  // The device node first: the server handles our stanzas in order, so a
  // subscriber that reacts to the presence already reads the new description.
  publish_device();
  send_presence();
  // A resumed stream is still in the room; a new session is not (XEP-0045
  // occupancy ends with the session that joined).
  if (!resumed_ && muc_state_ != MucState::None) muc_state_ = MucState::None;
  if (!muc_room_.empty() && muc_state_ != MucState::Joined) join_room();
  // After the presence: the server answers it with the node's last item
  // (caps +notify), which needs no node setup; a new stream sets the node
  // up again (the ACL may have changed since the last login).
  if (!resumed_ && desired_ != nullptr) setup_desired_node();
  // What libstrophe holds for this context right now (all its sessions): the
  // soak watches this across reconnects to tell growth from a leak.
  XLOG_INFO("xmpp", "online (libstrophe blocks in use: %lld)", static_cast<long long>(ctx_.outstanding_blocks()));
}

uint32_t Session::tick() {
  const hal::MonoTime now = clock_.mono_now();
  uint32_t wait_ms = 1000;
  switch (state_) {
    case State::Waiting:
      if (now >= next_connect_) {
        connect_now();
      } else {
        wait_ms = static_cast<uint32_t>((next_connect_.us_since(now) + 999) / 1000);
      }
      break;
    case State::Settling:
      // A server that answers neither <enabled/> nor <failed/> must not keep
      // telemetry back for ever.
      if (now >= settle_deadline_) go_online();
      break;
    case State::Online:
      if (now >= next_ping_) {
        if (ping_outstanding_) {
          // No answer to the previous ping for a whole interval: the link is
          // dead (detected within two ping intervals of the link dying).
          ++stats_.ping_timeouts;
          XLOG_WARN("xmpp", "ping timeout after %u s: link considered dead", cfg_.xmpp.ping_interval_s);
          ping_outstanding_ = false;
          set_state(State::Connecting);  // on_conn_event will schedule the reconnect
          xmpp_disconnect(conn_);
          break;
        }
        char id[24];
        std::snprintf(id, sizeof(id), "ping-%u", ++ping_seq_);
        xmpp_stanza_t* iq = xmpp_iq_new(ctx_.raw(), "get", id);
        xmpp_stanza_set_to(iq, domain_.c_str());
        new_child(ctx_.raw(), iq, "ping", kNsPing);
        xmpp_send(conn_, iq);
        xmpp_stanza_release(iq);
        ++stats_.pings_sent;
        ping_outstanding_ = true;
        next_ping_ = now.plus_ms(static_cast<int64_t>(cfg_.xmpp.ping_interval_s) * 1000);
      }
      if (device_retry_pending_ && now >= device_retry_at_) publish_device();
      if (!muc_room_.empty() && (muc_state_ == MucState::Waiting || muc_state_ == MucState::Joining)) {
        if (now >= muc_retry_at_) {
          if (muc_state_ == MucState::Joining) muc_retry_later("no answer to the join");  // logs once
          join_room();
        }
        const int64_t until_room = muc_retry_at_.us_since(now) / 1000;
        if (until_room < wait_ms) wait_ms = until_room < 1 ? 1 : static_cast<uint32_t>(until_room);
      }
      {
        const int64_t until_ping = next_ping_.us_since(now) / 1000;
        if (until_ping < wait_ms) wait_ms = until_ping < 1 ? 1 : static_cast<uint32_t>(until_ping);
      }
      break;
    default:
      break;
  }
  return wait_ms;
}

int Session::on_ping_result(xmpp_stanza_t* stanza) {
  // Any answer, even an error, proves the link is alive.
  (void)stanza;
  ping_outstanding_ = false;
  return 0;
}

void Session::set_presence(const char* show, const char* status) {
  show_ = show != nullptr ? show : "";
  status_ = status != nullptr ? status : "";
  if (online()) send_presence();
}

void Session::set_device_description(const char* xml) {
  device_xml_ = xml != nullptr ? xml : "";
  if (online()) publish_device();
}

void Session::send_out_buf() {
  // One raw send = one complete stanza (see the top of this file).
  xmpp_send_raw(conn_, out_buf_.data(), out_buf_.size());
}

void Session::send_presence() {
  std::string& b = out_buf_;
  b.clear();
  b += "<presence>";
  if (!show_.empty()) {
    b += "<show>";
    xml_escape_append(b, show_.c_str());
    b += "</show>";
  }
  if (!status_.empty()) {
    b += "<status>";
    xml_escape_append(b, status_.c_str());
    b += "</status>";
  }
  if (caps_ver_[0] != '\0') {
    b += "<c xmlns='";
    b += kNsCaps;
    b += "' hash='sha-1' node='";
    b += kCapsNode;
    b += "' ver='";
    xml_escape_append(b, caps_ver_);  // base64: may hold '/' and '+', never a quote; escaped anyway
    b += "'/>";
  }
  b += "</presence>";
  send_out_buf();
}

void Session::make_publish_iq(const char* iq_id, const char* to, const char* node, const char* item_id,
                              const char* payload, size_t len, bool options) {
  publish_iq_text(out_buf_, iq_id, to, node, item_id, payload, len, options);
  if (options) ++stats_.publish_options_sent;
}

void Session::publish_device() {
  device_retry_pending_ = false;
  if (device_xml_.empty()) return;
  char iq_id[24];
  std::snprintf(iq_id, sizeof(iq_id), "dev-%u", ++device_seq_);
  const bool options = options_wanted_[1];
  options_wanted_[1] = false;
  device_options_seq_ = options ? device_seq_ : 0;
  make_publish_iq(iq_id, nullptr, kDeviceNode, kDeviceItemId, device_xml_.data(), device_xml_.size(), options);
  send_out_buf();
}

int Session::on_device_result(xmpp_stanza_t* stanza) {
  // Only the answer to the latest publish matters (an older one was replaced).
  char latest[24];
  std::snprintf(latest, sizeof latest, "dev-%u", device_seq_);
  const char* id = xmpp_stanza_get_id(stanza);
  if (id == nullptr || std::strcmp(id, latest) != 0) return 0;
  const char* type = xmpp_stanza_get_type(stanza);
  if (type != nullptr && std::strcmp(type, "result") == 0) {
    device_retry_ms_ = 0;
    return 0;
  }
  const char* condition = error_condition(stanza, "unknown");
  if (device_options_seq_ != device_seq_ && std::strcmp(condition, "precondition-not-met") == 0) {
    // Published without options and the node wants them: again, with them, now.
    options_wanted_[1] = true;
    publish_device();
    return 0;
  }
  // Refused (seen on a loaded ejabberd right after login): the node is the
  // reported state operators read, so try again, backing off to a minute.
  device_retry_ms_ = device_retry_ms_ == 0 ? 1000 : (device_retry_ms_ >= 30000 ? 60000 : device_retry_ms_ * 2);
  device_retry_pending_ = true;
  device_retry_at_ = clock_.mono_now().plus_ms(device_retry_ms_);
  XLOG_WARN("xmpp", "publishing the device description was refused (%s); trying again in %u ms", condition,
            device_retry_ms_);
  return 0;
}

hal::Err Session::publish(const char* item_id, const char* payload, size_t len) {
  if (!online()) return hal::Err::NotReady;
  // "pub-<item>" without publish-options, "pbo-<item>" with them: the answer
  // tells which one was refused (see on_publish_result).
  const bool options = options_wanted_[0];
  options_wanted_[0] = false;
  char iq_id[TelemetryPublisher::kItemIdCap + 5];
  std::snprintf(iq_id, sizeof(iq_id), "%s%s", options ? kPubOptionsPrefix : kPubPrefix, item_id);
  const char* to = cfg_.telemetry.service == "pep" ? nullptr : cfg_.telemetry.service.c_str();
  make_publish_iq(iq_id, to, cfg_.telemetry.node.c_str(), item_id, payload, len, options);
  send_out_buf();
  ++stats_.items_sent;
  return hal::Err::Ok;
}

int Session::on_publish_result(xmpp_stanza_t* stanza) {
  const char* id = xmpp_stanza_get_id(stanza);
  const char* type = xmpp_stanza_get_type(stanza);
  const bool with_options = id != nullptr && std::strncmp(id, kPubOptionsPrefix, 4) == 0;
  const char* item = (id != nullptr && (with_options || std::strncmp(id, kPubPrefix, 4) == 0)) ? id + 4 : "";
  const bool ok = type != nullptr && std::strcmp(type, "result") == 0;
  const char* condition = "";
  PublishOutcome outcome = PublishOutcome::Accepted;
  if (ok) {
    ++stats_.items_acked;
    // What libstrophe holds now, every 10 acknowledged items: flat while
    // stream management frees what the server acknowledged (the raw sends
    // included); the faults test reads it.
    if (stats_.items_acked % 10 == 0) {
      XLOG_DEBUG("xmpp", "%llu items acknowledged (libstrophe blocks in use: %lld)",
                 static_cast<unsigned long long>(stats_.items_acked), static_cast<long long>(ctx_.outstanding_blocks()));
    }
  } else {
    ++stats_.items_rejected;
    xmpp_stanza_t* err = xmpp_stanza_get_child_by_name(stanza, "error");
    condition = error_condition(stanza, "");
    const bool no_node = std::strcmp(condition, "item-not-found") == 0;
    if (!with_options && (no_node || std::strcmp(condition, "precondition-not-met") == 0)) {
      // XEP-0060 §7.1.5: the node's configuration is not what we publish
      // with (or the node is gone); the same item again, now with
      // publish-options (refused again: reported as any refusal).
      options_wanted_[0] = true;
      XLOG_INFO("xmpp", "publish of item %s: %s without publish-options; again with them", item, condition);
      if (listener_ != nullptr) listener_->on_publish_result(item, PublishOutcome::ResendNow, condition);
      return 0;
    }
    if (with_options && no_node) {
      // The node could not be created just now (ejabberd under a login
      // storm aborts the node-creating Mnesia transaction and answers
      // item-not-found; a pubsub component whose node is not provisioned
      // yet): not a verdict on the reading. Keep it and try again later,
      // with publish-options once more; the journal holds it meanwhile.
      options_wanted_[0] = true;
      XLOG_WARN("xmpp", "publish of item %s: the node %s does not exist and was not created; trying again later",
                item, cfg_.telemetry.node.c_str());
      if (listener_ != nullptr) listener_->on_publish_result(item, PublishOutcome::Retry, condition);
      return 0;
    }
    // RFC 6120 §8.3.2: "wait" means retry after waiting; anything else will
    // not work better the next time.
    const char* err_type = err != nullptr ? xmpp_stanza_get_type(err) : nullptr;
    outcome = err_type != nullptr && std::strcmp(err_type, "wait") == 0 ? PublishOutcome::Retry
                                                                          : PublishOutcome::Rejected;
    XLOG_WARN("xmpp", "publish of item %s rejected: %s (%s)", item, condition, err_type != nullptr ? err_type : "?");
  }
  if (listener_ != nullptr) listener_->on_publish_result(item, outcome, condition);
  return 0;
}

int Session::on_stanza(xmpp_stanza_t* stanza) {
  const char* name = xmpp_stanza_get_name(stanza);
  const char* type = xmpp_stanza_get_type(stanza);
  if (name == nullptr) return 1;
  if (std::strcmp(name, "presence") == 0) {
    if (handle_muc_presence(stanza, type)) return 1;
    if (type != nullptr) handle_subscription(stanza, type);
  } else if (std::strcmp(name, "iq") == 0 && type != nullptr) {
    if (std::strcmp(type, "get") == 0 || std::strcmp(type, "set") == 0) {
      handle_iq(stanza);
    } else if (std::strcmp(type, "result") == 0 || std::strcmp(type, "error") == 0) {
      // The answers to our own IQs, told apart by their id's prefix. Not
      // libstrophe id handlers: 0.12.2 keeps an entry (and a copy of the id)
      // in its id-handler table for every id ever registered (handler.c
      // re-adds the emptied list under the id), so one per publish would grow
      // the connection's memory by two blocks per item for its whole life.
      const char* id = xmpp_stanza_get_id(stanza);
      if (id == nullptr) return 1;
      if (std::strncmp(id, kPubPrefix, 4) == 0 || std::strncmp(id, kPubOptionsPrefix, 4) == 0) {
        (void)on_publish_result(stanza);
      } else if (std::strncmp(id, "dev-", 4) == 0) {
        (void)on_device_result(stanza);
      } else if (std::strncmp(id, "ping-", 5) == 0) {
        (void)on_ping_result(stanza);
      } else if (std::strncmp(id, "dsn-", 4) == 0) {
        on_desired_node_result(stanza);
      }
    }
  }
  return 1;
}

void Session::handle_subscription(xmpp_stanza_t* stanza, const char* type) {
  if (std::strcmp(type, "subscribe") != 0) return;
  const char* from = xmpp_stanza_get_from(stanza);
  if (from == nullptr) return;
  char* bare = xmpp_jid_bare(ctx_.raw(), from);
  if (bare == nullptr) return;
  const Role role = role_of(cfg_.acl, bare);
  xmpp_ctx_t* ctx = ctx_.raw();
  auto send_type = [&](const char* t) {
    xmpp_stanza_t* p = xmpp_presence_new(ctx);
    xmpp_stanza_set_type(p, t);
    xmpp_stanza_set_to(p, bare);
    xmpp_send(conn_, p);
    xmpp_stanza_release(p);
  };
  if (role == Role::Stranger) {
    XLOG_INFO("acl", "refused presence subscription from %s (not in the ACL)", bare);
    send_type("unsubscribed");
  } else {
    XLOG_INFO("acl", "approved presence subscription from %s (%s)", bare, role_name(role));
    send_type("subscribed");
    send_type("subscribe");  // mutual, so the device sees its operators too
    // The server now sends our current presence to the new subscriber itself
    // (RFC 6121 §3.1.5); no broadcast needed.
  }
  xmpp_free(ctx, bare);
}

void Session::reply_error(xmpp_stanza_t* iq, const char* type, const char* condition) {
  // `type` and `condition` are our own constants (RFC 6120 names).
  std::string& b = out_buf_;
  open_reply(b, iq, "error");
  b += "<error type='";
  b += type;
  b += "'><";
  b += condition;
  b += " xmlns='";
  b += kNsStanzas;
  b += "'/></error></iq>";
  send_out_buf();
}

void Session::reply_empty(xmpp_stanza_t* iq) {
  open_reply(out_buf_, iq, "result");
  out_buf_ += "</iq>";
  send_out_buf();
}

void Session::reply_disco_info(xmpp_stanza_t* iq, const char* node) {
  // XEP-0030: the entity itself (and our caps node#ver, XEP-0115 §6.2), the
  // commands node (XEP-0050 §2.2) and each command node the sender may run
  // (§2.3). A command node the sender may not run is item-not-found, as for
  // a stranger every command node is: probing reveals nothing.
  const Identity* identity = &kIdentity;
  const char* const* features = kFeatures;
  size_t n_features = sizeof(kFeatures) / sizeof(kFeatures[0]);
  Identity command_identity = {"automation", "command-node", "", ""};
  if (node != nullptr && caps_node_ver_ != node) {
    if (std::strcmp(node, kCommandsXmlns) == 0) {
      identity = &kCommandListIdentity;
      features = kCommandNodeFeatures;
      n_features = 1;
    } else {
      // The router's table: what disco#items lists is what disco#info describes.
      const CommandInfo* info = router_ != nullptr ? router_->find(node) : nullptr;
      if (info == nullptr || !role_allows(sender_role(iq), info->role)) {
        reply_error(iq, "cancel", "item-not-found");
        return;
      }
      command_identity.name = info->name;
      identity = &command_identity;
      features = kCommandNodeFeatures;
      n_features = sizeof(kCommandNodeFeatures) / sizeof(kCommandNodeFeatures[0]);
    }
  }
  xmpp_ctx_t* ctx = ctx_.raw();
  xmpp_stanza_t* r = make_reply(ctx_.raw(), iq, "result");
  xmpp_stanza_t* q = new_child(ctx, r, "query", kNsDiscoInfo);
  if (node != nullptr) xmpp_stanza_set_attribute(q, "node", node);
  xmpp_stanza_t* id = new_child(ctx, q, "identity", nullptr);
  xmpp_stanza_set_attribute(id, "category", identity->category);
  xmpp_stanza_set_attribute(id, "type", identity->type);
  if (identity->name != nullptr && identity->name[0] != '\0') xmpp_stanza_set_attribute(id, "name", identity->name);
  for (size_t i = 0; i < n_features; ++i) {
    xmpp_stanza_t* fe = new_child(ctx, q, "feature", nullptr);
    xmpp_stanza_set_attribute(fe, "var", features[i]);
  }
  xmpp_send(conn_, r);
  xmpp_stanza_release(r);
}

void Session::reply_disco_items(xmpp_stanza_t* iq, const char* node) {
  // The commands node lists what the sender's role may run (a stranger: an
  // empty list), one item per entry of the router's table; the entity and
  // each command node have no items.
  const bool commands_node = node != nullptr && std::strcmp(node, kCommandsXmlns) == 0;
  if (node != nullptr && !commands_node &&
      (router_ != nullptr ? router_->find(node) : find_command(node)) == nullptr) {
    reply_error(iq, "cancel", "item-not-found");
    return;
  }
  xmpp_ctx_t* ctx = ctx_.raw();
  xmpp_stanza_t* r = make_reply(ctx, iq, "result");
  xmpp_stanza_t* q = new_child(ctx, r, "query", kNsDiscoItems);
  if (node != nullptr) xmpp_stanza_set_attribute(q, "node", node);
  const char* from = xmpp_stanza_get_from(iq);
  if (commands_node && router_ != nullptr && from != nullptr) {
    struct Items {
      xmpp_ctx_t* ctx;
      xmpp_stanza_t* query;
      const char* jid;
    } items{ctx, q, xmpp_conn_get_bound_jid(conn_)};
    if (items.jid == nullptr) items.jid = full_jid_.c_str();
    (void)router_->visit_commands(
        from,
        [](void* c, const CommandInfo& command) {
          auto* it = static_cast<Items*>(c);
          xmpp_stanza_t* item = new_child(it->ctx, it->query, "item", nullptr);
          xmpp_stanza_set_attribute(item, "jid", it->jid);
          xmpp_stanza_set_attribute(item, "node", command.node);
          xmpp_stanza_set_attribute(item, "name", command.name);
        },
        &items);
  }
  xmpp_send(conn_, r);
  xmpp_stanza_release(r);
}

Role Session::sender_role(xmpp_stanza_t* stanza) const {
  const char* from = xmpp_stanza_get_from(stanza);
  return from != nullptr ? role_of(cfg_.acl, from) : Role::Stranger;
}

void Session::reply_with_xml(xmpp_stanza_t* request, const char* type, const char* child) {
  open_reply(out_buf_, request, type);
  out_buf_ += child;
  out_buf_ += "</iq>";
  send_out_buf();
}

void Session::set_command_handlers(CommandRouter* router, ChatBot* chat) {
  router_ = router;
  chat_ = chat;
  if ((router != nullptr || chat != nullptr) && cmd_ == nullptr) cmd_ = &ctx_.command_scratch();
}

void Session::set_desired_sink(DesiredSink* sink) {
  desired_ = sink;
  if (sink != nullptr && cmd_ == nullptr) cmd_ = &ctx_.command_scratch();
}

void Session::setup_desired_node() {
  // XEP-0060 §8.1.3 create-and-configure. An existing node answers
  // `conflict` and keeps its configuration (we made it; nobody else may
  // create nodes on our PEP service). Prosody's PEP accepts access models
  // presence, whitelist and open; presence lets viewers read the node too.
  // docs/desired-state.md "The node".
  std::string& b = out_buf_;
  b.clear();
  b += "<iq type='set' id='";
  b += kDesiredCreateId;
  b += "'><pubsub xmlns='";
  b += kNsPubsub;
  b += "'><create node='";
  b += kDesiredNode;
  b += "'/><configure><x xmlns='jabber:x:data' type='submit'>"
       "<field var='FORM_TYPE' type='hidden'><value>http://jabber.org/protocol/pubsub#node_config</value></field>"
       "<field var='pubsub#access_model'><value>presence</value></field>"
       "<field var='pubsub#publish_model'><value>publishers</value></field>"
       "<field var='pubsub#max_items'><value>1</value></field>"
       "<field var='pubsub#persist_items'><value>true</value></field>"
       "<field var='pubsub#send_last_published_item'><value>on_sub_and_presence</value></field>"
       // Prosody 13 and ejabberd put the publisher on notifications only with
       // this; Prosody 0.12 ignores the field and always does.
       "<field var='pubsub#itemreply'><value>publisher</value></field>"
       "</x></configure></pubsub></iq>";
  send_out_buf();
}

void Session::set_desired_publishers(xmpp_stanza_t* current) {
  // XEP-0060 §8.9.2: every owner and operator a publisher, and every other
  // publisher the server lists (`current`, may be null) none. A pattern
  // ("*@domain") cannot be an affiliation: such users can publish only where
  // the server lets them otherwise; the device's own ACL check stays.
  std::string& b = out_buf_;
  b.clear();
  b += "<iq type='set' id='";
  b += kDesiredAffId;
  b += "'><pubsub xmlns='";
  b += kNsPubsubOwner;
  b += "'><affiliations node='";
  b += kDesiredNode;
  b += "'>";
  size_t n = 0;
  for (const std::vector<std::string>* list : {&cfg_.acl.owners, &cfg_.acl.operators}) {
    for (const std::string& jid : *list) {
      if (jid.empty() || jid[0] == '*' || jid.find('@') == std::string::npos) continue;
      b += "<affiliation jid='";
      xml_escape_append(b, jid.c_str());
      b += "' affiliation='publisher'/>";
      ++n;
    }
  }
  for (xmpp_stanza_t* a = current != nullptr ? xmpp_stanza_get_children(current) : nullptr; a != nullptr;
       a = xmpp_stanza_get_next(a)) {
    const char* name = xmpp_stanza_is_tag(a) ? xmpp_stanza_get_name(a) : nullptr;
    const char* jid = name != nullptr && std::strcmp(name, "affiliation") == 0 ? xmpp_stanza_get_attribute(a, "jid")
                                                                              : nullptr;
    const char* aff = jid != nullptr ? xmpp_stanza_get_attribute(a, "affiliation") : nullptr;
    if (aff == nullptr || std::strcmp(aff, "publisher") != 0) continue;  // the owner (us) stays
    const Role role = role_of(cfg_.acl, jid);
    if (role == Role::Owner || role == Role::Operator) continue;
    b += "<affiliation jid='";
    xml_escape_append(b, jid);
    b += "' affiliation='none'/>";
    XLOG_INFO("desired", "%s is no longer a publisher of %s (not an owner or operator)", jid, kDesiredNode);
    ++n;
  }
  b += "</affiliations></pubsub></iq>";
  if (n == 0) {
    XLOG_WARN("desired", "no owner or operator JID to make a publisher of %s", kDesiredNode);
    return;
  }
  send_out_buf();
}

void Session::on_desired_node_result(xmpp_stanza_t* stanza) {
  const char* id = xmpp_stanza_get_id(stanza);
  const char* type = xmpp_stanza_get_type(stanza);
  const bool ok = type != nullptr && std::strcmp(type, "result") == 0;
  const char* condition = ok ? "" : error_condition(stanza, "unknown");
  if (std::strcmp(id, kDesiredCreateId) == 0) {
    if (ok || std::strcmp(condition, "conflict") == 0) {
      XLOG_DEBUG("desired", "node %s %s", kDesiredNode, ok ? "created" : "exists");
      // XEP-0060 §8.9.1: the affiliations now, so that JIDs no longer in
      // the ACL lose theirs in the same set.
      std::string& b = out_buf_;
      b.clear();
      b += "<iq type='get' id='";
      b += kDesiredAffGetId;
      b += "'><pubsub xmlns='";
      b += kNsPubsubOwner;
      b += "'><affiliations node='";
      b += kDesiredNode;
      b += "'/></pubsub></iq>";
      send_out_buf();
    } else {
      XLOG_WARN("desired", "creating the node %s was refused (%s): desired state cannot be published to this device",
                kDesiredNode, condition);
    }
  } else if (std::strcmp(id, kDesiredAffGetId) == 0) {
    // A server that cannot list them still gets the publishers set.
    xmpp_stanza_t* pubsub = ok ? find_child(stanza, "pubsub", kNsPubsubOwner) : nullptr;
    set_desired_publishers(pubsub != nullptr ? find_child(pubsub, "affiliations", nullptr) : nullptr);
  } else if (std::strcmp(id, kDesiredAffId) == 0 && !ok) {
    XLOG_WARN("desired", "making owners and operators publishers of %s was refused (%s)", kDesiredNode, condition);
  }
}

void Session::handle_event(xmpp_stanza_t* message) {
  // XEP-0060 §7.1.2.1 / XEP-0163: only our own PEP service speaks for our
  // node; an event from anyone else (a contact's PEP, a spoof) is ignored.
  const char* from = xmpp_stanza_get_from(message);
  const char* own = cfg_.xmpp.jid.c_str();
  size_t i = 0;
  for (; from[i] != '\0' && own[i] != '\0'; ++i) {
    const auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
    if (lower(from[i]) != lower(own[i])) return;
  }
  if (from[i] != own[i]) return;
  xmpp_stanza_t* event = find_child(message, "event", kNsPubsubEvent);
  xmpp_stanza_t* items = event != nullptr ? find_child(event, "items", nullptr) : nullptr;
  const char* node = items != nullptr ? xmpp_stanza_get_attribute(items, "node") : nullptr;
  if (node == nullptr || std::strcmp(node, kDesiredNode) != 0) return;
  // The last <item/> is the newest (a node with max_items 1 sends one).
  xmpp_stanza_t* item = nullptr;
  for (xmpp_stanza_t* c = xmpp_stanza_get_children(items); c != nullptr; c = xmpp_stanza_get_next(c)) {
    const char* name = xmpp_stanza_is_tag(c) ? xmpp_stanza_get_name(c) : nullptr;
    if (name != nullptr && std::strcmp(name, "item") == 0) item = c;
  }
  if (item == nullptr) return;  // a retraction: the desired state stays as applied
  DesiredItem& d = cmd_->desired;
  desired_from_item(item, &d);
  desired_->on_desired(d);
}

void Session::set_log_tag(const char* tag) { log_tag_ = tag != nullptr ? tag : ""; }

void Session::handle_command(xmpp_stanza_t* iq, xmpp_stanza_t* command) {
  CommandScratch& k = *cmd_;
  const char* from = xmpp_stanza_get_from(iq);
  CommandRequest req;
  req.from = from != nullptr ? from : "";
  req.node = xmpp_stanza_get_attribute(command, "node");
  req.sessionid = xmpp_stanza_get_attribute(command, "sessionid");
  req.action = parse_command_action(xmpp_stanza_get_attribute(command, "action"));
  xmpp_stanza_t* x = find_child(command, "x", kDataFormsXmlns);
  if (x != nullptr) {
    form_from_stanza(x, &k.form);
    req.form = &k.form;
  }
  if (req.node == nullptr) req.node = "";
  router_->handle(req, &k.response);
  ++stats_.commands;
  const CommandResponse& resp = k.response;
  if (resp.is_error) {
    ++stats_.command_errors;
    if (resp.err.condition == StanzaCondition::Forbidden && role_of(cfg_.acl, req.from) == Role::Stranger) {
      XLOG_INFO("acl", "refused command '%.64s' from %s (not in the ACL)", req.node, req.from);
    } else {
      XLOG_DEBUG("cmd", "'%.64s' from %s: %s%s%s %s", req.node, req.from,
                 stanza_condition_name(resp.err.condition), resp.err.app != CommandCondition::None ? "/" : "",
                 command_condition_name(resp.err.app), resp.err.text);
    }
    if (!format_command_error_xml(k.xml, sizeof k.xml, resp.err).ok()) {
      reply_error(iq, "cancel", "internal-server-error");
      return;
    }
    reply_with_xml(iq, "error", k.xml);
    return;
  }
  if (resp.status != CommandStatus::Executing) {
    XLOG_INFO("cmd", "'%s' for %s: %s", resp.node, req.from, command_status_name(resp.status));
  }
  if (!format_command_xml(k.xml, sizeof k.xml, resp).ok()) {
    XLOG_WARN("cmd", "answer to '%s' does not fit %zu bytes", resp.node, sizeof k.xml);
    reply_error(iq, "wait", "resource-constraint");
    return;
  }
  reply_with_xml(iq, "result", k.xml);
}

int Session::on_message(xmpp_stanza_t* stanza) {
  // DESIGN.md "Chat, for people": type chat only (not groupchat, normal,
  // headline or error), with a body. The bot checks the ACL first and stays
  // silent for strangers.
  const char* type = xmpp_stanza_get_type(stanza);
  const char* from = xmpp_stanza_get_from(stanza);
  if (type != nullptr && from != nullptr && std::strcmp(type, "error") == 0 && !muc_room_.empty()) {
    const char* slash = std::strchr(from, '/');
    const size_t bare_len = slash != nullptr ? static_cast<size_t>(slash - from) : std::strlen(from);
    if (equal_ci(from, bare_len, muc_room_.c_str(), muc_room_.size()) && muc_state_ == MucState::Joined) {
      // The room refused a message (it no longer counts us as an occupant:
      // the service restarted). Join again at once; the message is lost.
      char why[96];
      std::snprintf(why, sizeof why, "a message was refused: %s", error_condition(stanza, "unknown"));
      muc_retry_later(why);
      muc_retry_at_ = clock_.mono_now().plus_ms(1000);
      return 1;
    }
  }
  if (desired_ != nullptr && from != nullptr && (type == nullptr || std::strcmp(type, "headline") == 0 ||
                                                 std::strcmp(type, "normal") == 0)) {
    handle_event(stanza);
    return 1;
  }
  if (chat_ == nullptr || type == nullptr || from == nullptr || std::strcmp(type, "chat") != 0) return 1;
  xmpp_stanza_t* body = find_child(stanza, "body", nullptr);
  if (body == nullptr) return 1;  // chat states and receipts
  CommandScratch& k = *cmd_;
  element_text(body, k.chat_body, sizeof k.chat_body);
  const char* reply = chat_->reply(from, k.chat_body);
  if (reply == nullptr) {
    if (role_of(cfg_.acl, from) == Role::Stranger) XLOG_DEBUG("acl", "ignored chat from %s", from);
    return 1;
  }
  xmpp_ctx_t* ctx = ctx_.raw();
  xmpp_stanza_t* m = xmpp_message_new(ctx, "chat", from, nullptr);
  xmpp_message_set_body(m, reply);
  xmpp_stanza_t* thread = find_child(stanza, "thread", nullptr);
  // Keep the conversation's thread. A copy: a stanza is linked into one tree.
  if (thread != nullptr) xmpp_stanza_add_child_ex(m, xmpp_stanza_copy(thread), 0);
  xmpp_send(conn_, m);
  xmpp_stanza_release(m);
  ++stats_.chats;
  return 1;
}

void Session::set_muc_room(const char* room, const char* nick) {
  const std::string r = room != nullptr ? room : "";
  std::string occupant;
  if (!r.empty()) occupant = r + "/" + (nick != nullptr && nick[0] != '\0' ? nick : cfg_.xmpp.jid.c_str());
  if (r == muc_room_ && occupant == muc_occupant_) return;
  if (online() && (muc_state_ == MucState::Joined || muc_state_ == MucState::Joining)) {
    muc_leave_text(out_buf_, muc_occupant_.c_str());
    send_out_buf();
    XLOG_INFO("alerts", "left room %s", muc_room_.c_str());
  }
  muc_state_ = MucState::None;
  muc_room_ = r;
  muc_occupant_ = occupant;
  muc_last_error_.clear();
  if (online() && !muc_room_.empty()) join_room();
}

void Session::join_room() {
  if (!online() || muc_room_.empty()) return;
  muc_join_text(out_buf_, muc_occupant_.c_str());
  send_out_buf();
  ++stats_.muc_joins;
  muc_state_ = MucState::Joining;
  muc_retry_at_ = clock_.mono_now().plus_ms(kMucRetryMs);  // no answer by then: again
  XLOG_DEBUG("alerts", "joining room %s", muc_occupant_.c_str());
}

void Session::muc_retry_later(const char* why) {
  muc_state_ = MucState::Waiting;
  muc_retry_at_ = clock_.mono_now().plus_ms(kMucRetryMs);
  // Once per distinct reason: a room that stays locked must not fill the log.
  if (muc_last_error_ != why) {
    muc_last_error_ = why;
    XLOG_WARN("alerts", "room %s: %s; joining again every %u s", muc_occupant_.c_str(), why, kMucRetryMs / 1000);
  }
}

bool Session::handle_muc_presence(xmpp_stanza_t* stanza, const char* type) {
  if (muc_room_.empty()) return false;
  const char* from = xmpp_stanza_get_from(stanza);
  if (from == nullptr) return false;
  const char* slash = std::strchr(from, '/');
  const size_t bare_len = slash != nullptr ? static_cast<size_t>(slash - from) : std::strlen(from);
  if (!equal_ci(from, bare_len, muc_room_.c_str(), muc_room_.size())) return false;
  // Our occupant: the nick we joined with (XEP-0045 §7.2.3 also marks it
  // with status 110, which a leave of an earlier nick carries too).
  const bool ours = slash != nullptr && std::strcmp(slash + 1, muc_occupant_.c_str() + muc_room_.size() + 1) == 0;
  if (type != nullptr && std::strcmp(type, "error") == 0) {
    if (muc_state_ == MucState::Joining || muc_state_ == MucState::Joined) {
      const char* condition = error_condition(stanza, "unknown");
      char why[128];
      if (std::strcmp(condition, "conflict") == 0) {
        std::snprintf(why, sizeof why, "the nick is in use (conflict)");
      } else {
        std::snprintf(why, sizeof why, "join refused: %s", condition);
      }
      muc_retry_later(why);
    }
    return true;
  }
  if (!ours) return true;  // another occupant: nothing for us
  if (type == nullptr) {
    bool created = false;
    xmpp_stanza_t* x = find_child(stanza, "x", "http://jabber.org/protocol/muc#user");
    for (xmpp_stanza_t* c = x != nullptr ? xmpp_stanza_get_children(x) : nullptr; c != nullptr;
         c = xmpp_stanza_get_next(c)) {
      const char* n = xmpp_stanza_is_tag(c) ? xmpp_stanza_get_name(c) : nullptr;
      const char* code = n != nullptr && std::strcmp(n, "status") == 0 ? xmpp_stanza_get_attribute(c, "code") : nullptr;
      if (code != nullptr && std::strcmp(code, "201") == 0) created = true;
    }
    if (created) {
      // We made the room (XEP-0045 §10.1): accept the default configuration
      // so it unlocks for the people who join it.
      char id[24];
      std::snprintf(id, sizeof id, "muc-%u", ++muc_seq_);
      muc_instant_room_text(out_buf_, muc_room_.c_str(), id);
      send_out_buf();
    }
    if (muc_state_ != MucState::Joined) {
      muc_state_ = MucState::Joined;
      muc_last_error_.clear();
      XLOG_INFO("alerts", "joined room %s%s", muc_occupant_.c_str(), created ? " (created it)" : "");
    }
    return true;
  }
  if (std::strcmp(type, "unavailable") == 0 && muc_state_ == MucState::Joined) {
    muc_retry_later("left the room (kicked, or the room or its service went away)");
  }
  return true;
}

hal::Err Session::send_groupchat(const char* payload) {
  if (!muc_joined()) return hal::Err::NotReady;
  char id[24];
  std::snprintf(id, sizeof id, "al-%u", ++muc_seq_);
  groupchat_text(out_buf_, muc_room_.c_str(), id, payload);
  send_out_buf();
  ++stats_.groupchats;
  return hal::Err::Ok;
}

void Session::handle_ibb(xmpp_stanza_t* iq, xmpp_stanza_t* payload) {
  const char* from = xmpp_stanza_get_from(iq);
  const char* name = xmpp_stanza_get_name(payload);
  const char* sid = xmpp_stanza_get_attribute(payload, "sid");
  IbbReply r = IbbReply::BadRequest;
  if (std::strcmp(name, "open") == 0) {
    r = ibb_->on_open(from, sid, xmpp_stanza_get_attribute(payload, "block-size"),
                      xmpp_stanza_get_attribute(payload, "stanza"));
  } else if (std::strcmp(name, "data") == 0) {
    // The text into the receiver's fixed buffer: no copy on the heap.
    const size_t len = element_text(payload, ibb_->text_buffer(), IbbReceiver::kTextCap);
    r = ibb_->on_data(from, sid, xmpp_stanza_get_attribute(payload, "seq"),
                      len < IbbReceiver::kTextCap ? len : IbbReceiver::kTextCap);
  } else if (std::strcmp(name, "close") == 0) {
    r = ibb_->on_close(from, sid);
  }
  if (r == IbbReply::Ok) {
    reply_empty(iq);
    return;
  }
  XLOG_WARN("update", "IBB %s from %s refused: %s (%s)", name, from != nullptr ? from : "?", ibb_condition(r),
            ibb_->error());
  reply_error(iq, r == IbbReply::BadRequest ? "modify" : (r == IbbReply::ResourceConstraint ? "wait" : "cancel"),
              ibb_condition(r));
}

void Session::handle_iq(xmpp_stanza_t* iq) {
  xmpp_ctx_t* ctx = ctx_.raw();
  xmpp_stanza_t* payload = xmpp_stanza_get_children(iq);
  while (payload != nullptr && !xmpp_stanza_is_tag(payload)) payload = xmpp_stanza_get_next(payload);
  const char* ns = payload != nullptr ? xmpp_stanza_get_ns(payload) : nullptr;
  const char* type = xmpp_stanza_get_type(iq);
  const bool get = std::strcmp(type, "get") == 0;
  if (ns == nullptr) {
    reply_error(iq, "modify", "bad-request");
    return;
  }
  if (!get && std::strcmp(ns, "jabber:iq:roster") == 0) {
    // A roster push (RFC 6121 §2.1.6): acknowledge it if it comes from our own
    // server (no 'from', or our bare JID); anything else is a spoof, ignored.
    const char* from = xmpp_stanza_get_from(iq);
    if (from == nullptr || cfg_.xmpp.jid == from) reply_empty(iq);
    return;
  }
  if (!get && std::strcmp(ns, kIbbXmlns) == 0) {
    if (ibb_ == nullptr) {
      reply_error(iq, "cancel", "service-unavailable");
    } else {
      handle_ibb(iq, payload);
    }
    return;
  }
  if (!get && std::strcmp(ns, kCommandsXmlns) == 0 && std::strcmp(xmpp_stanza_get_name(payload), "command") == 0) {
    if (router_ == nullptr) {
      reply_error(iq, "cancel", "service-unavailable");
    } else {
      handle_command(iq, payload);
    }
  } else if (get && std::strcmp(ns, kNsDiscoInfo) == 0) {
    reply_disco_info(iq, xmpp_stanza_get_attribute(payload, "node"));
  } else if (get && std::strcmp(ns, kNsDiscoItems) == 0) {
    reply_disco_items(iq, xmpp_stanza_get_attribute(payload, "node"));
  } else if (get && std::strcmp(ns, kNsPing) == 0) {
    reply_empty(iq);
  } else if (get && std::strcmp(ns, kNsVersion) == 0) {
    xmpp_stanza_t* r = make_reply(ctx_.raw(), iq, "result");
    xmpp_stanza_t* q = new_child(ctx, r, "query", kNsVersion);
    add_text_child(ctx, q, "name", "xiot-agent");
    add_text_child(ctx, q, "version", XIOT_VERSION);
    xmpp_send(conn_, r);
    xmpp_stanza_release(r);
  } else if (get && std::strcmp(ns, kNsTime) == 0) {
    const std::time_t now = std::time(nullptr);
    std::tm tm_utc{};
    gmtime_r(&now, &tm_utc);
    char utc[32];
    std::strftime(utc, sizeof(utc), "%Y-%m-%dT%H:%M:%SZ", &tm_utc);
    xmpp_stanza_t* r = make_reply(ctx_.raw(), iq, "result");
    xmpp_stanza_t* t = new_child(ctx, r, "time", kNsTime);
    add_text_child(ctx, t, "tzo", "+00:00");
    add_text_child(ctx, t, "utc", utc);
    xmpp_send(conn_, r);
    xmpp_stanza_release(r);
  } else {
    // RFC 6120 §8.4: an IQ we do not understand.
    reply_error(iq, "cancel", "service-unavailable");
  }
}

void Session::stop(const char* reason) {
  stop_begin(reason);
  const hal::MonoTime deadline = clock_.mono_now().plus_ms(2000);
  while (!stop_done() && clock_.mono_now() < deadline) {
    ctx_.run_once(50);
  }
}

void Session::stop_begin(const char* reason) {
  if (conn_ == nullptr) return;
  const bool connected = xmpp_conn_is_connected(conn_) != 0;
  const State before = state_;
  XLOG_INFO("xmpp",
            "session: %u logins (%u fresh starts, %u fresh reconnects), %u publishes with publish-options, "
            "%llu items sent",
            stats_.logins, stats_.fresh_starts, stats_.fresh_reconnects, stats_.publish_options_sent,
            static_cast<unsigned long long>(stats_.items_sent));
  set_state(State::Stopped);
  muc_state_ = MucState::None;  // the unavailable presence below leaves the room too
  if (!connected) return;
  if (before == State::Online || before == State::Settling) {
    xmpp_stanza_t* pres = xmpp_presence_new(ctx_.raw());
    xmpp_stanza_set_type(pres, "unavailable");
    add_text_child(ctx_.raw(), pres, "status", reason);
    xmpp_send(conn_, pres);
    xmpp_stanza_release(pres);
  }
  closing_ = true;
  xmpp_disconnect(conn_);
}

bool Session::stop_done() const { return !closing_ || xmpp_conn_is_disconnected(conn_) != 0; }

}  // namespace agent

// The operator client over libstrophe; see fleet/client.hpp.
#include "fleet/client.hpp"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <map>

#include "agent/caps.hpp"
#include "agent/xmpp/ca_file.hpp"
#include "strophe_util.hpp"

namespace fleet {
namespace {

constexpr const char* kNsRoster = "jabber:iq:roster";
constexpr const char* kNsDiscoInfo = "http://jabber.org/protocol/disco#info";
constexpr const char* kNsCaps = "http://jabber.org/protocol/caps";
constexpr const char* kNsPing = "urn:xmpp:ping";
constexpr const char* kNsPubsubEvent = "http://jabber.org/protocol/pubsub#event";
constexpr const char* kNsStanzas = "urn:ietf:params:xml:ns:xmpp-stanzas";
constexpr const char* kNsDelay = "urn:xmpp:delay";

// The identity every xiotctl answers disco#info with (XEP-0030 registry:
// client/console = a text-mode client).
constexpr const char* kIdentityCategory = "client";
constexpr const char* kIdentityType = "console";
constexpr const char* kIdentityName = "xiotctl";

// libstrophe's certificate-failure callback has no user data: map the
// context (one per client) back to its client. Keyed by context because
// xmpp_tlscert_get_conn() returns NULL inside that callback in 0.12.2.
std::map<const xmpp_ctx_t*, void*>& ctx_registry() {
  static std::map<const xmpp_ctx_t*, void*> registry;
  return registry;
}

std::string lower_first(std::string s) {
  if (!s.empty()) s[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(s[0])));
  return s;
}

const char* stream_error_name(xmpp_error_type_t t) {
  switch (t) {
    case XMPP_SE_CONFLICT: return "conflict";
    case XMPP_SE_CONN_TIMEOUT: return "connection-timeout";
    case XMPP_SE_HOST_GONE: return "host-gone";
    case XMPP_SE_HOST_UNKNOWN: return "host-unknown";
    case XMPP_SE_NOT_AUTHORIZED: return "not-authorized";
    case XMPP_SE_POLICY_VIOLATION: return "policy-violation";
    case XMPP_SE_RESOURCE_CONSTRAINT: return "resource-constraint";
    case XMPP_SE_SEE_OTHER_HOST: return "see-other-host";
    case XMPP_SE_SYSTEM_SHUTDOWN: return "system-shutdown";
    case XMPP_SE_INTERNAL_SERVER_ERROR: return "internal-server-error";
    default: return "stream error";
  }
}

// An empty <iq type='result'/> answering `iq`. Built by hand: in 0.12
// xmpp_stanza_reply() keeps the request's type and returns NULL for a stanza
// without 'from' (a roster push from our own server).
xmpp_stanza_t* iq_result(xmpp_ctx_t* ctx, xmpp_stanza_t* iq) {
  const char* id = xmpp_stanza_get_id(iq);
  xmpp_stanza_t* r = xmpp_iq_new(ctx, "result", id != nullptr ? id : "");
  const char* from = xmpp_stanza_get_from(iq);
  if (from != nullptr) xmpp_stanza_set_to(r, from);
  return r;
}

// An error answer: <iq type='error'><error type=...><condition/></error></iq>.
xmpp_stanza_t* iq_error(xmpp_ctx_t* ctx, xmpp_stanza_t* iq, const char* type, const char* condition) {
  const char* id = xmpp_stanza_get_id(iq);
  xmpp_stanza_t* r = xmpp_iq_new(ctx, "error", id != nullptr ? id : "");
  const char* from = xmpp_stanza_get_from(iq);
  if (from != nullptr) xmpp_stanza_set_to(r, from);
  xmpp_stanza_t* err = detail::new_element(ctx, "error");
  xmpp_stanza_set_attribute(err, "type", type);
  detail::adopt_child(err, detail::new_element(ctx, condition, "urn:ietf:params:xml:ns:xmpp-stanzas"));
  detail::adopt_child(r, err);
  return r;
}

std::string text_of(xmpp_stanza_t* parent, const char* child_name) {
  xmpp_stanza_t* c = xmpp_stanza_get_child_by_name(parent, child_name);
  if (c == nullptr) return "";
  const char* t = nullptr;
  xmpp_stanza_t* tn = xmpp_stanza_get_children(c);
  if (tn != nullptr && xmpp_stanza_is_text(tn)) t = xmpp_stanza_get_text_ptr(tn);
  return t != nullptr ? t : "";
}

// JIDs compare case-insensitively in their local part and domain (both are
// case-folded by the server's stringprep/PRECIS) and exactly in the resource.
bool same_jid(const std::string& a, const std::string& b) {
  const size_t sa = a.find('/'), sb = b.find('/');
  const std::string ba = a.substr(0, sa), bb = b.substr(0, sb);
  if (ba.size() != bb.size()) return false;
  for (size_t i = 0; i < ba.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(ba[i])) != std::tolower(static_cast<unsigned char>(bb[i]))) {
      return false;
    }
  }
  const std::string ra = sa == std::string::npos ? "" : a.substr(sa);
  const std::string rb = sb == std::string::npos ? "" : b.substr(sb);
  return ra == rb;
}

// A result (its first child element as payload) or an error (its <error/>,
// and the request if echoed back) as an IqReply.
IqReply iq_reply_of(xmpp_stanza_t* st, const std::string& from) {
  IqReply reply;
  reply.from = from;
  const char* type = xmpp_stanza_get_type(st);
  reply.ok = type != nullptr && std::strcmp(type, "result") == 0;
  for (xmpp_stanza_t* c = xmpp_stanza_get_children(st); c != nullptr; c = xmpp_stanza_get_next(c)) {
    if (!xmpp_stanza_is_tag(c)) continue;
    if (reply.ok) {
      reply.payload = detail::to_xml(c, "jabber:client");
      reply.has_payload = true;
      break;
    }
    if (std::strcmp(xmpp_stanza_get_name(c), "error") == 0) {
      reply.error = parse_stanza_error(detail::to_xml(c, "jabber:client"));
    } else if (!reply.has_payload) {
      reply.payload = detail::to_xml(c, "jabber:client");  // the request, echoed back
      reply.has_payload = true;
    }
  }
  if (!reply.ok && reply.error.condition.empty()) reply.error.condition = "undefined-condition";
  return reply;
}

}  // namespace

StanzaError parse_stanza_error(const XmlElement& error) {
  StanzaError e;
  if (const std::string* t = error.attr("type")) e.type = *t;
  for (const auto& c : error.children) {
    if (c.ns == kNsStanzas) {
      if (c.name == "text") {
        e.text = c.text;
      } else if (e.condition.empty()) {
        e.condition = c.name;
      }
    } else if (e.app_condition.empty()) {
      e.app_condition = c.name;
      e.app_ns = c.ns;
    }
  }
  if (e.condition.empty()) e.condition = "undefined-condition";
  return e;
}

struct Client::Strophe {
  Client* self = nullptr;
  xmpp_log_t log{};
  xmpp_ctx_t* ctx = nullptr;
  xmpp_conn_t* conn = nullptr;
  std::exception_ptr pending;  // thrown by a handler, re-thrown by run_once()

  // What went wrong during login, gathered from callbacks and libstrophe's log
  // (it reports refused connections and SASL failures only there).
  std::string tls_untrusted;
  std::string tls_other;
  bool auth_failed = false;
  int socket_error = 0;
  std::string stream_error;
  bool closing = false;
  unsigned next_id = 0;

  std::string new_id(const char* prefix) { return std::string(prefix) + std::to_string(++next_id); }

  /// Sends and drops our reference (xmpp_send does not take it).
  void send(xmpp_stanza_t* s) {
    xmpp_send(conn, s);
    xmpp_stanza_release(s);
  }

  template <typename F>
  int guarded(F&& f) {
    try {
      f();
    } catch (...) {
      if (!pending) pending = std::current_exception();
    }
    return 1;  // handlers stay installed
  }

  static void on_log(void* ud, xmpp_log_level_t level, const char* area, const char* msg) {
    auto* s = static_cast<Strophe*>(ud);
    const std::string a = area != nullptr ? area : "";
    const std::string m = msg != nullptr ? msg : "";
    if (m.rfind("connection failed, error ", 0) == 0) {
      s->socket_error = std::atoi(m.c_str() + std::strlen("connection failed, error "));
    } else if (m.find("Cannot authenticate with known methods") != std::string::npos ||
               (a == "xmpp" && m.rfind("SASL ", 0) == 0 && m.find(" auth failed") != std::string::npos)) {
      s->auth_failed = true;
    } else if (m.find("TLS is not supported, but set as mandatory") != std::string::npos) {
      if (s->tls_other.empty()) s->tls_other = "the server does not offer STARTTLS";
    } else if (m.find("SSL_CTX_load_verify_locations") != std::string::npos) {
      s->tls_other = "cannot load the CA file " + s->self->options_.ca_file;
    } else if (m.rfind("Couldn't start TLS", 0) == 0) {
      if (s->tls_other.empty()) s->tls_other = "TLS handshake failed";
    }
    if (s->self->options_.verbose) {
      static const char* const names[] = {"debug", "info", "warn", "error"};
      std::fprintf(stderr, "xiotctl: [%s] %s: %s\n", names[level], a.c_str(), m.c_str());
    }
  }

  static int on_certfail(const xmpp_tlscert_t* cert, const char* const err) {
    auto it = ctx_registry().find(xmpp_tlscert_get_ctx(cert));
    if (it != ctx_registry().end()) {
      auto* s = static_cast<Strophe*>(it->second);
      const char* subject = xmpp_tlscert_get_string(cert, XMPP_CERT_SUBJECT);
      const char* issuer = xmpp_tlscert_get_string(cert, XMPP_CERT_ISSUER);
      std::string why = err != nullptr ? err : "verification failed";
      why += " (certificate ";
      why += subject != nullptr ? subject : "?";
      why += ", issued by ";
      why += issuer != nullptr ? issuer : "?";
      why += "; trusted CA: ";
      why += s->self->options_.ca_file.empty() ? "system store" : s->self->options_.ca_file;
      why += ")";
      if (s->tls_untrusted.empty()) s->tls_untrusted = why;
    }
    return 0;  // never connect to an unverified server
  }

  static void on_conn(xmpp_conn_t*, xmpp_conn_event_t event, int error,
                      xmpp_stream_error_t* stream_error, void* ud) {
    auto* s = static_cast<Strophe*>(ud);
    s->guarded([&] { s->self->handle_conn_event(event, error, stream_error); });
  }
  static int on_message(xmpp_conn_t*, xmpp_stanza_t* st, void* ud) {
    auto* s = static_cast<Strophe*>(ud);
    return s->guarded([&] { s->self->handle_message(st); });
  }
  static int on_presence(xmpp_conn_t*, xmpp_stanza_t* st, void* ud) {
    auto* s = static_cast<Strophe*>(ud);
    return s->guarded([&] { s->self->handle_presence(st); });
  }
  static int on_iq(xmpp_conn_t*, xmpp_stanza_t* st, void* ud) {
    auto* s = static_cast<Strophe*>(ud);
    return s->guarded([&] { s->self->handle_iq(st); });
  }
  static int on_roster_result(xmpp_conn_t*, xmpp_stanza_t* st, void* ud) {
    auto* s = static_cast<Strophe*>(ud);
    s->guarded([&] { s->self->handle_roster_result(st); });
    return 0;  // one-shot id handler
  }
};

Client::Client(ConnectionOptions options) : options_(std::move(options)), s_(new Strophe) {
  static const bool initialized = [] {
    xmpp_initialize();
    return true;
  }();
  (void)initialized;
  s_->self = this;
  s_->log.handler = &Strophe::on_log;
  s_->log.userdata = s_.get();
  features_ = {kNsCaps, kNsDiscoInfo, kNsPing};
}

Client::~Client() {
  if (s_->conn != nullptr) xmpp_conn_release(s_->conn);
  if (s_->ctx != nullptr) {
    ctx_registry().erase(s_->ctx);
    xmpp_ctx_free(s_->ctx);
  }
}

void Client::add_feature(const std::string& var) {
  if (std::find(features_.begin(), features_.end(), var) == features_.end()) features_.push_back(var);
}

std::string Client::bound_jid() const {
  const char* j = s_->conn != nullptr ? xmpp_conn_get_bound_jid(s_->conn) : nullptr;
  return j != nullptr ? j : "";
}

std::string Client::endpoint() const {
  const std::string host = options_.host.empty() ? jid_domain(options_.jid) : options_.host;
  return host + ":" + std::to_string(options_.port);
}

void Client::connect(Deadline deadline) {
  if (state_ != State::Idle) throw Error(Exit::Usage, "Client::connect() called twice");
  validate_options(options_);

  compute_caps_ver();

  // Trust exactly this CA: keeps "verified against --ca-file" literal.
  agent::use_ca_file_for_openssl_defaults(options_.ca_file.c_str(), agent::SystemCaDirectory::Ignore);

  s_->ctx = xmpp_ctx_new(nullptr, &s_->log);
  s_->conn = s_->ctx != nullptr ? xmpp_conn_new(s_->ctx) : nullptr;
  if (s_->conn == nullptr) throw Error(Exit::Connect, "out of memory");
  ctx_registry()[s_->ctx] = s_.get();
  configure_connection();
  start_connecting();
  wait_until_logged_in(deadline);
  send_initial_presence();
}

/// XEP-0115 §5.1: the `ver` of our identity and features.
void Client::compute_caps_ver() {
  std::vector<const char*> feats;
  for (const auto& f : features_) feats.push_back(f.c_str());
  const agent::Identity id{kIdentityCategory, kIdentityType, "", kIdentityName};
  char ver[agent::kCapsVerLen + 1];
  auto r = agent::caps_ver(ver, sizeof ver, &id, 1, feats.data(), feats.size());
  if (!r.ok()) throw Error(Exit::Usage, "cannot compute the caps hash");
  caps_ver_.assign(ver, r.value());
}

/// Mandatory TLS, the credentials, the CA, keep-alive and our stanza handlers.
void Client::configure_connection() {
  xmpp_conn_set_flags(s_->conn, XMPP_CONN_FLAG_MANDATORY_TLS |
                                     (options_.stream_management ? 0UL : XMPP_CONN_FLAG_DISABLE_SM));
  xmpp_conn_set_jid(s_->conn, options_.jid.c_str());
  xmpp_conn_set_pass(s_->conn, options_.password.c_str());
  if (!options_.ca_file.empty()) xmpp_conn_set_cafile(s_->conn, options_.ca_file.c_str());
  xmpp_conn_set_certfail_handler(s_->conn, &Strophe::on_certfail);
  xmpp_conn_set_sockopt_callback(s_->conn, xmpp_sockopt_cb_keepalive);
  xmpp_handler_add(s_->conn, &Strophe::on_message, nullptr, "message", nullptr, s_.get());
  xmpp_handler_add(s_->conn, &Strophe::on_presence, nullptr, "presence", nullptr, s_.get());
  xmpp_handler_add(s_->conn, &Strophe::on_iq, nullptr, "iq", nullptr, s_.get());
}

void Client::start_connecting() {
  const std::string host = options_.host.empty() ? jid_domain(options_.jid) : options_.host;
  state_ = State::Connecting;
  if (xmpp_connect_client(s_->conn, host.c_str(), static_cast<unsigned short>(options_.port),
                          &Strophe::on_conn, s_.get()) != 0) {
    state_ = State::Closed;
    throw Error(Exit::Connect,
                "cannot connect to " + endpoint() +
                    (s_->socket_error != 0 ? ": " + lower_first(std::strerror(s_->socket_error))
                                           : ": cannot resolve or open a socket"),
                true);
  }
}

/// Until the session is bound and the roster is in (handle_conn_event()
/// throws for a failed login).
void Client::wait_until_logged_in(Deadline deadline) {
  while (!(state_ == State::Online && roster_ready_)) {
    const auto now = Clock::now();
    if (now >= deadline) {
      throw Error(Exit::Timeout,
                  "timed out " + std::string(state_ == State::Online ? "logging in to " : "connecting to ") +
                      endpoint(),
                  true);
    }
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now);
    run_once(std::min(left + std::chrono::milliseconds(1), std::chrono::milliseconds(100)));
  }
}

/// Available presence with caps, after the roster (RFC 6121 §2.2).
void Client::send_initial_presence() {
  xmpp_stanza_t* p = xmpp_presence_new(s_->ctx);
  xmpp_stanza_t* prio = detail::new_element(s_->ctx, "priority");
  detail::add_text(prio, "-1");
  detail::adopt_child(p, prio);
  xmpp_stanza_t* c = detail::new_element(s_->ctx, "c", kNsCaps);
  xmpp_stanza_set_attribute(c, "hash", "sha-1");
  xmpp_stanza_set_attribute(c, "node", kCapsNode);
  xmpp_stanza_set_attribute(c, "ver", caps_ver_.c_str());
  detail::adopt_child(p, c);
  s_->send(p);
}

void Client::run_once(std::chrono::milliseconds max_wait) {
  if (s_->ctx == nullptr) throw Error(Exit::Usage, "Client::run_once() before connect()");
  xmpp_run_once(s_->ctx, static_cast<unsigned long>(std::max<long long>(0, max_wait.count())));
  if (s_->pending) {
    std::exception_ptr e = s_->pending;
    s_->pending = nullptr;
    std::rethrow_exception(e);
  }
}

bool Client::run_until(const std::function<bool()>& done, Deadline deadline) {
  while (!done()) {
    const auto now = Clock::now();
    if (now >= deadline) return false;
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now);
    run_once(std::min(left + std::chrono::milliseconds(1), std::chrono::milliseconds(100)));
  }
  return true;
}

void Client::disconnect(Deadline deadline) noexcept {
  if (s_->conn == nullptr || state_ == State::Closed || state_ == State::Idle) return;
  s_->closing = true;
  xmpp_disconnect(s_->conn);  // sends </stream:stream>; the server marks us unavailable
  while (state_ != State::Closed && Clock::now() < deadline) {
    xmpp_run_once(s_->ctx, 50);
  }
  s_->pending = nullptr;
  state_ = State::Closed;
}

bool Client::subscribe(const std::string& jid) {
  auto it = roster_.find(jid);
  if (it != roster_.end() &&
      (it->second.subscription == "to" || it->second.subscription == "both" || it->second.ask_subscribe)) {
    return false;
  }
  xmpp_stanza_t* p = xmpp_presence_new(s_->ctx);
  xmpp_stanza_set_type(p, "subscribe");
  xmpp_stanza_set_to(p, jid.c_str());
  s_->send(p);
  return true;
}

std::string Client::send_iq(const std::string& to, const char* type, const XmlElement& payload,
                            std::function<void(const IqReply&)> on_reply) {
  if (state_ != State::Online) throw Error(Exit::Connect, "not connected", true);
  const std::string id = s_->new_id("q");
  xmpp_stanza_t* iq = xmpp_iq_new(s_->ctx, type, id.c_str());
  if (!to.empty()) xmpp_stanza_set_to(iq, to.c_str());
  detail::adopt_child(iq, detail::from_xml(s_->ctx, payload, "jabber:client"));
  pending_[id] = PendingIq{to, std::move(on_reply)};
  s_->send(iq);
  return id;
}

IqReply Client::request(const std::string& to, const char* type, const XmlElement& payload, Deadline deadline,
                        const std::string& what) {
  bool answered = false;
  IqReply reply;
  const std::string id = send_iq(to, type, payload, [&](const IqReply& r) {
    reply = r;
    answered = true;
  });
  bool done = false;
  try {
    done = run_until([&] { return answered; }, deadline);
  } catch (...) {
    pending_.erase(id);  // the callback refers to this frame
    throw;
  }
  if (!done) {
    pending_.erase(id);
    throw Error(Exit::Timeout, "timed out waiting for " + what + (to.empty() ? "" : " from " + to), true);
  }
  return reply;
}

void Client::send_directed_presence(const std::string& jid) {
  xmpp_stanza_t* p = xmpp_presence_new(s_->ctx);
  xmpp_stanza_set_to(p, jid.c_str());
  xmpp_stanza_t* c = detail::new_element(s_->ctx, "c", kNsCaps);
  xmpp_stanza_set_attribute(c, "hash", "sha-1");
  xmpp_stanza_set_attribute(c, "node", kCapsNode);
  xmpp_stanza_set_attribute(c, "ver", caps_ver_.c_str());
  detail::adopt_child(p, c);
  s_->send(p);
}

// --- event handling -------------------------------------------------------------------

std::string Client::describe_login_failure() const {
  if (!s_->tls_untrusted.empty()) return "TLS certificate not trusted: " + s_->tls_untrusted;
  if (!s_->tls_other.empty()) return "TLS failed with " + endpoint() + ": " + s_->tls_other;
  if (s_->auth_failed) return "authentication failed for " + bare();
  if (!s_->stream_error.empty()) return "server at " + endpoint() + " closed the stream: " + s_->stream_error;
  if (s_->socket_error != 0) {
    return "cannot connect to " + endpoint() + ": " + lower_first(std::strerror(s_->socket_error));
  }
  return "connection to " + endpoint() + " closed during login";
}

void Client::handle_conn_event(int event, int error, void* stream_error_ptr) {
  auto* se = static_cast<xmpp_stream_error_t*>(stream_error_ptr);
  if (event == XMPP_CONN_CONNECT) {
    state_ = State::Online;
    bound_jid_at_login_ = bound_jid();
    const std::string id = s_->new_id("roster");
    xmpp_stanza_t* iq = xmpp_iq_new(s_->ctx, "get", id.c_str());
    detail::adopt_child(iq, detail::new_element(s_->ctx, "query", kNsRoster));
    xmpp_id_handler_add(s_->conn, &Strophe::on_roster_result, id.c_str(), s_.get());
    s_->send(iq);
    return;
  }
  if (event != XMPP_CONN_DISCONNECT && event != XMPP_CONN_FAIL) return;
  if (se != nullptr) {
    s_->stream_error = stream_error_name(se->type);
    if (se->text != nullptr && se->text[0] != '\0') s_->stream_error += std::string(" (") + se->text + ")";
  }
  if (error != 0 && s_->socket_error == 0) s_->socket_error = error;
  const State was = state_;
  state_ = State::Closed;
  pending_.clear();  // never answered now
  if (s_->closing) return;
  if (was == State::Connecting) {
    const bool transient = s_->tls_untrusted.empty() && s_->tls_other.empty() && !s_->auth_failed;
    throw Error(Exit::Connect, describe_login_failure(), transient);
  }
  if (was == State::Online) {
    // <conflict/> (RFC 6120 §4.9.3.3): a new session bound our full JID and
    // replaced us. Logging in again would replace it in turn, back and forth.
    if (se != nullptr && se->type == XMPP_SE_CONFLICT) {
      throw Error(Exit::Connect,
                  "connection to " + endpoint() + " lost: " + s_->stream_error + ": another session logged in as " +
                      bound_jid_at_login_,
                  false);
    }
    throw Error(Exit::Connect,
                "connection to " + endpoint() + " lost" + (s_->stream_error.empty() ? "" : ": " + s_->stream_error),
                true);
  }
}

void Client::handle_roster_result(void* stanza) {
  auto* st = static_cast<xmpp_stanza_t*>(stanza);
  const char* type = xmpp_stanza_get_type(st);
  if (type != nullptr && std::strcmp(type, "result") == 0) {
    xmpp_stanza_t* q = xmpp_stanza_get_child_by_name_and_ns(st, "query", kNsRoster);
    if (q != nullptr) apply_roster_items(q);
  }
  roster_ready_ = true;  // an error answer leaves an empty roster; pushes still arrive
}

void Client::apply_roster_items(void* query) {
  auto* q = static_cast<xmpp_stanza_t*>(query);
  for (xmpp_stanza_t* it = xmpp_stanza_get_children(q); it != nullptr; it = xmpp_stanza_get_next(it)) {
    if (!xmpp_stanza_is_tag(it) || std::strcmp(xmpp_stanza_get_name(it), "item") != 0) continue;
    const std::string jid = detail::attr_or_empty(it, "jid");
    if (jid.empty()) continue;
    const std::string sub = detail::attr_or_empty(it, "subscription");
    if (sub == "remove") {
      roster_.erase(jid);
      continue;
    }
    RosterItem item;
    item.jid = jid;
    item.name = detail::attr_or_empty(it, "name");
    item.subscription = sub.empty() ? "none" : sub;
    item.ask_subscribe = detail::attr_or_empty(it, "ask") == "subscribe";
    roster_[jid] = item;
  }
}

void Client::handle_message(void* stanza) {
  auto* st = static_cast<xmpp_stanza_t*>(stanza);
  xmpp_stanza_t* event = xmpp_stanza_get_child_by_name_and_ns(st, "event", kNsPubsubEvent);
  if (event == nullptr) return;
  const char* from = xmpp_stanza_get_from(st);
  // PEP events of our own account come without 'from' (RFC 6120 §8.1.2.1).
  const std::string owner = from != nullptr ? bare_jid(from) : bare();
  for (xmpp_stanza_t* items = xmpp_stanza_get_children(event); items != nullptr;
       items = xmpp_stanza_get_next(items)) {
    if (!xmpp_stanza_is_tag(items) || std::strcmp(xmpp_stanza_get_name(items), "items") != 0) continue;
    const std::string node = detail::attr_or_empty(items, "node");
    for (xmpp_stanza_t* item = xmpp_stanza_get_children(items); item != nullptr;
         item = xmpp_stanza_get_next(item)) {
      if (!xmpp_stanza_is_tag(item) || std::strcmp(xmpp_stanza_get_name(item), "item") != 0) continue;
      ItemEvent ev;
      ev.from = owner;
      ev.node = node;
      ev.id = detail::attr_or_empty(item, "id");
      for (xmpp_stanza_t* p = xmpp_stanza_get_children(item); p != nullptr; p = xmpp_stanza_get_next(p)) {
        if (xmpp_stanza_is_tag(p)) {
          ev.payload = detail::to_xml(p, kNsPubsubEvent);
          ev.has_payload = true;
          break;
        }
      }
      if (on_item_) on_item_(ev);
    }
  }
}

void Client::handle_presence(void* stanza) {
  auto* st = static_cast<xmpp_stanza_t*>(stanza);
  const char* from_c = xmpp_stanza_get_from(st);
  if (from_c == nullptr) return;
  const std::string from = from_c;
  const std::string from_bare = bare_jid(from);
  const char* type_c = xmpp_stanza_get_type(st);
  const std::string type = type_c != nullptr ? type_c : "";

  if (type == "subscribe" || type == "subscribed" || type == "unsubscribed" || type == "unsubscribe") {
    handle_subscription(type, from_bare);
    return;
  }
  if (from_bare == bare()) return;  // our own resources
  if (!type.empty() && type != "unavailable") return;  // error, probe
  heard_.insert(from_bare);

  PresenceEvent ev;
  ev.from = from;
  ev.bare = from_bare;
  ev.available = type.empty();
  if (ev.available) {
    ev.show = text_of(st, "show");
    ev.status = text_of(st, "status");
    const std::string prio = text_of(st, "priority");
    if (!prio.empty()) ev.priority = std::max(-128, std::min(127, std::atoi(prio.c_str())));
    xmpp_stanza_t* delay = xmpp_stanza_get_child_by_name_and_ns(st, "delay", kNsDelay);
    if (delay != nullptr) ev.delay_stamp = detail::attr_or_empty(delay, "stamp");
    online_[from] = ev;
  } else {
    online_.erase(from);
  }
  if (on_presence_) on_presence_(ev);
}

/// A presence subscription request, approval, refusal or cancelation (RFC 6121 §3).
void Client::handle_subscription(const std::string& type, const std::string& from_bare) {
  SubscriptionEvent ev;
  ev.from = from_bare;
  if (type == "subscribe") {
    ev.type = SubscriptionEvent::Type::Request;
    ev.auto_approved = approve_ && approve_(from_bare);
    if (ev.auto_approved) {
      xmpp_stanza_t* p = xmpp_presence_new(s_->ctx);
      xmpp_stanza_set_type(p, "subscribed");
      xmpp_stanza_set_to(p, from_bare.c_str());
      s_->send(p);
      subscribe(from_bare);  // and ask back, unless we already did
    }
  } else if (type == "subscribed") {
    ev.type = SubscriptionEvent::Type::Approved;
  } else if (type == "unsubscribed") {
    ev.type = SubscriptionEvent::Type::Refused;
    heard_.insert(from_bare);  // also the answer to a probe we may not send
  } else {
    ev.type = SubscriptionEvent::Type::Unsubscribe;
  }
  if (on_subscription_) on_subscription_(ev);
}

void Client::handle_iq(void* stanza) {
  auto* st = static_cast<xmpp_stanza_t*>(stanza);
  const char* type_c = xmpp_stanza_get_type(st);
  const std::string type = type_c != nullptr ? type_c : "";
  const char* from_c = xmpp_stanza_get_from(st);
  const std::string from = from_c != nullptr ? from_c : "";
  if (type == "result" || type == "error") {
    handle_iq_answer(st, from);
    return;
  }
  if (type != "get" && type != "set") return;

  xmpp_stanza_t* roster = xmpp_stanza_get_child_by_name_and_ns(st, "query", kNsRoster);
  if (roster != nullptr && type == "set") {
    answer_roster_push(st, roster, from);
    return;
  }
  xmpp_stanza_t* disco = xmpp_stanza_get_child_by_name_and_ns(st, "query", kNsDiscoInfo);
  if (disco != nullptr && type == "get") {
    answer_disco_info(st, disco);
    return;
  }
  if (type == "get" && xmpp_stanza_get_child_by_name_and_ns(st, "ping", kNsPing) != nullptr) {
    s_->send(iq_result(s_->ctx, st));  // XEP-0199 §4: an empty result
    return;
  }
  s_->send(iq_error(s_->ctx, st, "cancel", "service-unavailable"));
}

/// An answer to one of our requests: to its callback, if it comes from whom we asked.
void Client::handle_iq_answer(void* stanza, const std::string& from) {
  auto* st = static_cast<xmpp_stanza_t*>(stanza);
  const char* id_c = xmpp_stanza_get_id(st);
  auto it = id_c != nullptr ? pending_.find(id_c) : pending_.end();
  if (it == pending_.end()) return;  // the roster's own handler, or an answer we gave up on
  const std::string& to = it->second.to;
  const bool from_ok = (to.empty() || same_jid(to, bare()))
                           ? (from.empty() || same_jid(from, bare()) || same_jid(from, jid_domain(bare())) ||
                              same_jid(from, bound_jid()))
                           : same_jid(from, to);
  if (!from_ok) {
    if (options_.verbose) {
      std::fprintf(stderr, "xiotctl: ignoring an answer to %s from %s (asked %s)\n", id_c, from.c_str(),
                   to.empty() ? "the server" : to.c_str());
    }
    return;
  }
  const IqReply reply = iq_reply_of(st, from);
  auto on_reply = std::move(it->second.on_reply);
  pending_.erase(it);  // before the call: it may send more requests
  if (on_reply) on_reply(reply);
}

/// Roster push (RFC 6121 §2.1.6): only from our own account.
void Client::answer_roster_push(void* stanza, void* query, const std::string& from) {
  auto* st = static_cast<xmpp_stanza_t*>(stanza);
  if (!from.empty() && bare_jid(from) != bare()) {
    s_->send(iq_error(s_->ctx, st, "cancel", "service-unavailable"));
    return;
  }
  apply_roster_items(query);
  s_->send(iq_result(s_->ctx, st));
}

/// disco#info (XEP-0030 §3.1): our identity and features, for any node asked
/// (the caps node included, XEP-0115 §6.2).
void Client::answer_disco_info(void* stanza, void* query) {
  auto* st = static_cast<xmpp_stanza_t*>(stanza);
  xmpp_stanza_t* reply = iq_result(s_->ctx, st);
  xmpp_stanza_t* q = detail::new_element(s_->ctx, "query", kNsDiscoInfo);
  const char* node = xmpp_stanza_get_attribute(static_cast<xmpp_stanza_t*>(query), "node");
  if (node != nullptr) xmpp_stanza_set_attribute(q, "node", node);
  xmpp_stanza_t* ident = detail::new_element(s_->ctx, "identity");
  xmpp_stanza_set_attribute(ident, "category", kIdentityCategory);
  xmpp_stanza_set_attribute(ident, "type", kIdentityType);
  xmpp_stanza_set_attribute(ident, "name", kIdentityName);
  detail::adopt_child(q, ident);
  std::vector<std::string> sorted = features_;
  std::sort(sorted.begin(), sorted.end());
  for (const auto& f : sorted) {
    xmpp_stanza_t* feat = detail::new_element(s_->ctx, "feature");
    xmpp_stanza_set_attribute(feat, "var", f.c_str());
    detail::adopt_child(q, feat);
  }
  detail::adopt_child(reply, q);
  s_->send(reply);
}

}  // namespace fleet

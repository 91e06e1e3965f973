// The operator's XMPP client: one connection, one thread, one loop.
//
// Connects with mandatory STARTTLS (certificate verified against the CA file,
// host name checked against the JID's domain), logs in with SCRAM, fetches the
// roster, tracks presence, answers disco#info for its own XEP-0115 caps (so
// Prosody's mod_pep sends it the PEP items of the nodes it lists as
// "+notify"), answers pings, and approves presence subscription requests the
// caller accepts.
//
// Nothing here blocks without a deadline. Handlers run inside run_once(); an
// exception thrown by a handler is re-thrown from run_once() after libstrophe
// has returned.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "fleet/error.hpp"
#include "fleet/options.hpp"
#include "fleet/xml.hpp"

namespace fleet {

using Clock = std::chrono::steady_clock;
using Deadline = Clock::time_point;

/// A roster entry (RFC 6121 §2.1.2).
struct RosterItem {
  std::string jid;           ///< bare JID
  std::string name;          ///< "" if none
  std::string subscription;  ///< none | to | from | both
  bool ask_subscribe = false;
};

/// One PubSub item from a `<message><event xmlns='…pubsub#event'>` notification.
struct ItemEvent {
  std::string from;  ///< bare JID of the PEP owner, or the pubsub service JID
  std::string node;
  std::string id;
  bool has_payload = false;
  XmlElement payload;  ///< the item's first child element
};

struct PresenceEvent {
  std::string from;  ///< full JID
  std::string bare;
  bool available = false;
  std::string show;    ///< "" (online), away, chat, dnd, xa
  std::string status;  ///< "" if none
  int priority = 0;    ///< RFC 6121 §4.7.2.3, -128..127
  /// XEP-0203 `<delay stamp=…/>` as sent ("2025-11-23T12:13:20Z"): when the
  /// presence was first sent (the server adds it to presence it replays on
  /// our login). "" when absent.
  std::string delay_stamp;
};

/// Reads `<error/>` (the child of an IQ of type error). Missing pieces stay "".
StanzaError parse_stanza_error(const XmlElement& error);

/// The answer to an IQ get/set.
struct IqReply {
  std::string from;          ///< as stamped by the server ("" for our own server or account)
  bool ok = false;           ///< type='result'
  bool has_payload = false;  ///< a result with a child element
  XmlElement payload;        ///< that first child element
  StanzaError error;         ///< when !ok
};

/// Presence subscription traffic (RFC 6121 §3).
struct SubscriptionEvent {
  enum class Type { Request, Approved, Refused, Unsubscribe };
  Type type;
  std::string from;  ///< bare JID
  bool auto_approved = false;  ///< Request only: the client answered 'subscribed'
};

class Client {
 public:
  explicit Client(ConnectionOptions options);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // --- set-up, before connect() ----------------------------------------------
  /// Adds a disco#info feature (e.g. "urn:xiot:telemetry:0+notify"); it is part
  /// of the caps hash sent with presence.
  void add_feature(const std::string& var);
  void on_item(std::function<void(const ItemEvent&)> fn) { on_item_ = std::move(fn); }
  void on_presence(std::function<void(const PresenceEvent&)> fn) { on_presence_ = std::move(fn); }
  void on_subscription(std::function<void(const SubscriptionEvent&)> fn) {
    on_subscription_ = std::move(fn);
  }
  /// Decides whether a subscription request from a bare JID is approved (the
  /// client then also subscribes back). Default: nobody.
  void set_auto_approve(std::function<bool(const std::string&)> fn) { approve_ = std::move(fn); }

  // --- connection ------------------------------------------------------------------
  /// Connects, logs in, fetches the roster and sends available presence with
  /// caps (priority -1: chat to the bare JID is not for this tool).
  /// Throws Error(Connect) with a message like "cannot connect to
  /// 127.0.0.1:5299: connection refused", "TLS certificate not trusted: …",
  /// "authentication failed for ops@localhost"; Error(Timeout) when the
  /// deadline passes first; Error(Usage) for options that cannot work.
  /// Refused/closed connections and timeouts are Error::transient().
  void connect(Deadline deadline);

  /// Runs the event loop for at most `max_wait`. Throws Error(Connect,
  /// transient) when the connection is lost (not transient when the server
  /// replaced us with a new session of the same full JID: stream error
  /// <conflict/>), or what a handler threw.
  void run_once(std::chrono::milliseconds max_wait);

  /// Runs the loop until `done()` is true (checked after every event batch)
  /// or the deadline passes. Returns whether done() became true.
  bool run_until(const std::function<bool()>& done, Deadline deadline);

  /// Ends the session politely (unavailable presence, </stream>) and waits for
  /// the close, at most until `deadline`. Never throws.
  void disconnect(Deadline deadline) noexcept;

  // --- state and requests ------------------------------------------------------------
  bool connected() const { return state_ == State::Online; }
  std::string bound_jid() const;
  std::string bare() const { return bare_jid(options_.jid); }
  const std::map<std::string, RosterItem>& roster() const { return roster_; }
  /// Full JID -> latest available presence of every contact resource online.
  const std::map<std::string, PresenceEvent>& online() const { return online_; }
  /// Whether any presence (available, unavailable, unsubscribed) came from
  /// the contact `bare_jid` since login. The server answers the probe our
  /// initial presence triggers with the contact's available presence, or an
  /// unavailable one when it has none (RFC 6121 §4.3.2), so once this is
  /// true the contact's state is known.
  bool presence_heard(const std::string& bare_jid) const { return heard_.count(bare_jid) > 0; }

  /// Asks for the presence of `bare_jid` unless already subscribed or asked.
  /// Returns whether a request was sent.
  bool subscribe(const std::string& bare_jid);
  /// Sends our available presence (with caps) straight to `jid`: mod_pep then
  /// (re)evaluates our +notify interests for that contact at once.
  void send_directed_presence(const std::string& jid);

  /// Sends `<iq type=type to=to>payload</iq>` (no 'to' when `to` is "": our
  /// own server) and returns its id. `on_reply` runs inside run_once() when the
  /// answer arrives; it is dropped, never called, if the connection is lost.
  /// An answer is accepted only from the JID the request went to (RFC 6120
  /// §8.1.2.1; for "" or our own bare JID: no 'from', our bare JID or our
  /// domain), so a forged reply from someone else is ignored.
  /// `type` is "get" or "set". Must be connected.
  std::string send_iq(const std::string& to, const char* type, const XmlElement& payload,
                      std::function<void(const IqReply&)> on_reply);
  /// IQs sent and not answered yet.
  size_t pending_iqs() const { return pending_.size(); }
  /// Forgets every unanswered IQ: late answers are then ignored.
  void forget_pending_iqs() { pending_.clear(); }

  /// Sends one IQ and runs the loop until it is answered. Throws
  /// Error(Timeout, "timed out waiting for <what> from <to>") at the
  /// deadline, or what run_once() throws.
  IqReply request(const std::string& to, const char* type, const XmlElement& payload, Deadline deadline,
                  const std::string& what);

  /// The caps `ver` sent in presence (XEP-0115 §5.1, sha-1).
  const std::string& caps_ver() const { return caps_ver_; }
  static constexpr const char* kCapsNode = "urn:xiot:xiotctl";

 private:
  enum class State { Idle, Connecting, Online, Closed };
  struct Strophe;  // libstrophe objects and the C callbacks

  // Called from the libstrophe callbacks (stanzas passed as void* so that
  // this header does not need <strophe.h>). They may throw; Strophe stores the
  // exception and run_once() re-throws it.
  void handle_conn_event(int event, int error, void* stream_error);
  void handle_roster_result(void* stanza);
  void apply_roster_items(void* query);
  void handle_message(void* stanza);
  void handle_presence(void* stanza);
  void handle_iq(void* stanza);
  void handle_iq_answer(void* stanza, const std::string& from);
  void answer_roster_push(void* stanza, void* query, const std::string& from);
  void answer_disco_info(void* stanza, void* query);
  void handle_subscription(const std::string& type, const std::string& from_bare);

  // The steps of connect().
  void compute_caps_ver();
  void configure_connection();
  void start_connecting();
  void wait_until_logged_in(Deadline deadline);
  void send_initial_presence();
  std::string describe_login_failure() const;
  std::string endpoint() const;  ///< "host:port" as dialled

  ConnectionOptions options_;
  std::unique_ptr<Strophe> s_;
  State state_ = State::Idle;
  std::string bound_jid_at_login_;  ///< for messages after the connection is gone
  bool roster_ready_ = false;
  std::vector<std::string> features_;
  std::string caps_ver_;
  std::map<std::string, RosterItem> roster_;
  std::map<std::string, PresenceEvent> online_;
  std::set<std::string> heard_;
  std::function<void(const ItemEvent&)> on_item_;
  std::function<void(const PresenceEvent&)> on_presence_;
  std::function<void(const SubscriptionEvent&)> on_subscription_;
  std::function<bool(const std::string&)> approve_;
  struct PendingIq {
    std::string to;
    std::function<void(const IqReply&)> on_reply;
  };
  std::map<std::string, PendingIq> pending_;
};

}  // namespace fleet

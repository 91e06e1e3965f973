// The XMPP session over libstrophe: the only module of the agent that includes
// <strophe.h>. It owns the connection, TLS and login, reconnects with
// full-jitter backoff, detects dead links with XEP-0199 pings, keeps presence
// and the device node current, approves presence subscriptions from ACL'd
// JIDs, answers the basic IQs, publishes telemetry items, and translates
// XEP-0050 command IQs and chat messages for the CommandRouter / ChatBot.
//
// One thread, one loop: the application calls Context::run_once() and then
// Session::tick() on every turn; nothing here blocks or spawns threads.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "agent/backoff.hpp"
#include "agent/chat.hpp"
#include "agent/commands.hpp"
#include "agent/config.hpp"
#include "agent/desired.hpp"
#include "agent/ibb.hpp"
#include "agent/telemetry.hpp"
#include "hal/clock.hpp"
#include "hal/status.hpp"

struct _xmpp_ctx_t;
struct _xmpp_conn_t;
struct _xmpp_stanza_t;

namespace agent {

struct CommandScratch;
struct ContextState;

/// A libstrophe context with its own counting allocator and logger (both
/// through libstrophe's userdata: nothing is process-wide, so two contexts in
/// one process never see each other's counts or lines). Several sessions may
/// share one context (the fleet simulator runs up to 1000 on one); the context
/// knows its sessions and gives each libstrophe log line to the session it
/// belongs to (src/context_state.hpp says how exactly).
class Context {
 public:
  Context();
  /// Calls close().
  ~Context();
  Context(const Context&) = delete;
  Context& operator=(const Context&) = delete;

  /// Services every connection of this context for at most `timeout_ms`.
  /// Not after close().
  void run_once(uint32_t timeout_ms);
  /// How many times run_once() was called: the loop is turning while this
  /// goes up (AgentRuntime's watchdog rule).
  uint64_t turns() const { return turns_; }
  /// Blocks allocated through this context's libstrophe and not yet freed
  /// (this context only). Zero after close() unless libstrophe leaked
  /// (checked by the leak tests).
  int64_t outstanding_blocks() const;
  /// Frees the libstrophe context; every session of it must be gone. Returns
  /// outstanding_blocks() afterwards: what libstrophe leaked, 0 expected.
  /// After it only outstanding_blocks() and close() (no effect) may be called.
  int64_t close();
  _xmpp_ctx_t* raw() const { return ctx_; }
  /// What this context's libstrophe logger does with a line besides logging
  /// it: gives it to the session it belongs to (a failed login, a resumed
  /// stream). Public for the tests that check the attribution.
  void attribute_line(const char* area, const char* msg);
  /// The fixed request/response scratch (~30 KiB) that <command/> IQs and
  /// chat messages are handled in, allocated on the first call. One per
  /// context, shared by its sessions: the one loop handles one stanza at a
  /// time and nothing of it is kept between stanzas, so N simulated devices
  /// need one scratch, not N.
  CommandScratch& command_scratch();

 private:
  friend class Session;
  std::unique_ptr<ContextState> state_;  ///< allocation count, logger, sessions (src/context_state.hpp)
  _xmpp_ctx_t* ctx_ = nullptr;
  uint64_t turns_ = 0;
  std::unique_ptr<CommandScratch> command_scratch_;
};

/// Why a session gave up for good (the agent then exits 3).
enum class Fatal : uint8_t { None, AuthFailed, TlsUntrusted };

struct SessionStats {
  uint32_t connect_attempts = 0;
  uint32_t logins = 0;          ///< XMPP_CONN_CONNECT events (new sessions and resumes)
  uint32_t disconnects = 0;
  uint32_t pings_sent = 0;
  uint32_t ping_timeouts = 0;
  uint32_t fresh_reconnects = 0;  ///< logins redone on a new connection object after a refused resumption
  uint32_t fresh_starts = 0;      ///< reconnects begun on a new connection object because the server's
                                  ///< session was known to be gone (no resumption tried: one login)
  uint32_t publish_options_sent = 0;  ///< publishes that carried <publish-options/> (telemetry and device node)
  uint64_t items_sent = 0;
  uint64_t items_acked = 0;
  uint64_t items_rejected = 0;
  uint64_t commands = 0;        ///< <command/> IQs answered (results and errors)
  uint64_t command_errors = 0;  ///< of those, answered with an IQ error
  uint64_t chats = 0;           ///< chat messages answered
  uint32_t muc_joins = 0;       ///< room joins sent
  uint64_t groupchats = 0;      ///< groupchat messages sent (alerts)
};

class Session : public TelemetrySink {
 public:
  /// `cfg`, `clock`, `rng` and `ctx` must outlive the session.
  Session(Context& ctx, const AgentConfig& cfg, hal::MonotonicClock& clock, Rng& rng);
  ~Session() override;
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  /// Creates the connection and makes the first connection attempt.
  /// Errors: InvalidArgument (credentials unusable), Io (libstrophe refused).
  hal::Err start();
  /// Timers: reconnect when due, pings and dead-link detection. Call after
  /// every Context::run_once(). Returns the milliseconds until it next needs
  /// to run (for the loop's timeout).
  uint32_t tick();

  /// Logged in and stream management settled (enabled or failed).
  bool online() const { return state_ == State::Online; }
  Fatal fatal() const { return fatal_; }
  /// Human-readable reason for fatal() (names the account or the server).
  const std::string& fatal_message() const { return fatal_message_; }
  const SessionStats& stats() const { return stats_; }

  /// Sets the presence to advertise: `show` nullptr (healthy), "away"
  /// (degraded) or "dnd" (maintenance); `status` the one-line summary.
  /// Sent now if online and after every login.
  void set_presence(const char* show, const char* status);
  /// Sets the device description (the XML child of the `current` item of
  /// urn:xiot:device:0). Published now if online and after every login.
  void set_device_description(const char* xml);
  /// Receives each telemetry publish's outcome (PublishListener, in
  /// agent/outbox.hpp): an IQ result is Accepted, an IQ error of type "wait"
  /// Retry, any other error Rejected. Borrowed; nullptr = nobody.
  void set_publish_listener(PublishListener* l) { listener_ = l; }
  /// Routes `<command/>` IQs (and disco on the commands node) to `router`
  /// and chat messages to `chat` (either may be null: then commands get
  /// service-unavailable and chat is ignored). Both are borrowed. The fixed
  /// request/response scratch is the context's (Context::command_scratch(),
  /// allocated by the first session that gets handlers), taken here.
  void set_command_handlers(CommandRouter* router, ChatBot* chat);
  /// Desired state (docs/desired-state.md): after every fresh login the
  /// session creates the PEP node urn:xiot:desired:0 (access presence,
  /// publish model publishers, one persisted item) and makes every owner and
  /// operator of the ACL (plain bare JIDs) a `publisher` of it (and any other
  /// publisher it lists `none`); notifications
  /// of that node from our own bare JID (caps +notify, also the last item at
  /// every login) are read into a DesiredItem and given to `sink`.
  /// Borrowed; nullptr = none (the default: notifications are ignored and the
  /// node is left alone).
  void set_desired_sink(DesiredSink* sink);
  /// Routes XEP-0047 <open/>, <data/> and <close/> IQs to `ibb` (borrowed;
  /// nullptr = refused with service-unavailable, the default).
  void set_ibb_receiver(IbbReceiver* ibb) { ibb_ = ibb; }
  /// The XEP-0045 room alerts go to (docs/alerts.md): `room` a bare JID,
  /// `nick` the occupant's nick ("" or null = our bare JID). Joined after
  /// every login that did not resume the stream (a resumed stream is still in
  /// the room), with presence to room/nick asking for no history. A refused
  /// join (nick conflict, room locked or missing, forbidden) is logged once
  /// and tried again kMucRetryMs later, as is an eviction (kicked, the room
  /// or its service gone). `room` "" or null = none (a joined room is left).
  /// Copied.
  void set_muc_room(const char* room, const char* nick);
  /// In the room now: its presence for our occupant came back.
  bool muc_joined() const { return state_ == State::Online && muc_state_ == MucState::Joined; }
  /// Sends a groupchat message whose children are `payload` (XML made and
  /// escaped by agent/core) to the room, as one raw stanza.
  /// Errors: NotReady (offline or not in the room).
  hal::Err send_groupchat(const char* payload);
  /// How long a refused or lost room waits before joining again.
  static constexpr uint32_t kMucRetryMs = 30000;

  /// Lines logged while libstrophe calls this session back carry `tag`
  /// (log_set_tag(); the fleet simulator passes the device's JID). "" = none,
  /// the default. Copied.
  void set_log_tag(const char* tag);
  /// The tag, or nullptr when none.
  const char* log_tag() const { return log_tag_.empty() ? nullptr : log_tag_.c_str(); }

  // TelemetrySink
  bool ready() override { return online(); }
  hal::Err publish(const char* item_id, const char* payload, size_t len) override;
  /// Goes up by one every time the session comes online (a new stream or a
  /// resumed one): libstrophe drops what was still queued when the link died,
  /// so the outbox sends again whatever was not answered before.
  uint32_t link_epoch() override { return link_epoch_; }

  /// Clean stop: unavailable presence carrying `reason`, then disconnect and
  /// service the context until the stream is closed (at most ~2 s).
  /// Equivalent to stop_begin(reason) and running the context until
  /// stop_done() or 2 s have passed.
  void stop(const char* reason);
  /// The first half of stop(): unavailable presence, stream close requested;
  /// returns at once. Many sessions of one context can be stopped together
  /// this way: stop_begin() each, then run the context until every
  /// stop_done() (libstrophe gives up on a peer that does not close after 2 s).
  void stop_begin(const char* reason);
  /// After stop_begin(): the stream it closed is closed (true at once when
  /// there was no open stream to close).
  bool stop_done() const;

  // libstrophe trampolines (public so the C callbacks can reach them).
  /// `stream_error`: the stream error's condition (and text), nullptr when
  /// the stream did not end with one.
  void on_conn_event(int event, int error, const char* stream_error);
  int on_stanza(_xmpp_stanza_t* stanza);
  int on_message(_xmpp_stanza_t* stanza);
  int on_sm(_xmpp_stanza_t* stanza);
  int on_ping_result(_xmpp_stanza_t* stanza);
  int on_publish_result(_xmpp_stanza_t* stanza);
  int on_device_result(_xmpp_stanza_t* stanza);
  /// Answers to the desired node's create and affiliation IQs ("dsn-").
  void on_desired_node_result(_xmpp_stanza_t* stanza);
  /// A libstrophe log line the context attributed to this session: notes a
  /// failed login (SASL or certificate) or a resumed stream.
  void on_log(const char* area, const char* msg);

  /// Where a connection attempt stands, for the context's log attribution.
  enum class LoginStage : uint8_t {
    None,            ///< not logging in (or the transport is not up yet)
    Handshaking,     ///< connected, TLS not established
    Authenticating,  ///< TLS up, not logged in
  };
  LoginStage login_stage() const;
  /// The context's shared state (for the C trampolines).
  ContextState& context_state();

 private:
  enum class State : uint8_t { Idle, Connecting, Settling, Online, Waiting, Stopped };
  enum class MucState : uint8_t { None, Joining, Joined, Waiting };
  void join_room();
  /// A presence from the room: true when it was one (handled here).
  bool handle_muc_presence(_xmpp_stanza_t* stanza, const char* type);
  void muc_retry_later(const char* why);

  /// Every change of state_ goes through here (the context counts online sessions).
  void set_state(State next);
  /// Replaces conn_ by a fresh, configured connection object (the old one,
  /// with its stream-management state, is released). Outside callbacks only.
  hal::Err new_connection();
  void connect_now();
  void schedule_reconnect(const char* why);
  void go_online();
  void send_presence();
  void publish_device();
  /// Creates (or finds) the desired node, then sets its publishers.
  void setup_desired_node();
  /// `current`: the server's <affiliations/> (publishers no longer in the ACL
  /// are set to none), or nullptr.
  void set_desired_publishers(_xmpp_stanza_t* current);
  /// A pubsub event <message/>: a desired item from our own PEP service.
  void handle_event(_xmpp_stanza_t* message);
  void handle_subscription(_xmpp_stanza_t* stanza, const char* type);
  void handle_iq(_xmpp_stanza_t* stanza);
  void reply_disco_info(_xmpp_stanza_t* iq, const char* node);
  void reply_disco_items(_xmpp_stanza_t* iq, const char* node);
  void handle_ibb(_xmpp_stanza_t* iq, _xmpp_stanza_t* payload);
  void reply_error(_xmpp_stanza_t* iq, const char* type, const char* condition);
  /// An empty IQ result to `iq`.
  void reply_empty(_xmpp_stanza_t* iq);
  void handle_command(_xmpp_stanza_t* iq, _xmpp_stanza_t* command);
  /// Answers `request` with an IQ of `type` whose payload is `child`, XML
  /// text made by agent/core (escaped there: nothing parses it again), sent
  /// as one raw stanza.
  void reply_with_xml(_xmpp_stanza_t* request, const char* type, const char* child);
  /// Sends out_buf_ (one complete stanza) as it is. See session.cpp.
  void send_out_buf();
  /// The role of the IQ's sender (stranger when it has no from).
  Role sender_role(_xmpp_stanza_t* stanza) const;
  /// Formats a publish IQ into out_buf_ (with publish-options when
  /// `options`); `to` nullptr = our own PEP service.
  void make_publish_iq(const char* iq_id, const char* to, const char* node, const char* item_id,
                       const char* payload, size_t len, bool options);
  /// Whether the stream-management session held on conn_ can still be
  /// resumed at `now` (see connect_now()).
  bool resumption_hopeless(hal::MonoTime now) const;

  Context& ctx_;
  const AgentConfig& cfg_;
  hal::MonotonicClock& clock_;
  Backoff backoff_;
  _xmpp_conn_t* conn_ = nullptr;
  PublishListener* listener_ = nullptr;

  State state_ = State::Idle;
  Fatal fatal_ = Fatal::None;
  std::string fatal_message_;
  bool auth_failed_ = false;
  bool resumed_ = false;
  uint32_t device_seq_ = 0;            ///< id of the latest device-node publish ("dev-N")
  uint32_t device_options_seq_ = 0;    ///< the device_seq_ that carried publish-options (0 = none)
  bool device_retry_pending_ = false;  ///< the latest was refused: publish again at device_retry_at_
  uint32_t device_retry_ms_ = 0;
  hal::MonoTime device_retry_at_{};
  bool sm_was_enabled_ = false;        ///< a stream-management session was enabled on conn_
  bool fresh_connection_next_ = false; ///< connect_now() starts with a new conn_ (see on_conn_event)
  bool server_session_gone_ = false;   ///< a stream error or a refused connect since the link was lost
  uint32_t sm_max_s_ = 0;              ///< the server's resumption window (<enabled max/>), 0 = not said
  hal::MonoTime link_lost_at_{};       ///< when the last online link went down
  /// Publish-options wanted on the next publish to the telemetry node [0] and
  /// the device node [1]: after each fresh login, and after an item published
  /// without them was answered precondition-not-met.
  bool options_wanted_[2] = {true, true};
  std::string tls_error_;
  hal::MonoTime next_connect_{};
  hal::MonoTime next_ping_{};
  hal::MonoTime settle_deadline_{};
  bool ping_outstanding_ = false;
  bool closing_ = false;  ///< stop_begin() asked libstrophe to close the stream
  uint32_t ping_seq_ = 0;
  uint32_t link_epoch_ = 0;  ///< see link_epoch()

  std::string full_jid_;
  std::string domain_;         ///< of our JID: where pings go
  std::string caps_node_ver_;  ///< "node#ver", the one disco#info node we know
  std::string show_;
  std::string status_;
  std::string device_xml_;
  char caps_ver_[32] = {};
  std::string out_buf_;  ///< reused buffer for every preformatted outgoing stanza (reserved once)
  CommandRouter* router_ = nullptr;
  ChatBot* chat_ = nullptr;
  CommandScratch* cmd_ = nullptr;  ///< the context's, taken by set_command_handlers()
  IbbReceiver* ibb_ = nullptr;
  DesiredSink* desired_ = nullptr;
  std::string log_tag_;
  std::string muc_room_;      ///< bare JID, "" = none
  std::string muc_occupant_;  ///< room/nick
  MucState muc_state_ = MucState::None;
  hal::MonoTime muc_retry_at_{};
  std::string muc_last_error_;  ///< the refusal last logged (logged once until it changes or a join succeeds)
  uint32_t muc_seq_ = 0;
  SessionStats stats_;
};

}  // namespace agent

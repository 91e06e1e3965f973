// XEP-0050 Ad-Hoc Commands: the command nodes of shared/DESIGN.md ("Commands")
// as a router over plain structs. The XMPP session translates an incoming
// `<command/>` IQ into a CommandRequest (building the Form from the `<x/>`
// child, see agent/forms.hpp), calls CommandRouter::handle(), and turns the
// CommandResponse back into an IQ result (format_command_xml()) or an IQ
// error (format_command_error_xml()). Nothing here sees libstrophe.
//
// Nodes, roles, forms and every error are documented for users in
// docs/commands.md. In short:
//   read         viewer    completes at once: a result form, one field per channel
//   set          operator  form (channel, value) -> Device::set -> publish now
//   diagnostics  operator  completes at once: uptime, firmware, board, counters
//   configure    owner     form (interval_s, batch_max) -> reconfigure + persist
//   reboot       owner     form (confirm, reason) -> host.request_reboot()
//
// Order of checks in handle(), so that nothing is touched for someone who may
// not run the command: (1) the ACL on the sender's bare JID (a stranger gets
// `forbidden` whatever the node), (2) the node (`item-not-found`), (3) the
// role the node needs (`forbidden`), (4) the action attribute, (5) the form's
// size limits, (6) the session, (7) the handler, which alone touches devices.
//
// Memory: the router holds a fixed session table; a CommandResponse embeds
// its Form. Nothing allocates per request.
#pragma once

#include <cstddef>
#include <cstdint>

#include "agent/acl.hpp"
#include "agent/backoff.hpp"
#include "agent/config.hpp"
#include "agent/forms.hpp"
#include "agent/senml.hpp"
#include "drv/registry.hpp"
#include "hal/clock.hpp"
#include "hal/status.hpp"
#include "hal/storage.hpp"

namespace agent {

/// XEP-0050 namespace (also of the application-specific error conditions).
constexpr const char* kCommandsXmlns = "http://jabber.org/protocol/commands";
/// RFC 6120 stanza error namespace.
constexpr const char* kStanzaErrorXmlns = "urn:ietf:params:xml:ns:xmpp-stanzas";

// --- capacities and timing ---
constexpr size_t kCommandSessions = 16;          ///< live multi-stage sessions, all senders
constexpr size_t kCommandSessionsPerJid = 4;     ///< live sessions of one bare JID
constexpr int64_t kCommandSessionIdleMs = 120000;  ///< default idle timeout (monotonic)
constexpr size_t kSessionIdMax = 40;             ///< bytes of a sessionid
constexpr size_t kCommandJidMax = 255;           ///< bytes of a full JID a session is bound to
constexpr size_t kCommandNotesMax = 4;           ///< <note/>s per response
constexpr size_t kCommandTextMax = 192;          ///< bytes of a note or error text (NUL included)
constexpr size_t kChannelNameMax = 64;           ///< "device.quantity" (NUL included)
constexpr size_t kValueTextMax = 48;             ///< a formatted drv::Value (NUL included)

/// XEP-0050 §3.4 actions. `Malformed` is what parse_command_action() returns
/// for an action attribute that is none of the five; handle() answers it with
/// bad-request + malformed-action (after the ACL check).
enum class CommandAction : uint8_t { Execute, Next, Prev, Complete, Cancel, Malformed };
/// "execute" | "next" | "prev" | "complete" | "cancel" | "malformed".
const char* command_action_name(CommandAction a);
/// The action attribute: nullptr or "" -> Execute (XEP-0050 default);
/// "execute", "next", "prev", "complete", "cancel" (exact) -> that action;
/// anything else -> Malformed.
CommandAction parse_command_action(const char* attr);

enum class CommandStatus : uint8_t { Executing, Completed, Canceled };
/// "executing" | "completed" | "canceled".
const char* command_status_name(CommandStatus s);

/// Bits of CommandResponse::actions (the <actions/> children).
constexpr uint8_t kActionPrev = 1;
constexpr uint8_t kActionNext = 2;
constexpr uint8_t kActionComplete = 4;

enum class NoteType : uint8_t { Info, Warn, Error };
/// "info" | "warn" | "error".
const char* note_type_name(NoteType t);

struct CommandNote {
  NoteType type = NoteType::Info;
  char text[kCommandTextMax] = {};
};

/// RFC 6120 §8.3.2 error types.
enum class ErrorType : uint8_t { Cancel, Modify, Auth, Wait };
/// "cancel" | "modify" | "auth" | "wait".
const char* error_type_name(ErrorType t);

/// RFC 6120 §8.3.3 defined conditions used by the router.
enum class StanzaCondition : uint8_t {
  BadRequest,           ///< modify
  Forbidden,            ///< auth
  ItemNotFound,         ///< cancel
  InternalServerError,  ///< cancel
  NotAllowed,           ///< cancel
  ResourceConstraint,   ///< wait
};
/// "bad-request" | "forbidden" | "item-not-found" | "internal-server-error" |
/// "not-allowed" | "resource-constraint".
const char* stanza_condition_name(StanzaCondition c);
/// The type RFC 6120 recommends for `c` (in the comments above).
ErrorType default_error_type(StanzaCondition c);

/// XEP-0050 §4.6 application-specific conditions.
enum class CommandCondition : uint8_t {
  None,
  BadPayload,       ///< the form is missing, malformed, too large, or a value is wrong
  BadSessionid,     ///< unknown sessionid, or one that belongs to another JID or node
  MalformedAction,  ///< the action attribute is not an XEP-0050 action
  BadAction,        ///< an action the current stage does not allow
  SessionExpired,   ///< the session timed out (with not-allowed)
};
/// "" | "bad-payload" | "bad-sessionid" | "malformed-action" | "bad-action" |
/// "session-expired".
const char* command_condition_name(CommandCondition c);

/// An IQ error, children in RFC 6120 §8.3 order: `<error type=...><condition/><text/><app-condition/></error>`.
struct CommandError {
  ErrorType type = ErrorType::Cancel;
  StanzaCondition condition = StanzaCondition::BadRequest;
  CommandCondition app = CommandCondition::None;
  /// One line for people, NUL-terminated; names the field and what was
  /// wrong for bad-payload ("value: 'abc' is not a number"). May be "".
  char text[kCommandTextMax] = {};
};

/// One incoming `<command/>`. Every pointer is borrowed for the call.
struct CommandRequest {
  /// The sender's full JID as stamped by the server (the ACL uses its bare part).
  const char* from = nullptr;
  /// The node attribute.
  const char* node = nullptr;
  /// The sessionid attribute; nullptr or "" when absent (a new session).
  const char* sessionid = nullptr;
  /// See parse_command_action().
  CommandAction action = CommandAction::Execute;
  /// The `<x xmlns='jabber:x:data'/>` child as built by the session, or
  /// nullptr. A form whose build_error() is set is answered with
  /// bad-request + bad-payload naming the limit (after the ACL check).
  const Form* form = nullptr;
};

/// The answer to one CommandRequest. Owned by the caller (the session keeps
/// one and reuses it; it embeds a Form, ~7 KiB). handle() resets it first.
struct CommandResponse {
  CommandResponse() = default;
  CommandResponse(const CommandResponse&) = delete;
  CommandResponse& operator=(const CommandResponse&) = delete;

  /// True: answer with an IQ error described by `err`; nothing else applies.
  bool is_error = false;
  CommandError err;

  /// The node answered: a static string for known nodes, else the request's
  /// pointer (borrowed, lives as long as the request). Never null.
  const char* node = "";
  CommandStatus status = CommandStatus::Completed;
  /// The session this response belongs to ("" only on errors). Also set on
  /// single-stage commands, as the XEP-0050 examples do.
  char sessionid[kSessionIdMax + 1] = {};
  /// With Executing: the allowed actions (kAction* bits) and the default one
  /// (the <actions execute=.../> attribute: Next or Complete).
  uint8_t actions = 0;
  CommandAction default_action = CommandAction::Complete;
  /// A form (type form while executing, type result when completed).
  bool has_form = false;
  Form form;
  CommandNote notes[kCommandNotesMax];
  size_t note_count = 0;

  /// Back to an empty, successful, completed response.
  void reset();
  /// Appends a note; when the table is full the last note's text is replaced
  /// by "(more notes omitted)". Over-long text is cut with "...".
  void add_note(NoteType type, const char* fmt, ...) __attribute__((format(printf, 3, 4)));
};

/// A node this agent offers.
struct CommandInfo {
  const char* node;  ///< "read"
  const char* name;  ///< human name for disco#items, "Read sensors"
  Role role;         ///< the lowest role that may run it
};
/// The command table, in listing order. `count` receives its length.
const CommandInfo* command_table(size_t* count);
/// The entry for `node`, or nullptr (unknown, null).
const CommandInfo* find_command(const char* node);

/// Telemetry settings the `configure` command changes. Milliseconds, so no
/// floating point is needed here: interval 50..86400000 (0.05 s..1 day),
/// batch_max 1..100 (shared/DESIGN.md ranges).
struct TelemetrySettings {
  uint32_t interval_ms = 10000;
  uint32_t batch_max = 1;
};
constexpr uint32_t kIntervalMinMs = 50;
constexpr uint32_t kIntervalMaxMs = 86400000;
constexpr uint32_t kBatchMaxMin = 1;
constexpr uint32_t kBatchMaxMax = 100;

/// What `diagnostics` reports; filled by the host. Strings are NUL-terminated
/// ("" when unknown).
struct DiagnosticsInfo {
  uint64_t uptime_s = 0;        ///< since the agent started
  char firmware[32] = {};       ///< "0.1.0"
  char board[32] = {};          ///< "sim"
  char boot_id[33] = {};
  char health[16] = {};         ///< health_name(): "healthy" | "degraded" | "maintenance"
  char problem[128] = {};       ///< HealthReport::problem
  uint32_t reconnects = 0;      ///< connections re-established since start
  uint64_t journal_depth = 0;   ///< readings/items waiting for delivery
  uint64_t dropped_readings = 0;
  uint64_t journal_bytes = 0;   ///< the journal's size on storage
  uint64_t journal_corrupt = 0; ///< journal records skipped as corrupt (never replayed)
  uint64_t replayed = 0;        ///< items sent again after a link loss or from an earlier run
  uint64_t errors = 0;          ///< read and publish errors since start
  char last_error[128] = {};
};

/// Effects that live outside agent/core, implemented by the application
/// (fakes in tests). Called only after the ACL and role checks passed.
class CommandHost {
 public:
  virtual ~CommandHost() = default;
  /// Sample and publish telemetry now (after `set` changed an actuator), so
  /// the next telemetry item shows the change (TelemetryPublisher::publish_now).
  virtual void publish_telemetry_now() = 0;
  /// The settings in force (prefills the `configure` form).
  virtual TelemetrySettings telemetry_settings() = 0;
  /// Applies new settings (TelemetryPublisher::reconfigure). Errors:
  /// InvalidArgument (rejected: answered as bad-payload), NoSpace (answered
  /// as resource-constraint), anything else (internal-server-error).
  virtual hal::Err reconfigure_telemetry(const TelemetrySettings& s) = 0;
  /// Schedules a reboot: the host sends the command's answer, then
  /// unavailable presence with `reason`, then reboots through the HAL. Must
  /// not reboot before returning. `reason` is borrowed for the call.
  /// Errors: any (answered as internal-server-error naming it).
  virtual hal::Err request_reboot(const char* reason) = 0;
  /// Fills `out` (already reset to defaults).
  virtual void diagnostics(DiagnosticsInfo* out) = 0;
};

/// Storage key of the persisted settings blob.
constexpr const char* kSettingsKey = "settings.json";
/// Writes `s` as `{"version":1,"telemetry":{"interval_ms":N,"batch_max":N}}`
/// with Storage::replace (atomic). Errors: InvalidArgument (out of range, or
/// a bad key), NoSpace, Io.
hal::Err save_settings(hal::Storage& storage, const char* key, const TelemetrySettings& s);
/// Reads what save_settings() wrote (start-up only: parses with cJSON, which
/// allocates). Errors: NotFound (never saved), Corrupt (not that JSON shape,
/// or values out of range), Overflow (blob over 512 bytes), InvalidArgument, Io.
hal::Err load_settings(hal::Storage& storage, const char* key, TelemetrySettings* out);

/// "device.quantity". Errors: Overflow.
hal::Result<size_t> format_channel_name(char* buf, size_t cap, const drv::Device& d, size_t channel);

/// One channel's reading, for read_all()/read_channel().
struct ChannelReading {
  const char* name;              ///< "env0.temperature" (lives for the visit only)
  const drv::ChannelSpec* spec;  ///< unit, kind, type
  const drv::Device* device;     ///< the device the channel belongs to
  hal::Err error;                ///< Ok, or why the device's sample() or get() failed
  hal::Err sample_error;         ///< what the device's sample() returned (Ok if it worked)
  drv::Value value;              ///< valid when error is Ok
};
using ReadingVisitor = void (*)(void* ctx, const ChannelReading& reading);

struct CommandRouterOptions {
  /// A session idle for longer is expired (monotonic clock).
  int64_t session_idle_ms = kCommandSessionIdleMs;
  /// Storage key of the persisted settings.
  const char* settings_key = kSettingsKey;
};

class CommandRouter {
 public:
  /// Every reference is borrowed and must outlive the router. `rng` makes the
  /// random part of session ids (seed it from a real entropy source).
  /// `storage` may be null: `configure` then applies the settings but says in
  /// a warn note that they are not persisted. `options.settings_key` is
  /// borrowed.
  CommandRouter(const AclConfig& acl, drv::Registry& registry, hal::MonotonicClock& clock,
                Rng& rng, CommandHost& host, hal::Storage* storage,
                const CommandRouterOptions& options = CommandRouterOptions());
  CommandRouter(const CommandRouter&) = delete;
  CommandRouter& operator=(const CommandRouter&) = delete;

  /// The role `from` holds (see role_of() in agent/acl.hpp).
  Role role_of(const char* from) const;

  /// The commands `from` may run, in table order, for disco#items on
  /// http://jabber.org/protocol/commands. Writes at most `cap` entries (the
  /// table has 5) and returns how many it wrote. A stranger gets 0.
  size_t list_commands(const char* from, const CommandInfo** out, size_t cap) const;

  /// Answers one request (see the order of checks at the top of this file).
  /// `out` is reset first and always filled: either is_error with `err`, or
  /// a status with sessionid, optional form, actions and notes.
  void handle(const CommandRequest& req, CommandResponse* out);

  // --- the commands' logic, shared with ChatBot. Each checks the role of
  // `from` itself first (forbidden in *err) before it touches anything. ---

  /// Samples every device once (Registry::sample_all) and calls `visit` for
  /// every channel in registry order. Needs viewer. Returns false with *err
  /// (forbidden) when not allowed; a channel that cannot be read is visited
  /// with its error.
  bool read_all(const char* from, ReadingVisitor visit, void* ctx, CommandError* err);
  /// Samples the device of `channel` and reads that channel. Needs viewer.
  /// Errors in *err: forbidden; item-not-found (unknown channel);
  /// internal-server-error ("env0.temperature: read failed: timeout").
  bool read_channel(const char* from, const char* channel, drv::Value* value, CommandError* err);
  /// Validates `value_text` for `channel` (an actuator), drives it with
  /// Device::set and calls host.publish_telemetry_now(). Needs operator.
  /// On success *applied is the value set. Errors in *err: forbidden;
  /// bad-request + bad-payload (unknown channel, a sensor, a value that does
  /// not parse or the device rejects as out of range); internal-server-error
  /// (the hardware failed, with its error).
  bool set_channel(const char* from, const char* channel, const char* value_text,
                   drv::Value* applied, CommandError* err);
  /// One status line for people: "sim board, xiot 0.1.0, up 1h 02m, 9
  /// channels, healthy" (", degraded: <problem>" when not). Needs viewer.
  /// Errors in *err: forbidden; internal-server-error (buffer too small).
  bool status_line(const char* from, char* buf, size_t cap, CommandError* err);

  /// Drops sessions idle for longer than the timeout (also done lazily by
  /// handle()). Returns how many expired now. Call from the main loop if
  /// you like; never required.
  size_t expire_sessions();
  /// Multi-stage sessions currently live (tests, diagnostics).
  size_t live_sessions() const;
  /// The registry the router acts on (for channel metadata).
  const drv::Registry& registry() const { return registry_; }

 private:
  enum class Node : uint8_t { Read, Set, Diagnostics, Configure, Reboot };
  enum class SlotState : uint8_t { Free, Live, Expired };
  struct Session {
    SlotState state = SlotState::Free;
    Node node = Node::Read;
    uint8_t stage = 0;
    drv::Device* device = nullptr;  // set, stage 2: the chosen channel
    uint8_t channel = 0;
    hal::MonoTime last_used{};
    uint64_t serial = 0;            // creation order, for eviction ties
    char id[kSessionIdMax + 1] = {};
    char jid[kCommandJidMax + 1] = {};
  };

  static Node node_of(const CommandInfo* info);
  bool allowed(const char* from, Role needed, const char* what, CommandError* err) const;
  void make_session_id(char* out);
  Session* find_session(const char* id);
  Session* allocate_session(const char* from);
  void free_session(Session* s);
  bool expired(const Session& s, hal::MonoTime now) const;

  void start(Node node, const CommandRequest& req, CommandResponse* out);
  void resume(Session* s, const CommandRequest& req, CommandResponse* out);
  /// The request's form if it is a submit form; else fills `out` with
  /// bad-payload and returns nullptr.
  static const Form* submitted(const CommandRequest& req, CommandResponse* out);
  /// Performs a final submission (complete, or a one-shot execute with a
  /// form; `s` is null then). Returns true when the session is over
  /// (completed or canceled), false on an error (the session stays open).
  bool finish(Node node, Session* s, const CommandRequest& req, CommandResponse* out);

  void visit_readings(ReadingVisitor visit, void* ctx);
  void run_read(CommandResponse* out);
  void run_diagnostics(CommandResponse* out);
  void render_set_choose(const char* preselect, CommandResponse* out);
  void render_set_value(const Session& s, CommandResponse* out);
  void render_configure(CommandResponse* out);
  void render_reboot(CommandResponse* out);
  bool set_next(Session* s, const Form& form, CommandResponse* out);
  bool submit_set(const char* from, Session* s, const Form& form, CommandResponse* out);
  bool submit_configure(const char* from, const Form& form, CommandResponse* out);
  bool submit_reboot(const char* from, const Form& form, CommandResponse* out);
  bool resolve_actuator(const char* channel, drv::ChannelRef* ref, CommandError* err) const;
  bool apply_set(const char* from, drv::Device& dev, size_t channel, const char* value_text,
                 drv::Value* applied, CommandError* err);
  static void form_overflow(CommandResponse* out);

  const AclConfig& acl_;
  drv::Registry& registry_;
  hal::MonotonicClock& clock_;
  Rng& rng_;
  CommandHost& host_;
  hal::Storage* storage_;
  CommandRouterOptions options_;
  Session sessions_[kCommandSessions];
  uint64_t next_serial_ = 1;
};

/// Writes the IQ result payload for a successful response:
///   <command xmlns='http://jabber.org/protocol/commands' node='set'
///            sessionid='...' status='executing'>
///     <actions execute='complete'><prev/><complete/></actions>
///     <note type='warn'>...</note>
///     <x xmlns='jabber:x:data' type='form'>...</x>
///   </command>
/// (no whitespace on the wire; <actions/> only while executing). Everything
/// is XML-escaped. Returns the length (NUL-terminated). Errors:
/// InvalidArgument (`r.is_error`), Overflow (see command_xml_len()).
hal::Result<size_t> format_command_xml(char* buf, size_t cap, const CommandResponse& r);
/// The exact length format_command_xml() produces (without the NUL).
size_t command_xml_len(const CommandResponse& r);

/// Writes the IQ error child (RFC 6120 §8.3.2 order: condition, text, app condition):
///   <error type='modify'><bad-request xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>
///     <text xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'>value: ...</text>
///     <bad-payload xmlns='http://jabber.org/protocol/commands'/></error>
/// (the app condition and <text/> only when set). Returns the length.
/// Errors: Overflow.
hal::Result<size_t> format_command_error_xml(char* buf, size_t cap, const CommandError& e);

}  // namespace agent

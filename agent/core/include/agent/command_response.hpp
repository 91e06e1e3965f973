// What one XEP-0050 exchange carries, independent of any command: the
// request the session builds from a `<command/>` IQ, the response a command
// fills, the IQ error, and their XML. Nothing here sees libstrophe, and
// nothing allocates: a CommandResponse embeds its Form and its notes.
#pragma once

#include <cstddef>
#include <cstdint>

#include "agent/forms.hpp"
#include "hal/status.hpp"

namespace agent {

/// XEP-0050 namespace (also of the application-specific error conditions).
constexpr const char* kCommandsXmlns = "http://jabber.org/protocol/commands";
/// RFC 6120 stanza error namespace.
constexpr const char* kStanzaErrorXmlns = "urn:ietf:params:xml:ns:xmpp-stanzas";

constexpr size_t kSessionIdMax = 40;             ///< bytes of a sessionid
constexpr size_t kCommandNotesMax = 4;           ///< <note/>s per response
constexpr size_t kCommandTextMax = 192;          ///< bytes of a note or error text (NUL included)

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
  Conflict,             ///< cancel (firmware-update: another update runs)
  FeatureNotImplemented,///< cancel (firmware-update: no update config, url transport)
};
/// "bad-request" | "forbidden" | "item-not-found" | "internal-server-error" |
/// "not-allowed" | "resource-constraint" | "conflict" | "feature-not-implemented".
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

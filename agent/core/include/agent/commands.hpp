// XEP-0050 Ad-Hoc Commands: the command nodes of shared/DESIGN.md ("Commands")
// as a router over a table of handlers. The XMPP session translates an
// incoming `<command/>` IQ into a CommandRequest (building the Form from the
// `<x/>` child, see agent/forms.hpp), calls CommandRouter::handle(), and turns
// the CommandResponse back into an IQ result (format_command_xml()) or an IQ
// error (format_command_error_xml()). Nothing here sees libstrophe.
//
// Nodes, roles, forms and every error are documented for users in
// docs/commands.md. In short:
//   read         viewer    completes at once: a result form, one field per channel
//   set          operator  form (channel, value) -> Device::set -> publish now
//   diagnostics  operator  completes at once: uptime, firmware, board, counters
//   configure    owner     form (interval_s, batch_max) -> reconfigure + persist
//   reboot       owner     form (confirm, reason) -> host.request_reboot()
// Each node is one handler (agent/command_handler.hpp) in its own file under
// agent/core/src/commands/, listed in agent/core/src/commands/table.cpp.
//
// Order of checks in handle(), so that nothing is touched for someone who may
// not run the command: (1) the ACL on the sender's bare JID (a stranger gets
// `forbidden` whatever the node), (2) the node (`item-not-found`), (3) the
// role the node needs (`forbidden`), (4) the action attribute, (5) the form's
// size limits, (6) the session, (7) the handler, which alone touches devices.
//
// Memory: the router holds a fixed session table; a CommandResponse embeds
// its Form. Nothing allocates per request.
//
// This header also gives everything its users had from it before the split:
// agent/command_response.hpp (request, response, errors, XML),
// agent/command_handler.hpp (handlers, table, CommandHost) and
// agent/settings.hpp (TelemetrySettings, save/load).
#pragma once

#include <cstddef>
#include <cstdint>

#include "agent/acl.hpp"
#include "agent/backoff.hpp"
#include "agent/command_handler.hpp"
#include "agent/command_response.hpp"
#include "agent/config.hpp"
#include "agent/forms.hpp"
#include "agent/senml.hpp"
#include "agent/settings.hpp"
#include "drv/registry.hpp"
#include "hal/clock.hpp"
#include "hal/status.hpp"
#include "hal/storage.hpp"

namespace agent {

// --- capacities and timing ---
constexpr size_t kCommandSessions = 16;          ///< live multi-stage sessions, all senders
constexpr size_t kCommandSessionsPerJid = 4;     ///< live sessions of one bare JID
constexpr int64_t kCommandSessionIdleMs = 120000;  ///< default idle timeout (monotonic)
constexpr size_t kCommandJidMax = 255;           ///< bytes of a full JID a session is bound to
constexpr size_t kChannelNameMax = 64;           ///< "device.quantity" (NUL included)
constexpr size_t kValueTextMax = 48;             ///< a formatted drv::Value (NUL included)

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

/// Called by CommandRouter::visit_commands() for each command `from` may run.
using CommandVisitor = void (*)(void* ctx, const CommandInfo& command);

struct CommandRouterOptions {
  /// A session idle for longer is expired (monotonic clock).
  int64_t session_idle_ms = kCommandSessionIdleMs;
  /// Storage key of the persisted settings.
  const char* settings_key = kSettingsKey;
  /// The handlers the router offers; empty = the agent's table
  /// (agent_command_table()). Tests pass their own.
  CommandTable commands;
};

class CommandRouter {
 public:
  /// Every reference is borrowed and must outlive the router. `rng` makes the
  /// random part of session ids (seed it from a real entropy source).
  /// `storage` may be null: `configure` then applies the settings but says in
  /// a warn note that they are not persisted. `options.settings_key` and
  /// `options.commands` are borrowed.
  CommandRouter(const AclConfig& acl, drv::Registry& registry, hal::MonotonicClock& clock,
                Rng& rng, CommandHost& host, hal::Storage* storage,
                const CommandRouterOptions& options = CommandRouterOptions());
  CommandRouter(const CommandRouter&) = delete;
  CommandRouter& operator=(const CommandRouter&) = delete;

  /// The role `from` holds (see role_of() in agent/acl.hpp).
  Role role_of(const char* from) const;

  /// The router's table (options.commands, or the agent's).
  const CommandTable& commands() const { return commands_; }
  /// The router's entry for `node`, or nullptr (unknown, null).
  const CommandInfo* find(const char* node) const { return find_command(commands_, node); }
  /// Calls `visit` for every command `from` may run, in table order (the
  /// disco#items listing on http://jabber.org/protocol/commands), and
  /// returns how many it visited. A stranger gets none.
  size_t visit_commands(const char* from, CommandVisitor visit, void* ctx) const;
  /// The same listing into `out`: writes at most `cap` entries and returns
  /// how many it wrote (commands().count entries always suffice).
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
  /// Device::set and calls host.publish_telemetry_now(device, channel). Needs operator.
  /// On success *applied is the value set. Errors in *err: forbidden;
  /// bad-request + bad-payload (unknown channel, a sensor, a value that does
  /// not parse or the device rejects as out of range); internal-server-error
  /// (the hardware failed, with its error).
  bool set_channel(const char* from, const char* channel, const char* value_text,
                   drv::Value* applied, CommandError* err);
  /// set_channel() for desired state (agent/desired.hpp): the same ACL and
  /// validation, but a channel that already holds the value (compared as
  /// exact decimals, Device::get) is not set again and nothing is published;
  /// *changed says whether Device::set ran. Same errors as set_channel().
  bool desire_channel(const char* from, const char* channel, const char* value_text, drv::Value* applied,
                      bool* changed, CommandError* err);
  /// `configure` for one setting of desired state: `setting` is the
  /// configure form's field prefixed with "telemetry." (telemetry.interval_s,
  /// telemetry.batch_max, telemetry.sample_s, telemetry.batch_window_s),
  /// parsed and range-checked exactly as the form's field; applied through
  /// CommandHost::reconfigure_telemetry and persisted like `configure` when
  /// it differs from the setting in force (*changed). Needs owner. Errors in
  /// *err: forbidden; bad-request + bad-payload (unknown setting, bad value,
  /// out of range); the host's refusal.
  bool desire_setting(const char* from, const char* setting, const char* value_text, bool* changed,
                      CommandError* err);
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
  enum class SlotState : uint8_t { Free, Live, Expired };
  struct Session {
    SlotState state = SlotState::Free;
    const CommandInfo* command = nullptr;
    CommandStageState stage;
    hal::MonoTime last_used{};
    uint64_t serial = 0;            // creation order, for eviction ties
    char id[kSessionIdMax + 1] = {};
    char jid[kCommandJidMax + 1] = {};
  };

  bool allowed(const char* from, Role needed, const char* what, CommandError* err) const;
  void make_session_id(char* out);
  Session* find_session(const char* id);
  Session* pick_slot(const char* from);
  Session* allocate_session(const char* from);
  void free_session(Session* s);
  bool expired(const Session& s, hal::MonoTime now) const;

  /// Checks (1) to (5) of handle(); the command, or nullptr with `out` failed.
  const CommandInfo* admit(const CommandRequest& req, CommandResponse* out);
  /// Check (6) for a request with a sessionid; the session, or nullptr with
  /// `out` failed.
  Session* open_session_of(const CommandInfo& command, const CommandRequest& req, CommandResponse* out);
  void start(const CommandInfo& command, const CommandRequest& req, CommandResponse* out);
  void resume(Session* s, const CommandRequest& req, CommandResponse* out);
  /// The call a stage gets, with `form` and `state` (either may be null).
  CommandCall call_for(const char* from, const Form* form, CommandStageState* state);
  /// The request's form if it is a submit form; else fills `out` with
  /// bad-payload and returns nullptr.
  static const Form* submitted(const CommandRequest& req, CommandResponse* out);

  const AclConfig& acl_;
  drv::Registry& registry_;
  hal::MonotonicClock& clock_;
  Rng& rng_;
  CommandHost& host_;
  hal::Storage* storage_;
  CommandRouterOptions options_;
  CommandTable commands_;
  Session sessions_[kCommandSessions];
  uint64_t next_serial_ = 1;
};

}  // namespace agent

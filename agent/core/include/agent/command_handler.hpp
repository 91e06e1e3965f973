// A command node as a handler: its node, name and minimum role, and the
// stage functions the router (agent/commands.hpp) calls once the ACL, the
// node, the role, the action, the form's limits and the session have been
// checked. One handler per file under agent/core/src/commands/; the table in
// agent/core/src/commands/table.cpp lists them in disco#items order.
// Everything the router derives (the listing, lookups, counts) comes from
// that table.
//
// A command's life, as the router drives it (XEP-0050 §3):
//   stages == 0   execute answers at once (no session; a form in the
//                 request is ignored): read, diagnostics.
//   stages >= 1   execute without a form opens a session and shows the form
//                 of stage 1; `next` moves stage k to k + 1 (offered only
//                 while k < stages), `prev` moves back (only while k > 1),
//                 each setting call.state->stage itself once it may;
//                 `complete` acts on the submitted form and ends the session
//                 unless it answered with an error. An execute that already
//                 carries a submit form goes straight to `complete` (no
//                 session), a cancel form or action cancels.
// Stages answer through the CommandResponse: a form, notes, a status, or an
// IQ error. They must not allocate.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>

#include "agent/acl.hpp"
#include "agent/alerts.hpp"
#include "agent/command_response.hpp"
#include "agent/forms.hpp"
#include "agent/settings.hpp"
#include "drv/registry.hpp"
#include "hal/status.hpp"
#include "hal/storage.hpp"

namespace agent {

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
  /// Readings possibly lost in a power cut before this start (an upper bound;
  /// not part of dropped_readings; docs/journal.md "Power cuts").
  uint64_t power_cut_lost = 0;
  uint64_t replayed = 0;        ///< items sent again after a link loss or from an earlier run
  uint64_t errors = 0;          ///< read and publish errors since start
  uint32_t alert_rules = 0;     ///< alert rules configured (docs/alerts.md)
  uint32_t active_alarms = 0;   ///< of those, in alarm now
  uint32_t alerts_queued = 0;   ///< room messages waiting (the room is not joined)
  uint64_t alerts_dropped = 0;  ///< room messages dropped (the queue was full)
  char last_error[128] = {};
  int64_t cert_not_after = 0;   ///< client certificate notAfter (Unix s); 0 = none (password login)
  int64_t cert_days_left = 0;   ///< whole days until then (negative once expired)
};

/// The firmware-update command's request (docs/updates.md). Borrowed for the call.
struct FirmwareUpdateRequest {
  const char* from = "";           ///< the owner's full JID (the IBB stream must come from it)
  const char* manifest_b64 = "";   ///< the manifest bytes, base64 (the form's lines joined)
  const char* signature_b64 = "";  ///< DER ECDSA signature, base64
  bool url = false;                ///< transport "url" (else "ibb")
  const char* url_value = "";      ///< the image URL when `url`
};

/// What the host answers; the command turns it into the IQ result or error.
struct FirmwareUpdateAnswer {
  enum class Kind : uint8_t {
    Accepted,        ///< send the image: IBB `sid` from `offset`, or the device fetches `url`
    Refused,         ///< the manifest/signature failed a check (bad-request, `text` says why)
    Busy,            ///< another update runs (conflict)
    NotConfigured,   ///< no `update` section (feature-not-implemented)
    NotImplemented,  ///< this transport is not available (feature-not-implemented)
    Failed,          ///< storage error (internal-server-error)
  };
  Kind kind = Kind::NotConfigured;
  char sid[40] = {};
  uint64_t offset = 0;
  char text[kCommandTextMax] = {};
};

/// What the identity rotation (`rotate-identity`, docs/identity.md
/// "Rotation") answers; the command turns it into the IQ result or error.
struct IdentityRotationAnswer {
  enum class Kind : uint8_t {
    Ok,             ///< done (`text`: what, for the log and the note)
    PasswordLogin,  ///< the device logs in with a password (not-allowed)
    Refused,        ///< the certificate failed a check (bad-request, `text` says why)
    Failed,         ///< key generation or storage failed (internal-server-error)
  };
  Kind kind = Kind::PasswordLogin;
  char text[kCommandTextMax] = {};
};

/// The device's files for rotation, provided by the application (agent/app:
/// file I/O stays out of agent/core and agent/runtime). Certificates and
/// CSRs cross this interface as the base64 body of their PEM (the DER in
/// base64, no line breaks), which is how the command's form carries them.
class IdentityRotator {
 public:
  virtual ~IdentityRotator() = default;
  /// Makes a new pending key + CSR (replacing an earlier pending pair and
  /// certificate) and writes the CSR's base64 into `csr_b64` (`cap` bytes, NUL-terminated).
  virtual void begin(char* csr_b64, size_t cap, IdentityRotationAnswer* out) = 0;
  /// Checks the certificate (parses, signed for the pending key, names the
  /// JID, valid now) and stores it as the pending certificate.
  virtual void install(const char* cert_b64, IdentityRotationAnswer* out) = 0;
};

/// Effects that live outside agent/core, implemented by the application
/// (fakes in tests). Called only after the ACL and role checks passed.
class CommandHost {
 public:
  virtual ~CommandHost() = default;
  /// `set` changed channel `channel` of `device`: publish it now, so an item
  /// shows the change at once (TelemetryPublisher::publish_channel: an event
  /// item with that channel when it reports on change, else a full sample).
  virtual void publish_telemetry_now(const drv::Device& device, size_t channel) = 0;
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
  /// firmware-update: verifies the manifest and opens the transfer (the
  /// runtime's UpdateManager). Default: updates are not configured here.
  virtual void firmware_update(const FirmwareUpdateRequest& req, FirmwareUpdateAnswer* out) {
    (void)req;
    out->kind = FirmwareUpdateAnswer::Kind::NotConfigured;
    std::snprintf(out->text, sizeof out->text, "updates are not configured on this device (no \"update\" in its config)");
  }
  /// The alert settings in force (prefills the `alerts` form). Default: none.
  virtual void alert_settings(AlertSettings* out) { *out = AlertSettings{}; }
  /// `alerts`: applies `s` at once (the rule engine, the room joined). The
  /// command has checked every rule against the registry. Default: alerts
  /// are not available here. Errors: NotSupported (answered as
  /// feature-not-implemented), anything else (internal-server-error).
  virtual hal::Err apply_alert_settings(const AlertSettings& s) {
    (void)s;
    return hal::Err::NotSupported;
  }
  /// rotate-identity stage 1: IdentityRotator::begin. Default: a password login.
  virtual void rotate_identity_begin(char* csr_b64, size_t cap, IdentityRotationAnswer* out) {
    if (cap > 0) csr_b64[0] = '\0';
    out->kind = IdentityRotationAnswer::Kind::PasswordLogin;
    std::snprintf(out->text, sizeof out->text, "device logs in with a password (no xmpp.client_cert)");
  }
  /// rotate-identity stage 2: IdentityRotator::install, then the host
  /// switches to the new identity at a new login (after the answer is sent).
  virtual void rotate_identity_install(const char* cert_b64, IdentityRotationAnswer* out) {
    (void)cert_b64;
    out->kind = IdentityRotationAnswer::Kind::PasswordLogin;
    std::snprintf(out->text, sizeof out->text, "device logs in with a password (no xmpp.client_cert)");
  }
};

/// What a multi-stage session remembers between requests. Lives in the
/// router's fixed session table.
struct CommandStageState {
  uint8_t stage = 1;       ///< the stage whose form was shown last, 1..stages
  drv::ChannelRef chosen;  ///< a channel an earlier stage chose (set: stage 1's actuator)
};

/// What a stage may use. Built by the router for one call; every member is
/// borrowed for that call only.
struct CommandCall {
  const char* from;          ///< the sender's full JID (ACL and role already passed)
  const Form* form;          ///< the submitted form (next, complete), else nullptr
  CommandStageState* state;  ///< the session's state; nullptr without a session
  drv::Registry& registry;
  CommandHost& host;
  hal::Storage* storage;     ///< may be null: nothing can be persisted
  const char* settings_key;  ///< where `configure` persists (CommandRouterOptions)
  size_t live_sessions;      ///< multi-stage sessions open now, this one included
};

/// A stage: answers `call` into `out` (already holding the session id).
using CommandStage = void (*)(const CommandCall& call, CommandResponse* out);
/// Before a session opens: true when the command has nothing to ask and has
/// answered in `out` already (set on a board without actuators).
using CommandPrecheck = bool (*)(const CommandCall& call, CommandResponse* out);

/// A node this agent offers, and how it runs. An aggregate of constants and
/// function pointers: handlers hold no state of their own.
struct CommandInfo {
  const char* node;  ///< "read"
  const char* name;  ///< human name for disco#items, "Read sensors"
  Role role;         ///< the lowest role that may run it
  /// Form stages before completion; 0 = answers at once (see the top of this file).
  uint8_t stages;
  /// stages == 0: the whole answer. stages >= 1: shows the form of stage 1.
  CommandStage execute;
  /// Optional, stages >= 1: see CommandPrecheck.
  CommandPrecheck precheck;
  /// Stage k -> k + 1 with the submitted form; needed when stages >= 2.
  CommandStage next;
  /// Stage k -> k - 1; optional (nullptr: `prev` is refused as bad-action).
  CommandStage prev;
  /// Acts on the submitted form (call.state is nullptr for a one-shot
  /// execute); needed when stages >= 1.
  CommandStage complete;
};

/// A table of handlers, in listing order. Borrowed: the array must outlive
/// every router built over it.
struct CommandTable {
  const CommandInfo* entries = nullptr;
  size_t count = 0;
};

/// The agent's command table, in listing order. `count` (may be null)
/// receives its length.
const CommandInfo* command_table(size_t* count);
/// The agent's table as a CommandTable.
CommandTable agent_command_table();
/// The entry for `node` in the agent's table, or nullptr (unknown, null).
const CommandInfo* find_command(const char* node);
/// The entry for `node` in `table`, or nullptr (unknown, null).
const CommandInfo* find_command(const CommandTable& table, const char* node);

}  // namespace agent

// One running agent: the board's registry, the telemetry publisher, the XMPP
// session, the command router and the chat bot, composed and driven by one
// tick(). xiot-agent runs one (agent/app/main.cpp); the fleet simulator runs
// many on one libstrophe Context. The runtime is also the CommandHost: it is
// where `configure`, `set` and `reboot` take effect.
//
// Telemetry goes through the publisher's outbox and, when a segment store is
// given, its journal (agent/journal.hpp, docs/journal.md): readings survive
// link loss, server restarts and agent crashes until the server acknowledged
// them.
//
// Persisted settings (the `configure` command) live in `storage` under
// kSettingsKey; start() applies them over the config file's telemetry
// interval/batch_max (the config is the default, a `configure` overrides it
// until the next one).
//
// The watchdog: the board's hal::Watchdog (if it has one) is armed by start()
// with kWatchdogTimeoutMs, fed only at the end of tick() -- nowhere else -- and
// disarmed by stop(). tick() feeds it only while the loop is healthy:
//  - the session loop is turning: the Context was run (Context::run_once())
//    since the previous tick, so libstrophe is serviced, not just our timers;
//  - the journal is writable, or it is not and the device knowingly says so:
//    the health last published (presence, device node) is not "healthy".
// A loop that stops turning (blocked, or ticking without running libstrophe)
// stops feeding it, and the watchdog fires kWatchdogTimeoutMs later.
// The service manager's watchdog (hal::ServiceNotifier, systemd's
// WatchdogSec=) is fed at that same point under the same rule; the notifier
// also gets the presence status line whenever it changes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "agent/alerts.hpp"
#include "agent/backoff.hpp"
#include "agent/chat.hpp"
#include "agent/clock_gate.hpp"
#include "agent/commands.hpp"
#include "agent/config.hpp"
#include "agent/description.hpp"
#include "agent/desired.hpp"
#include "agent/ibb.hpp"
#include "agent/journal.hpp"
#include "agent/update.hpp"
#include "agent/telemetry.hpp"
#include "agent/xmpp/session.hpp"
#include "boards/board.hpp"
#include "hal/clock.hpp"
#include "hal/segment_store.hpp"
#include "hal/service_notifier.hpp"
#include "hal/storage.hpp"
#include "hal/watchdog.hpp"

namespace agent {

/// What signed updates need from the composition (agent/app): the
/// installer backend, where the state record and the staged image live, and
/// the version now running. All borrowed; must outlive the runtime.
struct UpdateParts {
  hal::Installer* installer = nullptr;
  hal::Storage* storage = nullptr;        ///< the update state record (update.state_dir)
  hal::SegmentStore* staging = nullptr;   ///< the staged image (segment kStagingSegment)
  const char* image_path = "";            ///< that segment as a file, for installer->begin()
  const char* installed_version = "";     ///< reported as the firmware version ("" = XIOT_VERSION)
  /// The board's self-test for the health gate besides the runtime's own
  /// health (all devices up); nullptr = none. Called from tick().
  bool (*self_test)(void* ctx) = nullptr;
  void* self_test_ctx = nullptr;
  /// The installer restarts the agent itself after installing and after
  /// mark_bad() (deb): the runtime then never requests that restart.
  bool installer_restarts_agent = false;
};

/// The hook the HTTP transport fills (transport "url"; agent/http's
/// HttpsUrlFetcher): starts fetching `url` into `sink` from sink.received() (a
/// Range request when resuming) and returns at once; poll() is called from
/// tick() while active(). Null (the default) = transport url answers
/// feature-not-implemented.
class UrlFetcher {
 public:
  virtual ~UrlFetcher() = default;
  /// `expected_total`: the manifest's image size (a resource of another size
  /// fails). Errors: InvalidArgument (bad URL, http://), NotSupported, Io.
  /// `why` (one line) on error.
  virtual hal::Err start(const char* url, ByteSink& sink, uint64_t expected_total, char* why, size_t why_cap) = 0;
  /// Drives the transfer (retries included); Ok while running or done, an
  /// error once it failed for good (error_text() says why).
  virtual hal::Err poll() = 0;
  /// Downloading or waiting to retry: the loop turns quickly meanwhile.
  virtual bool active() const = 0;
  /// Abandons the transfer (the connection closed); not active() after.
  virtual void stop() = 0;
  /// One line: the last failure or retry ("" = none).
  virtual const char* error_text() const = 0;
};

class AgentRuntime final : public CommandHost, public DesiredSink {
 public:
  /// How long the loop may stall before the watchdog fires. The loop turns at
  /// least once a second; libstrophe's TLS handshake blocks it for a while
  /// (seconds on a loaded server), and stop() takes up to ~2 s.
  static constexpr uint32_t kWatchdogTimeoutMs = 30000;

  /// Everything is borrowed and must outlive the runtime. `storage` may be
  /// null (settings are then not persisted; `configure` says so). `seed`
  /// seeds the boot id, the backoff jitter and the command session ids.
  /// `journal` holds the telemetry journal (cfg.journal: max_bytes, fsync);
  /// null = the outbox keeps the newest items in memory only.
  AgentRuntime(Context& ctx, const AgentConfig& cfg, boards::Board& board, hal::MonotonicClock& mono,
               hal::WallClock& wall, hal::Storage* storage, uint64_t seed,
               hal::SegmentStore* journal = nullptr);
  ~AgentRuntime() override;
  AgentRuntime(const AgentRuntime&) = delete;
  AgentRuntime& operator=(const AgentRuntime&) = delete;

  /// Loads persisted settings, starts the publisher (opening and recovering
  /// the journal: a journal that cannot be opened only degrades health), arms
  /// the board's watchdog (a watchdog that refuses only logs a warning) and
  /// starts the session (the first connection attempt). Errors: NoSpace
  /// (telemetry buffers), InvalidArgument / Io (the session could not be created).
  hal::Err start();
  /// The service manager to keep informed (see the top of this file); null =
  /// none (the default). Set before start(); it must outlive the runtime.
  /// ready() and stopping() are the caller's: only it knows when start-up is
  /// complete and whether a stop is a real one (not a `reboot` re-exec).
  void set_service_notifier(hal::ServiceNotifier* notifier) { notifier_ = notifier; }
  /// Clock sanity (agent/clock_gate.hpp, docs/time.md); null = none (the
  /// default). Set before start(); it must outlive the runtime. While the gate
  /// is closed, start() does not start the session (telemetry is sampled and
  /// journaled as usual) and says why in the log and the service status;
  /// tick() checks the gate every turn (at most 1 s apart) and starts the
  /// session once it opens. The presence status then says the agent waited.
  void set_clock_gate(ClockGate* gate) { clock_gate_ = gate; }
  /// True while the session waits for a sane clock.
  bool waiting_for_clock() const { return waiting_for_clock_; }
  /// Signed updates (cfg.update must be enabled): set before start().
  void set_update(const UpdateParts& parts) { update_parts_ = parts; }
  /// The HTTP transport of updates (transport "url"); borrowed; before start().
  void set_url_fetcher(UrlFetcher* f) { url_fetcher_ = f; }
  /// The update machine, or nullptr when updates are not configured.
  UpdateManager* update_manager() { return update_.get(); }
  /// Session timers, telemetry schedule, health, then the watchdog fed if the
  /// loop is healthy (see the top of this file). Call once per loop turn,
  /// between Context::run_once() calls. Returns the milliseconds until it
  /// next needs to run (at least 1).
  uint32_t tick();
  /// Going offline with `reason` (unavailable presence), then disconnected;
  /// the journal's watermark is persisted and synced; the watchdog disarmed
  /// (where the hardware allows).
  void stop(const char* reason);

  /// Set once `reboot` completed: the caller stops the runtime with
  /// reboot_reason() and restarts through the HAL.
  bool reboot_requested() const { return reboot_requested_; }
  const char* reboot_reason() const { return reboot_reason_; }
  /// Set once `rotate-identity` installed a new certificate: the caller
  /// stops the runtime ("switching to a new identity") and logs in again
  /// with the pending identity (docs/identity.md "Rotation").
  bool identity_switch_requested() const { return identity_switch_requested_; }
  /// The application's rotation files (agent/app); null (the default) = a
  /// password login: rotate-identity answers not-allowed.
  void set_identity_rotator(IdentityRotator* r) { rotator_ = r; }

  Session& session() { return session_; }
  TelemetryPublisher& publisher() { return publisher_; }
  const char* boot_id() const { return boot_id_; }
  /// The host's boot id for the journal's power-cut accounting
  /// (hal::linux_::host_boot_id(); docs/journal.md "Power cuts"). Before start().
  void set_host_boot_id(const char* id);
  /// The client certificate's notAfter (Unix s; 0 = none) and the renewal
  /// window (xmpp.cert_warn_days): diagnostics, the device node and the
  /// presence status show the days left (docs/identity.md). Before start().
  void set_client_certificate(int64_t not_after, uint32_t warn_days);
  /// The telemetry settings in force.
  const TelemetrySettings& settings() const { return settings_; }

  // CommandHost
  void publish_telemetry_now(const drv::Device& device, size_t channel) override;
  TelemetrySettings telemetry_settings() override { return settings_; }
  hal::Err reconfigure_telemetry(const TelemetrySettings& s) override;
  hal::Err request_reboot(const char* reason) override;
  void diagnostics(DiagnosticsInfo* out) override;
  void firmware_update(const FirmwareUpdateRequest& req, FirmwareUpdateAnswer* out) override;
  void rotate_identity_begin(char* csr_b64, size_t cap, IdentityRotationAnswer* out) override;
  void rotate_identity_install(const char* cert_b64, IdentityRotationAnswer* out) override;
  void alert_settings(AlertSettings* out) override;
  hal::Err apply_alert_settings(const AlertSettings& s) override;

  /// The alert rules (docs/alerts.md): the config's "alerts", replaced by
  /// what the `alerts` command persisted (kAlertsKey) when there is one.
  /// nullptr while no room and no rule was ever set (the engine and its
  /// buffers, ~4 KiB, exist only on devices that use alerts: the fleet
  /// simulator runs thousands of runtimes).
  AlertEngine* alerts() { return alerts_ ? &alerts_->engine : nullptr; }

  // DesiredSink (docs/desired-state.md): applies the item through the
  // router; the device node carries the report.
  void on_desired(const DesiredItem& item) override;
  const DesiredState& desired() const { return desired_; }

 private:
  /// Presence and the device node follow health and the actuators' state.
  /// `actuators_changed`: a command moved an actuator (the device node is
  /// then formatted again even if health did not change).
  void refresh_description(bool actuators_changed = false);
  DeviceFacts facts() const;
  /// The clock gate opened: log it, note it for presence, start the session.
  void start_after_clock();
  /// The health rule of the top of this file; notes the Context's turns.
  bool loop_healthy();
  /// Whole days until cert_not_after_ by the wall clock (negative once expired).
  int64_t cert_days_left() const;

  Context& ctx_;
  const AgentConfig& cfg_;
  boards::Board& board_;
  hal::MonotonicClock& mono_;
  hal::WallClock& wall_;
  hal::Storage* storage_;
  Rng rng_;
  hal::MonoTime started_{};
  char boot_id_[16] = {};
  TelemetrySettings settings_;
  TelemetryConfig telemetry_cfg_;  ///< cfg_.telemetry with the persisted settings applied
  Session session_;
  struct AlertParts {
    AlertParts(const drv::Registry& reg, hal::MonotonicClock& mono, hal::WallClock& wall) : engine(reg, mono, wall) {}
    AlertEngine engine;
    char text[1536] = {};  ///< one room message's children, formatted for the session
  };
  std::unique_ptr<AlertParts> alerts_;  ///< see alerts()
  /// Applies `s`: the engine (made on first use), the room.
  void use_alerts(const AlertSettings& s);
  /// Sends queued alert messages while the room is joined.
  void send_alerts();
  /// Logs the rules that cannot run (their channel is not on the board).
  void log_inactive_rules();
  std::unique_ptr<Journal> journal_;  ///< null without a segment store
  std::vector<drv::ReportPolicy> report_policies_;  // registry channel order; the publisher copies them
  TelemetryPublisher publisher_;
  CommandRouter router_;
  ChatBot chat_;
  DesiredState desired_;
  std::vector<FailedDevice> failed_;
  uint64_t samples_seen_ = 0;
  HealthReport last_health_{};
  bool have_health_ = false;
  char last_status_[256] = {};  ///< the presence status line last set
  std::vector<char> description_;      ///< scratch, sized once
  std::vector<char> last_description_; ///< what the device node holds
  bool reboot_requested_ = false;
  bool identity_switch_requested_ = false;
  IdentityRotator* rotator_ = nullptr;
  int64_t cert_not_after_ = 0;  ///< set_client_certificate(); 0 = none
  uint32_t cert_warn_days_ = 30;
  char reboot_reason_[kCommandTextMax] = {};
  hal::Watchdog* watchdog_ = nullptr;  ///< the board's, once armed by start()
  hal::ServiceNotifier* notifier_ = nullptr;
  uint64_t turns_seen_ = 0;            ///< Context::turns() at the previous tick
  ClockGate* clock_gate_ = nullptr;
  bool waiting_for_clock_ = false;
  char url_note_[160] = {};            ///< the URL fetcher's last retry note (logged once)
  char clock_note_[96] = {};           ///< appended to the presence status once online after a wait
  // Signed updates (docs/updates.md).
  void start_update();
  void tick_update();
  UpdateParts update_parts_;
  UrlFetcher* url_fetcher_ = nullptr;
  TrustedKeys update_keys_;
  std::unique_ptr<UpdateManager> update_;
  std::unique_ptr<IbbReceiver> ibb_;  ///< only with updates configured (its buffers are ~40 KB)
  uint32_t update_changes_seen_ = 0;
  UpdateState update_state_seen_ = UpdateState::Idle;
  hal::MonoTime update_published_{};
  char maintenance_[96] = {};
};

}  // namespace agent

// See agent/runtime.hpp.
#include "agent/runtime.hpp"

#include <cstdio>
#include <cstring>

#include "agent/log.hpp"
#include "boards/report.hpp"
#include "xiot/version.hpp"

namespace agent {
namespace {

TelemetrySettings settings_of(const TelemetryConfig& t) {
  TelemetrySettings s;
  s.interval_ms = static_cast<uint32_t>(t.interval_s * 1000.0 + 0.5);
  s.batch_max = t.batch_max;
  s.sample_ms = static_cast<uint32_t>(t.sample_s * 1000.0 + 0.5);
  s.batch_window_ms = static_cast<uint32_t>(t.batch_window_s * 1000.0 + 0.5);
  return s;
}

// The config with the persisted settings applied, computed before the
// publisher is constructed (it copies its config).
TelemetryConfig effective_telemetry(const AgentConfig& cfg, hal::Storage* storage) {
  TelemetryConfig t = cfg.telemetry;
  if (storage == nullptr) return t;
  TelemetrySettings s = settings_of(t);
  const hal::Err e = load_settings(*storage, kSettingsKey, &s);
  if (e == hal::Err::Ok) {
    t.interval_s = s.interval_ms / 1000.0;
    t.batch_max = s.batch_max;
    t.sample_s = s.sample_ms / 1000.0;
    t.batch_window_s = s.batch_window_ms / 1000.0;
    XLOG_INFO("agent", "persisted settings: telemetry every %g s, batch_max %u, sample %g s, window %g s (from %s)",
              t.interval_s, t.batch_max, t.sample_s, t.batch_window_s, kSettingsKey);
  } else if (e != hal::Err::NotFound) {
    // A damaged blob is not fatal: the config's values hold until the next
    // `configure` replaces it.
    XLOG_WARN("agent", "persisted settings %s unusable (%s); using the config file's", kSettingsKey,
              hal::err_name(e));
  }
  return t;
}

AlertSettings alert_settings_of(const AlertsConfig& c) {
  AlertSettings a;
  std::snprintf(a.room, sizeof a.room, "%s", c.room.c_str());
  std::snprintf(a.nick, sizeof a.nick, "%s", c.nick.c_str());
  for (const AlertRule& r : c.rules) {
    if (a.count < kAlertRulesMax) a.rules[a.count++] = r;
  }
  return a;
}

std::unique_ptr<Journal> make_journal(hal::SegmentStore* store, hal::MonotonicClock& mono, const JournalConfig& j) {
  if (store == nullptr) return nullptr;
  JournalOptions o;
  o.max_bytes = j.max_bytes;
  o.fsync = j.fsync;
  o.fsync_interval_us = static_cast<int64_t>(j.fsync_interval_s * 1e6 + 0.5);
  return std::unique_ptr<Journal>(new Journal(*store, mono, o));
}

}  // namespace

AgentRuntime::AgentRuntime(Context& ctx, const AgentConfig& cfg, boards::Board& board, hal::MonotonicClock& mono,
                           hal::WallClock& wall, hal::Storage* storage, uint64_t seed,
                           hal::SegmentStore* journal)
    : ctx_(ctx),
      cfg_(cfg),
      board_(board),
      mono_(mono),
      wall_(wall),
      storage_(storage),
      rng_(seed),
      telemetry_cfg_(effective_telemetry(cfg, storage)),
      session_(ctx, cfg, mono, rng_),
      journal_(make_journal(journal, mono, cfg.journal)),
      publisher_(board.registry(), mono, wall, telemetry_cfg_, cfg.xmpp.jid.c_str(), boot_id_, session_,
                 journal_.get()),
      router_(cfg.acl, board.registry(), mono, rng_, *this, storage),
      chat_(router_),
      desired_(router_) {
  (void)make_boot_id(boot_id_, sizeof boot_id_, rng_.next());
  settings_ = settings_of(telemetry_cfg_);
  for (const auto& f : board.failed()) failed_.push_back(FailedDevice{f.name.c_str(), f.err});
}

AgentRuntime::~AgentRuntime() = default;

void AgentRuntime::set_host_boot_id(const char* id) {
  if (journal_) journal_->set_host_boot(id);
}

void AgentRuntime::set_client_certificate(int64_t not_after, uint32_t warn_days) {
  cert_not_after_ = not_after;
  cert_warn_days_ = warn_days;
}

int64_t AgentRuntime::cert_days_left() const {
  const int64_t now = wall_.wall_now().unix_us / 1000000;
  const int64_t d = cert_not_after_ - now;
  return d >= 0 ? d / 86400 : -((-d + 86399) / 86400);
}

DeviceFacts AgentRuntime::facts() const {
  DeviceFacts f{};
  f.board = board_.name().c_str();
  f.firmware = update_parts_.installed_version != nullptr && update_parts_.installed_version[0] != '\0'
                   ? update_parts_.installed_version
                   : XIOT_VERSION;
  if (update_) {
    const UpdateStatus u = update_->status();
    f.update_state = update_state_name(u.state);
    f.update_version = u.version;
    f.update_progress = u.progress;
    f.update_error = u.error;
    if (update_->busy()) f.maintenance = maintenance_;
  }
  f.boot_id = boot_id_;
  f.registry = &board_.registry();
  f.failed_devices = failed_.empty() ? nullptr : failed_.data();
  f.failed_count = failed_.size();
  f.storage_problem = publisher_.outbox().storage_problem();
  f.dropped_readings = publisher_.items_dropped();
  if (const Journal* j = publisher_.outbox().journal()) f.power_cut_lost = j->stats().power_cut_lost;
  f.desired_report = desired_.report_xml();
  f.report_policies = report_policies_.size() == board_.registry().channel_count() ? report_policies_.data() : nullptr;
  if (cert_not_after_ != 0) {
    f.cert_not_after = cert_not_after_;
    f.cert_days_left = cert_days_left();
    f.cert_warn_days = cert_warn_days_;
  }
  return f;
}

hal::Err AgentRuntime::start() {
  started_ = mono_.mono_now();
  report_policies_ = boards::report_policies(board_);
  publisher_.set_report_policies(report_policies_.data(), report_policies_.size());
  const hal::Err e = publisher_.start();
  if (e != hal::Err::Ok) return e;
  session_.set_publish_listener(&publisher_.outbox());
  {
    // The config's rules, unless the `alerts` command replaced them.
    AlertSettings a = alert_settings_of(cfg_.alerts);
    if (storage_ != nullptr) {
      const hal::Err le = load_alerts(*storage_, kAlertsKey, &a);
      if (le == hal::Err::Ok) {
        XLOG_INFO("alerts", "persisted alert rules: %zu, room %s (from %s)", a.count, a.room[0] != '\0' ? a.room : "(none)",
                  kAlertsKey);
      } else if (le != hal::Err::NotFound) {
        XLOG_WARN("alerts", "persisted alert rules %s unusable (%s); using the config file's", kAlertsKey,
                  hal::err_name(le));
        a = alert_settings_of(cfg_.alerts);
      }
    }
    use_alerts(a);
  }
  start_update();
  const DeviceFacts f = facts();
  description_.resize(device_description_bound(f));
  session_.set_command_handlers(&router_, &chat_);
  session_.set_desired_sink(this);
  if (clock_gate_ != nullptr && !clock_gate_->check()) {
    // Never connect with a clock that cannot check certificates; never weaken
    // the check either: wait (tick() looks again every turn). The service
    // status says why (refresh_description sends the gate's line meanwhile).
    waiting_for_clock_ = true;
    XLOG_WARN("clock", "%s", clock_gate_->waiting_line());
  }
  refresh_description();
  turns_seen_ = ctx_.turns();
  if (hal::Watchdog* wd = board_.watchdog()) {
    const hal::Err w = wd->start(kWatchdogTimeoutMs);
    if (w == hal::Err::Ok) {
      watchdog_ = wd;
    } else {
      XLOG_WARN("agent", "watchdog %s not armed: %s", board_.watchdog_name(), hal::err_name(w));
    }
  }
  if (waiting_for_clock_) return hal::Err::Ok;  // tick() starts the session once the clock is sane
  return session_.start();
}

void AgentRuntime::start_after_clock() {
  waiting_for_clock_ = false;
  XLOG_INFO("clock", "%s: connecting", clock_gate_->opened_line());
  std::snprintf(clock_note_, sizeof clock_note_, "started after waiting %lld s for the clock",
                static_cast<long long>(clock_gate_->waited_s()));
  last_status_[0] = '\0';  // the status line changes (and goes to the notifier) at the next refresh
  const hal::Err e = session_.start();
  if (e != hal::Err::Ok) XLOG_ERROR("agent", "cannot start the XMPP session: %s", hal::err_name(e));
  refresh_description();
}

void AgentRuntime::refresh_description(bool actuators_changed) {
  const DeviceFacts f = facts();
  const HealthReport report = assess_health(f);
  const bool health_changed = !have_health_ || report.health != last_health_.health ||
                              std::strcmp(report.problem, last_health_.problem) != 0;
  char status[256];
  if (!format_status_line(status, sizeof status, f, report).ok()) status[0] = '\0';
  if (clock_note_[0] != '\0') {
    const size_t used = std::strlen(status);
    std::snprintf(status + used, sizeof status - used, "%s%s", used > 0 ? ", " : "", clock_note_);
  }
  // Presence follows health, and the status line (which also counts dropped
  // readings: drop-oldest removes whole journal segments, so it changes in
  // steps, not per reading).
  if (health_changed || std::strcmp(status, last_status_) != 0) {
    if (health_changed) {
      if (report.health != Health::Healthy) {
        XLOG_WARN("health", "%s: %s", health_name(report.health), report.problem);
      } else {
        XLOG_INFO("health", "healthy");
      }
    }
    last_health_ = report;
    have_health_ = true;
    std::memcpy(last_status_, status, sizeof last_status_);
    const char* show = report.health == Health::Healthy ? nullptr : report.health == Health::Degraded ? "away" : "dnd";
    session_.set_presence(show, status);
    if (notifier_ != nullptr) (void)notifier_->status(waiting_for_clock_ ? clock_gate_->waiting_line() : status);
  }
  // The device node is the reported state: it changes with health and with
  // the actuators' values (only a `set` moves them), so it is formatted only
  // then, not after every sample, and republished only if the text differs.
  if (!health_changed && !actuators_changed) return;
  auto len = format_device_description(description_.data(), description_.size(), f, report);
  if (!len.ok()) {
    XLOG_ERROR("health", "device description does not fit %zu bytes", description_.size());
    return;
  }
  const size_t n = len.value() + 1;
  if (last_description_.size() == n && std::memcmp(last_description_.data(), description_.data(), n) == 0) return;
  last_description_.assign(description_.data(), description_.data() + n);
  session_.set_device_description(last_description_.data());
}

void AgentRuntime::start_update() {
  if (!cfg_.update.enabled) return;
  const UpdateParts& p = update_parts_;
  if (p.installer == nullptr || p.storage == nullptr || p.staging == nullptr) {
    XLOG_ERROR("update", "update.installer %s is not available in this build: updates disabled",
               cfg_.update.installer == InstallerKind::Sim ? "sim" : cfg_.update.installer == InstallerKind::Rauc ? "rauc" : "deb");
    return;
  }
  for (size_t i = 0; i < cfg_.update.public_keys.size(); ++i) {
    std::string why;
    if (!update_keys_.add_pem(cfg_.update.public_keys[i].c_str(), cfg_.update.key_names[i].c_str(), &why)) {
      XLOG_ERROR("update", "%s", why.c_str());
    }
  }
  UpdateManager::Options o;
  o.compatible = board_.spec().compatible.c_str();
  o.health_window_ms = static_cast<uint32_t>(cfg_.update.health_window_s * 1000.0 + 0.5);
  o.max_size = cfg_.update.max_image_bytes;
  o.image_path = p.image_path;
  o.installer_restarts_agent = p.installer_restarts_agent;
  update_.reset(new UpdateManager(*p.storage, *p.staging, *p.installer, update_keys_, mono_, o));
  const hal::Err e = update_->start(facts().firmware);
  if (e != hal::Err::Ok) XLOG_ERROR("update", "cannot resume the update state: %s", hal::err_name(e));
  const UpdateStatus u = update_->status();
  XLOG_INFO("update", "installer %s, running %s, update state %s%s%s", p.installer->name(), facts().firmware,
            update_state_name(u.state), u.error[0] != '\0' ? ": " : "", u.error);
  std::snprintf(maintenance_, sizeof maintenance_, "firmware update to %s running", u.version);
  ibb_.reset(new IbbReceiver);
  session_.set_ibb_receiver(ibb_.get());
  update_changes_seen_ = update_->changes();
  update_state_seen_ = u.state;
}

void AgentRuntime::tick_update() {
  if (!update_) return;
  if (url_fetcher_ != nullptr && url_fetcher_->active()) {
    if (update_->status().state != UpdateState::Downloading) {
      url_fetcher_->stop();  // the transfer ended another way (a failure, a restart)
    } else {
      const hal::Err e = url_fetcher_->poll();
      if (e != hal::Err::Ok) {
        XLOG_WARN("update", "image fetch failed (%s): %s", hal::err_name(e), url_fetcher_->error_text());
        char text[UpdateManager::kTextMax];
        std::snprintf(text, sizeof text, "download: %s", url_fetcher_->error_text());
        update_->fail_transfer(text);
      } else if (std::strcmp(url_fetcher_->error_text(), url_note_) != 0) {
        std::snprintf(url_note_, sizeof url_note_, "%s", url_fetcher_->error_text());
        if (url_note_[0] != '\0') XLOG_WARN("update", "image fetch: %s", url_note_);
      }
    }
  }
  // The health gate: the session is up and the board's self-test passes
  // (every device initialised and sampling; the installer's own check).
  bool board_ok = false;
  if (update_->status().state == UpdateState::BootedUnconfirmed) {
    DeviceFacts f = facts();
    f.maintenance = nullptr;
    board_ok = assess_health(f).health == Health::Healthy &&
               (update_parts_.self_test == nullptr || update_parts_.self_test(update_parts_.self_test_ctx));
  }
  update_->tick(session_.online(), board_ok);
  if (update_->status().state == UpdateState::Downloading && ibb_->armed() && ibb_->closed_by_sender()) {
    // The sender closed its stream and the image is still short (a complete
    // one was verified by tick() above): a truncated image, not a lost link.
    char text[UpdateManager::kTextMax];
    std::snprintf(text, sizeof text, "image truncated: the sender closed the stream after %llu of %llu bytes",
                  static_cast<unsigned long long>(update_->sink().received()),
                  static_cast<unsigned long long>(update_->sink().expected()));
    XLOG_WARN("update", "%s", text);
    update_->fail_transfer(text);
  }
  const UpdateStatus u = update_->status();
  if (u.state != UpdateState::Downloading && ibb_->armed()) ibb_->disarm();
  if (update_->changes() != update_changes_seen_) {
    // Progress at most every 2 s; state changes at once.
    const hal::MonoTime now = mono_.mono_now();
    if (u.state != update_state_seen_ || now.us_since(update_published_) >= 2000000) {
      update_state_seen_ = u.state;
      update_changes_seen_ = update_->changes();
      update_published_ = now;
      std::snprintf(maintenance_, sizeof maintenance_, "firmware update to %s: %s", u.version,
                    update_state_name(u.state));
      XLOG_INFO("update", "%s %s %u%%%s%s", update_state_name(u.state), u.version, u.progress,
                u.error[0] != '\0' ? ": " : "", u.error);
      refresh_description(true);
    }
  }
  if (update_->restart_requested() && !reboot_requested_) {
    (void)request_reboot(update_->restart_reason());
    update_->clear_restart_request();
  }
}

void AgentRuntime::firmware_update(const FirmwareUpdateRequest& req, FirmwareUpdateAnswer* out) {
  using Kind = FirmwareUpdateAnswer::Kind;
  if (!update_) {
    out->kind = Kind::NotConfigured;
    std::snprintf(out->text, sizeof out->text, "%s",
                  cfg_.update.enabled ? "updates are configured but the installer is not available in this build"
                                      : "updates are not configured on this device (no \"update\" in its config)");
    return;
  }
  if (req.url && url_fetcher_ == nullptr) {
    out->kind = Kind::NotImplemented;
    std::snprintf(out->text, sizeof out->text, "transport url: not available in this build; use transport ibb");
    return;
  }
  uint64_t offset = 0;
  std::string why;
  switch (update_->offer(req.manifest_b64, req.signature_b64, &offset, &why)) {
    case UpdateManager::Offer::Accepted: break;
    case UpdateManager::Offer::Refused:
      out->kind = Kind::Refused;
      std::snprintf(out->text, sizeof out->text, "%s", why.c_str());
      XLOG_WARN("update", "firmware-update from %s refused: %s", req.from, why.c_str());
      return;
    case UpdateManager::Offer::Busy:
      out->kind = Kind::Busy;
      std::snprintf(out->text, sizeof out->text, "%s", why.c_str());
      return;
    case UpdateManager::Offer::Failed:
      out->kind = Kind::Failed;
      std::snprintf(out->text, sizeof out->text, "%s", why.c_str());
      return;
  }
  out->kind = Kind::Accepted;
  out->offset = offset;
  std::snprintf(out->sid, sizeof out->sid, "fw-%016llx", static_cast<unsigned long long>(rng_.next()));
  const UpdateStatus u = update_->status();
  if (req.url) {
    char text[kCommandTextMax];
    url_note_[0] = '\0';
    const hal::Err e =
        url_fetcher_->start(req.url_value, update_->sink(), update_->sink().expected(), text, sizeof text);
    if (e != hal::Err::Ok) {
      out->kind = Kind::Failed;
      std::snprintf(out->text, sizeof out->text, "url: %.180s", text);
      char error[UpdateManager::kTextMax];
      std::snprintf(error, sizeof error, "url: %.150s", text);
      update_->fail_transfer(error);  // the device node says why, too
      return;
    }
    out->sid[0] = '\0';
  } else {
    ibb_->arm(req.from, out->sid, &update_->sink());
  }
  std::snprintf(out->text, sizeof out->text, "update to %s: send %llu bytes from offset %llu", u.version,
                static_cast<unsigned long long>(update_->sink().expected() - offset),
                static_cast<unsigned long long>(offset));
  std::snprintf(maintenance_, sizeof maintenance_, "firmware update to %s: downloading", u.version);
  refresh_description(true);
}

uint32_t AgentRuntime::tick() {
  if (waiting_for_clock_ && clock_gate_->check()) start_after_clock();
  tick_update();
  uint32_t session_wait = session_.tick();
  if (waiting_for_clock_ && session_wait > 1000) session_wait = 1000;
  const hal::MonoTime next_sample = publisher_.tick();
  if (publisher_.samples_taken() != samples_seen_) {
    samples_seen_ = publisher_.samples_taken();
    refresh_description();
  }
  int64_t wait_ms = next_sample.us_since(mono_.mono_now()) / 1000;
  if (alerts_) {
    const hal::MonoTime next_alert = alerts_->engine.tick();
    send_alerts();
    const int64_t alert_ms = next_alert.us_since(mono_.mono_now()) / 1000;
    if (alert_ms < wait_ms) wait_ms = alert_ms;
  }
  if (wait_ms > session_wait) wait_ms = session_wait;
  // An image download over HTTPS: its socket is not in the XMPP context's
  // poll, so the loop turns every millisecond while it runs.
  if (url_fetcher_ != nullptr && url_fetcher_->active()) wait_ms = 1;
  if (wait_ms < 1) wait_ms = 1;
  // The one place the watchdogs are fed: the board's and the service manager's.
  if (loop_healthy()) {
    if (watchdog_ != nullptr) (void)watchdog_->feed();
    if (notifier_ != nullptr) (void)notifier_->keepalive();
  }
  return static_cast<uint32_t>(wait_ms);
}

bool AgentRuntime::loop_healthy() {
  const uint64_t turns = ctx_.turns();
  const bool turning = turns != turns_seen_;
  turns_seen_ = turns;
  // A journal that fails is no reason to reset (a reset does not free a full
  // disk), once presence and the device node say the device is degraded.
  const bool journal_ok = publisher_.outbox().storage_problem() == nullptr ||
                          (have_health_ && last_health_.health != Health::Healthy);
  return turning && journal_ok;
}

void AgentRuntime::stop(const char* reason) {
  session_.stop(reason);
  const hal::Err e = publisher_.outbox().flush();
  if (e != hal::Err::Ok && e != hal::Err::NotReady) {
    XLOG_WARN("journal", "final flush failed: %s", hal::err_name(e));
  } else if (e == hal::Err::Ok) {
    // The clean-stop mark that a shutdown test (tests/vm) and a person read.
    XLOG_INFO("journal", "journal closed: flushed to storage, %zu items waiting for delivery", publisher_.pending());
  }
  // One line that accounts for every item of this run (tools/soak reads it).
  const OutboxStats& o = publisher_.outbox().stats();
  XLOG_INFO("telemetry",
            "this run: %llu items made, %llu acknowledged by the server, %llu replayed, %llu resent, "
            "%llu rejected, %llu dropped (journal full %llu, memory %llu, other %llu), %zu waiting; %llu readings taken",
            static_cast<unsigned long long>(o.committed), static_cast<unsigned long long>(o.acked),
            static_cast<unsigned long long>(o.replayed), static_cast<unsigned long long>(o.resent),
            static_cast<unsigned long long>(o.rejected),
            static_cast<unsigned long long>(o.dropped_full + o.dropped_memory + o.dropped_other),
            static_cast<unsigned long long>(o.dropped_full), static_cast<unsigned long long>(o.dropped_memory),
            static_cast<unsigned long long>(o.dropped_other), publisher_.pending(),
            static_cast<unsigned long long>(publisher_.samples_taken()));
  if (watchdog_ != nullptr) {
    const hal::Err w = watchdog_->stop();
    if (w != hal::Err::Ok && w != hal::Err::NotSupported) {
      XLOG_WARN("agent", "watchdog %s: %s", board_.watchdog_name(), hal::err_name(w));
    }
    watchdog_ = nullptr;
  }
}

void AgentRuntime::send_alerts() {
  AlertEngine& engine = alerts_->engine;
  while (engine.queued() > 0 && session_.muc_joined()) {
    const AlertEvent& e = engine.front();
    if (engine.format_message(alerts_->text, sizeof alerts_->text, e, cfg_.xmpp.jid.c_str()).ok()) {
      XLOG_INFO("alerts", "%s %s", e.alarm ? "ALARM" : "CLEAR", engine.settings().rules[e.rule].channel);
      (void)session_.send_groupchat(alerts_->text);
    } else {
      XLOG_ERROR("alerts", "alert message does not fit %zu bytes; dropped", sizeof alerts_->text);
    }
    engine.pop();
  }
}

void AgentRuntime::use_alerts(const AlertSettings& s) {
  if (!alerts_ && (s.count != 0 || s.room[0] != '\0')) {
    alerts_.reset(new AlertParts(board_.registry(), mono_, wall_));
    publisher_.set_sample_observer(&alerts_->engine);
  }
  if (alerts_) {
    alerts_->engine.set_rules(s);
    log_inactive_rules();
  }
  session_.set_muc_room(s.room, s.nick);
}

void AgentRuntime::alert_settings(AlertSettings* out) {
  if (alerts_) {
    *out = alerts_->engine.settings();
  } else {
    *out = AlertSettings{};
  }
}

void AgentRuntime::log_inactive_rules() {
  const AlertSettings& a = alerts_->engine.settings();
  for (size_t i = 0; i < a.count; ++i) {
    if (const char* why = alert_rule_channel_problem(board_.registry(), a.rules[i], nullptr, nullptr)) {
      XLOG_WARN("alerts", "rule %zu (%s): %s; inactive until it is there", i + 1, a.rules[i].channel, why);
    }
  }
}

hal::Err AgentRuntime::apply_alert_settings(const AlertSettings& s) {
  use_alerts(s);
  return hal::Err::Ok;
}

void AgentRuntime::on_desired(const DesiredItem& item) {
  // An actuator that moved already refreshed the description (through
  // publish_telemetry_now); a new report needs it too.
  if (desired_.apply(item, wall_.wall_now())) refresh_description(true);
}

void AgentRuntime::publish_telemetry_now(const drv::Device& device, size_t channel) {
  publisher_.publish_channel(device, channel);
  samples_seen_ = publisher_.samples_taken();
  refresh_description(true);
}

hal::Err AgentRuntime::reconfigure_telemetry(const TelemetrySettings& s) {
  const hal::Err e =
      publisher_.reconfigure(s.interval_ms / 1000.0, s.batch_max, s.sample_ms / 1000.0, s.batch_window_ms / 1000.0);
  if (e != hal::Err::Ok) return e;
  settings_ = s;
  XLOG_INFO("agent", "telemetry reconfigured: every %u ms, batch_max %u, sample every %u ms", s.interval_ms,
            s.batch_max, s.sample_ms);
  return hal::Err::Ok;
}

hal::Err AgentRuntime::request_reboot(const char* reason) {
  std::snprintf(reboot_reason_, sizeof reboot_reason_, "%s", reason != nullptr && reason[0] != '\0' ? reason : "reboot requested");
  reboot_requested_ = true;
  XLOG_INFO("agent", "reboot requested: %s", reboot_reason_);
  return hal::Err::Ok;
}

void AgentRuntime::rotate_identity_begin(char* csr_b64, size_t cap, IdentityRotationAnswer* out) {
  if (rotator_ == nullptr) {
    CommandHost::rotate_identity_begin(csr_b64, cap, out);
    return;
  }
  rotator_->begin(csr_b64, cap, out);
}

void AgentRuntime::rotate_identity_install(const char* cert_b64, IdentityRotationAnswer* out) {
  if (rotator_ == nullptr) {
    CommandHost::rotate_identity_install(cert_b64, out);
    return;
  }
  rotator_->install(cert_b64, out);
  if (out->kind == IdentityRotationAnswer::Kind::Ok) {
    identity_switch_requested_ = true;
    XLOG_INFO("identity", "new certificate installed (%s); logging in again with it", out->text);
  }
}

void AgentRuntime::diagnostics(DiagnosticsInfo* out) {
  out->uptime_s = static_cast<uint64_t>(mono_.mono_now().us_since(started_) / 1000000);
  std::snprintf(out->firmware, sizeof out->firmware, "%s", facts().firmware);
  std::snprintf(out->board, sizeof out->board, "%s", board_.name().c_str());
  std::snprintf(out->boot_id, sizeof out->boot_id, "%s", boot_id_);
  const HealthReport report = assess_health(facts());
  std::snprintf(out->health, sizeof out->health, "%s", health_name(report.health));
  std::snprintf(out->problem, sizeof out->problem, "%s", report.problem);
  const SessionStats& st = session_.stats();
  out->reconnects = st.logins > 0 ? st.logins - 1 : 0;
  const Outbox& outbox = publisher_.outbox();
  out->journal_depth = publisher_.pending() + publisher_.batched();
  out->dropped_readings = publisher_.items_dropped();
  out->replayed = outbox.stats().replayed;
  if (const Journal* j = outbox.journal()) {
    out->journal_bytes = j->stats().bytes;
    out->journal_corrupt = j->stats().corrupt_skipped;
    out->power_cut_lost = j->stats().power_cut_lost;
  }
  out->errors = publisher_.read_errors() + st.items_rejected + outbox.stats().journal_errors;
  if (cert_not_after_ != 0) {
    out->cert_not_after = cert_not_after_;
    out->cert_days_left = cert_days_left();
  }
  if (alerts_) {
    const AlertEngine& engine = alerts_->engine;
    out->alert_rules = static_cast<uint32_t>(engine.settings().count);
    out->active_alarms = static_cast<uint32_t>(engine.active_alarms());
    out->alerts_queued = static_cast<uint32_t>(engine.queued());
    out->alerts_dropped = engine.dropped();
  }
  if (const char* storage = outbox.storage_problem()) {
    std::snprintf(out->last_error, sizeof out->last_error, "%s", storage);
  } else if (publisher_.last_error() != hal::Err::Ok) {
    std::snprintf(out->last_error, sizeof out->last_error, "telemetry: %s", hal::err_name(publisher_.last_error()));
  }
}

}  // namespace agent

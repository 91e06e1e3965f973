// xiot-agent: the composition root. Loads the config and the board, composes
// one AgentRuntime (telemetry, session, commands, chat) and runs the one loop:
//   run libstrophe (bounded) -> runtime tick (session timers, telemetry, health).
// A `reboot` command ends the loop: offline with the reason, then the HAL
// restart chosen by the config's "reboot" key (app/reboot_backend.hpp):
// re-exec of this binary with the same arguments, or logind's Reboot. If the
// restart fails the agent logs why and goes online again.
//
// `xiot-agent setup ...` writes a device's config instead (app/setup.hpp);
// `xiot-agent identity new|show` makes and shows the device key and CSR
// (app/identity_cmd.hpp).
//
// Logs: when stderr is the journal ($JOURNAL_STREAM), lines carry syslog
// priorities and no timestamp (agent/log.hpp).
//
// Under systemd (Type=notify, docs/config.md "Watchdog"): READY=1 once started (the
// board, the journal and the first connection attempt are up; not once
// online, since an agent that runs offline and buffers is working, and a
// start job that waited for the server would time out and kill it while the
// network is down), STATUS= the presence status line on every change and
// WATCHDOG=1 from the runtime's one feeding point, STOPPING=1 on SIGINT/SIGTERM
// (not on a `reboot` re-exec: systemd would then wait for an exit that never
// comes).
//
// Exit codes (shared/DESIGN.md): 0 clean stop on SIGINT/SIGTERM, 2 bad config
// or arguments, 3 authentication refused (either side: our credentials, or the
// server's certificate), 1 anything else.
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <ctime>
#include <memory>
#include <string>

#include "agent/clock_gate.hpp"
#include "agent/config.hpp"
#include "agent/https_url_fetcher.hpp"
#include "agent/log.hpp"
#include "agent/runtime.hpp"
#include "agent/xmpp/ca_file.hpp"
#include "app/identity_cmd.hpp"
#include "app/reboot_backend.hpp"
#include "app/setup.hpp"
#include "boards/board.hpp"
#include "hal/linux/deb_installer.hpp"
#include "hal/linux/file_segment_store.hpp"
#include "hal/linux/file_storage.hpp"
#include "hal/linux/process.hpp"
#include "hal/linux/rauc_installer.hpp"
#include "hal/linux/system_clock.hpp"
#include "hal/linux/systemd_notifier.hpp"
#include "hal/linux/timesyncd_flag.hpp"
#include "hal/sim/sim_installer.hpp"
#include "xiot/version.hpp"

namespace {

constexpr int kExitOk = 0;
constexpr int kExitFailure = 1;
constexpr int kExitConfig = 2;
constexpr int kExitAuth = 3;


void print_usage(FILE* out) {
  std::fprintf(out,
               "usage: xiot-agent --config FILE [--log-level error|warn|info|debug]\n"
               "       xiot-agent --config FILE --check-config\n"
               "       xiot-agent setup ... (writes a device's config; xiot-agent setup --help)\n"
               "       xiot-agent identity new|show ... (the device key and CSR; xiot-agent identity --help)\n"
               "       xiot-agent --help | --version\n"
               "\n"
               "Runs the xiot device agent: logs in to the XMPP server named in FILE,\n"
               "publishes the board's telemetry and answers commands.\n"
               "Exit codes: 0 clean stop, 1 failure, 2 bad config/arguments, 3 authentication refused.\n"
               "\n");
  std::fputs(agent::setup_usage(), out);
}

/// A fatal message on stderr: "xiot-agent: <text>", as an error for journald
/// when stderr is the journal.
void print_error(const char* text) {
  std::fprintf(stderr, "%sxiot-agent: %s\n", agent::log_journal() ? "<3>" : "", text);
}


struct Args {
  const char* config = nullptr;
  const char* log_level = nullptr;
  bool check_only = false;
};

// Returns -1 to continue, or an exit code.
int parse_args(int argc, char** argv, Args* args) {
  for (int i = 1; i < argc; ++i) {
    const char* a = argv[i];
    if (std::strcmp(a, "--help") == 0 || std::strcmp(a, "-h") == 0) {
      print_usage(stdout);
      return kExitOk;
    }
    if (std::strcmp(a, "--version") == 0) {
      std::printf("xiot-agent %s\n", XIOT_VERSION);
      return kExitOk;
    }
    if (std::strcmp(a, "--check-config") == 0) {
      args->check_only = true;
    } else if (std::strcmp(a, "--config") == 0 || std::strcmp(a, "--log-level") == 0) {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "xiot-agent: %s needs a value\n", a);
        return kExitConfig;
      }
      (a[2] == 'c' ? args->config : args->log_level) = argv[++i];
    } else {
      std::fprintf(stderr, "xiot-agent: unknown argument '%s' (see --help)\n", a);
      return kExitConfig;
    }
  }
  if (args->config == nullptr) {
    std::fprintf(stderr, "xiot-agent: --config FILE is required (see --help)\n");
    return kExitConfig;
  }
  return -1;
}

// The directory persisted settings live in: beside the journal.
std::string state_dir(const agent::AgentConfig& cfg) {
  const size_t slash = cfg.journal.path.rfind('/');
  return slash == std::string::npos || slash == 0 ? std::string("/") : cfg.journal.path.substr(0, slash);
}

// The installer behind one that first closes our descriptors of the staged
// image: RAUC takes a lease on the bundle (F_SETLEASE), which fails while the
// agent still holds it open for writing.
class ReleasingInstaller final : public hal::Installer {
 public:
  ReleasingInstaller(hal::Installer& inner, hal::linux_::FileSegmentStore& staging)
      : inner_(inner), staging_(staging) {}
  const char* name() const override { return inner_.name(); }
  hal::Err begin(const char* path) override {
    staging_.release(agent::kStagingSegment);
    return inner_.begin(path);
  }
  hal::InstallProgress poll() override { return inner_.poll(); }
  const char* error_text() const override { return inner_.error_text(); }
  hal::Result<hal::BootStatus> boot_status() override { return inner_.boot_status(); }
  hal::Err mark_good() override { return inner_.mark_good(); }
  hal::Err mark_bad() override { return inner_.mark_bad(); }

 private:
  hal::Installer& inner_;
  hal::linux_::FileSegmentStore& staging_;
};

// Signed updates (docs/updates.md): the installer named by update.installer,
// its state and the staged image under update.state_dir.
struct UpdateBackend {
  explicit UpdateBackend(const agent::AgentConfig& cfg, hal::MonotonicClock& clock)
      : storage(cfg.update.state_dir.c_str()),
        staging((cfg.update.state_dir + "/staging").c_str()),
        image_path(cfg.update.state_dir + "/staging/00000001.seg") {
    if (!cfg.update.enabled) return;
    if (cfg.update.installer == agent::InstallerKind::Sim) {
      // The simulated board's A/B slots; an agent start is a boot. Slot A
      // starts at the build's version.
      sim.reset(new hal::sim::SimInstaller(storage, clock, XIOT_VERSION));
      const hal::Err e = sim->boot();
      if (e != hal::Err::Ok) XLOG_WARN("update", "sim installer: %s (%s)", hal::err_name(e), sim->error_text());
      if (sim->rolled_back()) XLOG_WARN("update", "sim installer: %s", sim->error_text());
      installer = sim.get();
    }
    if (cfg.update.installer == agent::InstallerKind::Rauc) {
      // RAUC's D-Bus service on the system bus (DBUS_SYSTEM_BUS_ADDRESS is
      // honoured); the trial marker beside the update state.
      rauc.reset(new hal::linux_::RaucInstaller(nullptr, (cfg.update.state_dir + "/rauc-trial").c_str()));
      releasing.reset(new ReleasingInstaller(*rauc, staging));
      installer = releasing.get();
    }
    if (cfg.update.installer == agent::InstallerKind::Deb) {
      // The agent's own package; the root unit reads /var/lib/xiot/update.
      deb.reset(new hal::linux_::DebInstaller(nullptr, "/var/lib/xiot/update", XIOT_VERSION));
      releasing.reset(new ReleasingInstaller(*deb, staging));
      installer = releasing.get();
    }
  }
  agent::UpdateParts parts() {
    agent::UpdateParts p;
    p.installer = installer;
    p.storage = &storage;
    p.staging = &staging;
    p.image_path = image_path.c_str();
    p.installer_restarts_agent = deb != nullptr;  // dpkg restarts the service (docs/updates-installers.md)
    if (sim) {
      p.installed_version = sim->booted_version();
      p.self_test = [](void* c) { return static_cast<hal::sim::SimInstaller*>(c)->booted_self_test_ok(); };
      p.self_test_ctx = sim.get();
    }
    return p;
  }
  hal::linux_::FileStorage storage;
  hal::linux_::FileSegmentStore staging;
  std::string image_path;
  std::unique_ptr<hal::sim::SimInstaller> sim;
  std::unique_ptr<hal::linux_::RaucInstaller> rauc;
  std::unique_ptr<hal::linux_::DebInstaller> deb;
  std::unique_ptr<ReleasingInstaller> releasing;
  hal::Installer* installer = nullptr;
};

// Returns an exit code, or kRestart when the agent went offline for a reboot.
constexpr int kRestart = -1;
// ... or kRelogin when rotate-identity installed a new certificate: log in
// again (same process) with the pending identity.
constexpr int kRelogin = -2;

int64_t wall_now() { return static_cast<int64_t>(::time(nullptr)); }

// `ctx` is the one libstrophe context; every session of it is gone when run() returns.
// `pending`: non-null while a rotated identity is tried (cfg names its
// files); committed over the configured pair once online, and `cfg` then
// names the committed files for every later connection.
int run(agent::AgentConfig& cfg, agent::Context& ctx, const agent::AgentConfig& configured,
        const agent::PendingIdentity* pending) {
  hal::linux_::SystemClock clock;
  std::string error;
  std::unique_ptr<boards::Board> board = boards::Board::open(cfg.board.c_str(), clock, clock, &error);
  if (!board) {
    print_error(error.c_str());
    return kExitConfig;
  }
  for (const auto& f : board->failed()) {
    XLOG_WARN("board", "device %s (%s) left out: %s", f.name.c_str(), f.compatible.c_str(), f.text.c_str());
  }
  XLOG_INFO("board", "%s: %zu devices, %zu channels", board->name().c_str(), board->registry().device_count(),
            board->registry().channel_count());
  // alerts.rules[i].channel must name a numeric channel of this board; one of
  // a device that failed to start only makes that rule inactive (the runtime
  // warns). docs/alerts.md.
  for (size_t i = 0; i < cfg.alerts.rules.size(); ++i) {
    const agent::AlertRule& rule = cfg.alerts.rules[i];
    const char* why = agent::alert_rule_channel_problem(board->registry(), rule, nullptr, nullptr);
    if (why == nullptr) continue;
    const char* dot = std::strchr(rule.channel, '.');
    const std::string device(rule.channel, dot != nullptr ? static_cast<size_t>(dot - rule.channel) : 0);
    bool failed = false;
    for (const auto& f : board->failed()) failed = failed || f.name == device;
    if (failed) continue;
    const std::string line = cfg.file + ": alerts.rules[" + std::to_string(i) + "].channel: '" + rule.channel +
                             "': " + why + " (board " + board->name() + ")";
    print_error(line.c_str());
    return kExitConfig;
  }

  agent::use_ca_file_for_openssl_defaults(cfg.xmpp.ca_file.c_str(), agent::SystemCaDirectory::Keep);

  const std::string settings_dir = state_dir(cfg);
  hal::linux_::FileStorage storage(settings_dir.c_str());
  // The telemetry journal: segment files in the journal.path directory.
  hal::linux_::FileSegmentStore journal(cfg.journal.path.c_str());
  agent::AgentRuntime agent(ctx, cfg, *board, clock, clock, &storage, hal::linux_::random_u64(), &journal);
  UpdateBackend update(cfg, clock);
  if (cfg.update.enabled) agent.set_update(update.parts());
  // Transport "url": the image from the XMPP server's HTTP upload service,
  // verified with the same CA as the XMPP server (the system bundle if none).
  agent::HttpsUrlFetcher url_fetcher(
      clock, cfg.xmpp.ca_file.empty() ? "/etc/ssl/certs/ca-certificates.crt" : cfg.xmpp.ca_file.c_str());
  if (cfg.update.enabled) agent.set_url_fetcher(&url_fetcher);
  char host_boot[48];
  hal::linux_::host_boot_id(host_boot, sizeof host_boot);
  agent.set_host_boot_id(host_boot);
  agent.set_client_certificate(agent::client_certificate_not_after(cfg), cfg.xmpp.cert_warn_days);
  agent::FileIdentityRotator rotator(configured, wall_now);
  if (!configured.xmpp.client_cert.empty()) agent.set_identity_rotator(&rotator);
  hal::linux_::SystemdNotifier systemd(clock);
  agent.set_service_notifier(&systemd);
  // Clock sanity (docs/time.md): no connection while the wall clock is before
  // this build, until systemd-timesyncd says the clock is set.
  hal::linux_::TimesyncdFlag timesync;
  agent::ClockGate clock_gate(clock, clock, XIOT_BUILD_UNIX_S, &timesync);
  agent.set_clock_gate(&clock_gate);
  if (agent.start() != hal::Err::Ok) {
    XLOG_ERROR("agent", "cannot start (telemetry buffers or the XMPP connection)");
    return kExitFailure;
  }
  XLOG_INFO("agent", "xiot-agent %s boot %s, telemetry every %u ms to %s node %s", XIOT_VERSION, agent.boot_id(),
            agent.settings().interval_ms, cfg.telemetry.service.c_str(), cfg.telemetry.node.c_str());
  if (systemd.active()) {
    if (systemd.ready() != hal::Err::Ok) XLOG_WARN("agent", "sd_notify READY=1 failed");
    if (systemd.watchdog_usec() > 0) {
      XLOG_INFO("agent", "systemd watchdog: %llu ms", static_cast<unsigned long long>(systemd.watchdog_usec() / 1000));
    }
  }

  bool commit_pending = pending != nullptr;
  while (hal::linux_::stop_signal() == 0 && !agent.reboot_requested() && !agent.identity_switch_requested()) {
    const uint32_t wait_ms = agent.tick();
    if (commit_pending && agent.session().online()) {
      commit_pending = false;
      const int e = agent::commit_pending_identity(configured, *pending);
      if (e != 0) {
        XLOG_ERROR("identity", "the new identity logged in but could not be committed: %s", std::strerror(e));
      } else {
        XLOG_INFO("identity", "the new identity logged in; committed as %s and %s", configured.xmpp.client_cert.c_str(),
                  configured.xmpp.client_key.c_str());
      }
      cfg.xmpp.client_cert = configured.xmpp.client_cert;
      cfg.xmpp.client_key = configured.xmpp.client_key;
    }
    if (agent.session().fatal() != agent::Fatal::None) {
      print_error(agent.session().fatal_message().c_str());
      return kExitAuth;
    }
    ctx.run_once(wait_ms);
  }
  if (agent.identity_switch_requested() && hal::linux_::stop_signal() == 0) {
    agent.stop("switching to a new identity");
    return kRelogin;
  }
  if (agent.reboot_requested()) {
    XLOG_INFO("agent", "rebooting: %s", agent.reboot_reason());
    agent.stop(agent.reboot_reason());
    return kRestart;
  }
  const char* why = hal::linux_::stop_signal() == SIGINT ? "agent stopped (SIGINT)" : "agent stopped (SIGTERM)";
  XLOG_INFO("agent", "%s; going offline", why);
  (void)systemd.stopping();
  agent.stop(why);
  return kExitOk;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc >= 2 && std::strcmp(argv[1], "setup") == 0) {
    agent::SystemOwnership ownership;
    return agent::run_setup(argc - 1, argv + 1, ownership, stdout, stderr, STDIN_FILENO);
  }
  if (argc >= 2 && std::strcmp(argv[1], "identity") == 0) {
    return agent::run_identity(argc - 1, argv + 1, stdout, stderr, static_cast<int64_t>(::time(nullptr)));
  }
  agent::log_set_journal(hal::linux_::is_journal_stream(STDERR_FILENO));
  Args args;
  const int early = parse_args(argc, argv, &args);
  if (early >= 0) return early;
  hal::linux_::install_stop_signals();

  agent::AgentConfig cfg;
  std::string error;
  if (!agent::load_config(args.config, &cfg, &error)) {
    print_error(error.c_str());
    return kExitConfig;
  }
  if (args.log_level != nullptr) {
    if (!agent::parse_log_level(args.log_level, &cfg.log_level)) {
      std::fprintf(stderr, "xiot-agent: --log-level: expected error|warn|info|debug, got '%s'\n", args.log_level);
      return kExitConfig;
    }
  }
  agent::log_set_level(cfg.log_level);
  (void)agent::log_client_certificate(cfg, static_cast<int64_t>(::time(nullptr)), cfg.xmpp.cert_warn_days);
  if (args.check_only) {
    boards::BoardSpec spec;
    if (!boards::parse_board(cfg.board.c_str(), &spec, &error)) {
      print_error(error.c_str());
      return kExitConfig;
    }
    std::printf("%s: ok (board %s)\n", args.config, cfg.board.c_str());
    return kExitOk;
  }
  for (;;) {
    int rc = kExitFailure;
    int64_t blocks = 0;
    agent::PendingIdentity pending;
    const bool trying = agent::find_pending_identity(cfg, &pending);
    agent::AgentConfig used = cfg;
    if (trying) {
      XLOG_INFO("identity", "trying the new identity %s (the current one stays until it logs in)",
                pending.cert.c_str());
      used.xmpp.client_cert = pending.cert;
      used.xmpp.client_key = pending.key;
      (void)agent::log_client_certificate(used, static_cast<int64_t>(::time(nullptr)), cfg.xmpp.cert_warn_days);
    }
    {
      agent::Context ctx;
      rc = run(used, ctx, cfg, trying ? &pending : nullptr);
      // Every session is gone; once the context is freed too, whatever
      // libstrophe still holds through its counting allocator is a leak (tests
      // check this).
      blocks = ctx.close();
    }
    if (blocks != 0) {
      XLOG_WARN("agent", "libstrophe leaked %lld blocks", static_cast<long long>(blocks));
    } else {
      XLOG_INFO("agent", "libstrophe blocks outstanding at exit: 0");
    }
    if (trying && rc == kExitAuth && agent::find_pending_identity(cfg, &pending)) {
      // Refused before it was ever committed: back to the current identity.
      agent::refuse_pending_identity(pending);
      XLOG_ERROR("identity", "the server refused the new identity %s; kept as %s.refused, going on with %s",
                 pending.cert.c_str(), pending.cert.c_str(), cfg.xmpp.client_cert.c_str());
      continue;
    }
    if (rc == kRelogin) continue;
    if (rc != kRestart) return rc;
    // `reboot`: every object of run() is gone (offline with the reason, the
    // journal flushed, the stream closed); only now the HAL restarts: exec
    // returns only on failure, logind returns once the reboot is under way
    // (systemd then stops us; we exit first, cleanly).
    const std::unique_ptr<hal::Restart> restart = agent::make_reboot_backend(cfg.reboot, argv);
    const hal::Err e = restart->restart();
    if (e == hal::Err::Ok) {
      XLOG_INFO("agent", "reboot via %s under way; exiting", agent::reboot_method_name(cfg.reboot));
      return kExitOk;
    }
    const char* why = restart->error_text();
    XLOG_ERROR("agent", "reboot via %s failed: %s; going online again", agent::reboot_method_name(cfg.reboot),
               why[0] != '\0' ? why : hal::err_name(e));
  }
}

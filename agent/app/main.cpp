// xiot-agent: the composition root. Loads the config and the board, wires the
// drivers, the telemetry publisher and the XMPP session, and runs the one loop:
//   run libstrophe (bounded) -> session timers -> telemetry -> health -> watchdog.
//
// Exit codes (shared/DESIGN.md): 0 clean stop on SIGINT/SIGTERM, 2 bad config
// or arguments, 3 authentication refused (either side: our credentials, or the
// server's certificate), 1 anything else.
#include <signal.h>
#include <sys/random.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <memory>
#include <string>
#include <vector>

#include "agent/backoff.hpp"
#include "agent/config.hpp"
#include "agent/description.hpp"
#include "agent/log.hpp"
#include "agent/telemetry.hpp"
#include "agent/xmpp/session.hpp"
#include "boards/board.hpp"
#include "hal/linux/system_clock.hpp"

#ifndef XIOT_VERSION
#define XIOT_VERSION "0.0.0"
#endif

namespace {

constexpr int kExitOk = 0;
constexpr int kExitFailure = 1;
constexpr int kExitConfig = 2;
constexpr int kExitAuth = 3;

volatile sig_atomic_t g_stop_signal = 0;

void on_stop_signal(int sig) { g_stop_signal = sig; }

void install_signals() {
  struct sigaction sa {};
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;  // no SA_RESTART: let poll() return so the loop sees the flag
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  signal(SIGPIPE, SIG_IGN);
}

void print_usage(FILE* out) {
  std::fprintf(out,
               "usage: xiot-agent --config FILE [--log-level error|warn|info|debug]\n"
               "       xiot-agent --config FILE --check-config\n"
               "       xiot-agent --help | --version\n"
               "\n"
               "Runs the xiot device agent: logs in to the XMPP server named in FILE,\n"
               "publishes the board's telemetry and answers commands.\n"
               "Exit codes: 0 clean stop, 1 failure, 2 bad config/arguments, 3 authentication refused.\n");
}

uint64_t random_u64() {
  uint64_t v = 0;
  if (getrandom(&v, sizeof(v), 0) != static_cast<ssize_t>(sizeof(v))) {
    v = static_cast<uint64_t>(std::time(nullptr)) ^ (static_cast<uint64_t>(getpid()) << 32);
  }
  return v;
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

// Keeps presence and the device node in step with the board's health.
class HealthPublisher {
 public:
  HealthPublisher(boards::Board& board, agent::Session& session, const char* boot_id)
      : board_(board), session_(session), boot_id_(boot_id) {
    for (const auto& f : board.failed()) failed_.push_back(agent::FailedDevice{f.name.c_str(), f.err});
  }

  /// Recomputes health; on a change, updates presence and the device node.
  void refresh() {
    agent::DeviceFacts facts{};
    facts.board = board_.name().c_str();
    facts.firmware = XIOT_VERSION;
    facts.boot_id = boot_id_;
    facts.registry = &board_.registry();
    facts.failed_devices = failed_.empty() ? nullptr : failed_.data();
    facts.failed_count = failed_.size();
    const agent::HealthReport report = agent::assess_health(facts);
    if (have_last_ && report.health == last_.health && std::strcmp(report.problem, last_.problem) == 0) {
      return;
    }
    last_ = report;
    have_last_ = true;
    char status[256];
    if (!agent::format_status_line(status, sizeof(status), facts, report).ok()) status[0] = '\0';
    const char* show = report.health == agent::Health::Healthy    ? nullptr
                       : report.health == agent::Health::Degraded ? "away"
                                                                  : "dnd";
    if (report.health != agent::Health::Healthy) {
      XLOG_WARN("health", "%s: %s", agent::health_name(report.health), report.problem);
    } else {
      XLOG_INFO("health", "healthy");
    }
    static char description[8192];
    if (!agent::format_device_description(description, sizeof(description), facts, report).ok()) {
      XLOG_ERROR("health", "device description does not fit %zu bytes", sizeof(description));
      description[0] = '\0';
    }
    session_.set_presence(show, status);
    session_.set_device_description(description);
  }

 private:
  boards::Board& board_;
  agent::Session& session_;
  const char* boot_id_;
  std::vector<agent::FailedDevice> failed_;
  agent::HealthReport last_{};
  bool have_last_ = false;
};

int run(const agent::AgentConfig& cfg) {
  hal::linux_::SystemClock clock;
  std::string error;
  std::unique_ptr<boards::Board> board = boards::Board::open(cfg.board.c_str(), clock, clock, &error);
  if (!board) {
    std::fprintf(stderr, "xiot-agent: %s\n", error.c_str());
    return kExitConfig;
  }
  for (const auto& f : board->failed()) {
    XLOG_WARN("board", "device %s (%s) left out: %s", f.name.c_str(), f.compatible.c_str(), f.text.c_str());
  }
  XLOG_INFO("board", "%s: %zu devices, %zu channels", board->name().c_str(), board->registry().device_count(),
            board->registry().channel_count());

  // Debian's libstrophe (OpenSSL) loads the whole system CA bundle on every
  // connect unless its default paths point elsewhere: with a configured
  // ca_file, point them at it (saves ~50 ms CPU and ~1 MiB per login).
  if (!cfg.xmpp.ca_file.empty()) setenv("SSL_CERT_FILE", cfg.xmpp.ca_file.c_str(), 1);

  char boot_id[16];
  if (!agent::make_boot_id(boot_id, sizeof(boot_id), random_u64()).ok()) {
    XLOG_ERROR("agent", "cannot make a boot id");
    return kExitFailure;
  }
  agent::Rng rng(random_u64());

  agent::Context ctx;
  agent::Session session(ctx, cfg, clock, rng);
  agent::TelemetryPublisher publisher(board->registry(), clock, clock, cfg.telemetry, cfg.xmpp.jid.c_str(),
                                      boot_id, session);
  if (publisher.start() != hal::Err::Ok) {
    XLOG_ERROR("telemetry", "cannot allocate telemetry buffers");
    return kExitFailure;
  }
  HealthPublisher health(*board, session, boot_id);
  health.refresh();
  XLOG_INFO("agent", "xiot-agent %s boot %s, telemetry every %g s to %s node %s", XIOT_VERSION, boot_id,
            cfg.telemetry.interval_s, cfg.telemetry.service.c_str(), cfg.telemetry.node.c_str());
  if (session.start() != hal::Err::Ok) {
    XLOG_ERROR("xmpp", "cannot create the XMPP connection");
    return kExitFailure;
  }

  uint64_t samples_seen = publisher.samples_taken();
  while (g_stop_signal == 0) {
    const uint32_t session_wait = session.tick();
    const hal::MonoTime next_sample = publisher.tick();
    if (publisher.samples_taken() != samples_seen) {
      samples_seen = publisher.samples_taken();
      health.refresh();
    }
    if (session.fatal() != agent::Fatal::None) {
      std::fprintf(stderr, "xiot-agent: %s\n", session.fatal_message().c_str());
      return kExitAuth;
    }
    int64_t wait_ms = next_sample.us_since(clock.mono_now()) / 1000;
    if (wait_ms > session_wait) wait_ms = session_wait;
    if (wait_ms < 1) wait_ms = 1;
    ctx.run_once(static_cast<uint32_t>(wait_ms));
  }

  const char* why = g_stop_signal == SIGINT ? "agent stopped (SIGINT)" : "agent stopped (SIGTERM)";
  XLOG_INFO("agent", "%s; going offline", why);
  session.stop(why);
  return kExitOk;
}

}  // namespace

int main(int argc, char** argv) {
  Args args;
  const int early = parse_args(argc, argv, &args);
  if (early >= 0) return early;
  install_signals();

  agent::AgentConfig cfg;
  std::string error;
  if (!agent::load_config(args.config, &cfg, &error)) {
    std::fprintf(stderr, "xiot-agent: %s\n", error.c_str());
    return kExitConfig;
  }
  if (args.log_level != nullptr) {
    if (!agent::parse_log_level(args.log_level, &cfg.log_level)) {
      std::fprintf(stderr, "xiot-agent: --log-level: expected error|warn|info|debug, got '%s'\n", args.log_level);
      return kExitConfig;
    }
  }
  agent::log_set_level(cfg.log_level);
  if (args.check_only) {
    boards::BoardSpec spec;
    if (!boards::parse_board(cfg.board.c_str(), &spec, &error)) {
      std::fprintf(stderr, "xiot-agent: %s\n", error.c_str());
      return kExitConfig;
    }
    std::printf("%s: ok (board %s)\n", args.config, cfg.board.c_str());
    return kExitOk;
  }
  return run(cfg);
}

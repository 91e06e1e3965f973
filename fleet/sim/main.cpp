// xiot-fleet-sim: N simulated xiot agents in one process, on one libstrophe
// Context and one loop -- the load generator for servers and for xiotctl.
// See docs/fleet.md and --help.
//
// Output (stdout): a stats line every --stats seconds,
//   fleet-sim: t=12.0 online=487/500 started=500 logins=487 reconnects=0 items_sent=1200 items_acked=1180 ...
// one event line when every device is online for the first time, and on
// SIGINT/SIGTERM (or --duration) a final one-line JSON summary. Logs go to
// stderr (default level warn).
//
// Exit codes: 0 clean stop, 2 bad arguments or fleet file, 3 every device was
// refused (authentication or TLS), 1 anything else.
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>

#include "agent/config.hpp"
#include "agent/log.hpp"
#include "agent/xmpp/ca_file.hpp"
#include "boards/board.hpp"
#include "fleet_sim.hpp"
#include "fleet_spec.hpp"
#include "hal/linux/process.hpp"
#include "hal/linux/system_clock.hpp"
#include "xiot/version.hpp"

namespace {

constexpr int kExitOk = 0;
constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;
constexpr int kExitRefused = 3;


void print_usage(FILE* out) {
  std::fprintf(out,
               "usage: xiot-fleet-sim --fleet FILE [--count N] [--first K] [--interval S] [--ramp S]\n"
               "                      [--max-logins K] [--stats S] [--duration S] [--summary FILE]\n"
               "                      [--seed N] [--log-level error|warn|info|debug]\n"
               "       xiot-fleet-sim --help | --version\n"
               "\n"
               "Runs N simulated xiot agents (the sim board each, own JID and sensor values)\n"
               "in one process on one libstrophe context, for load and fleet tests.\n"
               "\n"
               "  --fleet FILE     fleet file written by `tools/fleet provision` (server, CA,\n"
               "                   board, telemetry, ACL, one account per device)\n"
               "  --count N        run N devices of the file (default: all; at most 1000 per\n"
               "                   process: libstrophe 0.12 waits with select())\n"
               "  --first K        start at the file's K-th device (default 1): several\n"
               "                   simulators can share one fleet file\n"
               "  --interval S     telemetry interval in seconds (default: the file's)\n"
               "  --ramp S         spread the logins over S seconds, each device at a jittered\n"
               "                   point of its slot (default N/50: 50 logins/s; 0: all at once)\n"
               "  --max-logins K   at most K first logins under way at once (default 4; 0: no\n"
               "                   limit): libstrophe's TLS handshake blocks the one loop, so\n"
               "                   more concurrent logins only make each slower\n"
               "  --stats S        a stats line every S seconds (default 5; 0: none)\n"
               "  --duration S     stop after S seconds as if SIGTERM arrived (default: run until\n"
               "                   SIGINT/SIGTERM)\n"
               "  --summary FILE   also write the final JSON summary to FILE\n"
               "  --seed N         seeds the start jitter and boot ids (default: random)\n"
               "  --log-level L    the agents' log on stderr (default warn)\n"
               "\n"
               "stdout: stats lines `fleet-sim: t=... online=K/N ...`, then on stop one JSON line\n"
               "(devices, online, login times, items, reconnects, RSS per device, CPU).\n"
               "Exit codes: 0 clean stop, 1 failure, 2 bad arguments or fleet file,\n"
               "3 every device refused (authentication or TLS).\n");
}


struct Args {
  const char* fleet = nullptr;
  const char* summary = nullptr;
  const char* log_level = "warn";
  long count = 0;
  long first = 1;
  double interval_s = 0;
  double ramp_s = -1;
  double stats_s = 5;
  double duration_s = 0;
  long max_logins = 4;
  uint64_t seed = 0;
  bool have_seed = false;
};

bool parse_double(const char* s, double lo, double hi, double* out) {
  char* end = nullptr;
  errno = 0;
  const double d = std::strtod(s, &end);
  if (errno != 0 || end == s || *end != '\0' || !(d >= lo && d <= hi)) return false;
  *out = d;
  return true;
}

// Returns -1 to continue, or an exit code.
int parse_args(int argc, char** argv, Args* a) {
  for (int i = 1; i < argc; ++i) {
    const char* k = argv[i];
    if (std::strcmp(k, "--help") == 0 || std::strcmp(k, "-h") == 0) {
      print_usage(stdout);
      return kExitOk;
    }
    if (std::strcmp(k, "--version") == 0) {
      std::printf("xiot-fleet-sim %s\n", XIOT_VERSION);
      return kExitOk;
    }
    if (i + 1 >= argc) {
      std::fprintf(stderr, "xiot-fleet-sim: %s needs a value (see --help)\n", k);
      return kExitUsage;
    }
    const char* v = argv[++i];
    double d = 0;
    bool ok = true;
    if (std::strcmp(k, "--fleet") == 0) {
      a->fleet = v;
    } else if (std::strcmp(k, "--summary") == 0) {
      a->summary = v;
    } else if (std::strcmp(k, "--log-level") == 0) {
      a->log_level = v;
    } else if (std::strcmp(k, "--count") == 0) {
      ok = parse_double(v, 1, 100000, &d) && std::floor(d) == d;
      a->count = static_cast<long>(d);
    } else if (std::strcmp(k, "--first") == 0) {
      ok = parse_double(v, 1, 1e9, &d) && std::floor(d) == d;
      a->first = static_cast<long>(d);
    } else if (std::strcmp(k, "--interval") == 0) {
      ok = parse_double(v, 0.05, 86400, &a->interval_s);
    } else if (std::strcmp(k, "--max-logins") == 0) {
      ok = parse_double(v, 0, 100000, &d) && std::floor(d) == d;
      a->max_logins = static_cast<long>(d);
    } else if (std::strcmp(k, "--ramp") == 0) {
      ok = parse_double(v, 0, 86400, &a->ramp_s);
    } else if (std::strcmp(k, "--stats") == 0) {
      ok = parse_double(v, 0, 86400, &a->stats_s);
    } else if (std::strcmp(k, "--duration") == 0) {
      ok = parse_double(v, 0.001, 1e9, &a->duration_s);
    } else if (std::strcmp(k, "--seed") == 0) {
      char* end = nullptr;
      errno = 0;
      a->seed = std::strtoull(v, &end, 10);
      ok = errno == 0 && end != v && *end == '\0';
      a->have_seed = true;
    } else {
      std::fprintf(stderr, "xiot-fleet-sim: unknown argument '%s' (see --help)\n", k);
      return kExitUsage;
    }
    if (!ok) {
      std::fprintf(stderr, "xiot-fleet-sim: %s: bad value '%s' (see --help)\n", k, v);
      return kExitUsage;
    }
  }
  if (a->fleet == nullptr) {
    std::fprintf(stderr, "xiot-fleet-sim: --fleet FILE is required (see --help)\n");
    return kExitUsage;
  }
  return -1;
}

/// VmRSS / VmHWM of this process in KiB (0 if /proc is unreadable).
void read_rss_kib(long* rss, long* hwm) {
  *rss = 0;
  *hwm = 0;
  FILE* f = std::fopen("/proc/self/status", "r");
  if (f == nullptr) return;
  char line[256];
  while (std::fgets(line, sizeof line, f) != nullptr) {
    if (std::strncmp(line, "VmRSS:", 6) == 0) *rss = std::strtol(line + 6, nullptr, 10);
    if (std::strncmp(line, "VmHWM:", 6) == 0) *hwm = std::strtol(line + 6, nullptr, 10);
  }
  std::fclose(f);
}

double cpu_seconds() {
  struct rusage ru {};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

double per_device_kib(long rss, long baseline, size_t devices) {
  return devices == 0 ? 0.0 : static_cast<double>(rss - baseline) / static_cast<double>(devices);
}

void print_stats(const fleet_sim::FleetStats& s, long baseline_kib) {
  long rss = 0;
  long hwm = 0;
  read_rss_kib(&rss, &hwm);
  std::printf(
      "fleet-sim: t=%.1f online=%zu/%zu started=%zu logins=%llu reconnects=%llu items_sent=%llu "
      "items_acked=%llu items_rejected=%llu commands=%llu fatal=%zu rss_kib=%ld rss_per_device_kib=%.1f\n",
      s.elapsed_s, s.online, s.devices, s.started, static_cast<unsigned long long>(s.logins),
      static_cast<unsigned long long>(s.reconnects), static_cast<unsigned long long>(s.items_sent),
      static_cast<unsigned long long>(s.items_acked), static_cast<unsigned long long>(s.items_rejected),
      static_cast<unsigned long long>(s.commands), s.fatal, rss, per_device_kib(rss, baseline_kib, s.started));
  std::fflush(stdout);
}

/// JSON number, or null for "never" (negative).
std::string seconds_or_null(double s) {
  if (s < 0) return "null";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f", s);
  return buf;
}

std::string summary_json(const fleet_sim::FleetStats& s, double ramp_s, long baseline_kib, long rss_kib,
                         long hwm_kib, double cpu_s, double stop_s, int stop_signal) {
  const double login_span = s.all_online_s >= 0 && s.first_login_s >= 0 ? s.all_online_s - s.first_login_s : -1;
  const double active = s.first_login_s >= 0 ? s.elapsed_s - s.first_login_s : 0;
  char buf[2048];
  std::snprintf(
      buf, sizeof buf,
      "{\"devices\":%zu,\"started\":%zu,\"online_at_stop\":%zu,\"online_max\":%zu,\"fatal\":%zu,"
      "\"ramp_s\":%.3f,\"first_online_s\":%s,\"all_online_s\":%s,\"login_span_s\":%s,"
      "\"logins\":%llu,\"reconnects\":%llu,\"disconnects\":%llu,\"reboots\":%llu,"
      "\"items_sent\":%llu,\"items_acked\":%llu,\"items_rejected\":%llu,\"items_dropped\":%llu,"
      "\"acked_per_s\":%.2f,\"commands\":%llu,\"chats\":%llu,\"duration_s\":%.3f,\"stop_s\":%.3f,"
      "\"stopped_by\":\"%s\",\"rss_baseline_kib\":%ld,\"rss_kib\":%ld,\"rss_peak_kib\":%ld,"
      "\"rss_per_device_kib\":%.1f,\"cpu_s\":%.3f}",
      s.devices, s.started, s.online, s.online_max, s.fatal, ramp_s, seconds_or_null(s.first_login_s).c_str(),
      seconds_or_null(s.all_online_s).c_str(), seconds_or_null(login_span).c_str(),
      static_cast<unsigned long long>(s.logins), static_cast<unsigned long long>(s.reconnects),
      static_cast<unsigned long long>(s.disconnects), static_cast<unsigned long long>(s.reboots),
      static_cast<unsigned long long>(s.items_sent), static_cast<unsigned long long>(s.items_acked),
      static_cast<unsigned long long>(s.items_rejected), static_cast<unsigned long long>(s.items_dropped),
      active > 0 ? static_cast<double>(s.items_acked) / active : 0.0, static_cast<unsigned long long>(s.commands),
      static_cast<unsigned long long>(s.chats), s.elapsed_s, stop_s,
      stop_signal == SIGINT ? "SIGINT" : stop_signal == SIGTERM ? "SIGTERM" : "duration", baseline_kib, rss_kib,
      hwm_kib, per_device_kib(rss_kib, baseline_kib, s.started), cpu_s);
  return buf;
}

/// Loads the fleet file and its board, checked against --first/--count.
/// Returns -1 to go on, or an exit code (the reason printed on stderr).
int load_fleet(const Args& args, fleet_sim::FleetSpec* spec, boards::BoardSpec* board_spec, size_t* first) {
  std::string error;
  if (!fleet_sim::load_fleet_spec(args.fleet, spec, &error)) {
    std::fprintf(stderr, "xiot-fleet-sim: %s\n", error.c_str());
    return kExitUsage;
  }
  *first = static_cast<size_t>(args.first - 1);
  if (*first >= spec->devices.size() ||
      (args.count > 0 && static_cast<size_t>(args.count) > spec->devices.size() - *first)) {
    std::fprintf(stderr, "xiot-fleet-sim: --first %ld --count %ld: %s has only %zu devices\n", args.first,
                 args.count, args.fleet, spec->devices.size());
    return kExitUsage;
  }
  const size_t n = args.count > 0 ? static_cast<size_t>(args.count) : spec->devices.size() - *first;
  if (n > fleet_sim::SimOptions::kMaxDevices) {
    std::fprintf(stderr,
                 "xiot-fleet-sim: %zu devices: at most %zu per process (libstrophe 0.12 waits with select(), "
                 "which cannot watch file descriptors above 1023); run several simulators with --first/--count\n",
                 n, fleet_sim::SimOptions::kMaxDevices);
    return kExitUsage;
  }
  if (!boards::parse_board(spec->board.c_str(), board_spec, &error)) {
    std::fprintf(stderr, "xiot-fleet-sim: %s\n", error.c_str());
    return kExitUsage;
  }
  return -1;
}

fleet_sim::SimOptions sim_options(const Args& args, size_t first) {
  fleet_sim::SimOptions options;
  options.count = static_cast<size_t>(args.count);
  options.first = first;
  options.ramp_s = args.ramp_s;
  options.interval_s = args.interval_s;
  options.max_logins = static_cast<size_t>(args.max_logins);
  options.run_seed = args.have_seed ? args.seed : hal::linux_::random_u64();
  return options;
}

/// The loop: ticks the fleet, prints the stats lines and the all-online
/// event, until a stop signal, --duration, or every device was refused.
class SimLoop {
 public:
  SimLoop(const Args& args, fleet_sim::FleetSim& sim, agent::Context& ctx, hal::linux_::SystemClock& clock,
          long baseline_kib)
      : args_(args), sim_(sim), ctx_(ctx), clock_(clock), baseline_kib_(baseline_kib) {}

  /// Returns kExitOk, or kExitRefused when every device was refused.
  int run() {
    sim_.begin();
    const hal::MonoTime t0 = clock_.mono_now();
    next_stats_ = t0.plus_us(stats_us_);
    end_ = t0.plus_us(static_cast<int64_t>(args_.duration_s * 1e6));
    next_check_ = t0;
    while (hal::linux_::stop_signal() == 0) {
      uint32_t wait = sim_.tick();
      const hal::MonoTime now = clock_.mono_now();
      if (!check_progress(now)) return kExitRefused;
      if (stats_us_ > 0 && now >= next_stats_) {
        print_stats(sim_.stats(), baseline_kib_);
        next_stats_ = now.plus_us(stats_us_);
      }
      if (args_.duration_s > 0) {
        if (now >= end_) break;
        wait = wait_until(wait, now, end_);
      }
      if (stats_us_ > 0) wait = wait_until(wait, now, next_stats_);
      ctx_.run_once(wait);
    }
    return kExitOk;
  }

 private:
  /// Announces once that every device is online; false when every device
  /// was refused instead (nothing more will happen). stats() walks every
  /// device: 10 times a second is enough.
  bool check_progress(hal::MonoTime now) {
    if (announced_all_ || now < next_check_) return true;
    next_check_ = now.plus_ms(100);
    const fleet_sim::FleetStats s = sim_.stats();
    if (s.all_online_s >= 0) {
      announced_all_ = true;
      std::printf("fleet-sim: all %zu devices online at t=%.3f s, %.3f s after the first\n", s.devices,
                  s.all_online_s, s.all_online_s - s.first_login_s);
      std::fflush(stdout);
    } else if (s.started == s.devices && s.fatal == s.devices) {
      std::fprintf(stderr, "xiot-fleet-sim: every device was refused (authentication or TLS); stopping\n");
      return false;
    }
    return true;
  }

  /// `wait` (ms) shortened so that the loop wakes at `until` (at least 1 ms).
  static uint32_t wait_until(uint32_t wait, hal::MonoTime now, hal::MonoTime until) {
    const int64_t ms = (until.us_since(now) + 999) / 1000;
    if (ms < static_cast<int64_t>(wait)) return static_cast<uint32_t>(ms < 1 ? 1 : ms);
    return wait;
  }

  const Args& args_;
  fleet_sim::FleetSim& sim_;
  agent::Context& ctx_;
  hal::linux_::SystemClock& clock_;
  const long baseline_kib_;
  const int64_t stats_us_ = static_cast<int64_t>(args_.stats_s * 1e6);
  hal::MonoTime next_stats_{};
  hal::MonoTime end_{};
  hal::MonoTime next_check_{};
  bool announced_all_ = false;
};

/// Stops every device, prints the JSON summary (and writes it to --summary).
/// Returns `rc`, or kExitFailure when the summary file cannot be written.
int stop_and_report(const Args& args, fleet_sim::FleetSim& sim, hal::linux_::SystemClock& clock,
                    long baseline_kib, long hwm_kib, int rc) {
  const fleet_sim::FleetStats final_stats = sim.stats();
  long rss_kib = 0;
  read_rss_kib(&rss_kib, &hwm_kib);
  const double cpu_s = cpu_seconds();
  const int sig = hal::linux_::stop_signal();
  const char* reason = sig == SIGINT    ? "fleet simulator stopped (SIGINT)"
                       : sig == SIGTERM ? "fleet simulator stopped (SIGTERM)"
                                        : "fleet simulator stopped";
  const hal::MonoTime stop_begin = clock.mono_now();
  const size_t not_closed = sim.stop(reason);
  const double stop_s = static_cast<double>(clock.mono_now().us_since(stop_begin)) / 1e6;
  if (not_closed > 0) XLOG_WARN("fleet", "%zu streams still open after the stop's deadline", not_closed);
  const std::string json =
      summary_json(final_stats, sim.ramp_s(), baseline_kib, rss_kib, hwm_kib, cpu_s, stop_s, sig);
  std::printf("%s\n", json.c_str());
  std::fflush(stdout);
  if (args.summary != nullptr) {
    FILE* f = std::fopen(args.summary, "w");
    if (f == nullptr || std::fprintf(f, "%s\n", json.c_str()) < 0 || std::fclose(f) != 0) {
      std::fprintf(stderr, "xiot-fleet-sim: cannot write %s: %s\n", args.summary, std::strerror(errno));
      return kExitFailure;
    }
  }
  return rc;
}

int run(const Args& args) {
  fleet_sim::FleetSpec spec;
  boards::BoardSpec board_spec;
  size_t first = 0;
  const int early = load_fleet(args, &spec, &board_spec, &first);
  if (early >= 0) return early;
  // Debian's libstrophe (OpenSSL) loads the whole system CA bundle on every
  // connect unless its default paths point elsewhere: ~1 MiB and ~50 ms of CPU
  // per login, times N devices. With a CA file, point them at it.
  agent::use_ca_file_for_openssl_defaults(spec.xmpp.ca_file.c_str(), agent::SystemCaDirectory::Keep);

  const fleet_sim::SimOptions options = sim_options(args, first);

  long baseline_kib = 0;
  long hwm_kib = 0;
  hal::linux_::SystemClock clock;
  agent::Context ctx;
  read_rss_kib(&baseline_kib, &hwm_kib);
  fleet_sim::FleetSim sim(spec, board_spec, options, ctx, clock, clock);
  std::printf("fleet-sim: %zu devices of %s, server %s:%u, logins over %.1f s, telemetry every %g s\n", sim.size(),
              args.fleet, spec.xmpp.host.c_str(), spec.xmpp.port, sim.ramp_s(),
              args.interval_s > 0 ? args.interval_s : spec.telemetry.interval_s);
  std::fflush(stdout);

  const int rc = SimLoop(args, sim, ctx, clock, baseline_kib).run();
  return stop_and_report(args, sim, clock, baseline_kib, hwm_kib, rc);
}

}  // namespace

int main(int argc, char** argv) {
  Args args;
  const int early = parse_args(argc, argv, &args);
  if (early >= 0) return early;
  agent::LogLevel level = agent::LogLevel::Warn;
  if (!agent::parse_log_level(args.log_level, &level)) {
    std::fprintf(stderr, "xiot-fleet-sim: --log-level: expected error|warn|info|debug, got '%s'\n", args.log_level);
    return kExitUsage;
  }
  agent::log_set_level(level);
  hal::linux_::install_stop_signals();
  return run(args);
}

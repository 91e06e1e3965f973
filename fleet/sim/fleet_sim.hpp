// The fleet simulator's engine: N SimDevices on ONE libstrophe Context, driven
// by one loop. Devices start on a jittered schedule spread over the ramp (so N
// devices do not all log in at the same instant); every turn of the loop ticks
// the started ones and tracks how many are online.
//
//   FleetSim sim(spec, board_spec, options, ctx, clock, clock);
//   sim.begin();
//   while (!stop) { const uint32_t wait = sim.tick(); ctx.run_once(wait); }
//   sim.stop("fleet simulator stopped");
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "agent/config.hpp"
#include "agent/xmpp/session.hpp"
#include "boards/board.hpp"
#include "fleet_spec.hpp"
#include "hal/clock.hpp"
#include "sim_device.hpp"

namespace fleet_sim {

struct SimOptions {
  /// Devices to run: `count` of the fleet file's, from index `first`
  /// (0-based); 0 = all from `first` on.
  size_t count = 0;
  size_t first = 0;
  /// Devices one process can run: libstrophe 0.12 waits with select(), which
  /// cannot watch file descriptors above 1023 (FD_SETSIZE), and the session
  /// registry holds 1024. Run several simulators (--first) for more.
  static constexpr size_t kMaxDevices = 1000;
  /// Logins are spread over this many seconds; negative = auto
  /// (count / kAutoRampPerSecond).
  double ramp_s = -1.0;
  /// Overrides the fleet file's telemetry.interval_s when > 0.
  double interval_s = 0.0;
  /// At most this many devices logging in for the first time at once (started,
  /// neither online yet nor refused); a device whose start time came waits for
  /// a free slot.
  /// 0 = no limit. See docs/fleet.md: libstrophe's TLS handshake blocks the
  /// one loop, so a long queue of concurrent logins only makes each one slower.
  size_t max_logins = 0;
  /// Seeds the start jitter and the devices' boot ids.
  uint64_t run_seed = 1;
  /// The auto ramp's login rate.
  static constexpr double kAutoRampPerSecond = 50.0;
};

struct FleetStats {
  size_t devices = 0;
  size_t started = 0;
  size_t online = 0;
  size_t online_max = 0;
  size_t fatal = 0;           ///< devices that gave up (authentication or TLS refused)
  uint64_t logins = 0;        ///< login events (new sessions and XEP-0198 resumes)
  uint64_t reconnects = 0;    ///< logins after each device's first
  uint64_t disconnects = 0;
  uint64_t items_sent = 0;
  uint64_t items_acked = 0;
  uint64_t items_rejected = 0;
  uint64_t items_dropped = 0;
  uint64_t commands = 0;
  uint64_t chats = 0;
  uint64_t reboots = 0;
  double elapsed_s = 0;       ///< since begin()
  double first_login_s = -1;  ///< since begin(); negative = none yet
  double all_online_s = -1;   ///< since begin(), the first time every device was online; negative = not yet
};

class FleetSim {
 public:
  /// Everything is borrowed and must outlive the simulator. Builds the
  /// devices' configurations; nothing connects before begin()/tick().
  FleetSim(const FleetSpec& spec, const boards::BoardSpec& board_spec, const SimOptions& options,
           agent::Context& ctx, hal::MonotonicClock& mono, hal::WallClock& wall);
  ~FleetSim();
  FleetSim(const FleetSim&) = delete;
  FleetSim& operator=(const FleetSim&) = delete;

  /// Time zero: the start schedule is laid out from now.
  void begin();
  /// Starts the devices whose time has come, ticks every started device and
  /// updates the online count. Returns the milliseconds until it next needs
  /// to run (at least 1).
  uint32_t tick();
  /// Every started device goes offline with `reason` (unavailable presence,
  /// stream closed), all at once: the context runs until every stream is
  /// closed or `timeout_ms` passed. Returns the devices still not closed.
  size_t stop(const char* reason, uint32_t timeout_ms = 3000);

  FleetStats stats() const;
  size_t size() const { return devices_.size(); }
  SimDevice& device(size_t i) { return *devices_[i]; }
  /// Seconds after begin() at which device i is due to start.
  double start_offset_s(size_t i) const { return static_cast<double>(start_at_[i].us_since(t0_)) / 1e6; }
  double ramp_s() const { return ramp_s_; }

 private:
  double now_s() const;

  agent::Context& ctx_;
  hal::MonotonicClock& mono_;
  std::vector<agent::AgentConfig> configs_;  ///< one per device; never resized after construction
  std::vector<std::unique_ptr<SimDevice>> devices_;
  std::vector<uint64_t> boot_seeds_;
  std::vector<double> start_frac_;          ///< (i + jitter) / N, in [0, 1)
  std::vector<hal::MonoTime> start_at_;
  double ramp_s_ = 0;
  hal::MonoTime t0_{};
  size_t next_start_ = 0;
  size_t max_logins_ = 0;
  std::vector<bool> first_login_done_;  ///< online once, or refused
  size_t first_logins_open_ = 0;       ///< started, first login not done yet
  size_t online_ = 0;
  size_t online_max_ = 0;
  double first_login_s_ = -1;
  double all_online_s_ = -1;
};

}  // namespace fleet_sim

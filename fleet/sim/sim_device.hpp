// One simulated device of the fleet: its own sim board (chip models and
// drivers), its "flash" (MemoryStorage) and one agent::AgentRuntime on the
// fleet's shared libstrophe Context. Its environment (the BME280's climate,
// the button) comes from the device's seed, so every device reports values of
// its own; a `reboot` command rebuilds board and runtime (settings kept).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "agent/config.hpp"
#include "agent/runtime.hpp"
#include "agent/xmpp/session.hpp"
#include "boards/board.hpp"
#include "hal/clock.hpp"
#include "memory_storage.hpp"

namespace fleet_sim {

/// The simulated world around one device, derived from its seed:
///   temperature 18.0 + 0.1 * (seed % 100) °C, humidity 35 + 0.5 * (seed % 41) %RH,
///   pressure 100800 + 10 * (seed % 97) Pa, each with a slow sine drift (period
///   10 min, phase from the seed) small enough that two devices whose seeds
///   differ modulo 100 never report the same temperature; the button is
///   pressed when the seed is odd.
struct Environment {
  double temperature_c = 0;
  double humidity_pct = 0;
  double pressure_pa = 0;
  double phase_rad = 0;
  bool button_pressed = false;

  static Environment from_seed(uint64_t seed);
  /// Drift amplitudes (peak): below half the temperature step between seeds.
  static constexpr double kTemperatureDrift = 0.03;
  static constexpr double kHumidityDrift = 0.2;
  static constexpr double kPressureDrift = 4.0;
  static constexpr double kDriftPeriodS = 600.0;
  double temperature_at(double t_s) const;
  double humidity_at(double t_s) const;
  double pressure_at(double t_s) const;
};

/// Counters of one device, summed over its reboots.
struct DeviceCounters {
  uint64_t logins = 0;
  uint64_t disconnects = 0;
  uint64_t items_sent = 0;
  uint64_t items_acked = 0;
  uint64_t items_rejected = 0;
  uint64_t items_dropped = 0;
  uint64_t commands = 0;
  uint64_t chats = 0;
  uint64_t reboots = 0;
};

class SimDevice {
 public:
  /// `cfg`, `board_spec`, `ctx` and the clocks are borrowed and must outlive
  /// the device. Nothing is built or connected before start().
  SimDevice(const agent::AgentConfig& cfg, const boards::BoardSpec& board_spec, uint64_t seed,
            agent::Context& ctx, hal::MonotonicClock& mono, hal::WallClock& wall);
  ~SimDevice();
  SimDevice(const SimDevice&) = delete;
  SimDevice& operator=(const SimDevice&) = delete;

  /// Builds the board and the runtime and makes the first connection attempt.
  /// `boot_seed` seeds the boot id, backoff jitter and command session ids.
  /// Errors: Io (the board could not be built), what AgentRuntime::start()
  /// returns (NoSpace, InvalidArgument, Io).
  hal::Err start(uint64_t boot_seed);
  bool started() const { return runtime_ != nullptr || rebooting_; }
  /// Environment drift, the runtime's tick, a requested reboot. Returns the
  /// milliseconds until it next needs to run (at least 1). `t_s` is the
  /// simulator's time in seconds (drives the drift).
  uint32_t tick(double t_s);
  /// Unavailable presence with `reason` and the stream close requested;
  /// returns at once (the caller runs the context until stop_done()).
  void stop_begin(const char* reason);
  /// The stream closed by stop_begin() is closed (true if none was open).
  bool stop_done() const;

  bool online() const;
  agent::Fatal fatal() const;
  const agent::AgentConfig& config() const { return cfg_; }
  const Environment& environment() const { return env_; }
  /// Counters so far (the running runtime's included).
  DeviceCounters counters() const;
  /// The live board (nullptr before start and while rebooting).
  boards::Board* board() { return board_.get(); }
  /// The running runtime (nullptr before start and while rebooting).
  agent::AgentRuntime* runtime() { return runtime_.get(); }

 private:
  void apply_environment(double t_s);
  void retire_runtime();

  const agent::AgentConfig& cfg_;
  const boards::BoardSpec& board_spec_;
  agent::Context& ctx_;
  hal::MonotonicClock& mono_;
  hal::WallClock& wall_;
  Environment env_;
  MemoryStorage storage_;
  std::unique_ptr<boards::Board> board_;
  std::unique_ptr<agent::AgentRuntime> runtime_;
  DeviceCounters retired_;  ///< of runtimes ended by a reboot
  uint64_t boot_seed_ = 0;
  bool shutting_down_ = false;  ///< a reboot's stream close is under way
  hal::MonoTime shutdown_deadline_{};
  bool rebooting_ = false;      ///< offline between a reboot and the next start
  hal::MonoTime restart_at_{};
  double last_env_t_ = -1e9;
};

}  // namespace fleet_sim

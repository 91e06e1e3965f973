// See sim_device.hpp.
#include "sim_device.hpp"

#include <cmath>
#include <string>

#include "agent/log.hpp"
#include "bme280/bme280_model.hpp"

namespace fleet_sim {
namespace {

constexpr double kPi = 3.14159265358979323846;
// A rebooting device is offline this long before it logs in again.
constexpr int64_t kRebootDelayMs = 1000;
// How long a reboot waits for its stream to close (libstrophe's own limit is 2 s).
constexpr int64_t kShutdownMaxMs = 3000;
// The environment drifts slowly: refreshing the models twice a second is plenty.
constexpr double kEnvRefreshS = 0.5;

// splitmix64: spreads consecutive seeds over the whole phase circle.
uint64_t mix(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

double drift(double amplitude, double t_s, double phase) {
  return amplitude * std::sin(2.0 * kPi * t_s / Environment::kDriftPeriodS + phase);
}

}  // namespace

Environment Environment::from_seed(uint64_t seed) {
  Environment e;
  e.temperature_c = 18.0 + 0.1 * static_cast<double>(seed % 100);
  e.humidity_pct = 35.0 + 0.5 * static_cast<double>(seed % 41);
  e.pressure_pa = 100800.0 + 10.0 * static_cast<double>(seed % 97);
  e.phase_rad = 2.0 * kPi * static_cast<double>(mix(seed) >> 11) / 9007199254740992.0;
  e.button_pressed = (seed & 1u) != 0;
  return e;
}

double Environment::temperature_at(double t_s) const { return temperature_c + drift(kTemperatureDrift, t_s, phase_rad); }
double Environment::humidity_at(double t_s) const { return humidity_pct + drift(kHumidityDrift, t_s, phase_rad); }
double Environment::pressure_at(double t_s) const { return pressure_pa + drift(kPressureDrift, t_s, phase_rad); }

SimDevice::SimDevice(const agent::AgentConfig& cfg, const boards::BoardSpec& board_spec, uint64_t seed,
                     agent::Context& ctx, hal::MonotonicClock& mono, hal::WallClock& wall)
    : cfg_(cfg), board_spec_(board_spec), ctx_(ctx), mono_(mono), wall_(wall), env_(Environment::from_seed(seed)) {}

SimDevice::~SimDevice() = default;

hal::Err SimDevice::start(uint64_t boot_seed) {
  boot_seed_ = boot_seed;
  std::string error;
  // The button: driven by "something outside" for the whole run, so its
  // level is part of the world the board is built in (the gpio-input's
  // "sim" level): the driver starts with it instead of debouncing an edge.
  boards::BoardSpec spec = board_spec_;
  for (boards::DeviceSpec& d : spec.devices) {
    if (d.compatible != "xiot,gpio-input" || !d.pin) continue;
    const bool active_level = !d.active_low;
    d.sim.set("level", (env_.button_pressed ? active_level : !active_level) ? 1 : 0);
  }
  board_ = boards::Board::create(spec, mono_, wall_, &error);
  if (!board_) {
    XLOG_ERROR("fleet", "cannot build the board: %s", error.c_str());
    return hal::Err::Io;
  }
  last_env_t_ = -1e9;
  apply_environment(0.0);
  runtime_.reset(new agent::AgentRuntime(ctx_, cfg_, *board_, mono_, wall_, &storage_, boot_seed));
  // Lines logged from libstrophe's callbacks name the device (the caller
  // tags its own calls into the device).
  runtime_->session().set_log_tag(cfg_.xmpp.jid.c_str());
  rebooting_ = false;
  return runtime_->start();
}

void SimDevice::apply_environment(double t_s) {
  if (board_ == nullptr || t_s - last_env_t_ < kEnvRefreshS) return;
  last_env_t_ = t_s;
  for (const boards::DeviceSpec& d : board_spec_.devices) {
    drv::sim::Bme280Model* m = drv::sim::as_bme280(board_->sim_model(d.name.c_str()));
    if (m == nullptr) continue;
    m->set_temperature_c(env_.temperature_at(t_s));
    m->set_humidity_pct(env_.humidity_at(t_s));
    m->set_pressure_pa(env_.pressure_at(t_s));
  }
}

uint32_t SimDevice::tick(double t_s) {
  if (rebooting_) {
    const hal::MonoTime now = mono_.mono_now();
    if (now < restart_at_) {
      const int64_t ms = (restart_at_.us_since(now) + 999) / 1000;
      return ms < 1 ? 1 : static_cast<uint32_t>(ms);
    }
    XLOG_INFO("fleet", "booting again");
    if (start(mix(boot_seed_)) != hal::Err::Ok) {
      XLOG_ERROR("fleet", "cannot start after the reboot");
    }
    return 1;
  }
  if (runtime_ == nullptr) return 1000;
  if (shutting_down_) {
    // A reboot's stop, without blocking the other devices: the stream closes
    // while the loop goes on (libstrophe gives up on the peer after 2 s).
    const hal::MonoTime now = mono_.mono_now();
    if (!runtime_->session().stop_done() && now < shutdown_deadline_) return 10;
    shutting_down_ = false;
    retire_runtime();
    rebooting_ = true;
    restart_at_ = now.plus_ms(kRebootDelayMs);
    return static_cast<uint32_t>(kRebootDelayMs);
  }
  apply_environment(t_s);
  const uint32_t wait = runtime_->tick();
  if (runtime_->reboot_requested()) {
    XLOG_INFO("fleet", "rebooting (%s)", runtime_->reboot_reason());
    runtime_->session().stop_begin(runtime_->reboot_reason());
    shutting_down_ = true;
    shutdown_deadline_ = mono_.mono_now().plus_ms(kShutdownMaxMs);
    return 10;
  }
  return wait;
}

void SimDevice::retire_runtime() {
  const DeviceCounters c = counters();
  retired_ = c;
  ++retired_.reboots;
  runtime_.reset();
  board_.reset();
}

void SimDevice::stop_begin(const char* reason) {
  if (runtime_ != nullptr) runtime_->session().stop_begin(reason);
}

bool SimDevice::stop_done() const { return runtime_ == nullptr || runtime_->session().stop_done(); }

bool SimDevice::online() const { return runtime_ != nullptr && runtime_->session().online(); }

agent::Fatal SimDevice::fatal() const {
  return runtime_ != nullptr ? runtime_->session().fatal() : agent::Fatal::None;
}

DeviceCounters SimDevice::counters() const {
  DeviceCounters c = retired_;
  if (runtime_ == nullptr) return c;
  agent::AgentRuntime& r = *runtime_;
  const agent::SessionStats& s = r.session().stats();
  c.logins += s.logins;
  c.disconnects += s.disconnects;
  c.items_sent += s.items_sent;
  c.items_acked += s.items_acked;
  c.items_rejected += s.items_rejected;
  c.items_dropped += r.publisher().items_dropped();
  c.commands += s.commands;
  c.chats += s.chats;
  return c;
}

}  // namespace fleet_sim

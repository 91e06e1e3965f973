// See fleet_sim.hpp.
#include "fleet_sim.hpp"

#include "agent/backoff.hpp"
#include "agent/log.hpp"

namespace fleet_sim {

FleetSim::FleetSim(const FleetSpec& spec, const boards::BoardSpec& board_spec, const SimOptions& options,
                   agent::Context& ctx, hal::MonotonicClock& mono, hal::WallClock& wall)
    : ctx_(ctx), mono_(mono) {
  const size_t first = options.first < spec.devices.size() ? options.first : spec.devices.size();
  const size_t available = spec.devices.size() - first;
  size_t n = options.count == 0 || options.count > available ? available : options.count;
  if (n > SimOptions::kMaxDevices) n = SimOptions::kMaxDevices;
  ramp_s_ = options.ramp_s >= 0 ? options.ramp_s : static_cast<double>(n) / SimOptions::kAutoRampPerSecond;
  configs_.reserve(n);  // devices borrow their config: no reallocation after this
  devices_.reserve(n);
  boot_seeds_.reserve(n);
  start_frac_.reserve(n);
  agent::Rng rng(options.run_seed);
  for (size_t i = 0; i < n; ++i) {
    const size_t index = first + i;
    configs_.push_back(device_config(spec, index));
    if (options.interval_s > 0) configs_.back().telemetry.interval_s = options.interval_s;
    devices_.emplace_back(new SimDevice(configs_.back(), board_spec, spec.devices[index].seed, ctx, mono, wall));
    boot_seeds_.push_back(rng.next() ^ spec.devices[index].seed);
    // Device i starts at a uniformly jittered point of its own slot
    // [i, i+1) / n of the ramp: an even login rate without lockstep.
    const double jitter = static_cast<double>(rng.next() >> 11) / 9007199254740992.0;
    start_frac_.push_back((static_cast<double>(i) + jitter) / static_cast<double>(n));
  }
  start_at_.resize(n);
  first_login_done_.assign(n, false);
  max_logins_ = options.max_logins;
}

FleetSim::~FleetSim() = default;

void FleetSim::begin() {
  t0_ = mono_.mono_now();
  for (size_t i = 0; i < start_at_.size(); ++i) {
    start_at_[i] = t0_.plus_us(static_cast<int64_t>(start_frac_[i] * ramp_s_ * 1e6));
  }
  next_start_ = 0;
}

double FleetSim::now_s() const { return static_cast<double>(mono_.mono_now().us_since(t0_)) / 1e6; }

uint32_t FleetSim::tick() {
  const hal::MonoTime now = mono_.mono_now();
  const double t_s = static_cast<double>(now.us_since(t0_)) / 1e6;
  while (next_start_ < devices_.size() && start_at_[next_start_] <= now &&
         (max_logins_ == 0 || first_logins_open_ < max_logins_)) {
    SimDevice& d = *devices_[next_start_];
    agent::log_set_tag(d.config().xmpp.jid.c_str());
    if (d.start(boot_seeds_[next_start_]) != hal::Err::Ok) {
      XLOG_ERROR("fleet", "cannot start");
    }
    ++next_start_;
    ++first_logins_open_;
  }
  uint32_t wait = 1000;
  size_t online = 0;
  for (size_t i = 0; i < next_start_; ++i) {
    agent::log_set_tag(devices_[i]->config().xmpp.jid.c_str());
    const uint32_t w = devices_[i]->tick(t_s);
    if (w < wait) wait = w;
    const bool is_online = devices_[i]->online();
    if (is_online) ++online;
    // A first login is over when the device is online, or when it gave up
    // (refused): either way its slot is free for the next device.
    if (!first_login_done_[i] && (is_online || devices_[i]->fatal() != agent::Fatal::None)) {
      first_login_done_[i] = true;
      --first_logins_open_;
    }
  }
  agent::log_set_tag(nullptr);
  online_ = online;
  if (online > online_max_) online_max_ = online;
  if (online > 0 && first_login_s_ < 0) first_login_s_ = t_s;
  if (online == devices_.size() && all_online_s_ < 0) all_online_s_ = t_s;
  if (next_start_ < devices_.size() && (max_logins_ == 0 || first_logins_open_ < max_logins_)) {
    const int64_t until = (start_at_[next_start_].us_since(mono_.mono_now()) + 999) / 1000;
    if (until < static_cast<int64_t>(wait)) wait = until < 1 ? 1 : static_cast<uint32_t>(until);
  }
  return wait < 1 ? 1 : wait;
}

size_t FleetSim::stop(const char* reason, uint32_t timeout_ms) {
  for (size_t i = 0; i < next_start_; ++i) {
    agent::log_set_tag(devices_[i]->config().xmpp.jid.c_str());
    devices_[i]->stop_begin(reason);
  }
  agent::log_set_tag(nullptr);
  online_ = 0;
  const hal::MonoTime deadline = mono_.mono_now().plus_ms(timeout_ms);
  size_t open = 0;
  for (;;) {
    open = 0;
    for (size_t i = 0; i < next_start_; ++i) open += devices_[i]->stop_done() ? 0 : 1;
    if (open == 0 || mono_.mono_now() >= deadline) break;
    ctx_.run_once(20);
  }
  return open;
}

FleetStats FleetSim::stats() const {
  FleetStats s;
  s.devices = devices_.size();
  s.started = next_start_;
  s.online = online_;
  s.online_max = online_max_;
  for (size_t i = 0; i < next_start_; ++i) {
    const DeviceCounters c = devices_[i]->counters();
    if (devices_[i]->fatal() != agent::Fatal::None) ++s.fatal;
    s.logins += c.logins;
    s.reconnects += c.logins > 0 ? c.logins - 1 : 0;
    s.disconnects += c.disconnects;
    s.items_sent += c.items_sent;
    s.items_acked += c.items_acked;
    s.items_rejected += c.items_rejected;
    s.items_dropped += c.items_dropped;
    s.commands += c.commands;
    s.chats += c.chats;
    s.reboots += c.reboots;
  }
  s.elapsed_s = now_s();
  s.first_login_s = first_login_s_;
  s.all_online_s = all_online_s_;
  return s;
}

}  // namespace fleet_sim

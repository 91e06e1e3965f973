#include "sys_metrics/sys_metrics.hpp"

#include <new>

namespace drv {

namespace {
const ChannelSpec kChannels[] = {
    {"uptime", "s", ChannelKind::Sensor, ValueType::Numeric},
    {"load", "/", ChannelKind::Sensor, ValueType::Numeric},
    {"mem_available", "B", ChannelKind::Sensor, ValueType::Numeric},
    {"mem_used", "%", ChannelKind::Sensor, ValueType::Numeric},
};
constexpr size_t kChannelCount = sizeof kChannels / sizeof kChannels[0];
}  // namespace

SysMetrics::SysMetrics(const char* name, hal::SystemInfo& info)
    : Device(name, "xiot,system-metrics"), info_(info) {}

size_t SysMetrics::channel_count() const { return kChannelCount; }

const ChannelSpec& SysMetrics::channel(size_t i) const { return kChannels[i < kChannelCount ? i : 0]; }

hal::Err SysMetrics::init() {
  ready_ = false;
  have_sample_ = false;
  hal::Result<uint64_t> up = info_.uptime_ms();
  if (!up.ok()) return up.error();
  ready_ = true;
  return hal::Err::Ok;
}

hal::Err SysMetrics::sample() {
  if (!ready_) return hal::Err::NotReady;
  hal::Result<uint64_t> up = info_.uptime_ms();
  if (!up.ok()) return up.error();
  hal::Result<hal::LoadAverage> load = info_.load();
  if (!load.ok() && load.error() != hal::Err::NotSupported) return load.error();
  hal::Result<hal::MemoryInfo> mem = info_.memory();
  if (!mem.ok()) return mem.error();
  const hal::MemoryInfo& m = mem.value();
  if (m.total_bytes == 0 || m.available_bytes > m.total_bytes) return hal::Err::Io;

  uptime_s_ = up.value() / 1000;
  have_load_ = load.ok();
  load1_milli_ = have_load_ ? load.value().load1_milli : 0;
  available_ = m.available_bytes;
  // Rounded per-mille; 128-bit-free: total fits comfortably below 2^54 bytes.
  const uint64_t used = m.total_bytes - m.available_bytes;
  used_permille_ = static_cast<uint32_t>((used * 1000 + m.total_bytes / 2) / m.total_bytes);
  have_sample_ = true;
  return hal::Err::Ok;
}

hal::Result<Value> SysMetrics::get(size_t i) const {
  if (i >= kChannelCount) return hal::Err::NotFound;
  if (!have_sample_) return hal::Err::NotReady;
  switch (i) {
    case 0: return Value::numeric(static_cast<int64_t>(uptime_s_), 0);
    case 1:
      if (!have_load_) return hal::Err::NotSupported;
      return Value::numeric(load1_milli_, -3);
    case 2: return Value::numeric(static_cast<int64_t>(available_), 0);
    default: return Value::numeric(used_permille_, -1);
  }
}

hal::Err SysMetrics::set(size_t i, const Value&) {
  return i < kChannelCount ? hal::Err::ReadOnly : hal::Err::NotFound;
}

std::unique_ptr<Device> create_sys_metrics(const DeviceConfig& config, DriverError* error) {
  DriverError scratch;
  if (error == nullptr) error = &scratch;
  if (config.system_info == nullptr) {
    error->set("needs the board's system info (not available on this board)");
    return nullptr;
  }
  if (!check_param_keys(config, nullptr, 0, error)) return nullptr;
  std::unique_ptr<Device> dev(new (std::nothrow) SysMetrics(config.name, *config.system_info));
  if (!dev) error->set("out of memory");
  return dev;
}

}  // namespace drv

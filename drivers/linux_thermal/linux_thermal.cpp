// "linux,thermal-zone": see linux_thermal.hpp.
#include "linux_thermal/linux_thermal.hpp"

#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <new>

#include "drv/sysfs_attr.hpp"

namespace drv {

namespace {

constexpr const char* kThermalDir = "class/thermal";
// Absolute zero in millidegrees: anything below it is the kernel saying it
// has no reading (THERMAL_TEMP_INVALID, -274000), not a temperature.
constexpr int64_t kAbsoluteZeroMilli = -273150;
// A zone above 1000 °C is a broken sensor, not a board.
constexpr int64_t kMaxMilli = 1000000;

const ChannelSpec kChannel = {"temperature", "Cel", ChannelKind::Sensor, ValueType::Numeric};

}  // namespace

LinuxThermalZone::LinuxThermalZone(const char* name, hal::SysfsTree& tree, const char* zone_type, uint32_t index)
    : Device(name, "linux,thermal-zone"), tree_(tree), by_type_(zone_type != nullptr), index_(index) {
  if (zone_type != nullptr) std::snprintf(selector_, sizeof selector_, "%s", zone_type);
}

const ChannelSpec& LinuxThermalZone::channel(size_t) const { return kChannel; }

hal::Err LinuxThermalZone::read_temp(int64_t* milli) {
  hal::Result<int64_t> v = read_integer(tree_, path_);
  if (!v.ok()) {
    detail_.set("%s: %s", path_, v.error() == hal::Err::Io ? "not an integer (or EIO)" : hal::err_name(v.error()));
    return v.error();
  }
  if (v.value() < kAbsoluteZeroMilli || v.value() > kMaxMilli) {
    detail_.set("%s: %" PRId64 " m°C is out of range (-273150..1000000)", path_, v.value());
    return hal::Err::Io;
  }
  *milli = v.value();
  return hal::Err::Ok;
}

hal::Err LinuxThermalZone::init() {
  ready_ = false;
  have_sample_ = false;
  detail_.text[0] = '\0';
  char zone[hal::SysfsTree::kMaxNameLen + 1];
  const hal::Err found = find_numbered_entry(tree_, kThermalDir, "thermal_zone", "type", by_type_ ? selector_ : nullptr,
                                             index_, zone, sizeof zone);
  if (found != hal::Err::Ok) {
    if (by_type_) {
      detail_.set("no thermal zone of type \"%s\" in %s", selector_, kThermalDir);
    } else {
      detail_.set("no thermal zone %s/thermal_zone%" PRIu32, kThermalDir, index_);
    }
    return found;
  }
  std::snprintf(path_, sizeof path_, "%s/%s/temp", kThermalDir, zone);
  int64_t milli = 0;
  if (hal::Err e = read_temp(&milli); e != hal::Err::Ok) return e;
  ready_ = true;
  return hal::Err::Ok;
}

hal::Err LinuxThermalZone::sample() {
  if (!ready_) return hal::Err::NotReady;
  int64_t milli = 0;
  if (hal::Err e = read_temp(&milli); e != hal::Err::Ok) return e;
  milli_c_ = milli;
  have_sample_ = true;
  detail_.text[0] = '\0';
  return hal::Err::Ok;
}

hal::Result<Value> LinuxThermalZone::get(size_t i) const {
  if (i != 0) return hal::Err::NotFound;
  if (!have_sample_) return hal::Err::NotReady;
  return Value::numeric(milli_c_, -3);
}

hal::Err LinuxThermalZone::set(size_t i, const Value&) { return i == 0 ? hal::Err::ReadOnly : hal::Err::NotFound; }

std::unique_ptr<Device> create_linux_thermal_zone(const DeviceConfig& config, DriverError* error) {
  DriverError scratch;
  if (error == nullptr) error = &scratch;
  if (config.sysfs == nullptr) {
    error->set("needs the board's sysfs tree (\"hal\": \"linux\", or \"sysfs\" on a sim board)");
    return nullptr;
  }
  static const char* const kKeys[] = {"zone"};
  if (!check_param_keys(config, kKeys, 1, error)) return nullptr;
  const char* zone_type = nullptr;
  uint32_t index = 0;
  if (!param_device_selector(config, "zone", "zone's type (\"x86_pkg_temp\")", "thermal_zoneN",
                             LinuxThermalZone::kMaxSelectorLen, &zone_type, &index, error)) {
    return nullptr;
  }
  std::unique_ptr<Device> dev(new (std::nothrow) LinuxThermalZone(config.name, *config.sysfs, zone_type, index));
  if (!dev) error->set("out of memory");
  return dev;
}

}  // namespace drv

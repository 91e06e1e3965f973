// "linux,iio": see linux_iio.hpp. The attribute names, units and the value
// formula are the kernel's ABI, Documentation/ABI/testing/sysfs-bus-iio:
//   in_<type>[Y][_<mod>]_raw     "Raw (unscaled no bias removal etc.)"
//   in_<type>[Y]_scale / _offset "value = (raw + offset) * scale", shared by
//                                type when the index is left out
//   in_<type>[Y]_input           "Scaled" (processed) value
// with the units the ABI gives per type (the table below).
#include "linux_iio/linux_iio.hpp"

#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <new>

namespace drv {

namespace {

constexpr const char* kIioDir = "bus/iio/devices";

struct IioType {
  const char* iio;       // the ABI's <type>
  const char* quantity;  // our channel name
  const char* unit;      // SenML
  int8_t shift;          // ABI unit -> SenML unit, as a power of ten
};

// sysfs-bus-iio: in_temp*: "Units after application of scale and offset are
// milli degrees Celsius"; in_pressure*: "kilopascal"; in_humidityrelative*:
// "milli percent"; in_voltage*: "millivolts"; in_current*: "milliamps";
// in_power*: "milliwatts"; in_illuminance*: "lux"; in_resistance*: "ohms";
// in_concentration*: "percents"; in_accel*: "m/s^2"; in_anglvel*: "rad/s";
// in_magn*: "Gauss" (1 G = 10^-4 T); in_distance*: "meters".
const IioType kTypes[] = {
    {"temp", "temperature", "Cel", -3},
    {"humidityrelative", "humidity", "%RH", -3},
    {"pressure", "pressure", "Pa", 3},
    {"voltage", "voltage", "V", -3},
    {"current", "current", "A", -3},
    {"power", "power", "W", -3},
    {"illuminance", "illuminance", "lx", 0},
    {"resistance", "resistance", "Ohm", 0},
    {"concentration", "concentration", "ppm", 4},
    {"accel", "acceleration", "m/s2", 0},
    {"anglvel", "angular_velocity", "rad/s", 0},
    {"magn", "magnetic_field", "T", -4},
    {"distance", "distance", "m", 0},
};

bool quantity_char(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-'; }

bool ends_with(const char* s, size_t len, const char* suffix) {
  const size_t n = std::strlen(suffix);
  return len > n && std::memcmp(s + len - n, suffix, n) == 0;
}

/// The type of an attribute's <spec> ("voltage0" -> voltage), or null.
const IioType* type_of(const char* spec, size_t len) {
  for (const IioType& t : kTypes) {
    const size_t n = std::strlen(t.iio);
    if (len < n || std::memcmp(spec, t.iio, n) != 0) continue;
    const char next = n < len ? spec[n] : '\0';
    if (next == '\0' || (next >= '0' && next <= '9') || next == '_' || next == '-') return &t;
  }
  return nullptr;
}

}  // namespace

// The directory listing's visitor, with the device it fills.
struct IioScan {
  LinuxIio* dev;
  size_t extra = 0;  // channels beyond kMaxChannels

  static bool visit(void* context, const char* name) {
    IioScan& s = *static_cast<IioScan*>(context);
    LinuxIio& d = *s.dev;
    const size_t len = std::strlen(name);
    if (std::strncmp(name, "in_", 3) != 0) return true;
    bool raw = false;
    size_t spec_len = 0;
    if (ends_with(name, len, "_input")) {
      spec_len = len - 3 - 6;
    } else if (ends_with(name, len, "_raw")) {
      spec_len = len - 3 - 4;
      raw = true;
    } else {
      return true;
    }
    const char* spec = name + 3;
    const IioType* t = type_of(spec, spec_len);
    if (t == nullptr) return true;  // a type without a SenML unit
    const char* rest = spec + std::strlen(t->iio);
    const size_t rest_len = spec_len - std::strlen(t->iio);
    char quantity[LinuxIio::kMaxQuantityLen + 1];
    if (std::strlen(t->quantity) + rest_len > LinuxIio::kMaxQuantityLen) return true;
    for (size_t i = 0; i < rest_len; ++i) {
      if (!quantity_char(rest[i])) return true;
    }
    std::snprintf(quantity, sizeof quantity, "%s%.*s", t->quantity, static_cast<int>(rest_len), rest);
    if (d.wanted_[0] != '\0' && channel_list_index(d.wanted_, quantity) < 0) return true;
    for (size_t i = 0; i < d.count_; ++i) {
      LinuxIio::Chan& c = d.chans_[i];
      if (std::strcmp(c.quantity, quantity) != 0) continue;
      if (c.raw && !raw) {  // the processed value wins
        std::snprintf(c.attr, sizeof c.attr, "%s", name);
        c.raw = false;
      }
      return true;
    }
    if (d.count_ == LinuxIio::kMaxChannels) {
      ++s.extra;
      return true;
    }
    LinuxIio::Chan& c = d.chans_[d.count_++];
    c = LinuxIio::Chan{};
    std::snprintf(c.attr, sizeof c.attr, "%s", name);
    std::snprintf(c.quantity, sizeof c.quantity, "%s", quantity);
    c.raw = raw;
    c.shift = t->shift;
    c.scale = Decimal{1, 0};
    c.offset = Decimal{0, 0};
    c.spec = ChannelSpec{c.quantity, t->unit, ChannelKind::Sensor, ValueType::Numeric};
    return true;
  }
};

LinuxIio::LinuxIio(const char* name, hal::SysfsTree& tree, const char* device_name, uint32_t index,
                   const char* channels)
    : Device(name, "linux,iio"), tree_(tree), by_name_(device_name != nullptr), index_(index) {
  if (device_name != nullptr) std::snprintf(selector_, sizeof selector_, "%s", device_name);
  if (channels != nullptr) std::snprintf(wanted_, sizeof wanted_, "%s", channels);
}

const ChannelSpec& LinuxIio::channel(size_t i) const { return chans_[i < count_ ? i : 0].spec; }

hal::Err LinuxIio::init() {
  ready_ = false;
  have_sample_ = false;
  count_ = 0;
  dir_[0] = '\0';
  detail_.text[0] = '\0';
  const hal::Err found = find_numbered_entry(tree_, kIioDir, "iio:device", "name", by_name_ ? selector_ : nullptr,
                                             index_, dir_, sizeof dir_);
  if (found != hal::Err::Ok) {
    dir_[0] = '\0';
    if (by_name_) return detail_.fail(found, "no IIO device named \"%s\" in %s", selector_, kIioDir);
    return detail_.fail(found, "no IIO device %s/iio:device%" PRIu32, kIioDir, index_);
  }
  if (hal::Err e = discover(); e != hal::Err::Ok) return e;
  for (size_t i = 0; i < count_; ++i) chans_[i].spec.quantity = chans_[i].quantity;
  ready_ = true;
  return hal::Err::Ok;
}

bool LinuxIio::before(const Chan& a, const Chan& b) const {
  if (wanted_[0] != '\0') return channel_list_index(wanted_, a.quantity) < channel_list_index(wanted_, b.quantity);
  return std::strcmp(a.quantity, b.quantity) < 0;
}

hal::Err LinuxIio::discover() {
  char path[hal::SysfsTree::kMaxPathLen + 1];
  std::snprintf(path, sizeof path, "%s/%s", kIioDir, dir_);
  IioScan scan{this};
  if (hal::Err e = tree_.list(path, &IioScan::visit, &scan); e != hal::Err::Ok) {
    return detail_.fail(e, "%s: cannot list: %s", path, hal::err_name(e));
  }
  if (scan.extra > 0) {
    return detail_.fail(hal::Err::NoSpace, "%s has %zu channels, at most %zu: choose with params.channels", dir_,
                count_ + scan.extra, kMaxChannels);
  }
  // The board's order (every listed channel must exist), else by quantity.
  for (size_t i = 0; i < channel_list_count(wanted_); ++i) {
    char want[kMaxQuantityLen + 1];
    channel_list_name(wanted_, i, want, sizeof want);
    bool have = false;
    for (size_t k = 0; k < count_ && !have; ++k) have = std::strcmp(chans_[k].quantity, want) == 0;
    if (!have) return detail_.fail(hal::Err::NotFound, "params.channels: %s has no channel \"%s\"", dir_, want);
  }
  for (size_t i = 1; i < count_; ++i) {  // insertion sort
    for (size_t j = i; j > 0 && before(chans_[j], chans_[j - 1]); --j) {
      Chan tmp = chans_[j - 1];
      chans_[j - 1] = chans_[j];
      chans_[j] = tmp;
    }
  }
  if (count_ == 0) return detail_.fail(hal::Err::NotFound, "%s has no channel with a known unit", dir_);
  for (size_t i = 0; i < count_; ++i) {
    if (!chans_[i].raw) continue;
    const char* spec = chans_[i].attr + 3;
    const IioType* t = type_of(spec, std::strlen(spec) - 4);
    if (hal::Err e = load_scale(chans_[i], t != nullptr ? t->iio : ""); e != hal::Err::Ok) return e;
  }
  return hal::Err::Ok;
}

// Scale and offset of a raw channel: in_<spec>_scale, else the type's shared
// in_<type>_scale (sysfs-bus-iio lists both forms); absent means 1 and 0.
hal::Err LinuxIio::load_scale(Chan& c, const char* type) {
  const size_t spec_len = std::strlen(c.attr) - 3 - 4;
  for (int which = 0; which < 2; ++which) {
    const char* suffix = which == 0 ? "scale" : "offset";
    Decimal* out = which == 0 ? &c.scale : &c.offset;
    const char* stems[2] = {c.attr + 3, type};
    const size_t stem_lens[2] = {spec_len, std::strlen(type)};
    for (int s = 0; s < 2; ++s) {
      char path[hal::SysfsTree::kMaxPathLen + 1];
      std::snprintf(path, sizeof path, "%s/%s/in_%.*s_%s", kIioDir, dir_, static_cast<int>(stem_lens[s]), stems[s],
                    suffix);
      hal::Result<Decimal> v = read_decimal(tree_, path);
      if (v.ok()) {
        *out = v.value();
        break;
      }
      if (v.error() != hal::Err::NotFound) {
        return detail_.fail(v.error(), "%s: %s", path, v.error() == hal::Err::Io ? "not a decimal number" : hal::err_name(v.error()));
      }
    }
  }
  return hal::Err::Ok;
}

hal::Err LinuxIio::sample() {
  if (!ready_) return hal::Err::NotReady;
  Decimal next[kMaxChannels];
  for (size_t i = 0; i < count_; ++i) {
    const Chan& c = chans_[i];
    char path[hal::SysfsTree::kMaxPathLen + 1];
    std::snprintf(path, sizeof path, "%s/%s/%s", kIioDir, dir_, c.attr);
    hal::Result<Decimal> v = read_decimal(tree_, path);
    if (!v.ok()) {
      return detail_.fail(v.error(), "%s: %s", path, v.error() == hal::Err::Io ? "not a decimal number (or EIO)" : hal::err_name(v.error()));
    }
    hal::Result<Decimal> scaled = c.raw ? scale_value(v.value(), c.offset, c.scale, c.shift)
                                        : scale_value(v.value(), Decimal{0, 0}, Decimal{1, 0}, c.shift);
    if (!scaled.ok()) return detail_.fail(scaled.error(), "%s: value out of range", path);
    next[i] = scaled.value();
  }
  for (size_t i = 0; i < count_; ++i) values_[i] = next[i];
  have_sample_ = true;
  detail_.text[0] = '\0';
  return hal::Err::Ok;
}

hal::Result<Value> LinuxIio::get(size_t i) const {
  if (i >= count_) return hal::Err::NotFound;
  if (!have_sample_) return hal::Err::NotReady;
  return to_value(values_[i]);
}

hal::Err LinuxIio::set(size_t i, const Value&) { return i < count_ ? hal::Err::ReadOnly : hal::Err::NotFound; }

std::unique_ptr<Device> create_linux_iio(const DeviceConfig& config, DriverError* error) {
  DriverError scratch;
  if (error == nullptr) error = &scratch;
  if (config.sysfs == nullptr) {
    error->set("needs the board's sysfs tree (\"hal\": \"linux\", or \"sysfs\" on a sim board)");
    return nullptr;
  }
  static const char* const kKeys[] = {"device", "channels"};
  if (!check_param_keys(config, kKeys, 2, error)) return nullptr;
  const char* device_name = nullptr;
  uint32_t index = 0;
  if (!param_device_selector(config, "device", "IIO device's name (\"bme280\")", "iio:deviceN",
                             LinuxIio::kMaxSelectorLen, &device_name, &index, error)) {
    return nullptr;
  }
  char channels[LinuxIio::kMaxChannelsParamLen + 1];
  if (!param_channel_list(config, LinuxIio::kMaxChannels, LinuxIio::kMaxQuantityLen, channels, sizeof channels, error)) {
    return nullptr;
  }
  std::unique_ptr<Device> dev(new (std::nothrow) LinuxIio(config.name, *config.sysfs, device_name, index, channels));
  if (!dev) error->set("out of memory");
  return dev;
}

}  // namespace drv

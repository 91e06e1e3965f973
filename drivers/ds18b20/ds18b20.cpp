// "maxim,ds18b20": see ds18b20.hpp.
#include "ds18b20/ds18b20.hpp"

#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <new>

#include "drv/sysfs_attr.hpp"

namespace drv {

namespace {

constexpr const char* kW1Dir = "bus/w1/devices";
// DS18B20 datasheet: "measures temperatures from -55°C to +125°C".
constexpr int64_t kMinMilli = -55000;
constexpr int64_t kMaxMilli = 125000;

const ChannelSpec kChannel = {"temperature", "Cel", ChannelKind::Sensor, ValueType::Numeric};

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/// "28-" + 12 lower-case hex digits (the kernel prints them lower case).
bool valid_id(const char* id) {
  if (std::strlen(id) != Ds18b20::kIdLen || std::strncmp(id, "28-", 3) != 0) return false;
  for (const char* p = id + 3; *p != '\0'; ++p) {
    if (hex_digit(*p) < 0 || (*p >= 'A' && *p <= 'F')) return false;
  }
  return true;
}

}  // namespace

uint8_t w1_crc8(const uint8_t* data, size_t len) {
  uint8_t crc = 0;
  for (size_t i = 0; i < len; ++i) {
    uint8_t b = data[i];
    for (int bit = 0; bit < 8; ++bit) {
      const bool mix = ((crc ^ b) & 1) != 0;
      crc = static_cast<uint8_t>(crc >> 1);
      if (mix) crc ^= 0x8C;
      b = static_cast<uint8_t>(b >> 1);
    }
  }
  return crc;
}

struct Ds18b20Scan {
  bool sensor = false;
  bool temperature = false;
  static bool visit(void* context, const char* name) {
    Ds18b20Scan& s = *static_cast<Ds18b20Scan*>(context);
    if (std::strcmp(name, "temperature") == 0) s.temperature = true;
    if (std::strcmp(name, "w1_slave") == 0) s.sensor = true;
    return true;
  }
};

Ds18b20::Ds18b20(const char* name, hal::SysfsTree& tree, const char* id)
    : Device(name, "maxim,ds18b20"), tree_(tree) {
  std::snprintf(id_, sizeof id_, "%s", id);
}

const ChannelSpec& Ds18b20::channel(size_t) const { return kChannel; }

hal::Err Ds18b20::init() {
  ready_ = false;
  have_sample_ = false;
  detail_.text[0] = '\0';
  char dir[hal::SysfsTree::kMaxPathLen + 1];
  std::snprintf(dir, sizeof dir, "%s/%s", kW1Dir, id_);
  Ds18b20Scan scan;
  const hal::Err e = tree_.list(dir, &Ds18b20Scan::visit, &scan);
  if (e != hal::Err::Ok || (!scan.sensor && !scan.temperature)) {
    detail_.set("no 1-wire sensor %s in %s (w1_therm loaded? sensor wired?)", id_, kW1Dir);
    return e == hal::Err::Ok ? hal::Err::NotFound : e;
  }
  use_temperature_ = scan.temperature;
  ready_ = true;
  return hal::Err::Ok;
}

// w1_slave (w1_therm.c, w1_slave_show()): the nine scratchpad bytes as
// "%02x ", then ": crc=%02x YES|NO\n"; then the bytes again and "t=%d\n".
hal::Err Ds18b20::read_w1_slave(int64_t* milli) {
  char path[hal::SysfsTree::kMaxPathLen + 1];
  std::snprintf(path, sizeof path, "%s/%s/w1_slave", kW1Dir, id_);
  char text[160];
  hal::Result<size_t> n = tree_.read(path, text, sizeof text);
  if (!n.ok()) {
    detail_.set("%s: %s", path, hal::err_name(n.error()));
    return n.error() == hal::Err::Overflow ? hal::Err::Io : n.error();
  }
  uint8_t pad[9] = {};
  const char* p = text;
  for (uint8_t& b : pad) {
    const int hi = hex_digit(p[0]);
    const int lo = hi >= 0 ? hex_digit(p[1]) : -1;
    if (lo < 0 || p[2] != ' ') {
      detail_.set("%s: malformed (expected nine hex bytes)", path);
      return hal::Err::Io;
    }
    b = static_cast<uint8_t>(hi << 4 | lo);
    p += 3;
  }
  const char* nl = std::strchr(p, '\n');
  if (std::strncmp(p, ": crc=", 6) != 0 || nl == nullptr) {
    detail_.set("%s: malformed (no \": crc=\" line)", path);
    return hal::Err::Io;
  }
  const bool yes = nl - p >= 3 && std::strncmp(nl - 3, "YES", 3) == 0;
  if (!yes) {
    detail_.set("%s: CRC check failed (the kernel says NO)", path);
    return hal::Err::Corrupt;
  }
  if (w1_crc8(pad, 8) != pad[8]) {
    detail_.set("%s: CRC mismatch (computed 0x%02x, read 0x%02x)", path, w1_crc8(pad, 8), pad[8]);
    return hal::Err::Corrupt;
  }
  bool all_zero = true;
  for (const uint8_t b : pad) all_zero = all_zero && b == 0;
  if (all_zero) {  // a shorted bus reads zeros, whose CRC is also zero
    detail_.set("%s: all-zero scratchpad (bus shorted?)", path);
    return hal::Err::Io;
  }
  const char* t = std::strstr(nl + 1, "t=");
  hal::Result<int64_t> v = t != nullptr ? parse_integer(t + 2) : hal::Result<int64_t>(hal::Err::Io);
  if (!v.ok()) {
    detail_.set("%s: malformed (no integer t=)", path);
    return hal::Err::Io;
  }
  *milli = v.value();
  return hal::Err::Ok;
}

hal::Err Ds18b20::sample() {
  if (!ready_) return hal::Err::NotReady;
  int64_t milli = 0;
  if (use_temperature_) {
    char path[hal::SysfsTree::kMaxPathLen + 1];
    std::snprintf(path, sizeof path, "%s/%s/temperature", kW1Dir, id_);
    hal::Result<int64_t> v = read_integer(tree_, path);
    if (!v.ok()) {
      detail_.set("%s: %s", path, v.error() == hal::Err::Io ? "not an integer (or EIO: CRC)" : hal::err_name(v.error()));
      return v.error();
    }
    milli = v.value();
  } else if (hal::Err e = read_w1_slave(&milli); e != hal::Err::Ok) {
    return e;
  }
  if (milli < kMinMilli || milli > kMaxMilli) {
    detail_.set("%s: %" PRId64 " m°C is outside the DS18B20's -55..125 °C", id_, milli);
    return hal::Err::Io;
  }
  milli_c_ = milli;
  have_sample_ = true;
  detail_.text[0] = '\0';
  return hal::Err::Ok;
}

hal::Result<Value> Ds18b20::get(size_t i) const {
  if (i != 0) return hal::Err::NotFound;
  if (!have_sample_) return hal::Err::NotReady;
  return Value::numeric(milli_c_, -3);
}

hal::Err Ds18b20::set(size_t i, const Value&) { return i == 0 ? hal::Err::ReadOnly : hal::Err::NotFound; }

std::unique_ptr<Device> create_ds18b20(const DeviceConfig& config, DriverError* error) {
  DriverError scratch;
  if (error == nullptr) error = &scratch;
  if (config.sysfs == nullptr) {
    error->set("needs the board's sysfs tree (\"hal\": \"linux\", or \"sysfs\" on a sim board)");
    return nullptr;
  }
  static const char* const kKeys[] = {"id"};
  if (!check_param_keys(config, kKeys, 1, error)) return nullptr;
  const Param* id = config.find_param("id");
  const char* text = id != nullptr && id->is_text && id->text != nullptr ? id->text : nullptr;
  if (text == nullptr || !valid_id(text)) {
    if (id == nullptr) {
      error->set("params.id: missing; expected the sensor's 1-wire id, \"28-\" + 12 hex digits (\"28-0000075a2b1c\")");
    } else {
      error->set("params.id: expected \"28-\" + 12 lower-case hex digits (\"28-0000075a2b1c\"), got %s%s%s",
                 text ? "\"" : "", text ? text : "a number", text ? "\"" : "");
    }
    return nullptr;
  }
  std::unique_ptr<Device> dev(new (std::nothrow) Ds18b20(config.name, *config.sysfs, text));
  if (!dev) error->set("out of memory");
  return dev;
}

}  // namespace drv

// "linux,hwmon": see linux_hwmon.hpp. Attribute names and units are the
// kernel's ABI, Documentation/ABI/testing/sysfs-class-hwmon (and
// Documentation/hwmon/sysfs-interface.rst): temp[1-*]_input "millidegree
// Celsius", in[0-*]_input "millivolt", curr[1-*]_input "milliampere",
// power[1-*]_input "microWatt", energy[1-*]_input "microJoule",
// humidity[1-*]_input "milli-percent", fan[1-*]_input "revolution/min";
// <kind><N>_label "a label for the sensor".
#include "linux_hwmon/linux_hwmon.hpp"

#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <new>

namespace drv {

namespace {

constexpr const char* kHwmonDir = "class/hwmon";

struct HwmonKind {
  const char* prefix;
  const char* unit;
  int8_t shift;
};

const HwmonKind kKinds[] = {
    {"temp", "Cel", -3}, {"in", "V", -3},       {"curr", "A", -3},      {"power", "W", -6},
    {"energy", "J", -6}, {"humidity", "%RH", -3}, {"fan", "1/min", 0},
};
constexpr size_t kKindCount = sizeof kKinds / sizeof kKinds[0];

bool is_digit(char c) { return c >= '0' && c <= '9'; }

}  // namespace

struct HwmonScan {
  LinuxHwmon* dev;
  size_t extra = 0;

  static bool visit(void* context, const char* name) {
    HwmonScan& s = *static_cast<HwmonScan*>(context);
    LinuxHwmon& d = *s.dev;
    for (size_t k = 0; k < kKindCount; ++k) {
      const size_t plen = std::strlen(kKinds[k].prefix);
      if (std::strncmp(name, kKinds[k].prefix, plen) != 0 || !is_digit(name[plen])) continue;
      const char* p = name + plen;
      uint32_t n = 0;
      for (; is_digit(*p); ++p) {
        if (n > 100000) return true;
        n = n * 10 + static_cast<uint32_t>(*p - '0');
      }
      if (std::strcmp(p, "_input") != 0) return true;
      if (d.count_ == LinuxHwmon::kMaxChannels) {
        ++s.extra;
        return true;
      }
      LinuxHwmon::Chan& c = d.chans_[d.count_++];
      c = LinuxHwmon::Chan{};
      std::snprintf(c.attr, sizeof c.attr, "%s", name);
      c.kind = static_cast<uint8_t>(k);
      c.number = n;
      c.spec = ChannelSpec{c.quantity, kKinds[k].unit, ChannelKind::Sensor, ValueType::Numeric};
      return true;
    }
    return true;
  }
};

LinuxHwmon::LinuxHwmon(const char* name, hal::SysfsTree& tree, const char* device_name, uint32_t index,
                       bool labels, const char* channels)
    : Device(name, "linux,hwmon"), tree_(tree), by_name_(device_name != nullptr), index_(index), labels_(labels) {
  if (device_name != nullptr) std::snprintf(selector_, sizeof selector_, "%s", device_name);
  if (channels != nullptr) std::snprintf(wanted_, sizeof wanted_, "%s", channels);
}

const ChannelSpec& LinuxHwmon::channel(size_t i) const { return chans_[i < count_ ? i : 0].spec; }

hal::Err LinuxHwmon::init() {
  ready_ = false;
  have_sample_ = false;
  count_ = 0;
  dir_[0] = '\0';
  detail_.text[0] = '\0';
  const hal::Err found = find_numbered_entry(tree_, kHwmonDir, "hwmon", "name", by_name_ ? selector_ : nullptr,
                                             index_, dir_, sizeof dir_);
  if (found != hal::Err::Ok) {
    dir_[0] = '\0';
    if (by_name_) return detail_.fail(found, "no hwmon device named \"%s\" in %s", selector_, kHwmonDir);
    return detail_.fail(found, "no hwmon device %s/hwmon%" PRIu32, kHwmonDir, index_);
  }
  if (hal::Err e = discover(); e != hal::Err::Ok) return e;
  for (size_t i = 0; i < count_; ++i) chans_[i].spec.quantity = chans_[i].quantity;
  ready_ = true;
  return hal::Err::Ok;
}

// The label as a channel name: lower case, runs of anything else as one '_'.
void LinuxHwmon::name_channel(Chan& c) {
  std::snprintf(c.quantity, sizeof c.quantity, "%s%" PRIu32, kKinds[c.kind].prefix, c.number);
  if (!labels_) return;
  char path[hal::SysfsTree::kMaxPathLen + 1];
  char label[64];
  std::snprintf(path, sizeof path, "%s/%s/%s%" PRIu32 "_label", kHwmonDir, dir_, kKinds[c.kind].prefix, c.number);
  if (read_line(tree_, path, label, sizeof label) != hal::Err::Ok) return;  // no label: the ABI name
  char q[kMaxQuantityLen + 1] = {};
  size_t n = 0;
  for (const char* p = label; *p != '\0' && n < kMaxQuantityLen; ++p) {
    char ch = *p;
    if (ch >= 'A' && ch <= 'Z') ch = static_cast<char>(ch - 'A' + 'a');
    const bool keep = (ch >= 'a' && ch <= 'z') || is_digit(ch) || ch == '-';
    if (keep) {
      q[n++] = ch;
    } else if (n > 0 && q[n - 1] != '_') {
      q[n++] = '_';
    }
  }
  while (n > 0 && q[n - 1] == '_') q[--n] = '\0';
  if (n == 0) return;
  for (size_t i = 0; i < count_; ++i) {
    if (&chans_[i] != &c && std::strcmp(chans_[i].quantity, q) == 0) return;  // taken: the ABI name
  }
  std::memcpy(c.quantity, q, n + 1);
}

bool LinuxHwmon::before(const Chan& a, const Chan& b) const {
  if (wanted_[0] != '\0') return channel_list_index(wanted_, a.quantity) < channel_list_index(wanted_, b.quantity);
  return a.kind != b.kind ? a.kind < b.kind : a.number < b.number;
}

hal::Err LinuxHwmon::discover() {
  char path[hal::SysfsTree::kMaxPathLen + 1];
  std::snprintf(path, sizeof path, "%s/%s", kHwmonDir, dir_);
  HwmonScan scan{this};
  if (hal::Err e = tree_.list(path, &HwmonScan::visit, &scan); e != hal::Err::Ok) {
    return detail_.fail(e, "%s: cannot list: %s", path, hal::err_name(e));
  }
  if (scan.extra > 0) {
    return detail_.fail(hal::Err::NoSpace, "%s has %zu channels, at most %zu: choose with params.channels", dir_,
                count_ + scan.extra, kMaxChannels);
  }
  // Names in kind/number order, so a label clash keeps the first one's name.
  for (size_t i = 1; i < count_; ++i) {
    for (size_t j = i; j > 0 && (chans_[j].kind != chans_[j - 1].kind ? chans_[j].kind < chans_[j - 1].kind
                                                                       : chans_[j].number < chans_[j - 1].number);
         --j) {
      Chan tmp = chans_[j - 1];
      chans_[j - 1] = chans_[j];
      chans_[j] = tmp;
    }
  }
  for (size_t i = 0; i < count_; ++i) chans_[i].quantity[0] = '\0';
  for (size_t i = 0; i < count_; ++i) name_channel(chans_[i]);
  if (wanted_[0] != '\0') {
    size_t kept = 0;
    for (size_t i = 0; i < count_; ++i) {
      if (channel_list_index(wanted_, chans_[i].quantity) >= 0) chans_[kept++] = chans_[i];
    }
    count_ = kept;
    for (size_t i = 0; i < channel_list_count(wanted_); ++i) {
      char want[kMaxQuantityLen + 1];
      channel_list_name(wanted_, i, want, sizeof want);
      bool have = false;
      for (size_t k = 0; k < count_ && !have; ++k) have = std::strcmp(chans_[k].quantity, want) == 0;
      if (!have) return detail_.fail(hal::Err::NotFound, "params.channels: %s has no channel \"%s\"", dir_, want);
    }
    for (size_t i = 1; i < count_; ++i) {
      for (size_t j = i; j > 0 && before(chans_[j], chans_[j - 1]); --j) {
        Chan tmp = chans_[j - 1];
        chans_[j - 1] = chans_[j];
        chans_[j] = tmp;
      }
    }
  }
  if (count_ == 0) return detail_.fail(hal::Err::NotFound, "%s has no *_input attribute", dir_);
  return hal::Err::Ok;
}

hal::Err LinuxHwmon::sample() {
  if (!ready_) return hal::Err::NotReady;
  Decimal next[kMaxChannels];
  for (size_t i = 0; i < count_; ++i) {
    const Chan& c = chans_[i];
    char path[hal::SysfsTree::kMaxPathLen + 1];
    std::snprintf(path, sizeof path, "%s/%s/%s", kHwmonDir, dir_, c.attr);
    hal::Result<int64_t> v = read_integer(tree_, path);
    if (!v.ok()) {
      return detail_.fail(v.error(), "%s: %s", path, v.error() == hal::Err::Io ? "not an integer (or EIO)" : hal::err_name(v.error()));
    }
    hal::Result<Decimal> scaled = scale_value(Decimal{v.value(), 0}, Decimal{0, 0}, Decimal{1, 0}, kKinds[c.kind].shift);
    if (!scaled.ok()) return detail_.fail(scaled.error(), "%s: value out of range", path);
    next[i] = scaled.value();
  }
  for (size_t i = 0; i < count_; ++i) values_[i] = next[i];
  have_sample_ = true;
  detail_.text[0] = '\0';
  return hal::Err::Ok;
}

hal::Result<Value> LinuxHwmon::get(size_t i) const {
  if (i >= count_) return hal::Err::NotFound;
  if (!have_sample_) return hal::Err::NotReady;
  return to_value(values_[i]);
}

hal::Err LinuxHwmon::set(size_t i, const Value&) { return i < count_ ? hal::Err::ReadOnly : hal::Err::NotFound; }

std::unique_ptr<Device> create_linux_hwmon(const DeviceConfig& config, DriverError* error) {
  DriverError scratch;
  if (error == nullptr) error = &scratch;
  if (config.sysfs == nullptr) {
    error->set("needs the board's sysfs tree (\"hal\": \"linux\", or \"sysfs\" on a sim board)");
    return nullptr;
  }
  static const char* const kKeys[] = {"device", "labels", "channels"};
  if (!check_param_keys(config, kKeys, 3, error)) return nullptr;
  const char* device_name = nullptr;
  uint32_t index = 0;
  if (!param_device_selector(config, "device", "hwmon device's name (\"coretemp\")", "hwmonN", LinuxHwmon::kMaxSelectorLen,
                             &device_name, &index, error)) {
    return nullptr;
  }
  int64_t labels = 1;
  if (!param_int(config, "labels", 0, 1, 1, &labels, error)) return nullptr;
  char channels[LinuxHwmon::kMaxChannelsParamLen + 1];
  if (!param_channel_list(config, LinuxHwmon::kMaxChannels, LinuxHwmon::kMaxQuantityLen, channels, sizeof channels,
                          error)) {
    return nullptr;
  }
  std::unique_ptr<Device> dev(new (std::nothrow)
                                  LinuxHwmon(config.name, *config.sysfs, device_name, index, labels != 0, channels));
  if (!dev) error->set("out of memory");
  return dev;
}

}  // namespace drv

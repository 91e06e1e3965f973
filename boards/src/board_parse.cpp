// Board file parsing and validation (schema: boards/README.md).
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "boards/board.hpp"
#include "boards/report.hpp"
#include "drv/driver_table.hpp"
#include "drv/model_table.hpp"
#include "drv/registry.hpp"
#include "json/reader.hpp"

namespace boards {

namespace {

constexpr size_t kMaxFileBytes = 256 * 1024;
constexpr size_t kMaxNameLen = 31;
constexpr int64_t kMaxGpioLines = 1024;
constexpr int kMinI2cAddress = 0x08;  // 0x00-0x07 and 0x78-0x7F are reserved (I2C spec §3.1.12)
constexpr int kMaxI2cAddress = 0x77;
// A watchdog timeout below a few seconds would reset a device whose loop is
// only blocked by a TLS handshake; an hour is more than any use needs (and
// than many drivers allow).
constexpr int64_t kMinWatchdogS = 5;
constexpr int64_t kMaxWatchdogS = 3600;
constexpr const char* kDevicePath = "an absolute device path (at most 63 characters)";

constexpr const char* kName = "a name of letters, digits, '_' and '-' (at most 31, starting with a letter)";
constexpr const char* kAddress = "an I2C address 0x08..0x77 (integer or \"0x..\" string)";

const json::Choice<HalKind> kHalKinds[] = {{"sim", HalKind::Sim}, {"linux", HalKind::Linux}};
const json::Choice<BusType> kBusTypes[] = {{"i2c", BusType::I2c}, {"gpio", BusType::Gpio}};

bool valid_name(const std::string& s) {
  if (s.empty() || s.size() > kMaxNameLen) return false;
  if (!((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z'))) return false;
  for (const char c : s) {
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-')) {
      return false;
    }
  }
  return true;
}

/// "vendor,part": two non-empty parts of [a-z0-9._-] joined by one comma.
bool valid_compatible(const std::string& s) {
  const size_t comma = s.find(',');
  if (comma == std::string::npos || comma == 0 || comma + 1 == s.size() || s.find(',', comma + 1) != std::string::npos) {
    return false;
  }
  for (const char c : s) {
    if (c == ',') continue;
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-')) return false;
  }
  return s.size() <= 63;
}

std::string hex2(int v) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "0x%02x", v);
  return buf;
}

/// A required "name" member: letters, digits, '_' and '-'.
bool read_name(json::Value v, std::string* out) {
  if (!v.text(out, kName, json::kRequired | json::kEmptyOk)) return false;
  return valid_name(*out) || v.expected(kName);
}

const BusSpec* find_bus(const BoardSpec& b, const std::string& name) {
  for (const BusSpec& bus : b.buses) {
    if (bus.name == name) return &bus;
  }
  return nullptr;
}

constexpr int64_t kMaxI2cBusNumber = 1023;
constexpr const char* kAdapter = "an I2C bus number (integer 0..1023) or the adapter's name (a string)";
constexpr const char* kChip = "a GPIO chip: its name (\"gpiochip0\"), path or label (at most 63 characters)";

/// Where a linux I2C bus is: "dev", or "adapter" (number or name).
bool parse_i2c_location(json::Value b, const BoardSpec& board, BusSpec* bus) {
  const json::Value dev = b["dev"];
  const json::Value adapter = b["adapter"];
  const bool linux_i2c = board.hal == HalKind::Linux && bus->type == BusType::I2c;
  for (const json::Value& v : {dev, adapter}) {
    if (!v.absent() && !linux_i2c) return v.fail("only for i2c buses of \"hal\": \"linux\"");
  }
  if (!linux_i2c) return true;
  if (!dev.absent() && !adapter.absent()) return adapter.fail("give either \"dev\" or \"adapter\", not both");
  if (!dev.absent()) {
    constexpr const char* kDev = "an absolute device path like \"/dev/i2c-1\"";
    if (!dev.text(&bus->dev, kDev)) return false;
    if (bus->dev[0] != '/' || bus->dev.size() > 63) return dev.expected(kDev);
    return true;
  }
  if (adapter.absent()) {
    return dev.fail("missing; expected the i2c-dev node, e.g. \"/dev/i2c-1\" (or \"adapter\": a bus number or "
                    "the adapter's name)");
  }
  if (adapter.is_string()) {
    bus->adapter_name = adapter.c_str();
    if (bus->adapter_name.empty() || bus->adapter_name.size() > 63) return adapter.expected(kAdapter);
    return true;
  }
  int64_t n = -1;
  if (!adapter.as_integer(&n) || n < 0 || n > kMaxI2cBusNumber) return adapter.expected(kAdapter);
  bus->adapter_number = static_cast<uint32_t>(n);
  return true;
}

bool parse_bus(json::Value b, BoardSpec* out) {
  static const char* const kKeys[] = {"name", "type", "dev", "adapter", "chip", "lines"};
  if (!b.object(kKeys, json::kRequired)) return false;
  BusSpec bus;
  if (!read_name(b["name"], &bus.name)) return false;
  for (size_t i = 0; i < out->buses.size(); ++i) {
    if (out->buses[i].name == bus.name) {
      return b["name"].fail("duplicate bus name \"" + bus.name + "\"");
    }
  }
  const json::Value type = b["type"];
  if (!type.one_of(&bus.type, kBusTypes, json::kRequired)) return false;
  if (!parse_i2c_location(b, *out, &bus)) return false;
  const json::Value chip = b["chip"];
  const bool linux_gpio = out->hal == HalKind::Linux && bus.type == BusType::Gpio;
  if (!chip.absent() && !linux_gpio) return chip.fail("only for gpio controllers of \"hal\": \"linux\"");
  if (linux_gpio) {
    if (!chip.text(&bus.chip, kChip, json::kRequired)) return false;
    if (bus.chip.size() > 63) return chip.expected(kChip);
  }
  const json::Value lines = b["lines"];
  if (!lines.absent() && bus.type != BusType::Gpio) return lines.fail("only for gpio controllers");
  if (!lines.integer(&bus.lines, 1, kMaxGpioLines)) return false;
  out->buses.push_back(bus);
  return true;
}

/// "watchdog": {"device": "/dev/watchdog", "timeout_s": 30} (linux boards).
bool parse_watchdog(json::Value w, BoardSpec* out) {
  if (w.absent()) return true;
  if (out->hal != HalKind::Linux) {
    return w.fail("only for \"hal\": \"linux\" (a sim board always has its simulated watchdog)");
  }
  static const char* const kKeys[] = {"device", "timeout_s"};
  if (!w.object(kKeys)) return false;
  WatchdogSpec spec;
  const json::Value device = w["device"];
  if (!device.text(&spec.device, kDevicePath, json::kRequired)) return false;
  if (spec.device[0] != '/' || spec.device.size() > 63) return device.expected(kDevicePath);
  if (!w["timeout_s"].integer(&spec.timeout_s, kMinWatchdogS, kMaxWatchdogS)) return false;
  out->watchdog = spec;
  return true;
}

bool parse_params(json::Value params, DeviceSpec* dev) {
  // Which keys are valid is the driver's business (its factory reports
  // unknown ones); here only the value types and duplicates are checked.
  if (!params.object_any_keys()) return false;
  if (params.size() > drv::DeviceConfig::kMaxParams) {
    return params.fail("at most " + std::to_string(drv::DeviceConfig::kMaxParams) + " parameters, got " +
                       std::to_string(params.size()));
  }
  return params.each([dev](json::Value p) {
    ParamSpec ps;
    ps.key = p.key();
    if (p.is_string()) {
      ps.is_text = true;
      ps.text = p.c_str();
    } else if (p.is_bool()) {
      ps.number = p.is_true() ? 1 : 0;
    } else if (!p.as_integer(&ps.number)) {
      return p.expected("an integer, a string or a boolean");
    }
    dev->params.push_back(ps);
    return true;
  });
}

/// The device's "sim" object, read by its chip's model (drv/model_table.hpp).
bool parse_sim(json::Value sim, DeviceSpec* dev) {
  const drv::sim::ModelEntry* model = drv::sim::find_model(dev->compatible.c_str());
  if (model == nullptr) return sim.object(nullptr, 0);  // no simulation knobs: only {} is fine
  return model->parse_sim(sim, &dev->sim);
}

/// "bus" + "address": an I2C chip.
bool parse_i2c(json::Value d, const BoardSpec& board, DeviceSpec* dev) {
  const json::Value bus = d["bus"];
  const json::Value address = d["address"];
  if (bus.absent() && address.absent()) return true;
  if (bus.absent()) return bus.fail("missing; expected an I2C bus name (needed with \"address\")");
  if (!bus.text(&dev->bus, "a bus name", json::kRequired)) return false;
  const BusSpec* b = find_bus(board, dev->bus);
  if (b == nullptr) return bus.fail("no bus named \"" + dev->bus + "\" in \"buses\"");
  if (b->type != BusType::I2c) return bus.fail("\"" + b->name + "\" is not an i2c bus");
  if (address.missing()) return address.fail(std::string("missing; expected ") + kAddress);
  int64_t a = -1;
  if (const char* s = address.c_str()) {
    char* end = nullptr;
    errno = 0;
    if ((s[0] == '0') && (s[1] == 'x' || s[1] == 'X') && s[2] != '\0') {
      const long v = std::strtol(s + 2, &end, 16);
      if (errno == 0 && end != nullptr && *end == '\0') a = v;
    }
  } else {
    (void)address.as_integer(&a);
  }
  if (a < kMinI2cAddress || a > kMaxI2cAddress) return address.expected(kAddress);
  dev->address = static_cast<uint16_t>(a);
  for (const DeviceSpec& other : board.devices) {
    if (other.bus == dev->bus && other.address == dev->address) {
      return address.fail(hex2(static_cast<int>(a)) + " on " + dev->bus + " is already used by " + other.name);
    }
  }
  return true;
}

/// "gpio" + "pin" or "line" (+ "active_low"): a GPIO function.
bool parse_gpio(json::Value d, const BoardSpec& board, DeviceSpec* dev) {
  const json::Value gpio = d["gpio"];
  const json::Value pin = d["pin"];
  const json::Value line = d["line"];
  const json::Value active_low = d["active_low"];
  if (!line.absent() && board.hal != HalKind::Linux) {
    return line.fail("only with \"hal\": \"linux\" (a sim board numbers its pins: \"pin\")");
  }
  if (!gpio.absent() || !pin.absent() || !line.absent()) {
    if (gpio.absent()) {
      return gpio.fail(std::string("missing; expected a GPIO controller name (needed with \"") +
                       (pin.absent() ? "line" : "pin") + "\")");
    }
    if (!gpio.text(&dev->gpio, "a GPIO controller name", json::kRequired)) return false;
    const BusSpec* b = find_bus(board, dev->gpio);
    if (b == nullptr) return gpio.fail("no GPIO controller named \"" + dev->gpio + "\" in \"buses\"");
    if (b->type != BusType::Gpio) return gpio.fail("\"" + b->name + "\" is not a gpio controller");
    if (!line.absent()) {
      if (!pin.absent()) return line.fail("give either \"pin\" or \"line\", not both");
      constexpr const char* kLine = "a line name like \"GPIO17\" (at most 31 characters)";
      if (!line.text(&dev->line, kLine)) return false;
      if (dev->line.size() > 31) return line.expected(kLine);
      for (const DeviceSpec& other : board.devices) {
        if (other.gpio == dev->gpio && other.line == dev->line) {
          return line.fail("\"" + dev->line + "\" on " + dev->gpio + " is already used by " + other.name);
        }
      }
    } else {
      if (pin.missing() && board.hal == HalKind::Linux) {
        return pin.fail("missing; expected a line offset (integer from 0 to " + std::to_string(b->lines - 1) +
                        ") or \"line\": the line's name");
      }
      uint32_t n = 0;
      if (!pin.integer(&n, 0, static_cast<int64_t>(b->lines) - 1, json::kRequired)) return false;
      dev->pin = n;
      for (const DeviceSpec& other : board.devices) {
        if (other.gpio == dev->gpio && other.pin == dev->pin) {
          return pin.fail(std::to_string(n) + " on " + dev->gpio + " is already used by " + other.name);
        }
      }
    }
  }
  if (!active_low.absent() && !dev->pin && dev->line.empty()) {
    return active_low.fail("only meaningful with \"pin\" or \"line\"");
  }
  return active_low.boolean(&dev->active_low);
}

bool parse_device(json::Value d, BoardSpec* out) {
  static const char* const kKeys[] = {"name", "compatible", "description", "bus",    "address", "gpio",
                                      "pin",  "line",       "active_low",  "params", "sim",     "report"};
  if (!d.object(kKeys, json::kRequired)) return false;
  DeviceSpec dev;
  if (!read_name(d["name"], &dev.name)) return false;
  for (size_t i = 0; i < out->devices.size(); ++i) {
    if (out->devices[i].name == dev.name) {
      return d["name"].fail("duplicate device name (devices[" + std::to_string(i) + "] is also \"" + dev.name + "\")");
    }
  }
  constexpr const char* kCompatible = "a \"vendor,part\" string";
  const json::Value compat = d["compatible"];
  if (!compat.text(&dev.compatible, kCompatible, json::kRequired | json::kEmptyOk)) return false;
  if (!valid_compatible(dev.compatible)) return compat.expected(kCompatible);
  std::string description;
  if (!d["description"].text(&description, "a string", json::kEmptyOk)) return false;
  if (!parse_i2c(d, *out, &dev) || !parse_gpio(d, *out, &dev) || !parse_params(d["params"], &dev) ||
      !detail::parse_report(d["report"], &dev)) {
    return false;
  }

  const json::Value sim = d["sim"];
  if (!sim.absent()) {
    if (out->hal != HalKind::Sim) return sim.fail("only allowed with \"hal\": \"sim\"");
    if (!parse_sim(sim, &dev)) return false;
  }
  out->devices.push_back(std::move(dev));
  return true;
}

/// "sysfs": "sysfs" (a directory, relative to the board file's): the root of
/// the kernel attribute tree the kernel-backed drivers read.
bool parse_sysfs(json::Value v, const std::string& board_dir, BoardSpec* out) {
  constexpr const char* kWhat = "a directory path (at most 200 characters)";
  std::string dir;
  if (!v.text(&dir, kWhat)) return false;
  if (v.absent()) return true;
  if (dir[0] != '/') dir = board_dir + "/" + dir;
  if (dir.size() > 200) return v.expected(kWhat);
  out->sysfs = dir;
  return true;
}

bool parse_root(json::Value root, const std::string& board_dir, BoardSpec* out) {
  static const char* const kKeys[] = {"name",     "description", "hal",  "buses",
                                      "devices",  "watchdog",    "sysfs", "compatible"};
  if (!root.object(kKeys)) return false;
  constexpr const char* kBoardName = "a non-empty string (at most 63 characters)";
  const json::Value name = root["name"];
  if (!name.text(&out->name, kBoardName, json::kRequired)) return false;
  if (out->name.size() > 63) return name.expected(kBoardName);
  // What a signed update's manifest must name (docs/updates.md); default "xiot,<name>".
  constexpr const char* kCompatible = "a board compatible like \"vendor,board\" (at most 63 characters, no spaces)";
  const json::Value compatible = root["compatible"];
  if (!compatible.text(&out->compatible, kCompatible)) return false;
  if (compatible.absent()) out->compatible = "xiot," + out->name;
  if (out->compatible.size() > 63 || out->compatible.find_first_of(" \t\r\n\"") != std::string::npos) {
    return compatible.expected(kCompatible);
  }
  if (!root["description"].text(&out->description, "a string", json::kEmptyOk) ||
      !root["hal"].one_of(&out->hal, kHalKinds, json::kRequired) || !parse_watchdog(root["watchdog"], out) ||
      !parse_sysfs(root["sysfs"], board_dir, out)) {
    return false;
  }
  const json::Value buses = root["buses"];
  if (!buses.array("an array of buses") || !buses.each([out](json::Value b) { return parse_bus(b, out); })) {
    return false;
  }
  const json::Value devices = root["devices"];
  if (!devices.array("an array of devices", json::kRequired)) return false;
  if (devices.size() > drv::Registry::kMaxDevices) {
    return devices.fail("at most " + std::to_string(drv::Registry::kMaxDevices) + " devices, got " +
                        std::to_string(devices.size()));
  }
  return devices.each([out](json::Value d) { return parse_device(d, out); });
}

/// The directory of the board file, for its relative paths.
std::string dir_of(const char* path) {
  const std::string p = path != nullptr ? path : "";
  const size_t slash = p.rfind('/');
  return slash == std::string::npos ? "." : (slash == 0 ? "/" : p.substr(0, slash));
}

/// Parses what `reader` holds into *out; copies the error out on failure.
bool finish(const json::Reader& reader, bool read, const char* path, BoardSpec* out, std::string* error) {
  if (read && parse_root(reader.root(), dir_of(path), out)) return true;
  if (error != nullptr) *error = reader.error();
  return false;
}

}  // namespace

bool parse_board_text(const char* text, const char* path, BoardSpec* out, std::string* error) {
  json::Reader reader(path != nullptr ? path : "board");
  if (text == nullptr || out == nullptr) return finish(reader, reader.fail_file("no input"), path, out, error);
  *out = BoardSpec{};
  return finish(reader, reader.parse(text, std::strlen(text)), path, out, error);
}

bool parse_board(const char* path, BoardSpec* out, std::string* error) {
  json::Reader reader(path != nullptr ? path : "board");
  if (path == nullptr || out == nullptr) return finish(reader, reader.fail_file("no board file given"), path, out, error);
  *out = BoardSpec{};
  return finish(reader, reader.load(kMaxFileBytes, "a board file"), path, out, error);
}

}  // namespace boards

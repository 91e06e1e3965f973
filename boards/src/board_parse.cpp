// Board file parsing and validation (schema: boards/README.md).
#include <cjson/cJSON.h>

#include <cerrno>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <cstring>

#include "boards/board.hpp"
#include "drv/driver_table.hpp"
#include "drv/registry.hpp"

namespace boards {

namespace {

constexpr size_t kMaxFileBytes = 256 * 1024;
constexpr size_t kMaxNameLen = 31;
constexpr uint32_t kMaxGpioLines = 1024;
constexpr int kMinI2cAddress = 0x08;  // 0x00-0x07 and 0x78-0x7F are reserved (I2C spec §3.1.12)
constexpr int kMaxI2cAddress = 0x77;

/// Owns a cJSON tree.
struct JsonDoc {
  cJSON* root = nullptr;
  ~JsonDoc() { cJSON_Delete(root); }
};

/// Where in the file we are ("devices[1] (relay0)") and how to say what is wrong.
class Reporter {
 public:
  Reporter(const char* path, std::string* error) : path_(path ? path : "board"), error_(error) {}

  /// `<path>: <where>: <field>: <msg>` (empty parts left out). Returns false.
  bool fail(const std::string& where, const std::string& field, const std::string& msg) {
    if (error_ != nullptr) {
      std::string s = path_;
      if (!where.empty()) s += ": " + where;
      if (!field.empty()) s += ": " + field;
      s += ": " + msg;
      *error_ = s;
    }
    return false;
  }
  bool fail_at(int line, int col, const std::string& msg) {
    if (error_ != nullptr) {
      *error_ = path_ + ":" + std::to_string(line) + ":" + std::to_string(col) + ": " + msg;
    }
    return false;
  }

 private:
  std::string path_;
  std::string* error_;
};

/// How a JSON value looks in a message: "x" / 12 / 1.5 / true / null / an object.
std::string describe(const cJSON* v) {
  if (v == nullptr) return "nothing";
  if (cJSON_IsString(v)) {
    std::string s = v->valuestring ? v->valuestring : "";
    if (s.size() > 40) s = s.substr(0, 40) + "...";
    return "\"" + s + "\"";
  }
  if (cJSON_IsBool(v)) return cJSON_IsTrue(v) ? "true" : "false";
  if (cJSON_IsNull(v)) return "null";
  if (cJSON_IsArray(v)) return "an array";
  if (cJSON_IsObject(v)) return "an object";
  if (cJSON_IsNumber(v)) {
    char buf[40];
    const double d = v->valuedouble;
    if (std::floor(d) == d && std::fabs(d) < 1e15) {
      std::snprintf(buf, sizeof buf, "%" PRId64, static_cast<int64_t>(d));
    } else {
      std::snprintf(buf, sizeof buf, "%g", d);
    }
    return buf;
  }
  return "an invalid value";
}

bool is_integer(const cJSON* v, int64_t* out) {
  if (!cJSON_IsNumber(v)) return false;
  const double d = v->valuedouble;
  if (std::floor(d) != d || std::fabs(d) > 9007199254740992.0) return false;  // 2^53
  *out = static_cast<int64_t>(d);
  return true;
}

bool valid_name(const char* s) {
  if (s == nullptr) return false;
  const size_t n = std::strlen(s);
  if (n == 0 || n > kMaxNameLen) return false;
  if (!((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z'))) return false;
  for (size_t i = 1; i < n; ++i) {
    const char c = s[i];
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
          c == '-')) {
      return false;
    }
  }
  return true;
}

/// "vendor,part": two non-empty parts of [a-z0-9._-] joined by one comma.
bool valid_compatible(const char* s) {
  if (s == nullptr) return false;
  const char* comma = std::strchr(s, ',');
  if (comma == nullptr || comma == s || comma[1] == '\0' || std::strchr(comma + 1, ',')) return false;
  for (const char* p = s; *p; ++p) {
    const char c = *p;
    if (c == ',') continue;
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-')) {
      return false;
    }
  }
  return std::strlen(s) <= 63;
}

std::string hex2(int v) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "0x%02x", v);
  return buf;
}

/// Unknown and duplicate keys of `obj`, against `allowed` (nullptr-terminated).
bool check_keys(Reporter& r, const std::string& where, const std::string& prefix, const cJSON* obj,
                const char* const* allowed) {
  for (const cJSON* c = obj->child; c != nullptr; c = c->next) {
    const char* key = c->string ? c->string : "";
    bool known = false;
    for (const char* const* a = allowed; *a != nullptr && !known; ++a) known = std::strcmp(*a, key) == 0;
    if (!known) {
      std::string list;
      for (const char* const* a = allowed; *a != nullptr; ++a) {
        list += (list.empty() ? "" : ", ");
        list += *a;
      }
      if (list.empty()) return r.fail(where, "", "unknown key \"" + prefix + key + "\" (none allowed here)");
      return r.fail(where, "", "unknown key \"" + prefix + key + "\" (known: " + list + ")");
    }
    for (const cJSON* d = obj->child; d != c; d = d->next) {
      if (d->string != nullptr && std::strcmp(d->string, key) == 0) {
        return r.fail(where, "", "duplicate key \"" + prefix + key + "\"");
      }
    }
  }
  return true;
}

/// Line and column (1-based) of `pos` in `text`.
void line_col(const char* text, const char* pos, int* line, int* col) {
  *line = 1;
  *col = 1;
  for (const char* p = text; p < pos && *p != '\0'; ++p) {
    if (*p == '\n') {
      ++*line;
      *col = 1;
    } else {
      ++*col;
    }
  }
}

const BusSpec* find_bus(const BoardSpec& b, const std::string& name) {
  for (const BusSpec& bus : b.buses) {
    if (bus.name == name) return &bus;
  }
  return nullptr;
}

bool parse_buses(Reporter& r, const cJSON* arr, BoardSpec* out) {
  if (!cJSON_IsArray(arr)) return r.fail("", "buses", "expected an array, got " + describe(arr));
  int index = 0;
  for (const cJSON* b = arr->child; b != nullptr; b = b->next, ++index) {
    std::string where = "buses[" + std::to_string(index) + "]";
    if (!cJSON_IsObject(b)) return r.fail(where, "", "expected an object, got " + describe(b));
    BusSpec bus;
    const cJSON* name = cJSON_GetObjectItemCaseSensitive(b, "name");
    if (name == nullptr) return r.fail(where, "name", "missing");
    if (!cJSON_IsString(name) || !valid_name(name->valuestring)) {
      return r.fail(where, "name",
                    "expected a name of letters, digits, '_' and '-' (at most 31, starting with "
                    "a letter), got " + describe(name));
    }
    bus.name = name->valuestring;
    where += " (" + bus.name + ")";
    static const char* const kKeys[] = {"name", "type", "dev", "lines", nullptr};
    if (!check_keys(r, where, "", b, kKeys)) return false;
    for (const BusSpec& other : out->buses) {
      if (other.name == bus.name) return r.fail(where, "name", "duplicate bus name \"" + bus.name + "\"");
    }
    const cJSON* type = cJSON_GetObjectItemCaseSensitive(b, "type");
    if (type == nullptr) return r.fail(where, "type", "missing (\"i2c\" or \"gpio\")");
    if (cJSON_IsString(type) && std::strcmp(type->valuestring, "i2c") == 0) {
      bus.type = BusType::I2c;
    } else if (cJSON_IsString(type) && std::strcmp(type->valuestring, "gpio") == 0) {
      bus.type = BusType::Gpio;
      if (out->hal == HalKind::Linux) {
        return r.fail(where, "type", "\"gpio\" is not supported with \"hal\": \"linux\" yet");
      }
    } else {
      return r.fail(where, "type", "expected \"i2c\" or \"gpio\", got " + describe(type));
    }
    const cJSON* dev = cJSON_GetObjectItemCaseSensitive(b, "dev");
    if (dev != nullptr) {
      if (out->hal != HalKind::Linux || bus.type != BusType::I2c) {
        return r.fail(where, "dev", "only for i2c buses of \"hal\": \"linux\"");
      }
      if (!cJSON_IsString(dev) || dev->valuestring[0] != '/' || std::strlen(dev->valuestring) > 63) {
        return r.fail(where, "dev", "expected an absolute device path like \"/dev/i2c-1\", got " +
                                        describe(dev));
      }
      bus.dev = dev->valuestring;
    } else if (out->hal == HalKind::Linux && bus.type == BusType::I2c) {
      return r.fail(where, "dev", "missing (the i2c-dev node, e.g. \"/dev/i2c-1\")");
    }
    const cJSON* lines = cJSON_GetObjectItemCaseSensitive(b, "lines");
    if (lines != nullptr) {
      if (bus.type != BusType::Gpio) return r.fail(where, "lines", "only for gpio controllers");
      int64_t n = 0;
      if (!is_integer(lines, &n) || n < 1 || n > kMaxGpioLines) {
        return r.fail(where, "lines", "expected an integer 1.." + std::to_string(kMaxGpioLines) +
                                          ", got " + describe(lines));
      }
      bus.lines = static_cast<uint32_t>(n);
    }
    out->buses.push_back(bus);
  }
  return true;
}

bool parse_params(Reporter& r, const std::string& where, const cJSON* obj, DeviceSpec* dev) {
  if (!cJSON_IsObject(obj)) return r.fail(where, "params", "expected an object, got " + describe(obj));
  // Which keys are valid is the driver's business (its factory reports
  // unknown ones); here only the value types and duplicates are checked.
  size_t count = 0;
  for (const cJSON* p = obj->child; p != nullptr; p = p->next, ++count) {
    const std::string field = std::string("params.") + (p->string ? p->string : "");
    for (const cJSON* q = obj->child; q != p; q = q->next) {
      if (std::strcmp(q->string, p->string) == 0) return r.fail(where, "", "duplicate key \"" + field + "\"");
    }
    if (count == drv::DeviceConfig::kMaxParams) {
      return r.fail(where, "params", "at most " + std::to_string(drv::DeviceConfig::kMaxParams) +
                                         " parameters");
    }
    ParamSpec ps;
    ps.key = p->string ? p->string : "";
    int64_t n = 0;
    if (cJSON_IsString(p)) {
      ps.is_text = true;
      ps.text = p->valuestring;
    } else if (cJSON_IsBool(p)) {
      ps.number = cJSON_IsTrue(p) ? 1 : 0;
    } else if (is_integer(p, &n)) {
      ps.number = n;
    } else {
      return r.fail(where, field, "expected an integer, a string or a boolean, got " + describe(p));
    }
    dev->params.push_back(ps);
  }
  return true;
}

bool sim_number(Reporter& r, const std::string& where, const cJSON* sim, const char* key, double lo,
                double hi, const char* range, std::optional<double>* out) {
  const cJSON* v = cJSON_GetObjectItemCaseSensitive(sim, key);
  if (v == nullptr) return true;
  if (!cJSON_IsNumber(v) || v->valuedouble < lo || v->valuedouble > hi) {
    return r.fail(where, std::string("sim.") + key, std::string("expected a number ") + range +
                                                        ", got " + describe(v));
  }
  *out = v->valuedouble;
  return true;
}

bool parse_sim(Reporter& r, const std::string& where, const cJSON* sim, DeviceSpec* dev) {
  if (!cJSON_IsObject(sim)) return r.fail(where, "sim", "expected an object, got " + describe(sim));
  if (dev->compatible == "bosch,bme280") {
    static const char* const kKeys[] = {"present", "temperature_c", "humidity_pct", "pressure_pa",
                                        "chip_id", nullptr};
    if (!check_keys(r, where, "sim.", sim, kKeys)) return false;
    // The part's operating range (BME280 datasheet table 1-3).
    if (!sim_number(r, where, sim, "temperature_c", -40, 85, "-40..85", &dev->sim.temperature_c) ||
        !sim_number(r, where, sim, "humidity_pct", 0, 100, "0..100", &dev->sim.humidity_pct) ||
        !sim_number(r, where, sim, "pressure_pa", 30000, 110000, "30000..110000",
                    &dev->sim.pressure_pa)) {
      return false;
    }
    const cJSON* id = cJSON_GetObjectItemCaseSensitive(sim, "chip_id");
    if (id != nullptr) {
      int64_t n = 0;
      if (!is_integer(id, &n) || n < 0 || n > 255) {
        return r.fail(where, "sim.chip_id", "expected an integer 0..255, got " + describe(id));
      }
      dev->sim.chip_id = static_cast<uint8_t>(n);
    }
  } else if (dev->compatible == "xiot,gpio-input") {
    static const char* const kKeys[] = {"level", nullptr};
    if (!check_keys(r, where, "sim.", sim, kKeys)) return false;
    const cJSON* level = cJSON_GetObjectItemCaseSensitive(sim, "level");
    if (level != nullptr) {
      int64_t n = 0;
      if (cJSON_IsBool(level)) {
        dev->sim.level = cJSON_IsTrue(level) != 0;
      } else if (is_integer(level, &n) && (n == 0 || n == 1)) {
        dev->sim.level = n == 1;
      } else {
        return r.fail(where, "sim.level", "expected 0, 1, true or false, got " + describe(level));
      }
    }
  } else {
    // No simulation knobs for this device (an empty object is fine).
    static const char* const kKeys[] = {nullptr};
    if (!check_keys(r, where, "sim.", sim, kKeys)) return false;
  }
  const cJSON* present = cJSON_GetObjectItemCaseSensitive(sim, "present");
  if (present != nullptr) {
    if (!cJSON_IsBool(present)) {
      return r.fail(where, "sim.present", "expected true or false, got " + describe(present));
    }
    dev->sim.present = cJSON_IsTrue(present) != 0;
  }
  return true;
}

bool parse_device(Reporter& r, int index, const cJSON* d, BoardSpec* out) {
  std::string where = "devices[" + std::to_string(index) + "]";
  if (!cJSON_IsObject(d)) return r.fail(where, "", "expected an object, got " + describe(d));
  DeviceSpec dev;
  const cJSON* name = cJSON_GetObjectItemCaseSensitive(d, "name");
  if (name == nullptr) return r.fail(where, "name", "missing");
  if (!cJSON_IsString(name) || !valid_name(name->valuestring)) {
    return r.fail(where, "name",
                  "expected a name of letters, digits, '_' and '-' (at most 31, starting with a "
                  "letter), got " + describe(name));
  }
  dev.name = name->valuestring;
  where += " (" + dev.name + ")";
  static const char* const kKeys[] = {"name", "compatible", "description", "bus", "address", "gpio",
                                      "pin", "active_low", "params", "sim", nullptr};
  if (!check_keys(r, where, "", d, kKeys)) return false;
  for (size_t i = 0; i < out->devices.size(); ++i) {
    if (out->devices[i].name == dev.name) {
      return r.fail(where, "name", "duplicate device name (devices[" + std::to_string(i) +
                                       "] is also \"" + dev.name + "\")");
    }
  }

  const cJSON* compat = cJSON_GetObjectItemCaseSensitive(d, "compatible");
  if (compat == nullptr) return r.fail(where, "compatible", "missing (a \"vendor,part\" string)");
  if (!cJSON_IsString(compat) || !valid_compatible(compat->valuestring)) {
    return r.fail(where, "compatible", "expected a \"vendor,part\" string, got " + describe(compat));
  }
  dev.compatible = compat->valuestring;

  const cJSON* desc = cJSON_GetObjectItemCaseSensitive(d, "description");
  if (desc != nullptr && !cJSON_IsString(desc)) {
    return r.fail(where, "description", "expected a string, got " + describe(desc));
  }

  // I2C: "bus" + "address".
  const cJSON* bus = cJSON_GetObjectItemCaseSensitive(d, "bus");
  const cJSON* address = cJSON_GetObjectItemCaseSensitive(d, "address");
  if (bus != nullptr || address != nullptr) {
    if (bus == nullptr) return r.fail(where, "bus", "missing (an I2C bus name is needed with \"address\")");
    if (!cJSON_IsString(bus)) return r.fail(where, "bus", "expected a bus name, got " + describe(bus));
    const BusSpec* b = find_bus(*out, bus->valuestring);
    if (b == nullptr) return r.fail(where, "bus", "no bus named \"" + std::string(bus->valuestring) + "\" in \"buses\"");
    if (b->type != BusType::I2c) return r.fail(where, "bus", "\"" + b->name + "\" is not an i2c bus");
    dev.bus = b->name;
    if (address == nullptr) return r.fail(where, "address", "missing (the chip's 7-bit I2C address)");
    int64_t a = -1;
    if (cJSON_IsString(address)) {
      const char* s = address->valuestring;
      char* end = nullptr;
      errno = 0;
      if ((s[0] == '0') && (s[1] == 'x' || s[1] == 'X') && s[2] != '\0') {
        const long v = std::strtol(s + 2, &end, 16);
        if (errno == 0 && end != nullptr && *end == '\0') a = v;
      }
    } else {
      int64_t n = 0;
      if (is_integer(address, &n)) a = n;
    }
    if (a < kMinI2cAddress || a > kMaxI2cAddress) {
      return r.fail(where, "address", "expected an I2C address 0x08..0x77 (integer or \"0x..\" string), got " +
                                          describe(address));
    }
    dev.address = static_cast<uint16_t>(a);
    for (const DeviceSpec& other : out->devices) {
      if (other.bus == dev.bus && other.address == dev.address) {
        return r.fail(where, "address", hex2(static_cast<int>(a)) + " on " + dev.bus +
                                            " is already used by " + other.name);
      }
    }
  }

  // GPIO: "gpio" + "pin" (+ "active_low").
  const cJSON* gpio = cJSON_GetObjectItemCaseSensitive(d, "gpio");
  const cJSON* pin = cJSON_GetObjectItemCaseSensitive(d, "pin");
  const cJSON* active_low = cJSON_GetObjectItemCaseSensitive(d, "active_low");
  if (gpio != nullptr || pin != nullptr) {
    if (gpio == nullptr) return r.fail(where, "gpio", "missing (a GPIO controller name is needed with \"pin\")");
    if (!cJSON_IsString(gpio)) return r.fail(where, "gpio", "expected a GPIO controller name, got " + describe(gpio));
    const BusSpec* b = find_bus(*out, gpio->valuestring);
    if (b == nullptr) return r.fail(where, "gpio", "no GPIO controller named \"" + std::string(gpio->valuestring) + "\" in \"buses\"");
    if (b->type != BusType::Gpio) return r.fail(where, "gpio", "\"" + b->name + "\" is not a gpio controller");
    dev.gpio = b->name;
    const std::string range = "0.." + std::to_string(b->lines - 1);
    if (pin == nullptr) return r.fail(where, "pin", "missing (an integer " + range + ")");
    int64_t n = -1;
    if (!is_integer(pin, &n) || n < 0 || n >= static_cast<int64_t>(b->lines)) {
      return r.fail(where, "pin", "expected an integer " + range + ", got " + describe(pin));
    }
    dev.pin = static_cast<uint32_t>(n);
    for (const DeviceSpec& other : out->devices) {
      if (other.gpio == dev.gpio && other.pin == dev.pin) {
        return r.fail(where, "pin", std::to_string(n) + " on " + dev.gpio + " is already used by " + other.name);
      }
    }
  }
  if (active_low != nullptr) {
    if (!dev.pin) return r.fail(where, "active_low", "only meaningful with \"pin\"");
    if (!cJSON_IsBool(active_low)) {
      return r.fail(where, "active_low", "expected true or false, got " + describe(active_low));
    }
    dev.active_low = cJSON_IsTrue(active_low) != 0;
  }

  const cJSON* params = cJSON_GetObjectItemCaseSensitive(d, "params");
  if (params != nullptr && !parse_params(r, where, params, &dev)) return false;

  const cJSON* sim = cJSON_GetObjectItemCaseSensitive(d, "sim");
  if (sim != nullptr) {
    if (out->hal != HalKind::Sim) return r.fail(where, "sim", "only allowed with \"hal\": \"sim\"");
    if (!parse_sim(r, where, sim, &dev)) return false;
  }
  out->devices.push_back(std::move(dev));
  return true;
}

}  // namespace

bool parse_board_text(const char* text, const char* path, BoardSpec* out, std::string* error) {
  Reporter r(path, error);
  if (text == nullptr || out == nullptr) return r.fail("", "", "no input");
  *out = BoardSpec{};
  JsonDoc doc;
  const char* end = nullptr;
  doc.root = cJSON_ParseWithOpts(text, &end, 1);
  if (doc.root == nullptr) {
    int line = 1;
    int col = 1;
    line_col(text, end != nullptr ? end : text, &line, &col);
    return r.fail_at(line, col, "malformed JSON");
  }
  const cJSON* root = doc.root;
  if (!cJSON_IsObject(root)) return r.fail("", "", "expected a JSON object at the top level, got " + describe(root));
  static const char* const kKeys[] = {"name", "description", "hal", "buses", "devices", nullptr};
  if (!check_keys(r, "", "", root, kKeys)) return false;

  const cJSON* name = cJSON_GetObjectItemCaseSensitive(root, "name");
  if (name == nullptr) return r.fail("", "name", "missing");
  if (!cJSON_IsString(name) || name->valuestring[0] == '\0' || std::strlen(name->valuestring) > 63) {
    return r.fail("", "name", "expected a non-empty string (at most 63 characters), got " + describe(name));
  }
  out->name = name->valuestring;
  const cJSON* desc = cJSON_GetObjectItemCaseSensitive(root, "description");
  if (desc != nullptr) {
    if (!cJSON_IsString(desc)) return r.fail("", "description", "expected a string, got " + describe(desc));
    out->description = desc->valuestring;
  }
  const cJSON* hal = cJSON_GetObjectItemCaseSensitive(root, "hal");
  if (hal == nullptr) return r.fail("", "hal", "missing (\"sim\" or \"linux\")");
  if (cJSON_IsString(hal) && std::strcmp(hal->valuestring, "sim") == 0) {
    out->hal = HalKind::Sim;
  } else if (cJSON_IsString(hal) && std::strcmp(hal->valuestring, "linux") == 0) {
    out->hal = HalKind::Linux;
  } else {
    return r.fail("", "hal", "expected \"sim\" or \"linux\", got " + describe(hal));
  }
  const cJSON* buses = cJSON_GetObjectItemCaseSensitive(root, "buses");
  if (buses != nullptr && !parse_buses(r, buses, out)) return false;

  const cJSON* devices = cJSON_GetObjectItemCaseSensitive(root, "devices");
  if (devices == nullptr) return r.fail("", "devices", "missing (an array of devices)");
  if (!cJSON_IsArray(devices)) return r.fail("", "devices", "expected an array, got " + describe(devices));
  const int count = cJSON_GetArraySize(devices);
  if (count > static_cast<int>(drv::Registry::kMaxDevices)) {
    return r.fail("", "devices", "at most " + std::to_string(drv::Registry::kMaxDevices) +
                                     " devices, got " + std::to_string(count));
  }
  int index = 0;
  for (const cJSON* d = devices->child; d != nullptr; d = d->next, ++index) {
    if (!parse_device(r, index, d, out)) return false;
  }
  return true;
}

bool parse_board(const char* path, BoardSpec* out, std::string* error) {
  Reporter r(path, error);
  if (path == nullptr) return r.fail("", "", "no board file given");
  std::FILE* f = std::fopen(path, "rb");
  if (f == nullptr) return r.fail("", "", std::string("cannot open: ") + std::strerror(errno));
  std::string text;
  char buf[4096];
  size_t n = 0;
  bool too_big = false;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) {
    text.append(buf, n);
    if (text.size() > kMaxFileBytes) {
      too_big = true;
      break;
    }
  }
  const bool read_error = std::ferror(f) != 0;
  std::fclose(f);
  if (read_error) return r.fail("", "", "read error");
  if (too_big) return r.fail("", "", "file too large (at most " + std::to_string(kMaxFileBytes) + " bytes)");
  if (text.find('\0') != std::string::npos) return r.fail("", "", "not a text file (contains NUL bytes)");
  return parse_board_text(text.c_str(), path, out, error);
}

}  // namespace boards

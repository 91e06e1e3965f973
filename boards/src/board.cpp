// Building a live board from a BoardSpec: HAL backend objects, chip models
// (sim), driver instances.
#include "boards/board.hpp"

#include <cstring>
#include <new>

#include "drv/driver_table.hpp"
#include "drv/model_table.hpp"
#include "hal/linux/gpiod_controller.hpp"
#include "hal/linux/i2c_dev_bus.hpp"
#include "hal/linux/linux_system_info.hpp"
#include "hal/linux/linux_sysfs_tree.hpp"
#include "hal/linux/linux_watchdog.hpp"
#include "hal/sim/sim_gpio.hpp"
#include "hal/sim/sim_i2c_bus.hpp"
#include "hal/sim/sim_system_info.hpp"
#include "hal/sim/sim_watchdog.hpp"

namespace boards {

namespace {

/// The live object behind one BusSpec.
struct BusSlot {
  const BusSpec* spec = nullptr;
  std::unique_ptr<hal::I2cBus> i2c;
  std::unique_ptr<hal::GpioController> gpio;
  hal::sim::SimI2cBus* sim_i2c = nullptr;  // same object as i2c, on sim boards
  hal::sim::SimGpio* sim_gpio = nullptr;   // same object as gpio, on sim boards
  hal::linux_::I2cDevBus* linux_i2c = nullptr;        // same object as i2c, on linux boards
  hal::linux_::GpiodController* gpiod = nullptr;     // same object as gpio, on linux boards
  hal::Err open_err = hal::Err::Ok;        // linux: why the bus could not be opened
  std::string where;                       // linux: what was opened, for messages
};

struct ModelSlot {
  std::string device;
  std::unique_ptr<drv::sim::Model> model;
};

}  // namespace

// Declaration order is destruction order reversed: the registry (devices
// point at buses, pins, models, system info) is declared last so it goes first.
struct Board::Impl {
  BoardSpec spec;
  hal::MonotonicClock* mono = nullptr;
  hal::WallClock* wall = nullptr;  // for boards with a real-time clock; unused so far
  LinuxHost host;
  std::vector<BusSlot> buses;
  std::vector<ModelSlot> models;
  std::unique_ptr<hal::SystemInfo> system_info;
  std::unique_ptr<hal::Watchdog> watchdog;
  std::unique_ptr<hal::SysfsTree> sysfs;  // null on a sim board without "sysfs"
  hal::sim::SimSystemInfo* sim_system_info = nullptr;
  hal::sim::SimWatchdog* sim_watchdog = nullptr;
  std::vector<FailedDevice> failed;
  drv::Registry registry;

  BusSlot* bus(const std::string& name) {
    for (BusSlot& b : buses) {
      if (b.spec->name == name) return &b;
    }
    return nullptr;
  }
  void fail(const DeviceSpec& d, hal::Err err, std::string text) {
    failed.push_back(FailedDevice{d.name, d.compatible, err, std::move(text)});
  }
  bool build_backend(std::string* error);
  void open_linux_i2c(const BusSpec& b, BusSlot* slot);
  void open_linux_gpio(const BusSpec& b, BusSlot* slot);
  bool claim_pin(const DeviceSpec& d, BusSlot* b, drv::DeviceConfig* cfg);
  void open_linux_watchdog();
  bool build_models(std::string* error);
  void add_device(const DeviceSpec& d);
};

Board::Board() : impl_(new Impl()) {}
Board::~Board() = default;

bool Board::Impl::build_backend(std::string* error) {
  const bool sim = spec.hal == HalKind::Sim;
  buses.reserve(spec.buses.size());
  for (const BusSpec& b : spec.buses) {
    BusSlot slot;
    slot.spec = &b;
    if (b.type == BusType::I2c) {
      if (sim) {
        auto* s = new (std::nothrow) hal::sim::SimI2cBus();
        slot.i2c.reset(s);
        slot.sim_i2c = s;
      } else {
        open_linux_i2c(b, &slot);
      }
      if (!slot.i2c) break;
    } else {
      if (sim) {
        auto* g = new (std::nothrow) hal::sim::SimGpio(b.lines, mono);
        slot.gpio.reset(g);
        slot.sim_gpio = g;
      } else {
        open_linux_gpio(b, &slot);
      }
      if (!slot.gpio) break;
    }
    buses.push_back(std::move(slot));
  }
  if (buses.size() != spec.buses.size()) {
    *error = "out of memory";
    return false;
  }
  if (sim) {
    auto* info = new (std::nothrow) hal::sim::SimSystemInfo(*mono);
    auto* wd = new (std::nothrow) hal::sim::SimWatchdog(*mono);
    system_info.reset(info);
    watchdog.reset(wd);
    sim_system_info = info;
    sim_watchdog = wd;
  } else {
    system_info.reset(new (std::nothrow) hal::linux_::LinuxSystemInfo("/proc"));
    open_linux_watchdog();
  }
  // The kernel's attribute tree: /sys on a linux board, or the board's
  // "sysfs" directory (a fixture tree on a sim board).
  if (!spec.sysfs.empty() || !sim) {
    sysfs.reset(new (std::nothrow) hal::linux_::LinuxSysfsTree(spec.sysfs.empty() ? "/sys" : spec.sysfs.c_str()));
    if (!sysfs) {
      *error = "out of memory";
      return false;
    }
  }
  if (!system_info || (sim && !watchdog)) {
    *error = "out of memory";
    return false;
  }

  return !sim || build_models(error);
}

// The i2c-dev node by path, bus number or adapter name. A bus that cannot be
// opened stays in the list with open_err: its devices fail with the reason.
void Board::Impl::open_linux_i2c(const BusSpec& b, BusSlot* slot) {
  std::string path = b.dev;
  if (b.adapter_number) {
    path = "/dev/i2c-" + std::to_string(*b.adapter_number);
  } else if (!b.adapter_name.empty()) {
    hal::Result<uint32_t> n = hal::linux_::find_i2c_adapter(host.sys_root, b.adapter_name.c_str());
    if (n.ok()) {
      path = "/dev/i2c-" + std::to_string(n.value());
    } else {
      slot->open_err = n.error();
    }
  }
  slot->where = slot->open_err == hal::Err::Ok ? path : "adapter \"" + b.adapter_name + "\"";
  auto* l = new (std::nothrow) hal::linux_::I2cDevBus(path.c_str(), host.i2c_sys);
  slot->i2c.reset(l);
  slot->linux_i2c = l;
  if (l != nullptr && slot->open_err == hal::Err::Ok) slot->open_err = l->open();
}

void Board::Impl::open_linux_gpio(const BusSpec& b, BusSlot* slot) {
  auto* g = host.gpio_opener != nullptr ? new (std::nothrow) hal::linux_::GpiodController(b.chip.c_str(), host.gpio_opener)
                                        : new (std::nothrow) hal::linux_::GpiodController(b.chip.c_str());
  slot->gpio.reset(g);
  slot->gpiod = g;
  slot->where = "chip \"" + b.chip + "\"";
  if (g == nullptr) return;
  slot->open_err = g->open();
  if (slot->open_err == hal::Err::Ok) slot->where = g->chip_name();
}

// The board file's "watchdog", opened now so that a missing or busy node is
// reported with the devices (it stays open: the runtime arms it in start()).
// One that cannot be opened is left out like a failed device: the board runs
// without it and health says so.
void Board::Impl::open_linux_watchdog() {
  if (!spec.watchdog) return;
  const WatchdogSpec& w = *spec.watchdog;
  auto* wd = new (std::nothrow) hal::linux_::LinuxWatchdog(w.device.c_str(), w.timeout_s);
  const hal::Err e = wd != nullptr ? wd->open() : hal::Err::NoSpace;
  if (e == hal::Err::Ok) {
    watchdog.reset(wd);
    return;
  }
  delete wd;
  failed.push_back(FailedDevice{"watchdog", "linux,watchdog", e,
                                "watchdog.device: " + w.device + ": " + hal::err_name(e)});
}

// The simulated world: each device whose chip has a model (drv::sim::kModels)
// gets it, made from the device's "sim" parameters, at its address or pin.
bool Board::Impl::build_models(std::string* error) {
  for (const DeviceSpec& d : spec.devices) {
    const drv::sim::ModelEntry* entry = drv::sim::find_model(d.compatible.c_str());
    if (entry == nullptr) continue;
    drv::sim::ModelSite site;
    if (!d.bus.empty() && d.address) {
      site.i2c = bus(d.bus)->sim_i2c;
      site.address = *d.address;
    }
    if (!d.gpio.empty() && d.pin) {
      site.gpio = bus(d.gpio)->sim_gpio;
      site.pin = *d.pin;
    }
    ModelSlot m;
    m.device = d.name;
    if (entry->create(d.sim, site, &m.model) != hal::Err::Ok) {
      *error = "out of memory";
      return false;
    }
    if (m.model) models.push_back(std::move(m));
  }
  return true;
}

void Board::Impl::add_device(const DeviceSpec& d) {
  const drv::DriverEntry* entry = drv::find_driver(d.compatible.c_str());
  if (entry == nullptr) {
    std::string known;
    for (size_t i = 0; i < drv::kDriverCount; ++i) {
      known += (i ? ", " : "");
      known += drv::kDrivers[i].compatible;
    }
    fail(d, hal::Err::NotFound, "compatible: no driver for \"" + d.compatible + "\" (known: " + known + ")");
    return;
  }

  drv::DeviceConfig cfg;
  cfg.name = d.name.c_str();  // lives in spec, which outlives the registry
  cfg.compatible = entry->compatible;
  cfg.system_info = system_info.get();
  cfg.sysfs = sysfs.get();
  cfg.clock = mono;
  BusSlot* i2c_slot = nullptr;
  if (!d.bus.empty()) {
    i2c_slot = bus(d.bus);
    if (i2c_slot->open_err != hal::Err::Ok) {
      fail(d, i2c_slot->open_err,
           "bus: " + d.bus + " (" + i2c_slot->where + "): " + hal::err_name(i2c_slot->open_err));
      return;
    }
    cfg.i2c = i2c_slot->i2c.get();
    cfg.i2c_address = d.address.value_or(0);
  }
  if (!d.gpio.empty() && !claim_pin(d, bus(d.gpio), &cfg)) return;
  for (const ParamSpec& p : d.params) {
    if (cfg.param_count == drv::DeviceConfig::kMaxParams) break;  // parse_board caps this
    drv::Param& out = cfg.params[cfg.param_count++];
    out.key = p.key.c_str();
    out.is_text = p.is_text;
    out.number = p.number;
    out.text = p.text.c_str();
  }

  drv::DriverError derr;
  std::unique_ptr<drv::Device> dev = entry->create(cfg, &derr);
  if (!dev) {
    fail(d, hal::Err::InvalidArgument, derr.text);
    return;
  }
  if (hal::Err e = dev->init(); e != hal::Err::Ok) {
    const char* detail = dev->error_detail();
    std::string text = std::string("init: ") + hal::err_name(e) + (detail[0] != '\0' ? std::string(": ") + detail : "");
    // An SMBus-only adapter says which transfer it could not carry.
    if (e == hal::Err::NotSupported && i2c_slot != nullptr && i2c_slot->linux_i2c != nullptr &&
        i2c_slot->linux_i2c->last_unsupported()[0] != '\0') {
      text += std::string(" (") + i2c_slot->linux_i2c->last_unsupported() + ")";
    }
    fail(d, e, text);
    return;
  }
  if (hal::Err e = registry.add(std::move(dev)); e != hal::Err::Ok) {
    fail(d, e, std::string("registry: ") + hal::err_name(e));
  }
}

// The device's pin: by number, or on linux by line name. A controller that
// did not open, a line that does not exist or that someone holds fails the
// device with a line naming the board entry.
bool Board::Impl::claim_pin(const DeviceSpec& d, BusSlot* b, drv::DeviceConfig* cfg) {
  if (b->open_err != hal::Err::Ok) {
    fail(d, b->open_err, "gpio: " + d.gpio + " (" + b->where + "): " + hal::err_name(b->open_err));
    return false;
  }
  uint32_t offset = d.pin.value_or(0);
  std::string what = "pin: " + std::to_string(offset);
  if (!d.line.empty()) {
    hal::Result<uint32_t> found = b->gpiod != nullptr ? b->gpiod->find_line(d.line.c_str())
                                                      : hal::Result<uint32_t>(hal::Err::NotSupported);
    if (!found.ok()) {
      fail(d, found.error(),
           "line: \"" + d.line + "\" on " + d.gpio + " (" + b->where + "): " + hal::err_name(found.error()));
      return false;
    }
    offset = found.value();
    what = "line: \"" + d.line + "\" (" + std::to_string(offset) + ")";
  }
  hal::Result<hal::GpioPin*> pin = b->gpio->claim(offset);
  if (!pin.ok()) {
    std::string text = what + " on " + d.gpio;
    if (!b->where.empty()) text += " (" + b->where + ")";
    text += std::string(": ") + hal::err_name(pin.error());
    const char* holder = b->gpiod != nullptr && pin.error() == hal::Err::Busy ? b->gpiod->holder(offset) : "";
    if (holder[0] != '\0') text += std::string(" (used by \"") + holder + "\")";
    fail(d, pin.error(), text);
    return false;
  }
  cfg->pin = pin.value();
  cfg->active_low = d.active_low;
  return true;
}

std::unique_ptr<Board> Board::create(const BoardSpec& spec, hal::MonotonicClock& mono,
                                     hal::WallClock& wall, std::string* error, const LinuxHost& host) {
  std::string scratch;
  if (error == nullptr) error = &scratch;
  std::unique_ptr<Board> board(new (std::nothrow) Board());
  if (!board || !board->impl_) {
    *error = "out of memory";
    return nullptr;
  }
  Impl& im = *board->impl_;
  im.spec = spec;
  im.mono = &mono;
  im.wall = &wall;
  im.host = host;
  if (!im.build_backend(error)) return nullptr;
  for (const DeviceSpec& d : im.spec.devices) im.add_device(d);
  return board;
}

std::unique_ptr<Board> Board::open(const char* path, hal::MonotonicClock& mono, hal::WallClock& wall,
                                   std::string* error, const LinuxHost& host) {
  BoardSpec spec;
  if (!parse_board(path, &spec, error)) return nullptr;
  std::string why;
  std::unique_ptr<Board> board = create(spec, mono, wall, &why, host);
  if (!board && error != nullptr) *error = std::string(path) + ": " + why;
  return board;
}

const std::string& Board::name() const { return impl_->spec.name; }
const BoardSpec& Board::spec() const { return impl_->spec; }
bool Board::is_sim() const { return impl_->spec.hal == HalKind::Sim; }
drv::Registry& Board::registry() { return impl_->registry; }
const std::vector<FailedDevice>& Board::failed() const { return impl_->failed; }
hal::SystemInfo* Board::system_info() { return impl_->system_info.get(); }
hal::Watchdog* Board::watchdog() { return impl_->watchdog.get(); }
const char* Board::watchdog_name() const {
  if (!impl_->watchdog) return "";
  return impl_->spec.watchdog ? impl_->spec.watchdog->device.c_str() : "simulated";
}

drv::sim::Model* Board::sim_model(const char* device) {
  if (device == nullptr) return nullptr;
  for (ModelSlot& m : impl_->models) {
    if (m.device == device) return m.model.get();
  }
  return nullptr;
}

hal::sim::SimGpio* Board::sim_gpio(const char* name) {
  for (BusSlot& b : impl_->buses) {
    if (b.sim_gpio != nullptr && (name == nullptr || b.spec->name == name)) return b.sim_gpio;
  }
  return nullptr;
}

hal::sim::SimI2cBus* Board::sim_i2c(const char* name) {
  if (name == nullptr) return nullptr;
  BusSlot* b = impl_->bus(name);
  return b != nullptr ? b->sim_i2c : nullptr;
}

hal::sim::SimSystemInfo* Board::sim_system_info() { return impl_->sim_system_info; }
hal::sim::SimWatchdog* Board::sim_watchdog() { return impl_->sim_watchdog; }

}  // namespace boards

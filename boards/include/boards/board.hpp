// A board is data: boards/<name>/board.json names the HAL backend, the buses
// and the device instances (see boards/README.md for the schema). This module
// parses and validates that file and builds the live board from it: HAL
// backend objects, chip models (sim), and one driver instance per device,
// collected in a drv::Registry. Runs at start-up; allocation is fine here.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "drv/model_table.hpp"
#include "drv/registry.hpp"
#include "drv/report.hpp"
#include "hal/clock.hpp"
#include "hal/status.hpp"
#include "hal/system_info.hpp"
#include "hal/watchdog.hpp"

namespace hal {
namespace linux_ {
class GpioChipPort;
class I2cDevSys;
}  // namespace linux_
namespace sim {
class SimGpio;
class SimI2cBus;
class SimSystemInfo;
class SimWatchdog;
}  // namespace sim
}  // namespace hal

namespace boards {

enum class HalKind : uint8_t { Sim, Linux };
enum class BusType : uint8_t { I2c, Gpio };

/// One entry of "buses": an I2C bus or a GPIO controller.
struct BusSpec {
  std::string name;             ///< "i2c0", "gpio0"
  BusType type = BusType::I2c;
  /// linux I2C, exactly one of: the i2c-dev node ("/dev/i2c-1"), the bus
  /// number (1 = /dev/i2c-1), or the adapter's name as sysfs shows it
  /// (/sys/bus/i2c/devices/i2c-N/name, e.g. "SMBus stub driver").
  std::string dev;
  std::optional<uint32_t> adapter_number;
  std::string adapter_name;
  /// linux GPIO: the chip by name ("gpiochip0"), path or label ("9030000.pl061").
  std::string chip;
  uint32_t lines = 1024;        ///< GPIO: number of lines (pins 0..lines-1)
};

/// One entry of a device's "params" object. Booleans are stored as 0/1.
struct ParamSpec {
  std::string key;
  bool is_text = false;
  int64_t number = 0;
  std::string text;
};

/// One rule of a device's "report" key (boards/README.md "Reporting").
struct ReportSpec {
  std::string quantity;  ///< "" = every channel of the device (a per-quantity rule wins)
  drv::ReportPolicy policy;
};

struct DeviceSpec {
  std::string name;        ///< [A-Za-z][A-Za-z0-9_-]*, at most 31 chars
  std::string compatible;  ///< "vendor,part"
  std::string bus;         ///< I2C bus name ("" if none)
  std::optional<uint16_t> address;  ///< 7-bit I2C address (with bus)
  std::string gpio;        ///< GPIO controller name ("" if none)
  std::optional<uint32_t> pin;      ///< line number (with gpio)
  std::string line;        ///< linux: the line's name instead of `pin` ("GPIO17")
  bool active_low = false;
  std::vector<ParamSpec> params;
  /// The "sim" object as the chip's model read it (drv/model_table.hpp): how
  /// the simulated world around the device looks. Empty when absent or when
  /// the chip has no model (then only an empty "sim" object is accepted).
  drv::sim::SimParams sim;
  /// The "report" key: how its channels report (empty: all "interval").
  /// Board::create checks the quantities against the driver's channels
  /// (boards/report.hpp).
  std::vector<ReportSpec> report;
};

/// The "watchdog" object of a linux board: the kernel watchdog node.
struct WatchdogSpec {
  std::string device;      ///< absolute path, "/dev/watchdog"
  uint32_t timeout_s = 0;  ///< 0 = the agent's (AgentRuntime::kWatchdogTimeoutMs)
};

struct BoardSpec {
  std::string name;
  std::string description;
  /// The board's identity for signed updates (a manifest's `compatible` must
  /// equal it): the "compatible" key, default "xiot,<name>".
  std::string compatible;
  HalKind hal = HalKind::Sim;
  std::vector<BusSpec> buses;
  std::vector<DeviceSpec> devices;
  std::optional<WatchdogSpec> watchdog;  ///< linux only; sim boards always have SimWatchdog
  /// The root of the kernel's attribute tree for linux,iio/hwmon/thermal-zone
  /// and maxim,ds18b20: the "sysfs" key resolved against the board file's
  /// directory; "" when absent (linux boards then use "/sys"; sim boards have
  /// no tree, and those drivers fail with "needs the board's sysfs tree").
  std::string sysfs;
};

/// Reads and validates the board file at `path`. Pure: touches no hardware.
/// On failure returns false and sets `*error` to one line that names the
/// file, the element and the field, e.g.
///   `boards/x/board.json: devices[1] (relay0): pin: expected an integer 0..1023, got "x"`
///   `boards/x/board.json:4:17: malformed JSON`
/// Unknown keys, duplicate keys, duplicate names and resource clashes are
/// errors. An unknown compatible is *not* a parse error (Board::open records
/// it as a failed device). `out` is unspecified on failure.
bool parse_board(const char* path, BoardSpec* out, std::string* error);
/// As parse_board() on text already in memory; `path` is only used in messages.
bool parse_board_text(const char* text, const char* path, BoardSpec* out, std::string* error);

/// A device that was left out of the registry, and why.
struct FailedDevice {
  std::string name;
  std::string compatible;
  hal::Err err = hal::Err::Ok;  ///< NotFound (unknown compatible), InvalidArgument
                                ///< (bad params/resources), or what init() returned
  std::string text;             ///< one line: `init: wrong chip id`, `params.pull: ...`
};

/// Where a "linux" board meets the system, so tests can stand in for it.
/// Defaults: the real /sys, libgpiod and i2c-dev system calls. Everything
/// given must outlive the board.
struct LinuxHost {
  const char* sys_root = "/sys";  ///< for I2C adapters named by "adapter"
  /// Opens GPIO chips (hal::linux_::GpioChipOpener); null = libgpiod.
  std::unique_ptr<hal::linux_::GpioChipPort> (*gpio_opener)(const char* chip, int* err) = nullptr;
  hal::linux_::I2cDevSys* i2c_sys = nullptr;  ///< null = open/ioctl
};

/// The live board. Owns the HAL backend objects, the chip models (sim) and
/// the registry of devices; everything lives as long as the Board. Not
/// copyable or movable (devices point into it).
class Board {
 public:
  /// Parses `path` and builds the board (see create()). Returns nullptr and
  /// sets `*error` only when the file cannot be parsed; a device that fails to
  /// initialise is listed in failed() instead and the board is still returned.
  /// `mono` and `wall` must outlive the board (drivers use `mono` for
  /// deadlines; the sim system info derives uptime from it).
  static std::unique_ptr<Board> open(const char* path, hal::MonotonicClock& mono,
                                     hal::WallClock& wall, std::string* error,
                                     const LinuxHost& host = LinuxHost());
  /// Builds a board from an already validated spec:
  ///  - "sim": a SimI2cBus per I2C bus, a SimGpio per GPIO controller, for
  ///    each device whose compatible is in the model table (drv::sim::kModels)
  ///    its model made from the device's "sim" parameters and attached at its
  ///    address or pin, SimSystemInfo and SimWatchdog on `mono`;
  ///  - both: a LinuxSysfsTree on spec.sysfs ("/sys" on a linux board without
  ///    the key; none on a sim board without it), handed to every driver;
  ///  - "linux": an i2c-dev bus per I2C bus (its node by "dev", bus number
  ///    or adapter name; opened here, SMBus fallback included), a libgpiod
  ///    controller per GPIO controller (opened here), LinuxSystemInfo on
  ///    /proc, and the "watchdog" node when the file names one (opened here,
  ///    which arms it with the driver's timeout until the runtime starts it).
  ///    A bus or chip that cannot be opened, a line that is missing or busy,
  ///    fails the devices on it (failed(): `bus: i2c1 (adapter "x"): not
  ///    found`, `gpio: gpio0 (chip "gpiochip9"): not found`, `pin: 17 on
  ///    gpio0 (gpiochip0): busy (used by "sysfs")`). A watchdog that
  ///    cannot be opened is left out (watchdog() is null) and listed in
  ///    failed() as `watchdog` (compatible `linux,watchdog`, text
  ///    `watchdog.device: /dev/watchdog: busy`), which degrades health like a
  ///    failed device.
  /// Then, in file order, each device: driver lookup by compatible, factory,
  /// init(); failures go to failed(). Returns nullptr only on an internal
  /// error (`*error` says which).
  static std::unique_ptr<Board> create(const BoardSpec& spec, hal::MonotonicClock& mono,
                                       hal::WallClock& wall, std::string* error,
                                       const LinuxHost& host = LinuxHost());
  ~Board();
  Board(const Board&) = delete;
  Board& operator=(const Board&) = delete;

  const std::string& name() const;
  const BoardSpec& spec() const;
  bool is_sim() const;
  /// The devices that initialised. Lives as long as the board.
  drv::Registry& registry();
  /// Devices left out, in board-file order (a linux board's watchdog that
  /// could not be opened comes first, as `watchdog`).
  const std::vector<FailedDevice>& failed() const;
  /// The backend's system facts (never null).
  hal::SystemInfo* system_info();
  /// The backend's watchdog, or nullptr if the board has none.
  hal::Watchdog* watchdog();
  /// What the watchdog is, for log lines: its device path on a linux board
  /// ("/dev/watchdog"), "simulated" on a sim board, "" when there is none.
  const char* watchdog_name() const;

  // --- simulation hooks (nullptr on non-sim boards or unknown names) ---
  /// The chip model behind device `device`, also when it was absent
  /// ("present": false) or failed to initialise; nullptr when the device has
  /// no model object. The chip's folder has the typed accessor, e.g.
  /// drv::sim::as_<part>(board->sim_model("env0")).
  drv::sim::Model* sim_model(const char* device);
  /// GPIO controller `name`; nullptr name = the first GPIO controller.
  hal::sim::SimGpio* sim_gpio(const char* name = nullptr);
  hal::sim::SimI2cBus* sim_i2c(const char* name);
  hal::sim::SimSystemInfo* sim_system_info();
  hal::sim::SimWatchdog* sim_watchdog();

 private:
  struct Impl;
  Board();
  std::unique_ptr<Impl> impl_;
};

}  // namespace boards

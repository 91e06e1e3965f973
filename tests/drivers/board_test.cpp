// boards: the shipped board files, a table of broken board files with their
// exact error texts, init failures that leave a device out.
#include <dirent.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <iterator>
#include <string>
#include <vector>

#include "bme280/bme280_model.hpp"
#include "boards/board.hpp"
#include "drv/driver_table.hpp"
#include "hal/sim/manual_clock.hpp"
#include "hal/sim/sim_gpio.hpp"
#include "hal/sim/sim_i2c_bus.hpp"
#include "hal/sim/sim_system_info.hpp"
#include "hal/sim/sim_watchdog.hpp"
#include "test_tmpdir.hpp"

using hal::Err;
using xiot_test::TempDir;

namespace {

const std::string kSimBoard = std::string(XIOT_BOARDS_DIR) + "/sim/board.json";
const std::string kLinuxHostBoard = std::string(XIOT_BOARDS_DIR) + "/linux-host/board.json";

struct Clocks {
  hal::sim::ManualClock clock;
};

drv::Value read(drv::Registry& reg, const char* channel) {
  auto ref = reg.find(channel);
  EXPECT_TRUE(ref.ok()) << channel;
  if (!ref.ok()) return drv::Value{};
  auto v = ref.value().device->get(ref.value().index);
  EXPECT_TRUE(v.ok()) << channel << ": " << hal::err_name(v.error());
  return v.ok() ? v.value() : drv::Value{};
}

/// A minimal valid sim board with `devices` spliced in.
std::string sim_board(const std::string& devices, const std::string& buses =
                          R"([{"name": "i2c0", "type": "i2c"}, {"name": "gpio0", "type": "gpio"}])") {
  return R"({"name": "t", "hal": "sim", "buses": )" + buses + R"(, "devices": [)" + devices + "]}";
}

}  // namespace

// ---------------------------------------------------------------------------
// The shipped boards

TEST(SimBoard, LoadsWithFourDevicesAndTheirChannels) {
  Clocks c;
  std::string error;
  auto board = boards::Board::open(kSimBoard.c_str(), c.clock, c.clock, &error);
  ASSERT_NE(board, nullptr) << error;
  EXPECT_EQ(board->name(), "sim");
  EXPECT_TRUE(board->is_sim());
  EXPECT_TRUE(board->failed().empty());
  drv::Registry& reg = board->registry();
  const char* const names[] = {"env0",  "relay0", "button0", "climate0", "adc0",  "light0",
                               "sys0",  "iio0",   "cpu0",    "zone0",    "probe0"};
  ASSERT_EQ(reg.device_count(), std::size(names));
  for (size_t i = 0; i < std::size(names); ++i) EXPECT_STREQ(reg.device(i).name(), names[i]);
  const char* const channels[] = {"env0.temperature",     "env0.humidity",     "env0.pressure", "relay0.state",
                                  "button0.state",        "climate0.temperature", "climate0.humidity",
                                  "adc0.ain0",            "adc0.ain1",         "light0.illuminance",
                                  "sys0.uptime",          "sys0.load",         "sys0.mem_available",
                                  "sys0.mem_used",        "iio0.temperature",  "iio0.humidity",
                                  "iio0.pressure",        "cpu0.package_id_0", "cpu0.core_0",
                                  "cpu0.core_1",          "zone0.temperature", "probe0.temperature"};
  EXPECT_EQ(reg.channel_count(), std::size(channels));
  for (const char* ch : channels) {
    EXPECT_TRUE(reg.find(ch).ok()) << ch;
  }
  EXPECT_EQ(reg.find("relay0.state").value().spec().kind, drv::ChannelKind::Actuator);
  EXPECT_NE(board->system_info(), nullptr);
  EXPECT_NE(board->watchdog(), nullptr);
}

TEST(BoardSpec, CompatibleForUpdates) {
  boards::BoardSpec spec;
  std::string error;
  ASSERT_TRUE(boards::parse_board(kSimBoard.c_str(), &spec, &error)) << error;
  EXPECT_EQ(spec.compatible, "xiot,sim");
  ASSERT_TRUE(boards::parse_board_text(R"({"name": "t", "hal": "sim", "devices": []})", "t.json", &spec, &error))
      << error;
  EXPECT_EQ(spec.compatible, "xiot,t");  // the default
}

TEST(SimBoard, DeterministicValuesFromTheBoardFile) {
  Clocks c;
  std::string error;
  auto board = boards::Board::open(kSimBoard.c_str(), c.clock, c.clock, &error);
  ASSERT_NE(board, nullptr) << error;
  c.clock.advance_ms(42000);
  drv::Registry& reg = board->registry();
  ASSERT_EQ(reg.sample_all(), 0u);
  drv::Value t = read(reg, "env0.temperature");
  EXPECT_EQ(t.mantissa, 2154);
  EXPECT_EQ(t.exponent, -2);
  drv::Value h = read(reg, "env0.humidity");
  EXPECT_EQ(h.mantissa, 401);
  EXPECT_EQ(h.exponent, -1);
  drv::Value p = read(reg, "env0.pressure");
  EXPECT_EQ(p.mantissa, 101325);
  EXPECT_EQ(p.exponent, 0);
  EXPECT_FALSE(read(reg, "relay0.state").flag);
  EXPECT_FALSE(read(reg, "button0.state").flag);  // pulled up, not pressed
  EXPECT_EQ(read(reg, "sys0.uptime").mantissa, 42);
  EXPECT_EQ(read(reg, "sys0.load").mantissa, 250);
}

TEST(SimBoard, SimHooksReachTheHardware) {
  Clocks c;
  std::string error;
  auto board = boards::Board::open(kSimBoard.c_str(), c.clock, c.clock, &error);
  ASSERT_NE(board, nullptr) << error;
  drv::Registry& reg = board->registry();
  hal::sim::SimGpio* gpio = board->sim_gpio();
  ASSERT_NE(gpio, nullptr);
  EXPECT_EQ(board->sim_gpio("gpio0"), gpio);
  EXPECT_EQ(board->sim_gpio("nope"), nullptr);

  // Relay: active high on pin 17.
  auto relay = reg.find("relay0.state").value();
  EXPECT_FALSE(gpio->level(17));
  ASSERT_EQ(relay.device->set(relay.index, drv::Value::boolean(true)), Err::Ok);
  EXPECT_TRUE(gpio->level(17));

  // Button: active low with pull-up on pin 27.
  EXPECT_EQ(gpio->mode(27), hal::PinMode::InputPullUp);
  EXPECT_TRUE(gpio->watching_edges(27));
  gpio->set_external(27, false);  // pressed
  ASSERT_EQ(reg.sample_all(), 0u);
  EXPECT_FALSE(read(reg, "button0.state").flag);  // debouncing (20 ms by default)
  c.clock.advance_ms(20);
  ASSERT_EQ(reg.sample_all(), 0u);
  EXPECT_TRUE(read(reg, "button0.state").flag);

  // BME280 model: new physical values, then an injected data-register fault.
  drv::sim::Bme280Model* env = drv::sim::as_bme280(board->sim_model("env0"));
  ASSERT_NE(env, nullptr);
  EXPECT_EQ(drv::sim::as_bme280(board->sim_model("relay0")), nullptr);
  env->set_temperature_c(-5.25);
  ASSERT_EQ(reg.sample_all(), 0u);
  EXPECT_EQ(read(reg, "env0.temperature").mantissa, -525);
  ASSERT_EQ(env->fail_register(0xF9, Err::Io, drv::sim::Bme280Model::Access::Read), Err::Ok);
  EXPECT_EQ(reg.sample_all(), 1u);
  EXPECT_EQ(reg.last_sample_error(0), Err::Io);
  EXPECT_EQ(reg.last_sample_error(1), Err::Ok);

  // Bus, system info and watchdog hooks.
  ASSERT_NE(board->sim_i2c("i2c0"), nullptr);
  board->sim_i2c("i2c0")->fail_next(Err::Timeout);
  EXPECT_EQ(reg.sample_all(), 1u);
  EXPECT_EQ(reg.last_sample_error(0), Err::Timeout);
  ASSERT_NE(board->sim_system_info(), nullptr);
  board->sim_system_info()->set_load({3000, 0, 0});
  env->clear_faults();
  ASSERT_EQ(reg.sample_all(), 0u);
  EXPECT_EQ(read(reg, "sys0.load").mantissa, 3000);
  ASSERT_NE(board->sim_watchdog(), nullptr);
  EXPECT_EQ(board->watchdog()->start(1000), Err::Ok);
}

TEST(LinuxHostBoard, OpensWithSystemMetricsFromProc) {
  Clocks c;
  std::string error;
  auto board = boards::Board::open(kLinuxHostBoard.c_str(), c.clock, c.clock, &error);
  ASSERT_NE(board, nullptr) << error;
  EXPECT_FALSE(board->is_sim());
  EXPECT_TRUE(board->failed().empty());
  ASSERT_EQ(board->registry().device_count(), 1u);
  EXPECT_EQ(board->registry().sample_all(), 0u);
  EXPECT_EQ(board->sim_gpio(), nullptr);
  EXPECT_EQ(drv::sim::as_bme280(board->sim_model("sys0")), nullptr);
  EXPECT_EQ(board->sim_system_info(), nullptr);
  EXPECT_EQ(board->watchdog(), nullptr);
}

// ---------------------------------------------------------------------------
// Broken board files: each gives exactly this one-line error

struct Broken {
  const char* what;
  std::string text;
  std::string error;  // after "<path>" (starts with ": " or ":<line>:<col>: ")
};

void PrintTo(const Broken& b, std::ostream* os) { *os << b.what; }

class BrokenBoard : public ::testing::TestWithParam<Broken> {};

TEST_P(BrokenBoard, ExactError) {
  const Broken& b = GetParam();
  TempDir tmp;
  const std::string path = tmp.write("board.json", b.text);
  boards::BoardSpec spec;
  std::string error;
  EXPECT_FALSE(boards::parse_board(path.c_str(), &spec, &error));
  EXPECT_EQ(error, path + b.error);
  Clocks c;
  std::string open_error;
  EXPECT_EQ(boards::Board::open(path.c_str(), c.clock, c.clock, &open_error), nullptr);
  EXPECT_EQ(open_error, error);
}

const std::string kEnv = R"({"name": "env0", "compatible": "bosch,bme280", "bus": "i2c0", "address": 118})";
const std::string kRelay = R"({"name": "relay0", "compatible": "xiot,gpio-output", "gpio": "gpio0", "pin": 17})";

std::vector<Broken> broken_table() {
  std::string too_many;
  for (int i = 0; i < 33; ++i) {
    too_many += std::string(i ? "," : "") + R"({"name": "s)" + std::to_string(i) +
                R"(", "compatible": "xiot,system-metrics"})";
  }
  return {
      {"empty_file", "", ": empty file; expected a JSON object"},
      {"missing_comma", "{\n  \"name\": \"x\",\n  \"hal\": \"sim\"\n  \"devices\": []\n}",
       ":4:3: malformed JSON near \"\\\"devices\\\": []\""},
      {"trailing_garbage", "{\"name\": \"x\", \"hal\": \"sim\", \"devices\": []} x", ":1:44: malformed JSON near \"x\""},
      {"top_level_array", "[]", ": expected a JSON object at the top level, got an array"},
      {"missing_name", R"({"hal": "sim", "devices": []})", ": name: missing; expected a non-empty string (at most 63 characters)"},
      {"name_not_string", R"({"name": 5, "hal": "sim", "devices": []})",
       ": name: expected a non-empty string (at most 63 characters), got 5"},
      {"unknown_top_key", R"({"name": "x", "hal": "sim", "devices": [], "board": 1})",
       ": board: unknown key (expected one of: name description hal buses devices watchdog sysfs compatible)"},
      {"compatible_space", R"({"name": "x", "hal": "sim", "devices": [], "compatible": "xiot sim"})",
       ": compatible: expected a board compatible like \"vendor,board\" (at most 63 characters, no spaces), got "
       "\"xiot sim\""},
      {"duplicate_top_key", R"({"name": "x", "name": "y", "hal": "sim", "devices": []})",
       ": name: duplicate key"},
      {"missing_hal", R"({"name": "x", "devices": []})", ": hal: missing; expected \"sim\" or \"linux\""},
      {"bad_hal", R"({"name": "x", "hal": "esp32", "devices": []})",
       ": hal: expected \"sim\" or \"linux\", got \"esp32\""},
      {"missing_devices", R"({"name": "x", "hal": "sim"})", ": devices: missing; expected an array of devices"},
      {"devices_not_array", R"({"name": "x", "hal": "sim", "devices": {}})",
       ": devices: expected an array of devices, got an object"},
      {"too_many_devices", R"({"name": "x", "hal": "sim", "devices": [)" + too_many + "]}",
       ": devices: at most 32 devices, got 33"},
      {"bus_type", sim_board("", R"([{"name": "i2c0", "type": "spi"}])"),
       ": buses[0].type: expected \"i2c\" or \"gpio\", got \"spi\""},
      {"bus_unknown_key", sim_board("", R"([{"name": "i2c0", "type": "i2c", "speed": 400}])"),
       ": buses[0].speed: unknown key (expected one of: name type dev adapter chip lines)"},
      {"bus_duplicate", sim_board("", R"([{"name": "i2c0", "type": "i2c"}, {"name": "i2c0", "type": "gpio"}])"),
       ": buses[1].name: duplicate bus name \"i2c0\""},
      {"bus_dev_on_sim", sim_board("", R"([{"name": "i2c0", "type": "i2c", "dev": "/dev/i2c-1"}])"),
       ": buses[0].dev: only for i2c buses of \"hal\": \"linux\""},
      {"gpio_lines", sim_board("", R"([{"name": "gpio0", "type": "gpio", "lines": 0}])"),
       ": buses[0].lines: expected an integer from 1 to 1024, got 0"},
      {"linux_gpio_without_chip",
       R"({"name": "x", "hal": "linux", "buses": [{"name": "gpio0", "type": "gpio"}], "devices": []})",
       ": buses[0].chip: missing; expected a GPIO chip: its name (\"gpiochip0\"), path or label (at most 63 "
       "characters)"},
      {"linux_i2c_without_dev",
       R"({"name": "x", "hal": "linux", "buses": [{"name": "i2c1", "type": "i2c"}], "devices": []})",
       ": buses[0].dev: missing; expected the i2c-dev node, e.g. \"/dev/i2c-1\" (or \"adapter\": a bus number "
       "or the adapter's name)"},
      {"pin_not_integer",
       sim_board(kEnv + R"(, {"name": "relay0", "compatible": "xiot,gpio-output", "gpio": "gpio0", "pin": "x"})"),
       ": devices[1].pin: expected an integer from 0 to 1023, got \"x\""},
      {"pin_beyond_lines",
       sim_board(R"({"name": "relay0", "compatible": "xiot,gpio-output", "gpio": "gpio0", "pin": 64})",
                 R"([{"name": "gpio0", "type": "gpio", "lines": 64}])"),
       ": devices[0].pin: expected an integer from 0 to 63, got 64"},
      {"pin_taken",
       sim_board(kRelay + R"(, {"name": "led0", "compatible": "xiot,gpio-output", "gpio": "gpio0", "pin": 17})"),
       ": devices[1].pin: 17 on gpio0 is already used by relay0"},
      {"pin_without_gpio", sim_board(R"({"name": "relay0", "compatible": "xiot,gpio-output", "pin": 17})"),
       ": devices[0].gpio: missing; expected a GPIO controller name (needed with \"pin\")"},
      {"gpio_is_i2c",
       sim_board(R"({"name": "relay0", "compatible": "xiot,gpio-output", "gpio": "i2c0", "pin": 17})"),
       ": devices[0].gpio: \"i2c0\" is not a gpio controller"},
      {"active_low_without_pin",
       sim_board(R"({"name": "sys0", "compatible": "xiot,system-metrics", "active_low": true})"),
       ": devices[0].active_low: only meaningful with \"pin\" or \"line\""},
      {"active_low_not_bool",
       sim_board(R"({"name": "relay0", "compatible": "xiot,gpio-output", "gpio": "gpio0", "pin": 1, "active_low": 1})"),
       ": devices[0].active_low: expected true or false, got 1"},
      {"duplicate_device_name", sim_board(kEnv + ", " + kEnv),
       ": devices[1].name: duplicate device name (devices[0] is also \"env0\")"},
      {"bad_device_name", sim_board(R"({"name": "env 0", "compatible": "bosch,bme280"})"),
       ": devices[0].name: expected a name of letters, digits, '_' and '-' (at most 31, starting "
       "with a letter), got \"env 0\""},
      {"device_without_name", sim_board(R"({"compatible": "bosch,bme280"})"), ": devices[0].name: missing; expected a name of letters, digits, '_' and '-' (at most 31, "
       "starting with a letter)"},
      {"device_not_object", sim_board("42"), ": devices[0]: expected an object, got 42"},
      {"unknown_device_key",
       sim_board(R"({"name": "env0", "compatible": "bosch,bme280", "bus": "i2c0", "adress": 118})"),
       ": devices[0].adress: unknown key (did you mean \"address\"?)"},
      {"duplicate_device_key",
       sim_board(R"({"name": "env0", "compatible": "bosch,bme280", "bus": "i2c0", "bus": "i2c0", "address": 118})"),
       ": devices[0].bus: duplicate key"},
      {"missing_compatible", sim_board(R"({"name": "env0"})"),
       ": devices[0].compatible: missing; expected a \"vendor,part\" string"},
      {"bad_compatible", sim_board(R"({"name": "env0", "compatible": "bme280"})"),
       ": devices[0].compatible: expected a \"vendor,part\" string, got \"bme280\""},
      {"address_out_of_range",
       sim_board(R"({"name": "env0", "compatible": "bosch,bme280", "bus": "i2c0", "address": "0x80"})"),
       ": devices[0].address: expected an I2C address 0x08..0x77 (integer or \"0x..\" "
       "string), got \"0x80\""},
      {"address_not_hex",
       sim_board(R"({"name": "env0", "compatible": "bosch,bme280", "bus": "i2c0", "address": "118"})"),
       ": devices[0].address: expected an I2C address 0x08..0x77 (integer or \"0x..\" "
       "string), got \"118\""},
      {"address_taken",
       sim_board(kEnv + R"(, {"name": "env1", "compatible": "bosch,bme280", "bus": "i2c0", "address": "0x76"})"),
       ": devices[1].address: 0x76 on i2c0 is already used by env0"},
      {"address_without_bus", sim_board(R"({"name": "env0", "compatible": "bosch,bme280", "address": 118})"),
       ": devices[0].bus: missing; expected an I2C bus name (needed with \"address\")"},
      {"unknown_bus",
       sim_board(R"({"name": "env0", "compatible": "bosch,bme280", "bus": "i2c9", "address": 118})"),
       ": devices[0].bus: no bus named \"i2c9\" in \"buses\""},
      {"bus_is_gpio",
       sim_board(R"({"name": "env0", "compatible": "bosch,bme280", "bus": "gpio0", "address": 118})"),
       ": devices[0].bus: \"gpio0\" is not an i2c bus"},
      {"bus_without_address", sim_board(R"({"name": "env0", "compatible": "bosch,bme280", "bus": "i2c0"})"),
       ": devices[0].address: missing; expected an I2C address 0x08..0x77 (integer or \"0x..\" "
       "string)"},
      {"param_float",
       sim_board(R"({"name": "relay0", "compatible": "xiot,gpio-output", "gpio": "gpio0", "pin": 1, "params": {"initial": 0.5}})"),
       ": devices[0].params.initial: expected an integer, a string or a boolean, got 0.5"},
      {"params_not_object",
       sim_board(R"({"name": "sys0", "compatible": "xiot,system-metrics", "params": [1]})"),
       ": devices[0].params: expected an object, got an array"},
      {"param_duplicate",
       sim_board(R"({"name": "sys0", "compatible": "xiot,system-metrics", "params": {"a": 1, "a": 2}})"),
       ": devices[0].params.a: duplicate key"},
      {"sim_out_of_range",
       sim_board(R"({"name": "env0", "compatible": "bosch,bme280", "bus": "i2c0", "address": 118, "sim": {"temperature_c": 200}})"),
       ": devices[0].sim.temperature_c: expected a number from -40 to 85, got 200"},
      {"sim_unknown_key",
       sim_board(R"({"name": "env0", "compatible": "bosch,bme280", "bus": "i2c0", "address": 118, "sim": {"colour": "red"}})"),
       ": devices[0].sim.colour: unknown key (expected one of: present temperature_c humidity_pct "
       "pressure_pa chip_id)"},
      {"sim_present_not_bool",
       sim_board(R"({"name": "env0", "compatible": "bosch,bme280", "bus": "i2c0", "address": 118, "sim": {"present": "no"}})"),
       ": devices[0].sim.present: expected true or false, got \"no\""},
      {"sim_level",
       sim_board(R"({"name": "b0", "compatible": "xiot,gpio-input", "gpio": "gpio0", "pin": 2, "sim": {"level": 2}})"),
       ": devices[0].sim.level: expected 0, 1, true or false, got 2"},
      {"sim_key_for_modelless_device",
       sim_board(R"({"name": "sys0", "compatible": "xiot,system-metrics", "sim": {"present": false}})"),
       ": devices[0].sim.present: unknown key (none allowed here)"},
      {"sim_on_linux",
       R"({"name": "x", "hal": "linux", "devices": [{"name": "sys0", "compatible": "xiot,system-metrics", "sim": {}}]})",
       ": devices[0].sim: only allowed with \"hal\": \"sim\""},
  };
}

INSTANTIATE_TEST_SUITE_P(Table, BrokenBoard, ::testing::ValuesIn(broken_table()),
                         [](const ::testing::TestParamInfo<Broken>& i) { return std::string(i.param.what); });

TEST(BoardParse, MissingFile) {
  boards::BoardSpec spec;
  std::string error;
  EXPECT_FALSE(boards::parse_board("/nonexistent/board.json", &spec, &error));
  EXPECT_EQ(error, "/nonexistent/board.json: cannot read: No such file or directory");
}

// Every board file shipped in boards/<name>/board.json parses, names a
// driver for each device and has no duplicate device name: adding a board
// (docs/architecture.md) is data, and this is its first test.
TEST(BoardFiles, EveryShippedBoardParses) {
  const std::string dir = XIOT_BOARDS_DIR;
  DIR* d = opendir(dir.c_str());
  ASSERT_NE(d, nullptr) << dir;
  size_t boards_seen = 0;
  while (const dirent* e = readdir(d)) {
    if (e->d_name[0] == '.') continue;
    const std::string path = dir + "/" + e->d_name + "/board.json";
    if (access(path.c_str(), F_OK) != 0) continue;
    ++boards_seen;
    boards::BoardSpec spec;
    std::string error;
    EXPECT_TRUE(boards::parse_board(path.c_str(), &spec, &error)) << error;
    EXPECT_EQ(spec.name, e->d_name) << path << ": the board's name is its folder's";
    EXPECT_FALSE(spec.devices.empty()) << path;
    for (const boards::DeviceSpec& dev : spec.devices) {
      EXPECT_NE(drv::find_driver(dev.compatible.c_str()), nullptr) << path << ": " << dev.name << ": no driver for "
                                                                    << dev.compatible;
    }
  }
  closedir(d);
  EXPECT_GE(boards_seen, 2u);  // sim and linux-host at least
}

TEST(BoardParse, TheShippedSimBoardSpec) {
  boards::BoardSpec spec;
  std::string error;
  ASSERT_TRUE(boards::parse_board(kSimBoard.c_str(), &spec, &error)) << error;
  EXPECT_EQ(spec.hal, boards::HalKind::Sim);
  ASSERT_EQ(spec.buses.size(), 2u);
  ASSERT_EQ(spec.devices.size(), 11u);
  EXPECT_EQ(spec.sysfs, std::string(XIOT_BOARDS_DIR) + "/sim/sysfs");
  const boards::DeviceSpec& env = spec.devices[0];
  EXPECT_EQ(env.compatible, "bosch,bme280");
  EXPECT_EQ(env.bus, "i2c0");
  EXPECT_EQ(env.address.value_or(0), 0x76);
  EXPECT_DOUBLE_EQ(env.sim.get("temperature_c").value_or(0), 21.54);
  EXPECT_DOUBLE_EQ(env.sim.get("humidity_pct").value_or(0), 40.1);
  EXPECT_DOUBLE_EQ(env.sim.get("pressure_pa").value_or(0), 101325);
  const boards::DeviceSpec& relay = spec.devices[1];
  EXPECT_EQ(relay.pin.value_or(0), 17u);
  EXPECT_FALSE(relay.active_low);
  const boards::DeviceSpec& button = spec.devices[2];
  EXPECT_EQ(button.pin.value_or(0), 27u);
  EXPECT_TRUE(button.active_low);
  ASSERT_EQ(button.params.size(), 1u);
  EXPECT_EQ(button.params[0].key, "pull");
  EXPECT_EQ(button.params[0].text, "up");
  const char* const compatibles[] = {"sensirion,sht3x", "ti,ads1115", "rohm,bh1750", "xiot,system-metrics"};
  for (size_t i = 0; i < std::size(compatibles); ++i) EXPECT_EQ(spec.devices[3 + i].compatible, compatibles[i]);
  EXPECT_EQ(spec.devices[3].address.value_or(0), 0x44);
  EXPECT_EQ(spec.devices[4].address.value_or(0), 0x48);
  EXPECT_EQ(spec.devices[5].address.value_or(0), 0x23);
}

TEST(BoardParse, AddressFormsAndBooleanParams) {
  boards::BoardSpec spec;
  std::string error;
  const std::string text = sim_board(
      R"({"name": "a", "compatible": "bosch,bme280", "bus": "i2c0", "address": "0x77"},)"
      R"({"name": "b", "compatible": "bosch,bme280", "bus": "i2c0", "address": 118},)"
      R"({"name": "c", "compatible": "xiot,gpio-output", "gpio": "gpio0", "pin": 0, "params": {"initial": true}})");
  ASSERT_TRUE(boards::parse_board_text(text.c_str(), "mem", &spec, &error)) << error;
  EXPECT_EQ(spec.devices[0].address.value_or(0), 0x77);
  EXPECT_EQ(spec.devices[1].address.value_or(0), 0x76);
  EXPECT_EQ(spec.devices[2].params[0].number, 1);
  EXPECT_FALSE(spec.devices[2].params[0].is_text);
}

// ---------------------------------------------------------------------------
// Devices that fail are left out, never fatal

struct InitFailure {
  const char* what;
  std::string device_json;
  Err err;
  std::string text;
};

void PrintTo(const InitFailure& f, std::ostream* os) { *os << f.what; }

class BoardInitFailure : public ::testing::TestWithParam<InitFailure> {};

TEST_P(BoardInitFailure, DeviceIsLeftOutAndListed) {
  const InitFailure& f = GetParam();
  TempDir tmp;
  const std::string path = tmp.write(
      "board.json", sim_board(f.device_json + R"(, {"name": "sys0", "compatible": "xiot,system-metrics"})"));
  Clocks c;
  std::string error;
  auto board = boards::Board::open(path.c_str(), c.clock, c.clock, &error);
  ASSERT_NE(board, nullptr) << error;
  ASSERT_EQ(board->failed().size(), 1u);
  const boards::FailedDevice& fd = board->failed()[0];
  EXPECT_EQ(fd.name, "bad0");
  EXPECT_EQ(fd.err, f.err) << hal::err_name(fd.err);
  EXPECT_EQ(fd.text, f.text);
  ASSERT_EQ(board->registry().device_count(), 1u);
  EXPECT_STREQ(board->registry().device(0).name(), "sys0");
  EXPECT_EQ(board->registry().sample_all(), 0u);
}

INSTANTIATE_TEST_SUITE_P(
    Table, BoardInitFailure,
    ::testing::Values(
        InitFailure{"chip_absent",
                    R"({"name": "bad0", "compatible": "bosch,bme280", "bus": "i2c0", "address": "0x76", "sim": {"present": false}})",
                    Err::Nack, "init: no acknowledge"},
        InitFailure{"wrong_chip",
                    R"({"name": "bad0", "compatible": "bosch,bme280", "bus": "i2c0", "address": "0x76", "sim": {"chip_id": 88}})",
                    Err::BadChipId, "init: wrong chip id"},
        InitFailure{"unknown_compatible", R"({"name": "bad0", "compatible": "acme,widget"})", Err::NotFound,
                    "compatible: no driver for \"acme,widget\" (known: bosch,bme280, sensirion,sht3x, "
                    "rohm,bh1750, ti,ads1115, xiot,gpio-output, xiot,gpio-input, xiot,system-metrics, maxim,ds18b20, "
                    "linux,iio, linux,hwmon, linux,thermal-zone)"},
        InitFailure{"bad_param",
                    R"({"name": "bad0", "compatible": "xiot,gpio-input", "gpio": "gpio0", "pin": 3, "params": {"pull": "sideways"}})",
                    Err::InvalidArgument, "params.pull: expected \"up\", \"down\" or \"none\", got \"sideways\""},
        InitFailure{"unknown_param",
                    R"({"name": "bad0", "compatible": "bosch,bme280", "bus": "i2c0", "address": "0x76", "params": {"osrs": 2}})",
                    Err::InvalidArgument,
                    "params.osrs: unknown parameter (known: mode, osrs_t, osrs_p, osrs_h, filter, standby_ms, "
                    "soft_reset)"},
        InitFailure{"missing_resource", R"({"name": "bad0", "compatible": "bosch,bme280"})",
                    Err::InvalidArgument, "needs an I2C bus and address (\"bus\", \"address\")"}),
    [](const ::testing::TestParamInfo<InitFailure>& i) { return std::string(i.param.what); });

TEST(BoardInit, AbsentChipsModelIsStillReachableAndCanBePluggedIn) {
  TempDir tmp;
  const std::string path = tmp.write(
      "board.json",
      sim_board(R"({"name": "env0", "compatible": "bosch,bme280", "bus": "i2c0", "address": "0x76", "sim": {"present": false}})"));
  Clocks c;
  std::string error;
  auto board = boards::Board::open(path.c_str(), c.clock, c.clock, &error);
  ASSERT_NE(board, nullptr) << error;
  ASSERT_EQ(board->failed().size(), 1u);
  EXPECT_EQ(board->failed()[0].compatible, "bosch,bme280");
  drv::sim::Bme280Model* model = drv::sim::as_bme280(board->sim_model("env0"));
  ASSERT_NE(model, nullptr);
  EXPECT_EQ(board->sim_i2c("i2c0")->attach(0x76, model), Err::Ok);
}

TEST(BoardInit, SimLevelDrivesTheInputPin) {
  TempDir tmp;
  const std::string path = tmp.write(
      "board.json",
      sim_board(R"({"name": "door0", "compatible": "xiot,gpio-input", "gpio": "gpio0", "pin": 5, "sim": {"level": true}})"));
  Clocks c;
  std::string error;
  auto board = boards::Board::open(path.c_str(), c.clock, c.clock, &error);
  ASSERT_NE(board, nullptr) << error;
  ASSERT_EQ(board->registry().sample_all(), 0u);
  EXPECT_TRUE(read(board->registry(), "door0.state").flag);
}

TEST(BoardInit, LinuxBusThatCannotBeOpenedFailsOnlyItsDevices) {
  TempDir tmp;
  const std::string path = tmp.write("board.json", R"({
    "name": "pi", "hal": "linux",
    "buses": [{"name": "i2c1", "type": "i2c", "dev": "/dev/i2c-does-not-exist"}],
    "devices": [
      {"name": "env0", "compatible": "bosch,bme280", "bus": "i2c1", "address": "0x76"},
      {"name": "sys0", "compatible": "xiot,system-metrics"}
    ]})");
  Clocks c;
  std::string error;
  auto board = boards::Board::open(path.c_str(), c.clock, c.clock, &error);
  ASSERT_NE(board, nullptr) << error;
  ASSERT_EQ(board->failed().size(), 1u);
  EXPECT_EQ(board->failed()[0].err, Err::NotFound);
  EXPECT_EQ(board->failed()[0].text, "bus: i2c1 (/dev/i2c-does-not-exist): not found");
  EXPECT_EQ(board->registry().device_count(), 1u);
}

TEST(BoardCreate, FromASpecBuiltInCode) {
  boards::BoardSpec spec;
  spec.name = "code";
  spec.hal = boards::HalKind::Sim;
  boards::BusSpec gpio;
  gpio.name = "gpio0";
  gpio.type = boards::BusType::Gpio;
  gpio.lines = 8;
  spec.buses.push_back(gpio);
  boards::DeviceSpec led;
  led.name = "led0";
  led.compatible = "xiot,gpio-output";
  led.gpio = "gpio0";
  led.pin = 3;
  led.active_low = true;
  led.params.push_back(boards::ParamSpec{"initial", false, 1, ""});
  spec.devices.push_back(led);
  Clocks c;
  std::string error;
  auto board = boards::Board::create(spec, c.clock, c.clock, &error);
  ASSERT_NE(board, nullptr) << error;
  ASSERT_EQ(board->registry().device_count(), 1u);
  EXPECT_FALSE(board->sim_gpio()->level(3));  // on, active low
  EXPECT_TRUE(read(board->registry(), "led0.state").flag);
}

// ---------------------------------------------------------------------------
// The kernel's attribute tree ("sysfs"): kernel-backed drivers on a sim board
// over a fixture tree (boards/sim/sysfs), the key's parsing and resolution.

namespace {

const std::string kSimSysfs = std::string(XIOT_BOARDS_DIR) + "/sim/sysfs";

const std::string kKernelDevices =
    R"({"name": "iio0", "compatible": "linux,iio", "params": {"device": "bme280"}},
       {"name": "cpu0", "compatible": "linux,hwmon", "params": {"device": "coretemp"}},
       {"name": "zone0", "compatible": "linux,thermal-zone", "params": {"zone": "x86_pkg_temp"}},
       {"name": "probe0", "compatible": "maxim,ds18b20", "params": {"id": "28-0000075a2b1c"}})";

std::string sysfs_board(const std::string& sysfs, const std::string& devices) {
  return R"({"name": "t", "hal": "sim", "sysfs": ")" + sysfs + R"(", "devices": [)" + devices + "]}";
}

}  // namespace

TEST(BoardSysfs, KernelDevicesReadTheSimBoardsFixtureTree) {
  TempDir tmp;
  const std::string path = tmp.write("board.json", sysfs_board(kSimSysfs, kKernelDevices));
  Clocks c;
  std::string error;
  auto board = boards::Board::open(path.c_str(), c.clock, c.clock, &error);
  ASSERT_NE(board, nullptr) << error;
  for (const boards::FailedDevice& f : board->failed()) ADD_FAILURE() << f.name << ": " << f.text;
  drv::Registry& reg = board->registry();
  ASSERT_EQ(reg.device_count(), 4u);
  EXPECT_EQ(reg.sample_all(), 0u);
  const struct {
    const char* channel;
    int64_t mantissa;
    int exponent;
  } want[] = {{"iio0.temperature", 2426, -2},     {"iio0.humidity", 4721, -2},  {"iio0.pressure", 10014765625, -5},
              {"cpu0.package_id_0", 45, 0},       {"cpu0.core_0", 43, 0},       {"cpu0.core_1", 44, 0},
              {"zone0.temperature", 45000, -3},   {"probe0.temperature", 23125, -3}};
  for (const auto& w : want) {
    const drv::Value v = read(reg, w.channel);
    EXPECT_EQ(v.mantissa, w.mantissa) << w.channel;
    EXPECT_EQ(v.exponent, w.exponent) << w.channel;
  }
  EXPECT_EQ(reg.channel_count(), 8u);
}

TEST(BoardSysfs, RelativePathIsResolvedAgainstTheBoardFile) {
  boards::BoardSpec spec;
  std::string error;
  ASSERT_TRUE(boards::parse_board_text(sysfs_board("sysfs", "").c_str(), "boards/x/board.json", &spec, &error))
      << error;
  EXPECT_EQ(spec.sysfs, "boards/x/sysfs");
  ASSERT_TRUE(boards::parse_board_text(sysfs_board("/tmp/t/sys", "").c_str(), "board.json", &spec, &error));
  EXPECT_EQ(spec.sysfs, "/tmp/t/sys");
  ASSERT_TRUE(boards::parse_board_text(sysfs_board("../sys", "").c_str(), "board.json", &spec, &error));
  EXPECT_EQ(spec.sysfs, "./../sys");
  ASSERT_TRUE(boards::parse_board_text(R"({"name": "t", "hal": "sim", "devices": []})", "b.json", &spec, &error));
  EXPECT_EQ(spec.sysfs, "");
  EXPECT_FALSE(boards::parse_board_text(R"({"name": "t", "hal": "sim", "sysfs": 1, "devices": []})", "b.json", &spec,
                                        &error));
  EXPECT_EQ(error, "b.json: sysfs: expected a directory path (at most 200 characters), got 1");
  EXPECT_FALSE(boards::parse_board_text(R"({"name": "t", "hal": "sim", "sysfs": "", "devices": []})", "b.json", &spec,
                                        &error));
  EXPECT_EQ(error, "b.json: sysfs: expected a directory path (at most 200 characters), got \"\"");
}

TEST(BoardSysfs, MissingDevicesAreLeftOutNamingTheBoardEntry) {
  TempDir tmp;
  const std::string path = tmp.write(
      "board.json",
      sysfs_board(kSimSysfs, R"({"name": "iio1", "compatible": "linux,iio", "params": {"device": "bmp388"}},
                                {"name": "probe1", "compatible": "maxim,ds18b20", "params": {"id": "28-000000000bad"}},
                                {"name": "zone0", "compatible": "linux,thermal-zone", "params": {"zone": 0}})"));
  Clocks c;
  std::string error;
  auto board = boards::Board::open(path.c_str(), c.clock, c.clock, &error);
  ASSERT_NE(board, nullptr) << error;
  ASSERT_EQ(board->failed().size(), 2u);
  EXPECT_EQ(board->failed()[0].name, "iio1");
  EXPECT_EQ(board->failed()[0].err, Err::NotFound);
  EXPECT_EQ(board->failed()[0].text, "init: not found: no IIO device named \"bmp388\" in bus/iio/devices");
  EXPECT_EQ(board->failed()[1].name, "probe1");
  EXPECT_EQ(board->failed()[1].text,
            "init: not found: no 1-wire sensor 28-000000000bad in bus/w1/devices (w1_therm loaded? sensor wired?)");
  EXPECT_EQ(board->registry().device_count(), 1u);
}

TEST(BoardSysfs, SimBoardWithoutTheKeyHasNoTree) {
  TempDir tmp;
  const std::string path = tmp.write(
      "board.json", R"({"name": "t", "hal": "sim", "devices": [{"name": "zone0", "compatible": "linux,thermal-zone",
                                                              "params": {"zone": 0}}]})");
  Clocks c;
  std::string error;
  auto board = boards::Board::open(path.c_str(), c.clock, c.clock, &error);
  ASSERT_NE(board, nullptr) << error;
  ASSERT_EQ(board->failed().size(), 1u);
  EXPECT_EQ(board->failed()[0].err, Err::InvalidArgument);
  EXPECT_EQ(board->failed()[0].text,
            "needs the board's sysfs tree (\"hal\": \"linux\", or \"sysfs\" on a sim board)");
}

TEST(BoardSysfs, ADeviceThatGoesAwayFailsItsSampleOnly) {
  TempDir tmp;
  const std::string sys = tmp.path() + "/sys";
  std::filesystem::copy(kSimSysfs, sys, std::filesystem::copy_options::recursive);
  const std::string path = tmp.write("board.json", sysfs_board(sys, kKernelDevices));
  Clocks c;
  std::string error;
  auto board = boards::Board::open(path.c_str(), c.clock, c.clock, &error);
  ASSERT_NE(board, nullptr) << error;
  drv::Registry& reg = board->registry();
  ASSERT_EQ(reg.device_count(), 4u);
  ASSERT_EQ(reg.sample_all(), 0u);
  std::filesystem::remove_all(sys + "/bus/iio/devices/iio:device0");
  EXPECT_EQ(reg.sample_all(), 1u);
  EXPECT_EQ(reg.last_sample_error(0), Err::NotFound);
  EXPECT_EQ(reg.last_sample_error(1), Err::Ok);
  EXPECT_EQ(reg.last_sample_error(3), Err::Ok);
  std::filesystem::copy(kSimSysfs + "/bus/iio/devices/iio:device0", sys + "/bus/iio/devices/iio:device0");
  EXPECT_EQ(reg.sample_all(), 0u);  // back: read again, no re-init needed
}

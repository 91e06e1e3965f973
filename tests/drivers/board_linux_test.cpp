// Linux boards: GPIO controllers (chip by name or label, lines by offset or
// name) and I2C buses by path, number or adapter name; the board file's
// errors, and what a missing chip, a busy line or an absent bus does (the
// device is left out with a line naming the board entry, the board runs).
// The kernel is faked behind the seams of boards::LinuxHost.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <string>
#include <vector>

#include "bme280/bme280_model.hpp"
#include "boards/board.hpp"
#include "fake_gpio_chip.hpp"
#include "fake_i2c_kernel.hpp"
#include "hal/sim/manual_clock.hpp"
#include "sht3x/sht3x_model.hpp"
#include "test_tmpdir.hpp"

using hal::Err;
using xiot_test::FakeGpioChipScope;
using xiot_test::FakeGpioChipState;
using xiot_test::TempDir;

namespace {

std::string linux_board(const std::string& buses, const std::string& devices) {
  return R"({"name": "pi", "hal": "linux", "buses": [)" + buses + R"(], "devices": [)" + devices +
         R"(, {"name": "sys0", "compatible": "xiot,system-metrics"}]})";
}

const std::string kGpio = R"({"name": "gpio0", "type": "gpio", "chip": "9030000.pl061"})";
const std::string kRelay = R"({"name": "relay0", "compatible": "xiot,gpio-output", "gpio": "gpio0", "pin": 3})";
const std::string kButton =
    R"({"name": "button0", "compatible": "xiot,gpio-input", "gpio": "gpio0", "line": "BUTTON", "active_low": true,
        "params": {"pull": "up"}})";

bool exists(const char* path) {
  struct stat st {};
  return stat(path, &st) == 0;
}

struct LinuxBoard : ::testing::Test {
  hal::sim::ManualClock clock;
  FakeGpioChipState chip{8};
  FakeGpioChipScope scope{chip};
  boards::LinuxHost host;
  LinuxBoard() {
    chip.label = "9030000.pl061";
    chip.lines[6].name = "BUTTON";
    chip.lines[6].level = true;  // pulled up: released
    chip.lines[5].consumer = "sysfs";
    host.gpio_opener = &xiot_test::fake_gpio_open;
  }
  std::unique_ptr<boards::Board> build(const std::string& text) {
    boards::BoardSpec spec;
    std::string error;
    EXPECT_TRUE(boards::parse_board_text(text.c_str(), "b.json", &spec, &error)) << error;
    auto board = boards::Board::create(spec, clock, clock, &error, host);
    EXPECT_NE(board, nullptr) << error;
    return board;
  }
  static std::string failures(const boards::Board& b) {
    std::string s;
    for (const boards::FailedDevice& f : b.failed()) s += f.name + ": " + f.text + "\n";
    return s;
  }
};

TEST_F(LinuxBoard, GpioByChipLabelPinAndLineName) {
  auto board = build(linux_board(kGpio, kRelay + ", " + kButton));
  ASSERT_NE(board, nullptr);
  EXPECT_EQ(failures(*board), "");
  EXPECT_EQ(board->registry().device_count(), 3u);
  // The relay drives line 3 through the chip; the button watches line 6's edges.
  EXPECT_EQ(chip.lines[3].consumer, "xiot");
  EXPECT_EQ(chip.lines[3].last.kind, hal::linux_::GpioLineRequest::Kind::Output);
  auto relay = board->registry().find("relay0.state").value();
  ASSERT_EQ(relay.device->set(relay.index, drv::Value::boolean(true)), Err::Ok);
  EXPECT_TRUE(chip.lines[3].level);
  EXPECT_EQ(chip.lines[6].last.kind, hal::linux_::GpioLineRequest::Kind::BothEdges);
  EXPECT_EQ(chip.lines[6].last.bias, hal::PinMode::InputPullUp);
  // A press: the edge event, then the debounce window on the agent's clock.
  auto button = board->registry().find("button0.state").value();
  chip.lines[6].level = false;
  chip.lines[6].edges.push_back(hal::GpioEdge{false, clock.peek_mono().us * 1000});
  EXPECT_FALSE(button.device->poll_changes());
  clock.advance_ms(20);
  EXPECT_TRUE(button.device->poll_changes());
  ASSERT_EQ(button.device->sample(), Err::Ok);
  EXPECT_TRUE(button.device->get(0).value().flag);
}

TEST_F(LinuxBoard, AMissingChipFailsItsDevicesAndTheBoardRuns) {
  const std::string gpio = R"({"name": "gpio0", "type": "gpio", "chip": "gpiochip9"})";
  auto board = build(linux_board(gpio, kRelay + ", " + kButton));
  ASSERT_NE(board, nullptr);
  EXPECT_EQ(failures(*board),
            "relay0: gpio: gpio0 (chip \"gpiochip9\"): not found\n"
            "button0: gpio: gpio0 (chip \"gpiochip9\"): not found\n");
  EXPECT_EQ(board->failed()[0].err, Err::NotFound);
  EXPECT_EQ(board->failed()[0].compatible, "xiot,gpio-output");
  EXPECT_EQ(board->registry().device_count(), 1u);  // sys0
}

TEST_F(LinuxBoard, ABusyLineSaysWhoHoldsIt) {
  const std::string led = R"({"name": "led0", "compatible": "xiot,gpio-output", "gpio": "gpio0", "pin": 5})";
  auto board = build(linux_board(kGpio, led + ", " + kRelay));
  ASSERT_NE(board, nullptr);
  EXPECT_EQ(failures(*board), "led0: pin: 5 on gpio0 (gpiochip0): busy (used by \"sysfs\")\n");
  EXPECT_EQ(board->failed()[0].err, Err::Busy);
  EXPECT_EQ(board->registry().device_count(), 2u);
}

TEST_F(LinuxBoard, AMissingLineNameAndALineClaimedTwice) {
  const std::string ghost =
      R"({"name": "ghost0", "compatible": "xiot,gpio-input", "gpio": "gpio0", "line": "GPIO99"})";
  const std::string twin = R"({"name": "twin0", "compatible": "xiot,gpio-output", "gpio": "gpio0", "pin": 6})";
  auto board = build(linux_board(kGpio, ghost + ", " + kButton + ", " + twin));
  ASSERT_NE(board, nullptr);
  EXPECT_EQ(failures(*board),
            "ghost0: line: \"GPIO99\" on gpio0 (gpiochip0): not found\n"
            "twin0: pin: 6 on gpio0 (gpiochip0): busy\n");
}

TEST_F(LinuxBoard, TheRealLibgpiodOnAHostWithoutThatChip) {
  if (exists("/dev/gpiochip0")) GTEST_SKIP() << "this host has a gpiochip0";
  host.gpio_opener = nullptr;
  const std::string gpio = R"({"name": "gpio0", "type": "gpio", "chip": "gpiochip0"})";
  auto board = build(linux_board(gpio, kRelay));
  ASSERT_NE(board, nullptr);
  EXPECT_EQ(failures(*board), "relay0: gpio: gpio0 (chip \"gpiochip0\"): not found\n");
}

// --- I2C ---

const std::string kEnv = R"({"name": "env0", "compatible": "bosch,bme280", "bus": "i2c1", "address": "0x76"})";

TEST_F(LinuxBoard, AnAbsentI2cBusByNumberOrPath) {
  if (exists("/dev/i2c-7") || exists("/dev/i2c-8")) GTEST_SKIP() << "this host has I2C buses";
  auto board = build(linux_board(R"({"name": "i2c1", "type": "i2c", "adapter": 7},
                                    {"name": "i2c2", "type": "i2c", "dev": "/dev/i2c-8"})",
                                 kEnv + R"(, {"name": "env1", "compatible": "bosch,bme280", "bus": "i2c2",
                                              "address": "0x77"})"));
  ASSERT_NE(board, nullptr);
  EXPECT_EQ(failures(*board),
            "env0: bus: i2c1 (/dev/i2c-7): not found\n"
            "env1: bus: i2c2 (/dev/i2c-8): not found\n");
  EXPECT_EQ(board->registry().device_count(), 1u);
}

TEST_F(LinuxBoard, AnI2cAdapterByNameThroughSysfs) {
  TempDir sys;
  sys.write("bus/i2c/devices/i2c-0/name", "i915 gmbus dpb\n");
  sys.write("bus/i2c/devices/i2c-3/name", "SMBus stub driver\n");
  host.sys_root = sys.path().c_str();
  xiot_test::FakeI2cKernel kernel;  // i2c-stub: SMBus only
  kernel.node = "/dev/i2c-3";
  drv::sim::Bme280Model bme;
  bme.set_temperature_c(19.5);
  drv::sim::Sht3xModel sht;
  kernel.chips[0x76] = &bme;
  kernel.chips[0x44] = &sht;
  host.i2c_sys = &kernel;
  clock.set_auto_advance_us(100);
  const std::string bus = R"({"name": "i2c1", "type": "i2c", "adapter": "SMBus stub driver"})";
  const std::string rh = R"({"name": "rh0", "compatible": "sensirion,sht3x", "bus": "i2c1", "address": "0x44"})";
  auto board = build(linux_board(bus, kEnv + ", " + rh));
  ASSERT_NE(board, nullptr);
  ASSERT_EQ(board->failed().size(), 1u) << failures(*board);
  EXPECT_EQ(board->failed()[0].name, "rh0");
  EXPECT_EQ(board->failed()[0].err, Err::NotSupported);
  EXPECT_EQ(board->failed()[0].text.rfind("init: not supported (/dev/i2c-3 is SMBus-only: cannot ", 0), 0u)
      << board->failed()[0].text;
  ASSERT_EQ(board->registry().sample_all(), 0u);
  auto t = board->registry().find("env0.temperature").value();
  EXPECT_NEAR(static_cast<double>(t.device->get(t.index).value().mantissa), 1950, 2);
}

TEST_F(LinuxBoard, AnI2cAdapterNameNoAdapterHas) {
  TempDir sys;
  sys.write("bus/i2c/devices/i2c-0/name", "i915 gmbus dpb\n");
  host.sys_root = sys.path().c_str();
  auto board = build(linux_board(R"({"name": "i2c1", "type": "i2c", "adapter": "SMBus stub driver"})", kEnv));
  ASSERT_NE(board, nullptr);
  EXPECT_EQ(failures(*board), "env0: bus: i2c1 (adapter \"SMBus stub driver\"): not found\n");
  EXPECT_EQ(board->failed()[0].err, Err::NotFound);
}

// --- the board file ---

struct BadLinux {
  const char* what;
  std::string text;
  std::string error;
};
void PrintTo(const BadLinux& b, std::ostream* os) { *os << b.what; }
class LinuxBoardError : public ::testing::TestWithParam<BadLinux> {};

TEST_P(LinuxBoardError, ExactError) {
  boards::BoardSpec spec;
  std::string error;
  EXPECT_FALSE(boards::parse_board_text(GetParam().text.c_str(), "b.json", &spec, &error));
  EXPECT_EQ(error, "b.json" + GetParam().error);
}

std::string sim_board(const std::string& buses, const std::string& devices) {
  return R"({"name": "t", "hal": "sim", "buses": [)" + buses + R"(], "devices": [)" + devices + "]}";
}

std::vector<BadLinux> bad_linux() {
  const std::string gpio = R"({"name": "gpio0", "type": "gpio", "chip": "gpiochip0"})";
  return {
      {"chip_on_sim", sim_board(gpio, ""), ": buses[0].chip: only for gpio controllers of \"hal\": \"linux\""},
      {"chip_not_string", linux_board(R"({"name": "gpio0", "type": "gpio", "chip": 0})", kRelay),
       ": buses[0].chip: expected a GPIO chip: its name (\"gpiochip0\"), path or label (at most 63 characters), "
       "got 0"},
      {"chip_on_i2c", linux_board(R"({"name": "i2c1", "type": "i2c", "adapter": 1, "chip": "x"})", "{}"),
       ": buses[0].chip: only for gpio controllers of \"hal\": \"linux\""},
      {"line_on_sim",
       sim_board(R"({"name": "gpio0", "type": "gpio"})",
                 R"({"name": "b0", "compatible": "xiot,gpio-input", "gpio": "gpio0", "line": "GPIO17"})"),
       ": devices[0].line: only with \"hal\": \"linux\" (a sim board numbers its pins: \"pin\")"},
      {"pin_and_line",
       linux_board(gpio, R"({"name": "b0", "compatible": "xiot,gpio-input", "gpio": "gpio0", "pin": 1,
                             "line": "GPIO17"})"),
       ": devices[0].line: give either \"pin\" or \"line\", not both"},
      {"neither_pin_nor_line",
       linux_board(gpio, R"({"name": "b0", "compatible": "xiot,gpio-input", "gpio": "gpio0"})"),
       ": devices[0].pin: missing; expected a line offset (integer from 0 to 1023) or \"line\": the line's name"},
      {"line_without_gpio", linux_board(gpio, R"({"name": "b0", "compatible": "xiot,gpio-input", "line": "X"})"),
       ": devices[0].gpio: missing; expected a GPIO controller name (needed with \"line\")"},
      {"line_not_string",
       linux_board(gpio, R"({"name": "b0", "compatible": "xiot,gpio-input", "gpio": "gpio0", "line": 17})"),
       ": devices[0].line: expected a line name like \"GPIO17\" (at most 31 characters), got 17"},
      {"line_taken",
       linux_board(gpio, R"({"name": "b0", "compatible": "xiot,gpio-input", "gpio": "gpio0", "line": "GPIO17"},
                            {"name": "b1", "compatible": "xiot,gpio-input", "gpio": "gpio0", "line": "GPIO17"})"),
       ": devices[1].line: \"GPIO17\" on gpio0 is already used by b0"},
      {"dev_and_adapter", linux_board(R"({"name": "i2c1", "type": "i2c", "dev": "/dev/i2c-1", "adapter": 1})", "{}"),
       ": buses[0].adapter: give either \"dev\" or \"adapter\", not both"},
      {"adapter_negative", linux_board(R"({"name": "i2c1", "type": "i2c", "adapter": -1})", "{}"),
       ": buses[0].adapter: expected an I2C bus number (integer 0..1023) or the adapter's name (a string), got -1"},
      {"adapter_too_big", linux_board(R"({"name": "i2c1", "type": "i2c", "adapter": 1024})", "{}"),
       ": buses[0].adapter: expected an I2C bus number (integer 0..1023) or the adapter's name (a string), "
       "got 1024"},
      {"adapter_empty", linux_board(R"({"name": "i2c1", "type": "i2c", "adapter": ""})", "{}"),
       ": buses[0].adapter: expected an I2C bus number (integer 0..1023) or the adapter's name (a string), "
       "got \"\""},
      {"adapter_on_sim", sim_board(R"({"name": "i2c0", "type": "i2c", "adapter": 1})", ""),
       ": buses[0].adapter: only for i2c buses of \"hal\": \"linux\""},
      {"adapter_on_gpio", linux_board(R"({"name": "gpio0", "type": "gpio", "chip": "x", "adapter": 1})", "{}"),
       ": buses[0].adapter: only for i2c buses of \"hal\": \"linux\""},
  };
}

INSTANTIATE_TEST_SUITE_P(Table, LinuxBoardError, ::testing::ValuesIn(bad_linux()),
                         [](const ::testing::TestParamInfo<BadLinux>& i) { return std::string(i.param.what); });

TEST(LinuxBoardSpec, KeysLandInTheSpec) {
  boards::BoardSpec spec;
  std::string error;
  const std::string text = linux_board(
      R"({"name": "gpio0", "type": "gpio", "chip": "pinctrl-bcm2711"},
         {"name": "i2c1", "type": "i2c", "adapter": 1}, {"name": "i2c2", "type": "i2c", "adapter": "SMBus stub driver"})",
      R"({"name": "b0", "compatible": "xiot,gpio-input", "gpio": "gpio0", "line": "GPIO17", "active_low": true})");
  ASSERT_TRUE(boards::parse_board_text(text.c_str(), "b.json", &spec, &error)) << error;
  EXPECT_EQ(spec.buses[0].chip, "pinctrl-bcm2711");
  EXPECT_EQ(spec.buses[1].adapter_number.value_or(99), 1u);
  EXPECT_EQ(spec.buses[2].adapter_name, "SMBus stub driver");
  EXPECT_EQ(spec.devices[0].line, "GPIO17");
  EXPECT_FALSE(spec.devices[0].pin.has_value());
  EXPECT_TRUE(spec.devices[0].active_low);
}

}  // namespace

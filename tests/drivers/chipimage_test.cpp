// xiot-chipimage (tools/chipimage): the printed register image, loaded into
// an in-test i2c-stub (the kernel's register file, same semantics) behind
// hal::sim::SimI2cBus, read by the project's own drivers, gives back the
// physical values within the chip's resolution; the lines' format and byte
// order; every bad input's exit code and message.
#include <gtest/gtest.h>

#include "device_config.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "ads1115/ads1115_model.hpp"
#include "bme280/bme280_model.hpp"
#include "chipimage.hpp"
#include "drv/device.hpp"
#include "drv/driver_table.hpp"
#include "hal/sim/manual_clock.hpp"
#include "hal/sim/sim_i2c_bus.hpp"

using hal::Err;

namespace {

/// The kernel's i2c-stub (drivers/i2c/i2c-stub.c) as a register file: 256
/// 16-bit words; byte accesses use the low byte. How a driver's plain I2C
/// transfers reach it is what xiot's Linux I2C backend does on an SMBus-only
/// adapter: in Bytes mode a register read/write is an SMBus I2C-block
/// transfer (auto-increment over the low bytes); in Words mode a 2-byte
/// register read/write is SMBus READ/WRITE WORD DATA, whose word goes on the
/// wire low byte first.
class I2cStub final : public hal::sim::I2cTarget {
 public:
  enum class Mode { Bytes, Words };
  explicit I2cStub(Mode mode) : mode_(mode) {}

  /// Applies one "0xRR 0xVV b" / "0xRR 0xVVVV w" line as i2cset does.
  void load(const std::string& image) {
    std::istringstream in(image);
    std::string line;
    while (std::getline(in, line)) {
      unsigned reg = 0, value = 0;
      char mode = 0;
      ASSERT_EQ(std::sscanf(line.c_str(), "0x%x 0x%x %c", &reg, &value, &mode), 3) << line;
      ASSERT_LT(reg, 256u) << line;
      if (mode == 'b') {
        ASSERT_LT(value, 256u) << line;
        words_[reg] = static_cast<uint16_t>((words_[reg] & 0xFF00) | value);
      } else {
        ASSERT_EQ(mode, 'w') << line;
        ASSERT_LT(value, 65536u) << line;
        words_[reg] = static_cast<uint16_t>(value);
      }
    }
  }
  uint16_t word(uint8_t reg) const { return words_[reg]; }

  Err on_transfer(const uint8_t* tx, size_t tx_len, uint8_t* rx, size_t rx_len) override {
    if (tx_len == 0) return Err::InvalidArgument;  // no register: not an SMBus register access
    const uint8_t reg = tx[0];
    if (mode_ == Mode::Words) {
      if (tx_len == 3 && rx_len == 0) {  // WRITE WORD DATA: low byte first
        words_[reg] = static_cast<uint16_t>(tx[1] | (tx[2] << 8));
        return Err::Ok;
      }
      if (tx_len == 1 && rx_len == 2) {  // READ WORD DATA
        rx[0] = static_cast<uint8_t>(words_[reg] & 0xFF);
        rx[1] = static_cast<uint8_t>(words_[reg] >> 8);
        return Err::Ok;
      }
      return Err::InvalidArgument;
    }
    for (size_t i = 1; i < tx_len && reg + i - 1 < 256; ++i) {  // I2C BLOCK WRITE
      words_[reg + i - 1] = static_cast<uint16_t>((words_[reg + i - 1] & 0xFF00) | tx[i]);
    }
    for (size_t i = 0; i < rx_len; ++i) {  // I2C BLOCK READ
      rx[i] = reg + i < 256 ? static_cast<uint8_t>(words_[reg + i] & 0xFF) : 0;
    }
    return Err::Ok;
  }

 private:
  Mode mode_;
  uint16_t words_[256] = {};
};

std::string image(const char* compatible, const std::string& sim, chipimage::Options options = {}) {
  std::vector<chipimage::Line> lines;
  std::string error;
  EXPECT_EQ(chipimage::make_image(compatible, sim, options, &lines, &error), 0) << error;
  return chipimage::format(lines);
}

/// The image on an i2c-stub at `address`, read by the project's driver for
/// `compatible` (made by the driver table, as a board makes it).
struct Rig {
  hal::sim::ManualClock clock;
  hal::sim::SimI2cBus bus;
  I2cStub stub;
  std::unique_ptr<drv::Device> dev;

  Rig(const char* compatible, uint16_t address, I2cStub::Mode mode, const std::string& text,
      std::vector<std::pair<const char*, int64_t>> params = {})
      : stub(mode) {
    stub.load(text);
    EXPECT_EQ(bus.attach(address, &stub), Err::Ok);
    drv::DeviceConfig config;
    config.name = "chip0";
    config.compatible = compatible;
    config.i2c = &bus;
    config.i2c_address = address;
    config.clock = &clock;
    for (const auto& p : params) xiot_test::add_param(&config, p.first, p.second);
    drv::DriverError error;
    const drv::DriverEntry* entry = drv::find_driver(compatible);
    EXPECT_NE(entry, nullptr);
    if (entry != nullptr) dev = entry->create(config, &error);
    EXPECT_NE(dev, nullptr) << error.text;
  }
  /// init() and one sample(); false (with a test failure) on an error.
  bool measure() {
    if (dev == nullptr) return false;
    const Err init = dev->init();
    EXPECT_EQ(init, Err::Ok) << hal::err_name(init);
    const Err sample = init == Err::Ok ? dev->sample() : init;
    EXPECT_EQ(sample, Err::Ok) << hal::err_name(sample);
    return sample == Err::Ok;
  }
  double value(size_t channel) {
    hal::Result<drv::Value> v = dev->get(channel);
    EXPECT_TRUE(v.ok());
    return v.ok() ? static_cast<double>(v.value().mantissa) * std::pow(10.0, v.value().exponent) : NAN;
  }
};

// ---- bosch,bme280 ---------------------------------------------------------------

struct Bme280Vector {
  double t_c, h_pct, p_pa;
};

// The part's operating corners and ordinary weather (datasheet table 1-3).
const Bme280Vector kBme280Vectors[] = {
    {21.37, 43.2, 98765.4}, {-40.0, 0.0, 30000.0}, {85.0, 100.0, 110000.0},
    {0.0, 50.0, 101325.0},  {-12.34, 87.6, 70000.0}, {55.55, 5.5, 105000.0},
};

std::string bme280_sim(const Bme280Vector& v) {
  char buf[160];
  std::snprintf(buf, sizeof buf, "{\"temperature_c\": %.2f, \"humidity_pct\": %.2f, \"pressure_pa\": %.1f}", v.t_c,
                v.h_pct, v.p_pa);
  return buf;
}

TEST(ChipImage, Bme280ImageGivesThePhysicalValuesToTheDriverInBothModes) {
  for (const char* mode : {"normal", "forced"}) {
    for (const Bme280Vector& v : kBme280Vectors) {
      SCOPED_TRACE(std::string(mode) + " " + bme280_sim(v));
      Rig rig("bosch,bme280", 0x76, I2cStub::Mode::Bytes, image("bosch,bme280", bme280_sim(v)));
      if (std::string(mode) == "forced") {
        // The factory takes text for "mode"; rebuild with it.
        drv::DeviceConfig config;
        config.name = "chip0";
        config.compatible = "bosch,bme280";
        config.i2c = &rig.bus;
        config.i2c_address = 0x76;
        config.clock = &rig.clock;
        xiot_test::add_text(&config, "mode", "forced");
        drv::DriverError error;
        rig.dev = drv::find_driver("bosch,bme280")->create(config, &error);
        ASSERT_NE(rig.dev, nullptr) << error.text;
      }
      ASSERT_TRUE(rig.measure());
      // The driver's resolution: 0.01 °C, 0.1 %RH, 1 Pa (bme280.hpp), each
      // plus half a step of the model's raw-value search.
      EXPECT_NEAR(rig.value(0), v.t_c, 0.011);
      EXPECT_NEAR(rig.value(1), v.h_pct, 0.11);
      EXPECT_NEAR(rig.value(2), v.p_pa, 1.01);
    }
  }
}

TEST(ChipImage, Bme280ImageIsTheModelsRegistersAfterAForcedConversion) {
  const std::string text = image("bosch,bme280", "{\"temperature_c\": 30, \"pressure_pa\": 95000}");
  // Calibration 0x88..0xA1 (26), id, reset, 0xE1..0xE7 (7), 0xF2..0xF5 (4), data (8).
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 26 + 1 + 1 + 7 + 4 + 8);
  EXPECT_NE(text.find("0xd0 0x60 b\n"), std::string::npos) << text;
  EXPECT_NE(text.find("0xf3 0x00 b\n"), std::string::npos) << "status: not measuring, no NVM copy\n" << text;
  // Back in sleep mode after the forced x1/x1 conversion; ctrl_hum x1.
  EXPECT_NE(text.find("0xf4 0x24 b\n"), std::string::npos) << text;
  EXPECT_NE(text.find("0xf2 0x01 b\n"), std::string::npos) << text;

  // Every byte equals the model's own register after the same conversion.
  drv::sim::Bme280Model model;
  model.set_temperature_c(30);
  model.set_pressure_pa(95000);
  hal::sim::SimI2cBus bus;
  ASSERT_EQ(bus.attach(0x76, &model), Err::Ok);
  const uint8_t hum[] = {0xF2, 0x01}, meas[] = {0xF4, 0x25}, status = 0xF3;
  ASSERT_EQ(bus.transfer(0x76, hum, 2, nullptr, 0, 10), Err::Ok);
  ASSERT_EQ(bus.transfer(0x76, meas, 2, nullptr, 0, 10), Err::Ok);
  uint8_t s = 0xFF;
  for (int i = 0; i < 10 && s != 0; ++i) ASSERT_EQ(bus.transfer(0x76, &status, 1, &s, 1, 10), Err::Ok);
  std::istringstream in(text);
  unsigned reg = 0, value = 0;
  char mode = 0;
  std::string line;
  while (std::getline(in, line)) {
    ASSERT_EQ(std::sscanf(line.c_str(), "0x%x 0x%x %c", &reg, &value, &mode), 3);
    EXPECT_EQ(value, model.reg(static_cast<uint8_t>(reg))) << line;
  }
}

TEST(ChipImage, Bme280ChipIdFromTheSimObjectIsWhatTheDriverRejects) {
  Rig rig("bosch,bme280", 0x76, I2cStub::Mode::Bytes, image("bosch,bme280", "{\"chip_id\": 88}"));
  EXPECT_NE(image("bosch,bme280", "{\"chip_id\": 88}").find("0xd0 0x58 b\n"), std::string::npos);
  ASSERT_NE(rig.dev, nullptr);
  EXPECT_EQ(rig.dev->init(), Err::BadChipId);
}

// ---- ti,ads1115 ---------------------------------------------------------------

TEST(ChipImage, Ads1115WordsAreByteSwappedForSmbusWordReads) {
  // 1.0 V at ±2.048 V: code 16000 = 0x3E80 (SBAS444 §9.5.4); config as the
  // conversion left it: OS=1 MUX=100 PGA=010 MODE=1 DR=100 COMP_QUE=11 = 0xC583.
  EXPECT_EQ(image("ti,ads1115", "{\"ain0_v\": 1.0}"),
            "0x00 0x803e w\n"
            "0x01 0x83c5 w\n"
            "0x02 0x0080 w\n"
            "0x03 0xff7f w\n");
  // A negative input on AIN3 at ±4.096 V: -0.25 V = -2000 = 0xF830.
  chipimage::Options o;
  o.input = 3;
  o.pga_mv = 4096;
  EXPECT_EQ(image("ti,ads1115", "{\"ain3_v\": -0.25}", o).substr(0, 28), "0x00 0x30f8 w\n0x01 0x83f3 w\n");
}

TEST(ChipImage, Ads1115ImageGivesTheInputVoltageToTheDriverOnEveryInput) {
  struct Case {
    double volts;
    int input;
    int pga_mv;
  };
  const Case cases[] = {{1.234567, 0, 2048}, {0.0, 0, 2048}, {-0.2, 1, 256}, {3.3, 2, 4096},
                        {5.5, 3, 6144},      {2.1, 0, 2048} /* clipped at +FSR */};
  for (const Case& c : cases) {
    char sim[64];
    std::snprintf(sim, sizeof sim, "{\"ain%d_v\": %.6f}", c.input, c.volts);
    SCOPED_TRACE(std::string(sim) + " pga " + std::to_string(c.pga_mv));
    chipimage::Options o;
    o.input = c.input;
    o.pga_mv = c.pga_mv;
    Rig rig("ti,ads1115", 0x48, I2cStub::Mode::Words, image("ti,ads1115", sim, o), {{"pga", c.pga_mv}});
    ASSERT_TRUE(rig.measure());
    const double fsr = c.pga_mv / 1000.0;
    const double lsb = fsr / 32768;
    const double expected = std::fmin(c.volts, fsr - lsb);
    // i2c-stub has one conversion register and no conversion logic: every
    // input reads the image's one code.
    for (size_t ch = 0; ch < drv::ads1115::kInputCount; ++ch) {
      EXPECT_NEAR(rig.value(ch), expected, lsb / 2 + 1e-6) << "ain" << ch;
    }
  }
}

// ---- bad input ----------------------------------------------------------------

struct BadCase {
  const char* compatible;
  const char* sim;
  int input;
  int pga_mv;
  const char* message;
};

TEST(ChipImage, BadInputExitsTwoWithOneClearLine) {
  const BadCase cases[] = {
      {"acme,widget", "{}", -1, -1, "unknown compatible \"acme,widget\"; expected one of: bosch,bme280, ti,ads1115"},
      {"sensirion,sht3x", "{}", -1, -1,
       "unknown compatible \"sensirion,sht3x\" (it has a model, but no register image an i2c-stub can hold)"},
      {"bosch,bme280", "{\"temperature_c\": 200}", -1, -1,
       "sim: temperature_c: expected a number from -40 to 85, got 200"},
      {"bosch,bme280", "{\"temperature_c\": ", -1, -1, "sim:1:19: malformed JSON"},
      {"bosch,bme280", "{\"temprature_c\": 20}", -1, -1, "sim: temprature_c: unknown key"},
      {"bosch,bme280", "[]", -1, -1, "sim: expected a JSON object at the top level, got an array"},
      {"bosch,bme280", "{\"present\": false}", -1, -1, "sim: present: false"},
      {"bosch,bme280", "{}", 1, -1, "--input and --pga apply to ti,ads1115 only"},
      {"ti,ads1115", "{\"ain0_v\": 6}", -1, -1, "sim: ain0_v: expected a number from -0.3 to 5.5, got 6"},
      {"ti,ads1115", "{}", 4, -1, "--input: expected 0 to 3, got 4"},
      {"ti,ads1115", "{}", -1, 3000, "--pga: expected 6144, 4096, 2048, 1024, 512 or 256, got 3000"},
  };
  for (const BadCase& c : cases) {
    SCOPED_TRACE(std::string(c.compatible) + " " + c.sim);
    chipimage::Options o;
    o.input = c.input;
    o.pga_mv = c.pga_mv;
    std::vector<chipimage::Line> lines;
    std::string error;
    EXPECT_EQ(chipimage::make_image(c.compatible, c.sim, o, &lines, &error), chipimage::kExitBadInput);
    EXPECT_NE(error.find(c.message), std::string::npos) << error;
    EXPECT_EQ(error.find('\n'), std::string::npos) << error;
    EXPECT_TRUE(lines.empty());
  }
}

}  // namespace

// The compatible -> factory table, DeviceConfig helpers, RegIo.
#include <gtest/gtest.h>

#include <cstring>
#include <set>
#include <string>

#include "bme280/bme280_model.hpp"
#include "drv/driver_table.hpp"
#include "drv/reg_io.hpp"
#include "hal/sim/manual_clock.hpp"
#include "hal/sim/sim_gpio.hpp"
#include "hal/sim/sim_i2c_bus.hpp"
#include "hal/sim/sim_system_info.hpp"

using hal::Err;

TEST(DriverTable, ListsEveryDriverOnce) {
  std::set<std::string> seen;
  for (size_t i = 0; i < drv::kDriverCount; ++i) {
    EXPECT_TRUE(seen.insert(drv::kDrivers[i].compatible).second) << drv::kDrivers[i].compatible;
    EXPECT_NE(drv::kDrivers[i].create, nullptr);
    EXPECT_NE(std::strlen(drv::kDrivers[i].summary), 0u);
  }
  EXPECT_EQ(seen, (std::set<std::string>{"bosch,bme280", "xiot,gpio-output", "xiot,gpio-input",
                                         "xiot,system-metrics"}));
}

TEST(DriverTable, FindDriver) {
  const drv::DriverEntry* e = drv::find_driver("bosch,bme280");
  ASSERT_NE(e, nullptr);
  EXPECT_STREQ(e->compatible, "bosch,bme280");
  EXPECT_EQ(drv::find_driver("bosch,bme680"), nullptr);
  EXPECT_EQ(drv::find_driver("BOSCH,BME280"), nullptr);
  EXPECT_EQ(drv::find_driver(""), nullptr);
  EXPECT_EQ(drv::find_driver(nullptr), nullptr);
}

TEST(DriverTable, EveryFactoryBuildsAWorkingDeviceFromResources) {
  hal::sim::ManualClock clock;
  hal::sim::SimI2cBus bus;
  drv::sim::Bme280Model model;
  ASSERT_EQ(bus.attach(0x77, &model), Err::Ok);
  hal::sim::SimGpio gpio;
  hal::sim::SimSystemInfo info(clock);
  uint32_t next_pin = 0;
  for (size_t i = 0; i < drv::kDriverCount; ++i) {
    const drv::DriverEntry& e = drv::kDrivers[i];
    drv::DeviceConfig c;
    c.name = "dev";
    c.compatible = e.compatible;
    c.i2c = &bus;
    c.i2c_address = 0x77;
    c.pin = gpio.claim(next_pin++).value();
    c.system_info = &info;
    c.clock = &clock;
    drv::DriverError err;
    auto dev = e.create(c, &err);
    ASSERT_NE(dev, nullptr) << e.compatible << ": " << err.text;
    EXPECT_STREQ(dev->compatible(), e.compatible);
    EXPECT_STREQ(dev->name(), "dev");
    EXPECT_GT(dev->channel_count(), 0u);
    EXPECT_EQ(dev->init(), Err::Ok) << e.compatible;
    EXPECT_EQ(dev->sample(), Err::Ok) << e.compatible;
    for (size_t ch = 0; ch < dev->channel_count(); ++ch) EXPECT_TRUE(dev->get(ch).ok()) << e.compatible;
  }
}

TEST(DeviceConfig, FindParam) {
  drv::DeviceConfig c;
  c.params[0] = drv::Param{"a", false, 1, nullptr};
  c.params[1] = drv::Param{"b", true, 0, "x"};
  c.param_count = 2;
  ASSERT_NE(c.find_param("b"), nullptr);
  EXPECT_STREQ(c.find_param("b")->text, "x");
  EXPECT_EQ(c.find_param("c"), nullptr);
  EXPECT_EQ(c.find_param(nullptr), nullptr);
}

TEST(DeviceConfig, ParamHelpers) {
  drv::DeviceConfig c;
  c.params[0] = drv::Param{"n", false, 7, nullptr};
  c.params[1] = drv::Param{"s", true, 0, "b"};
  c.param_count = 2;
  drv::DriverError err;
  int64_t n = 0;
  EXPECT_TRUE(drv::param_int(c, "n", 0, 10, 3, &n, &err));
  EXPECT_EQ(n, 7);
  EXPECT_TRUE(drv::param_int(c, "missing", 0, 10, 3, &n, &err));
  EXPECT_EQ(n, 3);
  EXPECT_FALSE(drv::param_int(c, "n", 0, 5, 3, &n, &err));
  EXPECT_STREQ(err.text, "params.n: expected an integer 0..5, got 7");
  static const char* const kChoices[] = {"a", "b"};
  size_t idx = 9;
  EXPECT_TRUE(drv::param_choice(c, "s", kChoices, 2, 0, &idx, &err));
  EXPECT_EQ(idx, 1u);
  EXPECT_FALSE(drv::param_choice(c, "n", kChoices, 2, 0, &idx, &err));
  EXPECT_STREQ(err.text, "params.n: expected \"a\" or \"b\", got 7");
  static const char* const kKeys[] = {"n"};
  EXPECT_FALSE(drv::check_param_keys(c, kKeys, 1, &err));
  EXPECT_STREQ(err.text, "params.s: unknown parameter (known: n)");
}

namespace {
class Recorder : public hal::sim::I2cTarget {
 public:
  Err on_transfer(const uint8_t* tx, size_t tx_len, uint8_t* rx, size_t rx_len) override {
    last_tx.assign(tx, tx + tx_len);
    last_rx_len = rx_len;
    for (size_t i = 0; i < rx_len; ++i) rx[i] = static_cast<uint8_t>(i + 1);
    return Err::Ok;
  }
  std::vector<uint8_t> last_tx;
  size_t last_rx_len = 0;
};
}  // namespace

TEST(RegIo, ReadsAndWritesRegistersWithATimeout) {
  hal::sim::SimI2cBus bus;
  Recorder chip;
  ASSERT_EQ(bus.attach(0x40, &chip), Err::Ok);
  drv::RegIo io(bus, 0x40, 7);
  uint8_t buf[3] = {};
  ASSERT_EQ(io.read_regs(0x10, buf, 3), Err::Ok);
  EXPECT_EQ(chip.last_tx, std::vector<uint8_t>{0x10});
  EXPECT_EQ(chip.last_rx_len, 3u);
  EXPECT_EQ(buf[2], 3);
  EXPECT_EQ(bus.last_timeout_ms(), 7u);
  ASSERT_EQ(io.write_reg(0x20, 0xAB), Err::Ok);
  EXPECT_EQ(chip.last_tx, (std::vector<uint8_t>{0x20, 0xAB}));
  EXPECT_EQ(chip.last_rx_len, 0u);
  EXPECT_EQ(io.read_reg(0x30).value(), 1);
  EXPECT_EQ(io.read_regs(0x10, buf, 0), Err::InvalidArgument);
  EXPECT_EQ(io.read_regs(0x10, nullptr, 1), Err::InvalidArgument);
}

TEST(RegIo, UnboundAndZeroTimeout) {
  drv::RegIo unbound;
  uint8_t b = 0;
  EXPECT_EQ(unbound.read_regs(0, &b, 1), Err::NotReady);
  EXPECT_EQ(unbound.write_reg(0, 1), Err::NotReady);
  hal::sim::SimI2cBus bus;
  drv::RegIo io(bus, 0x40, 0);  // 0 means "use the default", never "no timeout"
  EXPECT_EQ(io.timeout_ms(), drv::RegIo::kDefaultTimeoutMs);
  EXPECT_EQ(io.read_regs(0, &b, 1), Err::Nack);
}

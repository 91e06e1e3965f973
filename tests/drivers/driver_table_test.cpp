// The compatible -> factory table, DeviceConfig helpers, RegIo.
#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <set>
#include <string>

#include "bme280/bme280_model.hpp"
#include "drv/driver_table.hpp"
#include "drv/model_table.hpp"
#include "drv/reg_io.hpp"
#include "hal/linux/linux_sysfs_tree.hpp"
#include "hal/sim/manual_clock.hpp"
#include "hal/sim/sim_gpio.hpp"
#include "hal/sim/sim_i2c_bus.hpp"
#include "hal/sim/sim_system_info.hpp"
#include "json/reader.hpp"

using hal::Err;

TEST(DriverTable, ListsEveryDriverOnce) {
  std::set<std::string> seen;
  for (size_t i = 0; i < drv::kDriverCount; ++i) {
    EXPECT_TRUE(seen.insert(drv::kDrivers[i].compatible).second) << drv::kDrivers[i].compatible;
    EXPECT_NE(drv::kDrivers[i].create, nullptr);
    EXPECT_NE(std::strlen(drv::kDrivers[i].summary), 0u);
  }
  EXPECT_EQ(seen, (std::set<std::string>{"bosch,bme280", "sensirion,sht3x", "rohm,bh1750", "ti,ads1115", "xiot,gpio-output",
                                         "xiot,gpio-input", "xiot,system-metrics", "maxim,ds18b20", "linux,iio",
                                         "linux,hwmon", "linux,thermal-zone"}));
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

TEST(ModelTable, EveryModelIsADriverAndListedOnce) {
  std::set<std::string> seen;
  for (size_t i = 0; i < drv::sim::kModelCount; ++i) {
    const drv::sim::ModelEntry& m = drv::sim::kModels[i];
    EXPECT_TRUE(seen.insert(m.compatible).second) << m.compatible;
    EXPECT_NE(drv::find_driver(m.compatible), nullptr) << m.compatible << " has a model but no driver";
    EXPECT_NE(m.parse_sim, nullptr);
    EXPECT_NE(m.create, nullptr);
    EXPECT_NE(std::strlen(m.summary), 0u);
  }
  EXPECT_EQ(drv::sim::find_model("bosch,bme280"), &drv::sim::kModels[0]);
  EXPECT_EQ(drv::sim::find_model("xiot,system-metrics"), nullptr);
  EXPECT_EQ(drv::sim::find_model(nullptr), nullptr);
}

/// Parses `sim_json` (the "sim" object) with `compatible`'s model row.
std::string parse_sim(const char* compatible, const std::string& sim_json, drv::sim::SimParams* out) {
  const std::string text = "{\"sim\": " + sim_json + "}";
  json::Reader r("b.json");
  EXPECT_TRUE(r.parse(text.data(), text.size()));
  const drv::sim::ModelEntry* m = drv::sim::find_model(compatible);
  EXPECT_NE(m, nullptr);
  if (m != nullptr) (void)m->parse_sim(r.root()["sim"], out);
  return r.error();
}

TEST(ModelTable, Bme280RowParsesItsSimKeysAndAttachesTheModel) {
  drv::sim::SimParams p;
  EXPECT_EQ(parse_sim("bosch,bme280", R"({"temperature_c": 21.5, "chip_id": 88, "present": false})", &p), "");
  EXPECT_DOUBLE_EQ(p.get("temperature_c").value_or(0), 21.5);
  EXPECT_DOUBLE_EQ(p.get("chip_id").value_or(0), 88);
  EXPECT_DOUBLE_EQ(p.get("present").value_or(1), 0);
  EXPECT_FALSE(p.get("humidity_pct"));

  drv::sim::SimParams bad;
  EXPECT_EQ(parse_sim("bosch,bme280", R"({"humidity_pct": 101})", &bad),
            "b.json: sim.humidity_pct: expected a number from 0 to 100, got 101");
  EXPECT_EQ(parse_sim("bosch,bme280", R"({"temperatur_c": 1})", &bad),
            "b.json: sim.temperatur_c: unknown key (did you mean \"temperature_c\"?)");

  // present: false -> the model exists but nothing answers at the address.
  hal::sim::SimI2cBus bus;
  drv::sim::ModelSite site;
  site.i2c = &bus;
  site.address = 0x76;
  std::unique_ptr<drv::sim::Model> model;
  ASSERT_EQ(drv::sim::find_model("bosch,bme280")->create(p, site, &model), Err::Ok);
  drv::sim::Bme280Model* bme = drv::sim::as_bme280(model.get());
  ASSERT_NE(bme, nullptr);
  EXPECT_DOUBLE_EQ(bme->temperature_c(), 21.5);
  const uint8_t kIdReg = 0xD0;
  uint8_t id = 0;
  EXPECT_EQ(bus.transfer(0x76, &kIdReg, 1, &id, 1, 100), Err::Nack);

  drv::sim::SimParams present;
  std::unique_ptr<drv::sim::Model> attached;
  ASSERT_EQ(drv::sim::find_model("bosch,bme280")->create(present, site, &attached), Err::Ok);
  EXPECT_EQ(bus.transfer(0x76, &kIdReg, 1, &id, 1, 100), Err::Ok);
  EXPECT_EQ(id, 0x60);
}

TEST(ModelTable, GpioInputRowDrivesTheLevel) {
  drv::sim::SimParams p;
  EXPECT_EQ(parse_sim("xiot,gpio-input", R"({"level": true})", &p), "");
  EXPECT_DOUBLE_EQ(p.get("level").value_or(0), 1);
  drv::sim::SimParams bad;
  EXPECT_EQ(parse_sim("xiot,gpio-input", R"({"level": 2})", &bad),
            "b.json: sim.level: expected 0, 1, true or false, got 2");

  hal::sim::SimGpio gpio(8);
  drv::sim::ModelSite site;
  site.gpio = &gpio;
  site.pin = 3;
  std::unique_ptr<drv::sim::Model> model;
  ASSERT_EQ(drv::sim::find_model("xiot,gpio-input")->create(p, site, &model), Err::Ok);
  EXPECT_EQ(model, nullptr) << "a level needs no object";
  hal::Result<hal::GpioPin*> pin = gpio.claim(3);
  ASSERT_TRUE(pin.ok());
  ASSERT_EQ(pin.value()->configure(hal::PinMode::Input), Err::Ok);
  EXPECT_TRUE(pin.value()->read().value());
}

TEST(DriverTable, EveryFactoryBuildsAWorkingDeviceFromResources) {
  struct KernelDevice {
    const char* compatible;
    const char* key;
    const char* text;
  };
  const KernelDevice kKernelDevices[] = {{"maxim,ds18b20", "id", "28-0000075a2b1c"},
                                         {"linux,iio", "device", "bme280"},
                                         {"linux,hwmon", "device", "coretemp"},
                                         {"linux,thermal-zone", "zone", "acpitz"}};
  hal::linux_::LinuxSysfsTree sysfs(XIOT_SYSFS_FIXTURES);  // only read here
  hal::sim::ManualClock clock;
  hal::sim::SimGpio gpio;
  hal::sim::SimSystemInfo info(clock);
  uint32_t next_pin = 0;
  for (size_t i = 0; i < drv::kDriverCount; ++i) {
    const drv::DriverEntry& e = drv::kDrivers[i];
    // Each I2C chip gets its own bus with its model (from the model table) at
    // 0x48, an address every chip so far accepts.
    hal::sim::SimI2cBus bus;
    std::unique_ptr<drv::sim::Model> model;
    if (const drv::sim::ModelEntry* m = drv::sim::find_model(e.compatible)) {
      drv::sim::ModelSite site;
      site.i2c = &bus;
      site.address = 0x48;
      ASSERT_EQ(m->create(drv::sim::SimParams{}, site, &model), Err::Ok) << e.compatible;
    }
    drv::DeviceConfig c;
    c.name = "dev";
    c.compatible = e.compatible;
    c.i2c = &bus;
    c.i2c_address = 0x48;
    c.pin = gpio.claim(next_pin++).value();
    c.system_info = &info;
    c.clock = &clock;
    c.sysfs = &sysfs;
    // The kernel-backed drivers need to be told which device of the tree.
    for (const KernelDevice& k : kKernelDevices) {
      if (std::strcmp(k.compatible, e.compatible) == 0) c.params[c.param_count++] = drv::Param{k.key, true, 0, k.text};
    }
    drv::DriverError err;
    auto dev = e.create(c, &err);
    ASSERT_NE(dev, nullptr) << e.compatible << ": " << err.text;
    EXPECT_STREQ(dev->compatible(), e.compatible);
    EXPECT_STREQ(dev->name(), "dev");
    EXPECT_EQ(dev->init(), Err::Ok) << e.compatible;
    EXPECT_GT(dev->channel_count(), 0u) << e.compatible;  // discovering drivers know them after init()
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

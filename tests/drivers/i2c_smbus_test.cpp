// hal::linux_::I2cDevBus over a fake kernel (the I2cDevSys seam): I2C_RDWR on
// plain-I2C adapters, the SMBus mapping and chunking on SMBus-only ones, the
// errno mapping, and which of our drivers work SMBus-only (real drivers and
// their models over the mapping). The real kernel path is proven on the amd64
// virtual board (i2c-stub).
#include <gtest/gtest.h>
#include <linux/i2c-dev.h>
#include <linux/i2c.h>

#include <cstring>
#include <string>

#include "ads1115/ads1115.hpp"
#include "ads1115/ads1115_model.hpp"
#include "bh1750/bh1750.hpp"
#include "bh1750/bh1750_model.hpp"
#include "bme280/bme280.hpp"
#include "bme280/bme280_model.hpp"
#include "fake_i2c_kernel.hpp"
#include "hal/linux/i2c_dev_bus.hpp"
#include "hal/sim/manual_clock.hpp"
#include "sht3x/sht3x.hpp"
#include "sht3x/sht3x_model.hpp"
#include "test_tmpdir.hpp"

using hal::Err;
using hal::linux_::I2cDevBus;
using xiot_test::FakeI2cKernel;
using xiot_test::I2cOp;
using xiot_test::RegisterChip;

namespace {

constexpr uint16_t kAddr = 0x76;

struct Smbus : ::testing::Test {
  FakeI2cKernel kernel;
  RegisterChip chip;
  I2cDevBus bus{"/dev/i2c-0", &kernel};
  void SetUp() override {
    kernel.chips[kAddr] = &chip;
    for (int i = 0; i < 256; ++i) chip.regs[i] = static_cast<uint8_t>(i ^ 0x5a);
    ASSERT_EQ(bus.open(), Err::Ok);
    ASSERT_TRUE(bus.smbus_only());
  }
  Err xfer(std::initializer_list<uint8_t> tx, uint8_t* rx, size_t rx_len) {
    return bus.transfer(kAddr, tx.size() ? tx.begin() : nullptr, tx.size(), rx, rx_len, 25);
  }
  /// The SMBus ioctls of the last transfer(s) as "r/w size cmd [len]" words.
  std::string shapes() {
    std::string s;
    for (const I2cOp& o : kernel.smbus_ops()) {
      if (!s.empty()) s += ' ';
      s += o.read_write == I2C_SMBUS_READ ? "r" : "w";
      s += std::to_string(o.size) + "@" + std::to_string(o.command);
      if (o.size == I2C_SMBUS_I2C_BLOCK_DATA) s += "x" + std::to_string(o.len);
    }
    kernel.ops.clear();
    return s;
  }
};

TEST_F(Smbus, RegisterReadsMapToByteWordAndBlockReads) {
  uint8_t rx[80] = {};
  ASSERT_EQ(xfer({0xd0}, rx, 1), Err::Ok);
  EXPECT_EQ(rx[0], 0xd0 ^ 0x5a);
  EXPECT_EQ(shapes(), "r2@208");  // READ BYTE DATA
  ASSERT_EQ(xfer({0x10}, rx, 2), Err::Ok);
  EXPECT_EQ(rx[0], 0x10 ^ 0x5a);  // wire order: the word's low byte first
  EXPECT_EQ(rx[1], 0x11 ^ 0x5a);
  EXPECT_EQ(shapes(), "r3@16");  // READ WORD DATA
  ASSERT_EQ(xfer({0x88}, rx, 26), Err::Ok);
  for (int i = 0; i < 26; ++i) EXPECT_EQ(rx[i], (0x88 + i) ^ 0x5a) << i;
  EXPECT_EQ(shapes(), "r8@136x26");  // one I2C block read
  ASSERT_EQ(xfer({0x20}, rx, 70), Err::Ok);
  for (int i = 0; i < 70; ++i) EXPECT_EQ(rx[i], (0x20 + i) ^ 0x5a) << i;
  EXPECT_EQ(shapes(), "r8@32x32 r8@64x32 r8@96x6");  // chunks at consecutive registers
}

TEST_F(Smbus, WritesMapToSendByteByteWordAndBlockWrites) {
  ASSERT_EQ(xfer({0xe0}, nullptr, 0), Err::Ok);
  EXPECT_EQ(shapes(), "w1@224");  // send byte (a command)
  ASSERT_EQ(xfer({0xf4, 0x27}, nullptr, 0), Err::Ok);
  EXPECT_EQ(chip.regs[0xf4], 0x27);
  EXPECT_EQ(shapes(), "w2@244");  // WRITE BYTE DATA
  ASSERT_EQ(xfer({0x01, 0x85, 0x83}, nullptr, 0), Err::Ok);
  EXPECT_EQ(chip.regs[0x01], 0x85);  // same bytes on the wire: MSB first as the chip wants
  EXPECT_EQ(chip.regs[0x02], 0x83);
  EXPECT_EQ(shapes(), "w3@1");  // WRITE WORD DATA
  uint8_t tx[41];
  tx[0] = 0x40;
  for (int i = 1; i < 41; ++i) tx[i] = static_cast<uint8_t>(0xa0 + i);
  ASSERT_EQ(bus.transfer(kAddr, tx, sizeof tx, nullptr, 0, 25), Err::Ok);
  for (int i = 1; i < 41; ++i) EXPECT_EQ(chip.regs[0x40 + i - 1], 0xa0 + i) << i;
  EXPECT_EQ(shapes(), "w8@64x32 w8@96x8");
}

TEST_F(Smbus, ReceiveByteAndTheShapesSmbusCannotCarry) {
  uint8_t rx[6] = {};
  chip.ptr = 0x33;
  ASSERT_EQ(xfer({}, rx, 1), Err::Ok);
  EXPECT_EQ(rx[0], 0x33 ^ 0x5a);
  EXPECT_EQ(shapes(), "r1@0");  // receive byte
  EXPECT_STREQ(bus.last_unsupported(), "");
  EXPECT_EQ(xfer({}, rx, 6), Err::NotSupported);  // SHT3x/BH1750 result reads
  EXPECT_STREQ(bus.last_unsupported(),
               "/dev/i2c-0 is SMBus-only: cannot read more than one byte without a register address "
               "(write 0, read 6 bytes)");
  EXPECT_EQ(xfer({0x24, 0x00}, rx, 3), Err::NotSupported);
  EXPECT_STREQ(bus.last_unsupported(),
               "/dev/i2c-0 is SMBus-only: cannot read after a command of more than one byte (write 2, read 3 bytes)");
  EXPECT_EQ(shapes(), "");  // nothing reached the adapter
  ASSERT_EQ(xfer({0x00}, rx, 1), Err::Ok);
  EXPECT_STREQ(bus.last_unsupported(), "");  // cleared by a good transfer
}

TEST_F(Smbus, MissingFunctionalityIsNotSupportedAndOneByteReadsFallBackToABlock) {
  FakeI2cKernel k;
  k.funcs = I2C_FUNC_SMBUS_I2C_BLOCK | I2C_FUNC_SMBUS_WRITE_BYTE_DATA;
  k.chips[kAddr] = &chip;
  I2cDevBus b("/dev/i2c-0", &k);
  ASSERT_EQ(b.open(), Err::Ok);
  const uint8_t reg = 0x10;
  uint8_t rx[2] = {};
  ASSERT_EQ(b.transfer(kAddr, &reg, 1, rx, 1, 25), Err::Ok);
  ASSERT_EQ(k.smbus_ops().size(), 1u);
  EXPECT_EQ(k.smbus_ops()[0].size, static_cast<uint32_t>(I2C_SMBUS_I2C_BLOCK_DATA));
  EXPECT_EQ(b.transfer(kAddr, &reg, 1, rx, 2, 25), Err::NotSupported);
  EXPECT_STREQ(b.last_unsupported(),
               "/dev/i2c-0 is SMBus-only: cannot use SMBus read word data, which the adapter lacks (write 1, read 2 bytes)");
}

TEST_F(Smbus, TheAddressIsSetOnlyWhenItChangesAndTheTimeoutOnlyWhenItChanges) {
  RegisterChip other;
  kernel.chips[0x48] = &other;
  uint8_t rx[1];
  const uint8_t reg = 0;
  ASSERT_EQ(bus.transfer(kAddr, &reg, 1, rx, 1, 25), Err::Ok);
  ASSERT_EQ(bus.transfer(kAddr, &reg, 1, rx, 1, 25), Err::Ok);
  ASSERT_EQ(bus.transfer(0x48, &reg, 1, rx, 1, 101), Err::Ok);
  EXPECT_EQ(kernel.count(I2C_SLAVE), 2u);
  EXPECT_EQ(kernel.count(I2C_TIMEOUT), 2u);
  std::vector<unsigned long> tens;
  for (const I2cOp& o : kernel.ops) {
    if (o.request == I2C_TIMEOUT) tens.push_back(o.value);
  }
  EXPECT_EQ(tens, (std::vector<unsigned long>{3, 11}));  // 10 ms units, rounded up
}

TEST_F(Smbus, ErrnoMapsToErr) {
  uint8_t rx[1];
  const uint8_t reg = 0;
  struct Case {
    int err;
    Err want;
  } cases[] = {{ENXIO, Err::Nack},      {EREMOTEIO, Err::Nack}, {ENODEV, Err::Nack}, {ETIMEDOUT, Err::Timeout},
               {EIO, Err::Io},          {EAGAIN, Err::Io},      {EOPNOTSUPP, Err::NotSupported}};
  for (const Case& c : cases) {
    kernel.fail_next = c.err;
    EXPECT_EQ(bus.transfer(kAddr, &reg, 1, rx, 1, 25), c.want) << c.err;
  }
  EXPECT_EQ(bus.transfer(0x77, &reg, 1, rx, 1, 25), Err::Nack);  // nobody there
  kernel.fail_slave = EBUSY;  // a kernel driver owns the address
  EXPECT_EQ(bus.transfer(0x50, &reg, 1, rx, 1, 25), Err::Busy);
  kernel.eintr_next = 2;  // interrupted ioctls are retried
  EXPECT_EQ(bus.transfer(kAddr, &reg, 1, rx, 1, 25), Err::Ok);
}

TEST(I2cDevBus, PlainI2cAdaptersGetOneRdwrPerTransfer) {
  FakeI2cKernel kernel;
  kernel.funcs = I2C_FUNC_I2C | I2C_FUNC_SMBUS_EMUL;
  RegisterChip chip;
  chip.regs[0x20] = 0x11;
  chip.regs[0x21] = 0x22;
  kernel.chips[kAddr] = &chip;
  I2cDevBus bus("/dev/i2c-0", &kernel);
  ASSERT_EQ(bus.open(), Err::Ok);
  EXPECT_FALSE(bus.smbus_only());
  const uint8_t reg = 0x20;
  uint8_t rx[2] = {};
  ASSERT_EQ(bus.transfer(kAddr, &reg, 1, rx, 2, 25), Err::Ok);
  EXPECT_EQ(rx[0], 0x11);
  EXPECT_EQ(rx[1], 0x22);
  ASSERT_EQ(bus.transfer(kAddr, nullptr, 0, rx, 2, 25), Err::Ok);  // fine on plain I2C
  EXPECT_EQ(kernel.count(I2C_RDWR), 2u);
  EXPECT_EQ(kernel.count(I2C_SMBUS), 0u);
  EXPECT_EQ(kernel.count(I2C_SLAVE), 0u);
  kernel.fail_next = EREMOTEIO;
  EXPECT_EQ(bus.transfer(kAddr, &reg, 1, rx, 2, 25), Err::Nack);
}

TEST(I2cDevBus, OpenErrors) {
  FakeI2cKernel kernel;
  I2cDevBus missing("/dev/i2c-9", &kernel);
  EXPECT_EQ(missing.open(), Err::NotFound);
  kernel.fail_funcs = ENOTTY;  // not an i2c-dev node
  I2cDevBus not_i2c("/dev/i2c-0", &kernel);
  EXPECT_EQ(not_i2c.open(), Err::Io);
  EXPECT_TRUE(kernel.closed);
  kernel.fail_funcs = 0;
  kernel.funcs = I2C_FUNC_SMBUS_QUICK;  // nothing a driver can use
  I2cDevBus useless("/dev/i2c-0", &kernel);
  EXPECT_EQ(useless.open(), Err::NotSupported);
  uint8_t b = 0;
  EXPECT_EQ(useless.transfer(kAddr, &b, 1, nullptr, 0, 25), Err::NotReady);
  EXPECT_EQ(useless.transfer(kAddr, nullptr, 1, nullptr, 0, 25), Err::InvalidArgument);
}

// --- our drivers on an SMBus-only adapter (real driver + model) ---

struct DriverOverSmbus : ::testing::Test {
  hal::sim::ManualClock clock;
  FakeI2cKernel kernel;
  I2cDevBus bus{"/dev/i2c-0", &kernel};
  void SetUp() override {
    clock.set_auto_advance_us(100);  // waits inside drivers run to their deadlines
    ASSERT_EQ(bus.open(), Err::Ok);
  }
  drv::DeviceConfig config(uint16_t address) {
    drv::DeviceConfig c;
    c.name = "dev0";
    c.i2c = &bus;
    c.i2c_address = address;
    c.clock = &clock;
    return c;
  }
};

TEST_F(DriverOverSmbus, Bme280Works) {
  drv::sim::Bme280Model model;
  model.set_temperature_c(21.54);
  kernel.chips[0x76] = &model;
  drv::DriverError err;
  auto dev = drv::create_bme280(config(0x76), &err);
  ASSERT_NE(dev, nullptr) << err.text;
  ASSERT_EQ(dev->init(), Err::Ok);
  ASSERT_EQ(dev->sample(), Err::Ok);
  EXPECT_NEAR(static_cast<double>(dev->get(0).value().mantissa), 2154, 2);
  EXPECT_EQ(kernel.count(I2C_RDWR), 0u);
  EXPECT_STREQ(bus.last_unsupported(), "");
}

TEST_F(DriverOverSmbus, Ads1115Works) {
  drv::sim::Ads1115Model model;
  model.set_input_v(0, 1.25);
  kernel.chips[0x48] = &model;
  drv::DriverError err;
  auto dev = drv::create_ads1115(config(0x48), &err);
  ASSERT_NE(dev, nullptr) << err.text;
  ASSERT_EQ(dev->init(), Err::Ok);
  ASSERT_EQ(dev->sample(), Err::Ok);
  EXPECT_NEAR(static_cast<double>(dev->get(0).value().mantissa), 1250000, 100);
  EXPECT_EQ(kernel.count(I2C_RDWR), 0u);
}

TEST_F(DriverOverSmbus, Sht3xCannotReadItsResultWithoutRdwr) {
  drv::sim::Sht3xModel model;
  kernel.chips[0x44] = &model;
  drv::DriverError err;
  auto dev = drv::create_sht3x(config(0x44), &err);
  ASSERT_NE(dev, nullptr) << err.text;
  EXPECT_EQ(dev->init(), Err::NotSupported);
  EXPECT_NE(std::string(bus.last_unsupported()).find("without a register address"), std::string::npos)
      << bus.last_unsupported();
}

TEST_F(DriverOverSmbus, Bh1750CannotReadItsResultWithoutRdwr) {
  drv::sim::Bh1750Model model;
  kernel.chips[0x23] = &model;
  drv::DriverError err;
  auto dev = drv::create_bh1750(config(0x23), &err);
  ASSERT_NE(dev, nullptr) << err.text;
  EXPECT_EQ(dev->init(), Err::NotSupported);
  EXPECT_NE(std::string(bus.last_unsupported()).find("(write 0, read 2 bytes)"), std::string::npos)
      << bus.last_unsupported();
}

// --- adapters by name ---

TEST(FindI2cAdapter, ByItsSysfsNameLowestNumberFirst) {
  xiot_test::TempDir sys;
  sys.write("bus/i2c/devices/i2c-3/name", "SMBus stub driver\n");
  sys.write("bus/i2c/devices/i2c-1/name", "bcm2835 (i2c@7e804000)\n");
  sys.write("bus/i2c/devices/i2c-12/name", "SMBus stub driver\n");
  sys.write("bus/i2c/devices/1-0050/name", "SMBus stub driver\n");  // a client, not an adapter
  EXPECT_EQ(hal::linux_::find_i2c_adapter(sys.path().c_str(), "SMBus stub driver").value(), 3u);
  EXPECT_EQ(hal::linux_::find_i2c_adapter(sys.path().c_str(), "bcm2835 (i2c@7e804000)").value(), 1u);
  EXPECT_EQ(hal::linux_::find_i2c_adapter(sys.path().c_str(), "bcm2835").error(), Err::NotFound);
  EXPECT_EQ(hal::linux_::find_i2c_adapter(sys.path().c_str(), "").error(), Err::InvalidArgument);
  EXPECT_EQ(hal::linux_::find_i2c_adapter((sys.path() + "/nothing").c_str(), "x").error(), Err::NotFound);
}

}  // namespace

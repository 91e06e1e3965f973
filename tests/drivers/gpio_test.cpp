// xiot,gpio-output and xiot,gpio-input against SimGpio, with both polarities.
#include <gtest/gtest.h>

#include "device_config.hpp"

#include "drv/driver_table.hpp"
#include "gpio_input/gpio_input.hpp"
#include "gpio_output/gpio_output.hpp"
#include "hal/sim/sim_gpio.hpp"

using drv::Value;
using hal::Err;
using hal::PinMode;

namespace {
drv::DeviceConfig pin_config(const char* compatible, hal::GpioPin* pin, bool active_low) {
  drv::DeviceConfig c;
  c.name = "dev0";
  c.compatible = compatible;
  c.pin = pin;
  c.active_low = active_low;
  return c;
}
using xiot_test::add_param;
using xiot_test::add_text;
}  // namespace

struct OutputCase {
  bool active_low;
  int initial;
};

class GpioOutputPolarity : public ::testing::TestWithParam<OutputCase> {};

TEST_P(GpioOutputPolarity, SetDrivesThePinAndGetReturnsTheCommand) {
  const OutputCase k = GetParam();
  hal::sim::SimGpio gpio;
  drv::DeviceConfig c = pin_config("xiot,gpio-output", gpio.claim(17).value(), k.active_low);
  add_param(&c, "initial", k.initial);
  drv::DriverError err;
  auto dev = drv::create_gpio_output(c, &err);
  ASSERT_NE(dev, nullptr) << err.text;
  EXPECT_EQ(dev->get(0).error(), Err::NotReady);
  ASSERT_EQ(dev->init(), Err::Ok);
  EXPECT_EQ(gpio.mode(17), PinMode::Output);
  EXPECT_EQ(gpio.level(17), (k.initial == 1) != k.active_low);
  EXPECT_EQ(gpio.write_count(17), 1u);  // exactly one write at init: no glitch
  EXPECT_EQ(dev->get(0).value().flag, k.initial == 1);

  ASSERT_EQ(dev->set(0, Value::boolean(true)), Err::Ok);
  EXPECT_EQ(gpio.level(17), !k.active_low);
  EXPECT_TRUE(dev->get(0).value().flag);
  EXPECT_EQ(dev->get(0).value().type, drv::ValueType::Boolean);
  ASSERT_EQ(dev->set(0, Value::boolean(false)), Err::Ok);
  EXPECT_EQ(gpio.level(17), k.active_low);
  EXPECT_FALSE(dev->get(0).value().flag);
  ASSERT_EQ(dev->set(0, Value::numeric(1, 0)), Err::Ok);  // 1 works like true
  EXPECT_TRUE(dev->get(0).value().flag);
  EXPECT_EQ(dev->sample(), Err::Ok);
}

INSTANTIATE_TEST_SUITE_P(Polarity, GpioOutputPolarity,
                         ::testing::Values(OutputCase{false, 0}, OutputCase{false, 1},
                                           OutputCase{true, 0}, OutputCase{true, 1}));

TEST(GpioOutput, ChannelIsABooleanActuatorNamedState) {
  hal::sim::SimGpio gpio;
  drv::GpioOutput dev("relay0", *gpio.claim(1).value(), false, false);
  ASSERT_EQ(dev.channel_count(), 1u);
  EXPECT_STREQ(dev.channel(0).quantity, "state");
  EXPECT_STREQ(dev.channel(0).unit, "");
  EXPECT_EQ(dev.channel(0).kind, drv::ChannelKind::Actuator);
  EXPECT_EQ(dev.channel(0).type, drv::ValueType::Boolean);
  EXPECT_STREQ(dev.compatible(), "xiot,gpio-output");
}

TEST(GpioOutput, RejectsBadValuesAndKeepsStateOnPinErrors) {
  hal::sim::SimGpio gpio;
  drv::GpioOutput dev("relay0", *gpio.claim(1).value(), false, false);
  EXPECT_EQ(dev.set(0, Value::boolean(true)), Err::NotReady);
  ASSERT_EQ(dev.init(), Err::Ok);
  EXPECT_EQ(dev.set(0, Value::numeric(2, 0)), Err::InvalidArgument);
  EXPECT_EQ(dev.set(0, Value::numeric(10, -1)), Err::InvalidArgument);
  Value text;
  text.type = drv::ValueType::String;
  EXPECT_EQ(dev.set(0, text), Err::InvalidArgument);
  EXPECT_EQ(dev.set(1, Value::boolean(true)), Err::NotFound);
  EXPECT_EQ(dev.get(1).error(), Err::NotFound);
  gpio.fail_next(1, Err::Io);
  EXPECT_EQ(dev.set(0, Value::boolean(true)), Err::Io);
  EXPECT_FALSE(dev.get(0).value().flag);  // the command did not happen
  EXPECT_FALSE(gpio.level(1));
}

TEST(GpioOutput, InitErrorsPropagate) {
  hal::sim::SimGpio gpio;
  drv::GpioOutput dev("relay0", *gpio.claim(1).value(), false, false);
  gpio.fail_next(1, Err::NotSupported);
  EXPECT_EQ(dev.init(), Err::NotSupported);
  EXPECT_EQ(dev.get(0).error(), Err::NotReady);
}

TEST(GpioOutputFactory, Errors) {
  drv::DriverError err;
  EXPECT_EQ(drv::create_gpio_output(pin_config("xiot,gpio-output", nullptr, false), &err), nullptr);
  EXPECT_STREQ(err.text, "needs a GPIO pin (\"gpio\", \"pin\")");
  hal::sim::SimGpio gpio;
  drv::DeviceConfig c = pin_config("xiot,gpio-output", gpio.claim(2).value(), false);
  add_param(&c, "initial", 2);
  EXPECT_EQ(drv::create_gpio_output(c, &err), nullptr);
  EXPECT_STREQ(err.text, "params.initial: expected an integer 0..1, got 2");
  drv::DeviceConfig d = pin_config("xiot,gpio-output", gpio.claim(3).value(), false);
  add_text(&d, "pull", "up");
  EXPECT_EQ(drv::create_gpio_output(d, &err), nullptr);
  EXPECT_STREQ(err.text, "params.pull: unknown parameter (known: initial)");
}

struct InputCase {
  const char* pull;
  PinMode mode;
  bool active_low;
  bool idle_state;  // what state reads with nothing driving the pin
};

class GpioInputPull : public ::testing::TestWithParam<InputCase> {};

TEST_P(GpioInputPull, BiasAndPolarity) {
  const InputCase k = GetParam();
  hal::sim::SimGpio gpio;
  drv::DeviceConfig c = pin_config("xiot,gpio-input", gpio.claim(27).value(), k.active_low);
  if (k.pull != nullptr) add_text(&c, "pull", k.pull);
  drv::DriverError err;
  auto dev = drv::create_gpio_input(c, &err);
  ASSERT_NE(dev, nullptr) << err.text;
  ASSERT_EQ(dev->init(), Err::Ok);
  EXPECT_EQ(gpio.mode(27), k.mode);
  EXPECT_EQ(dev->get(0).error(), Err::NotReady);
  ASSERT_EQ(dev->sample(), Err::Ok);
  EXPECT_EQ(dev->get(0).value().flag, k.idle_state);
  gpio.set_external(27, false);
  ASSERT_EQ(dev->sample(), Err::Ok);
  EXPECT_EQ(dev->get(0).value().flag, k.active_low);
  gpio.set_external(27, true);
  ASSERT_EQ(dev->sample(), Err::Ok);
  EXPECT_EQ(dev->get(0).value().flag, !k.active_low);
}

INSTANTIATE_TEST_SUITE_P(
    PullAndPolarity, GpioInputPull,
    ::testing::Values(InputCase{"up", PinMode::InputPullUp, true, false},  // button to ground
                      InputCase{"up", PinMode::InputPullUp, false, true},
                      InputCase{"down", PinMode::InputPullDown, false, false},
                      InputCase{"down", PinMode::InputPullDown, true, true},
                      InputCase{"none", PinMode::Input, false, false},
                      InputCase{nullptr, PinMode::Input, false, false}));

TEST(GpioInput, IsAReadOnlyBooleanSensor) {
  hal::sim::SimGpio gpio;
  drv::GpioInput dev("button0", *gpio.claim(4).value(), true, PinMode::InputPullUp);
  EXPECT_STREQ(dev.channel(0).quantity, "state");
  EXPECT_EQ(dev.channel(0).kind, drv::ChannelKind::Sensor);
  EXPECT_EQ(dev.channel(0).type, drv::ValueType::Boolean);
  EXPECT_EQ(dev.set(0, Value::boolean(true)), Err::ReadOnly);
  EXPECT_EQ(dev.sample(), Err::NotReady);
}

TEST(GpioInput, ReadErrorsKeepThePreviousSample) {
  hal::sim::SimGpio gpio;
  drv::GpioInput dev("button0", *gpio.claim(4).value(), true, PinMode::InputPullUp);
  ASSERT_EQ(dev.init(), Err::Ok);
  gpio.set_external(4, false);
  ASSERT_EQ(dev.sample(), Err::Ok);
  gpio.fail_next(4, Err::Io);
  EXPECT_EQ(dev.sample(), Err::Io);
  EXPECT_TRUE(dev.get(0).value().flag);
}

TEST(GpioInputFactory, BadPull) {
  hal::sim::SimGpio gpio;
  drv::DeviceConfig c = pin_config("xiot,gpio-input", gpio.claim(5).value(), false);
  add_text(&c, "pull", "sideways");
  drv::DriverError err;
  EXPECT_EQ(drv::create_gpio_input(c, &err), nullptr);
  EXPECT_STREQ(err.text, "params.pull: expected \"up\", \"down\" or \"none\", got \"sideways\"");
  drv::DeviceConfig d = pin_config("xiot,gpio-input", gpio.claim(6).value(), false);
  add_param(&d, "pull", 1);
  EXPECT_EQ(drv::create_gpio_input(d, &err), nullptr);
  EXPECT_STREQ(err.text, "params.pull: expected \"up\", \"down\" or \"none\", got 1");
}

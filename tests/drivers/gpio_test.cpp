// xiot,gpio-output and xiot,gpio-input against SimGpio, with both polarities.
#include <gtest/gtest.h>

#include "device_config.hpp"

#include "drv/driver_table.hpp"
#include "gpio_input/gpio_input.hpp"
#include "gpio_output/gpio_output.hpp"
#include "hal/sim/manual_clock.hpp"
#include "hal/sim/sim_gpio.hpp"

using drv::Value;
using hal::Err;
using hal::PinMode;

namespace {
hal::sim::ManualClock g_clock;  // for factories' configs; debounce tests use their own

drv::DeviceConfig pin_config(const char* compatible, hal::GpioPin* pin, bool active_low,
                             hal::MonotonicClock* clock = &g_clock) {
  drv::DeviceConfig c;
  c.clock = clock;
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
  add_param(&c, "debounce_ms", 0);  // every level counts at once
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
  drv::GpioInput dev("button0", *gpio.claim(4).value(), true, PinMode::InputPullUp, g_clock, 0);
  EXPECT_STREQ(dev.channel(0).quantity, "state");
  EXPECT_EQ(dev.channel(0).kind, drv::ChannelKind::Sensor);
  EXPECT_EQ(dev.channel(0).type, drv::ValueType::Boolean);
  EXPECT_EQ(dev.set(0, Value::boolean(true)), Err::ReadOnly);
  EXPECT_EQ(dev.sample(), Err::NotReady);
}

TEST(GpioInput, ReadErrorsKeepThePreviousSample) {
  hal::sim::SimGpio gpio;
  drv::GpioInput dev("button0", *gpio.claim(4).value(), true, PinMode::InputPullUp, g_clock, 0);
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

TEST(GpioInputFactory, DebounceAndClock) {
  hal::sim::SimGpio gpio;
  drv::DriverError err;
  drv::DeviceConfig c = pin_config("xiot,gpio-input", gpio.claim(5).value(), false);
  add_param(&c, "debounce_ms", 1001);
  EXPECT_EQ(drv::create_gpio_input(c, &err), nullptr);
  EXPECT_STREQ(err.text, "params.debounce_ms: expected an integer 0..1000, got 1001");
  drv::DeviceConfig d = pin_config("xiot,gpio-input", gpio.claim(6).value(), false, nullptr);
  EXPECT_EQ(drv::create_gpio_input(d, &err), nullptr);
  EXPECT_STREQ(err.text, "needs the monotonic clock (for debouncing)");
  drv::DeviceConfig e = pin_config("xiot,gpio-input", gpio.claim(7).value(), false);
  add_param(&e, "initial", 1);
  EXPECT_EQ(drv::create_gpio_input(e, &err), nullptr);
  EXPECT_STREQ(err.text, "params.initial: unknown parameter (known: pull, debounce_ms)");
}

// Debouncing on the edges' timestamps: a button to ground with a pull-up on
// pin 27 (active low), 20 ms window, the clock only moving when told.
class GpioInputDebounce : public ::testing::Test {
 protected:
  static constexpr uint32_t kPin = 27;
  hal::sim::ManualClock clock{hal::MonoTime{5000000}};
  hal::sim::SimGpio gpio{64, &clock};
  std::unique_ptr<drv::Device> dev;

  void make(int64_t debounce_ms = -1) {
    drv::DeviceConfig c = pin_config("xiot,gpio-input", gpio.claim(kPin).value(), true, &clock);
    add_text(&c, "pull", "up");
    if (debounce_ms >= 0) add_param(&c, "debounce_ms", debounce_ms);
    drv::DriverError err;
    dev = drv::create_gpio_input(c, &err);
    ASSERT_NE(dev, nullptr) << err.text;
    ASSERT_EQ(dev->init(), Err::Ok);
  }
  bool pressed() {
    EXPECT_EQ(dev->sample(), Err::Ok);
    return dev->get(0).value().flag;
  }
};

TEST_F(GpioInputDebounce, InitWatchesEdgesAndTakesTheLevelAsIs) {
  gpio.set_external(kPin, false);  // held down since before start
  make();
  EXPECT_TRUE(gpio.watching_edges(kPin));
  EXPECT_TRUE(static_cast<drv::GpioInput&>(*dev).uses_edges());
  EXPECT_FALSE(dev->poll_changes());
  EXPECT_TRUE(pressed());  // no window for the state at start
}

TEST_F(GpioInputDebounce, ACleanPressCountsAfterTheWindowOnce) {
  make();  // default 20 ms
  EXPECT_FALSE(pressed());
  gpio.set_external(kPin, false);
  EXPECT_FALSE(dev->poll_changes());
  clock.advance_us(19999);
  EXPECT_FALSE(dev->poll_changes());
  EXPECT_FALSE(pressed());
  clock.advance_us(1);
  EXPECT_TRUE(dev->poll_changes());
  EXPECT_TRUE(pressed());
  EXPECT_FALSE(dev->poll_changes());  // once per change
  gpio.set_external(kPin, true);     // released
  clock.advance_ms(20);
  EXPECT_TRUE(dev->poll_changes());
  EXPECT_FALSE(pressed());
}

TEST_F(GpioInputDebounce, ABouncingPressCountsTwentyMsAfterItsLastEdge) {
  make(20);
  // Contact bounce: 7 edges 2 ms apart, ending pressed (low).
  for (int i = 0; i < 7; ++i) {
    gpio.set_external(kPin, i % 2 == 1);
    EXPECT_FALSE(dev->poll_changes());
    clock.advance_ms(2);
  }
  EXPECT_EQ(gpio.lost_edges(kPin), 0u);
  // The last edge was 2 ms ago: 18 more to go.
  clock.advance_ms(17);
  EXPECT_FALSE(dev->poll_changes());
  clock.advance_ms(1);
  EXPECT_TRUE(dev->poll_changes());
  EXPECT_TRUE(pressed());
}

TEST_F(GpioInputDebounce, AGlitchShorterThanTheWindowChangesNothing) {
  make(20);
  gpio.set_external(kPin, false);
  clock.advance_ms(5);
  gpio.set_external(kPin, true);
  clock.advance_ms(50);
  EXPECT_FALSE(dev->poll_changes());
  EXPECT_FALSE(pressed());
}

TEST_F(GpioInputDebounce, EdgesWaitInTheQueueUntilPolled) {
  make(20);
  gpio.set_external(kPin, false);  // pressed at t0, nobody polls for a while
  clock.advance_ms(100);
  EXPECT_TRUE(dev->poll_changes());  // the edge's timestamp is what counts
  EXPECT_TRUE(pressed());
}

TEST_F(GpioInputDebounce, SampleSeesTheChangeAndPollChangesStillReportsIt) {
  make(10);
  gpio.set_external(kPin, false);
  clock.advance_ms(10);
  EXPECT_TRUE(pressed());            // an interval sample committed the change...
  EXPECT_TRUE(dev->poll_changes());  // ...which on_change reporting still gets
  EXPECT_FALSE(dev->poll_changes());
}

TEST_F(GpioInputDebounce, ZeroMsTakesEveryEdge) {
  make(0);
  gpio.set_external(kPin, false);
  EXPECT_TRUE(dev->poll_changes());
  gpio.set_external(kPin, true);
  EXPECT_TRUE(dev->poll_changes());
  EXPECT_FALSE(pressed());
}

TEST_F(GpioInputDebounce, EdgesLostToAFullQueueAreCaughtByTheReadBack) {
  make(20);
  // 17 edges 1 ms apart: the queue keeps 16 (ending high = released), the
  // 17th (low = pressed) is lost, and the button stays pressed.
  for (int i = 0; i < 17; ++i) {
    gpio.set_external(kPin, i % 2 == 1);
    clock.advance_ms(1);
  }
  EXPECT_EQ(gpio.lost_edges(kPin), 1u);
  EXPECT_FALSE(gpio.level(kPin));
  clock.advance_ms(30);
  // The queued edges say "released" (no change), the pin says pressed: a new
  // window starts now.
  EXPECT_FALSE(dev->poll_changes());
  clock.advance_ms(19);
  EXPECT_FALSE(dev->poll_changes());
  clock.advance_ms(1);
  EXPECT_TRUE(dev->poll_changes());
  EXPECT_TRUE(pressed());
}

TEST_F(GpioInputDebounce, EdgeReadErrorsShowAtTheNextSample) {
  make(20);
  gpio.fail_next(kPin, Err::Io);
  EXPECT_FALSE(dev->poll_changes());
  gpio.fail_next(kPin, Err::Io);
  EXPECT_EQ(dev->sample(), Err::Io);
  EXPECT_EQ(dev->sample(), Err::Ok);
}

TEST_F(GpioInputDebounce, PollChangesBeforeInitIsFalse) {
  drv::GpioInput in("b", *gpio.claim(kPin).value(), true, PinMode::InputPullUp, clock);
  EXPECT_FALSE(in.poll_changes());
  EXPECT_EQ(in.sample(), Err::NotReady);
}

namespace {
/// A pin without edge detection (and, for the clamp test, scripted edges).
class ScriptedPin final : public hal::GpioPin {
 public:
  explicit ScriptedPin(bool edges) : edges_(edges) {}
  Err configure(PinMode) override { return Err::Ok; }
  hal::Result<bool> read() override { return level; }
  Err write(bool) override { return Err::InvalidArgument; }
  Err watch_edges() override { return edges_ ? Err::Ok : Err::NotSupported; }
  hal::Result<size_t> read_edges(hal::GpioEdge* out, size_t max) override {
    if (!edges_) return Err::NotSupported;
    size_t n = 0;
    while (n < max && pending > 0) {
      out[n++] = edge;
      --pending;
    }
    return n;
  }
  bool level = true;
  hal::GpioEdge edge;
  size_t pending = 0;

 private:
  bool edges_;
};
}  // namespace

TEST(GpioInputPolled, APinWithoutEdgesIsDebouncedByPolling) {
  hal::sim::ManualClock clock;
  ScriptedPin pin(false);
  drv::GpioInput in("b", pin, true, PinMode::InputPullUp, clock, 20);
  ASSERT_EQ(in.init(), Err::Ok);
  EXPECT_FALSE(in.uses_edges());
  pin.level = false;
  EXPECT_FALSE(in.poll_changes());  // seen now: the window starts now
  clock.advance_ms(19);
  EXPECT_FALSE(in.poll_changes());
  clock.advance_ms(1);
  EXPECT_TRUE(in.poll_changes());
  ASSERT_EQ(in.sample(), Err::Ok);
  EXPECT_TRUE(in.get(0).value().flag);
}

TEST(GpioInputPolled, AnEdgeStampedInTheFutureCountsAsNow) {
  hal::sim::ManualClock clock{hal::MonoTime{1000000}};
  ScriptedPin pin(true);
  drv::GpioInput in("b", pin, false, PinMode::Input, clock, 20);
  ASSERT_EQ(in.init(), Err::Ok);
  pin.level = false;
  pin.edge = hal::GpioEdge{false, INT64_C(1) << 60};  // e.g. a kernel on CLOCK_REALTIME
  pin.pending = 1;
  EXPECT_FALSE(in.poll_changes());
  clock.advance_ms(20);
  EXPECT_TRUE(in.poll_changes());
}

// hal::linux_::GpiodController over a fake chip (the GpioChipPort seam): what
// it asks the kernel for and how errno becomes hal::Err. The real libgpiod
// path is proven on the arm64 virtual board (PL061).
#include <gtest/gtest.h>

#include "fake_gpio_chip.hpp"
#include "hal/linux/gpiod_controller.hpp"

using hal::Err;
using hal::PinMode;
using hal::linux_::GpioLineRequest;
using hal::linux_::GpiodController;
using xiot_test::FakeGpioChipScope;
using xiot_test::FakeGpioChipState;

namespace {

class Gpiod : public ::testing::Test {
 protected:
  Gpiod() : scope(chip) {
    chip.lines[3].name = "GPIO17";
    chip.lines[5].consumer = "sysfs";
  }
  FakeGpioChipState chip{8};
  FakeGpioChipScope scope;
};

TEST_F(Gpiod, OpensByNameLabelOrPathAndReportsTheChip) {
  for (const char* name : {"gpiochip0", "fake-gpio", "/dev/gpiochip0"}) {
    GpiodController c(name, &xiot_test::fake_gpio_open);
    ASSERT_EQ(c.open(), Err::Ok) << name;
    EXPECT_STREQ(c.chip_name(), "gpiochip0");
    EXPECT_STREQ(c.chip_label(), "fake-gpio");
    EXPECT_EQ(c.line_count(), 8u);
    EXPECT_EQ(c.open(), Err::Ok);  // once
  }
  EXPECT_EQ(chip.opens, 3);
}

TEST_F(Gpiod, MissingChipIsNotFoundAndNothingWorksBeforeOpen) {
  GpiodController c("gpiochip9", &xiot_test::fake_gpio_open);
  EXPECT_EQ(c.claim(0).error(), Err::NotReady);
  EXPECT_EQ(c.find_line("GPIO17").error(), Err::NotReady);
  EXPECT_EQ(c.open(), Err::NotFound);
  EXPECT_STREQ(c.chip_name(), "");
  EXPECT_EQ(c.line_count(), 0u);
  GpiodController empty("", &xiot_test::fake_gpio_open);
  EXPECT_EQ(empty.open(), Err::InvalidArgument);
  GpiodController too_long(std::string(64, 'x').c_str(), &xiot_test::fake_gpio_open);
  EXPECT_EQ(too_long.open(), Err::InvalidArgument);
}

TEST_F(Gpiod, TheRealLibgpiodSaysNotFoundForAChipThatIsNotThere) {
  GpiodController c("xiot-no-such-gpiochip");
  EXPECT_EQ(c.open(), Err::NotFound);
}

TEST_F(Gpiod, ClaimChecksRangeOwnershipAndOtherUsers) {
  GpiodController c("gpiochip0", &xiot_test::fake_gpio_open);
  ASSERT_EQ(c.open(), Err::Ok);
  EXPECT_EQ(c.claim(8).error(), Err::NotFound);
  ASSERT_TRUE(c.claim(2).ok());
  EXPECT_EQ(c.claim(2).error(), Err::Busy);  // ours already
  EXPECT_STREQ(c.holder(2), "");
  EXPECT_EQ(c.claim(5).error(), Err::Busy);  // held by the sysfs interface
  EXPECT_STREQ(c.holder(5), "sysfs");
  EXPECT_FALSE(chip.lines[2].requested);  // claiming does not request yet
}

TEST_F(Gpiod, FindsLinesByName) {
  GpiodController c("gpiochip0", &xiot_test::fake_gpio_open);
  ASSERT_EQ(c.open(), Err::Ok);
  EXPECT_EQ(c.find_line("GPIO17").value(), 3u);
  EXPECT_EQ(c.find_line("GPIO99").error(), Err::NotFound);
  EXPECT_EQ(c.find_line("").error(), Err::InvalidArgument);
}

TEST_F(Gpiod, ConfigureRequestsTheLineWithBiasAndConsumerXiot) {
  GpiodController c("gpiochip0", &xiot_test::fake_gpio_open);
  ASSERT_EQ(c.open(), Err::Ok);
  hal::GpioPin* pin = c.claim(1).value();
  ASSERT_EQ(pin->configure(PinMode::InputPullUp), Err::Ok);
  EXPECT_EQ(chip.lines[1].consumer, "xiot");
  EXPECT_EQ(chip.lines[1].last.kind, GpioLineRequest::Kind::Input);
  EXPECT_EQ(chip.lines[1].last.bias, PinMode::InputPullUp);
  chip.lines[1].level = true;
  EXPECT_TRUE(pin->read().value());
  EXPECT_EQ(pin->write(true), Err::InvalidArgument);  // an input
  ASSERT_EQ(pin->configure(PinMode::Input), Err::Ok);  // re-requested
  EXPECT_EQ(chip.lines[1].last.bias, PinMode::Input);
  EXPECT_EQ(chip.lines[1].requests, 2);
}

TEST_F(Gpiod, OutputsStartLowAndWrite) {
  GpiodController c("gpiochip0", &xiot_test::fake_gpio_open);
  ASSERT_EQ(c.open(), Err::Ok);
  hal::GpioPin* pin = c.claim(3).value();
  chip.lines[3].level = true;
  ASSERT_EQ(pin->configure(PinMode::Output), Err::Ok);
  EXPECT_EQ(chip.lines[3].last.kind, GpioLineRequest::Kind::Output);
  EXPECT_FALSE(chip.lines[3].level);
  ASSERT_EQ(pin->write(true), Err::Ok);
  EXPECT_TRUE(chip.lines[3].level);
  EXPECT_TRUE(pin->read().value());
  EXPECT_EQ(pin->watch_edges(), Err::InvalidArgument);
  chip.lines[3].fail_io = EIO;
  EXPECT_EQ(pin->write(false), Err::Io);
}

TEST_F(Gpiod, RequestErrnosMapToErr) {
  GpiodController c("gpiochip0", &xiot_test::fake_gpio_open);
  ASSERT_EQ(c.open(), Err::Ok);
  hal::GpioPin* pin = c.claim(0).value();
  chip.lines[0].fail_request = EINVAL;  // a kernel before 5.5 and a bias flag
  EXPECT_EQ(pin->configure(PinMode::InputPullDown), Err::NotSupported);
  chip.lines[0].fail_request = EINVAL;  // without a bias it is just an error
  EXPECT_EQ(pin->configure(PinMode::Input), Err::Io);
  chip.lines[0].fail_request = EBUSY;   // grabbed between claim and request
  EXPECT_EQ(pin->configure(PinMode::Output), Err::Busy);
  EXPECT_EQ(pin->write(true), Err::InvalidArgument);  // the failed request left no output
  chip.lines[0].fail_request = EPERM;
  EXPECT_EQ(pin->configure(PinMode::Input), Err::Io);
  ASSERT_EQ(pin->configure(PinMode::Input), Err::Ok);
  chip.lines[0].fail_io = EIO;
  EXPECT_EQ(pin->read().error(), Err::Io);
}

TEST_F(Gpiod, AnUnconfiguredPinIsReadAsAnInputAsIs) {
  GpiodController c("gpiochip0", &xiot_test::fake_gpio_open);
  ASSERT_EQ(c.open(), Err::Ok);
  hal::GpioPin* pin = c.claim(4).value();
  chip.lines[4].level = true;
  EXPECT_TRUE(pin->read().value());
  EXPECT_EQ(chip.lines[4].last.kind, GpioLineRequest::Kind::Input);
  EXPECT_EQ(chip.lines[4].last.bias, PinMode::Input);
}

TEST_F(Gpiod, EdgesAreRequestedWithTheBiasAndReadWithoutBlocking) {
  GpiodController c("gpiochip0", &xiot_test::fake_gpio_open);
  ASSERT_EQ(c.open(), Err::Ok);
  hal::GpioPin* pin = c.claim(6).value();
  hal::GpioEdge edges[4];
  EXPECT_EQ(pin->read_edges(edges, 4).error(), Err::NotReady);
  ASSERT_EQ(pin->configure(PinMode::InputPullUp), Err::Ok);
  ASSERT_EQ(pin->watch_edges(), Err::Ok);
  EXPECT_EQ(chip.lines[6].last.kind, GpioLineRequest::Kind::BothEdges);
  EXPECT_EQ(chip.lines[6].last.bias, PinMode::InputPullUp);
  EXPECT_EQ(pin->read_edges(edges, 4).value(), 0u);
  chip.lines[6].edges = {{false, 1000}, {true, 2000}, {false, 3000}};
  ASSERT_EQ(pin->read_edges(edges, 2).value(), 2u);
  EXPECT_FALSE(edges[0].level);
  EXPECT_EQ(edges[1].timestamp_ns, 2000);
  ASSERT_EQ(pin->read_edges(edges, 4).value(), 1u);
  EXPECT_EQ(edges[0].timestamp_ns, 3000);
  chip.lines[6].fail_io = EIO;
  EXPECT_EQ(pin->read_edges(edges, 4).error(), Err::Io);
  ASSERT_EQ(pin->configure(PinMode::Input), Err::Ok);  // a plain input again
  EXPECT_EQ(pin->read_edges(edges, 4).error(), Err::NotReady);
}

TEST_F(Gpiod, TheControllerReleasesItsLinesWhenItGoes) {
  {
    GpiodController c("gpiochip0", &xiot_test::fake_gpio_open);
    ASSERT_EQ(c.open(), Err::Ok);
    ASSERT_EQ(c.claim(1).value()->configure(PinMode::Output), Err::Ok);
    EXPECT_TRUE(chip.lines[1].requested);
  }
  EXPECT_FALSE(chip.lines[1].requested);
  EXPECT_EQ(chip.lines[1].consumer, "");
}

}  // namespace

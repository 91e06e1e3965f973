#include "gpio_input/gpio_input.hpp"

#include <new>

namespace drv {

namespace {
const ChannelSpec kState = {"state", "", ChannelKind::Sensor, ValueType::Boolean};
}  // namespace

GpioInput::GpioInput(const char* name, hal::GpioPin& pin, bool active_low, hal::PinMode mode)
    : Device(name, "xiot,gpio-input"), pin_(pin), active_low_(active_low), mode_(mode) {}

const ChannelSpec& GpioInput::channel(size_t) const { return kState; }

hal::Err GpioInput::init() {
  ready_ = false;
  have_sample_ = false;
  if (hal::Err e = pin_.configure(mode_); e != hal::Err::Ok) return e;
  ready_ = true;
  return hal::Err::Ok;
}

hal::Err GpioInput::sample() {
  if (!ready_) return hal::Err::NotReady;
  hal::Result<bool> level = pin_.read();
  if (!level.ok()) return level.error();
  state_ = level.value() != active_low_;
  have_sample_ = true;
  return hal::Err::Ok;
}

hal::Result<Value> GpioInput::get(size_t i) const {
  if (i != 0) return hal::Err::NotFound;
  if (!have_sample_) return hal::Err::NotReady;
  return Value::boolean(state_);
}

hal::Err GpioInput::set(size_t i, const Value&) {
  return i == 0 ? hal::Err::ReadOnly : hal::Err::NotFound;
}

std::unique_ptr<Device> create_gpio_input(const DeviceConfig& config, DriverError* error) {
  DriverError scratch;
  if (error == nullptr) error = &scratch;
  if (config.pin == nullptr) {
    error->set("needs a GPIO pin (\"gpio\", \"pin\")");
    return nullptr;
  }
  static const char* const kKeys[] = {"pull"};
  if (!check_param_keys(config, kKeys, 1, error)) return nullptr;
  static const char* const kPulls[] = {"up", "down", "none"};
  size_t pull = 2;
  if (!param_choice(config, "pull", kPulls, 3, 2, &pull, error)) return nullptr;
  const hal::PinMode mode = pull == 0   ? hal::PinMode::InputPullUp
                            : pull == 1 ? hal::PinMode::InputPullDown
                                        : hal::PinMode::Input;
  std::unique_ptr<Device> dev(
      new (std::nothrow) GpioInput(config.name, *config.pin, config.active_low, mode));
  if (!dev) error->set("out of memory");
  return dev;
}

}  // namespace drv

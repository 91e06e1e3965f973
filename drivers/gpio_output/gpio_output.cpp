#include "gpio_output/gpio_output.hpp"

#include <new>

namespace drv {

namespace {
const ChannelSpec kState = {"state", "", ChannelKind::Actuator, ValueType::Boolean};
}  // namespace

GpioOutput::GpioOutput(const char* name, hal::GpioPin& pin, bool active_low, bool initial)
    : Device(name, "xiot,gpio-output"), pin_(pin), active_low_(active_low), state_(initial) {}

const ChannelSpec& GpioOutput::channel(size_t) const { return kState; }

hal::Err GpioOutput::init() {
  ready_ = false;
  // One step, so the pin never shows the other level (an active-low relay
  // would click).
  if (hal::Err e = pin_.configure_output(state_ != active_low_); e != hal::Err::Ok) return e;
  ready_ = true;
  return hal::Err::Ok;
}

hal::Err GpioOutput::sample() { return ready_ ? hal::Err::Ok : hal::Err::NotReady; }

hal::Result<Value> GpioOutput::get(size_t i) const {
  if (i != 0) return hal::Err::NotFound;
  if (!ready_) return hal::Err::NotReady;
  return Value::boolean(state_);
}

hal::Err GpioOutput::set(size_t i, const Value& v) {
  if (i != 0) return hal::Err::NotFound;
  bool on = false;
  if (v.type == ValueType::Boolean) {
    on = v.flag;
  } else if (v.type == ValueType::Numeric && v.exponent == 0 && (v.mantissa == 0 || v.mantissa == 1)) {
    on = v.mantissa == 1;
  } else {
    return hal::Err::InvalidArgument;
  }
  if (!ready_) return hal::Err::NotReady;
  if (hal::Err e = pin_.write(on != active_low_); e != hal::Err::Ok) return e;
  state_ = on;
  return hal::Err::Ok;
}

std::unique_ptr<Device> create_gpio_output(const DeviceConfig& config, DriverError* error) {
  DriverError scratch;
  if (error == nullptr) error = &scratch;
  if (config.pin == nullptr) {
    error->set("needs a GPIO pin (\"gpio\", \"pin\")");
    return nullptr;
  }
  static const char* const kKeys[] = {"initial"};
  if (!check_param_keys(config, kKeys, 1, error)) return nullptr;
  int64_t initial = 0;
  if (!param_int(config, "initial", 0, 1, 0, &initial, error)) return nullptr;
  std::unique_ptr<Device> dev(
      new (std::nothrow) GpioOutput(config.name, *config.pin, config.active_low, initial != 0));
  if (!dev) error->set("out of memory");
  return dev;
}

}  // namespace drv

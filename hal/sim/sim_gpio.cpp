#include "hal/sim/sim_gpio.hpp"

namespace hal {
namespace sim {

class SimGpio::Pin final : public GpioPin {
 public:
  Err configure(PinMode m) override {
    if (Err e = take_fault(); e != Err::Ok) return e;
    mode = m;
    return Err::Ok;
  }
  Result<bool> read() override {
    if (Err e = take_fault(); e != Err::Ok) return e;
    return level();
  }
  Err write(bool l) override {
    if (Err e = take_fault(); e != Err::Ok) return e;
    if (mode != PinMode::Output) return Err::InvalidArgument;
    driven = l;
    ++writes;
    return Err::Ok;
  }

  bool level() const {
    if (mode == PinMode::Output) return driven;
    if (has_external) return external;
    return mode == PinMode::InputPullUp;
  }

  Err take_fault() {
    if (fault_count == 0) return Err::Ok;
    --fault_count;
    return fault;
  }

  PinMode mode = PinMode::Input;
  bool claimed = false;
  bool driven = false;
  bool has_external = false;
  bool external = false;
  uint32_t writes = 0;
  Err fault = Err::Ok;
  uint32_t fault_count = 0;
};

SimGpio::SimGpio(uint32_t line_count)
    : line_count_(line_count), pins_(new std::unique_ptr<Pin>[line_count]) {}

SimGpio::~SimGpio() = default;

SimGpio::Pin* SimGpio::pin(uint32_t number) {
  if (number >= line_count_) return nullptr;
  if (!pins_[number]) pins_[number].reset(new Pin());
  return pins_[number].get();
}

const SimGpio::Pin* SimGpio::find(uint32_t number) const {
  if (number >= line_count_) return nullptr;
  return pins_[number].get();
}

Result<GpioPin*> SimGpio::claim(uint32_t number) {
  Pin* p = pin(number);
  if (p == nullptr) return Err::NotFound;
  if (p->claimed) return Err::Busy;
  p->claimed = true;
  return static_cast<GpioPin*>(p);
}

void SimGpio::set_external(uint32_t number, bool level) {
  if (Pin* p = pin(number)) {
    p->has_external = true;
    p->external = level;
  }
}

void SimGpio::release_external(uint32_t number) {
  if (Pin* p = pin(number)) p->has_external = false;
}

bool SimGpio::level(uint32_t number) const {
  const Pin* p = find(number);
  return p != nullptr && p->level();
}

PinMode SimGpio::mode(uint32_t number) const {
  const Pin* p = find(number);
  return p == nullptr ? PinMode::Input : p->mode;
}

bool SimGpio::claimed(uint32_t number) const {
  const Pin* p = find(number);
  return p != nullptr && p->claimed;
}

uint32_t SimGpio::write_count(uint32_t number) const {
  const Pin* p = find(number);
  return p == nullptr ? 0 : p->writes;
}

void SimGpio::fail_next(uint32_t number, Err err, uint32_t count) {
  if (Pin* p = pin(number)) {
    p->fault = err;
    p->fault_count = err == Err::Ok ? 0 : count;
  }
}

}  // namespace sim
}  // namespace hal

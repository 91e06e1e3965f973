#include "hal/sim/sim_gpio.hpp"

namespace hal {
namespace sim {

class SimGpio::Pin final : public GpioPin {
 public:
  Err configure(PinMode m) override {
    if (Err e = take_fault(); e != Err::Ok) return e;
    mode = m;
    watching = false;  // as on Linux: a new request replaces the edge request
    edge_count = 0;
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

  Err watch_edges() override {
    if (Err e = take_fault(); e != Err::Ok) return e;
    if (mode == PinMode::Output) return Err::InvalidArgument;
    watching = true;
    edge_count = 0;
    return Err::Ok;
  }
  Result<size_t> read_edges(GpioEdge* out, size_t max) override {
    if (Err e = take_fault(); e != Err::Ok) return e;
    if (!watching) return Err::NotReady;
    if (out == nullptr) return Err::InvalidArgument;
    const size_t n = max < edge_count ? max : edge_count;
    for (size_t i = 0; i < n; ++i) out[i] = edges[i];
    for (size_t i = n; i < edge_count; ++i) edges[i - n] = edges[i];
    edge_count -= n;
    return n;
  }

  void push_edge(bool l, int64_t ns) {
    if (edge_count == kEdgeQueue) {
      ++lost;
      return;
    }
    edges[edge_count++] = GpioEdge{l, ns};
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
  bool watching = false;
  GpioEdge edges[kEdgeQueue];
  size_t edge_count = 0;
  uint32_t lost = 0;
  Err fault = Err::Ok;
  uint32_t fault_count = 0;
};

SimGpio::SimGpio(uint32_t line_count, MonotonicClock* clock)
    : line_count_(line_count), clock_(clock), pins_(new std::unique_ptr<Pin>[line_count]) {}

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

// Changes what drives the pin from outside; an input being watched records
// the edge when its level changes.
void SimGpio::drive(Pin* p, bool has_external, bool external) {
  if (p == nullptr) return;
  const bool before = p->level();
  p->has_external = has_external;
  p->external = external;
  const bool after = p->level();
  if (p->watching && after != before) {
    p->push_edge(after, clock_ != nullptr ? clock_->mono_now().us * 1000 : 0);
  }
}

void SimGpio::set_external(uint32_t number, bool level) { drive(pin(number), true, level); }

void SimGpio::release_external(uint32_t number) {
  Pin* p = pin(number);
  if (p != nullptr) drive(p, false, p->external);
}

bool SimGpio::watching_edges(uint32_t number) const {
  const Pin* p = find(number);
  return p != nullptr && p->watching;
}

size_t SimGpio::pending_edges(uint32_t number) const {
  const Pin* p = find(number);
  return p == nullptr ? 0 : p->edge_count;
}

uint32_t SimGpio::lost_edges(uint32_t number) const {
  const Pin* p = find(number);
  return p == nullptr ? 0 : p->lost;
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

#include "gpio_input/gpio_input.hpp"

#include <new>

namespace drv {

namespace {
const ChannelSpec kState = {"state", "", ChannelKind::Sensor, ValueType::Boolean};
// Edges taken per read_edges() call, and calls per update: more than the
// Linux queue (16) holds, so one update drains it; the bound keeps a line
// that toggles faster than we read from holding the loop.
constexpr size_t kEdgeBatch = 8;
constexpr int kMaxBatches = 4;
}  // namespace

GpioInput::GpioInput(const char* name, hal::GpioPin& pin, bool active_low, hal::PinMode mode,
                     hal::MonotonicClock& clock, uint32_t debounce_ms)
    : Device(name, "xiot,gpio-input"),
      pin_(pin),
      clock_(clock),
      active_low_(active_low),
      mode_(mode),
      debounce_ns_(static_cast<int64_t>(debounce_ms) * 1000000) {}

const ChannelSpec& GpioInput::channel(size_t) const { return kState; }

hal::Err GpioInput::init() {
  ready_ = false;
  have_sample_ = false;
  pending_ = false;
  changed_ = false;
  if (hal::Err e = pin_.configure(mode_); e != hal::Err::Ok) return e;
  const hal::Err w = pin_.watch_edges();
  if (w != hal::Err::Ok && w != hal::Err::NotSupported) return w;
  edges_ = w == hal::Err::Ok;
  // The level after the edge request: an edge racing this read is reported
  // later and ends at the same level, so it changes nothing.
  hal::Result<bool> level = pin_.read();
  if (!level.ok()) return level.error();
  stable_ = candidate_ = level.value();
  ready_ = true;
  return hal::Err::Ok;
}

// Takes every pending edge: the latest one's level is the candidate, its
// timestamp the start of the debounce window.
hal::Err GpioInput::take_edges() {
  hal::GpioEdge batch[kEdgeBatch];
  for (int i = 0; i < kMaxBatches; ++i) {
    hal::Result<size_t> n = pin_.read_edges(batch, kEdgeBatch);
    if (!n.ok()) return n.error();
    if (n.value() == 0) break;
    const hal::GpioEdge& last = batch[n.value() - 1];
    candidate_ = last.level;
    since_ns_ = last.timestamp_ns;
    pending_ = true;
    if (n.value() < kEdgeBatch) break;
  }
  return hal::Err::Ok;
}

hal::Err GpioInput::update() {
  const int64_t now_ns = clock_.mono_now().us * 1000;
  if (edges_) {
    if (hal::Err e = take_edges(); e != hal::Err::Ok) return e;
  } else {
    hal::Result<bool> level = pin_.read();
    if (!level.ok()) return level.error();
    if (level.value() != candidate_) {
      candidate_ = level.value();
      since_ns_ = now_ns;
      pending_ = true;
    }
  }
  if (!pending_) return hal::Err::Ok;
  // A timestamp from the future (a kernel stamping edges on another clock)
  // counts as now, so the window still closes.
  if (since_ns_ > now_ns) since_ns_ = now_ns;
  if (now_ns - since_ns_ < debounce_ns_) return hal::Err::Ok;
  if (edges_) {
    // Edges beyond the queue's capacity are lost: the level now is the truth.
    hal::Result<bool> level = pin_.read();
    if (!level.ok()) return level.error();
    if (level.value() != candidate_) {
      candidate_ = level.value();
      since_ns_ = now_ns;
      if (debounce_ns_ > 0) return hal::Err::Ok;  // its own window starts now
    }
  }
  pending_ = false;
  if (candidate_ != stable_) {
    stable_ = candidate_;
    changed_ = true;
  }
  return hal::Err::Ok;
}

hal::Err GpioInput::sample() {
  if (!ready_) return hal::Err::NotReady;
  if (hal::Err e = update(); e != hal::Err::Ok) return e;
  state_ = stable_ != active_low_;
  have_sample_ = true;
  return hal::Err::Ok;
}

bool GpioInput::poll_changes() {
  if (!ready_) return false;
  (void)update();  // an error shows at the next sample()
  const bool changed = changed_;
  changed_ = false;
  return changed;
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
  if (config.clock == nullptr) {
    error->set("needs the monotonic clock (for debouncing)");
    return nullptr;
  }
  static const char* const kKeys[] = {"pull", "debounce_ms"};
  if (!check_param_keys(config, kKeys, 2, error)) return nullptr;
  static const char* const kPulls[] = {"up", "down", "none"};
  size_t pull = 2;
  if (!param_choice(config, "pull", kPulls, 3, 2, &pull, error)) return nullptr;
  int64_t debounce_ms = 0;
  if (!param_int(config, "debounce_ms", 0, GpioInput::kMaxDebounceMs, GpioInput::kDefaultDebounceMs,
                 &debounce_ms, error)) {
    return nullptr;
  }
  const hal::PinMode mode = pull == 0   ? hal::PinMode::InputPullUp
                            : pull == 1 ? hal::PinMode::InputPullDown
                                        : hal::PinMode::Input;
  std::unique_ptr<Device> dev(new (std::nothrow) GpioInput(config.name, *config.pin, config.active_low, mode,
                                                           *config.clock, static_cast<uint32_t>(debounce_ms)));
  if (!dev) error->set("out of memory");
  return dev;
}

}  // namespace drv

// Test doubles for agent/core unit tests: manual clocks, a scriptable device
// and a recording telemetry sink.
#pragma once

#include <cstring>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "agent/telemetry.hpp"
#include "drv/device.hpp"
#include "hal/clock.hpp"

namespace xiot_test {

class FakeMonoClock : public hal::MonotonicClock {
 public:
  hal::MonoTime mono_now() override { return now; }
  void advance_ms(int64_t ms) { now = now.plus_ms(ms); }
  hal::MonoTime now{1000000};  // not zero, to catch "0 means unset" bugs
};

class FakeWallClock : public hal::WallClock {
 public:
  hal::WallTime wall_now() override { return now; }
  void advance_ms(int64_t ms) { now.unix_us += ms * 1000; }
  hal::WallTime now{1763900000250000};  // 2025-11-23T12:13:20.25Z
};

/// A device whose channel values, sample() result and get() results are set
/// by the test. Channel specs are copied in.
class FakeDevice : public drv::Device {
 public:
  FakeDevice(const char* name, std::vector<drv::ChannelSpec> specs)
      : drv::Device(name_storage(name), "test,fake"), specs_(std::move(specs)), values_(specs_.size()) {
    for (size_t i = 0; i < specs_.size(); ++i) values_[i].type = specs_[i].type;
  }
  size_t channel_count() const override { return specs_.size(); }
  const drv::ChannelSpec& channel(size_t i) const override { return specs_[i]; }
  hal::Err init() override { return init_error; }
  hal::Err sample() override {
    ++sample_calls;
    if (sample_error == hal::Err::Ok) sampled = true;
    return sample_error;
  }
  hal::Result<drv::Value> get(size_t i) const override {
    if (i >= specs_.size()) return hal::Err::NotFound;
    if (!sampled) return hal::Err::NotReady;
    if (get_error == hal::Err::Ok || i != get_error_channel) return values_[i];
    return get_error;
  }
  void set_value(size_t i, drv::Value v) { values_[i] = v; }
  /// Reports `changes` once (an edge since the last call), as a debounced
  /// GPIO input would.
  bool poll_changes() override {
    ++poll_calls;
    const bool c = changes;
    changes = false;
    return c;
  }

  bool changes = false;
  int poll_calls = 0;
  hal::Err init_error = hal::Err::Ok;
  hal::Err sample_error = hal::Err::Ok;
  hal::Err get_error = hal::Err::Ok;
  size_t get_error_channel = 0;
  int sample_calls = 0;
  bool sampled = false;

 private:
  // The base class keeps the pointer; keep the text alive with the test binary.
  static const char* name_storage(const char* name) {
    static std::vector<std::unique_ptr<std::string>> names;
    names.push_back(std::make_unique<std::string>(name));
    return names.back()->c_str();
  }
  std::vector<drv::ChannelSpec> specs_;
  std::vector<drv::Value> values_;
};

inline drv::ChannelSpec sensor(const char* q, const char* unit,
                               drv::ValueType t = drv::ValueType::Numeric) {
  return drv::ChannelSpec{q, unit, drv::ChannelKind::Sensor, t};
}
inline drv::ChannelSpec actuator(const char* q, const char* unit,
                                 drv::ValueType t = drv::ValueType::Boolean) {
  return drv::ChannelSpec{q, unit, drv::ChannelKind::Actuator, t};
}

/// Records every publish; ready and the next results are scriptable. With a
/// `listener` (the outbox) and auto_ack, each accepted publish is answered at
/// once with PublishOutcome::Accepted, as a server's IQ result would be.
class FakeSink : public agent::TelemetrySink {
 public:
  struct Item {
    std::string id;
    std::string payload;
    hal::MonoTime at;
  };
  explicit FakeSink(hal::MonotonicClock* clock = nullptr, bool record = true)
      : clock_(clock), record_(record) {}
  bool ready() override { return is_ready; }
  hal::Err publish(const char* item_id, const char* payload, size_t len) override {
    ++calls;
    if (!results.empty()) {
      const hal::Err e = results.front();
      results.erase(results.begin());
      if (e != hal::Err::Ok) return e;
    }
    if (record_) {
      items.push_back(Item{item_id, std::string(payload, len),
                           clock_ != nullptr ? clock_->mono_now() : hal::MonoTime{}});
    }
    ++accepted;
    if (listener != nullptr && auto_ack) listener->on_publish_result(item_id, agent::PublishOutcome::Accepted, "");
    return hal::Err::Ok;
  }
  uint32_t link_epoch() override { return epoch; }

  bool is_ready = true;
  agent::PublishListener* listener = nullptr;
  bool auto_ack = true;
  uint32_t epoch = 0;
  std::vector<hal::Err> results;  // consumed one per publish() call; empty = Ok
  std::vector<Item> items;
  int calls = 0;
  int accepted = 0;

 private:
  hal::MonotonicClock* clock_;
  bool record_;
};

}  // namespace xiot_test

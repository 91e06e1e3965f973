// A fake GPIO chip behind hal::linux_::GpioChipPort: the kernel side of
// GpiodController (lines, their users, requests, levels, edge events) with
// errno injection, for unit tests on hosts without gpio-sim.
#pragma once

#include <errno.h>

#include <cstring>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "hal/linux/gpiod_controller.hpp"

namespace xiot_test {

struct FakeGpioLine {
  std::string name;
  std::string consumer;  ///< non-empty: held (by "xiot" when we requested it)
  bool requested = false;
  hal::linux_::GpioLineRequest last;  ///< the last request
  int requests = 0;
  bool level = false;
  std::deque<hal::GpioEdge> edges;
  int fail_request = 0;  ///< errno for the next request
  int fail_io = 0;       ///< errno for the next get/set/read_edges
};

struct FakeGpioChipState {
  std::string name = "gpiochip0";
  std::string label = "fake-gpio";
  std::vector<FakeGpioLine> lines;
  int opens = 0;
  explicit FakeGpioChipState(size_t n = 8) : lines(n) {}
};

class FakeGpioChip final : public hal::linux_::GpioChipPort {
 public:
  explicit FakeGpioChip(FakeGpioChipState& s) : s_(s) {}
  ~FakeGpioChip() override {
    for (FakeGpioLine& l : s_.lines) {
      if (l.requested) release_line(l);
    }
  }
  const char* name() const override { return s_.name.c_str(); }
  const char* label() const override { return s_.label.c_str(); }
  uint32_t line_count() const override { return static_cast<uint32_t>(s_.lines.size()); }
  int find_line(const char* n, uint32_t* offset) override {
    for (size_t i = 0; i < s_.lines.size(); ++i) {
      if (s_.lines[i].name == n) {
        *offset = static_cast<uint32_t>(i);
        return 0;
      }
    }
    return ENOENT;
  }
  int line_user(uint32_t offset, bool* used, const char** consumer) override {
    const FakeGpioLine& l = s_.lines.at(offset);
    *used = !l.consumer.empty();
    *consumer = l.consumer.c_str();
    return 0;
  }
  int request(uint32_t offset, const hal::linux_::GpioLineRequest& req) override {
    FakeGpioLine& l = s_.lines.at(offset);
    if (l.requested) release_line(l);
    if (int e = take(&l.fail_request)) return e;
    if (!l.consumer.empty()) return EBUSY;
    l.requested = true;
    l.consumer = "xiot";
    l.last = req;
    ++l.requests;
    if (req.kind == hal::linux_::GpioLineRequest::Kind::Output) l.level = req.initial;
    return 0;
  }
  void release(uint32_t offset) override {
    FakeGpioLine& l = s_.lines.at(offset);
    if (l.requested) release_line(l);
  }
  int get_value(uint32_t offset, bool* level) override {
    FakeGpioLine& l = s_.lines.at(offset);
    if (int e = take(&l.fail_io)) return e;
    if (!l.requested) return EPERM;
    *level = l.level;
    return 0;
  }
  int set_value(uint32_t offset, bool level) override {
    FakeGpioLine& l = s_.lines.at(offset);
    if (int e = take(&l.fail_io)) return e;
    if (!l.requested || l.last.kind != hal::linux_::GpioLineRequest::Kind::Output) return EPERM;
    l.level = level;
    return 0;
  }
  int read_edges(uint32_t offset, hal::GpioEdge* out, size_t max, size_t* n) override {
    FakeGpioLine& l = s_.lines.at(offset);
    *n = 0;
    if (int e = take(&l.fail_io)) return e;
    if (!l.requested || l.last.kind != hal::linux_::GpioLineRequest::Kind::BothEdges) return EPERM;
    while (*n < max && !l.edges.empty()) {
      out[(*n)++] = l.edges.front();
      l.edges.pop_front();
    }
    return 0;
  }

 private:
  static int take(int* e) {
    const int v = *e;
    *e = 0;
    return v;
  }
  static void release_line(FakeGpioLine& l) {
    l.requested = false;
    l.consumer.clear();
    l.edges.clear();
  }
  FakeGpioChipState& s_;
};

/// The chips a FakeGpioOpener knows, by name or label (set by the test; an
/// opener is a plain function pointer, so this is the one global of the fake).
inline std::vector<FakeGpioChipState*>& fake_gpio_chips() {
  static std::vector<FakeGpioChipState*> chips;
  return chips;
}

inline std::unique_ptr<hal::linux_::GpioChipPort> fake_gpio_open(const char* chip, int* err) {
  for (FakeGpioChipState* s : fake_gpio_chips()) {
    if (s->name == chip || s->label == chip || "/dev/" + s->name == chip) {
      ++s->opens;
      return std::unique_ptr<hal::linux_::GpioChipPort>(new FakeGpioChip(*s));
    }
  }
  *err = ENOENT;
  return nullptr;
}

/// Registers `state` with fake_gpio_open() for the scope.
class FakeGpioChipScope {
 public:
  explicit FakeGpioChipScope(FakeGpioChipState& s) { fake_gpio_chips().push_back(&s); }
  ~FakeGpioChipScope() { fake_gpio_chips().clear(); }
};

}  // namespace xiot_test

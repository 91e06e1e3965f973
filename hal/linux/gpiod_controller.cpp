// See gpiod_controller.hpp. libgpiod 1.6 (v1 API): the only file that
// includes <gpiod.h>.
#include "hal/linux/gpiod_controller.hpp"

#include <errno.h>
#include <gpiod.h>

#include <cstring>
#include <new>

namespace hal {
namespace linux_ {

namespace {

constexpr const char* kConsumer = "xiot";

Err from_errno(int e) {
  switch (e) {
    case ENOENT:
    case ENODEV: return Err::NotFound;
    case EBUSY: return Err::Busy;
    default: return Err::Io;
  }
}

int bias_flags(PinMode bias) {
  switch (bias) {
    case PinMode::InputPullUp: return GPIOD_LINE_REQUEST_FLAG_BIAS_PULL_UP;
    case PinMode::InputPullDown: return GPIOD_LINE_REQUEST_FLAG_BIAS_PULL_DOWN;
    default: return 0;  // as is: what firmware or the device tree set
  }
}

/// libgpiod's chip: lines are the chip's own objects (gpiod_chip_get_line),
/// released with it.
class LibgpiodChip final : public GpioChipPort {
 public:
  explicit LibgpiodChip(gpiod_chip* chip) : chip_(chip) {}
  ~LibgpiodChip() override { gpiod_chip_close(chip_); }

  const char* name() const override { return gpiod_chip_name(chip_); }
  const char* label() const override { return gpiod_chip_label(chip_); }
  uint32_t line_count() const override { return gpiod_chip_num_lines(chip_); }

  int find_line(const char* line_name, uint32_t* offset) override {
    errno = 0;
    gpiod_line* l = gpiod_chip_find_line(chip_, line_name);
    if (l == nullptr) return errno != 0 ? errno : ENOENT;
    *offset = gpiod_line_offset(l);
    return 0;
  }

  int line_user(uint32_t offset, bool* used, const char** consumer) override {
    gpiod_line* l = line(offset);
    if (l == nullptr) return errno;
    if (gpiod_line_update(l) != 0) return errno;
    *used = gpiod_line_is_used(l);
    const char* c = gpiod_line_consumer(l);
    *consumer = c != nullptr ? c : "";
    return 0;
  }

  int request(uint32_t offset, const GpioLineRequest& req) override {
    gpiod_line* l = line(offset);
    if (l == nullptr) return errno;
    if (gpiod_line_is_requested(l)) gpiod_line_release(l);
    const int flags = bias_flags(req.bias);
    int rc = -1;
    switch (req.kind) {
      case GpioLineRequest::Kind::Input: rc = gpiod_line_request_input_flags(l, kConsumer, flags); break;
      case GpioLineRequest::Kind::Output:
        rc = gpiod_line_request_output_flags(l, kConsumer, 0, req.initial ? 1 : 0);
        break;
      case GpioLineRequest::Kind::BothEdges:
        rc = gpiod_line_request_both_edges_events_flags(l, kConsumer, flags);
        break;
    }
    return rc == 0 ? 0 : errno;
  }

  void release(uint32_t offset) override {
    gpiod_line* l = line(offset);
    if (l != nullptr && gpiod_line_is_requested(l)) gpiod_line_release(l);
  }

  int get_value(uint32_t offset, bool* level) override {
    gpiod_line* l = line(offset);
    if (l == nullptr) return errno;
    const int v = gpiod_line_get_value(l);
    if (v < 0) return errno;
    *level = v == 1;
    return 0;
  }

  int set_value(uint32_t offset, bool level) override {
    gpiod_line* l = line(offset);
    if (l == nullptr) return errno;
    return gpiod_line_set_value(l, level ? 1 : 0) == 0 ? 0 : errno;
  }

  int read_edges(uint32_t offset, GpioEdge* out, size_t max, size_t* n) override {
    *n = 0;
    gpiod_line* l = line(offset);
    if (l == nullptr) return errno;
    const timespec zero = {0, 0};
    while (*n < max) {
      const int ready = gpiod_line_event_wait(l, &zero);
      if (ready < 0) return errno == EINTR ? 0 : errno;
      if (ready == 0) break;
      gpiod_line_event ev {};
      if (gpiod_line_event_read(l, &ev) != 0) return errno;
      // Since Linux 5.7 the v1 event timestamp is CLOCK_MONOTONIC.
      out[*n].level = ev.event_type == GPIOD_LINE_EVENT_RISING_EDGE;
      out[*n].timestamp_ns = static_cast<int64_t>(ev.ts.tv_sec) * 1000000000 + ev.ts.tv_nsec;
      ++*n;
    }
    return 0;
  }

 private:
  gpiod_line* line(uint32_t offset) { return gpiod_chip_get_line(chip_, offset); }

  gpiod_chip* chip_;
};

}  // namespace

std::unique_ptr<GpioChipPort> open_gpiod_chip(const char* chip, int* err) {
  errno = 0;
  gpiod_chip* c = gpiod_chip_open_lookup(chip);
  if (c == nullptr) {
    *err = errno != 0 ? errno : ENOENT;
    return nullptr;
  }
  std::unique_ptr<GpioChipPort> port(new (std::nothrow) LibgpiodChip(c));
  if (!port) {
    gpiod_chip_close(c);
    *err = ENOMEM;
  }
  return port;
}

class GpiodController::Pin final : public GpioPin {
 public:
  Pin(GpioChipPort& port, uint32_t offset) : port_(port), offset_(offset) {}
  ~Pin() override { port_.release(offset_); }

  Err configure(PinMode mode) override {
    GpioLineRequest req;
    req.kind = mode == PinMode::Output ? GpioLineRequest::Kind::Output : GpioLineRequest::Kind::Input;
    req.bias = mode;
    if (Err e = request(req); e != Err::Ok) return e;
    mode_ = mode;
    configured_ = true;
    watching_ = false;
    return Err::Ok;
  }

  Result<bool> read() override {
    if (!configured_) {
      if (Err e = configure(PinMode::Input); e != Err::Ok) return e;
    }
    bool level = false;
    const int rc = port_.get_value(offset_, &level);
    if (rc != 0) return from_errno(rc);
    return level;
  }

  Err write(bool level) override {
    if (!configured_ || mode_ != PinMode::Output) return Err::InvalidArgument;
    const int rc = port_.set_value(offset_, level);
    return rc == 0 ? Err::Ok : from_errno(rc);
  }

  Err watch_edges() override {
    if (mode_ == PinMode::Output && configured_) return Err::InvalidArgument;
    GpioLineRequest req;
    req.kind = GpioLineRequest::Kind::BothEdges;
    req.bias = mode_;
    if (Err e = request(req); e != Err::Ok) return e;
    configured_ = true;
    watching_ = true;
    return Err::Ok;
  }

  Result<size_t> read_edges(GpioEdge* out, size_t max) override {
    if (!watching_) return Err::NotReady;
    if (out == nullptr) return Err::InvalidArgument;
    size_t n = 0;
    const int rc = port_.read_edges(offset_, out, max, &n);
    if (rc != 0) return from_errno(rc);
    return n;
  }

 private:
  Err request(const GpioLineRequest& req) {
    const int rc = port_.request(offset_, req);
    if (rc == 0) return Err::Ok;
    configured_ = false;  // a failed re-request leaves the line released
    watching_ = false;
    // Bias flags are the one thing an older kernel rejects as invalid.
    if (rc == EINVAL && req.bias != PinMode::Input) return Err::NotSupported;
    return from_errno(rc);
  }

  GpioChipPort& port_;
  uint32_t offset_;
  PinMode mode_ = PinMode::Input;
  bool configured_ = false;
  bool watching_ = false;
};

GpiodController::GpiodController(const char* chip, GpioChipOpener opener) : opener_(opener) {
  if (chip == nullptr) return;
  const size_t n = std::strlen(chip);
  if (n > kMaxChipLen) return;
  std::memcpy(chip_, chip, n + 1);
}

// Pins first (they release their lines through the port), then the port.
GpiodController::~GpiodController() { pins_.reset(); }

Err GpiodController::open() {
  if (chip_[0] == '\0' || opener_ == nullptr) return Err::InvalidArgument;
  if (port_) return Err::Ok;
  int err = 0;
  std::unique_ptr<GpioChipPort> port = opener_(chip_, &err);
  if (!port) return err == ENOMEM ? Err::NoSpace : from_errno(err);
  std::unique_ptr<std::unique_ptr<Pin>[]> pins(new (std::nothrow) std::unique_ptr<Pin>[port->line_count()]);
  if (!pins) return Err::NoSpace;
  port_ = std::move(port);
  pins_ = std::move(pins);
  return Err::Ok;
}

Result<GpioPin*> GpiodController::claim(uint32_t offset) {
  if (!port_) return Err::NotReady;
  if (offset >= port_->line_count()) return Err::NotFound;
  if (pins_[offset]) return Err::Busy;
  bool used = false;
  const char* consumer = "";
  const int rc = port_->line_user(offset, &used, &consumer);
  if (rc != 0) return from_errno(rc);
  if (used) return Err::Busy;
  pins_[offset].reset(new (std::nothrow) Pin(*port_, offset));
  if (!pins_[offset]) return Err::NoSpace;
  return static_cast<GpioPin*>(pins_[offset].get());
}

Result<uint32_t> GpiodController::find_line(const char* line_name) {
  if (!port_) return Err::NotReady;
  if (line_name == nullptr || line_name[0] == '\0') return Err::InvalidArgument;
  uint32_t offset = 0;
  const int rc = port_->find_line(line_name, &offset);
  if (rc != 0) return rc == ENOENT ? Err::NotFound : from_errno(rc);
  return offset;
}

const char* GpiodController::holder(uint32_t offset) {
  if (!port_ || offset >= port_->line_count() || pins_[offset]) return "";
  bool used = false;
  const char* consumer = "";
  return port_->line_user(offset, &used, &consumer) == 0 && used ? consumer : "";
}

const char* GpiodController::chip_name() const { return port_ ? port_->name() : ""; }
const char* GpiodController::chip_label() const { return port_ ? port_->label() : ""; }
uint32_t GpiodController::line_count() const { return port_ ? port_->line_count() : 0; }

}  // namespace linux_
}  // namespace hal

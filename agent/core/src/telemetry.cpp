#include "agent/telemetry.hpp"

#include <cmath>
#include <cstring>
#include <new>

#include "agent/limits.hpp"
#include "agent/log.hpp"
#include "agent/senml_pb.hpp"
#include "text_writer.hpp"

namespace agent {

namespace {

constexpr const char* kArea = "telemetry";

template <typename T>
std::unique_ptr<T[]> alloc_array(size_t n) {
  // Never zero-sized, so an empty channel set still yields a valid pointer.
  return std::unique_ptr<T[]>(new (std::nothrow) T[n == 0 ? 1 : n]);
}

bool boot_id_ok(const char* id) {
  if (id == nullptr || id[0] == '\0') return false;
  const size_t n = std::strlen(id);
  if (n > TelemetryPublisher::kMaxBootIdLen) return false;
  for (size_t i = 0; i < n; ++i) {
    const auto c = static_cast<unsigned char>(id[i]);
    if (c <= 0x20 || c >= 0x7F) return false;
  }
  return true;
}

}  // namespace

hal::Result<size_t> make_boot_id(char* out, size_t cap, uint64_t random) {
  if (out == nullptr || cap < 9) return hal::Err::Overflow;
  const auto v = static_cast<uint32_t>(random ^ (random >> 32));
  static const char kHex[] = "0123456789abcdef";
  for (int i = 0; i < 8; ++i) out[i] = kHex[(v >> (28 - 4 * i)) & 0xF];
  out[8] = '\0';
  return size_t{8};
}

hal::Result<size_t> format_item_id(char* out, size_t cap, const char* boot_id, uint64_t seq) {
  detail::TextWriter w(out, cap);
  w.put(boot_id != nullptr ? boot_id : "");
  w.put_char('-');
  w.put_uint(seq, 6);
  return w.finish();
}

TelemetryPublisher::TelemetryPublisher(drv::Registry& reg, hal::MonotonicClock& mono, hal::WallClock& wall,
                                       const TelemetryConfig& cfg, const char* device_id,
                                       const char* boot_id, TelemetrySink& sink, Journal* journal,
                                       const OutboxOptions& outbox)
    : reg_(reg),
      mono_(mono),
      wall_(wall),
      outbox_(sink, mono, journal, outbox),
      device_id_arg_(device_id),
      boot_id_arg_(boot_id),
      encoding_(cfg.encoding),
      cfg_interval_s_(cfg.interval_s),
      cfg_batch_max_(cfg.batch_max) {}

TelemetryPublisher::~TelemetryPublisher() = default;

bool TelemetryPublisher::valid_settings(double interval_s, uint32_t batch_max) {
  return std::isfinite(interval_s) && interval_s >= limits::kIntervalS.lo && interval_s <= limits::kIntervalS.hi &&
         batch_max >= limits::kBatchMax.lo && batch_max <= limits::kBatchMax.hi;
}

size_t TelemetryPublisher::slot_bound(uint32_t batch_cap) const {
  // A throw-away "shape" row (start-up/reconfigure only, never per item).
  std::unique_ptr<Sample[]> shape = alloc_array<Sample>(channel_count_);
  if (!shape) return 0;
  for (size_t i = 0; i < channel_count_; ++i) {
    shape[i].name = channels_[i].name;
    shape[i].unit = channels_[i].unit;
    shape[i].value = drv::Value{};
    shape[i].value.type = channels_[i].type;
  }
  const char* bn = base_name_.get();
  return encoding_ == Encoding::Protobuf ? senml_pb_bound(bn, shape.get(), channel_count_, batch_cap)
                                         : senml_xml_bound(bn, shape.get(), channel_count_, batch_cap);
}

hal::Err TelemetryPublisher::allocate(uint32_t batch_cap, std::unique_ptr<Sample[]>* samples,
                                      std::unique_ptr<Snapshot[]>* snaps, size_t* slot_cap) {
  const size_t cap = slot_bound(batch_cap);
  if (cap == 0) return hal::Err::NoSpace;
  *samples = alloc_array<Sample>(static_cast<size_t>(batch_cap) * channel_count_);
  *snaps = alloc_array<Snapshot>(batch_cap);
  if (!*samples || !*snaps) return hal::Err::NoSpace;
  *slot_cap = cap;
  return hal::Err::Ok;
}

hal::Err TelemetryPublisher::start() {
  if (started_) return hal::Err::InvalidArgument;
  if (!valid_settings(cfg_interval_s_, cfg_batch_max_) || device_id_arg_ == nullptr ||
      !boot_id_ok(boot_id_arg_)) {
    return hal::Err::InvalidArgument;
  }
  std::strcpy(boot_id_, boot_id_arg_);

  const size_t bn_cap = std::strlen(device_id_arg_) + 3;  // optional 'x' prefix, ':' and NUL
  base_name_ = alloc_array<char>(bn_cap);
  if (!base_name_) return hal::Err::NoSpace;
  if (!senml_base_name(base_name_.get(), bn_cap, device_id_arg_).ok()) return hal::Err::InvalidArgument;

  // The channel table and the "device.quantity" names, built once.
  channel_count_ = reg_.channel_count();
  size_t names_len = 0;
  for (size_t d = 0; d < reg_.device_count(); ++d) {
    const drv::Device& dev = reg_.device(d);
    for (size_t c = 0; c < dev.channel_count(); ++c) {
      names_len += std::strlen(dev.name()) + 1 + std::strlen(dev.channel(c).quantity) + 1;
    }
  }
  names_ = alloc_array<char>(names_len);
  channels_ = alloc_array<Channel>(channel_count_);
  if (!names_ || !channels_) return hal::Err::NoSpace;
  size_t at = 0;
  size_t k = 0;
  for (size_t d = 0; d < reg_.device_count(); ++d) {
    drv::Device& dev = reg_.device(d);
    for (size_t c = 0; c < dev.channel_count(); ++c) {
      const drv::ChannelSpec& spec = dev.channel(c);
      char* name = names_.get() + at;
      const size_t dn = std::strlen(dev.name());
      const size_t qn = std::strlen(spec.quantity);
      std::memcpy(name, dev.name(), dn);
      name[dn] = '.';
      std::memcpy(name + dn + 1, spec.quantity, qn);
      name[dn + 1 + qn] = '\0';
      at += dn + qn + 2;
      channels_[k++] = Channel{&dev, d, c, name, spec.unit != nullptr ? spec.unit : "", spec.type};
    }
  }

  hal::Err e = allocate(cfg_batch_max_, &samples_, &snaps_, &slot_cap_);
  if (e != hal::Err::Ok) return e;
  e = outbox_.start(slot_cap_);
  if (e != hal::Err::Ok) return e;
  batch_cap_ = cfg_batch_max_;
  batch_max_ = cfg_batch_max_;
  interval_us_ = std::llround(cfg_interval_s_ * 1e6);
  started_ = true;
  XLOG_DEBUG(kArea, "started: %zu channels, every %lld us, batch %u, %zu-byte items", channel_count_,
             static_cast<long long>(interval_us_), batch_max_, slot_cap_);
  return hal::Err::Ok;
}

void TelemetryPublisher::take_sample() {
  const size_t failed = reg_.sample_all();
  read_errors_ += failed;
  ++samples_taken_;
  const hal::WallTime when = wall_.wall_now();
  Sample* row = samples_.get() + batch_count_ * channel_count_;
  size_t n = 0;
  for (size_t i = 0; i < channel_count_; ++i) {
    const Channel& ch = channels_[i];
    if (reg_.last_sample_error(ch.device_index) != hal::Err::Ok) continue;
    const hal::Result<drv::Value> v = ch.device->get(ch.index);
    if (!v.ok()) continue;  // e.g. NotReady: nothing to report for this channel
    row[n].name = ch.name;
    row[n].unit = ch.unit;
    row[n].value = v.value();
    ++n;
  }
  if (n == 0) return;  // nothing readable this time; health reports why
  snaps_[batch_count_] = Snapshot{when, row, n};
  ++batch_count_;
  if (batch_count_ >= batch_max_) close_batch();
}

void TelemetryPublisher::close_batch() {
  if (batch_count_ == 0) return;
  size_t cap = 0;
  char* buf = outbox_.item_buffer(&cap);
  const hal::Result<size_t> len =
      encoding_ == Encoding::Protobuf
          ? format_senml_pb(buf, cap, base_name_.get(), snaps_.get(), batch_count_)
          : format_senml_xml(buf, cap, base_name_.get(), snaps_.get(), batch_count_);
  batch_count_ = 0;
  const hal::Err e = len.ok() ? outbox_.commit(len.value(), boot_id_) : len.error();
  if (e != hal::Err::Ok) {
    // Cannot happen with the start()-computed bound; counted, never silent.
    last_error_ = e;
    ++items_dropped_;
    XLOG_ERROR(kArea, "cannot format item %llu: %s", static_cast<unsigned long long>(outbox_.next_seq()),
               hal::err_name(e));
  }
}

size_t TelemetryPublisher::flush() { return started_ ? outbox_.pump() : 0; }

hal::MonoTime TelemetryPublisher::tick() {
  const hal::MonoTime now = mono_.mono_now();
  if (!started_) return now;
  if (!scheduled_) {
    next_due_ = now;
    scheduled_ = true;
  }
  if (now >= next_due_) {
    take_sample();
    next_due_ = next_due_.plus_us(interval_us_);
    if (next_due_ <= now) {
      // Late by one interval or more: skip to the next slot in the future
      // (keeping the original phase) instead of sampling in a burst.
      const int64_t missed = now.us_since(next_due_) / interval_us_ + 1;
      next_due_ = next_due_.plus_us(missed * interval_us_);
      slots_skipped_ += static_cast<uint64_t>(missed);
    }
  }
  flush();
  outbox_.tick();
  return next_due_;
}

void TelemetryPublisher::publish_now() {
  if (!started_) return;
  take_sample();
  close_batch();
  flush();
}

hal::Err TelemetryPublisher::reconfigure(double interval_s, uint32_t batch_max) {
  if (!started_ || !valid_settings(interval_s, batch_max)) return hal::Err::InvalidArgument;
  close_batch();
  if (batch_max > batch_cap_) {
    std::unique_ptr<Sample[]> samples;
    std::unique_ptr<Snapshot[]> snaps;
    size_t cap = 0;
    const hal::Err e = allocate(batch_max, &samples, &snaps, &cap);
    if (e != hal::Err::Ok) return e;
    // Larger items: the outbox keeps what it queued.
    if (outbox_.grow(cap) != hal::Err::Ok) return hal::Err::NoSpace;
    samples_ = std::move(samples);
    snaps_ = std::move(snaps);
    slot_cap_ = cap;
    batch_cap_ = batch_max;
  }
  batch_max_ = batch_max;
  interval_us_ = std::llround(interval_s * 1e6);
  if (scheduled_) next_due_ = mono_.mono_now().plus_us(interval_us_);
  flush();
  return hal::Err::Ok;
}

}  // namespace agent

#include "agent/telemetry.hpp"

#include <cmath>
#include <cstdint>
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
      cfg_batch_max_(cfg.batch_max),
      cfg_sample_s_(cfg.sample_s),
      cfg_window_s_(cfg.batch_window_s) {}

TelemetryPublisher::~TelemetryPublisher() = default;

bool TelemetryPublisher::valid_settings(double interval_s, uint32_t batch_max) {
  return std::isfinite(interval_s) && interval_s >= limits::kIntervalS.lo && interval_s <= limits::kIntervalS.hi &&
         batch_max >= limits::kBatchMax.lo && batch_max <= limits::kBatchMax.hi;
}

bool TelemetryPublisher::valid_sample(double sample_s) {
  return std::isfinite(sample_s) && sample_s >= limits::kSampleS.lo && sample_s <= limits::kSampleS.hi;
}

bool TelemetryPublisher::valid_window(double window_s) {
  return std::isfinite(window_s) && window_s >= limits::kBatchWindowS.lo && window_s <= limits::kBatchWindowS.hi;
}

uint32_t TelemetryPublisher::effective_batch(int64_t interval_us, uint32_t batch_max, int64_t window_us) {
  if (window_us <= 0 || interval_us <= 0) return batch_max;
  const int64_t fit = window_us / interval_us;  // readings that fit in the window
  const auto hi = static_cast<int64_t>(limits::kBatchMax.hi);
  const auto window_batch = static_cast<uint32_t>(fit < hi ? fit : hi);
  return window_batch > batch_max ? window_batch : batch_max;
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
  if (!valid_settings(cfg_interval_s_, cfg_batch_max_) || !valid_sample(cfg_sample_s_) ||
      !valid_window(cfg_window_s_) || device_id_arg_ == nullptr ||
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
      drv::ReportPolicy policy;
      if (policies_arg_ != nullptr && k < policies_count_arg_) policy = policies_arg_[k];
      if (policy.mode == drv::ReportMode::Deadband &&
          (spec.type != drv::ValueType::Numeric || policy.deadband_mantissa < 0)) {
        return hal::Err::InvalidArgument;
      }
      if (policy.mode != drv::ReportMode::Interval) {
        event_devices_ |= 1u << d;
        if (policy.mode == drv::ReportMode::OnChange) poll_devices_ |= 1u << d;
      }
      channels_[k++] = Channel{&dev, d, c, name, spec.unit != nullptr ? spec.unit : "", spec.type, policy,
                               drv::Value{}, false};
    }
  }
  if (policies_arg_ != nullptr && policies_count_arg_ != channel_count_) return hal::Err::InvalidArgument;

  interval_us_ = std::llround(cfg_interval_s_ * 1e6);
  window_us_ = std::llround(cfg_window_s_ * 1e6);
  const uint32_t batch = effective_batch(interval_us_, cfg_batch_max_, window_us_);
  hal::Err e = allocate(batch, &samples_, &snaps_, &slot_cap_);
  if (e != hal::Err::Ok) return e;
  e = outbox_.start(slot_cap_);
  if (e != hal::Err::Ok) return e;
  batch_cap_ = batch;
  batch_max_ = batch;
  user_batch_max_ = cfg_batch_max_;
  sample_us_ = std::llround(cfg_sample_s_ * 1e6);
  started_ = true;
  XLOG_DEBUG(kArea, "started: %zu channels, every %lld us, batch %u (window %lld us), %zu-byte items",
             channel_count_, static_cast<long long>(interval_us_), batch_max_, static_cast<long long>(window_us_),
             slot_cap_);
  return hal::Err::Ok;
}

void TelemetryPublisher::take_sample() {
  const size_t failed = reg_.sample_all();
  read_errors_ += failed;
  ++samples_taken_;
  if (observer_ != nullptr) {
    const size_t n = reg_.device_count();
    observer_->on_sampled(n >= 32 ? ~0u : (1u << n) - 1);
  }
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
    channels_[i].last = v.value();  // the heartbeat of an OnChange/Deadband channel
    channels_[i].have_last = true;
  }
  if (n == 0) return;  // nothing readable this time; health reports why
  if (batch_count_ == 0) batch_first_ = mono_.mono_now();
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

namespace {

/// *out = m * 10^k. False on overflow (k >= 0).
bool scale_up(int64_t m, int k, int64_t* out) {
  for (; k > 0; --k) {
    if (__builtin_mul_overflow(m, int64_t{10}, &m)) return false;
  }
  *out = m;
  return true;
}

}  // namespace

// |v - last| > deadband, in integers: the three numbers are brought to the
// smallest of their exponents. A difference too large for 64 bits has moved.
bool TelemetryPublisher::moved(const Channel& ch, const drv::Value& v) const {
  if (!ch.have_last || v.type != ch.last.type) return true;
  switch (v.type) {
    case drv::ValueType::Boolean: return v.flag != ch.last.flag;
    case drv::ValueType::String: return std::strcmp(v.text, ch.last.text) != 0;
    case drv::ValueType::Numeric: break;
  }
  const bool deadband = ch.policy.mode == drv::ReportMode::Deadband;
  int e = v.exponent < ch.last.exponent ? v.exponent : ch.last.exponent;
  if (deadband && ch.policy.deadband_exponent < e) e = ch.policy.deadband_exponent;
  int64_t a = 0;
  int64_t b = 0;
  int64_t band = 0;
  if (!scale_up(v.mantissa, v.exponent - e, &a) || !scale_up(ch.last.mantissa, ch.last.exponent - e, &b)) return true;
  if (deadband && !scale_up(ch.policy.deadband_mantissa, ch.policy.deadband_exponent - e, &band)) {
    return false;  // a deadband beyond 64 bits at this resolution: never crossed
  }
  int64_t diff = 0;
  if (__builtin_sub_overflow(a, b, &diff) || diff == INT64_MIN) return true;
  if (diff < 0) diff = -diff;
  return diff > band;
}

uint32_t TelemetryPublisher::poll_inputs() {
  uint32_t changed = 0;
  for (uint32_t m = poll_devices_; m != 0; m &= m - 1) {
    const auto d = static_cast<size_t>(__builtin_ctz(m));
    if (reg_.device(d).poll_changes()) changed |= 1u << d;
  }
  return changed;
}

void TelemetryPublisher::publish_events(uint32_t check_mask, uint32_t forced_mask, const Channel* only) {
  ++event_checks_;
  const uint32_t mask = check_mask | forced_mask;
  uint32_t ok = 0;
  for (uint32_t m = mask; m != 0; m &= m - 1) {
    const auto d = static_cast<size_t>(__builtin_ctz(m));
    if (reg_.sample(d) == hal::Err::Ok) {
      ok |= 1u << d;
    } else {
      ++read_errors_;
    }
  }
  if (observer_ != nullptr && mask != 0) observer_->on_sampled(mask);
  const hal::WallTime when = wall_.wall_now();
  Sample* row = samples_.get() + batch_count_ * channel_count_;
  size_t n = 0;
  for (size_t i = 0; i < channel_count_; ++i) {
    Channel& ch = channels_[i];
    const uint32_t bit = 1u << ch.device_index;
    if ((ok & bit) == 0) continue;
    if (only != nullptr ? &ch != only : ch.policy.mode == drv::ReportMode::Interval) continue;
    const hal::Result<drv::Value> v = ch.device->get(ch.index);
    if (!v.ok()) continue;
    const bool forced = only != nullptr || ((forced_mask & bit) != 0 && ch.policy.mode == drv::ReportMode::OnChange);
    if (!forced && !moved(ch, v.value())) continue;
    row[n].name = ch.name;
    row[n].unit = ch.unit;
    row[n].value = v.value();
    ++n;
    ch.last = v.value();
    ch.have_last = true;
  }
  if (n == 0) return;
  // batch_count_ < batch_max_ here (a full batch is closed at once), so the
  // row is free; the item is closed now: an event does not wait for a batch.
  snaps_[batch_count_] = Snapshot{when, row, n};
  ++batch_count_;
  ++events_;
  close_batch();
}

size_t TelemetryPublisher::flush() { return started_ ? outbox_.pump() : 0; }

hal::MonoTime TelemetryPublisher::tick() {
  const hal::MonoTime now = mono_.mono_now();
  if (!started_) return now;
  if (!scheduled_) {
    next_due_ = now;
    next_check_ = now;
    scheduled_ = true;
  }
  // Consumed every turn, also when the slot is due (which then reports the
  // new values with everything else).
  const uint32_t forced = poll_inputs();
  if (batch_count_ != 0 && window_deadline() && now.us_since(batch_first_) >= window_us_) {
    // The latency bound: a batch the window made bigger leaves when its
    // first reading is a window old, full or not (before this slot's sample,
    // which starts the next one).
    ++window_closes_;
    close_batch();
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
    next_check_ = now.plus_us(sample_us_);  // everything was just sampled
  } else if (forced != 0 || (event_devices_ != 0 && now >= next_check_)) {
    const bool check = now >= next_check_;
    publish_events(check ? event_devices_ : 0, forced, nullptr);
    if (check) next_check_ = now.plus_us(sample_us_);
  }
  flush();
  outbox_.tick();
  hal::MonoTime next = event_devices_ != 0 && next_check_ < next_due_ ? next_check_ : next_due_;
  if (batch_count_ != 0 && window_deadline()) {
    const hal::MonoTime deadline = batch_first_.plus_us(window_us_);
    if (deadline < next) next = deadline;
  }
  return next;
}

void TelemetryPublisher::publish_now() {
  if (!started_) return;
  take_sample();
  close_batch();
  flush();
}

void TelemetryPublisher::publish_channel(const drv::Device& device, size_t index) {
  if (!started_) return;
  const Channel* only = nullptr;
  for (size_t i = 0; i < channel_count_; ++i) {
    if (channels_[i].device == &device && channels_[i].index == index) only = &channels_[i];
  }
  if (only == nullptr) return;
  if (only->policy.mode == drv::ReportMode::Interval) {
    publish_now();
    return;
  }
  publish_events(0, 1u << only->device_index, only);
  flush();
}

hal::Err TelemetryPublisher::reconfigure(double interval_s, uint32_t batch_max, double sample_s,
                                         double batch_window_s) {
  if (!started_ || !valid_settings(interval_s, batch_max)) return hal::Err::InvalidArgument;
  if (sample_s != 0 && !valid_sample(sample_s)) return hal::Err::InvalidArgument;
  if (!(batch_window_s < 0) && !valid_window(batch_window_s)) return hal::Err::InvalidArgument;  // NaN too
  const int64_t window_us = batch_window_s < 0 ? window_us_ : std::llround(batch_window_s * 1e6);
  const int64_t interval_us = std::llround(interval_s * 1e6);
  const uint32_t batch = effective_batch(interval_us, batch_max, window_us);
  close_batch();
  if (batch > batch_cap_) {
    std::unique_ptr<Sample[]> samples;
    std::unique_ptr<Snapshot[]> snaps;
    size_t cap = 0;
    const hal::Err e = allocate(batch, &samples, &snaps, &cap);
    if (e != hal::Err::Ok) return e;
    // Larger items: the outbox keeps what it queued.
    if (outbox_.grow(cap) != hal::Err::Ok) return hal::Err::NoSpace;
    samples_ = std::move(samples);
    snaps_ = std::move(snaps);
    slot_cap_ = cap;
    batch_cap_ = batch;
  }
  batch_max_ = batch;
  user_batch_max_ = batch_max;
  window_us_ = window_us;
  interval_us_ = interval_us;
  if (sample_s != 0) sample_us_ = std::llround(sample_s * 1e6);
  if (scheduled_) {
    next_due_ = mono_.mono_now().plus_us(interval_us_);
    next_check_ = mono_.mono_now().plus_us(sample_us_);
  }
  flush();
  return hal::Err::Ok;
}

}  // namespace agent

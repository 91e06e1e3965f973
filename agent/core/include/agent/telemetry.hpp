// Telemetry: samples every channel on a monotonic schedule, batches the
// snapshots into PubSub items (SenML XML or protobuf, per TelemetryConfig) and
// hands them to its Outbox, which journals them and delivers them to a sink
// (the XMPP session). No libstrophe, no heap after start(), no floating point
// per sample.
//
// Item ids are "<boot_id>-<seq>", seq zero-padded to at least 6 digits
// ("7f3a12cd-000042"): seq counts from 1 and, with a journal, continues after
// the highest seq an earlier run journaled, so ids are unique across restarts
// and stable across retries; subscribers can de-duplicate. Payloads:
// docs/wire-format.md; delivery: docs/journal.md.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "agent/alerts.hpp"
#include "agent/config.hpp"
#include "agent/journal.hpp"
#include "agent/outbox.hpp"
#include "agent/senml.hpp"
#include "drv/registry.hpp"
#include "drv/report.hpp"
#include "hal/clock.hpp"
#include "hal/status.hpp"

namespace agent {

/// Writes 8 lowercase hex digits derived from all 64 bits of `random`
/// (high and low halves xor-folded), NUL-terminated. Returns 8.
/// Errors: Overflow (cap < 9).
hal::Result<size_t> make_boot_id(char* out, size_t cap, uint64_t random);

/// Formats "<boot_id>-<seq>" with seq zero-padded to at least 6 digits.
/// Returns the length. Errors: Overflow.
hal::Result<size_t> format_item_id(char* out, size_t cap, const char* boot_id, uint64_t seq);

/// The sampling/publishing scheduler. Single-threaded: call tick() from the
/// main loop, at the latest when it said the next sample is due.
///
/// Schedule: the first tick() after start() samples at once; then every
/// interval on the monotonic clock (next_due += interval, so no drift). When
/// the loop was late by more than one interval the missed slots are skipped,
/// not burst (slots_skipped() counts them). Timestamps are wall time.
///
/// Batching: each sample appends one snapshot (the channels whose device
/// sampled Ok and whose get() succeeded; an all-empty sample is not kept).
/// When the batch holds batch_max() snapshots it becomes one item.
///
/// Batching window (TelemetryConfig::batch_window_s, 0 = off): readings taken
/// faster than the window travel together. The effective batch, batch_max(),
/// is max(batch_max, floor(window / interval)), at most 100. When the window
/// is what made it bigger than the configured batch_max, an item is also
/// closed once its first snapshot is `window` old even if not full (the
/// latency bound: late ticks, skipped slots, unreadable samples), and tick()
/// returns that deadline when it comes before the next slot. A configured
/// batch_max at or above floor(window / interval) keeps its count semantics
/// (no deadline). Event items (below) are never held back by the window.
///
/// Delivery: each item is committed to the outbox (journaled first when there
/// is a journal) and published oldest first whenever the sink is ready (on
/// every tick(), flush(), publish_now()); it stays pending until the sink
/// reports its publish result. Without a journal, or while the journal fails,
/// the outbox keeps the newest kPendingCapacity items in memory and drops the
/// oldest (items_dropped()); with one, the journal's bound applies.
///
/// Event-driven reporting (drv::ReportPolicy per channel, set before start()
/// with set_report_policies(); default: every channel Interval, and then
/// nothing below happens). Every interval slot samples and publishes every
/// channel as above: for OnChange/Deadband channels that is their heartbeat.
/// Between slots:
///  - every tick() calls Device::poll_changes() on the devices with an
///    OnChange channel; a device that reports a change is sampled at once and
///    its OnChange channels make an event item;
///  - every sample_s (TelemetryConfig::sample_s) the devices with an OnChange
///    or Deadband channel are sampled; an OnChange channel whose value differs
///    from the last published one, and a Deadband channel that moved more than
///    its deadband from it, make an event item;
///  - publish_channel() (a `set` command) publishes the channel at once.
/// An event item holds one snapshot with only the changed channels (the
/// current batch is closed with it); it goes through the same outbox and
/// journal and has the same "<boot_id>-<seq>" id as any item. tick() returns
/// the earlier of the next slot and the next sample_s check.
///
/// Memory: start() allocates everything once: batch_max() x channels samples,
/// and the outbox's item buffers of item_capacity() bytes each (an exact
/// worst-case bound for the configured encoding and channel set).
class TelemetryPublisher {
 public:
  /// Items the outbox keeps in memory (OutboxOptions::memory_items default).
  static constexpr size_t kPendingCapacity = 16;
  static constexpr size_t kMaxBootIdLen = 32;
  static constexpr size_t kItemIdCap = agent::kItemIdCap;

  /// All references are borrowed and must outlive the publisher. `cfg` is
  /// copied (interval_s, batch_max, batch_window_s, sample_s, encoding); `device_id` (the bare JID, for
  /// the SenML base name) and `boot_id` are copied by start(). The registry
  /// must hold all its devices before start(): the channel set is fixed then.
  /// `journal` (may be null: memory only; borrowed, not yet opened) is opened
  /// by start(). `outbox` sets the outbox's memory and in-flight bounds.
  TelemetryPublisher(drv::Registry& reg, hal::MonotonicClock& mono, hal::WallClock& wall,
                     const TelemetryConfig& cfg, const char* device_id, const char* boot_id,
                     TelemetrySink& sink, Journal* journal = nullptr,
                     const OutboxOptions& outbox = OutboxOptions());
  ~TelemetryPublisher();
  TelemetryPublisher(const TelemetryPublisher&) = delete;
  TelemetryPublisher& operator=(const TelemetryPublisher&) = delete;

  /// Report policies, one per registry channel in registry order (device by
  /// device, channel by channel); `policies` is borrowed until start(), which
  /// copies them. nullptr/0: every channel Interval. Call before start().
  /// Errors (from start()): InvalidArgument when `count` is not the
  /// registry's channel count, a Deadband policy is on a non-numeric channel
  /// or has a negative deadband.
  void set_report_policies(const drv::ReportPolicy* policies, size_t count) {
    policies_arg_ = policies;
    policies_count_arg_ = count;
  }

  /// Told after every registry sample this publisher takes (the interval
  /// samples, the event checks, publish_now()/publish_channel()), published
  /// or not: the alert engine sees every reading. Borrowed; nullptr = none.
  void set_sample_observer(SampleObserver* o) { observer_ = o; }

  /// Sizes and allocates the fixed buffers and starts the outbox (which opens
  /// and recovers the journal). Errors: InvalidArgument (interval_s outside
  /// 0.05..86400, batch_max outside 1..100, sample_s outside 0.05..86400,
  /// batch_window_s outside 0..60,
  /// report policies that do not fit the registry, null device_id, boot_id
  /// empty/longer than 32/with spaces or controls, or start() called twice),
  /// NoSpace (allocation failed).
  hal::Err start();

  /// Samples when due, closes a full batch into an item, publishes pending
  /// items if the sink is ready, runs the journal's timers. Returns when the
  /// next sample is due (before start(): now, and does nothing). Errors are
  /// counted and logged, not returned: see last_error().
  hal::MonoTime tick();

  /// Samples now (outside the schedule, which is left as it is), closes the
  /// current batch into an item even if it is not full, and publishes. For
  /// right after a command changed an actuator. No-op before start().
  void publish_now();

  /// A `set` command drove channel `index` of `device` (a registry device):
  /// with an OnChange or Deadband policy the device is sampled and an event
  /// item with that channel alone is published at once (even when the value
  /// did not change: the command is the event); with Interval, as
  /// publish_now(). No-op before start() or for a device not in the registry.
  void publish_channel(const drv::Device& device, size_t index);

  /// Publishes pending items, oldest first, while the sink is ready and the
  /// outbox's window has room. Returns how many publishes the sink took.
  size_t flush();

  /// Changes the schedule and batching (the `configure` command). The current
  /// batch is closed into an item first. The next sample is due one new
  /// interval from now. `sample_s` (0 = keep) is the event sampling period;
  /// `batch_window_s` (negative = keep, 0 = off) the batching window. An
  /// effective batch above the one start() sized for reallocates the buffers
  /// (pending items are kept).
  /// Errors: InvalidArgument (out of range, or before start()), NoSpace
  /// (allocation failed; the old settings stay).
  hal::Err reconfigure(double interval_s, uint32_t batch_max, double sample_s = 0, double batch_window_s = -1);

  /// The effective batch: batch_max, or floor(window / interval) (at most
  /// 100) when that is bigger; window 0 = batch_max.
  static uint32_t effective_batch(int64_t interval_us, uint32_t batch_max, int64_t window_us);

  /// Scheduled (interval) samples and publish_now() samples.
  uint64_t samples_taken() const { return samples_taken_; }
  /// Event items made (changes, deadband crossings, publish_channel()).
  uint64_t events_published() const { return events_; }
  /// Event checks run (poll_changes() reports and sample_s checks).
  uint64_t event_checks() const { return event_checks_; }
  /// The policy of registry channel `i` (Interval when out of range).
  drv::ReportPolicy report_policy(size_t i) const {
    return i < channel_count_ && channels_ ? channels_[i].policy : drv::ReportPolicy{};
  }
  int64_t sample_us() const { return sample_us_; }
  /// True when some channel reports on change or by deadband.
  bool event_driven() const { return event_devices_ != 0; }
  /// Items handed to the sink for the first time.
  uint64_t items_published() const { return outbox_.stats().published; }
  /// Items lost: dropped by the outbox (memory or journal full, refused by
  /// the sink with Overflow) or failed to format.
  uint64_t items_dropped() const { return items_dropped_ + outbox_.dropped(); }
  /// Items formatted and not yet settled (waiting for the sink, or for the
  /// result of their publish).
  size_t pending() const { return static_cast<size_t>(outbox_.depth()); }
  /// Snapshots in the batch being built.
  size_t batched() const { return batch_count_; }
  /// Id of the last item the sink took; "" before the first.
  const char* last_item_id() const { return outbox_.last_item_id(); }
  /// Schedule slots skipped because the loop was late.
  uint64_t slots_skipped() const { return slots_skipped_; }
  /// Device sample() failures seen while sampling (one per device per sample).
  uint64_t read_errors() const { return read_errors_; }
  /// The last error from the formatter, else from the sink (Ok if none yet).
  hal::Err last_error() const { return last_error_ != hal::Err::Ok ? last_error_ : outbox_.last_error(); }
  /// When the next scheduled sample is due (valid after the first tick()).
  hal::MonoTime next_due() const { return next_due_; }
  /// Bytes per item buffer (0 before start()).
  size_t item_capacity() const { return slot_cap_; }
  /// The effective batch (see effective_batch()).
  uint32_t batch_max() const { return batch_max_; }
  /// The configured batch_max (before the window).
  uint32_t configured_batch_max() const { return user_batch_max_; }
  /// The batching window, microseconds (0 = off).
  int64_t batch_window_us() const { return window_us_; }
  /// Items closed by the window's latency bound before they were full.
  uint64_t window_closes() const { return window_closes_; }
  int64_t interval_us() const { return interval_us_; }
  /// The outbox (the session reports publish results to it).
  Outbox& outbox() { return outbox_; }
  const Outbox& outbox() const { return outbox_; }

 private:
  struct Channel {
    drv::Device* device;
    size_t device_index;
    size_t index;
    const char* name;  // into names_
    const char* unit;
    drv::ValueType type;
    drv::ReportPolicy policy;
    drv::Value last;  // the last published value (OnChange/Deadband)
    bool have_last;
  };
  static_assert(drv::Registry::kMaxDevices <= 32, "device masks are 32 bits");
  static bool valid_settings(double interval_s, uint32_t batch_max);
  static bool valid_sample(double sample_s);
  static bool valid_window(double window_s);
  bool window_deadline() const { return window_us_ != 0 && batch_max_ > user_batch_max_; }
  bool moved(const Channel& ch, const drv::Value& v) const;
  uint32_t poll_inputs();
  void publish_events(uint32_t check_mask, uint32_t forced_mask, const Channel* only);
  hal::Err allocate(uint32_t batch_cap, std::unique_ptr<Sample[]>* samples,
                    std::unique_ptr<Snapshot[]>* snaps, size_t* slot_cap);
  size_t slot_bound(uint32_t batch_cap) const;
  void take_sample();
  void close_batch();

  drv::Registry& reg_;
  hal::MonotonicClock& mono_;
  hal::WallClock& wall_;
  Outbox outbox_;
  const char* device_id_arg_;
  const char* boot_id_arg_;
  Encoding encoding_;
  double cfg_interval_s_;
  uint32_t cfg_batch_max_;

  bool started_ = false;
  bool scheduled_ = false;
  int64_t interval_us_ = 0;
  uint32_t batch_max_ = 1;
  uint32_t batch_cap_ = 0;  // what the buffers are sized for
  hal::MonoTime next_due_{};
  double cfg_sample_s_;
  double cfg_window_s_;
  int64_t window_us_ = 0;
  uint32_t user_batch_max_ = 1;  // batch_max as configured
  hal::MonoTime batch_first_{};  // when the batch's first snapshot was taken
  uint64_t window_closes_ = 0;
  int64_t sample_us_ = 0;
  hal::MonoTime next_check_{};
  const drv::ReportPolicy* policies_arg_ = nullptr;
  size_t policies_count_arg_ = 0;
  uint32_t event_devices_ = 0;  // devices with an OnChange or Deadband channel
  uint32_t poll_devices_ = 0;   // devices with an OnChange channel
  uint64_t events_ = 0;
  uint64_t event_checks_ = 0;

  char boot_id_[kMaxBootIdLen + 1] = {};
  std::unique_ptr<char[]> base_name_;
  std::unique_ptr<char[]> names_;
  std::unique_ptr<Channel[]> channels_;
  size_t channel_count_ = 0;

  std::unique_ptr<Sample[]> samples_;  // batch_cap_ rows of channel_count_
  std::unique_ptr<Snapshot[]> snaps_;  // batch_cap_
  size_t batch_count_ = 0;

  size_t slot_cap_ = 0;

  uint64_t samples_taken_ = 0;
  uint64_t items_dropped_ = 0;  // formatting failures
  uint64_t slots_skipped_ = 0;
  uint64_t read_errors_ = 0;
  hal::Err last_error_ = hal::Err::Ok;
  SampleObserver* observer_ = nullptr;
};

}  // namespace agent

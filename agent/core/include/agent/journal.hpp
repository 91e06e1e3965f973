// The telemetry journal: a bounded, segmented, append-only log of published
// items on a hal::SegmentStore, so readings survive link loss, server
// restarts, agent crashes and power cuts until the server acknowledged them.
// Format, policy, recovery and limits: docs/journal.md.
//
// Records (agent/journal_record.hpp) are items (seq, item id, payload) and
// markers (the ack watermark). Items are appended in increasing seq order to
// the head segment (the highest id); a segment is closed when the next record
// would take it over the segment size, and the oldest segment is removed
// when the journal would exceed max_bytes (drop-oldest: its unsettled items
// are lost, reported to the JournalListener and counted) or when every item in
// it was settled. "Settled" = acknowledged by the server, refused for good, or
// given up. The watermark W says every seq <= W is settled; it is persisted by
// every item record (acked_through) and by marker records when no item
// carries it soon enough.
//
// No libstrophe, no exceptions, no heap after open() except when a larger
// record must be read (reserve_payload(), or a bigger record found by
// recovery). Single-threaded.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "agent/config.hpp"
#include "agent/journal_record.hpp"
#include "hal/clock.hpp"
#include "hal/segment_store.hpp"
#include "hal/status.hpp"

namespace agent {

/// Where a record is: segment id, offset of its header, header + body length.
/// A read cursor uses segment and offset only.
struct JournalPos {
  uint32_t segment = 0;
  uint32_t offset = 0;
  uint32_t length = 0;
};

struct JournalOptions {
  uint64_t max_bytes = 1048576;  ///< bound of all segments together (>= 4096)
  /// Segment size; 0 = max_bytes / 4, clamped to 1 KiB .. 4 MiB.
  uint64_t segment_bytes = 0;
  FsyncPolicy fsync = FsyncPolicy::Interval;
  int64_t fsync_interval_us = 1000000;
  /// A watermark that got ahead of what the records carry is written as a
  /// marker once it has waited this long for an item record to carry it (and
  /// by flush()). Losing it to a crash only means items are sent twice, so
  /// markers are rare: items carry the watermark while readings flow.
  int64_t marker_interval_us = 30LL * 1000000;
  /// The host's boot id (Linux: /proc/sys/kernel/random/boot_id; at most
  /// kMaxHostBoot bytes, copied by open()), written into markers. Recovery
  /// after an unclean stop compares it with the markers': the same id means
  /// the host kept running (only the agent died) and the page cache kept
  /// every record, so nothing is counted as lost. nullptr/"" = unknown: an
  /// unclean stop is treated as a power cut.
  const char* host_boot = nullptr;
};

/// Longest host boot id kept (a Linux boot id is 36 characters).
constexpr size_t kMaxHostBoot = 40;

/// An item read back. Pointers into the journal's read buffer: valid until
/// the next read (next_item/read_item) or the journal's destruction.
struct JournalItem {
  uint64_t seq = 0;
  const char* item_id = "";  ///< NUL-terminated
  const char* payload = "";  ///< NUL-terminated
  size_t payload_len = 0;
  JournalPos pos;
};

struct JournalStats {
  uint64_t bytes = 0;           ///< all segments now
  uint32_t segments = 0;        ///< segments now
  uint64_t unsettled = 0;       ///< journaled items not yet settled
  uint64_t appended = 0;        ///< item records appended since open
  uint64_t markers = 0;         ///< marker records appended since open
  uint64_t dropped = 0;         ///< unsettled items in segments removed because the journal was full
  uint64_t corrupt_skipped = 0; ///< records with a bad CRC or body: never replayed
  uint64_t truncations = 0;     ///< segments cut at a torn or corrupt tail (recovery)
  uint64_t bytes_truncated = 0;
  uint64_t recovered = 0;       ///< unsettled items found by open()
  uint64_t write_errors = 0;    ///< appends that failed
  uint64_t syncs = 0;
  int64_t recovery_us = 0;      ///< how long open() took
  /// Set by open() after an unclean stop of a run that used the seq
  /// reservation (fsync interval) on a host that rebooted (power cut,
  /// reset, panic): the seqs power_cut_first..power_cut_last were reserved,
  /// are not in the journal and are never used again. Each was either taken
  /// and lost (not synced), or taken and published from memory before the
  /// cut, or never taken: power_cut_lost is an upper bound of the readings
  /// lost (docs/journal.md "Power cuts"). 0 after a clean stop, under
  /// `always`, or when only the agent stopped.
  uint64_t power_cut_lost = 0;
  uint64_t power_cut_first = 0;
  uint64_t power_cut_last = 0;
  bool unclean_stop = false;    ///< open() found no clean-stop marker at the end
  uint64_t reservations = 0;    ///< seq reservations written (each rides on a sync)
};

/// Told about segments removed by drop-oldest (the outbox keeps the items it
/// still holds in memory and counts the rest).
class JournalListener {
 public:
  virtual ~JournalListener() = default;
  /// A segment holding items `first_seq`..`last_seq` (some of them maybe
  /// already settled; `unsettled` were not) was removed to make room.
  virtual void on_segment_dropped(uint64_t first_seq, uint64_t last_seq, uint64_t unsettled) = 0;
};

class Journal {
 public:
  /// `store` and `mono` are borrowed and must outlive the journal.
  Journal(hal::SegmentStore& store, hal::MonotonicClock& mono, const JournalOptions& options);
  ~Journal();
  Journal(const Journal&) = delete;
  Journal& operator=(const Journal&) = delete;

  /// Opens the store and recovers what it holds: every segment is scanned, a
  /// torn tail (a header cut short, or a length running past the end) is cut
  /// off, a record whose CRC or body is bad is skipped when the framing still
  /// holds (the segment is cut there when it does not), and each is logged
  /// with the segment's name and offset. The watermark and the highest seq are
  /// restored; segments with nothing unsettled are removed; when the journal
  /// is over max_bytes the oldest segments are dropped. `max_payload` sizes the
  /// buffers (a larger recovered record grows them). Call once.
  /// Errors: InvalidArgument (options out of range, or called twice), NoSpace
  /// (allocation failed), Io (the store cannot be opened or listed: the
  /// journal stays closed and every other call fails with NotReady).
  hal::Err open(size_t max_payload);
  bool is_open() const { return open_; }
  /// The host's boot id (as JournalOptions::host_boot); call before open().
  void set_host_boot(const char* id);

  /// Grows the buffers for payloads up to `max_payload` bytes (no-op if they
  /// are large enough). Errors: NoSpace.
  hal::Err reserve_payload(size_t max_payload);

  /// Appends an item record. When the head segment is full a new one is
  /// started; when the journal would exceed max_bytes the oldest segments are
  /// dropped first. Durable on return with FsyncPolicy::Always. On success
  /// `*where` (if not null) tells where it went. Errors: NotReady (not open),
  /// InvalidArgument (seq not above last_seq(), or an id over 63 bytes),
  /// Overflow (the record is larger than max_bytes or the buffers), NoSpace /
  /// Io (the store failed: nothing was appended; last_error() keeps it until
  /// an append works again).
  hal::Err append_item(uint64_t seq, const char* item_id, const char* payload, size_t len, JournalPos* where);

  /// Item `seq`, stored at `pos`, is settled. Each item must be settled at
  /// most once. A segment whose items are all settled is removed by tick().
  void settle(uint64_t seq, const JournalPos& pos);
  /// Raises the watermark (lower values are ignored); persisted by the next
  /// item record, or by a marker from tick() (JournalOptions::marker_interval_us)
  /// or flush().
  void set_acked_through(uint64_t w);

  /// The position of the oldest record (the start of a replay).
  JournalPos begin() const;
  /// True when no record is left at or after `*cursor`; otherwise moves a
  /// cursor that is past its segment's end (or in a removed segment) to the
  /// next segment's start.
  bool at_end(JournalPos* cursor) const;
  /// Reads the first item record at or after `*cursor`, skipping markers and
  /// corrupt records, into `*out`, and moves `*cursor` past it.
  /// Errors: NotFound (end of the journal), NotReady, Io.
  hal::Err next_item(JournalPos* cursor, JournalItem* out);
  /// Reads the item record at `pos`. Errors: NotFound (its segment is gone),
  /// Corrupt (it no longer checks out: counted and logged), NotReady, Io.
  hal::Err read_item(const JournalPos& pos, JournalItem* out);

  /// Timers: fsync under FsyncPolicy::Interval, the watermark marker, removal
  /// of settled segments. Call from the main loop.
  void tick();
  /// Clean stop: persists the watermark and a clean-stop marker (which also
  /// gives back the unused seq reservation) and syncs (unless
  /// FsyncPolicy::Never). Errors: NotReady, NoSpace, Io.
  hal::Err flush();

  /// The highest seq recorded (0 when the journal never held an item); new
  /// items continue after it.
  uint64_t last_seq() const { return last_seq_; }
  /// Every seq up to this may be taken without writing anything more
  /// (durable under `interval`; == last_seq() under `always` and `never`).
  uint64_t reserved_seq() const { return reserved_; }
  /// The watermark: every item with seq <= it is settled.
  uint64_t acked_through() const { return acked_through_; }
  /// The lowest segment id present (0 when there is none).
  uint32_t oldest_segment() const { return count_ > 0 ? segs_[0].id : 0; }
  const JournalStats& stats() const { return stats_; }
  /// The last storage error of an append, sync or removal; Ok once an append
  /// works again.
  hal::Err last_error() const { return last_error_; }
  uint64_t segment_bytes() const { return seg_target_; }
  const JournalOptions& options() const { return opt_; }
  void set_listener(JournalListener* l) { listener_ = l; }

 private:
  struct Segment {
    uint32_t id;
    uint64_t bytes;
    uint64_t first_seq;  // 0 = no item
    uint64_t last_seq;
    uint64_t items;
    uint64_t unsettled;
    uint64_t verified;   // bytes checked by recovery (their corrupt records are already counted)
  };
  struct ScanState;

  hal::Err alloc_buffers(size_t max_payload);
  hal::Err scan_segment(Segment* seg, ScanState* st);
  uint64_t count_above(const Segment& seg, uint64_t w);
  hal::Err append_record(const uint8_t* rec, size_t len, uint64_t item_seq, JournalPos* where);
  hal::Err append_once(const uint8_t* rec, size_t len, uint64_t item_seq, JournalPos* where);
  hal::Err make_room(size_t len);
  hal::Err roll();
  void drop_oldest(const char* why);
  void remove_at(size_t i);
  void remove_settled(bool disk_full = false);
  hal::Err write_marker(bool clean = false);
  bool reserving() const { return opt_.fsync == FsyncPolicy::Interval; }
  hal::Err reserve(uint64_t through);
  hal::Err sync_head();
  int find(uint32_t id) const;
  hal::Err read_record(uint32_t seg, uint64_t off, uint64_t seg_bytes, JournalRecord* rec, uint32_t* rec_len);
  void note_error(hal::Err e, const char* what);

  hal::SegmentStore& store_;
  hal::MonotonicClock& mono_;
  JournalOptions opt_;
  JournalListener* listener_ = nullptr;
  bool open_ = false;
  bool tried_ = false;
  bool seal_head_ = false;  // the head may end in garbage: the next append starts a new segment
  uint32_t next_id_ = 1;    // of the first segment when there is none
  uint64_t seg_target_ = 0;

  std::unique_ptr<Segment[]> segs_;  // ascending ids; the last one is the head
  size_t count_ = 0;
  size_t cap_ = 0;
  uint64_t total_bytes_ = 0;

  std::unique_ptr<uint8_t[]> rbuf_;  // reads (recovery chunks, items read back)
  size_t rbuf_cap_ = 0;
  std::unique_ptr<uint8_t[]> wbuf_;  // one encoded record
  size_t wbuf_cap_ = 0;
  char id_buf_[64] = {};

  uint64_t last_seq_ = 0;
  uint64_t acked_through_ = 0;
  uint64_t w_written_ = 0;  // the watermark the newest record carries
  bool dirty_ = false;      // appended since the last sync
  bool head_reserved_ = true;  // the head holds a durable marker with the current reservation
  uint64_t reserved_ = 0;   // the newest seq reservation written (see reserve())
  uint64_t reserve_step_ = 16;    // how far a reservation runs ahead (adapts to the rate)
  uint64_t items_since_renew_ = 0;  // items appended since tick() last renewed the reservation
  char host_boot_[kMaxHostBoot + 1] = {};
  size_t host_boot_len_ = 0;
  hal::MonoTime last_sync_{};
  hal::MonoTime w_ahead_since_{};  // when acked_through_ got ahead of w_written_
  hal::Err last_error_ = hal::Err::Ok;
  JournalStats stats_;
};

}  // namespace agent

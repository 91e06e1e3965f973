// The telemetry outbox: every item is written to the journal (when there is
// one) before it is published, and leaves only when the server's answer to
// its publish IQ arrives. Items are published in order with a bounded number
// in flight; after the link comes back (a new "link epoch") everything sent
// but unanswered is sent again with its original item id, and items recovered
// from earlier runs go first. Subscribers de-duplicate by id.
//
// Why: libstrophe's stream management drops stanzas still queued when the
// link dies (shared/DESIGN.md), and a process or power failure loses all
// memory; the journal plus "settled only on the IQ result" covers both.
//
// Memory: start() allocates everything (memory_items + 1 item buffers, the
// in-flight window, the journal's buffers); commit/pump/acks allocate nothing.
// The last `memory_items` items stay in memory too, so a live link publishes
// without reading the journal back; when the journal fails (disk full, I/O
// errors) they are all there is (drop-oldest), and once appends work again
// the unsettled ones are written to the journal before the next item.
// Docs: docs/journal.md.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "agent/journal.hpp"
#include "hal/clock.hpp"
#include "hal/status.hpp"

namespace agent {

/// Room for "<boot-id>-<seq>": a boot id of at most 32 characters, '-', up to
/// 20 digits, NUL.
constexpr size_t kItemIdCap = 32 + 1 + 20 + 1;

/// Where items go. Implemented by the XMPP session; fakes in tests.
class TelemetrySink {
 public:
  virtual ~TelemetrySink() = default;
  /// Logged in and stream management settled: publish() may be called.
  virtual bool ready() = 0;
  /// Sends one item. `item_id` and `payload` (the complete XML child of
  /// <item/>, `len` bytes, NUL-terminated) are borrowed for the call only: the
  /// sink copies what it keeps. Ok means the sink sent it; its outcome comes
  /// later through PublishListener::on_publish_result().
  /// Errors: NotReady, Io, Busy and Timeout (the outbox keeps the item and
  /// sends it again later, in order); anything else, e.g. Overflow (the item
  /// can never fit the sink) or InvalidArgument (no stanza can be made of
  /// it), drops the item (counted) and the queue goes on.
  virtual hal::Err publish(const char* item_id, const char* payload, size_t len) = 0;
  /// A number that changes every time the link was lost and came back (a new
  /// stream or a resumed one): publishes sent under an older epoch whose
  /// result never came are sent again. Sinks that cannot lose what they
  /// accepted keep it constant.
  virtual uint32_t link_epoch() { return 0; }
};

/// What the server answered to a publish.
enum class PublishOutcome : uint8_t {
  Accepted,  ///< IQ result: the item is stored
  Retry,     ///< IQ error of type "wait" (RFC 6120 §8.3.2): try again later
  Rejected,  ///< any other IQ error: refused for good
  ResendNow, ///< the sink wants the item again at once (it was refused for a reason the
             ///< sink has just fixed, e.g. publish-options now go with it)
};

/// Receives the outcome of each publish (the IQ result or error).
class PublishListener {
 public:
  virtual ~PublishListener() = default;
  /// `item_id` and `condition` (the RFC 6120 condition element's name, "" on
  /// success) are borrowed for the call.
  virtual void on_publish_result(const char* item_id, PublishOutcome outcome, const char* condition) = 0;
};

struct OutboxOptions {
  size_t memory_items = 16;  ///< the newest items also kept in memory (>= 1)
  size_t max_in_flight = 16; ///< publishes awaiting their result (1..64)
  /// A publish without a result for this long is sent again.
  int64_t resend_after_us = 30LL * 1000000;
  /// After a "wait" error the item is sent again this much later.
  int64_t retry_after_us = 5LL * 1000000;
};

struct OutboxStats {
  uint64_t committed = 0;      ///< items created since start
  uint64_t published = 0;      ///< items handed to the sink for the first time
  uint64_t resent = 0;         ///< sends of an item sent before (link loss, no answer, "wait")
  uint64_t replayed = 0;       ///< sends read back from the journal (earlier runs, or out of memory)
  uint64_t acked = 0;          ///< publish results
  uint64_t rejected = 0;       ///< publish errors other than "wait": not sent again
  uint64_t retried = 0;        ///< "wait" errors
  uint64_t stale_results = 0;  ///< results for items no longer in flight (duplicates)
  uint64_t dropped_full = 0;   ///< unacknowledged items lost to drop-oldest of a full journal
  uint64_t dropped_memory = 0; ///< items never journaled, pushed out of memory
  uint64_t dropped_other = 0;  ///< refused by the sink for good (too large, not XML), or corrupt when read back
  uint64_t journal_errors = 0; ///< appends that failed (the item stayed in memory)
};

class Outbox final : public PublishListener, public JournalListener {
 public:
  /// `sink`, `mono` and `journal` (may be null: memory only) are borrowed and
  /// must outlive the outbox.
  Outbox(TelemetrySink& sink, hal::MonotonicClock& mono, Journal* journal, const OutboxOptions& options = {});
  ~Outbox() override;
  Outbox(const Outbox&) = delete;
  Outbox& operator=(const Outbox&) = delete;

  /// Allocates for items of up to `item_cap` bytes (NUL included) and opens
  /// the journal, recovering what earlier runs left. A journal that cannot be
  /// opened is not an error: items are then kept in memory only and
  /// storage_problem() says so. Errors: InvalidArgument (called twice, a zero
  /// size, options out of range), NoSpace (allocation failed).
  hal::Err start(size_t item_cap);
  /// Makes room for larger items (keeps everything queued). Errors:
  /// InvalidArgument (before start()), NoSpace (nothing changed).
  hal::Err grow(size_t item_cap);
  bool started() const { return started_; }

  /// The buffer the next item's payload is formatted into; `*cap` gets its
  /// size (item_cap). Valid until commit() or grow(). nullptr before start().
  char* item_buffer(size_t* cap);
  /// Queues the item formatted into item_buffer() (`len` bytes, without the
  /// NUL): it gets the next seq and the id "<boot_id>-<seq>" (format_item_id),
  /// is appended to the journal and kept in memory. A journal failure does not
  /// fail the call (counted, reported by storage_problem()). Does not publish:
  /// pump() does. Errors: NotReady (before start()), Overflow (len >=
  /// item_cap, or an id that does not fit: nothing queued).
  hal::Err commit(size_t len, const char* boot_id);

  /// Publishes while the sink is ready and the window has room: first what
  /// must be sent again (link epoch changed, no answer in time, "wait" due),
  /// then the next items in seq order. Returns how many publishes the sink
  /// took.
  size_t pump();
  /// Journal timers (fsync, watermark, removal of settled segments).
  void tick();
  /// Clean stop: persists the watermark and syncs the journal. Errors: those
  /// of Journal::flush() (NotReady without a journal).
  hal::Err flush();

  // PublishListener
  void on_publish_result(const char* item_id, PublishOutcome outcome, const char* condition) override;
  // JournalListener
  void on_segment_dropped(uint64_t first_seq, uint64_t last_seq, uint64_t unsettled) override;

  /// Items waiting for delivery: committed and not yet settled.
  uint64_t depth() const;
  /// Items lost (every dropped_* counter).
  uint64_t dropped() const { return stats_.dropped_full + stats_.dropped_memory + stats_.dropped_other; }
  /// Publishes awaiting their result.
  size_t in_flight() const;
  const OutboxStats& stats() const { return stats_; }
  /// Id of the last item the sink took; "" before the first.
  const char* last_item_id() const { return last_item_id_; }
  /// The last error from the sink (Ok if none yet).
  hal::Err last_error() const { return last_error_; }
  /// nullptr while the journal works (or when there is none by choice); else
  /// one line for health reports: "journal append failed: no space",
  /// "journal unavailable: i/o error".
  const char* storage_problem() const;
  /// Every seq at or below this was settled.
  uint64_t acked_through() const { return acked_through_; }
  uint64_t next_seq() const { return next_seq_; }
  size_t item_capacity() const { return item_cap_; }
  /// The journal if it is open, else nullptr.
  const Journal* journal() const { return journal_ok_ ? journal_ : nullptr; }

 private:
  enum class State : uint8_t { Pending, Sent, Acked, Rejected, Dropped };
  struct Slot {
    uint64_t seq;
    char id[kItemIdCap];
    size_t len;
    JournalPos pos;
    bool journaled;
    bool never_journal;  // too large for the journal
    bool settled;
  };
  struct Entry {
    uint64_t seq;
    char id[kItemIdCap];
    JournalPos pos;
    bool journaled;
    bool segment_gone;  // its journal segment was dropped
    bool sent_before;
    State state;
    hal::MonoTime sent_at;
    hal::MonoTime retry_at;
  };
  struct Loaded {
    const char* id;
    const char* payload;
    size_t len;
    bool from_journal;
  };

  char* payload_of(size_t slot) const { return slot_mem_.get() + slot * item_cap_; }
  Slot* slot_at(size_t i) { return &slots_[(ram_head_ + i) % opt_.memory_items]; }
  int ram_index_of_seq(uint64_t seq) const;
  Slot* ram_find(uint64_t seq);
  Entry* entry_at(size_t i) { return &window_[(win_head_ + i) % opt_.max_in_flight]; }
  Entry* find_entry(uint64_t seq);
  void evict_oldest();
  hal::Err backfill();
  bool walk_next(Entry* e, Loaded* l);
  hal::Err load(Entry* e, Loaded* l);
  enum class Sent : uint8_t { Yes, Dropped, Stop };
  Sent send(Entry* e, const Loaded& l);
  void settle(Entry* e, State how);
  void lose(Entry* e);
  void pop_settled();
  void reset_window();
  void note_storage_error(hal::Err e);

  TelemetrySink& sink_;
  hal::MonotonicClock& mono_;
  Journal* journal_;
  OutboxOptions opt_;
  bool started_ = false;
  bool journal_ok_ = false;      // open and usable
  hal::Err journal_open_error_ = hal::Err::Ok;
  bool journal_failing_ = false; // the last append failed
  uint64_t drops_in_run_ = 0;  ///< items dropped from memory since the journal last worked
  hal::Err storage_error_ = hal::Err::Ok;
  char problem_[64] = {};

  size_t item_cap_ = 0;
  std::unique_ptr<char[]> staging_;
  std::unique_ptr<char[]> slot_mem_;  // memory_items x item_cap_
  std::unique_ptr<Slot[]> slots_;
  size_t ram_head_ = 0;
  size_t ram_count_ = 0;

  std::unique_ptr<Entry[]> window_;
  size_t win_head_ = 0;
  size_t win_count_ = 0;
  bool pumping_ = false;
  uint32_t epoch_ = 0;
  bool catchup_active_ = false;  // a backlog is being published (logged when done)
  hal::MonoTime catchup_since_{};
  uint64_t catchup_acked_ = 0;

  JournalPos cursor_;        // the next journal record to walk
  uint64_t walk_seq_ = 0;    // the highest seq taken into the window
  uint64_t acked_through_ = 0;
  uint64_t next_seq_ = 1;

  char last_item_id_[kItemIdCap] = {};
  hal::Err last_error_ = hal::Err::Ok;
  OutboxStats stats_;
};

}  // namespace agent

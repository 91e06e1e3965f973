// See agent/outbox.hpp and docs/journal.md.
//
// Bookkeeping, in one place:
//  - seq order is journal order: items are appended with increasing seqs, and
//    the walk (cursor_ through the journal, merged with items that exist only
//    in memory) takes them into the window in that order, each once
//    (walk_seq_ only grows).
//  - the window holds, in walk order, every item taken and not yet settled
//    (plus settled ones behind an unsettled front). Its front moves the
//    watermark: when the front is settled, every seq up to it is.
//  - an item is counted as dropped exactly once: when it leaves memory without
//    being journaled or in the window (evict_oldest), when its journal
//    segment is dropped while it is neither in memory nor in the window
//    (on_segment_dropped), or when the window cannot load it any more (lose).
#include "agent/outbox.hpp"

#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <new>

#include "agent/log.hpp"
#include "agent/telemetry.hpp"

namespace agent {

namespace {
constexpr const char* kArea = "outbox";
}  // namespace

Outbox::Outbox(TelemetrySink& sink, hal::MonotonicClock& mono, Journal* journal, const OutboxOptions& options)
    : sink_(sink), mono_(mono), journal_(journal), opt_(options) {}

Outbox::~Outbox() = default;

hal::Err Outbox::start(size_t item_cap) {
  if (started_ || item_cap < 2 || opt_.memory_items == 0 || opt_.max_in_flight == 0 || opt_.max_in_flight > 64 ||
      opt_.resend_after_us <= 0 || opt_.retry_after_us < 0) {
    return hal::Err::InvalidArgument;
  }
  staging_.reset(new (std::nothrow) char[item_cap]);
  slot_mem_.reset(new (std::nothrow) char[opt_.memory_items * item_cap]);
  slots_.reset(new (std::nothrow) Slot[opt_.memory_items]);
  window_.reset(new (std::nothrow) Entry[opt_.max_in_flight]);
  if (!staging_ || !slot_mem_ || !slots_ || !window_) return hal::Err::NoSpace;
  item_cap_ = item_cap;
  if (journal_ != nullptr) {
    const hal::Err e = journal_->open(item_cap);
    if (e == hal::Err::Ok) {
      journal_ok_ = true;
      journal_->set_listener(this);
      next_seq_ = journal_->last_seq() + 1;
      acked_through_ = journal_->acked_through();
      walk_seq_ = acked_through_;
      cursor_ = journal_->begin();
      stats_.dropped_full = journal_->stats().dropped;  // over max_bytes at start
      const uint64_t old = journal_->stats().unsettled;
      if (old > 0) {
        XLOG_INFO(kArea, "%" PRIu64 " items from earlier runs are published first, with their original ids", old);
      }
    } else {
      journal_open_error_ = e;
      std::snprintf(problem_, sizeof problem_, "journal unavailable: %s", hal::err_name(e));
    }
  }
  started_ = true;
  return hal::Err::Ok;
}

hal::Err Outbox::grow(size_t item_cap) {
  if (!started_) return hal::Err::InvalidArgument;
  if (item_cap <= item_cap_) return hal::Err::Ok;
  std::unique_ptr<char[]> staging(new (std::nothrow) char[item_cap]);
  std::unique_ptr<char[]> mem(new (std::nothrow) char[opt_.memory_items * item_cap]);
  if (!staging || !mem) return hal::Err::NoSpace;
  if (journal_ok_ && journal_->reserve_payload(item_cap) != hal::Err::Ok) return hal::Err::NoSpace;
  for (size_t i = 0; i < opt_.memory_items; ++i) {
    std::memcpy(mem.get() + i * item_cap, payload_of(i), item_cap_);
  }
  staging_ = std::move(staging);
  slot_mem_ = std::move(mem);
  item_cap_ = item_cap;
  return hal::Err::Ok;
}

char* Outbox::item_buffer(size_t* cap) {
  if (cap != nullptr) *cap = started_ ? item_cap_ : 0;
  return started_ ? staging_.get() : nullptr;
}

// ---- memory ring ------------------------------------------------------------

int Outbox::ram_index_of_seq(uint64_t seq) const {
  for (size_t i = 0; i < ram_count_; ++i) {
    const size_t k = (ram_head_ + i) % opt_.memory_items;
    if (slots_[k].seq == seq) return static_cast<int>(k);
  }
  return -1;
}

Outbox::Slot* Outbox::ram_find(uint64_t seq) {
  const int k = ram_index_of_seq(seq);
  return k < 0 ? nullptr : &slots_[static_cast<size_t>(k)];
}

Outbox::Entry* Outbox::find_entry(uint64_t seq) {
  for (size_t i = 0; i < win_count_; ++i) {
    Entry* e = entry_at(i);
    if (e->seq == seq) return e;
  }
  return nullptr;
}

void Outbox::evict_oldest() {
  Slot& s = slots_[ram_head_];
  ram_head_ = (ram_head_ + 1) % opt_.memory_items;
  --ram_count_;
  if (s.settled || s.journaled) return;  // delivered, or safe in the journal
  const Entry* e = find_entry(s.seq);
  if (e != nullptr && (e->state == State::Pending || e->state == State::Sent)) return;  // counted if it cannot be sent again
  ++stats_.dropped_memory;
  // One warning per run of drops (a full disk at 20 readings/s must not
  // flood the log); the count is in diagnostics and presence, and the run's
  // total is logged when the journal works again.
  if (drops_in_run_++ == 0) {
    XLOG_WARN(kArea, "item %s dropped: not in the journal (%s) and pushed out of memory; "
              "further drops are counted, not logged", s.id, journal_ok_ ? hal::err_name(storage_error_) : "no journal");
  } else {
    XLOG_DEBUG(kArea, "item %s dropped: not in the journal and pushed out of memory", s.id);
  }
}

hal::Err Outbox::backfill() {
  // The journal works again: write the unsettled items that exist only in
  // memory, oldest first, before the next one (keeps the journal in seq order).
  for (size_t i = 0; i < ram_count_; ++i) {
    Slot* s = slot_at(i);
    if (s->journaled || s->settled || s->never_journal || s->seq <= journal_->last_seq()) continue;
    const size_t k = static_cast<size_t>(s - slots_.get());
    JournalPos pos;
    const hal::Err e = journal_->append_item(s->seq, s->id, payload_of(k), s->len, &pos);
    if (e == hal::Err::Overflow) {
      s->never_journal = true;
      continue;
    }
    if (e != hal::Err::Ok) return e;
    s->journaled = true;
    s->pos = pos;
    if (Entry* en = find_entry(s->seq)) {
      en->journaled = true;
      en->pos = pos;
    }
  }
  return hal::Err::Ok;
}

void Outbox::note_storage_error(hal::Err e) {
  ++stats_.journal_errors;
  if (!journal_failing_) {
    XLOG_WARN(kArea, "journal append failed (%s): new items are kept in memory only (the newest %zu) until it works",
              hal::err_name(e), opt_.memory_items);
  }
  journal_failing_ = true;
  storage_error_ = e;
  std::snprintf(problem_, sizeof problem_, "journal append failed: %s", hal::err_name(e));
}

hal::Err Outbox::commit(size_t len, const char* boot_id) {
  if (!started_) return hal::Err::NotReady;
  if (len >= item_cap_) return hal::Err::Overflow;
  char id[kItemIdCap];
  if (!format_item_id(id, sizeof id, boot_id, next_seq_).ok()) return hal::Err::Overflow;
  const uint64_t seq = next_seq_++;
  staging_[len] = '\0';
  ++stats_.committed;

  JournalPos pos;
  bool journaled = false;
  bool never_journal = false;
  if (journal_ok_) {
    hal::Err e = journal_failing_ ? backfill() : hal::Err::Ok;
    if (e == hal::Err::Ok) e = journal_->append_item(seq, id, staging_.get(), len, &pos);
    if (e == hal::Err::Ok) {
      journaled = true;
      if (journal_failing_) {
        XLOG_INFO(kArea, "journal appends work again (%" PRIu64 " items were dropped meanwhile)", drops_in_run_);
        drops_in_run_ = 0;
        journal_failing_ = false;
        storage_error_ = hal::Err::Ok;
        problem_[0] = '\0';
      }
    } else if (e == hal::Err::Overflow) {
      never_journal = true;
      XLOG_WARN(kArea, "item %s (%zu bytes) does not fit the journal: kept in memory only", id, len);
    } else {
      note_storage_error(e);
    }
  }
  if (ram_count_ == opt_.memory_items) evict_oldest();
  const size_t k = (ram_head_ + ram_count_) % opt_.memory_items;
  Slot& s = slots_[k];
  s.seq = seq;
  std::memcpy(s.id, id, sizeof s.id);
  s.len = len;
  s.pos = pos;
  s.journaled = journaled;
  s.never_journal = never_journal;
  s.settled = false;
  std::memcpy(payload_of(k), staging_.get(), len + 1);
  ++ram_count_;
  XLOG_DEBUG(kArea, "queued %s (%zu bytes)%s", id, len, journaled ? ", journaled" : "");
  return hal::Err::Ok;
}

// ---- the window ---------------------------------------------------------------

bool Outbox::walk_next(Entry* e, Loaded* l) {
  for (int guard = 0; guard < 4096; ++guard) {
    // The next journal record (served from memory when it is still there).
    const JournalPos before = cursor_;
    bool have_j = false;
    uint64_t j_seq = 0;
    Loaded jl{};
    JournalPos j_pos;
    if (journal_ok_ && !journal_->at_end(&cursor_)) {
      const Slot* hit = nullptr;
      for (size_t i = 0; i < ram_count_ && hit == nullptr; ++i) {
        const Slot* s = slot_at(i);
        if (s->journaled && s->pos.segment == cursor_.segment && s->pos.offset == cursor_.offset) hit = s;
      }
      if (hit != nullptr) {
        have_j = true;
        j_seq = hit->seq;
        j_pos = hit->pos;
        jl = Loaded{hit->id, payload_of(static_cast<size_t>(hit - slots_.get())), hit->len, false};
        cursor_.offset += hit->pos.length;
      } else {
        JournalItem it;
        const hal::Err r = journal_->next_item(&cursor_, &it);
        if (r == hal::Err::Ok) {
          have_j = true;
          j_seq = it.seq;
          j_pos = it.pos;
          jl = Loaded{it.item_id, it.payload, it.payload_len, true};
          if (const Slot* s = ram_find(it.seq)) {  // still in memory after all (a marker came first)
            jl = Loaded{s->id, payload_of(static_cast<size_t>(s - slots_.get())), s->len, false};
          }
        } else if (r != hal::Err::NotFound) {
          cursor_ = before;  // try again on a later pump
          last_error_ = r;
          return false;
        }
      }
    }
    // The oldest item that exists only in memory and was not taken yet.
    const Slot* mem = nullptr;
    for (size_t i = 0; i < ram_count_ && mem == nullptr; ++i) {
      const Slot* s = slot_at(i);
      if (!s->journaled && !s->settled && s->seq > walk_seq_) mem = s;
    }
    bool from_mem = false;
    if (mem != nullptr && (!have_j || mem->seq < j_seq)) {
      from_mem = true;
      if (have_j) cursor_ = before;  // not consumed: read again next time
    } else if (!have_j) {
      return false;
    }
    const uint64_t seq = from_mem ? mem->seq : j_seq;
    if (seq <= walk_seq_) continue;  // settled, or already in the window
    walk_seq_ = seq;
    e->seq = seq;
    e->journaled = !from_mem;
    e->pos = from_mem ? JournalPos{} : j_pos;
    e->segment_gone = false;
    e->sent_before = false;
    e->state = State::Pending;
    e->sent_at = hal::MonoTime{};
    e->retry_at = hal::MonoTime{};
    if (from_mem) {
      *l = Loaded{mem->id, payload_of(static_cast<size_t>(mem - slots_.get())), mem->len, false};
    } else {
      *l = jl;
    }
    std::snprintf(e->id, sizeof e->id, "%s", l->id);
    return true;
  }
  return false;
}

hal::Err Outbox::load(Entry* e, Loaded* l) {
  if (const Slot* s = ram_find(e->seq)) {
    *l = Loaded{s->id, payload_of(static_cast<size_t>(s - slots_.get())), s->len, false};
    return hal::Err::Ok;
  }
  if (!e->journaled || !journal_ok_) return hal::Err::NotFound;
  JournalItem it;
  const hal::Err r = journal_->read_item(e->pos, &it);
  if (r == hal::Err::Ok && it.seq != e->seq) return hal::Err::Corrupt;
  if (r != hal::Err::Ok) return r;
  *l = Loaded{it.item_id, it.payload, it.payload_len, true};
  return hal::Err::Ok;
}

void Outbox::settle(Entry* e, State how) {
  e->state = how;
  if (e->journaled && journal_ok_) journal_->settle(e->seq, e->pos);
  if (Slot* s = ram_find(e->seq)) s->settled = true;
}

void Outbox::lose(Entry* e) {
  // Neither memory nor the journal has it any more.
  if (e->segment_gone) {
    ++stats_.dropped_full;
  } else if (!e->journaled) {
    ++stats_.dropped_memory;
  } else {
    ++stats_.dropped_other;  // corrupt on reading back
  }
  XLOG_WARN(kArea, "item %s dropped: it can no longer be read to send it again", e->id);
  settle(e, State::Dropped);
}

Outbox::Sent Outbox::send(Entry* e, const Loaded& l) {
  const State before = e->state;
  e->state = State::Sent;  // before publish(): a sink may answer synchronously
  e->sent_at = mono_.mono_now();
  const hal::Err r = sink_.publish(l.id, l.payload, l.len);
  if (r == hal::Err::Ok) {
    if (e->sent_before) {
      ++stats_.resent;
    } else {
      ++stats_.published;
    }
    if (l.from_journal) ++stats_.replayed;
    e->sent_before = true;
    std::memcpy(last_item_id_, e->id, sizeof last_item_id_);
    return Sent::Yes;
  }
  last_error_ = r;
  if (r != hal::Err::NotReady && r != hal::Err::Io && r != hal::Err::Busy && r != hal::Err::Timeout) {
    // It will never go (Overflow: too large for the link; InvalidArgument:
    // the sink cannot make a stanza of it): drop it rather than block the
    // queue behind it.
    ++stats_.dropped_other;
    XLOG_ERROR(kArea, "item %s (%zu bytes) cannot be published (%s), dropped", e->id, l.len, hal::err_name(r));
    settle(e, State::Dropped);
    return Sent::Dropped;  // go on with the next one
  }
  e->state = before == State::Sent ? State::Pending : before;
  XLOG_DEBUG(kArea, "publish of %s deferred: %s", e->id, hal::err_name(r));
  return Sent::Stop;
}

void Outbox::reset_window() {
  size_t n = 0;
  for (size_t i = 0; i < win_count_; ++i) {
    Entry* e = entry_at(i);
    if (e->state == State::Sent) {
      e->state = State::Pending;
      e->retry_at = hal::MonoTime{};
      ++n;
    }
  }
  if (n > 0) XLOG_INFO(kArea, "link re-established: %zu unanswered publishes are sent again", n);
}

void Outbox::pop_settled() {
  uint64_t w = acked_through_;
  while (win_count_ > 0) {
    const Entry* e = entry_at(0);
    if (e->state == State::Pending || e->state == State::Sent) break;
    w = e->seq;
    win_head_ = (win_head_ + 1) % opt_.max_in_flight;
    --win_count_;
  }
  if (win_count_ == 0 && walk_seq_ > w) w = walk_seq_;  // nothing in between is unsettled
  if (w > acked_through_) {
    acked_through_ = w;
    if (journal_ok_) journal_->set_acked_through(w);
  }
  if (catchup_active_ && win_count_ == 0 && depth() == 0) {
    catchup_active_ = false;
    XLOG_INFO(kArea, "caught up: %" PRIu64 " items delivered in %lld ms", stats_.acked - catchup_acked_,
              static_cast<long long>(mono_.mono_now().us_since(catchup_since_) / 1000));
  }
}

size_t Outbox::pump() {
  if (!started_ || !sink_.ready()) return 0;
  pumping_ = true;
  size_t sent = 0;
  const uint32_t epoch = sink_.link_epoch();
  if (epoch != epoch_) {
    epoch_ = epoch;
    reset_window();
  }
  const hal::MonoTime now = mono_.mono_now();
  if (!catchup_active_ && depth() > opt_.max_in_flight) {
    // A backlog (an outage, or earlier runs' items): say when it is gone.
    catchup_active_ = true;
    catchup_since_ = now;
    catchup_acked_ = stats_.acked;
    XLOG_INFO(kArea, "%" PRIu64 " items waiting: publishing them in order, %zu at a time", depth(),
              opt_.max_in_flight);
  }
  bool stop = false;
  // 1. What must go again, in window order.
  for (size_t i = 0; i < win_count_ && !stop; ++i) {
    Entry* e = entry_at(i);
    if (e->state == State::Sent && now.us_since(e->sent_at) >= opt_.resend_after_us) {
      XLOG_INFO(kArea, "no answer to the publish of %s for %lld s: sending it again", e->id,
                static_cast<long long>(opt_.resend_after_us / 1000000));
      e->state = State::Pending;
    }
    if (e->state != State::Pending || e->retry_at > now) continue;
    Loaded l{};
    const hal::Err r = load(e, &l);
    if (r == hal::Err::NotFound || r == hal::Err::Corrupt) {
      lose(e);
      continue;
    }
    if (r != hal::Err::Ok) {
      last_error_ = r;
      break;
    }
    const Sent r2 = send(e, l);
    if (r2 == Sent::Yes) ++sent;
    stop = r2 == Sent::Stop;
  }
  // 2. New items, while the window has room.
  while (!stop && win_count_ < opt_.max_in_flight && sink_.ready()) {
    Entry* e = &window_[(win_head_ + win_count_) % opt_.max_in_flight];
    Loaded l{};
    if (!walk_next(e, &l)) break;
    ++win_count_;
    const Sent r = send(e, l);
    if (r == Sent::Yes) ++sent;
    stop = r == Sent::Stop;
  }
  pumping_ = false;
  pop_settled();
  return sent;
}

void Outbox::on_publish_result(const char* item_id, PublishOutcome outcome, const char* condition) {
  Entry* e = nullptr;
  for (size_t i = 0; i < win_count_ && e == nullptr && item_id != nullptr; ++i) {
    Entry* c = entry_at(i);
    if (std::strcmp(c->id, item_id) == 0) e = c;
  }
  if (e == nullptr || (e->state != State::Sent && e->state != State::Pending)) {
    ++stats_.stale_results;  // a duplicate (sent twice), or given up meanwhile
    return;
  }
  switch (outcome) {
    case PublishOutcome::Accepted:
      ++stats_.acked;
      settle(e, State::Acked);
      break;
    case PublishOutcome::Retry:
      ++stats_.retried;
      e->state = State::Pending;
      e->retry_at = mono_.mono_now().plus_us(opt_.retry_after_us);
      XLOG_INFO(kArea, "publish of %s answered '%s' (wait): sending it again in %lld ms", e->id,
                condition != nullptr ? condition : "", static_cast<long long>(opt_.retry_after_us / 1000));
      break;
    case PublishOutcome::ResendNow:
      ++stats_.retried;
      e->state = State::Pending;
      e->retry_at = mono_.mono_now();
      XLOG_INFO(kArea, "publish of %s answered '%s': sending it again now", e->id,
                condition != nullptr ? condition : "");
      break;
    case PublishOutcome::Rejected:
      ++stats_.rejected;
      XLOG_WARN(kArea, "item %s refused by the server (%s): not sent again", e->id,
                condition != nullptr && condition[0] != '\0' ? condition : "no condition");
      settle(e, State::Rejected);
      break;
  }
  if (!pumping_) pop_settled();
}

void Outbox::on_segment_dropped(uint64_t first_seq, uint64_t last_seq, uint64_t unsettled) {
  // The journal no longer holds first..last. Items still in memory stay
  // deliverable from there; items in the window are counted if they cannot be
  // loaded when they must be sent again (lose()); the rest are gone now.
  uint64_t held = 0;
  for (size_t i = 0; i < ram_count_; ++i) {
    Slot* s = slot_at(i);
    if (s->seq < first_seq || s->seq > last_seq || !s->journaled) continue;
    s->journaled = false;
    if (!s->settled) ++held;
  }
  for (size_t i = 0; i < win_count_; ++i) {
    Entry* e = entry_at(i);
    if (e->seq < first_seq || e->seq > last_seq || !e->journaled) continue;
    e->journaled = false;
    e->segment_gone = true;
    if ((e->state == State::Pending || e->state == State::Sent) && ram_index_of_seq(e->seq) < 0) ++held;
  }
  const uint64_t lost = unsettled > held ? unsettled - held : 0;
  stats_.dropped_full += lost;
}

void Outbox::tick() {
  if (journal_ok_) journal_->tick();
}

hal::Err Outbox::flush() {
  if (!journal_ok_) return hal::Err::NotReady;
  return journal_->flush();
}

uint64_t Outbox::depth() const {
  uint64_t n = journal_ok_ ? journal_->stats().unsettled : 0;
  for (size_t i = 0; i < ram_count_; ++i) {
    const Slot& s = slots_[(ram_head_ + i) % opt_.memory_items];
    if (!s.journaled && !s.settled) ++n;
  }
  for (size_t i = 0; i < win_count_; ++i) {
    const Entry& e = window_[(win_head_ + i) % opt_.max_in_flight];
    if (!e.journaled && (e.state == State::Pending || e.state == State::Sent) && ram_index_of_seq(e.seq) < 0) ++n;
  }
  return n;
}

size_t Outbox::in_flight() const {
  size_t n = 0;
  for (size_t i = 0; i < win_count_; ++i) {
    if (window_[(win_head_ + i) % opt_.max_in_flight].state == State::Sent) ++n;
  }
  return n;
}

const char* Outbox::storage_problem() const { return problem_[0] != '\0' ? problem_ : nullptr; }

}  // namespace agent

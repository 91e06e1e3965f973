// See agent/journal.hpp and docs/journal.md.
#include "agent/journal.hpp"

#include <cinttypes>
#include <cstring>
#include <new>

#include "agent/log.hpp"

namespace agent {

namespace {

constexpr const char* kArea = "journal";
constexpr uint64_t kMinSegment = 1024;
constexpr uint64_t kMaxSegment = 4u * 1024u * 1024u;
// Recovery reads segments in chunks of at least this much.
constexpr size_t kMinReadBuffer = 16 * 1024;
constexpr size_t kMaxIdLen = 63;

// Payloads are XML text: a NUL inside one can only be damage (and would cut
// the stanza short).
bool payload_ok(const JournalRecord& r) {
  return r.payload_len == 0 || std::memchr(r.payload, 0, r.payload_len) == nullptr;
}

uint64_t add_sat(uint64_t a, uint64_t b) { return a + b < a ? UINT64_MAX : a + b; }

bool id_ok(const char* id, size_t n) {
  if (n == 0 || n > kMaxIdLen) return false;
  for (size_t i = 0; i < n; ++i) {
    const auto c = static_cast<unsigned char>(id[i]);
    if (c <= 0x20 || c >= 0x7F) return false;
  }
  return true;
}

}  // namespace

// Carried across the segments of one recovery scan.
struct Journal::ScanState {
  uint64_t prev_seq = 0;  // items must increase through the journal
  uint64_t w = 0;         // highest acked_through seen
  uint64_t s = 0;         // highest seq / last_seq seen
  // Power-cut accounting: the newest marker's reservation and host boot id,
  // and whether the last record of the journal is a clean-stop marker.
  bool any = false;
  bool last_clean = false;
  uint64_t res = 0;
  char host[kMaxHostBoot + 1] = {};
  size_t host_len = 0;
  // Counting mode (count_above): count items above `above`, change nothing.
  bool counting = false;
  uint64_t above = 0;
  uint64_t count = 0;
};

Journal::Journal(hal::SegmentStore& store, hal::MonotonicClock& mono, const JournalOptions& options)
    : store_(store), mono_(mono), opt_(options) {}

Journal::~Journal() = default;

hal::Err Journal::alloc_buffers(size_t max_payload) {
  const size_t need = journal_record_bound(kMaxIdLen, max_payload);
  if (need > wbuf_cap_) {
    std::unique_ptr<uint8_t[]> w(new (std::nothrow) uint8_t[need]);
    if (!w) return hal::Err::NoSpace;
    wbuf_ = std::move(w);
    wbuf_cap_ = need;
  }
  const size_t rneed = (need > kMinReadBuffer ? need : kMinReadBuffer) + 1;  // +1: a NUL after a payload
  if (rneed > rbuf_cap_) {
    std::unique_ptr<uint8_t[]> r(new (std::nothrow) uint8_t[rneed]);
    if (!r) return hal::Err::NoSpace;
    rbuf_ = std::move(r);
    rbuf_cap_ = rneed;
  }
  return hal::Err::Ok;
}

hal::Err Journal::reserve_payload(size_t max_payload) { return alloc_buffers(max_payload); }

void Journal::set_host_boot(const char* id) {
  const size_t n = id != nullptr ? std::strlen(id) : 0;
  host_boot_len_ = n <= kMaxHostBoot ? n : kMaxHostBoot;
  if (host_boot_len_ > 0) std::memcpy(host_boot_, id, host_boot_len_);
  host_boot_[host_boot_len_] = '\0';
}

int Journal::find(uint32_t id) const {
  for (size_t i = 0; i < count_; ++i) {
    if (segs_[i].id == id) return static_cast<int>(i);
  }
  return -1;
}

void Journal::note_error(hal::Err e, const char* what) {
  if (last_error_ == hal::Err::Ok) {
    XLOG_ERROR(kArea, "%s failed in %s: %s", what, store_.where(), hal::err_name(e));
  } else {
    XLOG_DEBUG(kArea, "%s failed in %s: %s", what, store_.where(), hal::err_name(e));
  }
  last_error_ = e;
}

// ---- recovery ---------------------------------------------------------------

hal::Err Journal::scan_segment(Segment* seg, ScanState* st) {
  char name[hal::kSegmentNameCap];
  hal::segment_name(seg->id, name, sizeof name);
  const hal::Result<uint64_t> size = store_.size(seg->id);
  if (!size.ok()) return size.error() == hal::Err::NotFound ? hal::Err::Ok : size.error();
  const uint64_t end = size.value();
  uint64_t off = 0;
  // Cuts the segment at `at` (recovery only): a torn or unreadable tail.
  auto cut = [&](uint64_t at, const char* why) {
    if (st->counting) return;
    const hal::Err e = store_.truncate(seg->id, at);
    ++stats_.truncations;
    stats_.bytes_truncated += end - at;
    XLOG_WARN(kArea, "%s/%s offset %" PRIu64 ": %s; cut %" PRIu64 " bytes%s", store_.where(), name, at, why,
              end - at, e == hal::Err::Ok ? "" : " (truncate failed: the segment is closed)");
    if (e != hal::Err::Ok) seal_head_ = true;  // only matters if it is the last segment
  };
  auto skip = [&](uint64_t at, uint32_t len, const char* why) {
    if (st->counting) return;
    ++stats_.corrupt_skipped;
    XLOG_WARN(kArea, "%s/%s offset %" PRIu64 ": %s; record of %u bytes skipped (never replayed)", store_.where(),
              name, at, why, len);
  };
  uint64_t valid_end = end;
  while (off < end) {
    if (end - off < kJournalHeaderBytes) {
      cut(off, "torn record header");
      valid_end = off;
      break;
    }
    const size_t want = static_cast<size_t>(end - off < rbuf_cap_ - 1 ? end - off : rbuf_cap_ - 1);
    const hal::Result<size_t> got = store_.read(seg->id, off, rbuf_.get(), want);
    if (!got.ok()) return got.error();
    const size_t n = got.value();
    size_t p = 0;
    bool stop = false;
    bool progressed = false;
    while (n - p >= kJournalHeaderBytes) {
      uint32_t len = 0;
      uint32_t crc = 0;
      read_journal_header(rbuf_.get() + p, &len, &crc);
      const uint64_t at = off + p;
      if (len == 0 || len > kJournalMaxBody) {
        cut(at, "impossible record length");
        valid_end = at;
        stop = true;
        break;
      }
      if (at + kJournalHeaderBytes + len > end) {
        cut(at, "record runs past the end (torn write)");
        valid_end = at;
        stop = true;
        break;
      }
      const size_t rec_len = kJournalHeaderBytes + len;
      if (rec_len > rbuf_cap_ - 1) {
        // Written with larger items than this run is configured for: grow the
        // buffer (start-up only) and read it again from its start.
        if (p > 0) break;
        progressed = true;
        if (alloc_buffers(len) == hal::Err::Ok) break;
        skip(at, static_cast<uint32_t>(rec_len), "record larger than the memory available to read it");
        p += rec_len;
        break;
      }
      if (p + rec_len > n) break;  // the next chunk starts with it
      const uint8_t* body = rbuf_.get() + p + kJournalHeaderBytes;
      p += rec_len;
      progressed = true;
      if (crc32_ieee(body, len) != crc) {
        skip(at, static_cast<uint32_t>(rec_len), "CRC mismatch");
        continue;
      }
      JournalRecord rec;
      if (decode_journal_body(body, len, &rec) != hal::Err::Ok) {
        skip(at, static_cast<uint32_t>(rec_len), "undecodable record");
        continue;
      }
      if (rec.is_item()) {
        if (rec.seq <= st->prev_seq || !id_ok(rec.item_id, rec.item_id_len) || !payload_ok(rec)) {
          skip(at, static_cast<uint32_t>(rec_len),
               rec.seq <= st->prev_seq ? "sequence out of order" : !payload_ok(rec) ? "NUL in the payload" : "bad item id");
          continue;
        }
        st->prev_seq = rec.seq;
        if (st->counting) {
          if (rec.seq > st->above) ++st->count;
          continue;
        }
        if (seg->first_seq == 0) seg->first_seq = rec.seq;
        seg->last_seq = rec.seq;
        ++seg->items;
        if (rec.seq > st->s) st->s = rec.seq;
      }
      if (rec.acked_through > st->w) st->w = rec.acked_through;
      if (rec.last_seq > st->s) st->s = rec.last_seq;
      if (st->counting) continue;
      st->any = true;
      st->last_clean = !rec.is_item() && rec.clean;
      if (!rec.is_item() && rec.reserved_seq != 0) {
        // The newest reservation (not the highest: a clean stop gives back
        // what was not used).
        st->res = rec.reserved_seq;
        st->host_len = rec.host_boot_len <= kMaxHostBoot ? rec.host_boot_len : 0;
        if (st->host_len > 0) std::memcpy(st->host, rec.host_boot, st->host_len);  // host_boot may be null
        st->host[st->host_len] = '\0';
      }
    }
    if (stop) break;
    if (!progressed) return hal::Err::Io;  // a short read inside the segment
    off += p;
  }
  seg->bytes = valid_end < end ? valid_end : end;
  seg->verified = seg->bytes;
  return hal::Err::Ok;
}

uint64_t Journal::count_above(const Segment& seg, uint64_t w) {
  Segment copy = seg;
  ScanState st;
  st.counting = true;
  st.above = w;
  if (scan_segment(&copy, &st) != hal::Err::Ok) return seg.items;  // unknown: assume all
  return st.count;
}

hal::Err Journal::open(size_t max_payload) {
  if (tried_) return hal::Err::InvalidArgument;
  tried_ = true;
  if (opt_.max_bytes < 4096 || opt_.fsync_interval_us <= 0 || opt_.marker_interval_us < 0) {
    return hal::Err::InvalidArgument;
  }
  seg_target_ = opt_.segment_bytes;
  if (seg_target_ == 0) {
    seg_target_ = opt_.max_bytes / 4;
    if (seg_target_ < kMinSegment) seg_target_ = kMinSegment;
    if (seg_target_ > kMaxSegment) seg_target_ = kMaxSegment;
  }
  if (seg_target_ > opt_.max_bytes) seg_target_ = opt_.max_bytes;
  const hal::MonoTime t0 = mono_.mono_now();
  if (hal::Err e = alloc_buffers(max_payload); e != hal::Err::Ok) return e;

  if (hal::Err e = store_.open(); e != hal::Err::Ok) {
    XLOG_ERROR(kArea, "cannot open %s: %s; readings are kept in memory only", store_.where(), hal::err_name(e));
    last_error_ = e;
    return e == hal::Err::NoSpace ? hal::Err::NoSpace : hal::Err::Io;
  }
  // The segment list, grown until it fits (start-up only).
  size_t list_cap = 64;
  std::unique_ptr<uint32_t[]> ids;
  size_t n = 0;
  for (;;) {
    ids.reset(new (std::nothrow) uint32_t[list_cap]);
    if (!ids) return hal::Err::NoSpace;
    const hal::Result<size_t> r = store_.list(ids.get(), list_cap);
    if (r.ok()) {
      n = r.value();
      break;
    }
    if (r.error() != hal::Err::Overflow || list_cap >= (1u << 24)) {
      XLOG_ERROR(kArea, "cannot list %s: %s; readings are kept in memory only", store_.where(),
                 hal::err_name(r.error()));
      last_error_ = r.error();
      return hal::Err::Io;
    }
    list_cap *= 4;
  }
  cap_ = static_cast<size_t>(2 * opt_.max_bytes / seg_target_) + 8;
  if (cap_ < n + 8) cap_ = n + 8;
  segs_.reset(new (std::nothrow) Segment[cap_]);
  if (!segs_) return hal::Err::NoSpace;

  ScanState st;
  for (size_t i = 0; i < n; ++i) {
    Segment seg{ids[i], 0, 0, 0, 0, 0, 0};
    seal_head_ = false;
    if (hal::Err e = scan_segment(&seg, &st); e != hal::Err::Ok) {
      char name[hal::kSegmentNameCap];
      XLOG_ERROR(kArea, "cannot read %s/%s: %s; readings are kept in memory only", store_.where(),
                 hal::segment_name(seg.id, name, sizeof name), hal::err_name(e));
      last_error_ = e;
      count_ = 0;
      return hal::Err::Io;
    }
    segs_[count_++] = seg;
    total_bytes_ += seg.bytes;
  }
  if (n > 0) next_id_ = ids[n - 1] + 1;
  last_seq_ = st.s;
  acked_through_ = st.w;
  w_written_ = st.w;
  if (opt_.host_boot != nullptr) set_host_boot(opt_.host_boot);
  // Power-cut accounting (docs/journal.md "Power cuts"): the last run stopped
  // without its clean-stop marker. If the host rebooted meanwhile, the seqs it
  // had reserved above the highest one found may have been taken and lost
  // with the page cache: count them, and never use them again.
  const bool same_host = host_boot_len_ > 0 && st.host_len == host_boot_len_ &&
                         std::memcmp(st.host, host_boot_, host_boot_len_) == 0;
  bool settle_range = false;
  if (st.any && !st.last_clean) {
    stats_.unclean_stop = true;
    if (st.res > st.s && !same_host) {
      stats_.power_cut_first = st.s + 1;
      stats_.power_cut_last = st.res;
      stats_.power_cut_lost = st.res - st.s;
      last_seq_ = st.res;
      settle_range = true;
    } else if (st.res > st.s) {
      XLOG_INFO(kArea, "%s: the agent stopped without closing the journal while the host kept running: nothing "
                "lost (seq %" PRIu64 "..%" PRIu64 " reserved, never taken)", store_.where(), st.s + 1, st.res);
    }
  }
  reserved_ = last_seq_;
  for (size_t i = 0; i < count_; ++i) {
    Segment& s = segs_[i];
    if (s.items == 0 || s.last_seq <= acked_through_) {
      s.unsettled = 0;
    } else if (s.first_seq > acked_through_) {
      s.unsettled = s.items;
    } else {
      s.unsettled = count_above(s, acked_through_);
    }
    stats_.unsettled += s.unsettled;
  }
  open_ = true;
  if (settle_range) {
    // Record that the range was counted, so a second unclean stop before any
    // new item does not count it again (one sync at start).
    if (write_marker() == hal::Err::Ok && opt_.fsync != FsyncPolicy::Never && sync_head() == hal::Err::Ok) {
      head_reserved_ = true;
    }
    XLOG_WARN(kArea,
              "%s: unclean stop (power cut or reset) after the last sync: up to %" PRIu64
              " readings lost (seq %" PRIu64 "..%" PRIu64 " were reserved and are not in the journal; "
              "the server may hold some of them; never reused)",
              store_.where(), stats_.power_cut_lost, stats_.power_cut_first, stats_.power_cut_last);
  } else if (stats_.unclean_stop) {
    XLOG_INFO(kArea, "%s: the last run did not stop cleanly; no reserved seq is missing: nothing lost",
              store_.where());
  }
  remove_settled();
  while (total_bytes_ > opt_.max_bytes && count_ > 1) drop_oldest("over journal.max_bytes at start");
  stats_.recovered = stats_.unsettled;
  stats_.bytes = total_bytes_;
  stats_.segments = static_cast<uint32_t>(count_);
  const hal::MonoTime now = mono_.mono_now();
  stats_.recovery_us = now.us_since(t0);
  last_sync_ = now;
  if (n > 0) {
    XLOG_INFO(kArea,
              "%s: %" PRIu64 " unacknowledged items recovered (acked through %" PRIu64 ", last seq %" PRIu64
              "), %u segments, %" PRIu64 " bytes, %" PRIu64 " corrupt records skipped, %" PRIu64
              " bytes cut, in %lld us",
              store_.where(), stats_.recovered, acked_through_, last_seq_, stats_.segments, stats_.bytes,
              stats_.corrupt_skipped, stats_.bytes_truncated, static_cast<long long>(stats_.recovery_us));
  }
  return hal::Err::Ok;
}

// ---- segments ---------------------------------------------------------------

void Journal::remove_at(size_t i) {
  total_bytes_ -= segs_[i].bytes;
  for (size_t k = i + 1; k < count_; ++k) segs_[k - 1] = segs_[k];
  --count_;
  stats_.bytes = total_bytes_;
  stats_.segments = static_cast<uint32_t>(count_);
}

void Journal::drop_oldest(const char* why) {
  const Segment s = segs_[0];
  char name[hal::kSegmentNameCap];
  hal::segment_name(s.id, name, sizeof name);
  const hal::Err e = store_.remove(s.id);
  if (e != hal::Err::Ok) note_error(e, "removing a segment");
  stats_.dropped += s.unsettled;
  stats_.unsettled -= s.unsettled;
  remove_at(0);
  if (s.unsettled > 0) {
    XLOG_WARN(kArea, "%s: dropped %s with %" PRIu64 " unacknowledged items (seq %" PRIu64 "..%" PRIu64 ")", why, name,
              s.unsettled, s.first_seq, s.last_seq);
  } else {
    XLOG_DEBUG(kArea, "%s: dropped %s (nothing unacknowledged)", why, name);
  }
  if (listener_ != nullptr && s.items > 0) listener_->on_segment_dropped(s.first_seq, s.last_seq, s.unsettled);
}

void Journal::remove_settled(bool disk_full) {
  // Never the head: it is where the next record goes, and it carries the
  // highest seq and the newest watermark. Under `interval`, not before the
  // head holds a durable marker with the current seq reservation: the
  // segment removed may hold the newest durable one.
  // Except on a full disk (no marker can be written then): freeing the space
  // comes first (docs/journal.md, limits).
  if (opt_.fsync == FsyncPolicy::Interval && !head_reserved_ && !disk_full) return;
  size_t i = 0;
  while (count_ > 1 && i + 1 < count_) {
    if (segs_[i].unsettled != 0) {
      ++i;
      continue;
    }
    const hal::Err e = store_.remove(segs_[i].id);
    if (e != hal::Err::Ok) {
      note_error(e, "removing a settled segment");
      return;  // try again on a later tick
    }
    char name[hal::kSegmentNameCap];
    XLOG_DEBUG(kArea, "removed %s: every item acknowledged", hal::segment_name(segs_[i].id, name, sizeof name));
    remove_at(i);
  }
}

hal::Err Journal::sync_head() {
  if (count_ == 0) return hal::Err::Ok;
  const hal::Err e = store_.sync(segs_[count_ - 1].id);
  if (e != hal::Err::Ok && e != hal::Err::NotFound) {
    note_error(e, "sync");
    return e;
  }
  dirty_ = false;
  last_sync_ = mono_.mono_now();
  ++stats_.syncs;
  return hal::Err::Ok;
}

hal::Err Journal::reserve(uint64_t through) {
  // Written and synced before any seq above the previous reservation is
  // used: every seq a run takes is at most the newest durable reservation.
  const uint64_t old = reserved_;
  reserved_ = through;
  const hal::Err e = write_marker();
  if (e != hal::Err::Ok) {
    reserved_ = old;
    return e;
  }
  ++stats_.reservations;
  const hal::Err s = sync_head();
  if (s == hal::Err::Ok) head_reserved_ = true;
  return s;
}

hal::Err Journal::roll() {
  if (dirty_ && opt_.fsync != FsyncPolicy::Never) (void)sync_head();  // a closed segment is durable
  if (count_ == cap_) drop_oldest("segment table full");
  const uint32_t id = count_ > 0 ? segs_[count_ - 1].id + 1 : next_id_;
  if (count_ > 0 && segs_[count_ - 1].id == UINT32_MAX) return hal::Err::NoSpace;  // after 4e9 segments
  segs_[count_++] = Segment{id, 0, 0, 0, 0, 0, 0};
  stats_.segments = static_cast<uint32_t>(count_);
  seal_head_ = false;
  dirty_ = false;
  head_reserved_ = false;
  return hal::Err::Ok;
}

hal::Err Journal::make_room(size_t len) {
  if (count_ == 0 || seal_head_) {
    if (hal::Err e = roll(); e != hal::Err::Ok) return e;
  }
  {
    const Segment& head = segs_[count_ - 1];
    if (head.bytes > 0 && head.bytes + len > seg_target_) {
      if (hal::Err e = roll(); e != hal::Err::Ok) return e;
    }
  }
  while (total_bytes_ + len > opt_.max_bytes) {
    if (count_ > 1) {
      drop_oldest("journal full");
    } else if (segs_[0].bytes > 0) {
      if (hal::Err e = roll(); e != hal::Err::Ok) return e;
    } else {
      return hal::Err::Overflow;
    }
  }
  return hal::Err::Ok;
}

hal::Err Journal::append_record(const uint8_t* rec, size_t len, uint64_t item_seq, JournalPos* where) {
  hal::Err e = append_once(rec, len, item_seq, where);
  if (e == hal::Err::NoSpace && count_ > 0) {
    // The disk is full. If the head segment holds nothing unacknowledged it is
    // only taking space (settled segments are removed, but never the head):
    // start a new segment, remove the settled one, and try once more. Without
    // this a journal whose one segment filled a small disk would stay full for
    // ever, however much was delivered.
    const Segment& head = segs_[count_ - 1];
    if (head.unsettled == 0 && head.bytes > 0 && roll() == hal::Err::Ok) {
      remove_settled(true);
      e = append_once(rec, len, item_seq, where);
    }
  }
  return e;
}

hal::Err Journal::append_once(const uint8_t* rec, size_t len, uint64_t item_seq, JournalPos* where) {
  if (hal::Err e = make_room(len); e != hal::Err::Ok) return e;
  Segment& head = segs_[count_ - 1];
  const hal::Err e = store_.append(head.id, rec, len);
  if (e != hal::Err::Ok) {
    ++stats_.write_errors;
    note_error(e, item_seq != 0 ? "append" : "watermark append");
    // The store promises all or nothing; if the segment grew anyway, cut it
    // back, or close it so no record ever follows the partial one.
    const hal::Result<uint64_t> sz = store_.size(head.id);
    if (sz.ok() && sz.value() != head.bytes) {
      if (sz.value() < head.bytes || store_.truncate(head.id, head.bytes) != hal::Err::Ok) seal_head_ = true;
    }
    return e;
  }
  if (where != nullptr) *where = JournalPos{head.id, static_cast<uint32_t>(head.bytes), static_cast<uint32_t>(len)};
  head.bytes += len;
  total_bytes_ += len;
  stats_.bytes = total_bytes_;
  if (item_seq != 0) {
    if (head.first_seq == 0) head.first_seq = item_seq;
    head.last_seq = item_seq;
    ++head.items;
    ++head.unsettled;
    ++stats_.unsettled;
  }
  dirty_ = true;
  if (last_error_ != hal::Err::Ok) {
    XLOG_INFO(kArea, "appends to %s work again", store_.where());
    last_error_ = hal::Err::Ok;
  }
  // Always: items are durable before they are published. A marker only saves
  // duplicates after a power cut: it rides on the next sync.
  if (opt_.fsync == FsyncPolicy::Always && item_seq != 0) (void)sync_head();
  return hal::Err::Ok;
}

hal::Err Journal::append_item(uint64_t seq, const char* item_id, const char* payload, size_t len,
                              JournalPos* where) {
  if (!open_) return hal::Err::NotReady;
  const size_t id_len = item_id != nullptr ? std::strlen(item_id) : 0;
  if (!id_ok(item_id, id_len) || seq <= last_seq_ || (payload == nullptr && len > 0)) {
    return hal::Err::InvalidArgument;
  }
  // The seq reservation runs out (a burst, or the first item of a run): one
  // more marker and sync. A failure is not the item's: it is tried again by
  // the next item, and the append goes on.
  if (reserving() && seq > reserved_) {
    if (stats_.reservations > 0 && reserve_step_ < (1u << 16)) reserve_step_ *= 2;  // faster than the last interval
    (void)reserve(add_sat(seq - 1, reserve_step_));
  }
  JournalRecord r;
  r.seq = seq;
  r.item_id = item_id;
  r.item_id_len = id_len;
  r.acked_through = acked_through_;
  r.payload = reinterpret_cast<const uint8_t*>(payload);
  r.payload_len = len;
  const size_t size = kJournalHeaderBytes + journal_body_size(r);
  if (size > opt_.max_bytes || size > wbuf_cap_) return hal::Err::Overflow;
  const hal::Result<size_t> enc = encode_journal_record(wbuf_.get(), wbuf_cap_, r);
  if (!enc.ok()) return enc.error();
  const hal::Err e = append_record(wbuf_.get(), enc.value(), seq, where);
  if (e != hal::Err::Ok) return e;
  last_seq_ = seq;
  if (!reserving()) reserved_ = seq;
  w_written_ = acked_through_;
  ++stats_.appended;
  ++items_since_renew_;
  return hal::Err::Ok;
}

hal::Err Journal::write_marker(bool clean) {
  JournalRecord r;
  r.acked_through = acked_through_;
  r.last_seq = last_seq_;
  r.reserved_seq = reserved_;
  r.clean = clean;
  r.host_boot = host_boot_;
  r.host_boot_len = host_boot_len_;
  const hal::Result<size_t> enc = encode_journal_record(wbuf_.get(), wbuf_cap_, r);
  if (!enc.ok()) return enc.error();
  w_ahead_since_ = mono_.mono_now();  // a failed marker is tried again an interval later
  const hal::Err e = append_record(wbuf_.get(), enc.value(), 0, nullptr);
  if (e != hal::Err::Ok) return e;
  w_written_ = acked_through_;
  ++stats_.markers;
  return hal::Err::Ok;
}

void Journal::settle(uint64_t seq, const JournalPos& pos) {
  (void)seq;
  const int i = find(pos.segment);
  if (i < 0) return;  // dropped meanwhile: counted there
  Segment& s = segs_[static_cast<size_t>(i)];
  if (s.unsettled > 0) {
    --s.unsettled;
    --stats_.unsettled;
  }
}

void Journal::set_acked_through(uint64_t w) {
  if (w <= acked_through_) return;
  if (acked_through_ <= w_written_) w_ahead_since_ = mono_.mono_now();
  acked_through_ = w;
}

void Journal::tick() {
  if (!open_) return;
  const hal::MonoTime now = mono_.mono_now();
  if (acked_through_ > w_written_ && now.us_since(w_ahead_since_) >= opt_.marker_interval_us) (void)write_marker();
  remove_settled();
  if (opt_.fsync != FsyncPolicy::Interval || !dirty_ || now.us_since(last_sync_) < opt_.fsync_interval_us) return;
  if (items_since_renew_ > 0) {
    // Readings flow: the reservation is renewed with the sync it rides on,
    // sized to the rate (the items since the last renewal and a quarter
    // more), so it rarely runs out before the next one and an unclean stop
    // counts little more than what was taken (docs/journal.md "Power cuts").
    const uint64_t n = items_since_renew_;
    items_since_renew_ = 0;
    reserve_step_ = n + n / 4 + 2;
    if (reserve(add_sat(last_seq_, reserve_step_)) == hal::Err::Ok) return;
  }
  (void)sync_head();
}

hal::Err Journal::flush() {
  if (!open_) return hal::Err::NotReady;
  hal::Err e = hal::Err::Ok;
  if (count_ > 0 || acked_through_ > w_written_) {
    // The clean-stop marker: gives back the unused reservation, and tells the
    // next start that nothing was lost.
    reserved_ = last_seq_;
    e = write_marker(true);
  }
  if (opt_.fsync != FsyncPolicy::Never && dirty_) {
    const hal::Err s = sync_head();
    if (e == hal::Err::Ok) e = s;
    if (s == hal::Err::Ok) head_reserved_ = true;
  }
  remove_settled();
  return e;
}

// ---- reading ------------------------------------------------------------------

JournalPos Journal::begin() const {
  JournalPos p;
  p.segment = count_ > 0 ? segs_[0].id : 0;
  return p;
}

bool Journal::at_end(JournalPos* cursor) const {
  if (!open_) return true;
  size_t i = 0;
  while (i < count_ && segs_[i].id < cursor->segment) ++i;
  if (i == count_) return true;
  if (segs_[i].id != cursor->segment) {
    cursor->segment = segs_[i].id;
    cursor->offset = 0;
  }
  while (cursor->offset >= segs_[i].bytes) {
    if (i + 1 == count_) return true;
    ++i;
    cursor->segment = segs_[i].id;
    cursor->offset = 0;
  }
  return false;
}

hal::Err Journal::read_record(uint32_t seg, uint64_t off, uint64_t seg_bytes, JournalRecord* rec,
                              uint32_t* rec_len) {
  *rec_len = 0;
  if (seg_bytes - off < kJournalHeaderBytes) return hal::Err::Corrupt;
  hal::Result<size_t> got = store_.read(seg, off, rbuf_.get(), kJournalHeaderBytes);
  if (!got.ok()) return got.error();
  if (got.value() != kJournalHeaderBytes) return hal::Err::Corrupt;
  uint32_t len = 0;
  uint32_t crc = 0;
  read_journal_header(rbuf_.get(), &len, &crc);
  if (len == 0 || len > kJournalMaxBody || off + kJournalHeaderBytes + len > seg_bytes ||
      kJournalHeaderBytes + len > rbuf_cap_ - 1) {
    return hal::Err::Corrupt;  // framing broken: *rec_len stays 0
  }
  got = store_.read(seg, off + kJournalHeaderBytes, rbuf_.get() + kJournalHeaderBytes, len);
  if (!got.ok()) return got.error();
  if (got.value() != len) return hal::Err::Corrupt;
  *rec_len = static_cast<uint32_t>(kJournalHeaderBytes + len);
  const uint8_t* body = rbuf_.get() + kJournalHeaderBytes;
  if (crc32_ieee(body, len) != crc) return hal::Err::Corrupt;
  if (decode_journal_body(body, len, rec) != hal::Err::Ok) return hal::Err::Corrupt;
  if (rec->is_item() && (!id_ok(rec->item_id, rec->item_id_len) || !payload_ok(*rec))) return hal::Err::Corrupt;
  return hal::Err::Ok;
}

namespace {

// Copies the id out and NUL-terminates the payload inside the read buffer
// (journal.proto puts it last, so normally in place).
void fill_item(const JournalRecord& rec, const JournalPos& pos, uint8_t* buf, char* id_buf, JournalItem* out) {
  std::memcpy(id_buf, rec.item_id, rec.item_id_len);
  id_buf[rec.item_id_len] = '\0';
  uint8_t* payload = const_cast<uint8_t*>(rec.payload);
  if (payload == nullptr) payload = buf;  // no payload field: empty
  uint8_t* const body_end = buf + (pos.length - kJournalHeaderBytes);
  if (payload + rec.payload_len != body_end) {
    std::memmove(buf, payload, rec.payload_len);
    payload = buf;
  }
  payload[rec.payload_len] = '\0';
  out->seq = rec.seq;
  out->item_id = id_buf;
  out->payload = reinterpret_cast<const char*>(payload);
  out->payload_len = rec.payload_len;
  out->pos = pos;
}

}  // namespace

hal::Err Journal::next_item(JournalPos* cursor, JournalItem* out) {
  if (!open_) return hal::Err::NotReady;
  for (;;) {
    if (at_end(cursor)) return hal::Err::NotFound;
    const Segment& s = segs_[static_cast<size_t>(find(cursor->segment))];
    JournalRecord rec;
    uint32_t rec_len = 0;
    const hal::Err e = read_record(s.id, cursor->offset, s.bytes, &rec, &rec_len);
    if (e == hal::Err::Corrupt && cursor->offset < s.verified && rec_len > 0) {
      cursor->offset += rec_len;  // recovery already reported and counted it
      continue;
    }
    if (e == hal::Err::Corrupt) {
      // Recovery verified every record up to the sizes it found; this one rotted
      // since, or the framing broke. Never replayed.
      char name[hal::kSegmentNameCap];
      ++stats_.corrupt_skipped;
      XLOG_WARN(kArea, "%s/%s offset %u: record fails its check on reading; %s", store_.where(),
                hal::segment_name(s.id, name, sizeof name), cursor->offset,
                rec_len > 0 ? "skipped" : "rest of the segment skipped");
      cursor->offset = rec_len > 0 ? cursor->offset + rec_len : static_cast<uint32_t>(s.bytes);
      continue;
    }
    if (e != hal::Err::Ok) return e;
    const JournalPos pos{s.id, cursor->offset, rec_len};
    cursor->offset += rec_len;
    if (!rec.is_item()) continue;
    fill_item(rec, pos, rbuf_.get() + kJournalHeaderBytes, id_buf_, out);
    return hal::Err::Ok;
  }
}

hal::Err Journal::read_item(const JournalPos& pos, JournalItem* out) {
  if (!open_) return hal::Err::NotReady;
  const int i = find(pos.segment);
  if (i < 0) return hal::Err::NotFound;
  const Segment& s = segs_[static_cast<size_t>(i)];
  if (static_cast<uint64_t>(pos.offset) + pos.length > s.bytes) return hal::Err::NotFound;
  JournalRecord rec;
  uint32_t rec_len = 0;
  const hal::Err e = read_record(s.id, pos.offset, s.bytes, &rec, &rec_len);
  if (e == hal::Err::Ok && rec_len == pos.length && rec.is_item()) {
    fill_item(rec, pos, rbuf_.get() + kJournalHeaderBytes, id_buf_, out);
    return hal::Err::Ok;
  }
  if (e != hal::Err::Ok && e != hal::Err::Corrupt) return e;
  char name[hal::kSegmentNameCap];
  ++stats_.corrupt_skipped;
  XLOG_WARN(kArea, "%s/%s offset %u: record fails its check on reading; not replayed", store_.where(),
            hal::segment_name(s.id, name, sizeof name), pos.offset);
  return hal::Err::Corrupt;
}

}  // namespace agent

#include "hal/sim/sim_segment_store.hpp"

#include <cstring>

namespace hal {
namespace sim {

SimSegmentStore::SimSegmentStore(size_t max_segments, size_t reserve_bytes) : slots_(max_segments) {
  for (Slot& s : slots_) s.data.reserve(reserve_bytes);
}

int SimSegmentStore::find(uint32_t id) const {
  for (size_t i = 0; i < slots_.size(); ++i) {
    if (slots_[i].used && slots_[i].id == id) return static_cast<int>(i);
  }
  return -1;
}

void SimSegmentStore::fail_next(SegmentOp op, Err err, uint32_t count) {
  faults_[static_cast<size_t>(op)] = Fault{err, count};
}

bool SimSegmentStore::take_fault(SegmentOp op, Err* err) {
  Fault& f = faults_[static_cast<size_t>(op)];
  if (f.count == 0) return false;
  --f.count;
  *err = f.err;
  return true;
}

Err SimSegmentStore::open() {
  Err e = Err::Ok;
  if (take_fault(SegmentOp::Open, &e)) return e;
  return Err::Ok;
}

Result<size_t> SimSegmentStore::list(uint32_t* ids, size_t cap) {
  Err e = Err::Ok;
  if (take_fault(SegmentOp::List, &e)) return e;
  // Insertion sort into the caller's array, keeping the `cap` lowest.
  size_t n = 0;
  size_t total = 0;
  for (const Slot& s : slots_) {
    if (!s.used) continue;
    ++total;
    if (n < cap) {
      ids[n++] = s.id;
    } else if (cap > 0 && s.id < ids[n - 1]) {
      ids[n - 1] = s.id;
    } else {
      continue;
    }
    for (size_t k = n - 1; k > 0 && ids[k - 1] > ids[k]; --k) {
      const uint32_t t = ids[k - 1];
      ids[k - 1] = ids[k];
      ids[k] = t;
    }
  }
  if (total > cap) return Err::Overflow;
  return n;
}

Err SimSegmentStore::append(uint32_t id, const uint8_t* data, size_t len) {
  if (data == nullptr && len > 0) return Err::InvalidArgument;
  ++appends_;
  int i = find(id);
  if (i < 0) {
    for (size_t k = 0; k < slots_.size(); ++k) {
      if (!slots_[k].used) {
        i = static_cast<int>(k);
        break;
      }
    }
    if (i < 0) return Err::NoSpace;
  }
  Slot& s = slots_[static_cast<size_t>(i)];
  const bool created = !s.used;
  Err e = Err::Ok;
  size_t put = len;
  if (take_fault(SegmentOp::Append, &e)) {
    put = torn_failures_ ? len / 2 : 0;
  } else if (capacity_ != 0 && bytes_used() + len > capacity_) {
    e = Err::NoSpace;
    const uint64_t room = capacity_ > bytes_used() ? capacity_ - bytes_used() : 0;
    put = torn_failures_ ? static_cast<size_t>(room < len ? room : len) : 0;
  }
  if (created) {
    if (e != Err::Ok && put == 0) return e;  // a failed create leaves no file
    s.used = true;
    s.ever_synced = false;
    s.id = id;
    s.synced = 0;
    s.data.clear();
  }
  s.data.insert(s.data.end(), data, data + put);
  return e;
}

Result<size_t> SimSegmentStore::read(uint32_t id, uint64_t offset, uint8_t* buf, size_t len) {
  Err e = Err::Ok;
  if (take_fault(SegmentOp::Read, &e)) return e;
  ++reads_;
  const int i = find(id);
  if (i < 0) return Err::NotFound;
  const std::vector<uint8_t>& d = slots_[static_cast<size_t>(i)].data;
  if (offset >= d.size()) return size_t{0};
  const size_t n = static_cast<size_t>(d.size() - offset) < len ? static_cast<size_t>(d.size() - offset) : len;
  if (n > 0) std::memcpy(buf, d.data() + offset, n);
  return n;
}

Result<uint64_t> SimSegmentStore::size(uint32_t id) {
  Err e = Err::Ok;
  if (take_fault(SegmentOp::Size, &e)) return e;
  const int i = find(id);
  if (i < 0) return Err::NotFound;
  return static_cast<uint64_t>(slots_[static_cast<size_t>(i)].data.size());
}

Err SimSegmentStore::sync(uint32_t id) {
  Err e = Err::Ok;
  if (take_fault(SegmentOp::Sync, &e)) return e;
  const int i = find(id);
  if (i < 0) return Err::NotFound;
  ++syncs_;
  Slot& s = slots_[static_cast<size_t>(i)];
  s.synced = s.data.size();
  s.ever_synced = true;
  return Err::Ok;
}

Err SimSegmentStore::truncate(uint32_t id, uint64_t size) {
  Err e = Err::Ok;
  if (take_fault(SegmentOp::Truncate, &e)) return e;
  const int i = find(id);
  if (i < 0) return Err::NotFound;
  Slot& s = slots_[static_cast<size_t>(i)];
  if (size < s.data.size()) s.data.resize(static_cast<size_t>(size));
  if (s.synced > s.data.size()) s.synced = s.data.size();
  return Err::Ok;
}

Err SimSegmentStore::remove(uint32_t id) {
  Err e = Err::Ok;
  if (take_fault(SegmentOp::Remove, &e)) return e;
  const int i = find(id);
  if (i >= 0) {
    Slot& s = slots_[static_cast<size_t>(i)];
    s.used = false;
    s.data.clear();  // keeps the capacity for the next segment
  }
  return Err::Ok;
}

void SimSegmentStore::power_cut(uint64_t written_back) {
  for (Slot& s : slots_) {
    if (!s.used) continue;
    const uint64_t keep = s.data.size() - s.synced < written_back ? s.data.size() : s.synced + written_back;
    if (!s.ever_synced && keep == 0) {
      s.used = false;
      s.data.clear();
      continue;
    }
    s.data.resize(static_cast<size_t>(keep));
    s.synced = keep;
    s.ever_synced = true;
  }
}

uint64_t SimSegmentStore::unsynced(uint32_t id) const {
  const int i = find(id);
  if (i < 0) return 0;
  const Slot& s = slots_[static_cast<size_t>(i)];
  return s.data.size() - s.synced;
}

bool SimSegmentStore::flip(uint32_t id, uint64_t offset, uint8_t mask) {
  std::vector<uint8_t>* d = raw(id);
  if (d == nullptr || offset >= d->size()) return false;
  (*d)[static_cast<size_t>(offset)] ^= mask;
  return true;
}

bool SimSegmentStore::chop(uint32_t id, uint64_t n) {
  std::vector<uint8_t>* d = raw(id);
  if (d == nullptr || n > d->size()) return false;
  d->resize(d->size() - static_cast<size_t>(n));
  Slot& s = slots_[static_cast<size_t>(find(id))];
  if (s.synced > d->size()) s.synced = d->size();
  return true;
}

std::vector<uint8_t>* SimSegmentStore::raw(uint32_t id) {
  const int i = find(id);
  return i < 0 ? nullptr : &slots_[static_cast<size_t>(i)].data;
}

uint64_t SimSegmentStore::bytes_used() const {
  uint64_t n = 0;
  for (const Slot& s : slots_) {
    if (s.used) n += s.data.size();
  }
  return n;
}

size_t SimSegmentStore::segment_count() const {
  size_t n = 0;
  for (const Slot& s : slots_) n += s.used ? 1 : 0;
  return n;
}

}  // namespace sim
}  // namespace hal

// An in-memory hal::SegmentStore with fault injection, for unit tests of the
// journal: a disk that fills up, appends that fail or tear, bytes that flip,
// and power cuts that lose whatever was not synced.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "hal/segment_store.hpp"

namespace hal {
namespace sim {

/// Which SegmentStore call fail_next() applies to.
enum class SegmentOp : uint8_t { Open, List, Append, Read, Size, Sync, Truncate, Remove };

/// Segments live in a fixed number of slots, each a byte vector; a removed
/// segment's slot (and its capacity) is reused, so once every slot has grown
/// to its largest size, appends allocate nothing (pass `reserve_bytes` to
/// reserve that up front). Not thread-safe; one "process" at a time: a test
/// destroys its journal and opens a new one on the same store to model a
/// restart.
class SimSegmentStore final : public SegmentStore {
 public:
  /// `max_segments` slots (appending to a new segment when all are used
  /// gives NoSpace); each slot reserves `reserve_bytes` now.
  explicit SimSegmentStore(size_t max_segments = 64, size_t reserve_bytes = 0);

  Err open() override;
  Result<size_t> list(uint32_t* ids, size_t cap) override;
  /// Errors: NoSpace (over capacity(), or no free slot), InvalidArgument,
  /// and any injected error.
  Err append(uint32_t id, const uint8_t* data, size_t len) override;
  Result<size_t> read(uint32_t id, uint64_t offset, uint8_t* buf, size_t len) override;
  Result<uint64_t> size(uint32_t id) override;
  Err sync(uint32_t id) override;
  Err truncate(uint32_t id, uint64_t size) override;
  Err remove(uint32_t id) override;
  const char* where() const override { return "sim"; }

  // ---- faults ------------------------------------------------------------
  /// The "disk": appends that would take the total over `bytes` fail with
  /// NoSpace (0 = unlimited, the default).
  void set_capacity(uint64_t bytes) { capacity_ = bytes; }
  uint64_t capacity() const { return capacity_; }
  /// The next `count` calls of `op` fail with `err` (appends write nothing).
  void fail_next(SegmentOp op, Err err, uint32_t count = 1);
  /// When on, a failing append (over capacity or injected) leaves the bytes
  /// that fit / half of the data behind instead of nothing, as a backend
  /// whose cut-back also failed would.
  void set_torn_failures(bool on) { torn_failures_ = on; }
  /// Models a power cut: every segment goes back to its size at its last
  /// sync() (what was appended but not synced is lost); a segment never
  /// synced disappears. `written_back` models the kernel having written some
  /// of it back before the cut: up to that many unsynced bytes of each
  /// segment survive (which may end in a torn record), and a never-synced
  /// segment with any survives too.
  void power_cut(uint64_t written_back = 0);
  /// Bytes appended to segment `id` since its last sync (0 if none).
  uint64_t unsynced(uint32_t id) const;
  /// XORs `mask` into byte `offset` of segment `id` (bit rot). False if out
  /// of range.
  bool flip(uint32_t id, uint64_t offset, uint8_t mask = 0xFF);
  /// Removes the last `n` bytes of segment `id` (a write torn by a crash).
  bool chop(uint32_t id, uint64_t n);

  // ---- inspection --------------------------------------------------------
  bool exists(uint32_t id) const { return find(id) >= 0; }
  /// The bytes of segment `id` (nullptr if none); tests may edit them.
  std::vector<uint8_t>* raw(uint32_t id);
  /// Sum of every segment's size.
  uint64_t bytes_used() const;
  size_t segment_count() const;
  uint64_t appends() const { return appends_; }
  uint64_t syncs() const { return syncs_; }
  uint64_t reads() const { return reads_; }

 private:
  struct Slot {
    bool used = false;
    bool ever_synced = false;
    uint32_t id = 0;
    uint64_t synced = 0;
    std::vector<uint8_t> data;
  };
  struct Fault {
    Err err = Err::Ok;
    uint32_t count = 0;
  };
  int find(uint32_t id) const;
  bool take_fault(SegmentOp op, Err* err);

  std::vector<Slot> slots_;
  Fault faults_[8];
  uint64_t capacity_ = 0;
  bool torn_failures_ = false;
  uint64_t appends_ = 0;
  uint64_t syncs_ = 0;
  uint64_t reads_ = 0;
};

}  // namespace sim
}  // namespace hal

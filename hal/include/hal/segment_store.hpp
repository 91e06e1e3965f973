// Append-only segment files: the storage under the telemetry journal
// (agent/journal.hpp). hal::Storage replaces whole blobs atomically, which
// suits settings but not a log that grows one record at a time; a segment
// store appends to numbered segments and removes whole segments.
//
// A segment is named by a 32-bit id; ids order segments (the journal appends
// to the highest id and removes the lowest). Backends:
//   hal::linux_::FileSegmentStore  one file per segment in a directory
//   hal::sim::SimSegmentStore      in memory, with fault injection (tests)
#pragma once

#include <cstddef>
#include <cstdint>

#include "hal/status.hpp"

namespace hal {

/// Maximum length of segment_name() output, NUL included.
constexpr size_t kSegmentNameCap = 16;

/// The name of segment `id` as every backend stores and logs it:
/// "%08x.seg" ("0000002a.seg"), NUL-terminated in `out` (kSegmentNameCap
/// bytes are always enough). Returns `out`.
const char* segment_name(uint32_t id, char* out, size_t cap);

/// Parses a segment_name(): true and *id set when `name` is exactly one.
bool parse_segment_name(const char* name, uint32_t* id);

class SegmentStore {
 public:
  virtual ~SegmentStore() = default;

  /// Prepares the store (a backend creates its directory). Idempotent.
  /// Errors: Io (cannot create or open it), NoSpace.
  virtual Err open() = 0;

  /// Writes the ids of every segment into `ids`, ascending. Returns how many.
  /// Errors: Overflow (more than `cap` segments; `ids` holds the `cap`
  /// lowest), Io.
  virtual Result<size_t> list(uint32_t* ids, size_t cap) = 0;

  /// Appends `len` bytes at the end of segment `id`, creating it when it does
  /// not exist. All or nothing, as far as the backend can: on failure it cuts
  /// the segment back to its size before the call; if even that fails the
  /// segment may end in a partial write (a torn tail, which the journal's
  /// recovery cuts away). Not durable until sync().
  /// Errors: NoSpace (disk or quota full), InvalidArgument (null data with
  /// len > 0), Io.
  virtual Err append(uint32_t id, const uint8_t* data, size_t len) = 0;

  /// Reads up to `len` bytes at `offset` of segment `id` into `buf`. Returns
  /// the bytes read: fewer than `len` only at the end of the segment (0 at or
  /// past it). Errors: NotFound (no such segment), Io.
  virtual Result<size_t> read(uint32_t id, uint64_t offset, uint8_t* buf, size_t len) = 0;

  /// The size of segment `id` in bytes. Errors: NotFound, Io.
  virtual Result<uint64_t> size(uint32_t id) = 0;

  /// Makes everything appended to segment `id` (and its existence) durable.
  /// Errors: NotFound, Io, NoSpace.
  virtual Err sync(uint32_t id) = 0;

  /// Cuts segment `id` to `size` bytes (no-op when it is not larger).
  /// Errors: NotFound, Io.
  virtual Err truncate(uint32_t id, uint64_t size) = 0;

  /// Removes segment `id`; removing a missing segment is Ok. Errors: Io.
  virtual Err remove(uint32_t id) = 0;

  /// A human-readable location for logs ("/var/lib/xiot/journal"), never null.
  virtual const char* where() const = 0;
};

}  // namespace hal

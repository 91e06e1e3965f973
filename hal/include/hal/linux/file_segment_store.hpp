// hal::SegmentStore on a POSIX directory: one file per segment.
#pragma once

#include <cstddef>
#include <cstdint>

#include "hal/segment_store.hpp"

namespace hal {
namespace linux_ {

/// Segment `id` is the file `<dir>/<segment_name(id)>` ("<dir>/0000002a.seg");
/// other files in the directory are ignored. open() creates the directory
/// (mode 0700; missing parents 0755). Files are opened O_CLOEXEC; appends go
/// through one cached O_APPEND descriptor (the journal appends to one segment
/// at a time) and reads through another, so steady-state appends and reads
/// cost one system call each. sync() is fdatasync(), plus an fsync() of the
/// directory after a segment was created, so a new segment survives a power
/// cut once synced. remove() does not sync the directory: a removed segment
/// that reappears after a power cut only holds acknowledged items, which the
/// journal skips.
///
/// Error mapping: ENOSPC and EDQUOT are NoSpace, ENOENT NotFound, anything
/// else Io. Single-writer: one store (one process) per directory.
class FileSegmentStore final : public SegmentStore {
 public:
  static constexpr size_t kMaxDirLen = 255;

  /// Copies `dir` (an empty or longer path makes every call fail with
  /// InvalidArgument).
  explicit FileSegmentStore(const char* dir);
  ~FileSegmentStore() override;
  FileSegmentStore(const FileSegmentStore&) = delete;
  FileSegmentStore& operator=(const FileSegmentStore&) = delete;

  /// Errors: InvalidArgument (bad dir), Io (cannot create it, or it is not a
  /// directory), NoSpace.
  Err open() override;
  Result<size_t> list(uint32_t* ids, size_t cap) override;
  Err append(uint32_t id, const uint8_t* data, size_t len) override;
  Result<size_t> read(uint32_t id, uint64_t offset, uint8_t* buf, size_t len) override;
  Result<uint64_t> size(uint32_t id) override;
  Err sync(uint32_t id) override;
  Err truncate(uint32_t id, uint64_t size) override;
  Err remove(uint32_t id) override;
  const char* where() const override { return dir_; }
  /// Closes the cached descriptors of segment `id` (the next call reopens):
  /// for a program that wants the file alone, e.g. RAUC's F_SETLEASE on an
  /// update bundle fails while anyone holds it open for writing.
  void release(uint32_t id) { close_fds_of(id); }

 private:
  bool path_for(uint32_t id, char* out, size_t cap) const;
  Err open_writer(uint32_t id);
  Err open_reader(uint32_t id);
  void close_fds_of(uint32_t id);

  char dir_[kMaxDirLen + 1] = {};
  int wfd_ = -1;
  uint32_t wid_ = 0;
  uint64_t wsize_ = 0;
  int rfd_ = -1;
  uint32_t rid_ = 0;
  bool dir_dirty_ = false;  // a segment was created since the last directory fsync
};

}  // namespace linux_
}  // namespace hal

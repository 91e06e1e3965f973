// hal::Storage on a POSIX directory: one file per key, atomic replace.
#pragma once

#include <cstddef>
#include <cstdint>

#include "hal/storage.hpp"

namespace hal {
namespace linux_ {

/// Each key is the file `<dir>/<key>`. replace() writes `<dir>/<key>~`
/// (a name no valid key can have), fsyncs it, renames it over the key and
/// fsyncs the directory, so after a crash a reader sees the old blob or the
/// new one and the new one is durable on return. The directory (and missing
/// parents) is created by the first replace(); reads of a missing directory
/// give NotFound. Keys: 1..63 chars of [A-Za-z0-9._-], not "." or "..".
///
/// Single-writer: two FileStorage objects (or processes) writing the same key
/// at once race on the temp file.
class FileStorage final : public Storage {
 public:
  static constexpr size_t kMaxDirLen = 191;

  /// Copies `dir` (truncated paths longer than kMaxDirLen make every call
  /// fail with InvalidArgument).
  explicit FileStorage(const char* dir);

  /// Errors: NotFound, Overflow (blob larger than `cap`), InvalidArgument (bad
  /// key), Io.
  Result<size_t> read(const char* key, uint8_t* buf, size_t cap) override;
  /// Errors: NoSpace (ENOSPC/EDQUOT), InvalidArgument (bad key), Io.
  Err replace(const char* key, const uint8_t* data, size_t len) override;
  /// Errors: InvalidArgument (bad key), Io. A missing key is Ok.
  Err remove(const char* key) override;

  /// Creates the directory and missing parents. Errors: InvalidArgument, Io.
  Err ensure_dir();
  /// True when `key` is acceptable (see the class comment).
  static bool valid_key(const char* key);

  const char* dir() const { return dir_; }

 private:
  bool path_for(const char* key, const char* suffix, char* out, size_t cap) const;
  Err sync_dir();

  char dir_[kMaxDirLen + 1] = {};
  bool dir_ok_ = false;
};

}  // namespace linux_
}  // namespace hal

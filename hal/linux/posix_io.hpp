// POSIX file helpers shared by the Linux backends (FileStorage,
// FileSegmentStore, sysfs readers). Internal to hal/linux: not part of the
// HAL interface.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>

#include "hal/status.hpp"

namespace hal {
namespace linux_ {
namespace posix {

/// ENOSPC/EDQUOT -> NoSpace, ENOENT -> NotFound, anything else -> Io.
Err from_errno(int e);
/// What a failed write, sync or create reports: NoSpace for a full disk, else Io.
Err write_error(int e);
/// Writes all `len` bytes (retrying EINTR and short writes). Returns 0, or the
/// errno of the failure (EIO for a write of 0 bytes); *put says how many
/// bytes went out before it.
int write_all(int fd, const uint8_t* data, size_t len, size_t* put);
/// mkdir -p `dir`: missing parents 0755, `dir` itself `leaf_mode`. Returns 0,
/// or the errno of the failure (ENOTDIR when `dir` exists but is not a directory).
int make_dirs(const char* dir, mode_t leaf_mode);
/// fsync of the directory itself, so created/renamed/removed entries are durable.
Err sync_dir(const char* dir);
/// close() that keeps errno as it was; returns close()'s result.
int close_keep_errno(int fd);
/// What a failed open or read of a kernel attribute reports: NotFound when
/// the file or its device is gone (ENOENT, ENODEV, ENXIO), else Io.
Err read_error(int e);
/// One read() of up to `len` bytes, retrying EINTR. Returns the count (0 at
/// end of file) or -1 with errno set.
ssize_t read_once(int fd, void* buf, size_t len);
/// Reads a small text file (a sysfs attribute such as
/// /sys/bus/i2c/devices/i2c-1/name) into `buf` as a C string without its
/// trailing newline(s). Returns the length, or -errno (-EOVERFLOW when the
/// content does not fit in `cap - 1` bytes; -EINVAL when cap is 0).
long read_small_file(const char* path, char* buf, size_t cap);

}  // namespace posix
}  // namespace linux_
}  // namespace hal

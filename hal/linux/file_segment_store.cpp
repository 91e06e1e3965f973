#include "hal/linux/file_segment_store.hpp"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>

#include "posix_io.hpp"

namespace hal {
namespace linux_ {

namespace {

constexpr size_t kMaxPath = FileSegmentStore::kMaxDirLen + 1 + kSegmentNameCap;

void close_quietly(int fd) {
  if (fd >= 0) {
    const int saved = errno;
    ::close(fd);
    errno = saved;
  }
}

}  // namespace

FileSegmentStore::FileSegmentStore(const char* dir) {
  if (dir == nullptr) return;
  const size_t n = std::strlen(dir);
  if (n == 0 || n > kMaxDirLen) return;  // dir_ stays empty: every call fails
  std::memcpy(dir_, dir, n + 1);
}

FileSegmentStore::~FileSegmentStore() {
  close_quietly(wfd_);
  close_quietly(rfd_);
}

bool FileSegmentStore::path_for(uint32_t id, char* out, size_t cap) const {
  char name[kSegmentNameCap];
  const int n = std::snprintf(out, cap, "%s/%s", dir_, segment_name(id, name, sizeof name));
  return dir_[0] != '\0' && n > 0 && static_cast<size_t>(n) < cap;
}

Err FileSegmentStore::open() {
  if (dir_[0] == '\0') return Err::InvalidArgument;
  // mkdir -p: parents 0755, the journal directory itself 0700 (telemetry is
  // the owner's data).
  const int e = posix::make_dirs(dir_, 0700);
  return e == 0 ? Err::Ok : posix::write_error(e);
}

Result<size_t> FileSegmentStore::list(uint32_t* ids, size_t cap) {
  if (dir_[0] == '\0') return Err::InvalidArgument;
  DIR* d = ::opendir(dir_);
  if (d == nullptr) return errno == ENOENT ? Err::NotFound : Err::Io;
  size_t n = 0;
  size_t total = 0;
  for (;;) {
    errno = 0;
    const dirent* e = ::readdir(d);
    if (e == nullptr) break;
    uint32_t id = 0;
    if (!parse_segment_name(e->d_name, &id)) continue;
    ++total;
    // Insertion sort, keeping the `cap` lowest ids.
    if (n < cap) {
      ids[n++] = id;
    } else if (cap > 0 && id < ids[n - 1]) {
      ids[n - 1] = id;
    } else {
      continue;
    }
    for (size_t k = n - 1; k > 0 && ids[k - 1] > ids[k]; --k) {
      const uint32_t t = ids[k - 1];
      ids[k - 1] = ids[k];
      ids[k] = t;
    }
  }
  const int err = errno;
  ::closedir(d);
  if (err != 0) return Err::Io;
  if (total > cap) return Err::Overflow;
  return n;
}

Err FileSegmentStore::open_writer(uint32_t id) {
  if (wfd_ >= 0 && wid_ == id) return Err::Ok;
  close_quietly(wfd_);
  wfd_ = -1;
  char path[kMaxPath];
  if (!path_for(id, path, sizeof path)) return Err::InvalidArgument;
  int fd = ::open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
  if (fd < 0 && errno == ENOENT) {
    fd = ::open(path, O_WRONLY | O_APPEND | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd >= 0) dir_dirty_ = true;
  }
  if (fd < 0) return posix::write_error(errno);
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    close_quietly(fd);
    return Err::Io;
  }
  wfd_ = fd;
  wid_ = id;
  wsize_ = static_cast<uint64_t>(st.st_size);
  return Err::Ok;
}

Err FileSegmentStore::open_reader(uint32_t id) {
  if (rfd_ >= 0 && rid_ == id) return Err::Ok;
  close_quietly(rfd_);
  rfd_ = -1;
  char path[kMaxPath];
  if (!path_for(id, path, sizeof path)) return Err::InvalidArgument;
  const int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return errno == ENOENT ? Err::NotFound : Err::Io;
  rfd_ = fd;
  rid_ = id;
  return Err::Ok;
}

void FileSegmentStore::close_fds_of(uint32_t id) {
  if (wfd_ >= 0 && wid_ == id) {
    close_quietly(wfd_);
    wfd_ = -1;
  }
  if (rfd_ >= 0 && rid_ == id) {
    close_quietly(rfd_);
    rfd_ = -1;
  }
}

Err FileSegmentStore::append(uint32_t id, const uint8_t* data, size_t len) {
  if (data == nullptr && len > 0) return Err::InvalidArgument;
  if (Err e = open_writer(id); e != Err::Ok) return e;
  const uint64_t before = wsize_;
  size_t put = 0;
  const int failure = posix::write_all(wfd_, data, len, &put);
  if (failure == 0) {
    wsize_ += len;
    return Err::Ok;
  }
  // All or nothing: cut the partial record away so later appends do not
  // follow garbage. If that fails too the tail stays torn and recovery cuts it.
  if (put > 0 && ::ftruncate(wfd_, static_cast<off_t>(before)) != 0) {
    close_quietly(wfd_);  // the size we track is unknown now: reopen next time
    wfd_ = -1;
  }
  return posix::write_error(failure);
}

Result<size_t> FileSegmentStore::read(uint32_t id, uint64_t offset, uint8_t* buf, size_t len) {
  if (buf == nullptr && len > 0) return Err::InvalidArgument;
  if (Err e = open_reader(id); e != Err::Ok) return e;
  size_t got = 0;
  while (got < len) {
    const ssize_t r = ::pread(rfd_, buf + got, len - got, static_cast<off_t>(offset + got));
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return Err::Io;
    if (r == 0) break;  // end of the segment
    got += static_cast<size_t>(r);
  }
  return got;
}

Result<uint64_t> FileSegmentStore::size(uint32_t id) {
  if (wfd_ >= 0 && wid_ == id) return wsize_;
  char path[kMaxPath];
  if (!path_for(id, path, sizeof path)) return Err::InvalidArgument;
  struct stat st {};
  if (::stat(path, &st) != 0) return errno == ENOENT ? Err::NotFound : Err::Io;
  return static_cast<uint64_t>(st.st_size);
}

Err FileSegmentStore::sync(uint32_t id) {
  int fd = -1;
  bool own = false;
  if (wfd_ >= 0 && wid_ == id) {
    fd = wfd_;
  } else {
    char path[kMaxPath];
    if (!path_for(id, path, sizeof path)) return Err::InvalidArgument;
    fd = ::open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return errno == ENOENT ? Err::NotFound : Err::Io;
    own = true;
  }
  const int rc = ::fdatasync(fd);
  const int err = errno;
  if (own) close_quietly(fd);
  if (rc != 0) return posix::write_error(err);
  if (dir_dirty_) {
    // A new file's directory entry is durable only once the directory is.
    if (posix::sync_dir(dir_) != Err::Ok) return Err::Io;
    dir_dirty_ = false;
  }
  return Err::Ok;
}

Err FileSegmentStore::truncate(uint32_t id, uint64_t size) {
  char path[kMaxPath];
  if (!path_for(id, path, sizeof path)) return Err::InvalidArgument;
  struct stat st {};
  if (::stat(path, &st) != 0) return errno == ENOENT ? Err::NotFound : Err::Io;
  if (static_cast<uint64_t>(st.st_size) <= size) return Err::Ok;
  if (::truncate(path, static_cast<off_t>(size)) != 0) return Err::Io;
  if (wfd_ >= 0 && wid_ == id) wsize_ = size;
  return Err::Ok;
}

Err FileSegmentStore::remove(uint32_t id) {
  close_fds_of(id);
  char path[kMaxPath];
  if (!path_for(id, path, sizeof path)) return Err::InvalidArgument;
  if (::unlink(path) != 0 && errno != ENOENT) return Err::Io;
  return Err::Ok;
}

}  // namespace linux_
}  // namespace hal

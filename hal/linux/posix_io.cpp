// See posix_io.hpp.
#include "posix_io.hpp"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <climits>
#include <cstring>

namespace hal {
namespace linux_ {
namespace posix {

Err from_errno(int e) {
  switch (e) {
    case ENOSPC:
    case EDQUOT: return Err::NoSpace;
    case ENOENT: return Err::NotFound;
    default: return Err::Io;
  }
}

Err write_error(int e) { return from_errno(e) == Err::NoSpace ? Err::NoSpace : Err::Io; }

int write_all(int fd, const uint8_t* data, size_t len, size_t* put) {
  size_t done = 0;
  int failure = 0;
  while (done < len) {
    const ssize_t w = ::write(fd, data + done, len - done);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) {
      failure = w < 0 ? errno : EIO;
      break;
    }
    done += static_cast<size_t>(w);
  }
  if (put != nullptr) *put = done;
  return failure;
}

int make_dirs(const char* dir, mode_t leaf_mode) {
  char partial[PATH_MAX];
  const size_t n = std::strlen(dir);
  if (n == 0 || n >= sizeof partial) return ENAMETOOLONG;
  // Every prefix ending at a '/', then the whole path.
  for (size_t i = 1; i <= n; ++i) {
    if (i < n && dir[i] != '/') continue;
    std::memcpy(partial, dir, i);
    partial[i] = '\0';
    if (::mkdir(partial, i == n ? leaf_mode : 0755) != 0 && errno != EEXIST) return errno;
  }
  struct stat st {};
  if (::stat(dir, &st) != 0) return errno;
  return S_ISDIR(st.st_mode) ? 0 : ENOTDIR;
}

Err sync_dir(const char* dir) {
  const int dfd = ::open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) return Err::Io;
  const int rc = ::fsync(dfd);
  ::close(dfd);
  return rc == 0 ? Err::Ok : Err::Io;
}

int close_keep_errno(int fd) {
  const int saved = errno;
  const int rc = ::close(fd);
  errno = saved;
  return rc;
}

Err read_error(int e) {
  switch (e) {
    case ENOENT:
    case ENODEV:
    case ENXIO: return Err::NotFound;
    default: return Err::Io;
  }
}

ssize_t read_once(int fd, void* buf, size_t len) {
  for (;;) {
    const ssize_t r = ::read(fd, buf, len);
    if (r >= 0 || errno != EINTR) return r;
  }
}

long read_small_file(const char* path, char* buf, size_t cap) {
  if (buf == nullptr || cap == 0) return -EINVAL;
  buf[0] = '\0';
  const int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -errno;
  size_t len = 0;
  long result = 0;
  for (;;) {
    const ssize_t r = ::read(fd, buf + len, cap - len);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) {
      result = -errno;
      break;
    }
    if (r == 0) break;
    len += static_cast<size_t>(r);
    if (len == cap) {
      result = -EOVERFLOW;  // no room left for the terminator
      break;
    }
  }
  ::close(fd);
  if (result < 0) {
    buf[0] = '\0';
    return result;
  }
  while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r')) --len;
  buf[len] = '\0';
  return static_cast<long>(len);
}

}  // namespace posix
}  // namespace linux_
}  // namespace hal

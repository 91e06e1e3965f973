#include "hal/linux/file_storage.hpp"

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

constexpr size_t kMaxKeyLen = 63;
constexpr size_t kMaxPath = FileStorage::kMaxDirLen + 1 + kMaxKeyLen + 2 + 1;

}  // namespace

FileStorage::FileStorage(const char* dir) {
  if (dir == nullptr) return;
  const size_t n = std::strlen(dir);
  if (n == 0 || n > kMaxDirLen) return;  // dir_ stays empty: every call fails
  std::memcpy(dir_, dir, n + 1);
}

bool FileStorage::valid_key(const char* key) {
  if (key == nullptr) return false;
  const size_t n = std::strlen(key);
  if (n == 0 || n > kMaxKeyLen) return false;
  if (std::strcmp(key, ".") == 0 || std::strcmp(key, "..") == 0) return false;
  for (size_t i = 0; i < n; ++i) {
    const char c = key[i];
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

bool FileStorage::path_for(const char* key, const char* suffix, char* out, size_t cap) const {
  const int n = std::snprintf(out, cap, "%s/%s%s", dir_, key, suffix);
  return n > 0 && static_cast<size_t>(n) < cap;
}

Err FileStorage::ensure_dir() {
  if (dir_[0] == '\0') return Err::InvalidArgument;
  if (dir_ok_) return Err::Ok;
  if (posix::make_dirs(dir_, 0755) != 0) return Err::Io;
  dir_ok_ = true;
  return Err::Ok;
}

Err FileStorage::sync_dir() {
  // The rename (or unlink) is durable only once the directory entry is.
  return posix::sync_dir(dir_);
}

Result<size_t> FileStorage::read(const char* key, uint8_t* buf, size_t cap) {
  if (!valid_key(key) || dir_[0] == '\0' || (buf == nullptr && cap > 0)) {
    return Err::InvalidArgument;
  }
  char path[kMaxPath];
  if (!path_for(key, "", path, sizeof path)) return Err::InvalidArgument;
  const int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return errno == ENOENT || errno == ENOTDIR ? Err::NotFound : Err::Io;
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return Err::Io;
  }
  const size_t size = static_cast<size_t>(st.st_size);
  if (size > cap) {
    ::close(fd);
    return Err::Overflow;
  }
  size_t got = 0;
  while (got < size) {
    const ssize_t r = ::read(fd, buf + got, size - got);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;  // error, or the file shrank under us
    got += static_cast<size_t>(r);
  }
  ::close(fd);
  if (got != size) return Err::Io;
  return got;
}

Err FileStorage::replace(const char* key, const uint8_t* data, size_t len) {
  if (!valid_key(key) || (data == nullptr && len > 0)) return Err::InvalidArgument;
  if (Err e = ensure_dir(); e != Err::Ok) return e;
  char path[kMaxPath];
  char tmp[kMaxPath];
  if (!path_for(key, "", path, sizeof path) || !path_for(key, "~", tmp, sizeof tmp)) {
    return Err::InvalidArgument;
  }
  const int fd = ::open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    dir_ok_ = false;  // the directory may have been removed under us
    return posix::write_error(errno);
  }
  int failure = posix::write_all(fd, data, len, nullptr);
  if (failure == 0 && ::fsync(fd) != 0) failure = errno;
  if (posix::close_keep_errno(fd) != 0 && failure == 0) failure = errno;
  if (failure == 0 && ::rename(tmp, path) != 0) failure = errno;
  if (failure != 0) {
    ::unlink(tmp);
    return posix::write_error(failure);
  }
  return sync_dir();
}

Err FileStorage::remove(const char* key) {
  if (!valid_key(key) || dir_[0] == '\0') return Err::InvalidArgument;
  char path[kMaxPath];
  if (!path_for(key, "", path, sizeof path)) return Err::InvalidArgument;
  if (::unlink(path) != 0) {
    return errno == ENOENT || errno == ENOTDIR ? Err::Ok : Err::Io;
  }
  return sync_dir();
}

}  // namespace linux_
}  // namespace hal

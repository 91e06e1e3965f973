// See linux_sysfs_tree.hpp.
#include "hal/linux/linux_sysfs_tree.hpp"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>

#include "posix_io.hpp"

namespace hal {
namespace linux_ {

namespace {

/// A relative path the tree accepts: not absolute, no ".." component.
bool valid_relative(const char* rel) {
  if (rel == nullptr || rel[0] == '/') return false;
  if (std::strlen(rel) > SysfsTree::kMaxPathLen) return false;
  for (const char* p = rel; *p != '\0';) {
    const char* end = std::strchr(p, '/');
    const size_t n = end != nullptr ? static_cast<size_t>(end - p) : std::strlen(p);
    if (n == 2 && p[0] == '.' && p[1] == '.') return false;
    if (end == nullptr) break;
    p = end + 1;
  }
  return true;
}

}  // namespace

LinuxSysfsTree::LinuxSysfsTree(const char* root) {
  if (root == nullptr) return;
  size_t n = std::strlen(root);
  while (n > 1 && root[n - 1] == '/') --n;  // "/sys/" == "/sys"
  if (n > kMaxRootLen) return;             // root_ stays empty: every call fails
  std::memcpy(root_, root, n);
  root_[n] = '\0';
}

Err LinuxSysfsTree::join(const char* rel, char* out, size_t cap) const {
  if (root_[0] == '\0' || !valid_relative(rel)) return Err::InvalidArgument;
  const int n = rel[0] == '\0' ? std::snprintf(out, cap, "%s", root_) : std::snprintf(out, cap, "%s/%s", root_, rel);
  if (n < 0 || static_cast<size_t>(n) >= cap) return Err::InvalidArgument;
  return Err::Ok;
}

Result<size_t> LinuxSysfsTree::read(const char* path, char* buf, size_t cap) {
  if (buf == nullptr || cap == 0) return Err::InvalidArgument;
  buf[0] = '\0';
  char full[kMaxRootLen + kMaxPathLen + 2];
  if (Err e = join(path, full, sizeof full); e != Err::Ok) return e;
  const int fd = ::open(full, O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) return posix::read_error(errno);
  // sysfs produces the whole attribute on the first read (at most a page);
  // a second read that still returns bytes means it did not fit.
  const ssize_t r = posix::read_once(fd, buf, cap - 1);
  if (r < 0) {
    const Err e = posix::read_error(errno);  // EISDIR and EIO land on Io
    posix::close_keep_errno(fd);
    return e;
  }
  size_t got = static_cast<size_t>(r);
  buf[got] = '\0';
  if (got == cap - 1) {
    char more = 0;
    const ssize_t extra = posix::read_once(fd, &more, 1);
    if (extra > 0) {
      ::close(fd);
      return Err::Overflow;
    }
  }
  ::close(fd);
  return got;
}

Err LinuxSysfsTree::list(const char* dir, Visitor visit, void* context) {
  if (visit == nullptr) return Err::InvalidArgument;
  char full[kMaxRootLen + kMaxPathLen + 2];
  if (Err e = join(dir, full, sizeof full); e != Err::Ok) return e;
  DIR* d = ::opendir(full);
  if (d == nullptr) return errno == ENOENT ? Err::NotFound : Err::Io;
  int failure = 0;
  for (;;) {
    errno = 0;
    const dirent* e = ::readdir(d);
    if (e == nullptr) {
      failure = errno;
      break;
    }
    const char* n = e->d_name;
    if (n[0] == '.' && (n[1] == '\0' || (n[1] == '.' && n[2] == '\0'))) continue;
    if (std::strlen(n) > kMaxNameLen) continue;
    if (!visit(context, n)) break;
  }
  ::closedir(d);
  return failure == 0 ? Err::Ok : Err::Io;
}

}  // namespace linux_
}  // namespace hal

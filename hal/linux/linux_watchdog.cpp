// The kernel watchdog API: Documentation/watchdog/watchdog-api.rst and
// drivers/watchdog/watchdog_dev.c (open arms, 'V' + close disarms unless
// nowayout, WDIOC_KEEPALIVE needs WDIOF_KEEPALIVEPING, a write also pings).
#include "hal/linux/linux_watchdog.hpp"

#include <errno.h>
#include <fcntl.h>
#include <linux/watchdog.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include <cstring>

namespace hal {
namespace linux_ {

namespace {

Err open_error(int e) {
  switch (e) {
    case ENOENT:
    case ENODEV:
    case ENXIO: return Err::NotFound;
    case EBUSY: return Err::Busy;
    default: return Err::Io;
  }
}

/// What an ioctl failure means: the node does not do it (not a watchdog, or
/// a value the driver refuses) or the device failed. ENOSYS is what qemu-user
/// answers for an ioctl it does not translate (the arm64 suites run there).
Err ioctl_error(int e) {
  switch (e) {
    case ENOTTY:
    case ENOSYS:
    case EINVAL:
    case EOPNOTSUPP: return Err::NotSupported;
    default: return Err::Io;
  }
}

int ioctl_retry(int fd, unsigned long request, void* arg) {
  int r;
  do {
    r = ::ioctl(fd, request, arg);
  } while (r < 0 && errno == EINTR);
  return r;
}

bool write_byte(int fd, char c) {
  ssize_t n;
  do {
    n = ::write(fd, &c, 1);
  } while (n < 0 && errno == EINTR);
  return n == 1;
}

}  // namespace

LinuxWatchdog::LinuxWatchdog(const char* device_path, uint32_t timeout_s) : board_timeout_s_(timeout_s) {
  if (device_path == nullptr) return;
  const size_t n = std::strlen(device_path);
  if (n > kMaxPathLen) return;
  std::memcpy(path_, device_path, n + 1);
}

LinuxWatchdog::~LinuxWatchdog() {
  if (fd_ < 0) return;
  if (started_) {
    ::close(fd_);  // not a clean stop: the kernel keeps counting
  } else {
    (void)magic_close();
  }
}

Err LinuxWatchdog::magic_close() {
  const bool wrote = write_byte(fd_, 'V');
  const bool closed = ::close(fd_) == 0;
  fd_ = -1;
  started_ = false;
  last_ping_ms_ = 0;
  return wrote && closed ? Err::Ok : Err::Io;
}

Err LinuxWatchdog::open() {
  if (path_[0] == '\0') return Err::InvalidArgument;
  if (fd_ >= 0) return Err::Ok;
  const int fd = ::open(path_, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return open_error(errno);
  fd_ = fd;
  struct watchdog_info info {};
  if (ioctl_retry(fd_, WDIOC_GETSUPPORT, &info) != 0) {
    const Err e = ioctl_error(errno);
    (void)magic_close();  // give back what opening armed
    return e;
  }
  options_ = info.options;
  static_assert(sizeof identity_ > sizeof info.identity, "identity_ holds the kernel's and a NUL");
  std::memcpy(identity_, info.identity, sizeof info.identity);
  identity_[sizeof info.identity] = '\0';
  return Err::Ok;
}

Err LinuxWatchdog::start(uint32_t timeout_ms) {
  if (Err e = open(); e != Err::Ok) return e;
  const uint32_t want = board_timeout_s_ > 0 ? board_timeout_s_ : (timeout_ms + 999) / 1000;
  Err err = Err::Ok;
  if (want == 0) {
    err = Err::NotSupported;
  } else if ((options_ & WDIOF_SETTIMEOUT) != 0) {
    int t = static_cast<int>(want);
    if (ioctl_retry(fd_, WDIOC_SETTIMEOUT, &t) != 0) err = ioctl_error(errno);
  }
  int actual = 0;
  if (err == Err::Ok && ioctl_retry(fd_, WDIOC_GETTIMEOUT, &actual) == 0 && actual > 0) {
    actual_timeout_s_ = static_cast<uint32_t>(actual);
  }
  if (err == Err::Ok) {
    started_ = true;
    err = feed();
  }
  if (err != Err::Ok) {
    (void)magic_close();
    actual_timeout_s_ = 0;
  }
  return err;
}

Err LinuxWatchdog::feed() {
  if (!started_ || fd_ < 0) return Err::NotReady;
  timespec ts{};
  (void)clock_gettime(CLOCK_MONOTONIC, &ts);
  const int64_t now_ms = static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
  if (last_ping_ms_ != 0 && now_ms - last_ping_ms_ < static_cast<int64_t>(actual_timeout_s_) * 1000 / 4) {
    return Err::Ok;
  }
  bool pinged = false;
  if ((options_ & WDIOF_KEEPALIVEPING) != 0) {
    int dummy = 0;
    pinged = ioctl_retry(fd_, WDIOC_KEEPALIVE, &dummy) == 0;
  } else {
    // Any write pings; a byte other than 'V' also cancels a pending magic close.
    pinged = write_byte(fd_, '\0');
  }
  if (!pinged) return Err::Io;
  last_ping_ms_ = now_ms;
  return Err::Ok;
}

Err LinuxWatchdog::stop() {
  if (fd_ < 0) return Err::NotReady;
  actual_timeout_s_ = 0;
  return magic_close();
}

}  // namespace linux_
}  // namespace hal

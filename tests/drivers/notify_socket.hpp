// A stand-in for systemd's notification socket: an AF_UNIX datagram socket
// bound in a scratch directory and named in $NOTIFY_SOCKET (sd_notify(3)),
// with $WATCHDOG_USEC/$WATCHDOG_PID on request. The environment is restored
// when it goes away.
#pragma once

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "test_tmpdir.hpp"

namespace xiot_test {

class NotifySocket {
 public:
  /// `watchdog_usec` > 0 also sets WATCHDOG_USEC and WATCHDOG_PID (this
  /// process, or `pid` when given).
  explicit NotifySocket(unsigned long long watchdog_usec = 0, long pid = 0) {
    path_ = dir_.file("notify");
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::strncpy(a.sun_path, path_.c_str(), sizeof a.sun_path - 1);
    ok_ = fd_ >= 0 && ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    ::setenv("NOTIFY_SOCKET", path_.c_str(), 1);
    if (watchdog_usec > 0) {
      ::setenv("WATCHDOG_USEC", std::to_string(watchdog_usec).c_str(), 1);
      ::setenv("WATCHDOG_PID", std::to_string(pid != 0 ? pid : static_cast<long>(::getpid())).c_str(), 1);
    }
  }
  ~NotifySocket() {
    ::unsetenv("NOTIFY_SOCKET");
    ::unsetenv("WATCHDOG_USEC");
    ::unsetenv("WATCHDOG_PID");
    if (fd_ >= 0) ::close(fd_);
  }
  NotifySocket(const NotifySocket&) = delete;
  NotifySocket& operator=(const NotifySocket&) = delete;

  bool ok() const { return ok_; }
  /// Every datagram received since the last call, in order.
  std::vector<std::string> take() {
    std::vector<std::string> out;
    char buf[4096];
    for (;;) {
      const ssize_t n = ::recv(fd_, buf, sizeof buf, MSG_DONTWAIT);
      if (n < 0) break;
      out.emplace_back(buf, static_cast<size_t>(n));
    }
    return out;
  }

 private:
  TempDir dir_;
  std::string path_;
  int fd_ = -1;
  bool ok_ = false;
};

}  // namespace xiot_test

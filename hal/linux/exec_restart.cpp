// See hal/linux/exec_restart.hpp.
#include "hal/linux/exec_restart.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace hal {
namespace linux_ {

Err ExecRestart::restart() {
  error_[0] = '\0';
  if (argv_ == nullptr || argv_[0] == nullptr) return Err::InvalidArgument;
  // Descriptors libraries opened without O_CLOEXEC must not leak into the new
  // image (a socket kept open would keep a dead stream alive at the server).
  if (DIR* d = opendir("/proc/self/fd")) {
    const int self = dirfd(d);
    while (const dirent* e = readdir(d)) {
      const int fd = std::atoi(e->d_name);
      if (fd > 2 && fd != self) (void)fcntl(fd, F_SETFD, FD_CLOEXEC);
    }
    closedir(d);
  }
  execv("/proc/self/exe", argv_);
  std::snprintf(error_, sizeof error_, "execv /proc/self/exe: %s", std::strerror(errno));
  return Err::Io;
}

}  // namespace linux_
}  // namespace hal

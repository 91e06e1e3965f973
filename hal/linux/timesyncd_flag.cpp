// See hal/linux/timesyncd_flag.hpp.
#include "hal/linux/timesyncd_flag.hpp"

#include <sys/stat.h>

#include <cstdio>

namespace hal {
namespace linux_ {

TimesyncdFlag::TimesyncdFlag(const char* path) {
  std::snprintf(path_, sizeof path_, "%s", path != nullptr ? path : kDefaultPath);
}

bool TimesyncdFlag::synchronized() {
  struct stat st {};
  return stat(path_, &st) == 0;
}

}  // namespace linux_
}  // namespace hal

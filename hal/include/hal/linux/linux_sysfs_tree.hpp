// hal::SysfsTree on a directory of the file system: "/sys" on a device, a
// fixture tree in tests and on the sim board.
#pragma once

#include <cstddef>

#include "hal/sysfs_tree.hpp"

namespace hal {
namespace linux_ {

/// Every call opens, reads (or lists) and closes: no descriptors are held,
/// so a device that goes away is seen at the next read (NotFound), and one
/// that comes back is read again. No allocation.
class LinuxSysfsTree final : public SysfsTree {
 public:
  static constexpr size_t kMaxRootLen = 255;

  /// `root` is copied ("/sys"); a root longer than kMaxRootLen or empty makes
  /// every call fail with InvalidArgument.
  explicit LinuxSysfsTree(const char* root = "/sys");

  const char* root() const { return root_; }

  /// See hal::SysfsTree::read(). Blocks as long as the kernel attribute does
  /// (a w1_therm "w1_slave" read runs a conversion: up to 750 ms).
  Result<size_t> read(const char* path, char* buf, size_t cap) override;
  /// See hal::SysfsTree::list() (readdir order).
  Err list(const char* dir, Visitor visit, void* context) override;

 private:
  /// Joins root and `rel` into `out`. Errors: InvalidArgument.
  Err join(const char* rel, char* out, size_t cap) const;
  char root_[kMaxRootLen + 1] = {};
};

}  // namespace linux_
}  // namespace hal

// A private copy of a checked-in sysfs fixture tree (tests/drivers/fixtures/
// sysfs) for one test, so a test can change attributes, remove a device that
// "goes away" and break files without touching the checked-in tree; plus the
// LinuxSysfsTree over it that the drivers read.
#pragma once

#include <filesystem>
#include <fstream>
#include <string>

#include "hal/linux/linux_sysfs_tree.hpp"
#include "test_tmpdir.hpp"

namespace xiot_test {

class SysfsFixture {
 public:
  SysfsFixture() {
    std::filesystem::copy(XIOT_SYSFS_FIXTURES, root(), std::filesystem::copy_options::recursive);
  }
  std::string root() const { return tmp_.path() + "/sys"; }
  hal::linux_::LinuxSysfsTree& tree() { return tree_; }
  /// Replaces (or creates) the attribute `rel` with `text`.
  void write(const std::string& rel, const std::string& text) {
    std::filesystem::create_directories(std::filesystem::path(root() + "/" + rel).parent_path());
    std::ofstream(root() + "/" + rel, std::ios::binary | std::ios::trunc) << text;
  }
  /// Removes the attribute or directory `rel` (a device that went away).
  void remove(const std::string& rel) { std::filesystem::remove_all(root() + "/" + rel); }

 private:
  TempDir tmp_;
  hal::linux_::LinuxSysfsTree tree_{(tmp_.path() + "/sys").c_str()};
};

}  // namespace xiot_test

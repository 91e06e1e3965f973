// hal::linux_::LinuxSysfsTree over a scratch directory: reads, listings,
// path rules and the errors each returns (hal/sysfs_tree.hpp).
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <string>
#include <vector>

#include "hal/linux/linux_sysfs_tree.hpp"
#include "test_tmpdir.hpp"

using hal::Err;
using xiot_test::TempDir;

namespace {

struct Tree {
  TempDir tmp;
  hal::linux_::LinuxSysfsTree tree{tmp.path().c_str()};
  Tree() {
    mkdir((tmp.path() + "/class").c_str(), 0755);
    mkdir((tmp.path() + "/class/thermal").c_str(), 0755);
    mkdir((tmp.path() + "/class/thermal/thermal_zone0").c_str(), 0755);
    tmp.write("class/thermal/thermal_zone0/temp", "45000\n");
    tmp.write("class/thermal/thermal_zone0/type", "x86_pkg_temp\n");
  }
};

std::vector<std::string> list(hal::SysfsTree& t, const char* dir, Err* err) {
  std::vector<std::string> names;
  *err = t.list(dir,
                [](void* ctx, const char* name) {
                  static_cast<std::vector<std::string>*>(ctx)->push_back(name);
                  return true;
                },
                &names);
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace

TEST(LinuxSysfsTree, ReadsAnAttributeWithItsNewline) {
  Tree t;
  char buf[32];
  hal::Result<size_t> n = t.tree.read("class/thermal/thermal_zone0/temp", buf, sizeof buf);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(n.value(), 6u);
  EXPECT_STREQ(buf, "45000\n");
}

TEST(LinuxSysfsTree, OverflowWhenTheTextDoesNotFit) {
  Tree t;
  char buf[6];
  EXPECT_EQ(t.tree.read("class/thermal/thermal_zone0/temp", buf, sizeof buf).error(), Err::Overflow);
  char exact[7];  // 6 bytes + NUL fit exactly
  EXPECT_EQ(t.tree.read("class/thermal/thermal_zone0/temp", exact, sizeof exact).value(), 6u);
}

TEST(LinuxSysfsTree, ErrorsOfRead) {
  Tree t;
  char buf[32];
  EXPECT_EQ(t.tree.read("class/thermal/thermal_zone9/temp", buf, sizeof buf).error(), Err::NotFound);
  EXPECT_EQ(t.tree.read("class/thermal/thermal_zone0", buf, sizeof buf).error(), Err::Io);  // a directory
  EXPECT_EQ(t.tree.read("/etc/passwd", buf, sizeof buf).error(), Err::InvalidArgument);
  EXPECT_EQ(t.tree.read("class/../../etc/passwd", buf, sizeof buf).error(), Err::InvalidArgument);
  EXPECT_EQ(t.tree.read("..", buf, sizeof buf).error(), Err::InvalidArgument);
  EXPECT_EQ(t.tree.read("class/thermal/thermal_zone0/temp", buf, 0).error(), Err::InvalidArgument);
  EXPECT_EQ(t.tree.read(std::string(300, 'a').c_str(), buf, sizeof buf).error(), Err::InvalidArgument);
  // "..x" is a name, not the parent
  t.tmp.write("..x", "1\n");
  EXPECT_TRUE(t.tree.read("..x", buf, sizeof buf).ok());
  if (geteuid() != 0) {  // root reads anything
    chmod(t.tmp.file("class/thermal/thermal_zone0/type").c_str(), 0);
    EXPECT_EQ(t.tree.read("class/thermal/thermal_zone0/type", buf, sizeof buf).error(), Err::Io);
  }
}

TEST(LinuxSysfsTree, ListsADirectory) {
  Tree t;
  Err err = Err::Io;
  EXPECT_EQ(list(t.tree, "class/thermal/thermal_zone0", &err), (std::vector<std::string>{"temp", "type"}));
  EXPECT_EQ(err, Err::Ok);
  EXPECT_EQ(list(t.tree, "", &err), (std::vector<std::string>{"class"}));
  EXPECT_EQ(err, Err::Ok);
  list(t.tree, "class/hwmon", &err);
  EXPECT_EQ(err, Err::NotFound);
  list(t.tree, "class/thermal/thermal_zone0/temp", &err);
  EXPECT_EQ(err, Err::Io);
  list(t.tree, "../", &err);
  EXPECT_EQ(err, Err::InvalidArgument);
  EXPECT_EQ(t.tree.list("class", nullptr, nullptr), Err::InvalidArgument);
}

TEST(LinuxSysfsTree, TheVisitorCanStopEarly) {
  Tree t;
  int calls = 0;
  EXPECT_EQ(t.tree.list("class/thermal/thermal_zone0",
                        [](void* ctx, const char*) {
                          ++*static_cast<int*>(ctx);
                          return false;
                        },
                        &calls),
            Err::Ok);
  EXPECT_EQ(calls, 1);
}

TEST(LinuxSysfsTree, RootIsCopiedAndTrailingSlashesDropped) {
  Tree t;
  std::string root = t.tmp.path() + "//";
  hal::linux_::LinuxSysfsTree tree(root.c_str());
  root.assign("/nonexistent");  // the tree keeps its own copy
  EXPECT_EQ(std::string(tree.root()), t.tmp.path());
  char buf[32];
  EXPECT_TRUE(tree.read("class/thermal/thermal_zone0/type", buf, sizeof buf).ok());
  hal::linux_::LinuxSysfsTree empty("");
  EXPECT_EQ(empty.read("class", buf, sizeof buf).error(), Err::InvalidArgument);
  hal::linux_::LinuxSysfsTree too_long(std::string(400, 'x').c_str());
  EXPECT_EQ(too_long.read("class", buf, sizeof buf).error(), Err::InvalidArgument);
  hal::linux_::LinuxSysfsTree sys;
  EXPECT_STREQ(sys.root(), "/sys");
}

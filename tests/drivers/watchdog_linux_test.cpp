// hal::linux_::LinuxWatchdog against what exists without a watchdog driver
// (no /dev/watchdog, no softdog here): missing nodes, nodes that are no
// watchdog (a regular file, /dev/null, a FIFO, a directory) and the magic
// close each failed open gives back. hal::linux_::SystemdNotifier against a
// stand-in notification socket: the exact sd_notify messages.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "hal/linux/linux_watchdog.hpp"
#include "hal/linux/systemd_notifier.hpp"
#include "hal/sim/manual_clock.hpp"
#include "notify_socket.hpp"
#include "test_tmpdir.hpp"

using hal::Err;
using hal::linux_::LinuxWatchdog;
using hal::linux_::SystemdNotifier;
using Messages = std::vector<std::string>;

namespace {

std::string slurp(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

TEST(LinuxWatchdog, MissingNodeIsNotFoundEverywhere) {
  LinuxWatchdog wd("/dev/watchdog-does-not-exist");
  EXPECT_EQ(wd.open(), Err::NotFound);
  EXPECT_EQ(wd.start(30000), Err::NotFound);
  EXPECT_FALSE(wd.started());
  EXPECT_EQ(wd.feed(), Err::NotReady);
  EXPECT_EQ(wd.stop(), Err::NotReady);
  EXPECT_STREQ(wd.path(), "/dev/watchdog-does-not-exist");
}

TEST(LinuxWatchdog, BadPathsAreInvalidArguments) {
  EXPECT_EQ(LinuxWatchdog("").open(), Err::InvalidArgument);
  EXPECT_EQ(LinuxWatchdog(nullptr).open(), Err::InvalidArgument);
  const std::string long_path = "/dev/" + std::string(LinuxWatchdog::kMaxPathLen, 'w');
  EXPECT_EQ(LinuxWatchdog(long_path.c_str()).start(30000), Err::InvalidArgument);
}

TEST(LinuxWatchdog, ARegularFileIsNoWatchdogAndGetsTheMagicCloseBack) {
  xiot_test::TempDir tmp;
  const std::string node = tmp.write("watchdog", "");
  LinuxWatchdog wd(node.c_str());
  // WDIOC_GETSUPPORT on a regular file: ENOTTY.
  EXPECT_EQ(wd.open(), Err::NotSupported);
  EXPECT_EQ(slurp(node), "V");  // what opening might have armed is disarmed again
  EXPECT_STREQ(wd.identity(), "");
  EXPECT_EQ(wd.start(30000), Err::NotSupported);
  EXPECT_FALSE(wd.started());
  EXPECT_EQ(wd.feed(), Err::NotReady);
}

TEST(LinuxWatchdog, DevNullIsNoWatchdog) {
  LinuxWatchdog wd("/dev/null");
  EXPECT_EQ(wd.open(), Err::NotSupported);
  EXPECT_EQ(wd.start(30000), Err::NotSupported);
}

TEST(LinuxWatchdog, AFifoReadsBackTheMagicClose) {
  xiot_test::TempDir tmp;
  const std::string node = tmp.file("watchdog");
  ASSERT_EQ(::mkfifo(node.c_str(), 0600), 0);
  const int reader = ::open(node.c_str(), O_RDONLY | O_NONBLOCK);
  ASSERT_GE(reader, 0);
  {
    LinuxWatchdog wd(node.c_str(), 15);
    EXPECT_EQ(wd.start(30000), Err::NotSupported);
  }
  char buf[8] = {};
  EXPECT_EQ(::read(reader, buf, sizeof buf), 1);
  EXPECT_EQ(buf[0], 'V');
  ::close(reader);
}

TEST(LinuxWatchdog, ADirectoryIsAnIoError) {
  xiot_test::TempDir tmp;
  LinuxWatchdog wd(tmp.path().c_str());
  EXPECT_EQ(wd.open(), Err::Io);  // EISDIR
}

// ---------------------------------------------------------------------------
// SystemdNotifier

TEST(SystemdNotifier, WithoutNotifySocketNothingIsSent) {
  ::unsetenv("NOTIFY_SOCKET");
  hal::sim::ManualClock clock;
  SystemdNotifier n(clock);
  EXPECT_FALSE(n.active());
  EXPECT_EQ(n.ready(), Err::NotSupported);
  EXPECT_EQ(n.status("online"), Err::NotSupported);
  EXPECT_EQ(n.keepalive(), Err::NotSupported);
  EXPECT_EQ(n.stopping(), Err::NotSupported);
}

TEST(SystemdNotifier, ReadyStatusStoppingWithoutAWatchdog) {
  xiot_test::NotifySocket sock;
  ASSERT_TRUE(sock.ok());
  hal::sim::ManualClock clock;
  SystemdNotifier n(clock);
  EXPECT_TRUE(n.active());
  EXPECT_EQ(n.watchdog_usec(), 0u);
  EXPECT_EQ(n.ready(), Err::Ok);
  EXPECT_EQ(n.status("healthy, 4 devices"), Err::Ok);
  EXPECT_EQ(n.status("two\nlines\r"), Err::Ok);
  EXPECT_EQ(n.keepalive(), Err::NotSupported);  // systemd asked for none
  EXPECT_EQ(n.stopping(), Err::Ok);
  EXPECT_EQ(sock.take(), (Messages{"READY=1", "STATUS=healthy, 4 devices", "STATUS=two lines ", "STOPPING=1"}));
}

TEST(SystemdNotifier, WatchdogIsFedAtMostOncePerQuarterInterval) {
  xiot_test::NotifySocket sock(4000000);  // WatchdogSec=4
  ASSERT_TRUE(sock.ok());
  hal::sim::ManualClock clock;
  SystemdNotifier n(clock);
  EXPECT_EQ(n.watchdog_usec(), 4000000u);
  EXPECT_EQ(n.keepalive(), Err::Ok);
  EXPECT_EQ(sock.take(), Messages{"WATCHDOG=1"});
  clock.advance_ms(999);
  EXPECT_EQ(n.keepalive(), Err::Ok);
  EXPECT_EQ(sock.take(), Messages{});
  clock.advance_ms(1);
  EXPECT_EQ(n.keepalive(), Err::Ok);
  EXPECT_EQ(sock.take(), Messages{"WATCHDOG=1"});
}

TEST(SystemdNotifier, AWatchdogForAnotherProcessIsNotOurs) {
  xiot_test::NotifySocket sock(4000000, static_cast<long>(::getpid()) + 1);
  hal::sim::ManualClock clock;
  SystemdNotifier n(clock);
  EXPECT_EQ(n.watchdog_usec(), 0u);
  EXPECT_EQ(n.keepalive(), Err::NotSupported);
  EXPECT_EQ(sock.take(), Messages{});
}

TEST(SystemdNotifier, AVanishedSocketIsAnIoError) {
  hal::sim::ManualClock clock;
  ::setenv("NOTIFY_SOCKET", "/nonexistent-dir/notify", 1);
  SystemdNotifier n(clock);
  EXPECT_EQ(n.ready(), Err::Io);  // sendmsg: ENOENT
  ::unsetenv("NOTIFY_SOCKET");
}

}  // namespace

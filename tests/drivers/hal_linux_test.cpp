// hal::linux_ backends: FileStorage (in a temp dir), LinuxSystemInfo (fake
// procfs files), SystemClock.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstring>
#include <string>

#include "hal/linux/file_storage.hpp"
#include "hal/linux/i2c_dev_bus.hpp"
#include "hal/linux/linux_system_info.hpp"
#include "hal/linux/logind_restart.hpp"
#include "hal/linux/system_clock.hpp"
#include "test_tmpdir.hpp"

using hal::Err;
using hal::linux_::FileStorage;
using hal::linux_::LinuxSystemInfo;
using xiot_test::TempDir;

namespace {
const uint8_t* bytes(const char* s) { return reinterpret_cast<const uint8_t*>(s); }
bool exists(const std::string& p) {
  struct stat st {};
  return stat(p.c_str(), &st) == 0;
}
}  // namespace

TEST(FileStorage, ReplaceThenReadRoundTrips) {
  TempDir tmp;
  FileStorage s(tmp.path().c_str());
  ASSERT_EQ(s.replace("settings", bytes("hello"), 5), Err::Ok);
  uint8_t buf[16] = {};
  auto n = s.read("settings", buf, sizeof buf);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(n.value(), 5u);
  EXPECT_EQ(std::memcmp(buf, "hello", 5), 0);
}

TEST(FileStorage, ReplaceOverwritesAtomicallyAndLeavesNoTempFile) {
  TempDir tmp;
  FileStorage s(tmp.path().c_str());
  ASSERT_EQ(s.replace("k", bytes("first value"), 11), Err::Ok);
  ASSERT_EQ(s.replace("k", bytes("2nd"), 3), Err::Ok);
  uint8_t buf[16] = {};
  EXPECT_EQ(s.read("k", buf, sizeof buf).value(), 3u);
  EXPECT_EQ(std::memcmp(buf, "2nd", 3), 0);
  EXPECT_FALSE(exists(tmp.file("k~")));
}

TEST(FileStorage, StaleTempFileFromACrashDoesNotAffectTheOldBlob) {
  TempDir tmp;
  FileStorage s(tmp.path().c_str());
  ASSERT_EQ(s.replace("k", bytes("old"), 3), Err::Ok);
  tmp.write("k~", "half-writ");  // a crash between write and rename
  uint8_t buf[16] = {};
  EXPECT_EQ(s.read("k", buf, sizeof buf).value(), 3u);
  EXPECT_EQ(std::memcmp(buf, "old", 3), 0);
  ASSERT_EQ(s.replace("k", bytes("new"), 3), Err::Ok);  // the next replace reuses it
  EXPECT_EQ(s.read("k", buf, sizeof buf).value(), 3u);
  EXPECT_EQ(std::memcmp(buf, "new", 3), 0);
}

TEST(FileStorage, MissingKeyAndRemove) {
  TempDir tmp;
  FileStorage s(tmp.path().c_str());
  uint8_t buf[4];
  EXPECT_EQ(s.read("nope", buf, sizeof buf).error(), Err::NotFound);
  EXPECT_EQ(s.remove("nope"), Err::Ok);
  ASSERT_EQ(s.replace("k", bytes("x"), 1), Err::Ok);
  EXPECT_EQ(s.remove("k"), Err::Ok);
  EXPECT_EQ(s.read("k", buf, sizeof buf).error(), Err::NotFound);
  EXPECT_FALSE(exists(tmp.file("k")));
}

TEST(FileStorage, OverflowWhenTheBufferIsTooSmall) {
  TempDir tmp;
  FileStorage s(tmp.path().c_str());
  ASSERT_EQ(s.replace("k", bytes("0123456789"), 10), Err::Ok);
  uint8_t buf[9];
  EXPECT_EQ(s.read("k", buf, sizeof buf).error(), Err::Overflow);
  uint8_t exact[10];
  EXPECT_EQ(s.read("k", exact, sizeof exact).value(), 10u);
}

TEST(FileStorage, EmptyBlob) {
  TempDir tmp;
  FileStorage s(tmp.path().c_str());
  ASSERT_EQ(s.replace("empty", nullptr, 0), Err::Ok);
  uint8_t buf[1];
  EXPECT_EQ(s.read("empty", buf, 0).value(), 0u);
}

TEST(FileStorage, CreatesTheDirectoryAndParents) {
  TempDir tmp;
  const std::string dir = tmp.file("state/deep/settings");
  FileStorage s(dir.c_str());
  uint8_t buf[4];
  EXPECT_EQ(s.read("k", buf, sizeof buf).error(), Err::NotFound);  // no dir yet: just missing
  ASSERT_EQ(s.replace("k", bytes("v"), 1), Err::Ok);
  EXPECT_TRUE(exists(dir + "/k"));
}

TEST(FileStorage, BadKeysAreRejectedByEveryOperation) {
  TempDir tmp;
  FileStorage s(tmp.path().c_str());
  const std::string long_key(64, 'a');
  const char* bad[] = {"", ".", "..", "a/b", "../x", "k~", "sp ace", "ü", long_key.c_str(), nullptr};
  uint8_t buf[4];
  for (const char* key : bad) {
    SCOPED_TRACE(key ? key : "(null)");
    EXPECT_FALSE(FileStorage::valid_key(key));
    EXPECT_EQ(s.replace(key, bytes("x"), 1), Err::InvalidArgument);
    EXPECT_EQ(s.read(key, buf, sizeof buf).error(), Err::InvalidArgument);
    EXPECT_EQ(s.remove(key), Err::InvalidArgument);
  }
  EXPECT_TRUE(FileStorage::valid_key(std::string(63, 'a').c_str()));
  EXPECT_TRUE(FileStorage::valid_key("journal.seg-0001_a"));
}

TEST(FileStorage, DirectoryThatIsAFileGivesIo) {
  TempDir tmp;
  const std::string file = tmp.write("plain", "x");
  FileStorage s(file.c_str());
  EXPECT_EQ(s.replace("k", bytes("v"), 1), Err::Io);
}

namespace {
struct FakeProc {
  TempDir dir;
  FakeProc(const char* uptime, const char* loadavg, const char* meminfo) {
    if (uptime) dir.write("uptime", uptime);
    if (loadavg) dir.write("loadavg", loadavg);
    if (meminfo) dir.write("meminfo", meminfo);
  }
};
const char* kMeminfo =
    "MemTotal:       16318000 kB\n"
    "MemFree:         1000000 kB\n"
    "MemAvailable:    8159000 kB\n"
    "Buffers:          100000 kB\n";
}  // namespace

TEST(LinuxSystemInfo, ParsesProcFiles) {
  FakeProc p("12345.67 54321.00\n", "0.52 1.58 12.59 1/389 12345\n", kMeminfo);
  LinuxSystemInfo info(p.dir.path().c_str());
  EXPECT_EQ(info.uptime_ms().value(), 12345670u);
  const hal::LoadAverage l = info.load().value();
  EXPECT_EQ(l.load1_milli, 520u);
  EXPECT_EQ(l.load5_milli, 1580u);
  EXPECT_EQ(l.load15_milli, 12590u);
  const hal::MemoryInfo m = info.memory().value();
  EXPECT_EQ(m.total_bytes, 16318000ull * 1024);
  EXPECT_EQ(m.available_bytes, 8159000ull * 1024);
}

TEST(LinuxSystemInfo, ParseErrorsAndMissingFilesAreIo) {
  struct Case {
    const char* uptime;
    const char* loadavg;
    const char* meminfo;
  } cases[] = {
      {"", "", ""},
      {"abc 1.0\n", "x 0.1 0.1 1/1 1\n", "MemTotal: lots\n"},
      {nullptr, nullptr, nullptr},
      {"-5.0 1\n", "0.1 0.2\n", "MemTotal: 100 kB\n"},                       // no MemAvailable
      {"99999999999999999999999.0 1\n", "0.1x 0.2 0.3 1/1 1\n", "MemTotal: 100 kB\nMemAvailable: 200 kB\n"},
  };
  for (const Case& c : cases) {
    FakeProc p(c.uptime, c.loadavg, c.meminfo);
    LinuxSystemInfo info(p.dir.path().c_str());
    EXPECT_EQ(info.uptime_ms().error(), Err::Io);
    EXPECT_EQ(info.load().error(), Err::Io);
    EXPECT_EQ(info.memory().error(), Err::Io);
  }
}

TEST(LinuxSystemInfo, RealProcIsReadable) {
  LinuxSystemInfo info;
  EXPECT_TRUE(info.uptime_ms().ok());
  EXPECT_TRUE(info.load().ok());
  auto m = info.memory();
  ASSERT_TRUE(m.ok());
  EXPECT_GT(m.value().total_bytes, 0u);
}

TEST(SystemClock, MonotonicNeverGoesBackAndWallIsUnixTime) {
  hal::linux_::SystemClock c;
  const hal::MonoTime a = c.mono_now();
  const hal::MonoTime b = c.mono_now();
  EXPECT_LE(a, b);
  EXPECT_GT(c.wall_now().unix_us, 1577836800LL * 1000000);  // after 2020-01-01
}

TEST(I2cDevBus, MissingNodeAndUnopenedBus) {
  hal::linux_::I2cDevBus bus("/dev/i2c-does-not-exist");
  uint8_t b = 0;
  EXPECT_EQ(bus.transfer(0x76, &b, 1, nullptr, 0, 10), Err::NotReady);
  EXPECT_EQ(bus.open(), Err::NotFound);
  EXPECT_EQ(bus.transfer(0x76, &b, 1, nullptr, 0, 0), Err::InvalidArgument);
}

// LogindRestart without a system bus (a container, a host without D-Bus): the
// connection fails, restart() says Io and names why; nothing is rebooted.
TEST(LogindRestart, NoSystemBusIsIoWithTheReason) {
  xiot_test::TempDir tmp;
  const std::string address = "unix:path=" + tmp.file("no-such-bus-socket");
  const char* saved = std::getenv("DBUS_SYSTEM_BUS_ADDRESS");
  const std::string keep = saved != nullptr ? saved : "";
  setenv("DBUS_SYSTEM_BUS_ADDRESS", address.c_str(), 1);
  hal::linux_::LogindRestart restart;
  EXPECT_STREQ(restart.error_text(), "");
  EXPECT_EQ(restart.restart(), hal::Err::Io);
  const std::string why = restart.error_text();
  EXPECT_NE(why.find("No such file or directory"), std::string::npos) << why;
  EXPECT_LT(why.size(), hal::linux_::LogindRestart::kErrorMax);
  // A second attempt fails the same way (no state kept between calls).
  EXPECT_EQ(restart.restart(), hal::Err::Io);
  EXPECT_EQ(std::string(restart.error_text()), why);
  if (saved != nullptr) {
    setenv("DBUS_SYSTEM_BUS_ADDRESS", keep.c_str(), 1);
  } else {
    unsetenv("DBUS_SYSTEM_BUS_ADDRESS");
  }
}

// hal::linux_::DebInstaller against a private dbus-daemon with
// fake_systemd.py on it (systemd's StartUnit/JobRemoved/GetUnit, polkit's
// refusal). What runs as root (debian/xiot-agent-update@.service and
// /usr/lib/xiot/xiot-agent-update) needs a real systemd: the virtual boards.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <chrono>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "hal/linux/deb_installer.hpp"
#include "harness.hpp"

namespace {

using namespace std::chrono_literals;
using hal::linux_::DebInstaller;
using xiot::test::in;
using xiot::test::Process;
using xiot::test::TempDir;

std::string slurp(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

void spit(const std::string& path, const std::string& text) { std::ofstream(path, std::ios::binary) << text; }

bool exists(const std::string& path) {
  struct stat st {};
  return stat(path.c_str(), &st) == 0;
}

class DebSystem : public ::testing::Test {
 protected:
  void SetUp() override {
    address_ = "unix:path=" + (dir_ / "bus");
    bus_ = std::make_unique<Process>(std::vector<std::string>{
        "dbus-daemon", "--session", "--nofork", "--nopidfile", "--address=" + address_, "--print-address=1"});
    ASSERT_TRUE(bus_->wait_for_output("unix:path=", in(10s), Process::Stream::Out)) << bus_->describe();
    spit(dir_ / "new.deb", "not really a deb, but the installer only moves bytes");
  }
  void systemd(const std::string& mode) {
    Process::Options o;
    o.argv = {"/usr/bin/python3", xiot::test::source_path("tests/agent/fake_systemd.py"), mode};
    o.env["DBUS_SESSION_BUS_ADDRESS"] = address_;
    systemd_ = std::make_unique<Process>(o);
    ASSERT_TRUE(systemd_->wait_for_output("ready", in(15s), Process::Stream::Out)) << systemd_->describe();
  }
  hal::InstallProgress run_to_end(DebInstaller& installer) {
    const auto deadline = in(20s);
    hal::InstallProgress p = installer.poll();
    while (!p.done && xiot::test::Clock::now() < deadline) {
      std::this_thread::sleep_for(2ms);
      p = installer.poll();
    }
    return p;
  }
  std::string staging() const { return dir_ / "update"; }

  TempDir dir_{"xiot-deb"};
  std::string address_;
  std::unique_ptr<Process> bus_;
  std::unique_ptr<Process> systemd_;
};

TEST_F(DebSystem, StagesThePackageAndStartsTheInstallUnit) {
  systemd("done");
  DebInstaller installer(address_.c_str(), staging().c_str(), "1.2.0");
  ASSERT_EQ(installer.begin((dir_ / "new.deb").c_str()), hal::Err::Ok) << installer.error_text();
  EXPECT_EQ(installer.begin((dir_ / "new.deb").c_str()), hal::Err::Busy);
  const auto p = run_to_end(installer);
  ASSERT_TRUE(p.done) << systemd_->describe();
  EXPECT_EQ(p.result, hal::Err::Ok) << installer.error_text();
  EXPECT_EQ(p.percent, 100);
  EXPECT_EQ(slurp(staging() + "/staged.deb"), slurp(dir_ / "new.deb"));
  EXPECT_FALSE(exists(staging() + "/staged.deb.tmp"));
  EXPECT_EQ(systemd_->count_output("Subscribe"), 1u);
  EXPECT_EQ(systemd_->count_output("StartUnit xiot-agent-update@install.service replace"), 1u) << systemd_->describe();
}

TEST_F(DebSystem, FailedUnitIsAnIoErrorWithItsResult) {
  systemd("failed");
  DebInstaller installer(address_.c_str(), staging().c_str(), "1.2.0");
  ASSERT_EQ(installer.begin((dir_ / "new.deb").c_str()), hal::Err::Ok) << installer.error_text();
  const auto p = run_to_end(installer);
  ASSERT_TRUE(p.done);
  EXPECT_EQ(p.result, hal::Err::Io);
  EXPECT_STREQ(installer.error_text(),
               "xiot-agent-update@install.service failed (Result=exit-code; journalctl -u "
               "xiot-agent-update@install.service says why)");
}

TEST_F(DebSystem, PolkitRefusalIsReportedWithTheDbusError) {
  systemd("deny");
  DebInstaller installer(address_.c_str(), staging().c_str(), "1.2.0");
  ASSERT_EQ(installer.begin((dir_ / "new.deb").c_str()), hal::Err::Ok) << installer.error_text();
  const auto p = run_to_end(installer);
  ASSERT_TRUE(p.done);
  EXPECT_EQ(p.result, hal::Err::Io);
  EXPECT_NE(std::string(installer.error_text()).find("org.freedesktop.DBus.Error.AccessDenied"), std::string::npos)
      << installer.error_text();
  EXPECT_EQ(installer.mark_bad(), hal::Err::Io);
  EXPECT_NE(std::string(installer.error_text()).find("StartUnit xiot-agent-update@rollback.service"),
            std::string::npos)
      << installer.error_text();
}

TEST_F(DebSystem, TrialWhileTheMarkerNamesTheRunningVersion) {
  DebInstaller old_version(address_.c_str(), staging().c_str(), "1.1.0");
  DebInstaller installer(address_.c_str(), staging().c_str(), "1.2.0");
  auto s = installer.boot_status();
  ASSERT_TRUE(s.ok());
  EXPECT_STREQ(s.value().slot, "deb");
  EXPECT_FALSE(s.value().trial);

  ::mkdir(staging().c_str(), 0700);
  spit(staging() + "/trial", "1.2.0 0\n");  // what the install unit writes before dpkg runs
  s = installer.boot_status();
  ASSERT_TRUE(s.ok());
  EXPECT_TRUE(s.value().trial);
  EXPECT_EQ(s.value().boot_attempts, 1u);
  EXPECT_EQ(installer.boot_status().value().boot_attempts, 2u);
  EXPECT_EQ(slurp(staging() + "/trial"), "1.2.0 2\n");
  // dpkg failed and the old version still runs: no trial for it.
  EXPECT_FALSE(old_version.boot_status().value().trial);

  EXPECT_EQ(installer.mark_good(), hal::Err::Ok) << installer.error_text();
  EXPECT_FALSE(exists(staging() + "/trial"));
  EXPECT_FALSE(installer.boot_status().value().trial);
}

TEST_F(DebSystem, MarkBadStartsTheRollbackUnit) {
  systemd("done");
  DebInstaller installer(address_.c_str(), staging().c_str(), "1.2.0");
  EXPECT_EQ(installer.mark_bad(), hal::Err::Ok) << installer.error_text();
  EXPECT_EQ(systemd_->count_output("StartUnit xiot-agent-update@rollback.service replace"), 1u)
      << systemd_->describe();
}

TEST_F(DebSystem, MissingPackageAndAbsentSystemdAreReported) {
  DebInstaller installer(address_.c_str(), staging().c_str(), "1.2.0");
  EXPECT_EQ(installer.begin((dir_ / "nope.deb").c_str()), hal::Err::NotFound);
  EXPECT_NE(std::string(installer.error_text()).find("nope.deb"), std::string::npos) << installer.error_text();
  EXPECT_EQ(installer.begin((dir_ / "new.deb").c_str()), hal::Err::Io);  // nobody owns org.freedesktop.systemd1
  EXPECT_NE(std::string(installer.error_text()).find("systemd Subscribe"), std::string::npos)
      << installer.error_text();
}

}  // namespace

// hal::linux_::RaucInstaller against the real RAUC (Debian's rauc 1.8), the
// way RAUC's own test suite runs without hardware: tests/agent/rauc_fixture.sh
// makes a test CA (the keyring), two file-backed raw slots, a `custom`
// bootloader backend keeping PRIMARY and the good/bad states in a file, and
// two bundles (signed by the CA's signer; signed by a rogue key). A private
// dbus-daemon (session policy) carries `rauc service` (DBUS_STARTER_BUS_TYPE=
// session makes it use $DBUS_SESSION_BUS_ADDRESS) with --override-boot-slot
// standing in for the kernel command line; the installer is given that bus's
// address. A "reboot" is a restart of the service with the other boot slot.
// Needs root (RAUC loop-mounts the bundle) and squashfs-tools; skipped
// otherwise.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "hal/linux/rauc_installer.hpp"
#include "harness.hpp"

namespace {

using namespace std::chrono_literals;
using hal::linux_::RaucInstaller;
using xiot::test::in;
using xiot::test::Process;
using xiot::test::TempDir;

std::string slurp(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

bool exists(const std::string& path) {
  struct stat st {};
  return stat(path.c_str(), &st) == 0;
}

class RaucSystem : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "RAUC loop-mounts bundles: needs root";
    if (access("/usr/bin/rauc", X_OK) != 0 || access("/usr/bin/mksquashfs", X_OK) != 0) {
      GTEST_SKIP() << "needs rauc and squashfs-tools (tools/deps)";
    }
    Process fixture({xiot::test::source_path("tests/agent/rauc_fixture.sh"), dir_.path()});
    ASSERT_EQ(fixture.wait_exit(in(60s)), 0) << fixture.describe();
    address_ = "unix:path=" + (dir_ / "bus");
    bus_ = std::make_unique<Process>(std::vector<std::string>{
        "dbus-daemon", "--session", "--nofork", "--nopidfile", "--address=" + address_, "--print-address=1"});
    ASSERT_TRUE(bus_->wait_for_output("unix:path=", in(10s), Process::Stream::Out)) << bus_->describe();
    start_service("A");
  }
  void TearDown() override { stop_service(); }

  /// `rauc service` booted from `bootname`, once it answers on the bus.
  void start_service(const std::string& bootname) {
    Process::Options o;
    o.argv = {"rauc", "service", "--conf=" + (dir_ / "system.conf"), "--mount=" + (dir_ / "mnt"),
              "--override-boot-slot=" + bootname};
    o.env["DBUS_STARTER_BUS_TYPE"] = "session";
    o.env["DBUS_SESSION_BUS_ADDRESS"] = address_;
    service_ = std::make_unique<Process>(o);
    RaucInstaller probe(address_.c_str(), nullptr);
    const auto deadline = in(15s);
    while (!probe.boot_status().ok()) {
      ASSERT_LT(xiot::test::Clock::now(), deadline) << probe.error_text() << "\n" << service_->describe();
      std::this_thread::sleep_for(20ms);
    }
  }
  /// SIGTERM, so RAUC leaves no bundle mounted; it exits 0.
  void stop_service() {
    if (!service_) return;
    service_->kill(SIGTERM);
    EXPECT_TRUE(service_->wait_exit(in(10s)).has_value()) << service_->describe();
    service_.reset();
  }
  void reboot_into(const std::string& bootname) {
    stop_service();
    start_service(bootname);
  }

  /// Polls until the install ends; percents seen before the end go to `seen`.
  hal::InstallProgress run_to_end(RaucInstaller& installer, std::vector<int>* seen = nullptr) {
    const auto deadline = in(60s);
    hal::InstallProgress p = installer.poll();
    while (!p.done && xiot::test::Clock::now() < deadline) {
      if (seen != nullptr && (seen->empty() || seen->back() != p.percent)) seen->push_back(p.percent);
      std::this_thread::sleep_for(2ms);
      p = installer.poll();
    }
    return p;
  }

  std::string state() const { return slurp(dir_ / "boot-state"); }
  std::string marker() const { return dir_ / "rauc-trial"; }
  RaucInstaller make() const { return RaucInstaller(address_.c_str(), marker().c_str()); }

  TempDir dir_{"xiot-rauc"};
  std::string address_;
  std::unique_ptr<Process> bus_;
  std::unique_ptr<Process> service_;
};

TEST_F(RaucSystem, InstallsSignedBundleIntoInactiveSlotAndMakesItPrimary) {
  RaucInstaller installer(address_.c_str(), marker().c_str());
  const auto before = installer.boot_status();
  ASSERT_TRUE(before.ok()) << installer.error_text();
  EXPECT_STREQ(before.value().slot, "rootfs.0");
  EXPECT_FALSE(before.value().trial);

  const auto t0 = xiot::test::Clock::now();
  ASSERT_EQ(installer.begin((dir_ / "good.raucb").c_str()), hal::Err::Ok) << installer.error_text();
  EXPECT_EQ(installer.begin((dir_ / "good.raucb").c_str()), hal::Err::Busy);
  std::vector<int> seen;
  const auto p = run_to_end(installer, &seen);
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(xiot::test::Clock::now() - t0).count();
  std::printf("RAUC install of a 512 KiB bundle (signature check, loop mount, raw slot write): %lld ms, "
              "%zu progress values\n",
              static_cast<long long>(ms), seen.size());
  ASSERT_TRUE(p.done) << service_->describe();
  EXPECT_EQ(p.result, hal::Err::Ok) << installer.error_text();
  EXPECT_EQ(p.percent, 100);
  EXPECT_STREQ(installer.error_text(), "");
  bool intermediate = false;
  for (int v : seen) intermediate = intermediate || (v > 0 && v < 100);
  EXPECT_TRUE(intermediate) << "no progress between 0 and 100 seen (" << seen.size() << " values)";

  // The inactive slot (B) holds the image; B is primary and bootable; A untouched.
  const std::string image = slurp(dir_ / "content/rootfs.img");
  EXPECT_EQ(slurp(dir_ / "slots/rootfs-1.img").substr(0, image.size()), image);
  EXPECT_EQ(slurp(dir_ / "slots/rootfs-0.img"), std::string(1 << 20, '\0'));
  EXPECT_EQ(state(), "PRIMARY=B\nSTATE_A=good\nSTATE_B=good\n");
  EXPECT_EQ(slurp(marker()), "rootfs.1 0\n");
  // Still booted from A until the reboot: no trial yet.
  const auto still = installer.boot_status();
  ASSERT_TRUE(still.ok()) << installer.error_text();
  EXPECT_STREQ(still.value().slot, "rootfs.0");
  EXPECT_FALSE(still.value().trial);
}

TEST_F(RaucSystem, NewSlotBootsOnTrialAndMarkGoodCommitsIt) {
  {
    RaucInstaller installer = make();
    ASSERT_EQ(installer.begin((dir_ / "good.raucb").c_str()), hal::Err::Ok) << installer.error_text();
    ASSERT_EQ(run_to_end(installer).result, hal::Err::Ok) << installer.error_text();
  }
  reboot_into("B");
  RaucInstaller installer = make();
  const auto s = installer.boot_status();
  ASSERT_TRUE(s.ok()) << installer.error_text();
  EXPECT_STREQ(s.value().slot, "rootfs.1");
  EXPECT_TRUE(s.value().trial);
  EXPECT_EQ(s.value().boot_attempts, 1u);
  EXPECT_EQ(slurp(marker()), "rootfs.1 1\n");

  ASSERT_EQ(installer.mark_good(), hal::Err::Ok) << installer.error_text();
  EXPECT_EQ(state(), "PRIMARY=B\nSTATE_A=good\nSTATE_B=good\n");
  EXPECT_FALSE(exists(marker()));
  const auto after = installer.boot_status();
  ASSERT_TRUE(after.ok());
  EXPECT_FALSE(after.value().trial);
}

TEST_F(RaucSystem, MarkBadOnTrialMakesTheOldSlotPrimaryAgain) {
  {
    RaucInstaller installer = make();
    ASSERT_EQ(installer.begin((dir_ / "good.raucb").c_str()), hal::Err::Ok) << installer.error_text();
    ASSERT_EQ(run_to_end(installer).result, hal::Err::Ok) << installer.error_text();
  }
  reboot_into("B");
  RaucInstaller installer = make();
  const auto s = installer.boot_status();
  ASSERT_TRUE(s.ok()) << installer.error_text();
  ASSERT_TRUE(s.value().trial);
  ASSERT_EQ(installer.mark_bad(), hal::Err::Ok) << installer.error_text();
  EXPECT_EQ(state(), "PRIMARY=A\nSTATE_A=good\nSTATE_B=bad\n");
  EXPECT_FALSE(exists(marker()));

  reboot_into("A");  // what the bootloader now does
  RaucInstaller back = make();
  const auto old = back.boot_status();
  ASSERT_TRUE(old.ok()) << back.error_text();
  EXPECT_STREQ(old.value().slot, "rootfs.0");
  EXPECT_FALSE(old.value().trial);
}

TEST_F(RaucSystem, BundleWithWrongSignatureFailsWithRaucsError) {
  RaucInstaller installer = make();
  ASSERT_EQ(installer.begin((dir_ / "rogue.raucb").c_str()), hal::Err::Ok) << installer.error_text();
  const auto p = run_to_end(installer);
  ASSERT_TRUE(p.done);
  EXPECT_EQ(p.result, hal::Err::Io);
  EXPECT_NE(std::string(installer.error_text()).find("signature"), std::string::npos) << installer.error_text();
  EXPECT_EQ(state(), "PRIMARY=A\nSTATE_A=good\nSTATE_B=good\n");
  EXPECT_EQ(slurp(dir_ / "slots/rootfs-1.img"), std::string(1 << 20, '\0'));
  EXPECT_FALSE(exists(marker()));
  // The installer is free again: a good bundle installs after the bad one.
  ASSERT_EQ(installer.begin((dir_ / "good.raucb").c_str()), hal::Err::Ok) << installer.error_text();
  EXPECT_EQ(run_to_end(installer).result, hal::Err::Ok) << installer.error_text();
}

TEST_F(RaucSystem, MissingBundleAndAbsentServiceAreReported) {
  RaucInstaller installer = make();
  EXPECT_EQ(installer.begin((dir_ / "nope.raucb").c_str()), hal::Err::NotFound);
  EXPECT_NE(std::string(installer.error_text()).find("nope.raucb"), std::string::npos) << installer.error_text();
  stop_service();
  RaucInstaller alone = make();
  EXPECT_EQ(alone.boot_status().error(), hal::Err::Io);
  EXPECT_NE(std::string(alone.error_text()).find("GetSlotStatus"), std::string::npos) << alone.error_text();
  EXPECT_EQ(alone.mark_good(), hal::Err::Io);
  EXPECT_NE(std::string(alone.error_text()).find("Mark(good, booted)"), std::string::npos) << alone.error_text();
}

TEST(RaucInstallerNoBus, UnreachableBusIsAnIoErrorNamingTheAddress) {
  RaucInstaller installer("unix:path=/nonexistent/xiot-bus", nullptr);
  EXPECT_EQ(installer.boot_status().error(), hal::Err::Io);
  EXPECT_NE(std::string(installer.error_text()).find("/nonexistent/xiot-bus"), std::string::npos)
      << installer.error_text();
}

}  // namespace

namespace {

// RAUC gone mid-install (a crash, a stop): the install ends as Io instead of
// running for ever. A fake RAUC, since killing the real one with a bundle
// loop-mounted would leave the mount behind.
TEST(RaucInstallerFake, ServiceLeavingTheBusMidInstallEndsIt) {
  TempDir dir("xiot-rauc-fake");
  const std::string address = "unix:path=" + (dir / "bus");
  Process bus(std::vector<std::string>{"dbus-daemon", "--session", "--nofork", "--nopidfile",
                                       "--address=" + address, "--print-address=1"});
  ASSERT_TRUE(bus.wait_for_output("unix:path=", in(10s), Process::Stream::Out)) << bus.describe();
  Process::Options o;
  o.argv = {"/usr/bin/python3", xiot::test::source_path("tests/agent/fake_rauc.py")};
  o.env["DBUS_SESSION_BUS_ADDRESS"] = address;
  Process rauc(o);
  ASSERT_TRUE(rauc.wait_for_output("ready", in(15s), Process::Stream::Out)) << rauc.describe();
  const std::string bundle = dir / "b.raucb";
  std::ofstream(bundle) << "x";
  RaucInstaller installer(address.c_str(), nullptr);
  ASSERT_EQ(installer.begin(bundle.c_str()), hal::Err::Ok) << installer.error_text();
  const auto deadline = in(15s);
  hal::InstallProgress p = installer.poll();
  while (!p.done && xiot::test::Clock::now() < deadline) {
    std::this_thread::sleep_for(5ms);
    p = installer.poll();
  }
  ASSERT_TRUE(p.done) << rauc.describe();
  EXPECT_EQ(p.result, hal::Err::Io);
  EXPECT_STREQ(installer.error_text(), "RAUC (de.pengutronix.rauc) left the bus during the install");
  EXPECT_TRUE(rauc.wait_for_output("InstallBundle " + bundle, in(1s))) << rauc.describe();
}

}  // namespace

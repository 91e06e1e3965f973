// hal::sim::SimInstaller: A/B slots, trial boots, boot counter, rollback, and
// its state surviving a "reboot" (a new object over the same storage).
#include "hal/sim/sim_installer.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include "hal/linux/file_storage.hpp"
#include "hal/sim/manual_clock.hpp"
#include "test_tmpdir.hpp"

namespace {

using hal::Err;
using hal::sim::SimInstaller;

class SimInstallerTest : public ::testing::Test {
 protected:
  SimInstallerTest() : storage_((dir_.path() + "/state").c_str()) {}

  std::string image(const std::string& version, const std::string& name = "img") {
    const std::string p = dir_.path() + "/" + name;
    std::ofstream(p, std::ios::binary) << "xiot-sim-image " << version << "\npayload";
    return p;
  }
  /// Installs `path` to completion on the manual clock.
  void install(SimInstaller& inst, const std::string& path) {
    ASSERT_EQ(inst.begin(path.c_str()), Err::Ok);
    hal::InstallProgress p = inst.poll();
    EXPECT_FALSE(p.done);
    clock_.advance_ms(500);
    p = inst.poll();
    EXPECT_FALSE(p.done);
    EXPECT_EQ(p.percent, 50);
    clock_.advance_ms(600);
    p = inst.poll();
    ASSERT_TRUE(p.done);
    EXPECT_EQ(p.result, Err::Ok);
    EXPECT_EQ(p.percent, 100);
  }

  xiot_test::TempDir dir_;
  hal::linux_::FileStorage storage_;
  hal::sim::ManualClock clock_;
};

TEST_F(SimInstallerTest, FreshBoardBootsSlotAAtFactoryVersion) {
  SimInstaller inst(storage_, clock_, "1.0.0");
  ASSERT_EQ(inst.boot(), Err::Ok);
  EXPECT_STREQ(inst.booted_version(), "1.0.0");
  const hal::Result<hal::BootStatus> s = inst.boot_status();
  ASSERT_TRUE(s.ok());
  EXPECT_STREQ(s.value().slot, "A");
  EXPECT_FALSE(s.value().trial);
  EXPECT_EQ(inst.mark_good(), Err::NotReady);
}

TEST_F(SimInstallerTest, InstallRebootTrialCommit) {
  {
    SimInstaller inst(storage_, clock_, "1.0.0");
    ASSERT_EQ(inst.boot(), Err::Ok);
    install(inst, image("1.1.0"));
    EXPECT_STREQ(inst.booted_version(), "1.0.0");  // until the reboot
  }
  {
    SimInstaller inst(storage_, clock_, "1.0.0");  // the reboot
    ASSERT_EQ(inst.boot(), Err::Ok);
    EXPECT_STREQ(inst.booted_version(), "1.1.0");
    const hal::BootStatus s = inst.boot_status().value();
    EXPECT_STREQ(s.slot, "B");
    EXPECT_TRUE(s.trial);
    EXPECT_EQ(s.boot_attempts, 1u);
    EXPECT_EQ(inst.begin(image("1.2.0").c_str()), Err::Busy);  // confirm first
    ASSERT_EQ(inst.mark_good(), Err::Ok);
    EXPECT_STREQ(inst.committed_version(), "1.1.0");
  }
  SimInstaller inst(storage_, clock_, "1.0.0");
  ASSERT_EQ(inst.boot(), Err::Ok);
  EXPECT_STREQ(inst.booted_version(), "1.1.0");
  EXPECT_FALSE(inst.boot_status().value().trial);
  // The next update goes into A.
  install(inst, image("1.2.0"));
  SimInstaller again(storage_, clock_, "1.0.0");
  ASSERT_EQ(again.boot(), Err::Ok);
  EXPECT_STREQ(again.boot_status().value().slot, "A");
  EXPECT_STREQ(again.booted_version(), "1.2.0");
}

TEST_F(SimInstallerTest, MarkBadRollsBackAtTheNextBoot) {
  {
    SimInstaller inst(storage_, clock_, "1.0.0");
    ASSERT_EQ(inst.boot(), Err::Ok);
    install(inst, image("1.1.0"));
  }
  {
    SimInstaller inst(storage_, clock_, "1.0.0");
    ASSERT_EQ(inst.boot(), Err::Ok);
    ASSERT_TRUE(inst.boot_status().value().trial);
    ASSERT_EQ(inst.mark_bad(), Err::Ok);
  }
  SimInstaller inst(storage_, clock_, "1.0.0");
  ASSERT_EQ(inst.boot(), Err::Ok);
  EXPECT_STREQ(inst.booted_version(), "1.0.0");
  EXPECT_STREQ(inst.boot_status().value().slot, "A");
  EXPECT_FALSE(inst.boot_status().value().trial);
}

TEST_F(SimInstallerTest, TrialThatNeverConfirmsRollsBackAfterMaxAttempts) {
  {
    SimInstaller inst(storage_, clock_, "1.0.0", 2);
    ASSERT_EQ(inst.boot(), Err::Ok);
    install(inst, image("1.1.0"));
  }
  for (uint32_t attempt = 1; attempt <= 2; ++attempt) {
    SimInstaller inst(storage_, clock_, "1.0.0", 2);  // crashes before mark_good()
    ASSERT_EQ(inst.boot(), Err::Ok);
    EXPECT_STREQ(inst.booted_version(), "1.1.0");
    EXPECT_EQ(inst.boot_status().value().boot_attempts, attempt);
  }
  SimInstaller inst(storage_, clock_, "1.0.0", 2);
  ASSERT_EQ(inst.boot(), Err::Ok);
  EXPECT_TRUE(inst.rolled_back());
  EXPECT_STREQ(inst.booted_version(), "1.0.0");
  EXPECT_FALSE(inst.boot_status().value().trial);
}

TEST_F(SimInstallerTest, PowerCutDuringInstallBootsTheOldSlot) {
  {
    SimInstaller inst(storage_, clock_, "1.0.0");
    ASSERT_EQ(inst.boot(), Err::Ok);
    ASSERT_EQ(inst.begin(image("1.1.0").c_str()), Err::Ok);
    clock_.advance_ms(300);
    EXPECT_FALSE(inst.poll().done);
    // power cut: the object goes away mid-install
  }
  SimInstaller inst(storage_, clock_, "1.0.0");
  ASSERT_EQ(inst.boot(), Err::Ok);
  EXPECT_STREQ(inst.booted_version(), "1.0.0");
  EXPECT_FALSE(inst.boot_status().value().trial);
}

TEST_F(SimInstallerTest, BadImagesAndInjectedFailures) {
  SimInstaller inst(storage_, clock_, "1.0.0");
  ASSERT_EQ(inst.boot(), Err::Ok);
  EXPECT_EQ(inst.begin((dir_.path() + "/absent").c_str()), Err::NotFound);
  std::ofstream(dir_.path() + "/junk") << "ELF....";
  EXPECT_EQ(inst.begin((dir_.path() + "/junk").c_str()), Err::InvalidArgument);
  EXPECT_STREQ(inst.error_text(), "not a sim image (expected a first line \"xiot-sim-image VERSION\")");
  ASSERT_EQ(inst.begin(image("1.1.0").c_str()), Err::Ok);
  EXPECT_EQ(inst.begin(image("1.1.0").c_str()), Err::Busy);
  inst.fail_next_install(Err::Io, "slot B write failed");
  clock_.advance_ms(2000);
  const hal::InstallProgress p = inst.poll();
  ASSERT_TRUE(p.done);
  EXPECT_EQ(p.result, Err::Io);
  EXPECT_STREQ(inst.error_text(), "slot B write failed");
  SimInstaller after(storage_, clock_, "1.0.0");
  ASSERT_EQ(after.boot(), Err::Ok);
  EXPECT_STREQ(after.booted_version(), "1.0.0");
  EXPECT_FALSE(after.boot_status().value().trial);
}

TEST_F(SimInstallerTest, CorruptStateResetsToSlotA) {
  const char junk[] = "garbage";
  ASSERT_EQ(storage_.replace(SimInstaller::kStorageKey, reinterpret_cast<const uint8_t*>(junk), sizeof junk - 1),
            Err::Ok);
  SimInstaller inst(storage_, clock_, "1.0.0");
  EXPECT_EQ(inst.boot(), Err::Corrupt);
  EXPECT_STREQ(inst.booted_version(), "1.0.0");
  SimInstaller again(storage_, clock_, "1.0.0");
  EXPECT_EQ(again.boot(), Err::Ok);  // the reset was persisted
}

}  // namespace

namespace {

TEST_F(SimInstallerTest, SelfTestFailFlagSurvivesTheReboot) {
  {
    SimInstaller inst(storage_, clock_, "1.0.0");
    ASSERT_EQ(inst.boot(), Err::Ok);
    EXPECT_TRUE(inst.booted_self_test_ok());
    install(inst, image("1.1.0 self-test=fail"));
  }
  SimInstaller inst(storage_, clock_, "1.0.0");
  ASSERT_EQ(inst.boot(), Err::Ok);
  EXPECT_STREQ(inst.booted_version(), "1.1.0");
  EXPECT_FALSE(inst.booted_self_test_ok());
  ASSERT_EQ(inst.mark_bad(), Err::Ok);
  SimInstaller after(storage_, clock_, "1.0.0");
  ASSERT_EQ(after.boot(), Err::Ok);
  EXPECT_STREQ(after.booted_version(), "1.0.0");
  EXPECT_TRUE(after.booted_self_test_ok());
  std::ofstream(dir_.path() + "/odd") << "xiot-sim-image 1.2 self-test=maybe\n";
  EXPECT_EQ(after.begin((dir_.path() + "/odd").c_str()), Err::InvalidArgument);
}

}  // namespace

// hal::SegmentStore: the same contract checked on both backends
// (FileSegmentStore on a temp directory, SimSegmentStore in memory), then
// what only one of them does (file names and modes, ENOSPC; the sim's faults).
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "hal/linux/file_segment_store.hpp"
#include "hal/segment_store.hpp"
#include "hal/sim/sim_segment_store.hpp"
#include "test_tmpdir.hpp"

namespace {

using hal::Err;

std::string read_all(hal::SegmentStore& st, uint32_t id) {
  const hal::Result<uint64_t> size = st.size(id);
  if (!size.ok()) return "<" + std::string(hal::err_name(size.error())) + ">";
  std::string out(static_cast<size_t>(size.value()), '\0');
  const hal::Result<size_t> got = st.read(id, 0, reinterpret_cast<uint8_t*>(out.data()), out.size());
  if (!got.ok()) return "<" + std::string(hal::err_name(got.error())) + ">";
  out.resize(got.value());
  return out;
}

Err append(hal::SegmentStore& st, uint32_t id, const std::string& s) {
  return st.append(id, reinterpret_cast<const uint8_t*>(s.data()), s.size());
}

enum class Backend { File, Sim };

class SegmentStoreContract : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    if (GetParam() == Backend::File) {
      store_ = std::make_unique<hal::linux_::FileSegmentStore>((dir_.path() + "/a/journal").c_str());
    } else {
      store_ = std::make_unique<hal::sim::SimSegmentStore>();
    }
    ASSERT_EQ(store_->open(), Err::Ok);
  }
  xiot_test::TempDir dir_;
  std::unique_ptr<hal::SegmentStore> store_;
};

TEST_P(SegmentStoreContract, AppendReadSizeAcrossSegments) {
  hal::SegmentStore& st = *store_;
  uint32_t ids[8];
  ASSERT_TRUE(st.list(ids, 8).ok());
  EXPECT_EQ(st.list(ids, 8).value(), 0u);
  ASSERT_EQ(append(st, 7, "hello "), Err::Ok);
  ASSERT_EQ(append(st, 7, "world"), Err::Ok);
  ASSERT_EQ(append(st, 2, "two"), Err::Ok);
  ASSERT_EQ(append(st, 0x1234abcd, "big"), Err::Ok);
  EXPECT_EQ(st.size(7).value(), 11u);
  EXPECT_EQ(read_all(st, 7), "hello world");
  EXPECT_EQ(read_all(st, 2), "two");
  // A read at an offset, one running past the end, one past the end.
  uint8_t buf[16] = {};
  EXPECT_EQ(st.read(7, 6, buf, 3).value(), 3u);
  EXPECT_EQ(std::memcmp(buf, "wor", 3), 0);
  EXPECT_EQ(st.read(7, 9, buf, 16).value(), 2u);
  EXPECT_EQ(st.read(7, 11, buf, 16).value(), 0u);
  EXPECT_EQ(st.read(7, 100, buf, 16).value(), 0u);
  // Listed ascending.
  const hal::Result<size_t> n = st.list(ids, 8);
  ASSERT_TRUE(n.ok());
  ASSERT_EQ(n.value(), 3u);
  EXPECT_EQ(ids[0], 2u);
  EXPECT_EQ(ids[1], 7u);
  EXPECT_EQ(ids[2], 0x1234abcdu);
  // Too small a list: the lowest ids and Overflow.
  uint32_t two[2] = {};
  EXPECT_EQ(st.list(two, 2).error(), Err::Overflow);
  EXPECT_EQ(two[0], 2u);
  EXPECT_EQ(two[1], 7u);
  EXPECT_EQ(st.sync(7), Err::Ok);
}

TEST_P(SegmentStoreContract, TruncateRemoveAndMissingSegments) {
  hal::SegmentStore& st = *store_;
  ASSERT_EQ(append(st, 1, "0123456789"), Err::Ok);
  EXPECT_EQ(st.truncate(1, 4), Err::Ok);
  EXPECT_EQ(read_all(st, 1), "0123");
  EXPECT_EQ(st.truncate(1, 40), Err::Ok);  // never grows
  EXPECT_EQ(st.size(1).value(), 4u);
  ASSERT_EQ(append(st, 1, "xy"), Err::Ok);  // appends go after the cut
  EXPECT_EQ(read_all(st, 1), "0123xy");
  EXPECT_EQ(st.remove(1), Err::Ok);
  EXPECT_EQ(st.remove(1), Err::Ok);  // missing: Ok
  uint8_t b[4];
  EXPECT_EQ(st.read(1, 0, b, 4).error(), Err::NotFound);
  EXPECT_EQ(st.size(1).error(), Err::NotFound);
  EXPECT_EQ(st.sync(1), Err::NotFound);
  EXPECT_EQ(st.truncate(1, 0), Err::NotFound);
  EXPECT_EQ(st.append(3, nullptr, 1), Err::InvalidArgument);
  EXPECT_EQ(st.append(3, nullptr, 0), Err::Ok);  // an empty append creates it
  EXPECT_EQ(st.size(3).value(), 0u);
  // A removed segment can be appended to again, from empty.
  ASSERT_EQ(append(st, 1, "new"), Err::Ok);
  EXPECT_EQ(read_all(st, 1), "new");
}

INSTANTIATE_TEST_SUITE_P(Backends, SegmentStoreContract, ::testing::Values(Backend::File, Backend::Sim),
                         [](const ::testing::TestParamInfo<Backend>& i) {
                           return i.param == Backend::File ? std::string("File") : std::string("Sim");
                         });

TEST(SegmentName, FormatAndParse) {
  char name[hal::kSegmentNameCap];
  EXPECT_STREQ(hal::segment_name(42, name, sizeof name), "0000002a.seg");
  EXPECT_STREQ(hal::segment_name(0xffffffffu, name, sizeof name), "ffffffff.seg");
  uint32_t id = 0;
  EXPECT_TRUE(hal::parse_segment_name("0000002a.seg", &id));
  EXPECT_EQ(id, 42u);
  for (const char* bad : {"", "0000002a", "0000002A.seg", "000002a.seg", "0000002a.seg~", "0000002a.sef",
                          "settings.json", "xxxxxxxx.seg"}) {
    EXPECT_FALSE(hal::parse_segment_name(bad, &id)) << bad;
  }
  EXPECT_FALSE(hal::parse_segment_name(nullptr, &id));
}

TEST(FileSegmentStore, OneFilePerSegmentPrivateModesOtherFilesIgnored) {
  xiot_test::TempDir dir;
  const std::string jdir = dir.path() + "/state/journal";
  hal::linux_::FileSegmentStore st(jdir.c_str());
  ASSERT_EQ(st.open(), Err::Ok);
  ASSERT_EQ(st.open(), Err::Ok);  // idempotent
  EXPECT_STREQ(st.where(), jdir.c_str());
  struct stat s {};
  ASSERT_EQ(::stat(jdir.c_str(), &s), 0);
  EXPECT_EQ(s.st_mode & 0777, 0700u);
  ASSERT_EQ(append(st, 42, "abc"), Err::Ok);
  ASSERT_EQ(::stat((jdir + "/0000002a.seg").c_str(), &s), 0);
  EXPECT_EQ(s.st_mode & 0777, 0600u);
  EXPECT_EQ(s.st_size, 3);
  // Strangers in the directory are not segments.
  { std::ofstream(jdir + "/notes.txt") << "x"; }
  { std::ofstream(jdir + "/0000002b.seg~") << "x"; }
  uint32_t ids[4];
  ASSERT_EQ(st.list(ids, 4).value(), 1u);
  EXPECT_EQ(ids[0], 42u);
  // A second store on the same directory sees what the first wrote (a restart).
  hal::linux_::FileSegmentStore again(jdir.c_str());
  ASSERT_EQ(again.open(), Err::Ok);
  EXPECT_EQ(read_all(again, 42), "abc");
}

TEST(FileSegmentStore, DiskFullIsNoSpaceAndLeavesNothingBehind) {
  xiot_test::TempDir dir;
  hal::linux_::FileSegmentStore st(dir.path().c_str());
  ASSERT_EQ(st.open(), Err::Ok);
  // /dev/full fails every write with ENOSPC.
  ASSERT_EQ(::symlink("/dev/full", (dir.path() + "/00000001.seg").c_str()), 0);
  EXPECT_EQ(append(st, 1, "record"), Err::NoSpace);
}

TEST(FileSegmentStore, BadDirectories) {
  xiot_test::TempDir dir;
  hal::linux_::FileSegmentStore empty("");
  EXPECT_EQ(empty.open(), Err::InvalidArgument);
  uint32_t ids[1];
  EXPECT_EQ(empty.list(ids, 1).error(), Err::InvalidArgument);
  EXPECT_EQ(append(empty, 1, "x"), Err::InvalidArgument);
  { std::ofstream(dir.path() + "/file") << "x"; }
  hal::linux_::FileSegmentStore under_file((dir.path() + "/file/journal").c_str());
  EXPECT_EQ(under_file.open(), Err::Io);
  hal::linux_::FileSegmentStore is_file((dir.path() + "/file").c_str());
  EXPECT_EQ(is_file.open(), Err::Io);
  const std::string too_long(300, 'a');
  hal::linux_::FileSegmentStore long_dir(("/" + too_long).c_str());
  EXPECT_EQ(long_dir.open(), Err::InvalidArgument);
}

TEST(SimSegmentStore, CapacityFaultsAndTornFailures) {
  hal::sim::SimSegmentStore st;
  st.set_capacity(10);
  EXPECT_EQ(append(st, 1, "12345678"), Err::Ok);
  EXPECT_EQ(append(st, 1, "abc"), Err::NoSpace);
  EXPECT_EQ(read_all(st, 1), "12345678");  // all or nothing
  EXPECT_EQ(append(st, 2, "abc"), Err::NoSpace);
  EXPECT_FALSE(st.exists(2));  // a failed create leaves no segment
  st.set_torn_failures(true);
  EXPECT_EQ(append(st, 1, "abc"), Err::NoSpace);
  EXPECT_EQ(read_all(st, 1), "12345678ab");  // what fitted
  st.set_capacity(0);
  st.set_torn_failures(false);
  st.fail_next(hal::sim::SegmentOp::Append, Err::Io);
  EXPECT_EQ(append(st, 1, "zz"), Err::Io);
  EXPECT_EQ(append(st, 1, "zz"), Err::Ok);
  st.fail_next(hal::sim::SegmentOp::Read, Err::Io, 2);
  uint8_t b[2];
  EXPECT_EQ(st.read(1, 0, b, 2).error(), Err::Io);
  EXPECT_EQ(st.read(1, 0, b, 2).error(), Err::Io);
  EXPECT_TRUE(st.read(1, 0, b, 2).ok());
  EXPECT_EQ(st.appends(), 6u);  // every call, failed ones too
}

TEST(SimSegmentStore, PowerCutKeepsOnlySyncedBytes) {
  hal::sim::SimSegmentStore st;
  ASSERT_EQ(append(st, 1, "durable"), Err::Ok);
  ASSERT_EQ(st.sync(1), Err::Ok);
  ASSERT_EQ(append(st, 1, "+lost"), Err::Ok);
  ASSERT_EQ(append(st, 2, "never synced"), Err::Ok);
  st.power_cut();
  EXPECT_EQ(read_all(st, 1), "durable");
  EXPECT_FALSE(st.exists(2));
  EXPECT_TRUE(st.flip(1, 0, 0x20));
  EXPECT_EQ(read_all(st, 1), "Durable");
  EXPECT_TRUE(st.chop(1, 3));
  EXPECT_EQ(read_all(st, 1), "Dura");
  EXPECT_FALSE(st.flip(9, 0));
  EXPECT_FALSE(st.chop(1, 99));
  EXPECT_EQ(st.bytes_used(), 4u);
  EXPECT_EQ(st.segment_count(), 1u);
}

TEST(SimSegmentStore, NoSlotLeftIsNoSpace) {
  hal::sim::SimSegmentStore st(2);
  ASSERT_EQ(append(st, 1, "a"), Err::Ok);
  ASSERT_EQ(append(st, 2, "b"), Err::Ok);
  EXPECT_EQ(append(st, 3, "c"), Err::NoSpace);
  ASSERT_EQ(st.remove(1), Err::Ok);
  EXPECT_EQ(append(st, 3, "c"), Err::Ok);
}

}  // namespace

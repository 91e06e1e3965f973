// agent/ibb: the XEP-0047 receiver's rules (owner, sid, seq, block size,
// base64, the sink's offset) without a server.
#include "agent/ibb.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <string>

namespace {

using agent::IbbReceiver;
using agent::IbbReply;

class VecSink : public agent::ByteSink {
 public:
  hal::Err write(uint64_t offset, const uint8_t* data, size_t len) override {
    if (offset != bytes.size()) return hal::Err::InvalidArgument;
    if (bytes.size() + len > limit) return hal::Err::NoSpace;
    bytes.append(reinterpret_cast<const char*>(data), len);
    return hal::Err::Ok;
  }
  uint64_t received() const override { return bytes.size(); }
  std::string bytes;
  size_t limit = 1 << 20;
};

constexpr const char* kOwner = "admin@localhost/xiotctl-1";

class IbbTest : public ::testing::Test {
 protected:
  IbbReply data(const char* seq, const char* b64, const char* from = kOwner, const char* sid = "s1") {
    std::snprintf(rx_.text_buffer(), IbbReceiver::kTextCap, "%s", b64);
    return rx_.on_data(from, sid, seq, std::strlen(b64));
  }
  IbbReceiver rx_;
  VecSink sink_;
};

TEST_F(IbbTest, InOrderBlocksReachTheSink) {
  rx_.arm(kOwner, "s1", &sink_);
  ASSERT_EQ(rx_.on_open(kOwner, "s1", "4096", nullptr), IbbReply::Ok);
  EXPECT_EQ(data("0", "aGVsbG8g"), IbbReply::Ok);
  EXPECT_EQ(data("1", "d29ybGQ="), IbbReply::Ok);
  EXPECT_EQ(rx_.on_close(kOwner, "s1"), IbbReply::Ok);
  EXPECT_EQ(sink_.bytes, "hello world");
  EXPECT_EQ(rx_.blocks(), 2u);
}

TEST_F(IbbTest, TheSendersCloseIsRememberedUntilTheNextOpenOrArm) {
  rx_.arm(kOwner, "s1", &sink_);
  EXPECT_FALSE(rx_.closed_by_sender());
  ASSERT_EQ(rx_.on_open(kOwner, "s1", "4096", nullptr), IbbReply::Ok);
  EXPECT_EQ(rx_.on_close("mallory@localhost/x", "s1"), IbbReply::NotAcceptable);
  EXPECT_FALSE(rx_.closed_by_sender());  // only the owner's close counts
  EXPECT_EQ(rx_.on_close(kOwner, "s1"), IbbReply::Ok);
  EXPECT_TRUE(rx_.closed_by_sender());
  ASSERT_EQ(rx_.on_open(kOwner, "s1", "4096", nullptr), IbbReply::Ok);  // a resumed stream
  EXPECT_FALSE(rx_.closed_by_sender());
  EXPECT_EQ(rx_.on_close(kOwner, "s1"), IbbReply::Ok);
  rx_.arm(kOwner, "s2", &sink_);
  EXPECT_FALSE(rx_.closed_by_sender());
}

TEST_F(IbbTest, OnlyTheArmedStreamFromTheOwner) {
  EXPECT_EQ(rx_.on_open(kOwner, "s1", "4096", nullptr), IbbReply::ItemNotFound);  // not armed
  rx_.arm(kOwner, "s1", &sink_);
  EXPECT_EQ(rx_.on_open(kOwner, "other", "4096", nullptr), IbbReply::ItemNotFound);
  EXPECT_EQ(rx_.on_open("mallory@localhost/x", "s1", "4096", nullptr), IbbReply::NotAcceptable);
  EXPECT_EQ(rx_.on_open("admin@localhost/other-resource", "s1", "4096", nullptr), IbbReply::NotAcceptable);
  EXPECT_EQ(rx_.on_open(kOwner, nullptr, "4096", nullptr), IbbReply::BadRequest);
  EXPECT_EQ(data("0", "aGVsbG8g"), IbbReply::ItemNotFound);  // not open yet
  ASSERT_EQ(rx_.on_open(kOwner, "s1", "4096", nullptr), IbbReply::Ok);
  EXPECT_EQ(data("0", "aGVsbG8g", "mallory@localhost/x"), IbbReply::NotAcceptable);
  EXPECT_TRUE(sink_.bytes.empty());
}

TEST_F(IbbTest, BlockSizeAndStanzaTransport) {
  rx_.arm(kOwner, "s1", &sink_);
  EXPECT_EQ(rx_.on_open(kOwner, "s1", "65536", nullptr), IbbReply::BadRequest);
  EXPECT_EQ(rx_.on_open(kOwner, "s1", "0", nullptr), IbbReply::BadRequest);
  EXPECT_EQ(rx_.on_open(kOwner, "s1", "x", nullptr), IbbReply::BadRequest);
  EXPECT_EQ(rx_.on_open(kOwner, "s1", "32768", nullptr), IbbReply::ResourceConstraint);
  EXPECT_EQ(rx_.on_open(kOwner, "s1", "4096", "message"), IbbReply::ResourceConstraint);
  ASSERT_EQ(rx_.on_open(kOwner, "s1", "4", "iq"), IbbReply::Ok);
  EXPECT_EQ(data("0", "aGVsbG8g"), IbbReply::BadRequest);  // 6 bytes > block-size 4
}

TEST_F(IbbTest, OutOfOrderSeqClosesTheStreamAndReopenContinuesAtTheOffset) {
  rx_.arm(kOwner, "s1", &sink_);
  ASSERT_EQ(rx_.on_open(kOwner, "s1", "4096", nullptr), IbbReply::Ok);
  ASSERT_EQ(data("0", "aGVsbG8g"), IbbReply::Ok);
  EXPECT_EQ(data("2", "d29ybGQ="), IbbReply::UnexpectedRequest);
  EXPECT_FALSE(rx_.open());
  EXPECT_EQ(data("1", "d29ybGQ="), IbbReply::ItemNotFound);
  // A new command re-arms (a new resource after the link came back); seq restarts at 0.
  rx_.arm("admin@localhost/xiotctl-2", "s2", &sink_);
  ASSERT_EQ(rx_.on_open("admin@localhost/xiotctl-2", "s2", "4096", nullptr), IbbReply::Ok);
  EXPECT_EQ(data("0", "d29ybGQ=", "admin@localhost/xiotctl-2", "s2"), IbbReply::Ok);
  EXPECT_EQ(sink_.bytes, "hello world");
}

TEST_F(IbbTest, BadBase64AndOverflowAreRefused) {
  rx_.arm(kOwner, "s1", &sink_);
  ASSERT_EQ(rx_.on_open(kOwner, "s1", "4096", nullptr), IbbReply::Ok);
  EXPECT_EQ(data("0", "!!!"), IbbReply::BadRequest);
  EXPECT_EQ(data("0", "bad seq"), IbbReply::BadRequest);
  EXPECT_EQ(rx_.on_data(kOwner, "s1", "0", IbbReceiver::kTextCap), IbbReply::BadRequest);  // text too long
  sink_.limit = 3;
  EXPECT_EQ(data("0", "aGVsbG8g"), IbbReply::NotAcceptable);
  EXPECT_STREQ(rx_.error(), "more bytes than the manifest's size");
  EXPECT_STREQ(agent::ibb_condition(IbbReply::UnexpectedRequest), "unexpected-request");
}

}  // namespace

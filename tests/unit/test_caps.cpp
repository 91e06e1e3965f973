// agent/caps: XEP-0115 §5.1 ver computation.
#include "agent/caps.hpp"

#include <gtest/gtest.h>
#include <mbedtls/base64.h>
#include <mbedtls/sha1.h>

#include <cstring>
#include <string>

namespace {

const char* kSimpleFeatures[] = {"http://jabber.org/protocol/disco#info", "http://jabber.org/protocol/disco#items",
                                 "http://jabber.org/protocol/muc", "http://jabber.org/protocol/caps"};

TEST(Caps, Xep0115SimpleExample) {
  // XEP-0115 §5.2: S = "client/pc//Exodus 0.9.1<http://jabber.org/protocol/caps<
  // http://jabber.org/protocol/disco#info<http://jabber.org/protocol/disco#items<
  // http://jabber.org/protocol/muc<"
  const agent::Identity id{"client", "pc", "", "Exodus 0.9.1"};
  char ver[29];
  const hal::Result<size_t> r = agent::caps_ver(ver, sizeof ver, &id, 1, kSimpleFeatures, 4);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.value(), 28u);
  EXPECT_STREQ(ver, "QgayPKawpkPSDYmwT/WM94uAlu0=");
}

TEST(Caps, OrderAndDuplicatesDoNotMatter) {
  const char* shuffled[] = {"http://jabber.org/protocol/muc", "http://jabber.org/protocol/caps",
                            "http://jabber.org/protocol/disco#items", "http://jabber.org/protocol/muc",
                            "http://jabber.org/protocol/disco#info"};
  const agent::Identity ids[] = {{"client", "pc", nullptr, "Exodus 0.9.1"}, {"client", "pc", "", "Exodus 0.9.1"}};
  char ver[29];
  ASSERT_TRUE(agent::caps_ver(ver, sizeof ver, ids, 2, shuffled, 5).ok());
  EXPECT_STREQ(ver, "QgayPKawpkPSDYmwT/WM94uAlu0=");
}

TEST(Caps, IdentitiesSortByCategoryTypeLangName) {
  const agent::Identity ids[] = {{"client", "pc", "en", "Psi 0.11"},
                                 {"client", "bot", "", "xiot"},
                                 {"client", "pc", "el", "\xCE\xA8 0.11"},
                                 {"automation", "command-node", "", ""}};
  const char* features[] = {"urn:xmpp:ping", "jabber:iq:version"};
  const std::string s =
      "automation/command-node//<client/bot//xiot<client/pc/el/\xCE\xA8 0.11<client/pc/en/Psi 0.11<"
      "jabber:iq:version<urn:xmpp:ping<";
  unsigned char digest[20];
  ASSERT_EQ(mbedtls_sha1_ret(reinterpret_cast<const unsigned char*>(s.data()), s.size(), digest), 0);
  unsigned char expected[29];
  size_t olen = 0;
  ASSERT_EQ(mbedtls_base64_encode(expected, sizeof expected, &olen, digest, sizeof digest), 0);
  char ver[29];
  ASSERT_TRUE(agent::caps_ver(ver, sizeof ver, ids, 4, features, 2).ok());
  EXPECT_STREQ(ver, reinterpret_cast<const char*>(expected));
}

TEST(Caps, Errors) {
  const agent::Identity id{"client", "bot", "", "xiot"};
  char small[28];
  EXPECT_EQ(agent::caps_ver(small, sizeof small, &id, 1, kSimpleFeatures, 4).error(), hal::Err::Overflow);
  char ver[29];
  EXPECT_EQ(agent::caps_ver(ver, sizeof ver, nullptr, 0, kSimpleFeatures, 4).error(), hal::Err::InvalidArgument);
  EXPECT_EQ(agent::caps_ver(ver, sizeof ver, &id, 1, nullptr, 3).error(), hal::Err::InvalidArgument);
  const agent::Identity bad{nullptr, "bot", "", ""};
  EXPECT_EQ(agent::caps_ver(ver, sizeof ver, &bad, 1, nullptr, 0).error(), hal::Err::InvalidArgument);
  const char* null_feature[] = {"a", nullptr};
  EXPECT_EQ(agent::caps_ver(ver, sizeof ver, &id, 1, null_feature, 2).error(), hal::Err::InvalidArgument);
  EXPECT_TRUE(agent::caps_ver(ver, sizeof ver, &id, 1, nullptr, 0).ok());
}

}  // namespace

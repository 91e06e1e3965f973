// fleet/ca (xiotctl ca init|sign): the CA certificate, the issued device
// certificate's extensions (the SAN not first, EKU server+client), refusals.
#include "fleet/ca.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <string>

#include "agent/identity.hpp"
#include "fleet/error.hpp"

namespace {

constexpr int64_t kNow = 1800000000;  // 2027-01-15

std::string temp_dir() {
  std::string t = ::testing::TempDir() + "ca_test_XXXXXX";
  return mkdtemp(&t[0]);
}

std::string csr_for(const std::string& jid, std::string* key = nullptr) {
  std::string k, csr, error;
  EXPECT_EQ(agent::identity::generate_key(&k), hal::Err::Ok);
  EXPECT_EQ(agent::identity::make_csr(k, jid, &csr, &error), hal::Err::Ok) << error;
  if (key != nullptr) *key = k;
  return csr;
}

TEST(Ca, InitWritesAKeyOnlyTheOwnerReadsAndACaCertificate) {
  const std::string dir = temp_dir() + "/ca";
  fleet::ca::init(dir, 30, kNow);
  struct stat st;
  ASSERT_EQ(::stat((dir + "/ca.key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  agent::identity::CertInfo info;
  std::string error;
  ASSERT_EQ(agent::identity::read_cert(fleet::ca::read_file(dir + "/ca.crt"), &info, &error), hal::Err::Ok);
  EXPECT_TRUE(info.ca);
  EXPECT_EQ(info.subject, "CN=xiot fleet CA");
  EXPECT_EQ(info.not_after, kNow + 30 * 86400);
  // A second init never replaces the key.
  EXPECT_THROW(fleet::ca::init(dir, 30, kNow), fleet::Error);
}

TEST(Ca, SignCopiesTheXmppAddrAndSetsTheValidity) {
  const std::string dir = temp_dir();
  fleet::ca::init(dir, 3650, kNow);
  std::string key;
  const std::string csr = csr_for("dev3@localhost", &key);
  const fleet::ca::Issued cert = fleet::ca::sign(dir, csr, 90, kNow);
  EXPECT_EQ(cert.jid, "dev3@localhost");
  agent::identity::CertInfo info;
  std::string error;
  ASSERT_EQ(agent::identity::read_cert(cert.cert_pem, &info, &error), hal::Err::Ok);
  EXPECT_EQ(info.jid, "dev3@localhost");
  EXPECT_EQ(info.subject, "CN=dev3@localhost");
  EXPECT_EQ(info.issuer, "CN=xiot fleet CA");
  EXPECT_FALSE(info.ca);
  EXPECT_EQ(info.not_before, kNow);
  EXPECT_EQ(info.not_after, kNow + 90 * 86400);
  std::string pub;
  ASSERT_EQ(agent::identity::public_key_der(key, &pub), hal::Err::Ok);
  EXPECT_EQ(info.pubkey_der, pub);
  // Serials are random.
  EXPECT_NE(fleet::ca::sign(dir, csr, 90, kNow).serial, cert.serial);
}

TEST(Ca, SubjectAltNameIsNotTheFirstExtensionAndEkuHasBoth) {
  if (std::system("openssl version >/dev/null 2>&1") != 0) GTEST_SKIP() << "no openssl CLI";
  const std::string dir = temp_dir();
  // openssl verify checks against the wall clock.
  const int64_t now = static_cast<int64_t>(std::time(nullptr));
  fleet::ca::init(dir, 3650, now);
  fleet::ca::write_file(dir + "/d.crt", fleet::ca::sign(dir, csr_for("dev4@localhost"), 90, now).cert_pem, 0644);
  const std::string cmd = "openssl x509 -in " + dir + "/d.crt -noout -text";
  FILE* p = popen(cmd.c_str(), "r");
  ASSERT_NE(p, nullptr);
  std::string text;
  char buf[512];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) text.append(buf, n);
  pclose(p);
  const size_t exts = text.find("X509v3 extensions:");
  const size_t bc = text.find("X509v3 Basic Constraints");
  const size_t san = text.find("X509v3 Subject Alternative Name");
  ASSERT_NE(exts, std::string::npos);
  ASSERT_NE(san, std::string::npos);
  EXPECT_LT(bc, san);
  EXPECT_NE(text.find("TLS Web Server Authentication, TLS Web Client Authentication"), std::string::npos) << text;
  EXPECT_NE(text.find("XmppAddr::dev4@localhost"), std::string::npos) << text;
  EXPECT_EQ(std::system(("openssl verify -CAfile " + dir + "/ca.crt " + dir + "/d.crt >/dev/null").c_str()), 0);
}

TEST(Ca, RefusesBadCsrsAndAnotherJid) {
  const std::string dir = temp_dir();
  fleet::ca::init(dir, 3650, kNow);
  EXPECT_THROW(fleet::ca::sign(dir, "garbage", 90, kNow), fleet::Error);
  const std::string csr = csr_for("dev5@localhost");
  try {
    fleet::ca::sign(dir, csr, 90, kNow, "dev6@localhost");
    FAIL() << "signed a CSR for another JID";
  } catch (const fleet::Error& e) {
    EXPECT_EQ(e.code(), fleet::Exit::Usage);
    EXPECT_NE(std::string(e.what()).find("dev5@localhost"), std::string::npos);
  }
  EXPECT_THROW(fleet::ca::sign(temp_dir(), csr, 90, kNow), fleet::Error);  // no CA there
  EXPECT_THROW(fleet::ca::sign(dir, csr, 0, kNow), fleet::Error);
}

}  // namespace

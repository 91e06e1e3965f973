// agent/identity.hpp: the device key, the CSR with its xmppAddr SAN and what
// the agent reads back from a certificate. The openssl CLI cross-checks the
// encoding where it is on PATH.
#include "agent/identity.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <string>

namespace {

using agent::identity::CsrInfo;

std::string run(const std::string& cmd) {
  std::string out;
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return out;
  char buf[512];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  pclose(p);
  return out;
}

bool have_openssl() { return std::system("openssl version >/dev/null 2>&1") == 0; }

TEST(Identity, XmppAddrSanIsTheRfc6120Encoding) {
  std::string der;
  ASSERT_EQ(agent::identity::xmpp_addr_san("a@b", &der), hal::Err::Ok);
  // SEQUENCE { [0] { OID 1.3.6.1.5.5.7.8.5, [0] { UTF8String "a@b" } } }
  const unsigned char expected[] = {0x30, 0x13, 0xA0, 0x11, 0x06, 0x08, 0x2B, 0x06, 0x01, 0x05, 0x05,
                                    0x07, 0x08, 0x05, 0xA0, 0x05, 0x0C, 0x03, 'a',  '@',  'b'};
  ASSERT_EQ(der, std::string(reinterpret_cast<const char*>(expected), sizeof expected));
  std::string jid;
  ASSERT_EQ(agent::identity::xmpp_addr_from_san(reinterpret_cast<const unsigned char*>(der.data()), der.size(), &jid),
            hal::Err::Ok);
  EXPECT_EQ(jid, "a@b");
}

TEST(Identity, LongJidUsesLongFormLengths) {
  const std::string long_jid = std::string(300, 'x') + "@example.org";
  std::string der, jid;
  ASSERT_EQ(agent::identity::xmpp_addr_san(long_jid, &der), hal::Err::Ok);
  ASSERT_EQ(agent::identity::xmpp_addr_from_san(reinterpret_cast<const unsigned char*>(der.data()), der.size(), &jid),
            hal::Err::Ok);
  EXPECT_EQ(jid, long_jid);
  EXPECT_EQ(agent::identity::xmpp_addr_san("", &der), hal::Err::InvalidArgument);
}

TEST(Identity, SanWithoutXmppAddrIsNotFoundAndTruncatedIsCorrupt) {
  // SEQUENCE { [2] dNSName "h" }
  const unsigned char dns[] = {0x30, 0x03, 0x82, 0x01, 'h'};
  std::string jid;
  EXPECT_EQ(agent::identity::xmpp_addr_from_san(dns, sizeof dns, &jid), hal::Err::NotFound);
  std::string der;
  ASSERT_EQ(agent::identity::xmpp_addr_san("a@b", &der), hal::Err::Ok);
  EXPECT_EQ(agent::identity::xmpp_addr_from_san(reinterpret_cast<const unsigned char*>(der.data()), der.size() - 2,
                                                &jid),
            hal::Err::Corrupt);
}

TEST(Identity, KeyAndCsrRoundTrip) {
  std::string key;
  ASSERT_EQ(agent::identity::generate_key(&key), hal::Err::Ok);
  EXPECT_NE(key.find("-----BEGIN EC PRIVATE KEY-----"), std::string::npos);
  std::string csr, error;
  ASSERT_EQ(agent::identity::make_csr(key, "dev1@localhost", &csr, &error), hal::Err::Ok) << error;
  EXPECT_NE(csr.find("-----BEGIN CERTIFICATE REQUEST-----"), std::string::npos);
  CsrInfo info;
  ASSERT_EQ(agent::identity::read_csr(csr, &info, &error), hal::Err::Ok) << error;
  EXPECT_EQ(info.subject, "CN=dev1@localhost");
  EXPECT_EQ(info.jid, "dev1@localhost");
  std::string pub;
  ASSERT_EQ(agent::identity::public_key_der(key, &pub), hal::Err::Ok);
  EXPECT_EQ(info.pubkey_der, pub);
  const std::string fp = agent::identity::fingerprint(pub);
  EXPECT_EQ(fp.size(), 7u + 64u);
  EXPECT_EQ(fp.rfind("sha256:", 0), 0u);
  // Two keys differ.
  std::string key2;
  ASSERT_EQ(agent::identity::generate_key(&key2), hal::Err::Ok);
  EXPECT_NE(key, key2);
}

TEST(Identity, TamperedCsrIsRefused) {
  std::string key, csr, error;
  ASSERT_EQ(agent::identity::generate_key(&key), hal::Err::Ok);
  ASSERT_EQ(agent::identity::make_csr(key, "dev1@localhost", &csr, &error), hal::Err::Ok);
  CsrInfo info;
  EXPECT_EQ(agent::identity::read_csr("not a csr", &info, &error), hal::Err::InvalidArgument);
  // Flip one base64 character in the body (inside the signed part).
  std::string bad = csr;
  const size_t at = bad.find('\n') + 40;
  bad[at] = bad[at] == 'A' ? 'B' : 'A';
  EXPECT_EQ(agent::identity::read_csr(bad, &info, &error), hal::Err::InvalidArgument);
  EXPECT_FALSE(error.empty());
  EXPECT_EQ(agent::identity::make_csr("garbage", "dev1@localhost", &bad, &error), hal::Err::InvalidArgument);
}

TEST(Identity, OpensslReadsTheCsrsXmppAddr) {
  if (!have_openssl()) GTEST_SKIP() << "no openssl CLI";
  std::string key, csr, error;
  ASSERT_EQ(agent::identity::generate_key(&key), hal::Err::Ok);
  ASSERT_EQ(agent::identity::make_csr(key, "dev7@localhost", &csr, &error), hal::Err::Ok);
  const std::string path = ::testing::TempDir() + "identity_test.csr";
  std::ofstream(path) << csr;
  const std::string text = run("openssl req -in " + path + " -noout -text -verify 2>&1");
  EXPECT_NE(text.find("verify OK"), std::string::npos) << text;
  EXPECT_NE(text.find("CN = dev7@localhost"), std::string::npos) << text;
  // OpenSSL names id-on-xmppAddr "XmppAddr".
  EXPECT_NE(text.find("XmppAddr::dev7@localhost"), std::string::npos) << text;
  std::remove(path.c_str());
}

TEST(Identity, ReadsAnOpensslCertificate) {
  if (!have_openssl()) GTEST_SKIP() << "no openssl CLI";
  const std::string dir = ::testing::TempDir();
  const std::string cmd = "cd " + dir +
                          " && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout id_t.key "
                          "-out id_t.crt -subj /CN=dev9@localhost -days 10 "
                          "-addext basicConstraints=CA:false "
                          "-addext subjectAltName=otherName:1.3.6.1.5.5.7.8.5\\;UTF8:dev9@localhost 2>&1";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  std::ifstream in(dir + "id_t.crt");
  const std::string pem((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  agent::identity::CertInfo info;
  std::string error;
  ASSERT_EQ(agent::identity::read_cert(pem, &info, &error), hal::Err::Ok) << error;
  EXPECT_EQ(info.jid, "dev9@localhost");
  EXPECT_EQ(info.subject, "CN=dev9@localhost");
  EXPECT_FALSE(info.ca);
  const int64_t span = info.not_after - info.not_before;
  EXPECT_EQ(span, 10 * 86400);
  EXPECT_EQ(agent::identity::days_left(info.not_after, info.not_before), 10);
  std::remove((dir + "id_t.key").c_str());
  std::remove((dir + "id_t.crt").c_str());
}

TEST(Identity, CalendarArithmetic) {
  EXPECT_EQ(agent::identity::unix_time(1970, 1, 1, 0, 0, 0), 0);
  EXPECT_EQ(agent::identity::unix_time(2000, 3, 1, 0, 0, 0), 951868800);
  EXPECT_EQ(agent::identity::unix_time(2038, 1, 19, 3, 14, 8), 2147483648LL);
  EXPECT_EQ(agent::identity::iso8601(951868800), "2000-03-01T00:00:00Z");
  EXPECT_EQ(agent::identity::iso8601(2147483648LL), "2038-01-19T03:14:08Z");
  EXPECT_EQ(agent::identity::days_left(86400 * 3, 0), 3);
  EXPECT_EQ(agent::identity::days_left(86400 * 3 - 1, 0), 2);
  EXPECT_EQ(agent::identity::days_left(0, 1), -1);
}

}  // namespace

// Signed update manifests end to end without a server: xiotctl's signer
// (fleet/client firmware.cpp) against the device's checks
// (agent/core update_manifest.cpp), and every way a manifest is refused.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "agent/update_manifest.hpp"
#include "fleet/error.hpp"
#include "fleet/firmware.hpp"

namespace {

std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

void write_all(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
}

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
  return s;
}

class FirmwareTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/xiot-fw-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    fleet::firmware_keygen(dir_ + "/keys");
    fleet::firmware_keygen(dir_ + "/other");
    write_all(dir_ + "/image.bin", std::string(10000, 'x') + "image");
    std::string error;
    ASSERT_TRUE(keys_.add_pem(read_all(dir_ + "/keys/update-key.pub.pem").c_str(), "key", &error)) << error;
  }
  void TearDown() override { std::system(("rm -rf " + dir_).c_str()); }

  fleet::SignRequest request(const std::string& version = "1.1.0") {
    fleet::SignRequest r;
    r.key_file = dir_ + "/keys/update-key.pem";
    r.version = version;
    r.compatible = "xiot,sim";
    r.image = dir_ + "/image.bin";
    r.out_dir = dir_ + "/out";
    r.notes = "fixes \"things\"";
    return r;
  }

  /// Signs `r`, then checks the written files against `policy`.
  agent::Refusal sign_and_check(const fleet::SignRequest& r, agent::Manifest* m = nullptr) {
    fleet::firmware_sign(r);
    return check(read_all(dir_ + "/out/manifest.json"), trim(read_all(dir_ + "/out/manifest.sig")), m);
  }

  agent::Refusal check(const std::string& manifest, const std::string& sig_b64, agent::Manifest* m = nullptr) {
    const std::string m64 = fleet::base64(manifest);
    return agent::check_update(m64.c_str(), sig_b64.c_str(), keys_, policy_, m, nullptr, &why_);
  }

  std::string dir_;
  agent::TrustedKeys keys_;
  agent::UpdatePolicy policy_{"xiot,sim", "1.0.0", "", 1 << 20};
  std::string why_;
};

TEST(Version, ParsesAndCompares) {
  agent::Version a;
  agent::Version b;
  ASSERT_EQ(agent::parse_version("1.2", &a), nullptr);
  ASSERT_EQ(agent::parse_version("1.2.0", &b), nullptr);
  EXPECT_EQ(agent::compare_versions(a, b), 0);
  ASSERT_EQ(agent::parse_version("1.10", &b), nullptr);
  EXPECT_LT(agent::compare_versions(a, b), 0);  // numeric, not text
  ASSERT_EQ(agent::parse_version("2026.12.6.1", &b), nullptr);
  EXPECT_GT(agent::compare_versions(b, a), 0);
  EXPECT_NE(agent::parse_version("", &a), nullptr);
  EXPECT_NE(agent::parse_version("1..2", &a), nullptr);
  EXPECT_NE(agent::parse_version("1.2.", &a), nullptr);
  EXPECT_NE(agent::parse_version("v1.2", &a), nullptr);
  EXPECT_NE(agent::parse_version("1.2-rc1", &a), nullptr);
  EXPECT_NE(agent::parse_version("1.2.3.4.5", &a), nullptr);
  EXPECT_NE(agent::parse_version("1234567890", &a), nullptr);
}

TEST(Base64, RejectsGarbageAndWhitespace) {
  uint8_t out[16];
  EXPECT_FALSE(agent::base64_decode("!!!!", 4, out, sizeof out).ok());
  EXPECT_FALSE(agent::base64_decode("YW Jj", 5, out, sizeof out).ok());
  EXPECT_EQ(agent::base64_decode("YWJjZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXo=", 36, out, sizeof out).error(),
            hal::Err::Overflow);
  const hal::Result<size_t> n = agent::base64_decode("YWJj", 4, out, sizeof out);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(std::string(reinterpret_cast<char*>(out), n.value()), "abc");
}

TEST_F(FirmwareTest, KeygenWritesPrivateKey0600AndNeverOverwrites) {
  struct stat st {};
  ASSERT_EQ(::stat((dir_ + "/keys/update-key.pem").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_THROW(fleet::firmware_keygen(dir_ + "/keys"), fleet::Error);
}

TEST_F(FirmwareTest, SignedManifestIsAccepted) {
  agent::Manifest m;
  ASSERT_EQ(sign_and_check(request(), &m), agent::Refusal::None) << why_;
  EXPECT_STREQ(m.version, "1.1.0");
  EXPECT_STREQ(m.compatible, "xiot,sim");
  EXPECT_EQ(m.size, 10005u);
  EXPECT_EQ(m.notes, "fixes \"things\"");
  uint64_t size = 0;
  const std::string hex = fleet::file_sha256_hex(dir_ + "/image.bin", &size);
  char got[65];
  agent::sha256_hex(m.sha256, got);
  EXPECT_EQ(hex, got);
}

TEST_F(FirmwareTest, AnyTrustedKeySuffices) {
  std::string error;
  agent::TrustedKeys two;
  ASSERT_TRUE(two.add_pem(read_all(dir_ + "/other/update-key.pub.pem").c_str(), "other", &error));
  ASSERT_TRUE(two.add_pem(read_all(dir_ + "/keys/update-key.pub.pem").c_str(), "key", &error));
  fleet::firmware_sign(request());
  const std::string m = read_all(dir_ + "/out/manifest.json");
  const std::string sig = trim(read_all(dir_ + "/out/manifest.sig"));
  const std::string m64 = fleet::base64(m);
  EXPECT_EQ(agent::check_update(m64.c_str(), sig.c_str(), two, policy_, nullptr, nullptr, &why_), agent::Refusal::None)
      << why_;
}

TEST_F(FirmwareTest, TamperedManifestIsRefused) {
  fleet::firmware_sign(request());
  std::string m = read_all(dir_ + "/out/manifest.json");
  const std::string sig = trim(read_all(dir_ + "/out/manifest.sig"));
  m.replace(m.find("1.1.0"), 5, "9.1.0");
  EXPECT_EQ(check(m, sig), agent::Refusal::BadSignature);
  EXPECT_NE(why_.find("signature: not made by any of the 1 trusted"), std::string::npos) << why_;
  // One trailing byte more is another message too.
  EXPECT_EQ(check(read_all(dir_ + "/out/manifest.json") + " ", sig), agent::Refusal::BadSignature);
}

TEST_F(FirmwareTest, WrongKeyIsRefused) {
  fleet::SignRequest r = request();
  r.key_file = dir_ + "/other/update-key.pem";
  EXPECT_EQ(sign_and_check(r), agent::Refusal::BadSignature);
}

TEST_F(FirmwareTest, WrongBoardIsRefused) {
  fleet::SignRequest r = request();
  r.compatible = "xiot,raspberrypi-4b";
  EXPECT_EQ(sign_and_check(r), agent::Refusal::WrongBoard);
  EXPECT_EQ(why_, "compatible: manifest is for \"xiot,raspberrypi-4b\", this board is \"xiot,sim\"");
}

TEST_F(FirmwareTest, DowngradeAndSameVersionAreRefused) {
  EXPECT_EQ(sign_and_check(request("0.9")), agent::Refusal::Downgrade);
  EXPECT_EQ(why_, "version: 0.9 is not newer than the installed 1.0.0");
  EXPECT_EQ(sign_and_check(request("1.0")), agent::Refusal::Downgrade);
  // Below the persisted floor even when newer than what runs (after a rollback).
  policy_.floor_version = "1.5";
  EXPECT_EQ(sign_and_check(request("1.4")), agent::Refusal::Downgrade);
  EXPECT_EQ(why_, "version: 1.4 is below this device's version floor 1.5");
  EXPECT_EQ(sign_and_check(request("1.5")), agent::Refusal::None) << why_;
}

TEST_F(FirmwareTest, MinVersionIsEnforced) {
  fleet::SignRequest r = request("2.0");
  r.min_version = "1.2";
  EXPECT_EQ(sign_and_check(r), agent::Refusal::MinVersion);
  EXPECT_EQ(why_, "min_version: the installed 1.0.0 is below the required 1.2");
  policy_.installed_version = "1.2.0";
  EXPECT_EQ(sign_and_check(r), agent::Refusal::None) << why_;
}

TEST_F(FirmwareTest, SizeLimitIsEnforced) {
  policy_.max_size = 10000;
  EXPECT_EQ(sign_and_check(request()), agent::Refusal::TooLarge);
  EXPECT_EQ(why_, "size: 10005 bytes is above update.max_image_bytes 10000");
}

TEST_F(FirmwareTest, MalformedInputsNameTheField) {
  fleet::firmware_sign(request());
  const std::string sig = trim(read_all(dir_ + "/out/manifest.sig"));
  EXPECT_EQ(agent::check_update("not base64!", sig.c_str(), keys_, policy_, nullptr, nullptr, &why_),
            agent::Refusal::Malformed);
  EXPECT_EQ(why_, "manifest: not valid base64");
  const std::string m64 = fleet::base64(read_all(dir_ + "/out/manifest.json"));
  EXPECT_EQ(agent::check_update(m64.c_str(), "%%%", keys_, policy_, nullptr, nullptr, &why_), agent::Refusal::Malformed);
  EXPECT_EQ(why_, "signature: not valid base64 of a DER ECDSA signature");
  EXPECT_EQ(agent::check_update(m64.c_str(), "", keys_, policy_, nullptr, nullptr, &why_), agent::Refusal::Malformed);

  // Signed but malformed JSON / fields: the parser's message names the field.
  const std::string key = dir_ + "/keys/update-key.pem";
  auto signed_check = [&](const std::string& manifest) {
    return check(manifest, fleet::firmware_signature_b64(key, manifest));
  };
  EXPECT_EQ(signed_check("{\"version\":\"1.2\","), agent::Refusal::Malformed);
  EXPECT_EQ(why_, "manifest:1:18: malformed JSON at end of file");
  EXPECT_EQ(signed_check("{\"version\":\"1.2\",\"compatible\":\"xiot,sim\",\"size\":5,\"sha256\":\"abc\"}"),
            agent::Refusal::Malformed);
  EXPECT_EQ(why_, "manifest: sha256: expected 64 hex digits (the image's SHA-256), got \"abc\"");
  EXPECT_EQ(signed_check("{\"version\":\"1.x\",\"compatible\":\"xiot,sim\",\"size\":5,\"sha256\":\"" +
                         std::string(64, 'a') + "\"}"),
            agent::Refusal::Malformed);
  EXPECT_NE(why_.find("manifest: version: expected a dotted version"), std::string::npos) << why_;
  EXPECT_EQ(signed_check("{\"version\":\"1.2\",\"compatible\":\"xiot,sim\",\"sha256\":\"" + std::string(64, 'a') +
                         "\"}"),
            agent::Refusal::Malformed);
  EXPECT_NE(why_.find("manifest: size: missing"), std::string::npos) << why_;
  EXPECT_EQ(signed_check("{\"version\":\"1.2\",\"compatible\":\"xiot,sim\",\"size\":5,\"sha256\":\"" +
                         std::string(64, 'a') + "\",\"extra\":1}"),
            agent::Refusal::Malformed);
  EXPECT_NE(why_.find("manifest: extra: unknown key"), std::string::npos) << why_;
}

TEST_F(FirmwareTest, KeysMustBeP256PublicKeys) {
  agent::TrustedKeys k;
  std::string error;
  EXPECT_FALSE(k.add_pem("hello", "k.pem", &error));
  EXPECT_EQ(error, "k.pem: not a PEM public key (expected \"-----BEGIN PUBLIC KEY-----\")");
  EXPECT_EQ(k.size(), 0u);
}

TEST_F(FirmwareTest, SignRejectsBadArguments) {
  fleet::SignRequest r = request("1.x");
  EXPECT_THROW(fleet::firmware_sign(r), fleet::Error);
  r = request();
  r.compatible = "has space";
  EXPECT_THROW(fleet::firmware_sign(r), fleet::Error);
  r = request();
  r.key_file = dir_ + "/keys/update-key.pub.pem";
  EXPECT_THROW(fleet::firmware_sign(r), fleet::Error);
}

}  // namespace

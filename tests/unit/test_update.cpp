// agent/update: the update state machine and its staging sink, on an
// in-memory storage, the sim segment store, a fake installer and a manual
// clock. Manifests are signed here with mbedTLS (the device side only
// verifies; xiotctl's signer is tested in tests/fleet/firmware_test.cpp).
#include "agent/update.hpp"

#include <gtest/gtest.h>
#include <mbedtls/base64.h>
#include <mbedtls/ctr_drbg.h>
#include <mbedtls/ecp.h>
#include <mbedtls/entropy.h>
#include <mbedtls/pk.h>
#include <mbedtls/sha256.h>

#include <cstring>
#include <map>
#include <string>

#include "fakes.hpp"
#include "hal/sim/sim_segment_store.hpp"

namespace {

using agent::UpdateManager;
using agent::UpdateState;

class MemStorage : public hal::Storage {
 public:
  hal::Result<size_t> read(const char* key, uint8_t* buf, size_t cap) override {
    auto it = blobs.find(key);
    if (it == blobs.end()) return hal::Err::NotFound;
    if (it->second.size() > cap) return hal::Err::Overflow;
    std::memcpy(buf, it->second.data(), it->second.size());
    return it->second.size();
  }
  hal::Err replace(const char* key, const uint8_t* data, size_t len) override {
    if (fail_writes) return hal::Err::Io;
    blobs[key] = std::string(reinterpret_cast<const char*>(data), len);
    return hal::Err::Ok;
  }
  hal::Err remove(const char* key) override {
    blobs.erase(key);
    return hal::Err::Ok;
  }
  /// The persisted state name ("" when none).
  std::string state() const {
    auto it = blobs.find(agent::kUpdateStateKey);
    if (it == blobs.end()) return "";
    const size_t at = it->second.find("state=");
    return it->second.substr(at + 6, it->second.find('\n', at) - at - 6);
  }
  std::map<std::string, std::string> blobs;
  bool fail_writes = false;
};

/// Records what was persisted when each call arrived.
class FakeInstaller : public hal::Installer {
 public:
  explicit FakeInstaller(MemStorage& s) : storage(s) {}
  const char* name() const override { return "fake"; }
  hal::Err begin(const char* path) override {
    state_at_begin = storage.state();
    begun_path = path;
    ++begins;
    if (begin_result != hal::Err::Ok) return begin_result;
    running = true;
    return hal::Err::Ok;
  }
  hal::InstallProgress poll() override {
    hal::InstallProgress p;
    p.percent = percent;
    p.done = running && done;
    p.result = result;
    return p;
  }
  const char* error_text() const override { return text; }
  hal::Result<hal::BootStatus> boot_status() override {
    hal::BootStatus s;
    s.trial = trial;
    return s;
  }
  hal::Err mark_good() override {
    state_at_mark = storage.state();
    ++goods;
    trial = false;
    return hal::Err::Ok;
  }
  hal::Err mark_bad() override {
    state_at_mark = storage.state();
    ++bads;
    return hal::Err::Ok;
  }
  MemStorage& storage;
  hal::Err begin_result = hal::Err::Ok;
  bool running = false;
  bool done = false;
  uint8_t percent = 0;
  hal::Err result = hal::Err::Ok;
  const char* text = "";
  bool trial = false;
  int begins = 0, goods = 0, bads = 0;
  std::string state_at_begin, state_at_mark, begun_path;
};

/// An update key made with mbedTLS, and manifests signed with it.
class Signer {
 public:
  Signer() {
    mbedtls_entropy_init(&entropy_);
    mbedtls_ctr_drbg_init(&drbg_);
    mbedtls_pk_init(&pk_);
    mbedtls_ctr_drbg_seed(&drbg_, mbedtls_entropy_func, &entropy_, nullptr, 0);
    mbedtls_pk_setup(&pk_, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY));
    mbedtls_ecp_gen_key(MBEDTLS_ECP_DP_SECP256R1, mbedtls_pk_ec(pk_), mbedtls_ctr_drbg_random, &drbg_);
  }
  ~Signer() {
    mbedtls_pk_free(&pk_);
    mbedtls_ctr_drbg_free(&drbg_);
    mbedtls_entropy_free(&entropy_);
  }
  std::string public_pem() {
    unsigned char buf[512];
    mbedtls_pk_write_pubkey_pem(&pk_, buf, sizeof buf);
    return reinterpret_cast<char*>(buf);
  }
  std::string sign_b64(const std::string& data) {
    unsigned char hash[32];
    mbedtls_sha256_ret(reinterpret_cast<const unsigned char*>(data.data()), data.size(), hash, 0);
    unsigned char sig[MBEDTLS_PK_SIGNATURE_MAX_SIZE];
    size_t n = 0;
    mbedtls_pk_sign(&pk_, MBEDTLS_MD_SHA256, hash, 32, sig, &n, mbedtls_ctr_drbg_random, &drbg_);
    return b64(std::string(reinterpret_cast<char*>(sig), n));
  }
  static std::string b64(const std::string& data) {
    char out[8192];
    size_t n = 0;
    mbedtls_base64_encode(reinterpret_cast<unsigned char*>(out), sizeof out, &n,
                          reinterpret_cast<const unsigned char*>(data.data()), data.size());
    return std::string(out, n);
  }

 private:
  mbedtls_entropy_context entropy_;
  mbedtls_ctr_drbg_context drbg_;
  mbedtls_pk_context pk_;
};

std::string sha_hex(const std::string& data) {
  uint8_t d[32];
  mbedtls_sha256_ret(reinterpret_cast<const unsigned char*>(data.data()), data.size(), d, 0);
  char hex[65];
  agent::sha256_hex(d, hex);
  return hex;
}

class UpdateTest : public ::testing::Test {
 protected:
  UpdateTest() : installer_(storage_) {
    std::string error;
    EXPECT_TRUE(keys_.add_pem(signer_.public_pem().c_str(), "test key", &error)) << error;
    image_ = std::string(10000, 'i') + "end";
    options_.compatible = "xiot,sim";
    options_.health_window_ms = 60000;
    options_.max_size = 1 << 20;
    options_.image_path = "/staging/00000001.seg";
  }

  std::unique_ptr<UpdateManager> make(const char* installed = "1.0.0") {
    auto m = std::make_unique<UpdateManager>(storage_, staging_, installer_, keys_, clock_, options_);
    EXPECT_EQ(m->start(installed), hal::Err::Ok);
    return m;
  }

  UpdateManager::Offer offer(UpdateManager& m, const std::string& version, uint64_t* offset,
                             const std::string& image_sha = "") {
    manifest_ = "{\"version\":\"" + version + "\",\"compatible\":\"xiot,sim\",\"size\":" +
                std::to_string(image_.size()) + ",\"sha256\":\"" + (image_sha.empty() ? sha_hex(image_) : image_sha) +
                "\"}";
    const std::string m64 = Signer::b64(manifest_);
    const std::string sig = signer_.sign_b64(manifest_);
    return m.offer(m64.c_str(), sig.c_str(), offset, &why_);
  }

  void send(UpdateManager& m, uint64_t from, uint64_t to) {
    for (uint64_t at = from; at < to; at += 4096) {
      const size_t n = static_cast<size_t>(std::min<uint64_t>(4096, to - at));
      ASSERT_EQ(m.sink().write(at, reinterpret_cast<const uint8_t*>(image_.data()) + at, n), hal::Err::Ok);
    }
  }

  /// Offer, full transfer, install to done: pending-reboot.
  void install(UpdateManager& m, const std::string& version) {
    uint64_t offset = 99;
    ASSERT_EQ(offer(m, version, &offset), UpdateManager::Offer::Accepted) << why_;
    ASSERT_EQ(offset, 0u);
    send(m, 0, image_.size());
    m.tick(true, true);
    ASSERT_EQ(m.status().state, UpdateState::Installing) << m.status().error;
    installer_.done = true;
    m.tick(true, true);
    ASSERT_EQ(m.status().state, UpdateState::PendingReboot) << m.status().error;
  }

  MemStorage storage_;
  hal::sim::SimSegmentStore staging_;
  FakeInstaller installer_;
  xiot_test::FakeMonoClock clock_;
  Signer signer_;
  agent::TrustedKeys keys_;
  UpdateManager::Options options_;
  std::string image_;
  std::string manifest_;
  std::string why_;
};

TEST_F(UpdateTest, HappyPathPersistsEachStateBeforeActing) {
  auto m = make();
  EXPECT_EQ(m->status().state, UpdateState::Idle);
  EXPECT_FALSE(m->busy());
  install(*m, "1.1.0");
  EXPECT_EQ(installer_.state_at_begin, "installing");
  EXPECT_EQ(installer_.begun_path, "/staging/00000001.seg");
  EXPECT_TRUE(m->restart_requested());
  EXPECT_STREQ(m->restart_reason(), "firmware update to 1.1.0");
  EXPECT_EQ(storage_.state(), "pending-reboot");
  EXPECT_TRUE(m->busy());

  // The reboot: the installer booted the new slot on trial.
  installer_.trial = true;
  m = make("1.1.0");
  EXPECT_EQ(m->status().state, UpdateState::BootedUnconfirmed);
  m->tick(false, true);  // no session yet
  EXPECT_EQ(installer_.goods, 0);
  m->tick(true, true);
  EXPECT_EQ(m->status().state, UpdateState::Committed);
  EXPECT_EQ(installer_.goods, 1);
  EXPECT_EQ(installer_.state_at_mark, "committed");
  EXPECT_STREQ(m->floor_version(), "1.1.0");
  EXPECT_FALSE(m->busy());
}

TEST_F(UpdateTest, TamperedImageFailsAndInstallsNothing) {
  auto m = make();
  uint64_t offset = 0;
  ASSERT_EQ(offer(*m, "1.1.0", &offset, sha_hex("another image")), UpdateManager::Offer::Accepted) << why_;
  send(*m, 0, image_.size());
  m->tick(true, true);
  EXPECT_EQ(m->status().state, UpdateState::Failed);
  EXPECT_NE(std::string(m->status().error).find("sha256: the image does not match the manifest"), std::string::npos);
  EXPECT_EQ(installer_.begins, 0);
  EXPECT_EQ(storage_.state(), "failed");
  // A failed update does not block the next one.
  ASSERT_EQ(offer(*m, "1.1.0", &offset), UpdateManager::Offer::Accepted) << why_;
}

TEST_F(UpdateTest, TruncatedOrOverlongTransferIsRefusedByTheSink) {
  auto m = make();
  uint64_t offset = 0;
  ASSERT_EQ(offer(*m, "1.1.0", &offset), UpdateManager::Offer::Accepted);
  const uint8_t b[8] = {};
  EXPECT_EQ(m->sink().write(5, b, 8), hal::Err::InvalidArgument);  // out of order
  send(*m, 0, image_.size());
  EXPECT_EQ(m->sink().write(image_.size(), b, 8), hal::Err::NoSpace);  // beyond the manifest's size
}

TEST_F(UpdateTest, SecondUpdateWhileOneRunsIsBusyButTheSameOneResumes) {
  auto m = make();
  uint64_t offset = 0;
  ASSERT_EQ(offer(*m, "1.1.0", &offset), UpdateManager::Offer::Accepted);
  send(*m, 0, 4096);
  EXPECT_EQ(offer(*m, "1.2.0", &offset), UpdateManager::Offer::Busy);
  EXPECT_EQ(why_, "an update to 1.1.0 is in progress (downloading); wait for it to finish");
  // The same manifest again (link lost): resume at the received offset.
  ASSERT_EQ(offer(*m, "1.1.0", &offset), UpdateManager::Offer::Accepted);
  EXPECT_EQ(offset, 4096u);
}

TEST_F(UpdateTest, AgentRestartDuringDownloadResumesFromTheStagedPrefix) {
  {
    auto m = make();
    uint64_t offset = 0;
    ASSERT_EQ(offer(*m, "1.1.0", &offset), UpdateManager::Offer::Accepted);
    send(*m, 0, 8192);
  }
  auto m = make();
  EXPECT_EQ(m->status().state, UpdateState::Downloading);
  uint64_t offset = 0;
  ASSERT_EQ(offer(*m, "1.1.0", &offset), UpdateManager::Offer::Accepted) << why_;
  EXPECT_EQ(offset, 8192u);
  send(*m, offset, image_.size());
  m->tick(true, true);
  EXPECT_EQ(m->status().state, UpdateState::Installing) << m->status().error;  // the re-hashed prefix matched
}

TEST_F(UpdateTest, AgentKilledDuringInstallInstallsAgain) {
  {
    auto m = make();
    uint64_t offset = 0;
    ASSERT_EQ(offer(*m, "1.1.0", &offset), UpdateManager::Offer::Accepted);
    send(*m, 0, image_.size());
    m->tick(true, true);
    ASSERT_EQ(storage_.state(), "installing");
  }
  installer_.begins = 0;
  auto m = make();  // the old version still runs (nothing was committed)
  EXPECT_EQ(m->status().state, UpdateState::Installing);
  EXPECT_EQ(installer_.begins, 1);
  installer_.done = true;
  m->tick(true, true);
  EXPECT_EQ(m->status().state, UpdateState::PendingReboot);
}

TEST_F(UpdateTest, InstallerErrorFails) {
  auto m = make();
  uint64_t offset = 0;
  ASSERT_EQ(offer(*m, "1.1.0", &offset), UpdateManager::Offer::Accepted);
  send(*m, 0, image_.size());
  installer_.text = "slot B is read-only";
  installer_.result = hal::Err::Io;
  m->tick(true, true);
  installer_.done = true;
  m->tick(true, true);
  EXPECT_EQ(m->status().state, UpdateState::Failed);
  EXPECT_STREQ(m->status().error, "installer fake: i/o error: slot B is read-only");
  EXPECT_FALSE(m->restart_requested());
}

TEST_F(UpdateTest, FailedHealthGateRollsBack) {
  {
    auto m = make();
    install(*m, "1.1.0");
  }
  installer_.trial = true;
  auto m = make("1.1.0");
  ASSERT_EQ(m->status().state, UpdateState::BootedUnconfirmed);
  m->tick(true, false);  // session up, self-test failing
  clock_.advance_ms(59000);
  m->tick(true, false);
  EXPECT_EQ(installer_.bads, 0);
  clock_.advance_ms(1000);
  m->tick(true, false);
  EXPECT_EQ(m->status().state, UpdateState::RolledBack);
  EXPECT_STREQ(m->status().error, "health gate: board self-test failed within 60 s; rolling back to 1.0.0");
  EXPECT_EQ(installer_.bads, 1);
  EXPECT_EQ(installer_.state_at_mark, "rolled-back");
  EXPECT_TRUE(m->restart_requested());
  // After the restart: old slot, not on trial; the state stays rolled-back.
  installer_.trial = false;
  m = make("1.0.0");
  EXPECT_EQ(m->status().state, UpdateState::RolledBack);
  EXPECT_FALSE(m->restart_requested());
  EXPECT_STREQ(m->floor_version(), "");  // the floor did not move
}

TEST_F(UpdateTest, TrialThatDidNotBootIsReportedRolledBack) {
  {
    auto m = make();
    install(*m, "1.1.0");
  }
  installer_.trial = false;  // the bootloader fell back
  auto m = make("1.0.0");
  EXPECT_EQ(m->status().state, UpdateState::RolledBack);
  EXPECT_STREQ(m->status().error, "version 1.1.0 did not boot (the installer booted 1.0.0): rolled back");
}

TEST_F(UpdateTest, InstallerWithoutTrialBootsCommitsWhenTheNewVersionRuns) {
  {
    auto m = make();
    install(*m, "1.1.0");
  }
  auto m = make("1.1.0");
  EXPECT_EQ(m->status().state, UpdateState::Committed);
  EXPECT_STREQ(m->floor_version(), "1.1.0");
}

TEST_F(UpdateTest, AnInstallerThatRestartsTheAgentItselfGetsNoRestartRequest) {
  // deb: dpkg restarts the service after the install and after the rollback.
  options_.installer_restarts_agent = true;
  {
    auto m = make();
    install(*m, "1.1.0");
    EXPECT_FALSE(m->restart_requested());
    EXPECT_EQ(storage_.state(), "pending-reboot");
  }
  installer_.trial = true;
  auto m = make("1.1.0");
  ASSERT_EQ(m->status().state, UpdateState::BootedUnconfirmed);
  m->tick(false, true);
  clock_.advance_ms(60000);
  m->tick(false, true);
  EXPECT_EQ(m->status().state, UpdateState::RolledBack);
  EXPECT_EQ(installer_.bads, 1);
  EXPECT_FALSE(m->restart_requested());
}

TEST_F(UpdateTest, FailTransferFailsOnlyADownload) {
  auto m = make();
  m->fail_transfer("download: nothing");  // idle: nothing happens
  EXPECT_EQ(m->status().state, UpdateState::Idle);
  uint64_t offset = 0;
  ASSERT_EQ(offer(*m, "1.1.0", &offset), UpdateManager::Offer::Accepted) << why_;
  send(*m, 0, 4096);
  m->fail_transfer("download: HTTP 404 Not Found from localhost");
  EXPECT_EQ(m->status().state, UpdateState::Failed);
  EXPECT_STREQ(m->status().error, "download: HTTP 404 Not Found from localhost");
  EXPECT_EQ(storage_.state(), "failed");
  EXPECT_EQ(m->sink().received(), 0u);
}

TEST_F(UpdateTest, FloorSurvivesAndRefusesDowngrade) {
  {
    auto m = make();
    install(*m, "1.1.0");
  }
  installer_.trial = true;
  {
    auto m = make("1.1.0");
    m->tick(true, true);
    ASSERT_EQ(m->status().state, UpdateState::Committed);
  }
  // Suppose the device somehow runs 1.0.0 again: the floor still refuses 1.0.5.
  auto m = make("1.0.0");
  uint64_t offset = 0;
  EXPECT_EQ(offer(*m, "1.0.5", &offset), UpdateManager::Offer::Refused);
  EXPECT_EQ(why_, "version: 1.0.5 is below this device's version floor 1.1.0");
}

TEST_F(UpdateTest, RefusalsChangeNothing) {
  auto m = make();
  uint64_t offset = 0;
  EXPECT_EQ(offer(*m, "0.9", &offset), UpdateManager::Offer::Refused);
  EXPECT_EQ(m->status().state, UpdateState::Idle);
  EXPECT_EQ(storage_.state(), "");
  EXPECT_EQ(m->offer("e30=", "AAAA", &offset, &why_), UpdateManager::Offer::Refused);
  EXPECT_EQ(why_.rfind("signature: not made by", 0), 0u) << why_;
}

TEST_F(UpdateTest, StorageFailureIsReported) {
  auto m = make();
  storage_.fail_writes = true;
  uint64_t offset = 0;
  EXPECT_EQ(offer(*m, "1.1.0", &offset), UpdateManager::Offer::Failed);
  EXPECT_EQ(why_, "cannot persist the update state");
  EXPECT_EQ(m->status().state, UpdateState::Idle);
}

TEST_F(UpdateTest, StateNames) {
  EXPECT_STREQ(agent::update_state_name(UpdateState::BootedUnconfirmed), "booted-unconfirmed");
  EXPECT_STREQ(agent::update_state_name(UpdateState::PendingReboot), "pending-reboot");
  EXPECT_STREQ(agent::update_state_name(UpdateState::RolledBack), "rolled-back");
}

}  // namespace

#include "agent/update.hpp"

#include <mbedtls/sha256.h>

#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace agent {
namespace {

const char* const kStateNames[] = {"idle",       "received",       "downloading",        "verified",
                                   "installing", "pending-reboot", "booted-unconfirmed", "committed",
                                   "rolled-back", "failed"};
constexpr size_t kStates = sizeof kStateNames / sizeof kStateNames[0];

void copy_text(char* dst, size_t cap, const char* src) {
  std::snprintf(dst, cap, "%s", src != nullptr ? src : "");
  // One line only: the record is line-based.
  for (char* p = dst; *p != '\0'; ++p) {
    if (*p == '\n' || *p == '\r') *p = ' ';
  }
}

bool parse_hex32(const char* s, size_t n, uint8_t out[32]) {
  if (n != 64) return false;
  for (size_t i = 0; i < 32; ++i) {
    unsigned v = 0;
    for (size_t k = 0; k < 2; ++k) {
      const char c = s[2 * i + k];
      unsigned d = 0;
      if (c >= '0' && c <= '9') {
        d = static_cast<unsigned>(c - '0');
      } else if (c >= 'a' && c <= 'f') {
        d = static_cast<unsigned>(c - 'a' + 10);
      } else {
        return false;
      }
      v = v << 4 | d;
    }
    out[i] = static_cast<uint8_t>(v);
  }
  return true;
}

bool field_is(const char* line, size_t len, const char* key, const char** value, size_t* vlen) {
  const size_t k = std::strlen(key);
  if (len <= k || std::memcmp(line, key, k) != 0 || line[k] != '=') return false;
  *value = line + k + 1;
  *vlen = len - k - 1;
  return true;
}

void copy_field(char* dst, size_t cap, const char* v, size_t n) {
  if (n >= cap) n = cap - 1;
  std::memcpy(dst, v, n);
  dst[n] = '\0';
}

}  // namespace

const char* update_state_name(UpdateState s) {
  const auto i = static_cast<size_t>(s);
  return i < kStates ? kStateNames[i] : "unknown";
}

// ---- StagingSink ------------------------------------------------------------------

struct StagingSink::Hash {
  mbedtls_sha256_context ctx;
  uint8_t buf[4096];
};

StagingSink::StagingSink(hal::SegmentStore& store, uint32_t segment)
    : store_(store), segment_(segment), hash_(new Hash) {
  mbedtls_sha256_init(&hash_->ctx);
}

StagingSink::~StagingSink() {
  mbedtls_sha256_free(&hash_->ctx);
  delete hash_;
}

hal::Err StagingSink::reset(uint64_t size) {
  const hal::Err e = store_.open();
  if (e != hal::Err::Ok) return e;
  const hal::Err r = store_.remove(segment_);
  if (r != hal::Err::Ok) return r;
  size_ = size;
  received_ = 0;
  unsynced_ = 0;
  mbedtls_sha256_starts_ret(&hash_->ctx, 0);
  return hal::Err::Ok;
}

hal::Err StagingSink::resume(uint64_t size) {
  const hal::Err e = store_.open();
  if (e != hal::Err::Ok) return e;
  size_ = size;
  received_ = 0;
  unsynced_ = 0;
  mbedtls_sha256_starts_ret(&hash_->ctx, 0);
  const hal::Result<uint64_t> have = store_.size(segment_);
  if (have.error() == hal::Err::NotFound) return hal::Err::Ok;
  if (!have.ok()) return have.error();
  uint64_t staged = have.value();
  if (staged > size) {
    const hal::Err t = store_.truncate(segment_, size);
    if (t != hal::Err::Ok) return t;
    staged = size;
  }
  while (received_ < staged) {
    const uint64_t want64 = staged - received_;
    const size_t want = want64 < sizeof hash_->buf ? static_cast<size_t>(want64) : sizeof hash_->buf;
    const hal::Result<size_t> n = store_.read(segment_, received_, hash_->buf, want);
    if (!n.ok()) return n.error();
    if (n.value() == 0) break;
    mbedtls_sha256_update_ret(&hash_->ctx, hash_->buf, n.value());
    received_ += n.value();
  }
  return hal::Err::Ok;
}

hal::Err StagingSink::write(uint64_t offset, const uint8_t* data, size_t len) {
  if (offset != received_ || (data == nullptr && len > 0)) return hal::Err::InvalidArgument;
  if (len > size_ - received_) return hal::Err::NoSpace;
  if (len == 0) return hal::Err::Ok;
  const hal::Err e = store_.append(segment_, data, len);
  if (e != hal::Err::Ok) return e;
  mbedtls_sha256_update_ret(&hash_->ctx, data, len);
  received_ += len;
  unsynced_ += len;
  if (unsynced_ >= kSyncEvery) {
    unsynced_ = 0;
    return store_.sync(segment_);
  }
  return hal::Err::Ok;
}

hal::Err StagingSink::finish(uint8_t digest[32]) {
  if (received_ != size_) return hal::Err::NotReady;
  const hal::Err e = store_.sync(segment_);
  if (e != hal::Err::Ok) return e;
  unsynced_ = 0;
  // Digest of a copy: finish() may be called again after a failed install.
  mbedtls_sha256_context copy;
  mbedtls_sha256_init(&copy);
  mbedtls_sha256_clone(&copy, &hash_->ctx);
  mbedtls_sha256_finish_ret(&copy, digest);
  mbedtls_sha256_free(&copy);
  return hal::Err::Ok;
}

void StagingSink::discard() {
  (void)store_.remove(segment_);
  received_ = 0;
  size_ = 0;
  unsynced_ = 0;
}

// ---- UpdateManager ----------------------------------------------------------------

UpdateManager::UpdateManager(hal::Storage& storage, hal::SegmentStore& staging, hal::Installer& installer,
                             const TrustedKeys& keys, hal::MonotonicClock& clock, const Options& options)
    : storage_(storage), installer_(installer), keys_(keys), clock_(clock), opt_(options), sink_(staging) {}

hal::Err UpdateManager::save(const Record& r) {
  char sha[65];
  char man[65];
  sha256_hex(r.sha256, sha);
  sha256_hex(r.manifest_sha, man);
  char buf[640];
  const int n = std::snprintf(buf, sizeof buf,
                              "xiot-update 1\nstate=%s\nversion=%s\nfrom=%s\nfloor=%s\nsize=%" PRIu64
                              "\nsha256=%s\nmanifest=%s\nerror=%s\n",
                              update_state_name(r.state), r.version, r.from, r.floor, r.size, sha, man, r.error);
  if (n <= 0 || static_cast<size_t>(n) >= sizeof buf) return hal::Err::Overflow;
  return storage_.replace(kUpdateStateKey, reinterpret_cast<const uint8_t*>(buf), static_cast<size_t>(n));
}

bool UpdateManager::load() {
  char buf[640];
  const hal::Result<size_t> r = storage_.read(kUpdateStateKey, reinterpret_cast<uint8_t*>(buf), sizeof buf - 1);
  if (!r.ok()) return false;
  buf[r.value()] = '\0';
  Record rec;
  bool have_state = false;
  const char* p = buf;
  if (std::strncmp(p, "xiot-update 1\n", 14) != 0) return false;
  p += 14;
  while (*p != '\0') {
    const char* nl = std::strchr(p, '\n');
    const size_t len = nl != nullptr ? static_cast<size_t>(nl - p) : std::strlen(p);
    const char* v = nullptr;
    size_t n = 0;
    if (field_is(p, len, "state", &v, &n)) {
      for (size_t i = 0; i < kStates; ++i) {
        if (std::strlen(kStateNames[i]) == n && std::memcmp(kStateNames[i], v, n) == 0) {
          rec.state = static_cast<UpdateState>(i);
          have_state = true;
        }
      }
    } else if (field_is(p, len, "version", &v, &n)) {
      copy_field(rec.version, sizeof rec.version, v, n);
    } else if (field_is(p, len, "from", &v, &n)) {
      copy_field(rec.from, sizeof rec.from, v, n);
    } else if (field_is(p, len, "floor", &v, &n)) {
      copy_field(rec.floor, sizeof rec.floor, v, n);
    } else if (field_is(p, len, "size", &v, &n)) {
      rec.size = std::strtoull(v, nullptr, 10);
    } else if (field_is(p, len, "sha256", &v, &n)) {
      if (!parse_hex32(v, n, rec.sha256)) return false;
    } else if (field_is(p, len, "manifest", &v, &n)) {
      if (!parse_hex32(v, n, rec.manifest_sha)) return false;
    } else if (field_is(p, len, "error", &v, &n)) {
      copy_field(rec.error, sizeof rec.error, v, n);
    }
    p += len;
    if (*p == '\n') ++p;
  }
  if (!have_state) return false;
  rec_ = rec;
  return true;
}

hal::Err UpdateManager::transition(UpdateState next, const char* error) {
  Record r = rec_;
  r.state = next;
  copy_text(r.error, sizeof r.error, error);
  const hal::Err e = save(r);
  if (e != hal::Err::Ok) return e;
  rec_ = r;
  progress_ = 0;
  ++changes_;
  return hal::Err::Ok;
}

void UpdateManager::request_restart(const char* reason) {
  if (opt_.installer_restarts_agent) return;  // it does (deb: dpkg restarts the service)
  restart_requested_ = true;
  copy_text(restart_reason_, sizeof restart_reason_, reason);
}

void UpdateManager::fail(const char* error) {
  sink_.discard();
  if (transition(UpdateState::Failed, error) != hal::Err::Ok) {
    // Cannot persist: keep reporting the truth in memory.
    rec_.state = UpdateState::Failed;
    copy_text(rec_.error, sizeof rec_.error, error);
    ++changes_;
  }
}

hal::Err UpdateManager::start(const char* installed_version) {
  copy_text(installed_, sizeof installed_, installed_version);
  if (!load()) return hal::Err::Ok;  // never updated (or unreadable: nothing to resume)
  const hal::Result<hal::BootStatus> boot = installer_.boot_status();
  const bool trial = boot.ok() && boot.value().trial;
  char text[kTextMax];
  switch (rec_.state) {
    case UpdateState::PendingReboot:
    case UpdateState::BootedUnconfirmed:
      if (trial) {
        trial_started_ = clock_.mono_now();
        return transition(UpdateState::BootedUnconfirmed);
      }
      if (std::strcmp(installed_, rec_.version) == 0) {
        // An installer without trial boots (deb) runs the new version: done.
        Record r = rec_;
        r.state = UpdateState::Committed;
        r.error[0] = '\0';
        copy_text(r.floor, sizeof r.floor, r.version);
        const hal::Err e = save(r);
        if (e == hal::Err::Ok) {
          rec_ = r;
          ++changes_;
        }
        return e;
      }
      std::snprintf(text, sizeof text, "version %s did not boot (the installer booted %s): rolled back",
                    rec_.version, installed_);
      return transition(UpdateState::RolledBack, text);
    case UpdateState::Committed:
      // Persisted before mark_good(): finish what a restart interrupted.
      if (trial) return installer_.mark_good();
      return hal::Err::Ok;
    case UpdateState::RolledBack:
      if (trial) {
        // Persisted before mark_bad(): finish it and restart into the old slot.
        (void)installer_.mark_bad();
        request_restart("update rolled back");
      }
      return hal::Err::Ok;
    case UpdateState::Received:
    case UpdateState::Downloading: {
      const hal::Err e = sink_.resume(rec_.size);
      if (e != hal::Err::Ok) return e;
      return rec_.state == UpdateState::Received ? transition(UpdateState::Downloading) : hal::Err::Ok;
    }
    case UpdateState::Verified:
    case UpdateState::Installing: {
      // The install did not finish: the staged image is checked again and installed again.
      const hal::Err e = sink_.resume(rec_.size);
      if (e != hal::Err::Ok) return e;
      const hal::Err t = transition(UpdateState::Downloading);
      if (t != hal::Err::Ok) return t;
      verify_and_install();
      return hal::Err::Ok;
    }
    case UpdateState::Idle:
    case UpdateState::Failed:
      return hal::Err::Ok;
  }
  return hal::Err::Ok;
}

bool UpdateManager::busy() const {
  switch (rec_.state) {
    case UpdateState::Received:
    case UpdateState::Downloading:
    case UpdateState::Verified:
    case UpdateState::Installing:
    case UpdateState::PendingReboot:
    case UpdateState::BootedUnconfirmed:
      return true;
    default:
      return false;
  }
}

UpdateManager::Offer UpdateManager::offer(const char* manifest_b64, const char* signature_b64, uint64_t* offset,
                                          std::string* why) {
  UpdatePolicy policy;
  policy.compatible = opt_.compatible;
  policy.installed_version = installed_;
  policy.floor_version = rec_.floor;
  policy.max_size = opt_.max_size;
  Manifest m;
  std::string bytes;
  const Refusal r = check_update(manifest_b64, signature_b64, keys_, policy, &m, &bytes, why);
  uint8_t manifest_sha[32];
  if (r == Refusal::None) {
    mbedtls_sha256_ret(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), manifest_sha, 0);
  }
  if (busy()) {
    // The same manifest again while downloading: the sender resumes.
    if (r == Refusal::None && rec_.state == UpdateState::Downloading &&
        std::memcmp(manifest_sha, rec_.manifest_sha, 32) == 0) {
      *offset = sink_.received();
      return Offer::Accepted;
    }
    if (why != nullptr) {
      *why = std::string("an update to ") + rec_.version + " is in progress (" + update_state_name(rec_.state) +
             "); wait for it to finish";
    }
    return Offer::Busy;
  }
  if (r != Refusal::None) return Offer::Refused;

  Record next;
  next.state = UpdateState::Received;
  copy_text(next.version, sizeof next.version, m.version);
  copy_text(next.from, sizeof next.from, installed_);
  copy_text(next.floor, sizeof next.floor, rec_.floor);
  next.size = m.size;
  std::memcpy(next.sha256, m.sha256, 32);
  std::memcpy(next.manifest_sha, manifest_sha, 32);
  if (save(next) != hal::Err::Ok) {
    if (why != nullptr) *why = "cannot persist the update state";
    return Offer::Failed;
  }
  rec_ = next;
  ++changes_;
  if (sink_.reset(m.size) != hal::Err::Ok || transition(UpdateState::Downloading) != hal::Err::Ok) {
    fail("cannot prepare the staging area");
    if (why != nullptr) *why = "cannot prepare the staging area";
    return Offer::Failed;
  }
  *offset = 0;
  return Offer::Accepted;
}

void UpdateManager::verify_and_install() {
  uint8_t digest[32];
  const hal::Err e = sink_.finish(digest);
  if (e != hal::Err::Ok) {
    fail("cannot read back the staged image");
    return;
  }
  if (std::memcmp(digest, rec_.sha256, 32) != 0) {
    char got[65];
    sha256_hex(digest, got);
    char text[kTextMax];
    std::snprintf(text, sizeof text, "sha256: the image does not match the manifest (got %.16s...)", got);
    fail(text);
    return;
  }
  if (transition(UpdateState::Verified) != hal::Err::Ok) {
    fail("cannot persist the update state");
    return;
  }
  begin_install();
}

void UpdateManager::begin_install() {
  if (transition(UpdateState::Installing) != hal::Err::Ok) {
    fail("cannot persist the update state");
    return;
  }
  const hal::Err e = installer_.begin(opt_.image_path);
  if (e != hal::Err::Ok) {
    char text[kTextMax];
    const char* detail = installer_.error_text();
    std::snprintf(text, sizeof text, "installer %s: %s%s%s", installer_.name(), hal::err_name(e),
                  detail[0] != '\0' ? ": " : "", detail);
    fail(text);
  }
}

void UpdateManager::tick(bool session_up, bool healthy) {
  switch (rec_.state) {
    case UpdateState::Downloading: {
      const uint64_t size = rec_.size != 0 ? rec_.size : 1;
      const auto pct = static_cast<uint8_t>(sink_.received() * 100 / size);
      if (pct / 5 != progress_ / 5) ++changes_;  // publish in 5 % steps
      progress_ = pct;
      if (sink_.received() == rec_.size) verify_and_install();
      return;
    }
    case UpdateState::Installing: {
      const hal::InstallProgress p = installer_.poll();
      if (p.percent / 5 != progress_ / 5) ++changes_;
      progress_ = p.percent;
      if (!p.done) return;
      if (p.result != hal::Err::Ok) {
        char text[kTextMax];
        const char* detail = installer_.error_text();
        std::snprintf(text, sizeof text, "installer %s: %s%s%s", installer_.name(), hal::err_name(p.result),
                      detail[0] != '\0' ? ": " : "", detail);
        fail(text);
        return;
      }
      sink_.discard();
      if (transition(UpdateState::PendingReboot) != hal::Err::Ok) {
        fail("cannot persist the update state");
        return;
      }
      char reason[kTextMax];
      std::snprintf(reason, sizeof reason, "firmware update to %s", rec_.version);
      request_restart(reason);
      return;
    }
    case UpdateState::BootedUnconfirmed: {
      if (session_up && healthy) {
        Record r = rec_;
        r.state = UpdateState::Committed;
        r.error[0] = '\0';
        copy_text(r.floor, sizeof r.floor, r.version);  // never below what committed
        if (save(r) != hal::Err::Ok) return;  // try again next tick
        rec_ = r;
        ++changes_;
        (void)installer_.mark_good();
        return;
      }
      if (clock_.mono_now().us_since(trial_started_) >= static_cast<int64_t>(opt_.health_window_ms) * 1000) {
        char text[kTextMax];
        std::snprintf(text, sizeof text, "health gate: %s within %u s; rolling back to %s",
                      !session_up ? "no XMPP session" : "board self-test failed", opt_.health_window_ms / 1000,
                      rec_.from[0] != '\0' ? rec_.from : "the previous version");
        if (transition(UpdateState::RolledBack, text) != hal::Err::Ok) return;
        (void)installer_.mark_bad();
        request_restart("update failed its health gate: rolling back");
      }
      return;
    }
    default:
      return;
  }
}

UpdateStatus UpdateManager::status() const {
  UpdateStatus s;
  s.state = rec_.state;
  s.version = rec_.version;
  s.progress = rec_.state == UpdateState::Downloading || rec_.state == UpdateState::Installing
                   ? progress_
                   : (rec_.state == UpdateState::Committed || rec_.state == UpdateState::PendingReboot ||
                              rec_.state == UpdateState::BootedUnconfirmed || rec_.state == UpdateState::Verified
                          ? 100
                          : 0);
  s.error = rec_.error;
  return s;
}

}  // namespace agent

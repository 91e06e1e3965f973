#include "hal/sim/sim_installer.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace hal {
namespace sim {
namespace {

constexpr const char kImageMagic[] = "xiot-sim-image ";
const char* const kSlotName[2] = {"A", "B"};

void copy_text(char* dst, size_t cap, const char* src) {
  std::snprintf(dst, cap, "%s", src != nullptr ? src : "");
}

/// A version token: 1..39 chars of digits and dots.
bool valid_version(const char* s, size_t n) {
  if (n == 0 || n > SimInstaller::kVersionMax) return false;
  for (size_t i = 0; i < n; ++i) {
    if ((s[i] < '0' || s[i] > '9') && s[i] != '.') return false;
  }
  return true;
}

int slot_index(char c) { return c == 'A' ? 0 : (c == 'B' ? 1 : -1); }

}  // namespace

SimInstaller::SimInstaller(Storage& storage, MonotonicClock& clock, const char* factory_version,
                           uint32_t max_attempts, uint32_t install_ms)
    : storage_(storage), clock_(clock), max_attempts_(max_attempts == 0 ? 1 : max_attempts), install_ms_(install_ms) {
  copy_text(factory_, sizeof factory_, factory_version);
  copy_text(version_[0], sizeof version_[0], factory_);
}

void SimInstaller::set_error(const char* text) { copy_text(error_, sizeof error_, text); }

bool SimInstaller::load(const char* text, size_t len) {
  // "sim-installer 1 committed=A pending=B attempts=1 trial=1 booted=B A=1.0.0 B=1.1.0"
  char buf[256];
  if (len >= sizeof buf) return false;
  std::memcpy(buf, text, len);
  buf[len] = '\0';
  char committed = 0;
  char pending = 0;
  char booted = 0;
  unsigned attempts = 0;
  unsigned trial = 0;
  char a[kVersionMax + 1] = {};
  char b[kVersionMax + 1] = {};
  const int n = std::sscanf(buf, "sim-installer 1 committed=%c pending=%c attempts=%u trial=%u booted=%c A=%39s B=%39s",
                            &committed, &pending, &attempts, &trial, &booted, a, b);
  if (n < 6) return false;  // B may be "-" (empty) but is always written
  const int c = slot_index(committed);
  const int bt = slot_index(booted);
  const int p = pending == '-' ? -1 : slot_index(pending);
  if (c < 0 || bt < 0 || (pending != '-' && p < 0) || trial > 1) return false;
  bool broken[2] = {false, false};
  char* slots[2] = {a, b};
  for (int i = 0; i < 2; ++i) {
    const size_t slen = std::strlen(slots[i]);
    if (slen > 1 && slots[i][slen - 1] == '!') {
      slots[i][slen - 1] = '\0';
      broken[i] = true;
    }
  }
  if (!valid_version(a, std::strlen(a))) return false;
  if (n == 7 && std::strcmp(b, "-") != 0 && !valid_version(b, std::strlen(b))) return false;
  broken_[0] = broken[0];
  broken_[1] = broken[1];
  committed_ = c;
  pending_ = p;
  booted_ = bt;
  attempts_ = attempts;
  trial_ = trial == 1;
  copy_text(version_[0], sizeof version_[0], a);
  copy_text(version_[1], sizeof version_[1], (n == 7 && std::strcmp(b, "-") != 0) ? b : "");
  return true;
}

Err SimInstaller::save() {
  char buf[256];
  const int n = std::snprintf(buf, sizeof buf,
                              "sim-installer 1 committed=%s pending=%s attempts=%u trial=%d booted=%s A=%s%s B=%s%s\n",
                              kSlotName[committed_], pending_ < 0 ? "-" : kSlotName[pending_],
                              static_cast<unsigned>(attempts_), trial_ ? 1 : 0, kSlotName[booted_],
                              version_[0][0] != '\0' ? version_[0] : "-", broken_[0] ? "!" : "",
                              version_[1][0] != '\0' ? version_[1] : "-", broken_[1] ? "!" : "");
  if (n <= 0 || static_cast<size_t>(n) >= sizeof buf) return Err::Overflow;
  return storage_.replace(kStorageKey, reinterpret_cast<const uint8_t*>(buf), static_cast<size_t>(n));
}

Err SimInstaller::boot() {
  uint8_t buf[256];
  const Result<size_t> r = storage_.read(kStorageKey, buf, sizeof buf);
  Err status = Err::Ok;
  rolled_back_ = false;
  if (r.ok()) {
    if (!load(reinterpret_cast<const char*>(buf), r.value())) {
      status = Err::Corrupt;
      set_error("sim installer state unreadable: reset to slot A");
      committed_ = 0;
      pending_ = -1;
      attempts_ = 0;
      copy_text(version_[0], sizeof version_[0], factory_);
      version_[1][0] = '\0';
      broken_[0] = broken_[1] = false;
    }
  } else if (r.error() != Err::NotFound) {
    return r.error();
  }
  if (pending_ >= 0 && attempts_ >= max_attempts_) {
    // The trial slot had its chances: back to the committed one.
    pending_ = -1;
    attempts_ = 0;
    rolled_back_ = true;
    set_error("trial slot did not confirm within its boot attempts: rolled back");
  }
  if (pending_ >= 0) {
    ++attempts_;
    booted_ = pending_;
    trial_ = true;
  } else {
    booted_ = committed_;
    trial_ = false;
  }
  const Err saved = save();
  return saved != Err::Ok ? saved : status;
}

Err SimInstaller::begin(const char* path) {
  if (installing_ && !done_) return Err::Busy;
  if (trial_) {
    set_error("the booted slot is on trial: confirm or roll it back first");
    return Err::Busy;
  }
  if (path == nullptr || path[0] == '\0') return Err::InvalidArgument;
  std::FILE* f = std::fopen(path, "rb");
  if (f == nullptr) {
    const int e = errno;
    set_error(e == ENOENT ? "image file not found" : "cannot open the image file");
    return e == ENOENT ? Err::NotFound : Err::Io;
  }
  char line[64] = {};
  const size_t n = std::fread(line, 1, sizeof line - 1, f);
  std::fclose(f);
  const size_t magic = sizeof kImageMagic - 1;
  const char* nl = static_cast<const char*>(std::memchr(line, '\n', n));
  size_t token = nl != nullptr ? static_cast<size_t>(nl - line) - magic : 0;
  const char* flag = nl != nullptr ? static_cast<const char*>(std::memchr(line + magic, ' ', token)) : nullptr;
  if (flag != nullptr) token = static_cast<size_t>(flag - (line + magic));
  if (n < magic || std::memcmp(line, kImageMagic, magic) != 0 || nl == nullptr ||
      !valid_version(line + magic, token) ||
      (flag != nullptr && (static_cast<size_t>(nl - flag) != 15 || std::memcmp(flag, " self-test=fail", 15) != 0))) {
    set_error("not a sim image (expected a first line \"xiot-sim-image VERSION\")");
    return Err::InvalidArgument;
  }
  const size_t vlen = static_cast<size_t>(nl - line) - magic;
  std::memcpy(new_version_, line + magic, vlen);
  new_version_[vlen] = '\0';
  new_broken_ = false;
  char* space = std::strchr(new_version_, ' ');
  if (space != nullptr) {
    new_broken_ = std::strcmp(space + 1, "self-test=fail") == 0;
    *space = '\0';
  }
  installing_ = true;
  done_ = false;
  result_ = Err::Ok;
  error_[0] = '\0';
  started_ = clock_.mono_now();
  return Err::Ok;
}

InstallProgress SimInstaller::poll() {
  InstallProgress p;
  if (!installing_) {
    p.done = done_;
    p.result = result_;
    p.percent = done_ && result_ == Err::Ok ? 100 : 0;
    return p;
  }
  const int64_t elapsed_ms = clock_.mono_now().us_since(started_) / 1000;
  if (install_ms_ > 0 && elapsed_ms < static_cast<int64_t>(install_ms_)) {
    p.percent = static_cast<uint8_t>(elapsed_ms * 100 / install_ms_);
    return p;
  }
  installing_ = false;
  done_ = true;
  if (inject_ != Err::Ok) {
    result_ = inject_;
    inject_ = Err::Ok;
    set_error(inject_text_);
  } else {
    const int target = 1 - committed_;
    copy_text(version_[target], sizeof version_[target], new_version_);
    broken_[target] = new_broken_;
    pending_ = target;
    attempts_ = 0;
    result_ = save();
    if (result_ != Err::Ok) set_error("cannot persist the installer state");
  }
  p.done = true;
  p.result = result_;
  p.percent = result_ == Err::Ok ? 100 : 0;
  return p;
}

Result<BootStatus> SimInstaller::boot_status() {
  BootStatus s;
  copy_text(s.slot, sizeof s.slot, kSlotName[booted_]);
  s.trial = trial_;
  s.boot_attempts = trial_ ? attempts_ : 0;
  return s;
}

Err SimInstaller::mark_good() {
  if (!trial_) return Err::NotReady;
  committed_ = booted_;
  pending_ = -1;
  attempts_ = 0;
  trial_ = false;
  return save();
}

Err SimInstaller::mark_bad() {
  if (!trial_) return Err::NotReady;
  pending_ = -1;
  attempts_ = 0;
  // Still running the bad slot until the restart; the next boot() picks committed_.
  return save();
}

void SimInstaller::fail_next_install(Err e, const char* why) {
  inject_ = e;
  copy_text(inject_text_, sizeof inject_text_, why);
}

}  // namespace sim
}  // namespace hal

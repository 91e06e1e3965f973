// See hal/linux/deb_installer.hpp. systemd's D-Bus API (org.freedesktop.systemd1(5)):
// Manager.Subscribe(), Manager.StartUnit(s name, s mode) -> o job,
// Manager.GetUnit(s name) -> o unit, signal Manager.JobRemoved(u id, o job,
// s unit, s result), property org.freedesktop.systemd1.Service.Result (s).
#include "hal/linux/deb_installer.hpp"
#include "sd_bus_open.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <systemd/sd-bus.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace hal {
namespace linux_ {

namespace {

constexpr const char* kSystemd = "org.freedesktop.systemd1";
constexpr const char* kManagerPath = "/org/freedesktop/systemd1";
constexpr const char* kManager = "org.freedesktop.systemd1.Manager";

void copy(char* dst, size_t cap, const char* src) { std::snprintf(dst, cap, "%s", src != nullptr ? src : ""); }

int job_removed_trampoline(sd_bus_message* m, void* self, sd_bus_error* /*err*/) {
  static_cast<DebInstaller*>(self)->on_job_removed(m);
  return 0;
}
int start_reply_trampoline(sd_bus_message* m, void* self, sd_bus_error* /*err*/) {
  static_cast<DebInstaller*>(self)->on_start_reply(m);
  return 0;
}

void describe(char* out, size_t cap, const char* what, const sd_bus_error* err, int r) {
  if (sd_bus_error_is_set(err)) {
    std::snprintf(out, cap, "%s: %s: %s", what, err->name, err->message != nullptr ? err->message : "");
  } else {
    std::snprintf(out, cap, "%s: %s", what, std::strerror(r < 0 ? -r : EIO));
  }
}

/// Writes `text` to `path` atomically (path.tmp, fsync, rename).
bool write_atomic(const char* path, const char* text) {
  char tmp[DebInstaller::kPathMax + 32];
  std::snprintf(tmp, sizeof tmp, "%s.tmp", path);
  const int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return false;
  const size_t n = std::strlen(text);
  const bool ok = write(fd, text, n) == static_cast<ssize_t>(n) && fsync(fd) == 0;
  close(fd);
  return ok && rename(tmp, path) == 0;
}

}  // namespace

DebInstaller::DebInstaller(const char* bus_address, const char* staging_dir, const char* running_version) {
  copy(address_, sizeof address_, bus_address);
  copy(staging_, sizeof staging_, staging_dir);
  copy(version_, sizeof version_, running_version);
}

DebInstaller::~DebInstaller() { disconnect(); }

void DebInstaller::disconnect() {
  call_slot_ = sd_bus_slot_unref(call_slot_);
  job_slot_ = sd_bus_slot_unref(job_slot_);
  if (bus_ != nullptr) bus_ = sd_bus_flush_close_unref(bus_);
}

Err DebInstaller::connect() {
  if (bus_ != nullptr) return Err::Ok;
  int r = open_bus(address_, &bus_);
  if (r >= 0) {
    r = sd_bus_match_signal(bus_, &job_slot_, kSystemd, kManagerPath, kManager, "JobRemoved", job_removed_trampoline,
                            this);
  }
  if (r < 0) {
    std::snprintf(error_, sizeof error_, "cannot connect to the %s D-Bus %s: %s",
                  address_[0] == '\0' ? "system" : "configured", address_, std::strerror(-r));
    disconnect();
    return Err::Io;
  }
  // systemd sends job signals only while some client is subscribed.
  sd_bus_error err = SD_BUS_ERROR_NULL;
  r = sd_bus_call_method(bus_, kSystemd, kManagerPath, kManager, "Subscribe", &err, nullptr, "");
  if (r < 0) {
    describe(error_, sizeof error_, "systemd Subscribe", &err, r);
    sd_bus_error_free(&err);
    disconnect();
    return Err::Io;
  }
  sd_bus_error_free(&err);
  return Err::Ok;
}

Err DebInstaller::stage(const char* path) {
  mkdir(staging_, 0700);  // exists already, usually
  char dst[kPathMax + 16];
  char tmp[kPathMax + 32];
  std::snprintf(dst, sizeof dst, "%s/staged.deb", staging_);
  std::snprintf(tmp, sizeof tmp, "%s/staged.deb.tmp", staging_);
  const int in = open(path, O_RDONLY | O_CLOEXEC);
  if (in < 0) {
    std::snprintf(error_, sizeof error_, "package %.200s: %s", path, std::strerror(errno));
    return Err::NotFound;
  }
  const int out = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (out < 0) {
    std::snprintf(error_, sizeof error_, "staging %.200s: %s", tmp, std::strerror(errno));
    close(in);
    return Err::Io;
  }
  char buf[8192];
  bool ok = true;
  for (;;) {
    const ssize_t n = read(in, buf, sizeof buf);
    if (n == 0) break;
    if (n < 0 || write(out, buf, static_cast<size_t>(n)) != n) {
      ok = false;
      break;
    }
  }
  ok = ok && fsync(out) == 0;
  close(in);
  close(out);
  if (!ok || rename(tmp, dst) != 0) {
    std::snprintf(error_, sizeof error_, "staging %.200s: %s", dst, std::strerror(errno));
    unlink(tmp);
    return Err::Io;
  }
  return Err::Ok;
}

Err DebInstaller::begin(const char* path) {
  if (running_) return Err::Busy;
  error_[0] = '\0';
  if (path == nullptr || access(path, R_OK) != 0) {
    std::snprintf(error_, sizeof error_, "package %.200s: %s", path != nullptr ? path : "(none)",
                  std::strerror(errno));
    return Err::NotFound;
  }
  Err e = connect();
  if (e != Err::Ok) return e;
  e = stage(path);
  if (e != Err::Ok) return e;
  sd_bus_message* m = nullptr;
  int r = sd_bus_message_new_method_call(bus_, &m, kSystemd, kManagerPath, kManager, "StartUnit");
  if (r >= 0) r = sd_bus_message_append(m, "ss", kInstallUnit, "replace");
  if (r >= 0) r = sd_bus_call_async(bus_, &call_slot_, m, start_reply_trampoline, this, 0);
  sd_bus_message_unref(m);
  if (r < 0) {
    std::snprintf(error_, sizeof error_, "StartUnit %s: cannot send: %s", kInstallUnit, std::strerror(-r));
    return Err::Io;
  }
  running_ = true;
  progress_ = InstallProgress{};
  return Err::Ok;
}

InstallProgress DebInstaller::poll() {
  // Pumped even when idle, so signals of other clients do not pile up.
  if (bus_ == nullptr) return progress_;
  for (int i = 0; i < 64; ++i) {
    const int r = sd_bus_process(bus_, nullptr);
    if (r < 0) {
      std::snprintf(error_, sizeof error_, "lost the D-Bus connection to systemd: %s", std::strerror(-r));
      if (running_) finish(Err::Io);
      disconnect();
      break;
    }
    if (r == 0) break;
  }
  return progress_;
}

void DebInstaller::finish(Err result) {
  running_ = false;
  progress_.done = true;
  progress_.result = result;
  if (result == Err::Ok) progress_.percent = 100;
  call_slot_ = sd_bus_slot_unref(call_slot_);
}

void DebInstaller::on_start_reply(sd_bus_message* m) {
  call_slot_ = sd_bus_slot_unref(call_slot_);
  if (!running_) return;
  const sd_bus_error* e = sd_bus_message_get_error(m);
  if (e != nullptr) {
    char what[96];
    std::snprintf(what, sizeof what, "StartUnit %s", kInstallUnit);
    describe(error_, sizeof error_, what, e, -EIO);
    finish(Err::Io);
    return;
  }
  if (progress_.percent < 10) progress_.percent = 10;  // queued: dpkg runs now
}

void DebInstaller::fetch_unit_result(const char* unit) {
  sd_bus_error err = SD_BUS_ERROR_NULL;
  sd_bus_message* reply = nullptr;
  const char* path = nullptr;
  char* result = nullptr;
  int r = sd_bus_call_method(bus_, kSystemd, kManagerPath, kManager, "GetUnit", &err, &reply, "s", unit);
  if (r >= 0) r = sd_bus_message_read(reply, "o", &path);
  if (r >= 0) {
    r = sd_bus_get_property_string(bus_, kSystemd, path, "org.freedesktop.systemd1.Service", "Result", &err,
                                   &result);
  }
  if (r >= 0 && result != nullptr) {
    std::snprintf(error_, sizeof error_, "%s failed (Result=%s; journalctl -u %s says why)", unit, result, unit);
  }
  std::free(result);  // NOLINT: sd-bus hands out malloc'd strings
  sd_bus_message_unref(reply);
  sd_bus_error_free(&err);
}

void DebInstaller::on_job_removed(sd_bus_message* m) {
  if (!running_) return;
  uint32_t id = 0;
  const char* job = nullptr;
  const char* unit = nullptr;
  const char* result = nullptr;
  if (sd_bus_message_read(m, "uoss", &id, &job, &unit, &result) < 0) return;
  if (unit == nullptr || std::strcmp(unit, kInstallUnit) != 0) return;
  if (result != nullptr && std::strcmp(result, "done") == 0) {
    error_[0] = '\0';
    finish(Err::Ok);
    return;
  }
  std::snprintf(error_, sizeof error_, "%s: start job %s (journalctl -u %s says why)", kInstallUnit,
                result != nullptr ? result : "?", kInstallUnit);
  fetch_unit_result(kInstallUnit);
  finish(Err::Io);
}

Result<BootStatus> DebInstaller::boot_status() {
  BootStatus status;
  copy(status.slot, sizeof status.slot, "deb");
  char marker[kPathMax + 16];
  std::snprintf(marker, sizeof marker, "%s/trial", staging_);
  FILE* f = std::fopen(marker, "re");
  if (f == nullptr) return status;
  char version[64] = {};
  unsigned boots = 0;
  const int n = std::fscanf(f, "%63s %u", version, &boots);
  std::fclose(f);
  if (n >= 1 && std::strcmp(version, version_) == 0) {
    status.trial = true;
    status.boot_attempts = boots + 1;
    char line[96];
    std::snprintf(line, sizeof line, "%s %u\n", version, boots + 1);
    if (!write_atomic(marker, line)) {
      std::snprintf(error_, sizeof error_, "trial marker %.200s: %s", marker, std::strerror(errno));
    }
  }
  return status;
}

Err DebInstaller::mark_good() {
  error_[0] = '\0';
  char marker[kPathMax + 16];
  std::snprintf(marker, sizeof marker, "%s/trial", staging_);
  if (unlink(marker) != 0 && errno != ENOENT) {
    std::snprintf(error_, sizeof error_, "trial marker %.200s: %s", marker, std::strerror(errno));
    return Err::Io;
  }
  return Err::Ok;
}

Err DebInstaller::mark_bad() {
  error_[0] = '\0';
  if (connect() != Err::Ok) return Err::Io;
  sd_bus_error err = SD_BUS_ERROR_NULL;
  const int r = sd_bus_call_method(bus_, kSystemd, kManagerPath, kManager, "StartUnit", &err, nullptr, "ss",
                                   kRollbackUnit, "replace");
  if (r < 0) {
    char what[96];
    std::snprintf(what, sizeof what, "StartUnit %s", kRollbackUnit);
    describe(error_, sizeof error_, what, &err, r);
  }
  sd_bus_error_free(&err);
  return r < 0 ? Err::Io : Err::Ok;
}

}  // namespace linux_
}  // namespace hal

// See hal/linux/rauc_installer.hpp. RAUC's D-Bus API (rauc 1.8,
// src/de.pengutronix.rauc.Installer.xml): InstallBundle(s source, a{sv} args),
// Mark(s state, s slot_identifier) -> (s slot_name, s message), GetPrimary() ->
// s, GetSlotStatus() -> a(sa{sv}), properties Operation s, LastError s,
// Progress (isi), BootSlot s, signal Completed(i result).
#include "hal/linux/rauc_installer.hpp"
#include "sd_bus_open.hpp"

#include <fcntl.h>
#include <systemd/sd-bus.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace hal {
namespace linux_ {

namespace {

constexpr const char* kService = "de.pengutronix.rauc";
constexpr const char* kObject = "/";
constexpr const char* kInterface = "de.pengutronix.rauc.Installer";

void copy(char* dst, size_t cap, const char* src) {
  if (src == nullptr) src = "";
  std::snprintf(dst, cap, "%s", src);
}

int props_trampoline(sd_bus_message* m, void* self, sd_bus_error* /*err*/) {
  static_cast<RaucInstaller*>(self)->on_properties_changed(m);
  return 0;
}
int completed_trampoline(sd_bus_message* m, void* self, sd_bus_error* /*err*/) {
  static_cast<RaucInstaller*>(self)->on_completed(m);
  return 0;
}
int owner_trampoline(sd_bus_message* m, void* self, sd_bus_error* /*err*/) {
  static_cast<RaucInstaller*>(self)->on_owner_changed(m);
  return 0;
}
int reply_trampoline(sd_bus_message* m, void* self, sd_bus_error* /*err*/) {
  static_cast<RaucInstaller*>(self)->on_install_reply(m);
  return 0;
}

/// "what: name: message" from a failed call into `out`.
void describe(char* out, size_t cap, const char* what, const sd_bus_error* err, int r) {
  if (sd_bus_error_is_set(err)) {
    std::snprintf(out, cap, "%s: %s: %s", what, err->name, err->message != nullptr ? err->message : "");
  } else {
    std::snprintf(out, cap, "%s: %s", what, std::strerror(r < 0 ? -r : EIO));
  }
}

}  // namespace

RaucInstaller::RaucInstaller(const char* bus_address, const char* trial_marker) {
  copy(address_, sizeof address_, bus_address);
  copy(marker_, sizeof marker_, trial_marker);
}

RaucInstaller::~RaucInstaller() { disconnect(); }

void RaucInstaller::disconnect() {
  call_slot_ = sd_bus_slot_unref(call_slot_);
  props_slot_ = sd_bus_slot_unref(props_slot_);
  completed_slot_ = sd_bus_slot_unref(completed_slot_);
  owner_slot_ = sd_bus_slot_unref(owner_slot_);
  if (bus_ != nullptr) bus_ = sd_bus_flush_close_unref(bus_);
}

Err RaucInstaller::connect() {
  if (bus_ != nullptr) return Err::Ok;
  int r = open_bus(address_, &bus_);
  if (r >= 0) {
    r = sd_bus_match_signal(bus_, &props_slot_, kService, kObject, "org.freedesktop.DBus.Properties",
                            "PropertiesChanged", props_trampoline, this);
  }
  if (r >= 0) {
    r = sd_bus_match_signal(bus_, &completed_slot_, kService, kObject, kInterface, "Completed",
                            completed_trampoline, this);
  }
  if (r >= 0) {
    // RAUC crashing or being stopped mid-install must end the install, not
    // leave it running for ever.
    r = sd_bus_match_signal(bus_, &owner_slot_, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                            "org.freedesktop.DBus", "NameOwnerChanged", owner_trampoline, this);
  }
  if (r < 0) {
    std::snprintf(error_, sizeof error_, "cannot connect to the %s D-Bus%s%.200s: %s",
                  address_[0] == '\0' ? "system" : "configured", address_[0] == '\0' ? "" : " ", address_,
                  std::strerror(-r));
    disconnect();
    return Err::Io;
  }
  return Err::Ok;
}

Err RaucInstaller::begin(const char* path) {
  if (running_) return Err::Busy;
  error_[0] = '\0';
  if (path == nullptr || access(path, R_OK) != 0) {
    std::snprintf(error_, sizeof error_, "bundle %.200s: %s", path != nullptr ? path : "(none)", std::strerror(errno));
    return Err::NotFound;
  }
  const Err c = connect();
  if (c != Err::Ok) return c;
  sd_bus_message* m = nullptr;
  int r = sd_bus_message_new_method_call(bus_, &m, kService, kObject, kInterface, "InstallBundle");
  if (r >= 0) r = sd_bus_message_append(m, "s", path);
  if (r >= 0) r = sd_bus_message_append(m, "a{sv}", 0);
  // No timeout of our own: RAUC answers InstallBundle as soon as it has queued
  // the install; the default (25 s) covers a service that is being started.
  if (r >= 0) r = sd_bus_call_async(bus_, &call_slot_, m, reply_trampoline, this, 0);
  sd_bus_message_unref(m);
  if (r < 0) {
    std::snprintf(error_, sizeof error_, "InstallBundle: cannot send: %s", std::strerror(-r));
    return Err::Io;
  }
  running_ = true;
  progress_ = InstallProgress{};
  return Err::Ok;
}

InstallProgress RaucInstaller::poll() {
  // Pumped even when idle, so signals of other clients do not pile up.
  if (bus_ == nullptr) return progress_;
  for (int i = 0; i < 64; ++i) {  // bounded: never stay here for long
    const int r = sd_bus_process(bus_, nullptr);
    if (r < 0) {
      std::snprintf(error_, sizeof error_, "lost the D-Bus connection to RAUC: %s", std::strerror(-r));
      if (running_) finish(Err::Io);
      disconnect();
      break;
    }
    if (r == 0) break;
  }
  return progress_;
}

void RaucInstaller::finish(Err result) {
  running_ = false;
  progress_.done = true;
  progress_.result = result;
  if (result == Err::Ok) progress_.percent = 100;
  call_slot_ = sd_bus_slot_unref(call_slot_);
}

void RaucInstaller::on_owner_changed(sd_bus_message* m) {
  const char* name = nullptr;
  const char* old_owner = nullptr;
  const char* new_owner = nullptr;
  if (sd_bus_message_read(m, "sss", &name, &old_owner, &new_owner) < 0 || name == nullptr) return;
  if (!running_ || std::strcmp(name, kService) != 0 || (new_owner != nullptr && new_owner[0] != '\0')) return;
  std::snprintf(error_, sizeof error_, "RAUC (%s) left the bus during the install", kService);
  finish(Err::Io);
}

void RaucInstaller::on_install_reply(sd_bus_message* m) {
  call_slot_ = sd_bus_slot_unref(call_slot_);
  const sd_bus_error* e = sd_bus_message_get_error(m);
  if (e != nullptr && running_) {
    describe(error_, sizeof error_, "InstallBundle", e, -EIO);
    finish(Err::Io);
  }
}

void RaucInstaller::on_properties_changed(sd_bus_message* m) {
  if (!running_) return;  // another client's install, or ours long done
  const char* iface = nullptr;
  if (sd_bus_message_read(m, "s", &iface) < 0 || iface == nullptr || std::strcmp(iface, kInterface) != 0) return;
  if (sd_bus_message_enter_container(m, 'a', "{sv}") < 0) return;
  while (sd_bus_message_enter_container(m, 'e', "sv") > 0) {
    const char* key = nullptr;
    if (sd_bus_message_read(m, "s", &key) < 0) return;
    if (std::strcmp(key, "Progress") == 0) {
      int32_t percent = 0;
      int32_t depth = 0;
      const char* text = nullptr;
      if (sd_bus_message_read(m, "v", "(isi)", &percent, &text, &depth) < 0) return;
      if (percent >= 0 && percent <= 100) progress_.percent = static_cast<uint8_t>(percent);
    } else if (std::strcmp(key, "LastError") == 0) {
      const char* text = nullptr;
      if (sd_bus_message_read(m, "v", "s", &text) < 0) return;
      if (text != nullptr && text[0] != '\0') copy(error_, sizeof error_, text);
    } else if (sd_bus_message_skip(m, "v") < 0) {
      return;
    }
    if (sd_bus_message_exit_container(m) < 0) return;
  }
}

void RaucInstaller::fetch_last_error() {
  sd_bus_error err = SD_BUS_ERROR_NULL;
  char* text = nullptr;
  const int r = sd_bus_get_property_string(bus_, kService, kObject, kInterface, "LastError", &err, &text);
  if (r >= 0 && text != nullptr && text[0] != '\0') copy(error_, sizeof error_, text);
  std::free(text);  // NOLINT: sd-bus hands out malloc'd strings
  sd_bus_error_free(&err);
}

void RaucInstaller::on_completed(sd_bus_message* m) {
  if (!running_) return;
  int32_t result = -1;
  if (sd_bus_message_read(m, "i", &result) < 0) result = -1;
  if (result == 0) {
    error_[0] = '\0';
    write_marker();
    finish(Err::Ok);
    return;
  }
  fetch_last_error();  // once, at the end of a failed install
  if (error_[0] == '\0') std::snprintf(error_, sizeof error_, "RAUC install failed (result %d)", result);
  finish(Err::Io);
}

Err RaucInstaller::get_primary(char* out, size_t cap) {
  sd_bus_error err = SD_BUS_ERROR_NULL;
  sd_bus_message* reply = nullptr;
  int r = sd_bus_call_method(bus_, kService, kObject, kInterface, "GetPrimary", &err, &reply, "");
  const char* s = nullptr;
  if (r >= 0) r = sd_bus_message_read(reply, "s", &s);
  if (r >= 0) copy(out, cap, s);
  if (r < 0) describe(error_, sizeof error_, "GetPrimary", &err, r);
  sd_bus_message_unref(reply);
  sd_bus_error_free(&err);
  return r < 0 ? Err::Io : Err::Ok;
}

void RaucInstaller::write_marker() {
  if (marker_[0] == '\0') return;
  char primary[64] = {};
  if (get_primary(primary, sizeof primary) != Err::Ok) return;
  FILE* f = std::fopen(marker_, "we");
  if (f == nullptr) {
    std::snprintf(error_, sizeof error_, "trial marker %.200s: %s", marker_, std::strerror(errno));
    return;
  }
  std::fprintf(f, "%s 0\n", primary);
  std::fflush(f);
  fsync(fileno(f));
  std::fclose(f);
}

Result<BootStatus> RaucInstaller::boot_status() {
  if (connect() != Err::Ok) return Err::Io;
  BootStatus status;
  sd_bus_error err = SD_BUS_ERROR_NULL;
  sd_bus_message* reply = nullptr;
  int r = sd_bus_call_method(bus_, kService, kObject, kInterface, "GetSlotStatus", &err, &reply, "");
  if (r < 0) {
    describe(error_, sizeof error_, "GetSlotStatus", &err, r);
    sd_bus_error_free(&err);
    return Err::Io;
  }
  sd_bus_error_free(&err);
  r = sd_bus_message_enter_container(reply, 'a', "(sa{sv})");
  while (r >= 0 && status.slot[0] == '\0' && sd_bus_message_enter_container(reply, 'r', "sa{sv}") > 0) {
    const char* slot_name = nullptr;
    if ((r = sd_bus_message_read(reply, "s", &slot_name)) < 0) break;
    if ((r = sd_bus_message_enter_container(reply, 'a', "{sv}")) < 0) break;
    while (sd_bus_message_enter_container(reply, 'e', "sv") > 0) {
      const char* key = nullptr;
      if ((r = sd_bus_message_read(reply, "s", &key)) < 0) break;
      if (std::strcmp(key, "state") == 0) {
        const char* state = nullptr;
        if ((r = sd_bus_message_read(reply, "v", "s", &state)) < 0) break;
        if (state != nullptr && std::strcmp(state, "booted") == 0) copy(status.slot, sizeof status.slot, slot_name);
      } else if ((r = sd_bus_message_skip(reply, "v")) < 0) {
        break;
      }
      if ((r = sd_bus_message_exit_container(reply)) < 0) break;
    }
    if (r < 0) break;
    if ((r = sd_bus_message_exit_container(reply)) < 0) break;  // a{sv}
    if ((r = sd_bus_message_exit_container(reply)) < 0) break;  // (sa{sv})
  }
  sd_bus_message_unref(reply);
  if (r < 0 || status.slot[0] == '\0') {
    std::snprintf(error_, sizeof error_, "GetSlotStatus: %s",
                  r < 0 ? std::strerror(-r) : "RAUC names no booted slot (is the booted slot in system.conf?)");
    return Err::Io;
  }
  if (marker_[0] == '\0') return status;
  FILE* f = std::fopen(marker_, "re");
  if (f == nullptr) return status;  // no install waiting for confirmation
  char slot[64] = {};
  unsigned boots = 0;
  const int n = std::fscanf(f, "%63s %u", slot, &boots);
  std::fclose(f);
  if (n >= 1 && std::strcmp(slot, status.slot) == 0) {
    status.trial = true;
    status.boot_attempts = boots + 1;
    f = std::fopen(marker_, "we");
    if (f != nullptr) {
      std::fprintf(f, "%s %u\n", slot, boots + 1);
      std::fflush(f);
      fsync(fileno(f));
      std::fclose(f);
    }
  }
  return status;
}

Err RaucInstaller::mark(const char* state, const char* slot) {
  sd_bus_error err = SD_BUS_ERROR_NULL;
  sd_bus_message* reply = nullptr;
  const int r = sd_bus_call_method(bus_, kService, kObject, kInterface, "Mark", &err, &reply, "ss", state, slot);
  if (r < 0) {
    char what[64];
    std::snprintf(what, sizeof what, "Mark(%s, %s)", state, slot);
    describe(error_, sizeof error_, what, &err, r);
  }
  sd_bus_message_unref(reply);
  sd_bus_error_free(&err);
  return r < 0 ? Err::Io : Err::Ok;
}

Err RaucInstaller::mark_good() {
  error_[0] = '\0';
  if (connect() != Err::Ok) return Err::Io;
  const Err e = mark("good", "booted");
  if (e == Err::Ok && marker_[0] != '\0') unlink(marker_);
  return e;
}

Err RaucInstaller::mark_bad() {
  error_[0] = '\0';
  if (connect() != Err::Ok) return Err::Io;
  Err e = mark("bad", "booted");
  if (e == Err::Ok) e = mark("active", "other");
  if (e == Err::Ok && marker_[0] != '\0') unlink(marker_);
  return e;
}

}  // namespace linux_
}  // namespace hal

// An A/B installer for the simulated board (update.installer "sim").
//
// Two slots, "A" and "B", each holding a firmware version. The state (the
// committed slot, the slot pending a trial boot, boot attempts, whether the
// booted slot is on trial) lives in one blob of a hal::Storage, written with
// Storage::replace (atomic, durable), so an agent restart — the sim board's
// "reboot" (exec) — is a boot: boot() acts as the bootloader.
//
// Images: a sim image is any file whose first line is
//   xiot-sim-image <version>\n      or   xiot-sim-image <version> self-test=fail\n
// (the version the slot reports once booted; the second form is firmware
// whose board self-test fails once booted: the health gate's bad path); the
// rest is payload. begin()
// reads that line, then the install "takes" install_ms on the injected
// clock (poll() reports progress), and the new slot becomes the pending one.
//
// Boot: if a slot is pending, boot() boots it on trial and counts the
// attempt; after max_attempts trial boots without mark_good() it falls back
// to the committed slot (pending cleared: a rollback). mark_good() commits
// the booted trial slot; mark_bad() clears the pending slot so the next boot
// goes back to the committed one.
//
// Blob (text, one line): "sim-installer 1 committed=A pending=B attempts=1
// trial=1 booted=B A=1.0.0 B=1.1.0\n" (a "!" after a version: self-test=fail). A missing blob is a fresh board: slot
// A holds `factory_version`, nothing pending.
#pragma once

#include <cstddef>
#include <cstdint>

#include "hal/clock.hpp"
#include "hal/installer.hpp"
#include "hal/storage.hpp"

namespace hal {
namespace sim {

class SimInstaller final : public Installer {
 public:
  static constexpr const char* kStorageKey = "sim-installer";
  static constexpr size_t kVersionMax = 39;

  /// `storage` and `clock` must outlive this object. `factory_version` is
  /// slot A's version on a fresh board (copied).
  SimInstaller(Storage& storage, MonotonicClock& clock, const char* factory_version, uint32_t max_attempts = 3,
               uint32_t install_ms = 1000);

  /// The bootloader: reads the state, picks the slot to boot, counts a trial
  /// boot or rolls back, and persists that before returning. Call once at
  /// start (the agent does). Errors: Corrupt (blob unreadable: the state is
  /// reset to slot A at factory_version, and that is persisted), Io.
  Err boot();

  const char* name() const override { return "sim"; }
  /// Errors: Busy (one runs, or a trial boot is not yet confirmed), NotFound
  /// (no such file), InvalidArgument (not a sim image), Io.
  Err begin(const char* path) override;
  InstallProgress poll() override;
  const char* error_text() const override { return error_; }
  Result<BootStatus> boot_status() override;
  /// Errors: NotReady (the booted slot is not on trial: nothing to confirm), Io.
  Err mark_good() override;
  Err mark_bad() override;

  /// The booted slot's version (what the sim board reports as its firmware).
  const char* booted_version() const { return version_[booted_]; }
  /// False when the booted slot's image said self-test=fail.
  bool booted_self_test_ok() const { return !broken_[booted_]; }
  /// The committed slot's version.
  const char* committed_version() const { return version_[committed_]; }
  /// Test hook: the next install fails with `e` (at its end) and text `why`.
  void fail_next_install(Err e, const char* why);
  /// True when boot() rolled back (the trial slot used up its attempts).
  bool rolled_back() const { return rolled_back_; }

 private:
  Err save();
  bool load(const char* text, size_t len);
  void set_error(const char* text);

  Storage& storage_;
  MonotonicClock& clock_;
  uint32_t max_attempts_;
  uint32_t install_ms_;
  char factory_[kVersionMax + 1] = {};
  char version_[2][kVersionMax + 1] = {};
  bool broken_[2] = {false, false};
  bool new_broken_ = false;
  int committed_ = 0;
  int pending_ = -1;  ///< slot to try at the next boot, -1 = none
  int booted_ = 0;
  uint32_t attempts_ = 0;
  bool trial_ = false;
  bool rolled_back_ = false;
  // The running install.
  bool installing_ = false;
  bool done_ = false;
  Err result_ = Err::Ok;
  MonoTime started_{};
  char new_version_[kVersionMax + 1] = {};
  Err inject_ = Err::Ok;
  char inject_text_[96] = {};
  char error_[128] = {};
};

}  // namespace sim
}  // namespace hal

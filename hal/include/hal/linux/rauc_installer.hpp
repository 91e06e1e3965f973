// hal::Installer over RAUC (https://rauc.io), the A/B updater embedded-Linux
// users already run: its D-Bus API de.pengutronix.rauc.Installer on object /
// (service de.pengutronix.rauc, `rauc service`), through sd-bus (libsystemd).
// docs/updates-installers.md has the system.conf RAUC needs and how this is
// tested against the real `rauc service`.
//
//   begin(bundle)  InstallBundle(bundle, {}) (asynchronous call): RAUC checks
//                  the bundle's signature against its own keyring, writes the
//                  inactive slot group and makes it primary
//   poll()         pumps the bus without blocking: Progress (from
//                  PropertiesChanged) gives percent; Completed(i) ends the
//                  install (0 = Ok, else Io with LastError in error_text());
//                  RAUC leaving the bus mid-install ends it as Io
//   boot_status()  the booted slot (GetSlotStatus: the slot whose "state" is
//                  "booted", else BootSlot); trial when the trial marker file
//                  names it (see below)
//   mark_good()    Mark("good", "booted"), then the marker is removed
//   mark_bad()     Mark("bad", "booted") and Mark("active", "other"): the next
//                  boot takes the old slot; then the marker is removed
//
// Trial: RAUC has no "installed but not yet confirmed" state of its own (a
// slot is good or bad for the bootloader). After Completed(0) the installer
// writes `trial_marker` with the new primary slot's name (GetPrimary) and a
// boot count; boot_status() reports trial when the booted slot is that slot
// and counts the boot in the file. mark_good()/mark_bad() remove it. A boot
// into the other slot (the bootloader fell back) is not a trial.
#pragma once

#include <cstddef>
#include <cstdint>

#include "hal/installer.hpp"

struct sd_bus;
struct sd_bus_slot;
struct sd_bus_message;

namespace hal {
namespace linux_ {

class RaucInstaller final : public Installer {
 public:
  static constexpr size_t kErrorMax = 256;
  static constexpr size_t kPathMax = 256;

  /// `bus_address`: a D-Bus address ("unix:path=/run/x/bus") to use instead of
  /// the system bus (tests), or nullptr for the system bus. `trial_marker`: the
  /// marker file (e.g. "/var/lib/xiot/rauc-trial"). Both are copied. Nothing
  /// connects until the first call that needs the bus.
  RaucInstaller(const char* bus_address, const char* trial_marker);
  ~RaucInstaller() override;
  RaucInstaller(const RaucInstaller&) = delete;
  RaucInstaller& operator=(const RaucInstaller&) = delete;

  const char* name() const override { return "rauc"; }
  /// Errors: Busy (an install of ours runs), NotFound (no such file), Io (no
  /// bus, or the call could not be sent).
  Err begin(const char* path) override;
  InstallProgress poll() override;
  const char* error_text() const override { return error_; }
  /// Errors: Io (no bus, RAUC not on it, or its answer had no booted slot).
  Result<BootStatus> boot_status() override;
  /// Errors: Io (RAUC refused, with its message in error_text()).
  Err mark_good() override;
  Err mark_bad() override;

  // D-Bus callbacks (sd-bus C callbacks; public for the trampolines only).
  void on_properties_changed(sd_bus_message* m);
  void on_completed(sd_bus_message* m);
  void on_install_reply(sd_bus_message* m);
  void on_owner_changed(sd_bus_message* m);

 private:
  Err connect();
  void disconnect();
  void finish(Err result);
  Err mark(const char* state, const char* slot);
  Err get_primary(char* out, size_t cap);
  void write_marker();
  void fetch_last_error();

  char address_[kPathMax] = {};
  char marker_[kPathMax] = {};
  char error_[kErrorMax] = {};
  sd_bus* bus_ = nullptr;
  sd_bus_slot* props_slot_ = nullptr;
  sd_bus_slot* completed_slot_ = nullptr;
  sd_bus_slot* owner_slot_ = nullptr;
  sd_bus_slot* call_slot_ = nullptr;
  bool running_ = false;
  InstallProgress progress_;
};

}  // namespace linux_
}  // namespace hal

// hal::Installer for the agent's own Debian package (docs/updates-installers.md,
// "Debian package"). The agent runs as user xiot with NoNewPrivileges and
// cannot run dpkg; a root oneshot unit does, and systemd starts it for the
// agent (polkit allows user xiot exactly these two units, start only):
//
//   begin(deb)     copies the verified .deb to <staging>/staged.deb (atomic:
//                  .tmp, fsync, rename) and calls StartUnit(
//                  "xiot-agent-update@install.service", "replace") on
//                  org.freedesktop.systemd1 (asynchronously)
//   poll()         pumps the bus without blocking; the start job's JobRemoved
//                  signal ends the install: "done" = Ok, anything else = Io
//                  with the unit's Result in error_text()
//   boot_status()  slot "deb"; trial when <staging>/trial names the running
//                  version (the unit writes "VERSION 0" before dpkg runs; each
//                  boot_status() counts one boot in it)
//   mark_good()    removes <staging>/trial (no root needed)
//   mark_bad()     StartUnit("xiot-agent-update@rollback.service"): the unit
//                  reinstalls the kept previous .deb; returns once systemd
//                  queued the job. dpkg then restarts the agent itself
//                  (xiot-agent.service is restarted after an upgrade).
//
// The unit (debian/xiot-agent-update@.service running
// /usr/lib/xiot/xiot-agent-update) checks the package name and architecture,
// keeps the previous version's .deb for the rollback and refuses to install
// without one.
#pragma once

#include <cstddef>
#include <cstdint>

#include "hal/installer.hpp"

struct sd_bus;
struct sd_bus_slot;
struct sd_bus_message;

namespace hal {
namespace linux_ {

class DebInstaller final : public Installer {
 public:
  static constexpr size_t kErrorMax = 384;
  static constexpr size_t kPathMax = 200;
  static constexpr const char* kInstallUnit = "xiot-agent-update@install.service";
  static constexpr const char* kRollbackUnit = "xiot-agent-update@rollback.service";

  /// `bus_address`: a D-Bus address instead of the system bus (tests), or
  /// nullptr. `staging_dir`: the agent-writable directory the unit reads
  /// (/var/lib/xiot/update; created if missing). `running_version`: this
  /// binary's version (XIOT_VERSION). All copied.
  DebInstaller(const char* bus_address, const char* staging_dir, const char* running_version);
  ~DebInstaller() override;
  DebInstaller(const DebInstaller&) = delete;
  DebInstaller& operator=(const DebInstaller&) = delete;

  const char* name() const override { return "deb"; }
  /// Errors: Busy, NotFound (no such .deb), Io (staging failed, no bus).
  Err begin(const char* path) override;
  InstallProgress poll() override;
  const char* error_text() const override { return error_; }
  Result<BootStatus> boot_status() override;
  Err mark_good() override;
  /// Errors: Io (no bus, or systemd/polkit refused the start).
  Err mark_bad() override;

  // sd-bus callbacks (public for the C trampolines only).
  void on_job_removed(sd_bus_message* m);
  void on_start_reply(sd_bus_message* m);

 private:
  Err connect();
  void disconnect();
  void finish(Err result);
  Err stage(const char* path);
  void fetch_unit_result(const char* unit);

  char address_[kPathMax] = {};
  char staging_[kPathMax] = {};
  char version_[64] = {};
  char error_[kErrorMax] = {};
  sd_bus* bus_ = nullptr;
  sd_bus_slot* job_slot_ = nullptr;
  sd_bus_slot* call_slot_ = nullptr;
  bool running_ = false;
  InstallProgress progress_;
};

}  // namespace linux_
}  // namespace hal

// Installing a verified update image, A/B (the `firmware-update` command).
//
// The agent verifies an image against its signed manifest before it calls
// begin(); an installer never sees an unverified image. Backends: hal/sim
// (SimInstaller: two slots in RAM or a state file, boot counter, rollback),
// hal/linux (RaucInstaller over sd-bus; DebInstaller for the agent's own
// package). The update state machine lives in agent/core and journals every
// transition before it calls into the installer.
#pragma once

#include <cstdint>

#include "hal/status.hpp"

namespace hal {

/// What the installer knows about the running system after boot.
struct BootStatus {
  char slot[24] = {};        ///< the booted slot, backend's name ("A", "rootfs.1", "deb")
  bool trial = false;        ///< booted an installed but not yet confirmed version
  uint32_t boot_attempts = 0;///< trial boots so far (sim/RAUC boot counter; 0 when unknown)
};

/// Progress of the running install.
struct InstallProgress {
  uint8_t percent = 0;  ///< 0..100
  bool done = false;    ///< finished, successfully (result Ok) or not
  Err result = Err::Ok; ///< meaningful when done
};

class Installer {
 public:
  virtual ~Installer() = default;
  /// "sim", "rauc", "deb": the config's `update.installer`.
  virtual const char* name() const = 0;
  /// Starts installing the verified image at `path` into the inactive slot and
  /// returns at once; poll() reports progress. Busy when one install runs.
  /// Errors: Busy, NotFound, Io, NotSupported.
  virtual Err begin(const char* path) = 0;
  /// Called from the agent's loop (never blocks for long).
  virtual InstallProgress poll() = 0;
  /// One line from the backend about the last failure ("" when none). Lives
  /// as long as the object.
  virtual const char* error_text() const { return ""; }
  /// Which slot booted and whether it is on trial (read once at start).
  virtual Result<BootStatus> boot_status() = 0;
  /// The booted slot passed the health gate: make it permanent.
  virtual Err mark_good() = 0;
  /// The booted slot failed the health gate: the next boot goes back to the
  /// other (old) slot. The caller then restarts through hal::Restart.
  virtual Err mark_bad() = 0;
};

}  // namespace hal

// The update state machine (docs/updates.md): a verified manifest opens a
// transfer into a staging sink, the staged image is checked against the
// manifest's size and SHA-256, handed to the hal::Installer, and after the
// reboot the trial version has to pass the health gate within
// update.health_window_s or it is marked bad and the device restarts into
// the old slot.
//
//   idle -> received -> downloading -> verified -> installing -> pending-reboot
//        -> (restart) -> booted-unconfirmed -> committed | rolled-back
//   any of received..installing -> failed   (bad image, installer error)
//
// Every transition is written to hal::Storage (key kUpdateStateKey; replace()
// is atomic and durable) BEFORE it takes effect, so a restart in any state
// resumes or rolls back (start() says which) and the device never reports a
// state it is not in. No heap after construction: fixed buffers only
// (offer() parses the manifest through json::Reader, once per update).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "agent/byte_sink.hpp"
#include "agent/update_manifest.hpp"
#include "hal/clock.hpp"
#include "hal/installer.hpp"
#include "hal/segment_store.hpp"
#include "hal/storage.hpp"

namespace agent {

enum class UpdateState : uint8_t {
  Idle = 0,           ///< no update ever, or the record was cleared
  Received,           ///< manifest verified, transfer not yet started
  Downloading,        ///< bytes arriving into the staging sink
  Verified,           ///< the staged image matches size and SHA-256
  Installing,         ///< installer->begin() called, polling
  PendingReboot,      ///< installed into the other slot; restart requested
  BootedUnconfirmed,  ///< running the new version on trial: the health gate
  Committed,          ///< marked good; the version floor moved up
  RolledBack,         ///< the trial failed: back on the old version
  Failed,             ///< refused image or installer error; nothing installed
};
/// "idle", "received", "downloading", "verified", "installing",
/// "pending-reboot", "booted-unconfirmed", "committed", "rolled-back", "failed".
const char* update_state_name(UpdateState s);

/// Storage key of the persisted record, and the staging segment id.
constexpr const char* kUpdateStateKey = "update.state";
constexpr uint32_t kStagingSegment = 1;

/// A ByteSink into one segment of a hal::SegmentStore that hashes as it
/// writes (SHA-256, mbedTLS). Appends are synced every kSyncEvery bytes and
/// by finish(); after a crash resume() re-hashes what survived and that is
/// where the transfer continues.
class StagingSink final : public ByteSink {
 public:
  static constexpr uint64_t kSyncEvery = 1u << 20;

  explicit StagingSink(hal::SegmentStore& store, uint32_t segment = kStagingSegment);
  ~StagingSink() override;
  StagingSink(const StagingSink&) = delete;
  StagingSink& operator=(const StagingSink&) = delete;

  /// Drops any staged bytes and starts a transfer of `size` bytes.
  hal::Err reset(uint64_t size);
  /// Continues a transfer of `size` bytes: re-hashes the staged prefix (a
  /// prefix longer than `size` is cut back). Errors: Io.
  hal::Err resume(uint64_t size);
  /// Syncs and gives the SHA-256 of everything written. Errors: NotReady
  /// (fewer than `size` bytes), Io.
  hal::Err finish(uint8_t digest[32]);
  /// Removes the staged bytes.
  void discard();

  hal::Err write(uint64_t offset, const uint8_t* data, size_t len) override;
  uint64_t received() const override { return received_; }
  uint64_t expected() const { return size_; }

 private:
  struct Hash;
  hal::SegmentStore& store_;
  uint32_t segment_;
  Hash* hash_;  ///< allocated once by the constructor
  uint64_t size_ = 0;
  uint64_t received_ = 0;
  uint64_t unsynced_ = 0;
};

/// What the device node's <update/> shows.
struct UpdateStatus {
  UpdateState state = UpdateState::Idle;
  const char* version = "";  ///< the version being (or last) updated to
  uint8_t progress = 0;      ///< 0..100 of the current phase (transfer, install)
  const char* error = "";    ///< the last error, one line ("" when none)
};

class UpdateManager {
 public:
  struct Options {
    const char* compatible = "";      ///< the board's (BoardSpec::compatible)
    uint32_t health_window_ms = 120000;
    uint64_t max_size = 0;            ///< update.max_image_bytes
    const char* image_path = "";      ///< the staging segment as a file, for installer->begin()
    /// The installer restarts the agent itself after an install and after
    /// mark_bad() (deb: dpkg restarts the service): no restart is requested then.
    bool installer_restarts_agent = false;
  };
  static constexpr size_t kTextMax = 160;

  /// Everything borrowed; must outlive the manager.
  UpdateManager(hal::Storage& storage, hal::SegmentStore& staging, hal::Installer& installer,
                const TrustedKeys& keys, hal::MonotonicClock& clock, const Options& options);

  /// Reads the record and settles what a restart interrupted, with
  /// `installed_version` the version now running (after the installer's
  /// boot). pending-reboot or booted-unconfirmed and the installer says
  /// trial: booted-unconfirmed (the health window starts now);
  /// pending-reboot/booted-unconfirmed without a trial: rolled-back;
  /// downloading: resumes the staged prefix; verified/installing: installs
  /// again from the staged image; received: downloading from 0. Errors: Io.
  hal::Err start(const char* installed_version);

  enum class Offer : uint8_t { Accepted, Refused, Busy, Failed };
  /// The firmware-update command: verifies the manifest (check_update) and
  /// opens the transfer; *offset is where the sender starts (the staged
  /// prefix when the same manifest was already downloading). Refused: `why`
  /// is the check's text; Busy: another update runs (`why` says which);
  /// Failed: storage error.
  Offer offer(const char* manifest_b64, const char* signature_b64, uint64_t* offset, std::string* why);
  /// Where the transport writes (valid while state is downloading).
  StagingSink& sink() { return sink_; }

  /// Drives the machine: a complete transfer is verified and installed, the
  /// installer polled, and on trial the health gate decided: `session_up`
  /// and `healthy` both true -> committed; the window passes first ->
  /// rolled-back, mark_bad() and a restart request.
  void tick(bool session_up, bool healthy);

  /// A restart is due (after install, or a failed health gate).
  bool restart_requested() const { return restart_requested_; }
  const char* restart_reason() const { return restart_reason_; }
  void clear_restart_request() { restart_requested_ = false; }
  /// The transport gave up (the URL fetch failed for good): downloading ->
  /// failed with `error`, the staged bytes dropped. Nothing in other states.
  void fail_transfer(const char* error) {
    if (rec_.state == UpdateState::Downloading) fail(error);
  }

  UpdateStatus status() const;
  /// True from received to booted-unconfirmed: presence shows dnd.
  bool busy() const;
  /// Bumped on every change worth publishing (state, error, progress step).
  uint32_t changes() const { return changes_; }
  /// The never-below version ("" = none yet).
  const char* floor_version() const { return rec_.floor; }
  const char* installed_version() const { return installed_; }

 private:
  struct Record {
    UpdateState state = UpdateState::Idle;
    char version[kVersionMaxChars + 1] = {};
    char from[kVersionMaxChars + 1] = {};
    char floor[kVersionMaxChars + 1] = {};
    uint64_t size = 0;
    uint8_t sha256[32] = {};
    uint8_t manifest_sha[32] = {};
    char error[kTextMax] = {};
  };
  /// Persists `next` as the new state (with `error`), then adopts it.
  hal::Err transition(UpdateState next, const char* error = "");
  hal::Err save(const Record& r);
  bool load();
  void fail(const char* error);
  void verify_and_install();
  void begin_install();
  void request_restart(const char* reason);

  hal::Storage& storage_;
  hal::Installer& installer_;
  const TrustedKeys& keys_;
  hal::MonotonicClock& clock_;
  Options opt_;
  StagingSink sink_;
  Record rec_;
  char installed_[kVersionMaxChars + 1] = {};
  uint8_t progress_ = 0;
  hal::MonoTime trial_started_{};
  bool restart_requested_ = false;
  char restart_reason_[kTextMax] = {};
  uint32_t changes_ = 0;
};

}  // namespace agent

// `xiot-agent setup`: writes a validated device configuration, non-interactively,
// from flags or from a provisioning file (docs/provisioning.md), so a fleet is
// flashed from one image plus one small file per device.
//
//   xiot-agent setup --jid J --board NAME|PATH [--server H[:P]] [--ca FILE]
//                    [--owner JID]... [--operator JID]... [--viewer JID]...
//                    (--password-file FILE | --password-stdin)
//                    [--config-dir DIR] [--state-dir DIR] [--boards-dir DIR] [--force]
//   xiot-agent setup --from FILE [--password-file FILE | --password-stdin] [dirs] [--force]
//
// It writes DIR/agent.json (0640; root:xiot when run as root and group xiot
// exists), DIR/password (0600; xiot:xiot when run as root and user xiot
// exists) and, with a CA, DIR/ca.crt (0644). The config says "reboot":
// "logind" and keeps the journal in STATE/journal. The three files are first
// written to a private staging directory inside DIR, loaded there with the
// agent's own config loader (agent::load_config, plus the board parser), and
// only then renamed into place (ca.crt, password, agent.json last); on any
// error nothing is left behind. A secret is never taken from argv and never
// printed.
//
// Start-up/tool code: it allocates freely; no exceptions, no RTTI.
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstddef>
#include <string>

namespace agent {

/// The files setup writes, for the ownership seam.
enum class SetupFile : uint8_t {
  ConfigDir,  ///< DIR, only when setup created it
  Config,     ///< agent.json: root:xiot
  Password,   ///< password: xiot:xiot
  Ca,         ///< ca.crt: the caller's (root)
};

/// Who owns what setup writes. The system's implementation chowns; tests
/// record the calls or fail them.
class SetupOwnership {
 public:
  virtual ~SetupOwnership() = default;
  /// Gives `path` (a file in the staging directory, or DIR) the owner and
  /// group `kind` should have. Returns 0 or an errno value (setup then stops
  /// and removes what it wrote).
  virtual int apply(const char* path, SetupFile kind) = 0;
};

/// The real one: when the effective uid is 0, Config and ConfigDir go to
/// root:xiot when group xiot exists, Password to xiot:xiot when user xiot
/// exists (its primary group); Ca and everything else stay the caller's.
/// Not root: nothing is changed (the files are the caller's).
class SystemOwnership final : public SetupOwnership {
 public:
  SystemOwnership();
  int apply(const char* path, SetupFile kind) override;

 private:
  bool root_ = false;
  bool has_user_ = false;
  bool has_group_ = false;
  unsigned xiot_uid_ = 0;
  unsigned xiot_user_gid_ = 0;
  unsigned xiot_gid_ = 0;
};

/// Where setup reads and writes by default (the installed layout).
struct SetupDefaults {
  const char* config_dir = "/etc/xiot";
  const char* state_dir = "/var/lib/xiot";
  const char* boards_dir = "/usr/share/xiot/boards";
};

/// Runs setup. `argv[0]` is "setup"; the rest are its arguments. Reports
/// on `out` what it wrote and the next step; errors on `err` as one line,
/// "<source>: <key>: expected <what>, got <value>" where source is the
/// provisioning file or "xiot-agent setup" and key a flag ("--jid") or a
/// provisioning key ("owners[1]"). The password for --password-stdin is read
/// from `in_fd`. Returns 0 (written), 2 (bad arguments, a bad provisioning
/// file, a config that does not validate, or an existing agent.json without
/// --force) or 1 (a system error while writing: no permission, disk full).
int run_setup(int argc, char** argv, SetupOwnership& ownership, std::FILE* out, std::FILE* err, int in_fd,
              const SetupDefaults& defaults = SetupDefaults());

/// The usage text of `xiot-agent setup` (also part of `xiot-agent --help`).
const char* setup_usage();

/// Reads a whole small file (setup's CA and password files, identity's keys
/// and certificates): 0 or an errno value (EISDIR for a directory, EFBIG
/// over `max` bytes).
int read_small_file(const std::string& path, size_t max, std::string* out);

}  // namespace agent

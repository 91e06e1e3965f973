// Agent configuration: the JSON file described in shared/DESIGN.md, validated
// key by key at start-up. Relative paths are resolved against the directory of
// the config file (made absolute and lexically cleaned: "a/./b/../c" -> "a/c").
//
// Besides the DESIGN.md keys, "xmpp" accepts reconnect_base_s and
// reconnect_cap_s, and the top level "reboot" ("exec" | "logind"). The file
// may carry // and /* */ comments (json::kAllowComments; line:column in
// messages still count the file as written). A JSON null for an optional key means "not set" (the
// default applies); required keys (xmpp.jid, board) may not be null.
//
// This is start-up code: it allocates freely (std::string) and uses POSIX file
// calls (realpath, stat, mkdir). Nothing here runs per message.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "agent/alerts.hpp"

namespace agent {

enum class TlsMode : uint8_t { Required, Direct };
enum class Encoding : uint8_t { SenmlXml, Protobuf };
enum class LogLevel : uint8_t { Error, Warn, Info, Debug };
/// When the journal makes appended records durable (docs/journal.md).
enum class FsyncPolicy : uint8_t { Always, Interval, Never };
/// How the `reboot` command restarts the device (top-level "reboot").
enum class RebootMethod : uint8_t {
  Exec,    ///< "exec" (default): the agent re-executes itself (a host, a test, the simulated board)
  Logind,  ///< "logind": org.freedesktop.login1.Manager.Reboot over the system D-Bus (a device)
};

struct XmppConfig {
  std::string jid;            ///< bare JID "dev1@localhost"
  std::string password;       ///< from "password" or the file named by "password_file" (trailing newline trimmed)
  std::string password_file;  ///< absolute path when the password came from a file, else empty
  std::string resource = "xiot";
  std::string host;           ///< default: the JID's domain
  uint16_t port = 5222;
  TlsMode tls = TlsMode::Required;
  std::string ca_file;        ///< absolute; empty = system trust store
  std::string client_cert;    ///< absolute; with client_key: SASL EXTERNAL
  std::string client_key;
  uint32_t cert_warn_days = 30;        ///< "cert_warn_days", 1..3650: renewal warning (log, presence) inside it
  uint32_t ping_interval_s = 30;       ///< 5..3600
  double reconnect_base_s = 1.0;       ///< "reconnect_base_s", 0.1..3600 (full-jitter backoff base)
  double reconnect_cap_s = 60.0;       ///< "reconnect_cap_s", >= base, <= 86400; default max(60, base)
};

struct TelemetryConfig {
  double interval_s = 10.0;   ///< 0.05..86400
  std::string service = "pep";  ///< "pep" or a pubsub service JID
  std::string node;           ///< default "urn:xiot:telemetry:0" (pep) or "xiot/<localpart>/telemetry"
  uint32_t batch_max = 1;     ///< 1..100
  double sample_s = 1.0;      ///< 0.05..86400: on_change/deadband channels checked this often
  /// 0..60, 0 = off: readings taken faster than this travel together (the
  /// batch grows to floor(window / interval), at most 100) and an item so
  /// grown leaves at the latest this long after its first reading.
  double batch_window_s = 1.0;
  Encoding encoding = Encoding::SenmlXml;
};

struct AclConfig {
  std::vector<std::string> owners;     ///< bare JIDs or "*@domain", lower-cased
  std::vector<std::string> operators;
  std::vector<std::string> viewers;
};

struct JournalConfig {
  std::string path;            ///< absolute; default "<config dir>/state/journal" (a directory of segment files)
  uint64_t max_bytes = 1048576;  ///< 4096..1 GiB
  FsyncPolicy fsync = FsyncPolicy::Interval;  ///< "always" | "interval" | "never"
  double fsync_interval_s = 1.0;  ///< 0.05..3600; used with FsyncPolicy::Interval
};

/// Which hal::Installer applies verified updates ("update.installer").
enum class InstallerKind : uint8_t { Sim, Rauc, Deb };

/// Signed updates (docs/updates.md). Absent section: `enabled` false and the
/// firmware-update command answers that updates are not configured.
struct UpdateConfig {
  bool enabled = false;                 ///< the "update" object is present
  std::vector<std::string> public_keys;  ///< PEM text of each trusted key (read at load)
  std::vector<std::string> key_names;    ///< where each came from: the absolute path, or "update.public_keys[i]"
  InstallerKind installer = InstallerKind::Sim;  ///< "sim" (default) | "rauc" | "deb"
  double health_window_s = 120;          ///< 5..3600: time a trial boot has to come up healthy
  uint64_t max_image_bytes = uint64_t{1} << 30;  ///< 1..2^40
  std::string state_dir;                 ///< absolute; default "<journal.path's parent>/update" (the state directory)
};

/// "alerts" (docs/alerts.md). Start-up form (std::string, vector); the
/// runtime turns it into the fixed AlertSettings.
struct AlertsConfig {
  std::string room;             ///< bare JID; "" = the section is absent
  std::string nick;             ///< "" = the device's bare JID
  std::vector<AlertRule> rules; ///< at most kAlertRulesMax
};

struct AgentConfig {
  std::string file;            ///< the config file as given (for messages)
  std::string dir;             ///< absolute directory of the config file (base of relative paths)
  XmppConfig xmpp;
  std::string board;           ///< absolute path of the board file
  TelemetryConfig telemetry;
  AclConfig acl;
  JournalConfig journal;
  LogLevel log_level = LogLevel::Info;
  RebootMethod reboot = RebootMethod::Exec;  ///< "reboot": "exec" | "logind"
  UpdateConfig update;
  /// "alerts" (docs/alerts.md): the XEP-0045 room and the threshold rules.
  /// Absent = no room, no rules. The channels are checked against the board
  /// when it is open (agent/app: a channel the board does not have is a
  /// config error, one of a device that failed to start a warning).
  AlertsConfig alerts;
};

/// Reads and validates `path`. On success fills `*out` completely (defaults
/// applied, paths absolute, ACL patterns lower-cased) and returns true. On
/// failure returns false, leaves `*out` unspecified and sets `error` to one
/// line naming the file, the key (dotted path, e.g. "telemetry.interval_s",
/// "acl.viewers[2]") and what was expected, e.g.
///   "agent.json: telemetry.interval_s: expected a number from 0.05 to 86400, got 0"
///   "agent.json: xmpp.passwrd: unknown key (did you mean \"password\"?)"
///   "agent.json:7:3: malformed JSON: expected ',' or '}' near \"board\""
///   "agent.json: xmpp.password_file: cannot read /etc/xiot/pw: No such file or directory"
/// Unknown or duplicate keys, wrong types, out-of-range values, a missing
/// jid/board/credential, more than one credential form, unreadable files
/// (ca_file, board, password_file, client_cert, client_key) and a malformed
/// file (with line:column) are errors. A password or its file's content never
/// appears in a message. Creates the journal's parent directory if missing
/// (failure is an error naming journal.path). Only the first error is reported.
bool load_config(const char* path, AgentConfig* out, std::string* error);

/// Why `entry` is not a valid ACL entry, or nullptr when it is one: a bare
/// JID (local@domain) or "*@domain" ('*' only as the whole local part). The
/// text is a short reason for messages ("no '@'"), a string literal.
const char* acl_entry_problem(const char* entry);

/// Parses "error|warn|info|debug" (exact, lower case). Returns false for
/// anything else, including nullptr, and leaves *out unchanged then.
bool parse_log_level(const char* text, LogLevel* out);

/// "error" | "warn" | "info" | "debug".
const char* log_level_name(LogLevel level);

/// "always" | "interval" | "never".
const char* fsync_policy_name(FsyncPolicy policy);

/// "exec" | "logind".
const char* reboot_method_name(RebootMethod method);

}  // namespace agent

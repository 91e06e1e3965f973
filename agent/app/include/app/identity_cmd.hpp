// `xiot-agent identity new|show`: the device's key and CSR on disk.
//
//   xiot-agent identity new  [--config FILE] [--jid J] [--state-dir DIR] [--force]
//   xiot-agent identity show [--config FILE] [--jid J] [--state-dir DIR] [--cert FILE]
//
// Files (docs/identity.md): STATE/identity/device.key (EC P-256, PEM, 0600,
// written to a temp file in the same directory, fsynced, then renamed), and
// STATE/identity/device.csr (0644). STATE is the config's state directory
// (the journal's parent, /var/lib/xiot on a device) unless --state-dir is
// given; the JID is the config's xmpp.jid unless --jid is given. With both
// --jid and --state-dir no config is read (provisioning a device before its
// config exists). The certificate the operator signs is conventionally
// STATE/identity/device.crt and is named in the config as xmpp.client_cert
// (with xmpp.client_key = the key).
//
// `new` refuses to replace an existing key without --force, prints the CSR
// (PEM) on stdout and nothing else there; the key is never printed or
// logged. `show` prints the JID, the key's fingerprint (SHA-256 of its
// public key) and, when a certificate is configured or given, its subject,
// xmppAddr, issuer, validity, days left and whether it matches the key.
//
// Exit codes: 0 done, 1 a system error (cannot write, no entropy), 2 bad
// arguments or config, an existing key without --force, no key for `show`.
// Start-up/tool code: it allocates freely; no exceptions.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>

#include "agent/command_handler.hpp"

namespace agent {

struct IdentityDefaults {
  const char* config = "/etc/xiot/agent.json";
};

/// The identity directory of a state directory: STATE/identity.
std::string identity_dir(const std::string& state_dir);

/// Writes `text` to `path` with exactly `mode`: a temp file beside it,
/// fsynced, renamed over `path`, the directory fsynced. Returns 0 or an errno.
int write_file_atomically(const std::string& path, const std::string& text, unsigned mode);

/// Reads a whole small file (at most 1 MiB). Returns 0 or an errno.
int read_whole_file(const std::string& path, std::string* out);

struct AgentConfig;

/// At start-up: logs the configured client certificate's state (nothing
/// without xmpp.client_cert): an error line when it is expired or not yet
/// valid (the server will refuse it), a warning inside the renewal window
/// (`warn_days`), else one info line with the days left. Returns the days
/// left (negative once expired), or INT64_MIN without a readable certificate.
int64_t log_client_certificate(const AgentConfig& cfg, int64_t now, int64_t warn_days);

/// The configured client certificate's notAfter (Unix s), 0 without one
/// (or when it cannot be read: log_client_certificate() said why).
int64_t client_certificate_not_after(const AgentConfig& cfg);

/// Rotation (docs/identity.md "Rotation"): `identity rotate` writes
/// STATE/identity/pending.key (0600) + pending.csr, `identity install CERT`
/// checks CERT against pending.key and the JID and stores it as pending.crt.
/// At its next start the agent logs in with the pending pair; once online it
/// commits (renames pending.key/.crt over xmpp.client_key/client_cert); if
/// the server refuses it, pending.crt becomes pending.crt.refused and the
/// agent goes on with the current identity.
struct PendingIdentity {
  std::string key;   ///< STATE/identity/pending.key
  std::string cert;  ///< STATE/identity/pending.crt
};

/// True when the config logs in with a certificate and both pending files exist.
bool find_pending_identity(const AgentConfig& cfg, PendingIdentity* out);

/// Renames the pending pair over the configured client_key/client_cert.
/// Returns 0 or an errno.
int commit_pending_identity(const AgentConfig& cfg, const PendingIdentity& p);

/// pending.crt -> pending.crt.refused (the key stays for a new signature).
void refuse_pending_identity(const PendingIdentity& p);

/// Makes an EC P-256 key (key_path, 0600) and its CSR for `jid` (csr_path,
/// returned in `csr`), creating `dir` (0700). Returns 0 or an errno with `error`.
int make_key_and_csr(const std::string& dir, const std::string& key_path, const std::string& csr_path,
                     const std::string& jid, std::string* csr, std::string* error);

/// Checks `pem` against DIR/pending.key, `jid` and `now` (valid now) and
/// stores it as DIR/pending.crt. Returns 0 (`done` says what), -1 when the
/// certificate failed a check, or an errno (cannot write); `error` says why.
int install_pending_certificate(const std::string& dir, const std::string& jid, const std::string& pem, int64_t now,
                                std::string* done, std::string* error);

/// The base64 between a PEM's armour lines, without line breaks.
std::string pem_body(const std::string& pem);
/// A PEM with `label` around `b64` (in 64-character lines).
std::string pem_from_body(const std::string& b64, const char* label);

/// The rotate-identity command's files (agent::IdentityRotator): the same
/// pending.key/.csr/.crt as `identity rotate|install`, in the config's
/// STATE/identity, for the config's JID. `now` is the wall clock (Unix s).
class FileIdentityRotator : public IdentityRotator {
 public:
  FileIdentityRotator(const AgentConfig& cfg, int64_t (*now)());
  void begin(char* csr_b64, size_t cap, IdentityRotationAnswer* out) override;
  void install(const char* cert_b64, IdentityRotationAnswer* out) override;

 private:
  std::string dir_;
  std::string jid_;
  int64_t (*now_)();
};

/// Runs `identity`. argv[0] is "identity". `now` is the wall clock (Unix s).
int run_identity(int argc, char** argv, std::FILE* out, std::FILE* err, int64_t now,
                 const IdentityDefaults& defaults = IdentityDefaults());

}  // namespace agent

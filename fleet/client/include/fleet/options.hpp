// How the operator client reaches the server: from an ops.json file and/or
// command-line flags.
#pragma once

#include <string>

namespace fleet {

struct ConnectionOptions {
  std::string jid;       ///< "ops@localhost" (a resource, if any, is kept)
  std::string password;
  std::string host;      ///< "" = the JID's domain
  int port = 5222;
  std::string ca_file;   ///< "" = the system trust store; otherwise the only CA trusted
  bool verbose = false;  ///< libstrophe's log (stanzas included) on stderr
  /// XEP-0198. Worth it for a long `watch`; a one-shot query turns it off:
  /// libstrophe sends an <r/> after every stanza and the server answers each.
  bool stream_management = true;
};

/// Reads an operator config file and overrides the fields it sets:
/// {"jid": "ops@localhost", "password": "..." | "password_file": "...",
///  "host": "127.0.0.1", "port": 5222, "ca_file": "certs/ca.crt"}.
/// Relative paths are relative to the file's directory. Read through
/// json::Reader (json/reader.hpp): unknown or duplicate keys, wrong types,
/// empty strings, null values, out-of-range ports (agent::limits::kPort),
/// both password and password_file, and a file over 1 MiB are refused.
/// Throws fleet::Error(Exit::Usage) with the reader's one-line message,
/// `FILE: KEY: expected X, got Y` (e.g. "ops.json: port: expected an integer
/// from 1 to 65535, got 0", "ops.json: colour: unknown key (...)").
void load_operator_config(const std::string& path, ConnectionOptions* opts);

/// Checks what a login needs: a bare or full JID with a local part and a
/// domain, a password, a port in 1-65535, a readable CA file if one is set.
/// Throws fleet::Error(Exit::Usage).
void validate_options(const ConnectionOptions& opts);

/// "ops@localhost/x" -> "ops@localhost"; "localhost" -> "localhost".
std::string bare_jid(const std::string& jid);
/// "ops@localhost/x" -> "localhost".
std::string jid_domain(const std::string& jid);

}  // namespace fleet

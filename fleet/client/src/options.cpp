#include "fleet/options.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include <unistd.h>

#include "agent/limits.hpp"
#include "fleet/error.hpp"
#include "json/reader.hpp"

namespace fleet {
namespace {

std::string dir_of(const std::string& path) {
  const size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

std::string resolve(const std::string& base_dir, const std::string& p) {
  if (p.empty() || p[0] == '/') return p;
  return base_dir + "/" + p;
}

constexpr size_t kMaxConfigBytes = 1 << 20;  // as the agent's config file
constexpr const char* kKeys[] = {"jid", "password", "password_file", "host", "port", "ca_file"};
constexpr const char* kFilePath = "a file path (non-empty string)";

/// ops.json has always refused a JSON null, which the reader counts as
/// absent for an optional key: a key that is there is read as required.
unsigned presence(const json::Value& v) { return v.missing() ? json::kOptional : json::kRequired; }

/// The password from `file` (trailing newlines dropped); false with the
/// error recorded on `key` (the password_file key).
bool read_password_file(const json::Value& key, const std::string& file, std::string* out) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return key.fail("cannot read " + file + ": " + std::strerror(errno));
  std::ostringstream ss;
  ss << in.rdbuf();
  std::string pw = ss.str();
  while (!pw.empty() && (pw.back() == '\n' || pw.back() == '\r')) pw.pop_back();
  if (pw.empty()) return key.fail(file + " is empty; expected a file holding the password");
  *out = std::move(pw);
  return true;
}

/// The credential: password or password_file (relative to `base`), not both.
bool read_credential(const json::Value& root, const std::string& base, ConnectionOptions* o) {
  const json::Value password = root["password"];
  const json::Value password_file = root["password_file"];
  if (!password.text(&o->password, "a non-empty string", presence(password) | json::kSecret)) return false;
  std::string file;
  if (!password_file.text(&file, kFilePath, presence(password_file))) return false;
  if (file.empty()) return true;
  if (!password.absent()) return password_file.fail("expected either password or password_file, got both");
  return read_password_file(password_file, resolve(base, file), &o->password);
}

/// Every key of ops.json into `*o` (the keys it does not set are kept).
bool read_operator_config(const json::Reader& doc, const std::string& base, ConnectionOptions* o) {
  const json::Value root = doc.root();
  const json::Value jid = root["jid"];
  const json::Value host = root["host"];
  const json::Value port = root["port"];
  const json::Value ca_file = root["ca_file"];
  std::string ca;
  if (!root.object(kKeys) || !jid.text(&o->jid, "a JID like ops@localhost", presence(jid)) ||
      !read_credential(root, base, o) || !host.text(&o->host, "a host name or IP address", presence(host)) ||
      !port.integer(&o->port, agent::limits::kPort.lo, agent::limits::kPort.hi, presence(port)) ||
      !ca_file.text(&ca, kFilePath, presence(ca_file))) {
    return false;
  }
  if (!ca.empty()) o->ca_file = resolve(base, ca);
  return true;
}

}  // namespace

std::string bare_jid(const std::string& jid) { return jid.substr(0, jid.find('/')); }

std::string jid_domain(const std::string& jid) {
  const std::string bare = bare_jid(jid);
  const size_t at = bare.find('@');
  return at == std::string::npos ? bare : bare.substr(at + 1);
}

void load_operator_config(const std::string& path, ConnectionOptions* opts) {
  json::Reader doc(path);
  ConnectionOptions o = *opts;
  if (!doc.load(kMaxConfigBytes, "an operator config file") || !read_operator_config(doc, dir_of(path), &o)) {
    throw Error(Exit::Usage, doc.error());
  }
  *opts = std::move(o);
}

void validate_options(const ConnectionOptions& opts) {
  if (opts.jid.empty()) throw Error(Exit::Usage, "no JID: give --jid or a config file with \"jid\"");
  const std::string bare = bare_jid(opts.jid);
  const size_t at = bare.find('@');
  if (at == std::string::npos || at == 0 || at + 1 >= bare.size()) {
    throw Error(Exit::Usage, "JID '" + opts.jid + "' is not of the form user@domain");
  }
  if (opts.password.empty()) {
    throw Error(Exit::Usage, "no password: give --password or a config file with \"password\"");
  }
  if (opts.port < 1 || opts.port > 65535) {
    throw Error(Exit::Usage, "port " + std::to_string(opts.port) + " is not in 1-65535");
  }
  if (!opts.ca_file.empty() && access(opts.ca_file.c_str(), R_OK) != 0) {
    throw Error(Exit::Usage, "CA file " + opts.ca_file + ": " + std::strerror(errno));
  }
}

}  // namespace fleet

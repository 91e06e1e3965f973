#include "app/identity_cmd.hpp"
#include "app/setup.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <string>

#include "agent/config.hpp"
#include "agent/identity.hpp"
#include "agent/log.hpp"

namespace agent {

namespace {

constexpr int kOk = 0;
constexpr int kFailure = 1;
constexpr int kUsage = 2;
constexpr size_t kMaxFile = 1024 * 1024;
/// install_pending_certificate(): the certificate failed a check.
constexpr int kRefused = -1;

const char* usage_text() {
  return "usage: xiot-agent identity new  [--config FILE] [--jid J] [--state-dir DIR] [--force]\n"
         "       xiot-agent identity show [--config FILE] [--jid J] [--state-dir DIR] [--cert FILE]\n"
         "       xiot-agent identity rotate [--config FILE] [--jid J] [--state-dir DIR] [--force]\n"
         "       xiot-agent identity install CERT [--config FILE] [--jid J] [--state-dir DIR]\n"
         "rotate: a new key + CSR beside the current ones (pending.key, pending.csr); install: the signed\n"
         "     certificate for it (pending.crt); the agent switches at its next start once the server takes it.\n"
         "new: makes STATE/identity/device.key (EC P-256, 0600) and device.csr (subject CN=JID,\n"
         "     subjectAltName id-on-xmppAddr JID) and prints the CSR; sign it with `xiotctl ca sign`.\n"
         "show: JID, key fingerprint and the configured (or --cert) certificate's validity.\n";
}

std::string parent_of(const std::string& path) {
  const size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

int make_dir(const std::string& dir, mode_t mode) {
  if (::mkdir(dir.c_str(), mode) == 0 || errno == EEXIST) return 0;
  if (errno == ENOENT) {
    const int e = make_dir(parent_of(dir), 0755);
    if (e != 0) return e;
    if (::mkdir(dir.c_str(), mode) == 0 || errno == EEXIST) return 0;
  }
  return errno;
}

struct Args {
  std::string cmd;
  std::string config;
  std::string jid;
  std::string state_dir;
  std::string cert;
  bool force = false;
  bool config_given = false;
};

}  // namespace

std::string identity_dir(const std::string& state_dir) { return state_dir + "/identity"; }

int read_whole_file(const std::string& path, std::string* out) { return read_small_file(path, kMaxFile, out); }

int write_file_atomically(const std::string& path, const std::string& text, unsigned mode) {
  const std::string tmp = path + ".tmp";
  (void)::unlink(tmp.c_str());
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, static_cast<mode_t>(mode));
  if (fd < 0) return errno;
  int e = 0;
  if (::fchmod(fd, static_cast<mode_t>(mode)) != 0) e = errno;
  size_t done = 0;
  while (e == 0 && done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      e = errno;
      break;
    }
    done += static_cast<size_t>(n);
  }
  if (e == 0 && ::fsync(fd) != 0) e = errno;
  if (::close(fd) != 0 && e == 0) e = errno;
  if (e == 0 && ::rename(tmp.c_str(), path.c_str()) != 0) e = errno;
  if (e != 0) {
    (void)::unlink(tmp.c_str());
    return e;
  }
  const int dfd = ::open(parent_of(path).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    (void)::fsync(dfd);
    ::close(dfd);
  }
  return 0;
}

int64_t log_client_certificate(const AgentConfig& cfg, int64_t now, int64_t warn_days) {
  const std::string& path = cfg.xmpp.client_cert;
  if (path.empty()) return INT64_MIN;
  std::string pem, error;
  const int e = read_whole_file(path, &pem);
  if (e != 0) {
    XLOG_ERROR("identity", "client certificate %s: cannot read: %s", path.c_str(), std::strerror(e));
    return INT64_MIN;
  }
  identity::CertInfo info;
  if (identity::read_cert(pem, &info, &error) != hal::Err::Ok) {
    XLOG_ERROR("identity", "client certificate %s: %s", path.c_str(), error.c_str());
    return INT64_MIN;
  }
  const int64_t left = identity::days_left(info.not_after, now);
  if (now < info.not_before) {
    XLOG_ERROR("identity", "client certificate %s is not yet valid: valid from %s, the clock says %s; the server "
               "will refuse it", path.c_str(), identity::iso8601(info.not_before).c_str(), identity::iso8601(now).c_str());
  } else if (now > info.not_after) {
    XLOG_ERROR("identity", "client certificate %s expired on %s (%lld days ago); the server will refuse it: "
               "rotate it (docs/identity.md)", path.c_str(), identity::iso8601(info.not_after).c_str(),
               static_cast<long long>(-left));
  } else if (left < warn_days) {
    XLOG_WARN("identity", "client certificate %s expires on %s: %lld days left (renew within %lld days)", path.c_str(),
              identity::iso8601(info.not_after).c_str(), static_cast<long long>(left),
              static_cast<long long>(warn_days));
  } else {
    XLOG_INFO("identity", "client certificate %s for %s, valid until %s (%lld days left)", path.c_str(),
              info.jid.empty() ? "(no xmppAddr)" : info.jid.c_str(), identity::iso8601(info.not_after).c_str(),
              static_cast<long long>(left));
  }
  if (!info.jid.empty() && info.jid != cfg.xmpp.jid) {
    XLOG_WARN("identity", "client certificate %s names %s, not %s", path.c_str(), info.jid.c_str(),
              cfg.xmpp.jid.c_str());
  }
  return left;
}

int64_t client_certificate_not_after(const AgentConfig& cfg) {
  if (cfg.xmpp.client_cert.empty()) return 0;
  std::string pem, error;
  identity::CertInfo info;
  if (read_whole_file(cfg.xmpp.client_cert, &pem) != 0 || identity::read_cert(pem, &info, &error) != hal::Err::Ok) {
    return 0;
  }
  return info.not_after;
}

bool find_pending_identity(const AgentConfig& cfg, PendingIdentity* out) {
  if (cfg.xmpp.client_cert.empty()) return false;
  const std::string dir = identity_dir(parent_of(cfg.journal.path));
  struct stat st;
  if (::stat((dir + "/pending.key").c_str(), &st) != 0 || ::stat((dir + "/pending.crt").c_str(), &st) != 0) {
    return false;
  }
  out->key = dir + "/pending.key";
  out->cert = dir + "/pending.crt";
  return true;
}

int commit_pending_identity(const AgentConfig& cfg, const PendingIdentity& p) {
  // Key first: a cut between the two renames leaves the new key with the old
  // certificate, which `identity show` reports as "does not match the key".
  if (::rename(p.key.c_str(), cfg.xmpp.client_key.c_str()) != 0) return errno;
  if (::rename(p.cert.c_str(), cfg.xmpp.client_cert.c_str()) != 0) return errno;
  (void)::unlink((parent_of(p.key) + "/pending.csr").c_str());
  const int dfd = ::open(parent_of(cfg.xmpp.client_cert).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    (void)::fsync(dfd);
    ::close(dfd);
  }
  return 0;
}

void refuse_pending_identity(const PendingIdentity& p) {
  (void)::rename(p.cert.c_str(), (p.cert + ".refused").c_str());
}

int make_key_and_csr(const std::string& dir, const std::string& key_path, const std::string& csr_path,
                     const std::string& jid, std::string* csr, std::string* error) {
  int e = make_dir(dir, 0700);
  if (e != 0) {
    *error = "cannot create " + dir + ": " + std::strerror(e);
    return e;
  }
  std::string key, why;
  if (identity::generate_key(&key) != hal::Err::Ok) {
    *error = "key generation failed (entropy source)";
    return EIO;
  }
  if (identity::make_csr(key, jid, csr, &why) != hal::Err::Ok) {
    std::fill(key.begin(), key.end(), '\0');
    *error = "CSR for '" + jid + "': " + why;
    return EINVAL;
  }
  e = write_file_atomically(key_path, key, 0600);
  std::fill(key.begin(), key.end(), '\0');
  if (e == 0) e = write_file_atomically(csr_path, *csr, 0644);
  if (e != 0) {
    *error = "cannot write " + dir + ": " + std::strerror(e);
    return e;
  }
  return 0;
}

int install_pending_certificate(const std::string& dir, const std::string& jid, const std::string& pem, int64_t now,
                                std::string* done, std::string* error) {
  std::string key, pub, why;
  int e = read_whole_file(dir + "/pending.key", &key);
  if (e != 0) {
    *error = "no pending key " + dir + "/pending.key: " + std::strerror(e) + " (rotate first)";
    return kRefused;
  }
  const hal::Err pe = identity::public_key_der(key, &pub);
  std::fill(key.begin(), key.end(), '\0');
  if (pe != hal::Err::Ok) {
    *error = dir + "/pending.key: not a private key";
    return kRefused;
  }
  identity::CertInfo info;
  if (identity::read_cert(pem, &info, &why) != hal::Err::Ok) {
    *error = why;
    return kRefused;
  }
  if (info.pubkey_der != pub) {
    *error = "not signed for pending.key (another key)";
    return kRefused;
  }
  if (info.jid != jid) {
    *error = "names " + (info.jid.empty() ? std::string("no xmppAddr") : info.jid) + ", not " + jid;
    return kRefused;
  }
  if (now < info.not_before || now > info.not_after) {
    *error = now < info.not_before ? "not valid before " + identity::iso8601(info.not_before)
                                   : "expired " + identity::iso8601(info.not_after);
    return kRefused;
  }
  if ((e = write_file_atomically(dir + "/pending.crt", pem, 0644)) != 0) {
    *error = "cannot write " + dir + "/pending.crt: " + std::strerror(e);
    return e;
  }
  (void)::unlink((dir + "/pending.crt.refused").c_str());
  *done = "installed " + dir + "/pending.crt (serial " + info.serial + ", valid until " +
          identity::iso8601(info.not_after) + ")";
  return 0;
}

FileIdentityRotator::FileIdentityRotator(const AgentConfig& cfg, int64_t (*now)())
    : dir_(identity_dir(parent_of(cfg.journal.path))), jid_(cfg.xmpp.jid), now_(now) {}

void FileIdentityRotator::begin(char* csr_b64, size_t cap, IdentityRotationAnswer* out) {
  using Kind = IdentityRotationAnswer::Kind;
  std::string csr, error;
  const int e = make_key_and_csr(dir_, dir_ + "/pending.key", dir_ + "/pending.csr", jid_, &csr, &error);
  if (e != 0) {
    out->kind = Kind::Failed;
    std::snprintf(out->text, sizeof out->text, "%s", error.c_str());
    return;
  }
  (void)::unlink((dir_ + "/pending.crt").c_str());
  const std::string body = pem_body(csr);
  if (body.size() + 1 > cap) {
    out->kind = Kind::Failed;
    std::snprintf(out->text, sizeof out->text, "the CSR is %zu characters of base64 (room for %zu)", body.size(),
                  cap - 1);
    return;
  }
  std::memcpy(csr_b64, body.c_str(), body.size() + 1);
  out->kind = Kind::Ok;
  std::snprintf(out->text, sizeof out->text, "new key %s/pending.key and CSR for %s", dir_.c_str(), jid_.c_str());
}

void FileIdentityRotator::install(const char* cert_b64, IdentityRotationAnswer* out) {
  using Kind = IdentityRotationAnswer::Kind;
  std::string done, error;
  const int e = install_pending_certificate(dir_, jid_, pem_from_body(cert_b64, "CERTIFICATE"), now_(), &done, &error);
  out->kind = e == 0 ? Kind::Ok : e == kRefused ? Kind::Refused : Kind::Failed;
  std::snprintf(out->text, sizeof out->text, "%s", e == 0 ? done.c_str() : error.c_str());
}

std::string pem_body(const std::string& pem) {
  std::string body;
  size_t at = 0;
  while (at < pem.size()) {
    size_t end = pem.find('\n', at);
    if (end == std::string::npos) end = pem.size();
    std::string line = pem.substr(at, end - at);
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
    if (line.compare(0, 5, "-----") != 0) body += line;
    at = end + 1;
  }
  return body;
}

std::string pem_from_body(const std::string& b64, const char* label) {
  std::string pem = std::string("-----BEGIN ") + label + "-----\n";
  for (size_t at = 0; at < b64.size(); at += 64) pem += b64.substr(at, 64) + "\n";
  pem += std::string("-----END ") + label + "-----\n";
  return pem;
}

int run_identity(int argc, char** argv, std::FILE* out, std::FILE* err, int64_t now,
                 const IdentityDefaults& defaults) {
  Args a;
  a.config = defaults.config;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      std::fputs(usage_text(), out);
      return kOk;
    }
    if (arg == "--force") {
      a.force = true;
      continue;
    }
    std::string* value = arg == "--config"      ? &a.config
                         : arg == "--jid"       ? &a.jid
                         : arg == "--state-dir" ? &a.state_dir
                         : arg == "--cert"      ? &a.cert
                                                : nullptr;
    if (value != nullptr) {
      if (i + 1 >= argc || argv[i + 1][0] == '\0') {
        std::fprintf(err, "xiot-agent identity: %s needs a value\n", arg.c_str());
        return kUsage;
      }
      *value = argv[++i];
      if (arg == "--config") a.config_given = true;
      continue;
    }
    if (a.cmd.empty() && arg[0] != '-') {
      a.cmd = arg;
      continue;
    }
    if (a.cmd == "install" && a.cert.empty() && arg[0] != '-') {
      a.cert = arg;
      continue;
    }
    std::fprintf(err, "xiot-agent identity: unknown argument '%s' (see --help)\n", arg.c_str());
    return kUsage;
  }
  if (a.cmd == "install" && a.cert.empty()) {
    std::fprintf(err, "xiot-agent identity install: missing CERT (the certificate signed for pending.csr)\n");
    return kUsage;
  }
  const std::string install_cert = a.cmd == "install" ? a.cert : std::string();
  if (a.cmd != "new" && a.cmd != "show" && a.cmd != "rotate" && a.cmd != "install") {
    std::fprintf(err, "xiot-agent identity: expected 'new', 'show', 'rotate' or 'install'%s%s (see --help)\n",
                 a.cmd.empty() ? "" : ", got ", a.cmd.c_str());
    return kUsage;
  }
  if (a.cmd == "install") a.cert.clear();
  if (a.cmd == "new" && !a.cert.empty()) {
    std::fprintf(err, "xiot-agent identity new: --cert is for 'show'\n");
    return kUsage;
  }
  // The config, unless both --jid and --state-dir say everything.
  AgentConfig cfg;
  const bool need_config = a.config_given || a.jid.empty() || a.state_dir.empty();
  if (need_config) {
    std::string error;
    if (!load_config(a.config.c_str(), &cfg, &error)) {
      std::fprintf(err, "xiot-agent identity: %s\n", error.c_str());
      return kUsage;
    }
    if (a.jid.empty()) a.jid = cfg.xmpp.jid;
    if (a.state_dir.empty()) a.state_dir = parent_of(cfg.journal.path);
    if (a.cert.empty()) a.cert = cfg.xmpp.client_cert;
  }
  std::string why;
  if (a.jid.find('@') == std::string::npos || a.jid.find('/') != std::string::npos || a.jid.size() > 1023) {
    std::fprintf(err, "xiot-agent identity: --jid: expected a bare JID (local@domain), got '%s'\n", a.jid.c_str());
    return kUsage;
  }
  const std::string dir = identity_dir(a.state_dir);
  const bool rotating = a.cmd == "rotate";
  const std::string key_path = dir + (rotating ? "/pending.key" : "/device.key");
  const std::string csr_path = dir + (rotating ? "/pending.csr" : "/device.csr");
  if (a.cmd == "install") {
    std::string pem, error, done;
    int e = read_whole_file(install_cert, &pem);
    if (e != 0) {
      std::fprintf(err, "xiot-agent identity install: %s: %s\n", install_cert.c_str(), std::strerror(e));
      return kUsage;
    }
    e = install_pending_certificate(dir, a.jid, pem, now, &done, &error);
    if (e != 0) {
      std::fprintf(err, "xiot-agent identity install: %s: %s\n", install_cert.c_str(), error.c_str());
      return e == kRefused ? kUsage : kFailure;
    }
    std::fprintf(out, "%s; the agent switches at its next start\n", done.c_str());
    return kOk;
  }
  // A configured client_key wins over the default place.
  const std::string used_key = need_config && !cfg.xmpp.client_key.empty() ? cfg.xmpp.client_key : key_path;

  if (a.cmd == "new" || rotating) {
    struct stat st;
    if (!a.force && ::stat(key_path.c_str(), &st) == 0) {
      std::fprintf(err, "xiot-agent identity new: %s exists; --force replaces it (the old key is lost)\n",
                   key_path.c_str());
      return kUsage;
    }
    std::string csr, error;
    const int e = make_key_and_csr(dir, key_path, csr_path, a.jid, &csr, &error);
    if (e != 0) {
      std::fprintf(err, "xiot-agent identity new: %s\n", error.c_str());
      return kFailure;
    }
    if (rotating) {
      // An older pending certificate was for an older pending key.
      (void)::unlink((dir + "/pending.crt").c_str());
    }
    std::fputs(csr.c_str(), out);
    std::fprintf(err, "xiot-agent identity: wrote %s (0600) and %s for %s\n", key_path.c_str(), csr_path.c_str(),
                 a.jid.c_str());
    return kOk;
  }

  // show
  std::string key;
  int e = read_whole_file(used_key, &key);
  if (e != 0) {
    std::fprintf(err, "xiot-agent identity show: cannot read the key %s: %s (run `xiot-agent identity new`)\n",
                 used_key.c_str(), std::strerror(e));
    return kUsage;
  }
  std::string pub;
  if (identity::public_key_der(key, &pub) != hal::Err::Ok) {
    std::fill(key.begin(), key.end(), '\0');
    std::fprintf(err, "xiot-agent identity show: %s: not a private key (PEM)\n", used_key.c_str());
    return kUsage;
  }
  std::fill(key.begin(), key.end(), '\0');
  std::fprintf(out, "jid: %s\nkey: %s\nfingerprint: %s\n", a.jid.c_str(), used_key.c_str(),
               identity::fingerprint(pub).c_str());
  struct stat st;
  if (::stat(csr_path.c_str(), &st) == 0) std::fprintf(out, "csr: %s\n", csr_path.c_str());
  if (a.cert.empty()) {
    std::fprintf(out, "certificate: none configured\n");
    return kOk;
  }
  std::string pem, error;
  e = read_whole_file(a.cert, &pem);
  if (e != 0) {
    std::fprintf(err, "xiot-agent identity show: cannot read the certificate %s: %s\n", a.cert.c_str(),
                 std::strerror(e));
    return kUsage;
  }
  identity::CertInfo info;
  if (identity::read_cert(pem, &info, &error) != hal::Err::Ok) {
    std::fprintf(err, "xiot-agent identity show: %s: %s\n", a.cert.c_str(), error.c_str());
    return kUsage;
  }
  const int64_t left = identity::days_left(info.not_after, now);
  std::fprintf(out,
               "certificate: %s\nsubject: %s\nxmppAddr: %s\nissuer: %s\nserial: %s\nnot_before: %s\n"
               "not_after: %s\ndays_left: %lld\n",
               a.cert.c_str(), info.subject.c_str(), info.jid.empty() ? "(none)" : info.jid.c_str(),
               info.issuer.c_str(), info.serial.c_str(), identity::iso8601(info.not_before).c_str(),
               identity::iso8601(info.not_after).c_str(), static_cast<long long>(left));
  const char* state = now < info.not_before  ? "not yet valid"
                      : now > info.not_after ? "expired"
                      : info.pubkey_der != pub ? "does not match the key"
                      : info.jid != a.jid      ? "xmppAddr is not the JID"
                                               : "ok";
  std::fprintf(out, "status: %s\n", state);
  return kOk;
}

}  // namespace agent

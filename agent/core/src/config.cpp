#include "agent/config.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "agent/forms.hpp"
#include "agent/jid.hpp"
#include "agent/limits.hpp"
#include "agent/update_manifest.hpp"
#include "json/reader.hpp"

namespace agent {

namespace {

constexpr size_t kMaxConfigBytes = 1 << 20;
constexpr size_t kMaxPasswordBytes = 1024;
constexpr size_t kCommandTextMaxForConfig = 160;

// ---- paths -------------------------------------------------------------------

/// Lexical clean of an absolute path: collapses "//", "." and "x/..".
std::string clean_path(const std::string& abs) {
  std::vector<std::string> parts;
  size_t i = 0;
  while (i <= abs.size()) {
    size_t j = abs.find('/', i);
    if (j == std::string::npos) j = abs.size();
    const std::string part = abs.substr(i, j - i);
    if (part.empty() || part == ".") {
      // skip
    } else if (part == "..") {
      if (!parts.empty()) parts.pop_back();
    } else {
      parts.push_back(part);
    }
    i = j + 1;
  }
  std::string out;
  for (const std::string& p : parts) {
    out += '/';
    out += p;
  }
  return out.empty() ? "/" : out;
}

std::string parent_dir(const std::string& abs) {
  const size_t slash = abs.rfind('/');
  if (slash == std::string::npos || slash == 0) return "/";
  return abs.substr(0, slash);
}

std::string errno_text(int err) { return std::strerror(err); }

/// Reads a whole (small) file. Returns 0 or an errno value; EFBIG if larger than max.
int read_file(const std::string& path, size_t max, std::string* out) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return errno;
  if (S_ISDIR(st.st_mode)) return EISDIR;
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) return errno;
  out->clear();
  char buf[4096];
  int err = 0;
  for (;;) {
    const size_t n = std::fread(buf, 1, sizeof buf, f);
    out->append(buf, n);
    if (out->size() > max) {
      err = EFBIG;
      break;
    }
    if (n < sizeof buf) {
      if (std::ferror(f)) err = EIO;
      break;
    }
  }
  std::fclose(f);
  return err;
}

/// 0 when `path` is a readable regular file (or device), else an errno value.
int check_readable(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return errno;
  if (S_ISDIR(st.st_mode)) return EISDIR;
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) return errno;
  std::fclose(f);
  return 0;
}

/// mkdir -p. Returns 0 or an errno value, with *failed set to the directory
/// that could not be created.
int make_dirs(const std::string& abs, std::string* failed) {
  std::string partial;
  size_t i = 1;
  while (i <= abs.size()) {
    size_t j = abs.find('/', i);
    if (j == std::string::npos) j = abs.size();
    partial = abs.substr(0, j);
    if (::mkdir(partial.c_str(), 0755) != 0 && errno != EEXIST) {
      *failed = partial;
      return errno;
    }
    i = j + 1;
  }
  struct stat st {};
  if (::stat(abs.c_str(), &st) != 0) {
    *failed = abs;
    return errno;
  }
  if (!S_ISDIR(st.st_mode)) {
    *failed = abs;
    return ENOTDIR;
  }
  return 0;
}

// ---- small helpers -----------------------------------------------------------

std::string lower_ascii(std::string s) {
  for (char& c : s) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return s;
}

bool has_control(const char* s) {
  for (const char* p = s; *p != '\0'; ++p) {
    const auto c = static_cast<unsigned char>(*p);
    if (c < 0x20 || c == 0x7F) return true;
  }
  return false;
}

bool has_space_or_control(const char* s) {
  for (const char* p = s; *p != '\0'; ++p) {
    const auto c = static_cast<unsigned char>(*p);
    if (c <= 0x20 || c == 0x7F) return true;
  }
  return false;
}

// ---- the loader --------------------------------------------------------------

const char* const kTopKeys[] = {"xmpp", "board", "telemetry", "acl", "journal", "log", "reboot", "update", "alerts"};
const char* const kAlertsKeys[] = {"room", "nick", "rules"};
const char* const kAlertRuleKeys[] = {"channel", "above", "below", "hysteresis", "for_s"};
const char* const kUpdateKeys[] = {"public_keys", "installer", "health_window_s", "max_image_bytes", "state_dir"};
const json::Choice<InstallerKind> kInstallers[] = {
    {"sim", InstallerKind::Sim}, {"rauc", InstallerKind::Rauc}, {"deb", InstallerKind::Deb}};
constexpr size_t kMaxPublicKeyBytes = 16384;
const char* const kXmppKeys[] = {"jid",         "password",   "password_file",   "resource",         "host",
                                 "port",        "tls",        "ca_file",         "client_cert",      "client_key",
                                 "ping_interval_s", "reconnect_base_s", "reconnect_cap_s", "cert_warn_days"};
const char* const kTelemetryKeys[] = {"interval_s", "sample_s", "service", "node", "batch_max", "encoding",
                                     "batch_window_s"};
const char* const kAclKeys[] = {"owners", "operators", "viewers"};
const char* const kJournalKeys[] = {"path", "max_bytes", "fsync", "fsync_interval_s"};
const char* const kLogKeys[] = {"level"};

const json::Choice<TlsMode> kTlsModes[] = {{"required", TlsMode::Required}, {"direct", TlsMode::Direct}};
const json::Choice<Encoding> kEncodings[] = {{"senml-xml", Encoding::SenmlXml}, {"protobuf", Encoding::Protobuf}};
const json::Choice<FsyncPolicy> kFsyncPolicies[] = {
    {"always", FsyncPolicy::Always}, {"interval", FsyncPolicy::Interval}, {"never", FsyncPolicy::Never}};
const json::Choice<RebootMethod> kRebootMethods[] = {{"exec", RebootMethod::Exec},
                                                     {"logind", RebootMethod::Logind}};
const json::Choice<LogLevel> kLogLevels[] = {{"error", LogLevel::Error},
                                             {"warn", LogLevel::Warn},
                                             {"info", LogLevel::Info},
                                             {"debug", LogLevel::Debug}};

constexpr const char* kFilePath = "a file path (non-empty string)";
constexpr const char* kCredentialForms = "exactly one of password, password_file, or client_cert with client_key";

/// One config file being loaded: each section in its own step, the JSON
/// reading (types, ranges, keys, messages) done by json::Value.
class Loader {
 public:
  explicit Loader(const char* file) : json_(file) {}

  bool load(AgentConfig* out);
  const std::string& error() const { return json_.error(); }

 private:
  bool fail(const std::string& key, const std::string& what) { return json_.fail(key, what); }

  bool load_jid(json::Value x, XmppConfig* c);
  bool load_credentials(json::Value x, XmppConfig* c);
  bool read_password_file(XmppConfig* c);
  bool load_connection(json::Value x, XmppConfig* c);
  bool load_xmpp(json::Value root, AgentConfig* cfg);
  bool load_board(json::Value root, AgentConfig* cfg);
  bool load_telemetry(json::Value root, AgentConfig* cfg);
  bool load_acl_list(json::Value list, std::vector<std::string>* out);
  bool load_acl(json::Value root, AgentConfig* cfg);
  bool load_journal(json::Value root, AgentConfig* cfg);
  bool load_log(json::Value root, AgentConfig* cfg);
  bool load_update(json::Value root, AgentConfig* cfg);
  bool load_public_key(json::Value v, UpdateConfig* c);
  bool load_alerts(json::Value root, AgentConfig* cfg);
  bool load_alert_rule(json::Value v, AlertRule* out);

  /// An optional file path, made absolute against the config's directory.
  bool get_path(json::Value v, std::string* out) {
    std::string s;
    if (!v.text(&s, kFilePath)) return false;
    if (!s.empty()) *out = resolve(s);
    return true;
  }
  bool require_readable(const std::string& key, const std::string& path) {
    const int err = check_readable(path);
    if (err != 0) return fail(key, "cannot read " + path + ": " + errno_text(err));
    return true;
  }
  std::string resolve(const std::string& p) const {
    return clean_path(!p.empty() && p[0] == '/' ? p : dir_ + "/" + p);
  }

  json::Reader json_;
  std::string dir_;
};

bool Loader::load_jid(json::Value x, XmppConfig* c) {
  constexpr const char* kJid = "a bare JID like dev1@example.com";
  const json::Value jid = x["jid"];
  if (!jid.text(&c->jid, kJid, json::kRequired | json::kEmptyOk)) return false;
  if (const char* why = bare_jid_problem(c->jid.c_str())) return jid.expected(kJid, why);
  return true;
}

// Credentials: exactly one of password, password_file, client_cert+client_key.
bool Loader::load_credentials(json::Value x, XmppConfig* c) {
  std::string password;
  std::string password_file;
  std::string cert;
  std::string key;
  if (!x["password"].text(&password, "a non-empty string", json::kSecret) ||
      !x["password_file"].text(&password_file, kFilePath) || !x["client_cert"].text(&cert, kFilePath) ||
      !x["client_key"].text(&key, kFilePath)) {
    return false;
  }
  const bool has_password = !password.empty();
  const bool has_file = !password_file.empty();
  if (has_password && has_file) {
    return fail("xmpp.password_file", std::string("expected ") + kCredentialForms + ", got both password and password_file");
  }
  if (!cert.empty() || !key.empty()) {
    if (has_password || has_file) {
      return fail(!cert.empty() ? "xmpp.client_cert" : "xmpp.client_key",
                  std::string("expected ") + kCredentialForms + ", got both " +
                      (has_password ? "password" : "password_file") + " and a client certificate");
    }
    if (cert.empty()) return fail("xmpp.client_cert", "missing; client_key needs client_cert");
    if (key.empty()) return fail("xmpp.client_key", "missing; client_cert needs client_key");
  } else if (!has_password && !has_file) {
    return fail("xmpp", std::string("missing credential; expected ") + kCredentialForms);
  }
  c->password = password;
  if (has_file) c->password_file = resolve(password_file);
  if (!cert.empty()) {
    c->client_cert = resolve(cert);
    c->client_key = resolve(key);
  }
  return true;
}

bool Loader::read_password_file(XmppConfig* c) {
  std::string secret;
  const int err = read_file(c->password_file, kMaxPasswordBytes, &secret);
  if (err == EFBIG) {
    return fail("xmpp.password_file", c->password_file + " is larger than " + std::to_string(kMaxPasswordBytes) +
                                          " bytes; expected a file holding only the password");
  }
  if (err != 0) return fail("xmpp.password_file", "cannot read " + c->password_file + ": " + errno_text(err));
  while (!secret.empty() && (secret.back() == '\n' || secret.back() == '\r')) secret.pop_back();
  if (secret.empty()) {
    return fail("xmpp.password_file", c->password_file + " is empty; expected a file holding the password");
  }
  if (secret.find('\0') != std::string::npos) {
    return fail("xmpp.password_file", c->password_file + " contains a NUL byte; expected a text password");
  }
  c->password = std::move(secret);
  return true;
}

bool Loader::load_connection(json::Value x, XmppConfig* c) {
  constexpr const char* kResource = "a resource (1 to 1023 bytes, no control characters)";
  const json::Value resource = x["resource"];
  if (!resource.text(&c->resource, kResource)) return false;
  if (c->resource.size() > kJidPartMax || has_control(c->resource.c_str())) return resource.expected(kResource);

  constexpr const char* kHost = "a host name or IP address";
  const json::Value host = x["host"];
  if (!host.text(&c->host, kHost)) return false;
  if (const char* why = domain_problem(c->host.c_str())) return host.expected(kHost, why);

  if (!x["port"].integer(&c->port, limits::kPort.lo, limits::kPort.hi) || !x["tls"].one_of(&c->tls, kTlsModes) ||
      !get_path(x["ca_file"], &c->ca_file)) {
    return false;
  }
  return c->ca_file.empty() || require_readable("xmpp.ca_file", c->ca_file);
}

bool Loader::load_xmpp(json::Value root, AgentConfig* cfg) {
  const json::Value x = root["xmpp"];
  if (!x.object(kXmppKeys)) return false;
  XmppConfig& c = cfg->xmpp;
  if (!load_jid(x, &c) || !load_credentials(x, &c)) return false;
  const hal::Result<JidParts> parts = split_jid(c.jid.c_str());
  c.host.assign(parts.value().domain, parts.value().domain_len);  // the default
  if (!load_connection(x, &c)) return false;

  if (!c.client_cert.empty() &&
      (!require_readable("xmpp.client_cert", c.client_cert) || !require_readable("xmpp.client_key", c.client_key))) {
    return false;
  }
  if (!c.password_file.empty() && !read_password_file(&c)) return false;

  if (!x["ping_interval_s"].integer(&c.ping_interval_s, limits::kPingIntervalS.lo, limits::kPingIntervalS.hi) ||
      !x["cert_warn_days"].integer(&c.cert_warn_days, limits::kCertWarnDays.lo, limits::kCertWarnDays.hi) ||
      !x["reconnect_base_s"].number(&c.reconnect_base_s, limits::kReconnectBaseS.lo, limits::kReconnectBaseS.hi)) {
    return false;
  }
  c.reconnect_cap_s = std::max(c.reconnect_base_s, limits::kReconnectCapDefaultS);
  return x["reconnect_cap_s"].number(&c.reconnect_cap_s, c.reconnect_base_s, limits::kReconnectCapMaxS,
                                     json::kOptional, "xmpp.reconnect_base_s");
}

bool Loader::load_board(json::Value root, AgentConfig* cfg) {
  const json::Value b = root["board"];
  if (b.missing()) return b.fail("missing; expected the path of a board file (boards/<name>/board.json)");
  std::string path;
  if (!b.text(&path, kFilePath, json::kRequired)) return false;
  cfg->board = resolve(path);
  return require_readable("board", cfg->board);
}

bool Loader::load_telemetry(json::Value root, AgentConfig* cfg) {
  const json::Value t = root["telemetry"];
  if (!t.object(kTelemetryKeys)) return false;
  TelemetryConfig& c = cfg->telemetry;
  if (!t["interval_s"].number(&c.interval_s, limits::kIntervalS.lo, limits::kIntervalS.hi) ||
      !t["sample_s"].number(&c.sample_s, limits::kSampleS.lo, limits::kSampleS.hi) ||
      !t["batch_window_s"].number(&c.batch_window_s, limits::kBatchWindowS.lo, limits::kBatchWindowS.hi)) {
    return false;
  }

  constexpr const char* kService = "\"pep\" or a pubsub service domain like pubsub.example.com";
  const json::Value service = t["service"];
  if (!service.text(&c.service, kService, json::kEmptyOk)) return false;
  if (c.service != "pep") {
    if (const char* why = domain_problem(c.service.c_str())) return service.expected(kService, why);
  }

  constexpr const char* kNode = "a node name (1 to 1023 bytes, no spaces or control characters)";
  const json::Value node = t["node"];
  if (!node.text(&c.node, kNode)) return false;
  if (c.node.size() > 1023 || has_space_or_control(c.node.c_str())) return node.expected(kNode);
  if (c.node.empty() && c.service == "pep") {
    c.node = "urn:xiot:telemetry:0";
  } else if (c.node.empty()) {
    const hal::Result<JidParts> parts = split_jid(cfg->xmpp.jid.c_str());
    c.node = "xiot/" + std::string(parts.value().local, parts.value().local_len) + "/telemetry";
  }

  return t["batch_max"].integer(&c.batch_max, limits::kBatchMax.lo, limits::kBatchMax.hi) &&
         t["encoding"].one_of(&c.encoding, kEncodings);
}

bool Loader::load_acl_list(json::Value list, std::vector<std::string>* out) {
  if (!list.array("an array of bare JIDs or *@domain patterns")) return false;
  return list.each([out](json::Value it) {
    constexpr const char* kEntry = "a bare JID (local@domain) or *@domain";
    if (!it.is_string()) return it.expected(kEntry);
    if (const char* why = acl_entry_problem(it.c_str())) return it.expected(kEntry, why);
    out->push_back(lower_ascii(it.c_str()));
    return true;
  });
}

bool Loader::load_acl(json::Value root, AgentConfig* cfg) {
  const json::Value a = root["acl"];
  return a.object(kAclKeys) && load_acl_list(a["owners"], &cfg->acl.owners) &&
         load_acl_list(a["operators"], &cfg->acl.operators) && load_acl_list(a["viewers"], &cfg->acl.viewers);
}

bool Loader::load_journal(json::Value root, AgentConfig* cfg) {
  const json::Value j = root["journal"];
  if (!j.object(kJournalKeys)) return false;
  JournalConfig& c = cfg->journal;
  c.path = resolve("state/journal");
  if (!get_path(j["path"], &c.path) ||
      !j["max_bytes"].integer(&c.max_bytes, limits::kJournalMaxBytes.lo, limits::kJournalMaxBytes.hi) ||
      !j["fsync"].one_of(&c.fsync, kFsyncPolicies) ||
      !j["fsync_interval_s"].number(&c.fsync_interval_s, limits::kFsyncIntervalS.lo, limits::kFsyncIntervalS.hi)) {
    return false;
  }
  if (c.path == "/") return fail("journal.path", "expected a file path, got \"/\"");
  std::string failed;
  const int err = make_dirs(parent_dir(c.path), &failed);
  if (err != 0) return fail("journal.path", "cannot create directory " + failed + ": " + errno_text(err));
  return true;
}

bool Loader::load_log(json::Value root, AgentConfig* cfg) {
  const json::Value l = root["log"];
  return l.object(kLogKeys) && l["level"].one_of(&cfg->log_level, kLogLevels);
}

bool Loader::load_public_key(json::Value v, UpdateConfig* c) {
  constexpr const char* kKey = "a PEM file path or an inline \"-----BEGIN PUBLIC KEY-----\" text";
  std::string s;
  if (!v.text(&s, kKey, json::kRequired)) return false;
  std::string pem;
  std::string name;
  if (s.compare(0, 10, "-----BEGIN") == 0) {
    pem = s;
    name = json_.file() + ": " + v.path();
  } else {
    name = resolve(s);
    const int err = read_file(name, kMaxPublicKeyBytes, &pem);
    if (err == EFBIG) return v.fail(name + " is larger than " + std::to_string(kMaxPublicKeyBytes) + " bytes");
    if (err != 0) return v.fail("cannot read " + name + ": " + errno_text(err));
  }
  TrustedKeys probe;
  std::string why;
  if (pem.find('\0') != std::string::npos || !probe.add_pem(pem.c_str(), name.c_str(), &why)) {
    return v.fail(why.empty() ? name + ": contains a NUL byte" : why);
  }
  c->public_keys.push_back(std::move(pem));
  c->key_names.push_back(std::move(name));
  return true;
}

bool Loader::load_update(json::Value root, AgentConfig* cfg) {
  const json::Value u = root["update"];
  if (!u.object(kUpdateKeys)) return false;
  if (u.absent()) return true;
  UpdateConfig& c = cfg->update;
  c.enabled = true;
  // Beside the journal: the agent's state directory (/var/lib/xiot on a device).
  c.state_dir = parent_dir(cfg->journal.path) + "/update";
  const json::Value keys = u["public_keys"];
  if (!keys.array("an array of PEM file paths or inline PEM public keys", json::kRequired)) return false;
  if (keys.size() == 0) return keys.fail("empty; expected at least one trusted update key");
  if (!keys.each([this, &c](json::Value k) { return load_public_key(k, &c); })) return false;
  if (!u["installer"].one_of(&c.installer, kInstallers) ||
      !u["health_window_s"].number(&c.health_window_s, 5, 3600) ||
      !u["max_image_bytes"].integer(&c.max_image_bytes, 1, int64_t{1} << 40) || !get_path(u["state_dir"], &c.state_dir)) {
    return false;
  }
  if (c.state_dir == "/") return fail("update.state_dir", "expected a directory path, got \"/\"");
  std::string failed;
  const int err = make_dirs(c.state_dir, &failed);
  if (err != 0) return fail("update.state_dir", "cannot create directory " + failed + ": " + errno_text(err));
  return true;
}

/// A JSON number as an exact decimal: the shortest text that reads back as
/// the same double ("30", "0.5", "31.2"), then parse_decimal().
bool exact_decimal(double d, drv::Value* out) {
  char text[40];
  for (int digits = 1; digits <= 17; ++digits) {
    std::snprintf(text, sizeof text, "%.*g", digits, d);
    if (std::strtod(text, nullptr) == d) break;
  }
  const hal::Result<drv::Value> v = parse_decimal(text);
  if (!v.ok()) return false;
  *out = v.value();
  return true;
}

bool Loader::load_alert_rule(json::Value v, AlertRule* out) {
  if (!v.object(kAlertRuleKeys, json::kRequired)) return false;
  AlertRule r;
  constexpr const char* kChannel = "a channel name device.quantity, like env0.temperature";
  const json::Value ch = v["channel"];
  std::string channel;
  if (!ch.text(&channel, kChannel, json::kRequired)) return false;
  // The channel's grammar is the rule line's: parse "<channel> above 0" for it.
  char why[kCommandTextMaxForConfig];
  AlertRule probe;
  if (!parse_alert_rule((channel + " above 0").c_str(), &probe, why, sizeof why) || channel.find(' ') != std::string::npos) {
    return ch.expected(kChannel);
  }
  std::memcpy(r.channel, probe.channel, sizeof r.channel);
  const json::Value above = v["above"];
  const json::Value below = v["below"];
  if (above.absent() == below.absent()) {
    return v.fail(above.absent() ? "missing; expected exactly one of \"above\" or \"below\" (a number)"
                                 : "expected exactly one of \"above\" or \"below\", got both");
  }
  const json::Value t = above.absent() ? below : above;
  r.comparison = above.absent() ? AlertComparison::Below : AlertComparison::Above;
  double threshold = 0;
  double hysteresis = 0;
  int64_t for_s = 0;
  if (!t.number(&threshold, -limits::kAlertValueMax, limits::kAlertValueMax, json::kRequired) ||
      !v["hysteresis"].number(&hysteresis, 0, limits::kAlertValueMax) ||
      !v["for_s"].integer(&for_s, limits::kAlertForS.lo, limits::kAlertForS.hi)) {
    return false;
  }
  if (!exact_decimal(threshold, &r.threshold)) return t.expected("a decimal number");
  if (!exact_decimal(hysteresis, &r.hysteresis)) return v["hysteresis"].expected("a decimal number");
  r.for_s = static_cast<uint32_t>(for_s);
  *out = r;
  return true;
}

bool Loader::load_alerts(json::Value root, AgentConfig* cfg) {
  const json::Value a = root["alerts"];
  if (!a.object(kAlertsKeys)) return false;
  if (a.absent()) return true;
  AlertsConfig& c = cfg->alerts;
  constexpr const char* kRoom = "the bare JID of a XEP-0045 room, like alarms@conference.example.com";
  const json::Value room = a["room"];
  if (!room.text(&c.room, kRoom, json::kRequired)) return false;
  if (const char* why = bare_jid_problem(c.room.c_str())) return room.expected(kRoom, why);
  if (c.room.size() >= kAlertRoomMax) return room.expected(kRoom, "too long");
  constexpr const char* kNick = "a room nickname (1 to 255 bytes, no control characters, quotes or backslashes)";
  const json::Value nick = a["nick"];
  if (!nick.text(&c.nick, kNick)) return false;
  if (c.nick.size() >= kAlertNickMax || has_control(c.nick.c_str()) || c.nick.find_first_of("\"\\") != std::string::npos) {
    return nick.expected(kNick);
  }
  const json::Value rules = a["rules"];
  if (!rules.array("an array of rules {\"channel\", \"above\"|\"below\", \"hysteresis\", \"for_s\"}")) return false;
  if (rules.size() > kAlertRulesMax) {
    return rules.fail("more than " + std::to_string(kAlertRulesMax) + " rules (got " + std::to_string(rules.size()) + ")");
  }
  return rules.each([this, &c](json::Value r) {
    AlertRule rule;
    if (!load_alert_rule(r, &rule)) return false;
    c.rules.push_back(rule);
    return true;
  });
}

bool Loader::load(AgentConfig* out) {
  *out = AgentConfig{};
  out->file = json_.file();
  if (!json_.load(kMaxConfigBytes, "an agent config file", json::kAllowComments)) return false;

  // Base directory for relative paths: the config file's own directory, absolute.
  const std::string& file = json_.file();
  const size_t slash = file.rfind('/');
  const std::string dir = slash == std::string::npos ? "." : (slash == 0 ? "/" : file.substr(0, slash));
  char* real = ::realpath(dir.c_str(), nullptr);
  if (real == nullptr) return json_.fail_file("cannot resolve directory " + dir + ": " + errno_text(errno));
  dir_ = real;
  std::free(real);
  out->dir = dir_;

  const json::Value root = json_.root();
  return root.object(kTopKeys) && load_xmpp(root, out) && load_board(root, out) && load_telemetry(root, out) &&
         load_acl(root, out) && load_journal(root, out) && load_log(root, out) &&
         root["reboot"].one_of(&out->reboot, kRebootMethods) && load_update(root, out) && load_alerts(root, out);
}

}  // namespace

bool load_config(const char* path, AgentConfig* out, std::string* error) {
  if (path == nullptr || out == nullptr) {
    if (error != nullptr) *error = "load_config: no file given";
    return false;
  }
  if (path[0] == '\0') {
    if (error != nullptr) *error = "(empty config path): expected a file name";
    return false;
  }
  Loader loader(path);
  if (loader.load(out)) return true;
  if (error != nullptr) *error = loader.error();
  return false;
}

const char* acl_entry_problem(const char* s) {
  if (s == nullptr) return "empty";
  if (s[0] == '*' && s[1] == '@') return domain_problem(s + 2);
  const char* why = bare_jid_problem(s);
  // '*' is legal in a localpart, but "dev*@x" almost surely means a wildcard.
  const char* sep = std::strchr(s, '@');
  if (why == nullptr && sep != nullptr && std::memchr(s, '*', static_cast<size_t>(sep - s)) != nullptr) {
    why = "'*' is only a wildcard as the whole local part: *@domain";
  }
  return why;
}

bool parse_log_level(const char* text, LogLevel* out) {
  if (text == nullptr || out == nullptr) return false;
  static const struct {
    const char* name;
    LogLevel level;
  } kLevels[] = {{"error", LogLevel::Error}, {"warn", LogLevel::Warn}, {"info", LogLevel::Info},
                 {"debug", LogLevel::Debug}};
  for (const auto& l : kLevels) {
    if (std::strcmp(text, l.name) == 0) {
      *out = l.level;
      return true;
    }
  }
  return false;
}

const char* fsync_policy_name(FsyncPolicy policy) {
  switch (policy) {
    case FsyncPolicy::Always: return "always";
    case FsyncPolicy::Interval: return "interval";
    case FsyncPolicy::Never: return "never";
  }
  return "interval";
}

const char* reboot_method_name(RebootMethod method) {
  switch (method) {
    case RebootMethod::Exec: return "exec";
    case RebootMethod::Logind: return "logind";
  }
  return "exec";
}

const char* log_level_name(LogLevel level) {
  switch (level) {
    case LogLevel::Error: return "error";
    case LogLevel::Warn: return "warn";
    case LogLevel::Info: return "info";
    case LogLevel::Debug: return "debug";
  }
  return "info";
}

}  // namespace agent

#include "agent/config.hpp"

#include <cjson/cJSON.h>
#include <sys/stat.h>

#include <cerrno>
#include <climits>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>

#include "agent/jid.hpp"

namespace agent {

namespace {

constexpr size_t kMaxConfigBytes = 1 << 20;
constexpr size_t kMaxPasswordBytes = 1024;

const char* const kTopKeys[] = {"xmpp", "board", "telemetry", "acl", "journal", "log"};
const char* const kXmppKeys[] = {"jid",     "password",    "password_file",   "resource",
                                 "host",    "port",        "tls",             "ca_file",
                                 "client_cert", "client_key", "ping_interval_s", "reconnect_base_s",
                                 "reconnect_cap_s"};
const char* const kTelemetryKeys[] = {"interval_s", "service", "node", "batch_max", "encoding"};
const char* const kAclKeys[] = {"owners", "operators", "viewers"};
const char* const kJournalKeys[] = {"path", "max_bytes", "fsync", "fsync_interval_s"};
const char* const kLogKeys[] = {"level"};

template <size_t N>
constexpr size_t count_of(const char* const (&)[N]) {
  return N;
}

struct CJsonDeleter {
  void operator()(cJSON* j) const { cJSON_Delete(j); }
};
using JsonPtr = std::unique_ptr<cJSON, CJsonDeleter>;

// ---- describing what was found, for "got ..." -------------------------------

std::string format_number(double d) {
  if (std::isnan(d)) return "nan";
  if (std::isinf(d)) return d < 0 ? "-inf" : "inf";
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.15g", d);
  if (std::strtod(buf, nullptr) != d) std::snprintf(buf, sizeof buf, "%.17g", d);
  return buf;
}

/// A JSON-style quoted excerpt of `s`: at most 64 bytes, controls escaped.
std::string quote(const char* s) {
  std::string out = "\"";
  size_t n = 0;
  for (const char* p = s; *p != '\0'; ++p, ++n) {
    if (n == 64) {
      out += "...";
      break;
    }
    const auto c = static_cast<unsigned char>(*p);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20 || c == 0x7F) {
      char esc[8];
      std::snprintf(esc, sizeof esc, "\\u%04x", c);
      out += esc;
    } else {
      out += static_cast<char>(c);
    }
  }
  out += '"';
  return out;
}

/// What a value is, for messages. A secret value is described by its type only.
std::string describe(const cJSON* v, bool secret = false) {
  if (v == nullptr) return "nothing";
  if (cJSON_IsNull(v)) return "null";
  if (cJSON_IsTrue(v)) return secret ? "a boolean" : "true";
  if (cJSON_IsFalse(v)) return secret ? "a boolean" : "false";
  if (cJSON_IsNumber(v)) return secret ? "a number" : format_number(v->valuedouble);
  if (cJSON_IsString(v)) {
    if (secret) return v->valuestring[0] == '\0' ? "\"\"" : "a string";
    return quote(v->valuestring);
  }
  if (cJSON_IsArray(v)) return "an array";
  if (cJSON_IsObject(v)) return "an object";
  return "an unknown value";
}

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

size_t edit_distance(const char* a, const char* b) {
  const size_t n = std::strlen(a);
  const size_t m = std::strlen(b);
  std::vector<size_t> prev(m + 1);
  std::vector<size_t> cur(m + 1);
  for (size_t j = 0; j <= m; ++j) prev[j] = j;
  for (size_t i = 1; i <= n; ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= m; ++j) {
      const size_t sub = prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
      cur[j] = std::min(std::min(prev[j] + 1, cur[j - 1] + 1), sub);
    }
    prev.swap(cur);
  }
  return prev[m];
}

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

class Loader {
 public:
  Loader(const char* file, std::string* error) : file_(file), error_(error) {}

  bool load(AgentConfig* out);

 private:
  bool fail(const std::string& key, const std::string& what) {
    if (error_ != nullptr) *error_ = file_ + ": " + key + ": " + what;
    return false;
  }
  bool fail_file(const std::string& what) {
    if (error_ != nullptr) *error_ = file_ + ": " + what;
    return false;
  }
  static std::string join(const std::string& prefix, const char* key) {
    return prefix.empty() ? std::string(key) : prefix + "." + key;
  }

  bool parse(const std::string& text, JsonPtr* root);
  bool check_keys(const cJSON* obj, const std::string& prefix, const char* const* allowed, size_t n);
  bool section(const cJSON* root, const char* name, const char* const* allowed, size_t n,
               const cJSON** out);

  /// The value of `key` in `obj`, or nullptr when absent or null.
  static const cJSON* opt(const cJSON* obj, const char* key) {
    if (obj == nullptr) return nullptr;
    const cJSON* v = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsNull(v) ? nullptr : v;
  }

  bool get_string(const cJSON* obj, const std::string& prefix, const char* key, const char* expected,
                  const char** out, bool secret = false);
  bool get_int(const cJSON* obj, const std::string& prefix, const char* key, int64_t lo, int64_t hi,
               int64_t* out);
  bool get_number(const cJSON* obj, const std::string& prefix, const char* key, double lo, double hi,
                  const std::string& lo_text, const std::string& hi_text, double* out);
  bool get_path(const cJSON* obj, const std::string& prefix, const char* key, std::string* out);
  bool require_readable(const std::string& key, const std::string& path);

  bool load_xmpp(const cJSON* root, AgentConfig* cfg);
  bool load_board(const cJSON* root, AgentConfig* cfg);
  bool load_telemetry(const cJSON* root, AgentConfig* cfg);
  bool load_acl(const cJSON* root, AgentConfig* cfg);
  bool load_acl_list(const cJSON* acl, const char* key, std::vector<std::string>* out);
  bool load_journal(const cJSON* root, AgentConfig* cfg);
  bool load_log(const cJSON* root, AgentConfig* cfg);

  std::string resolve(const std::string& p) const {
    return clean_path(!p.empty() && p[0] == '/' ? p : dir_ + "/" + p);
  }

  std::string file_;
  std::string dir_;
  std::string* error_;
};

bool Loader::parse(const std::string& text, JsonPtr* root) {
  const char* begin = text.c_str();
  size_t skip = 0;
  if (text.size() >= 3 && std::memcmp(begin, "\xEF\xBB\xBF", 3) == 0) skip = 3;  // UTF-8 BOM
  bool blank = true;
  for (size_t i = skip; i < text.size(); ++i) {
    if (text[i] != ' ' && text[i] != '\t' && text[i] != '\n' && text[i] != '\r') {
      blank = false;
      break;
    }
  }
  if (blank) return fail_file("empty file; expected a JSON object");
  if (std::memchr(begin, '\0', text.size()) != nullptr) {
    return fail_file("contains a NUL byte; expected a JSON text");
  }
  const char* end = nullptr;
  root->reset(cJSON_ParseWithOpts(begin + skip, &end, 1));
  if (*root) return true;
  // cJSON reports where it stopped; turn that into line:column (1-based, bytes).
  size_t pos = end != nullptr && end >= begin ? static_cast<size_t>(end - begin) : 0;
  if (pos > text.size()) pos = text.size();
  size_t line = 1;
  size_t col = 1;
  for (size_t i = skip; i < pos; ++i) {
    if (text[i] == '\n') {
      ++line;
      col = 1;
    } else {
      ++col;
    }
  }
  std::string near;
  for (size_t i = pos; i < text.size() && text[i] != '\n' && near.size() < 24; ++i) near += text[i];
  while (!near.empty() && (near.back() == '\r' || near.back() == ' ')) near.pop_back();
  const std::string where = near.empty() ? (pos >= text.size() ? "at end of file" : "at end of line")
                                         : "near " + quote(near.c_str());
  if (error_ != nullptr) {
    *error_ = file_ + ":" + std::to_string(line) + ":" + std::to_string(col) + ": malformed JSON " + where;
  }
  return false;
}

bool Loader::check_keys(const cJSON* obj, const std::string& prefix, const char* const* allowed, size_t n) {
  for (const cJSON* it = obj->child; it != nullptr; it = it->next) {
    const char* key = it->string != nullptr ? it->string : "";
    bool known = false;
    for (size_t i = 0; i < n; ++i) known = known || std::strcmp(key, allowed[i]) == 0;
    if (!known) {
      std::string what = "unknown key";
      size_t best = SIZE_MAX;
      const char* suggestion = nullptr;
      for (size_t i = 0; i < n; ++i) {
        const size_t d = edit_distance(lower_ascii(key).c_str(), allowed[i]);
        if (d < best) {
          best = d;
          suggestion = allowed[i];
        }
      }
      if (suggestion != nullptr && best <= 2 && best < std::strlen(suggestion)) {
        what += " (did you mean \"" + std::string(suggestion) + "\"?)";
      } else {
        what += " (expected one of:";
        for (size_t i = 0; i < n; ++i) what += std::string(" ") + allowed[i];
        what += ")";
      }
      return fail(join(prefix, key), what);
    }
    for (const cJSON* prev = obj->child; prev != it; prev = prev->next) {
      if (prev->string != nullptr && std::strcmp(prev->string, key) == 0) {
        return fail(join(prefix, key), "duplicate key");
      }
    }
  }
  return true;
}

bool Loader::section(const cJSON* root, const char* name, const char* const* allowed, size_t n,
                     const cJSON** out) {
  const cJSON* s = cJSON_GetObjectItemCaseSensitive(root, name);
  *out = nullptr;
  if (s == nullptr || cJSON_IsNull(s)) return true;
  if (!cJSON_IsObject(s)) return fail(name, "expected an object, got " + describe(s));
  *out = s;
  return check_keys(s, name, allowed, n);
}

bool Loader::get_string(const cJSON* obj, const std::string& prefix, const char* key, const char* expected,
                        const char** out, bool secret) {
  const cJSON* v = opt(obj, key);
  if (v == nullptr) return true;
  if (!cJSON_IsString(v) || v->valuestring[0] == '\0') {
    return fail(join(prefix, key), std::string("expected ") + expected + ", got " + describe(v, secret));
  }
  *out = v->valuestring;
  return true;
}

bool Loader::get_int(const cJSON* obj, const std::string& prefix, const char* key, int64_t lo, int64_t hi,
                     int64_t* out) {
  const cJSON* v = opt(obj, key);
  if (v == nullptr) return true;
  const bool ok = cJSON_IsNumber(v) && std::isfinite(v->valuedouble) &&
                  v->valuedouble == std::floor(v->valuedouble) &&
                  v->valuedouble >= static_cast<double>(lo) && v->valuedouble <= static_cast<double>(hi);
  if (!ok) {
    return fail(join(prefix, key), "expected an integer from " + std::to_string(lo) + " to " +
                                       std::to_string(hi) + ", got " + describe(v));
  }
  *out = static_cast<int64_t>(v->valuedouble);
  return true;
}

bool Loader::get_number(const cJSON* obj, const std::string& prefix, const char* key, double lo, double hi,
                        const std::string& lo_text, const std::string& hi_text, double* out) {
  const cJSON* v = opt(obj, key);
  if (v == nullptr) return true;
  const bool ok = cJSON_IsNumber(v) && std::isfinite(v->valuedouble) && v->valuedouble >= lo &&
                  v->valuedouble <= hi;
  if (!ok) {
    return fail(join(prefix, key),
                "expected a number from " + lo_text + " to " + hi_text + ", got " + describe(v));
  }
  *out = v->valuedouble;
  return true;
}

bool Loader::get_path(const cJSON* obj, const std::string& prefix, const char* key, std::string* out) {
  const char* s = nullptr;
  if (!get_string(obj, prefix, key, "a file path (non-empty string)", &s)) return false;
  if (s != nullptr) *out = resolve(s);
  return true;
}

bool Loader::require_readable(const std::string& key, const std::string& path) {
  const int err = check_readable(path);
  if (err != 0) return fail(key, "cannot read " + path + ": " + errno_text(err));
  return true;
}

bool Loader::load_xmpp(const cJSON* root, AgentConfig* cfg) {
  const cJSON* x = nullptr;
  if (!section(root, "xmpp", kXmppKeys, count_of(kXmppKeys), &x)) return false;
  XmppConfig& c = cfg->xmpp;
  const std::string p = "xmpp";

  const cJSON* jid = x != nullptr ? cJSON_GetObjectItemCaseSensitive(x, "jid") : nullptr;
  if (jid == nullptr) return fail("xmpp.jid", "missing; expected a bare JID like dev1@example.com");
  if (!cJSON_IsString(jid)) {
    return fail("xmpp.jid", "expected a bare JID like dev1@example.com, got " + describe(jid));
  }
  if (const char* why = bare_jid_problem(jid->valuestring)) {
    return fail("xmpp.jid", "expected a bare JID like dev1@example.com, got " + quote(jid->valuestring) +
                                " (" + why + ")");
  }
  c.jid = jid->valuestring;
  const hal::Result<JidParts> parts = split_jid(c.jid.c_str());
  const std::string domain(parts.value().domain, parts.value().domain_len);

  // Credentials: exactly one of password, password_file, client_cert+client_key.
  const char* password = nullptr;
  const char* password_file = nullptr;
  const char* cert = nullptr;
  const char* key = nullptr;
  if (!get_string(x, p, "password", "a non-empty string", &password, true)) return false;
  if (!get_string(x, p, "password_file", "a file path (non-empty string)", &password_file)) return false;
  if (!get_string(x, p, "client_cert", "a file path (non-empty string)", &cert)) return false;
  if (!get_string(x, p, "client_key", "a file path (non-empty string)", &key)) return false;
  constexpr const char* kForms =
      "exactly one of password, password_file, or client_cert with client_key";
  if (password != nullptr && password_file != nullptr) {
    return fail("xmpp.password_file", std::string("expected ") + kForms + ", got both password and password_file");
  }
  if (cert != nullptr || key != nullptr) {
    if (password != nullptr || password_file != nullptr) {
      return fail(cert != nullptr ? "xmpp.client_cert" : "xmpp.client_key",
                  std::string("expected ") + kForms + ", got both " +
                      (password != nullptr ? "password" : "password_file") + " and a client certificate");
    }
    if (cert == nullptr) return fail("xmpp.client_cert", "missing; client_key needs client_cert");
    if (key == nullptr) return fail("xmpp.client_key", "missing; client_cert needs client_key");
  } else if (password == nullptr && password_file == nullptr) {
    return fail("xmpp", std::string("missing credential; expected ") + kForms);
  }

  const char* resource = nullptr;
  if (!get_string(x, p, "resource", "a resource (1 to 1023 bytes, no control characters)", &resource)) {
    return false;
  }
  if (resource != nullptr) {
    if (std::strlen(resource) > kJidPartMax || has_control(resource)) {
      return fail("xmpp.resource",
                  "expected a resource (1 to 1023 bytes, no control characters), got " + quote(resource));
    }
    c.resource = resource;
  }

  const char* host = nullptr;
  if (!get_string(x, p, "host", "a host name or IP address", &host)) return false;
  if (host != nullptr) {
    if (const char* why = domain_problem(host)) {
      return fail("xmpp.host", "expected a host name or IP address, got " + quote(host) + " (" + why + ")");
    }
    c.host = host;
  } else {
    c.host = domain;
  }

  int64_t port = c.port;
  if (!get_int(x, p, "port", 1, 65535, &port)) return false;
  c.port = static_cast<uint16_t>(port);

  const cJSON* tls = opt(x, "tls");
  if (tls != nullptr) {
    if (cJSON_IsString(tls) && std::strcmp(tls->valuestring, "required") == 0) {
      c.tls = TlsMode::Required;
    } else if (cJSON_IsString(tls) && std::strcmp(tls->valuestring, "direct") == 0) {
      c.tls = TlsMode::Direct;
    } else {
      return fail("xmpp.tls", "expected \"required\" or \"direct\", got " + describe(tls));
    }
  }

  if (!get_path(x, p, "ca_file", &c.ca_file)) return false;
  if (!c.ca_file.empty() && !require_readable("xmpp.ca_file", c.ca_file)) return false;

  if (cert != nullptr) {
    c.client_cert = resolve(cert);
    c.client_key = resolve(key);
    if (!require_readable("xmpp.client_cert", c.client_cert)) return false;
    if (!require_readable("xmpp.client_key", c.client_key)) return false;
  }
  if (password != nullptr) c.password = password;
  if (password_file != nullptr) {
    c.password_file = resolve(password_file);
    std::string secret;
    const int err = read_file(c.password_file, kMaxPasswordBytes, &secret);
    if (err == EFBIG) {
      return fail("xmpp.password_file", c.password_file + " is larger than " +
                                            std::to_string(kMaxPasswordBytes) +
                                            " bytes; expected a file holding only the password");
    }
    if (err != 0) return fail("xmpp.password_file", "cannot read " + c.password_file + ": " + errno_text(err));
    while (!secret.empty() && (secret.back() == '\n' || secret.back() == '\r')) secret.pop_back();
    if (secret.empty()) {
      return fail("xmpp.password_file", c.password_file + " is empty; expected a file holding the password");
    }
    if (secret.find('\0') != std::string::npos) {
      return fail("xmpp.password_file", c.password_file + " contains a NUL byte; expected a text password");
    }
    c.password = std::move(secret);
  }

  int64_t ping = c.ping_interval_s;
  if (!get_int(x, p, "ping_interval_s", 5, 3600, &ping)) return false;
  c.ping_interval_s = static_cast<uint32_t>(ping);

  if (!get_number(x, p, "reconnect_base_s", 0.1, 3600, "0.1", "3600", &c.reconnect_base_s)) return false;
  c.reconnect_cap_s = c.reconnect_base_s > 60.0 ? c.reconnect_base_s : 60.0;
  if (!get_number(x, p, "reconnect_cap_s", c.reconnect_base_s, 86400,
                  format_number(c.reconnect_base_s) + " (xmpp.reconnect_base_s)", "86400",
                  &c.reconnect_cap_s)) {
    return false;
  }
  return true;
}

bool Loader::load_board(const cJSON* root, AgentConfig* cfg) {
  const cJSON* b = cJSON_GetObjectItemCaseSensitive(root, "board");
  if (b == nullptr) return fail("board", "missing; expected the path of a board file (boards/<name>/board.json)");
  if (!cJSON_IsString(b) || b->valuestring[0] == '\0') {
    return fail("board", "expected a file path (non-empty string), got " + describe(b));
  }
  cfg->board = resolve(b->valuestring);
  return require_readable("board", cfg->board);
}

bool Loader::load_telemetry(const cJSON* root, AgentConfig* cfg) {
  const cJSON* t = nullptr;
  if (!section(root, "telemetry", kTelemetryKeys, count_of(kTelemetryKeys), &t)) return false;
  TelemetryConfig& c = cfg->telemetry;
  const std::string p = "telemetry";
  if (!get_number(t, p, "interval_s", 0.05, 86400, "0.05", "86400", &c.interval_s)) return false;

  const cJSON* service = opt(t, "service");
  if (service != nullptr) {
    constexpr const char* kExpected = "expected \"pep\" or a pubsub service domain like pubsub.example.com, got ";
    if (!cJSON_IsString(service)) return fail("telemetry.service", kExpected + describe(service));
    if (std::strcmp(service->valuestring, "pep") != 0) {
      if (const char* why = domain_problem(service->valuestring)) {
        return fail("telemetry.service", kExpected + quote(service->valuestring) + " (" + why + ")");
      }
    }
    c.service = service->valuestring;
  }

  const char* node = nullptr;
  constexpr const char* kNodeExpected = "a node name (1 to 1023 bytes, no spaces or control characters)";
  if (!get_string(t, p, "node", kNodeExpected, &node)) return false;
  if (node != nullptr) {
    if (std::strlen(node) > 1023 || has_space_or_control(node)) {
      return fail("telemetry.node", std::string("expected ") + kNodeExpected + ", got " + quote(node));
    }
    c.node = node;
  } else if (c.service == "pep") {
    c.node = "urn:xiot:telemetry:0";
  } else {
    const hal::Result<JidParts> parts = split_jid(cfg->xmpp.jid.c_str());
    c.node = "xiot/" + std::string(parts.value().local, parts.value().local_len) + "/telemetry";
  }

  int64_t batch = c.batch_max;
  if (!get_int(t, p, "batch_max", 1, 100, &batch)) return false;
  c.batch_max = static_cast<uint32_t>(batch);

  const cJSON* enc = opt(t, "encoding");
  if (enc != nullptr) {
    if (cJSON_IsString(enc) && std::strcmp(enc->valuestring, "senml-xml") == 0) {
      c.encoding = Encoding::SenmlXml;
    } else if (cJSON_IsString(enc) && std::strcmp(enc->valuestring, "protobuf") == 0) {
      c.encoding = Encoding::Protobuf;
    } else {
      return fail("telemetry.encoding", "expected \"senml-xml\" or \"protobuf\", got " + describe(enc));
    }
  }
  return true;
}

bool Loader::load_acl_list(const cJSON* acl, const char* key, std::vector<std::string>* out) {
  const cJSON* list = opt(acl, key);
  if (list == nullptr) return true;
  const std::string dotted = std::string("acl.") + key;
  if (!cJSON_IsArray(list)) {
    return fail(dotted, "expected an array of bare JIDs or *@domain patterns, got " + describe(list));
  }
  size_t i = 0;
  for (const cJSON* it = list->child; it != nullptr; it = it->next, ++i) {
    const std::string at = dotted + "[" + std::to_string(i) + "]";
    constexpr const char* kExpected = "expected a bare JID (local@domain) or *@domain, got ";
    if (!cJSON_IsString(it)) return fail(at, kExpected + describe(it));
    const char* s = it->valuestring;
    const char* why = nullptr;
    if (s[0] == '*' && s[1] == '@') {
      why = domain_problem(s + 2);
    } else {
      why = bare_jid_problem(s);
      // '*' is legal in a localpart, but "dev*@x" almost surely means a wildcard.
      const char* sep = std::strchr(s, '@');
      if (why == nullptr && sep != nullptr && std::memchr(s, '*', static_cast<size_t>(sep - s)) != nullptr) {
        why = "'*' is only a wildcard as the whole local part: *@domain";
      }
    }
    if (why != nullptr) return fail(at, kExpected + quote(s) + " (" + why + ")");
    out->push_back(lower_ascii(s));
  }
  return true;
}

bool Loader::load_acl(const cJSON* root, AgentConfig* cfg) {
  const cJSON* a = nullptr;
  if (!section(root, "acl", kAclKeys, count_of(kAclKeys), &a)) return false;
  return load_acl_list(a, "owners", &cfg->acl.owners) && load_acl_list(a, "operators", &cfg->acl.operators) &&
         load_acl_list(a, "viewers", &cfg->acl.viewers);
}

bool Loader::load_journal(const cJSON* root, AgentConfig* cfg) {
  const cJSON* j = nullptr;
  if (!section(root, "journal", kJournalKeys, count_of(kJournalKeys), &j)) return false;
  JournalConfig& c = cfg->journal;
  c.path = resolve("state/journal");
  if (!get_path(j, "journal", "path", &c.path)) return false;
  int64_t max = static_cast<int64_t>(c.max_bytes);
  if (!get_int(j, "journal", "max_bytes", 4096, 1073741824, &max)) return false;
  c.max_bytes = static_cast<uint64_t>(max);
  const cJSON* fsync = opt(j, "fsync");
  if (fsync != nullptr) {
    static const struct {
      const char* name;
      FsyncPolicy policy;
    } kPolicies[] = {{"always", FsyncPolicy::Always}, {"interval", FsyncPolicy::Interval}, {"never", FsyncPolicy::Never}};
    bool known = false;
    for (const auto& p : kPolicies) {
      if (cJSON_IsString(fsync) && std::strcmp(fsync->valuestring, p.name) == 0) {
        c.fsync = p.policy;
        known = true;
      }
    }
    if (!known) return fail("journal.fsync", "expected \"always\", \"interval\" or \"never\", got " + describe(fsync));
  }
  if (!get_number(j, "journal", "fsync_interval_s", 0.05, 3600, "0.05", "3600", &c.fsync_interval_s)) return false;
  if (c.path == "/") return fail("journal.path", "expected a file path, got \"/\"");
  std::string failed;
  const int err = make_dirs(parent_dir(c.path), &failed);
  if (err != 0) return fail("journal.path", "cannot create directory " + failed + ": " + errno_text(err));
  return true;
}

bool Loader::load_log(const cJSON* root, AgentConfig* cfg) {
  const cJSON* l = nullptr;
  if (!section(root, "log", kLogKeys, count_of(kLogKeys), &l)) return false;
  const cJSON* level = opt(l, "level");
  if (level == nullptr) return true;
  if (!cJSON_IsString(level) || !parse_log_level(level->valuestring, &cfg->log_level)) {
    return fail("log.level", "expected \"error\", \"warn\", \"info\" or \"debug\", got " + describe(level));
  }
  return true;
}

bool Loader::load(AgentConfig* out) {
  *out = AgentConfig{};
  out->file = file_;

  // Base directory for relative paths: the config file's own directory, absolute.
  const size_t slash = file_.rfind('/');
  const std::string dir = slash == std::string::npos ? "." : (slash == 0 ? "/" : file_.substr(0, slash));
  std::string text;
  const int err = read_file(file_, kMaxConfigBytes, &text);
  if (err == EFBIG) return fail_file("larger than 1 MiB; expected an agent config file");
  if (err != 0) return fail_file("cannot read: " + errno_text(err));
  char* real = ::realpath(dir.c_str(), nullptr);
  if (real == nullptr) return fail_file("cannot resolve directory " + dir + ": " + errno_text(errno));
  dir_ = real;
  std::free(real);
  out->dir = dir_;

  JsonPtr root;
  if (!parse(text, &root)) return false;
  if (!cJSON_IsObject(root.get())) return fail_file("expected a JSON object at the top level, got " + describe(root.get()));
  if (!check_keys(root.get(), "", kTopKeys, count_of(kTopKeys))) return false;
  return load_xmpp(root.get(), out) && load_board(root.get(), out) && load_telemetry(root.get(), out) &&
         load_acl(root.get(), out) && load_journal(root.get(), out) && load_log(root.get(), out);
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
  Loader loader(path, error);
  return loader.load(out);
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

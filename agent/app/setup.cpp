// See app/setup.hpp. The order of work: read every input (flags or the
// provisioning file, the password, the CA, the board) and check each with the
// agent's own rules (bare_jid_problem, acl_entry_problem, domain_problem, the
// port range), naming the flag or key; then stage, load the staged config with
// load_config() and the board with parse_board(), and only then rename into
// place. The loader is the final word: anything it refuses is refused here.
#include "app/setup.hpp"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "agent/config.hpp"
#include "agent/jid.hpp"
#include "agent/limits.hpp"
#include "boards/board.hpp"
#include "json/reader.hpp"

namespace agent {

namespace {

constexpr const char* kTool = "xiot-agent setup";
constexpr size_t kMaxPasswordBytes = 1024;  // as the config loader's password_file
constexpr size_t kMaxCaBytes = 1 << 20;
constexpr size_t kMaxProvisioningBytes = 1 << 20;
constexpr const char* kJidWhat = "a bare JID like dev1@example.com";
constexpr const char* kAclWhat = "a bare JID (local@domain) or *@domain";
constexpr const char* kServerWhat = "a host name or IP address, optionally with :PORT (1 to 65535)";
constexpr const char* kBoardWhat = "a board name (letters, digits, '-', '_', '.') or the path of a board.json";
constexpr const char* kPem = "-----BEGIN CERTIFICATE-----";

constexpr int kExitOk = 0;
constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;

/// One problem, already worded; `code` is the exit code it leads to.
struct Problem {
  std::string text;
  int code = kExitUsage;
};

std::string errno_text(int e) { return std::strerror(e); }

std::string quoted(const std::string& s) { return json::quote(s.c_str()); }

/// "expected <what>, got <value>[ (<why>)]".
std::string expected(const char* what, const std::string& got, const char* why = nullptr) {
  std::string t = std::string("expected ") + what + ", got " + quoted(got);
  if (why != nullptr) t += std::string(" (") + why + ")";
  return t;
}

std::string parent_of(const std::string& path) {
  const size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

std::string absolute(const std::string& base_dir, const std::string& p) {
  if (!p.empty() && p[0] == '/') return p;
  if (base_dir.empty() || base_dir == ".") {
    char cwd[4096];
    if (::getcwd(cwd, sizeof cwd) == nullptr) return p;
    return std::string(cwd) + "/" + p;
  }
  return base_dir + "/" + p;
}

/// Reads the password from `fd` (--password-stdin): at most kMaxPasswordBytes.
int read_fd(int fd, size_t max, std::string* out) {
  char buf[512];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return errno;
    if (n == 0) return 0;
    out->append(buf, static_cast<size_t>(n));
    if (out->size() > max + 2) return EFBIG;  // room for a trailing CR LF
  }
}

/// Wipes a secret before its memory is released.
void wipe(std::string* s) {
  volatile char* p = s->empty() ? nullptr : &(*s)[0];
  for (size_t i = 0; p != nullptr && i < s->size(); ++i) p[i] = 0;
  s->clear();
}

// ---- what setup writes ---------------------------------------------------------

struct Inputs {
  std::string source = kTool;  ///< names the origin in messages: the provisioning file or the tool
  bool from_file = false;
  std::string jid;
  std::string host;            ///< "" = the JID's domain
  int port = 0;                ///< 0 = not given (5222)
  std::string ca_pem;          ///< the CA's PEM text ("" = system trust store)
  std::string ca_origin;       ///< where it came from, for the report
  std::string board;           ///< absolute path of board.json
  std::vector<std::string> owners, operators, viewers;
  std::string password;
  cJSON* extra = nullptr;      ///< provisioning overrides: telemetry, journal, log, reboot (owned)
  std::string config_dir, state_dir, boards_dir;
  bool force = false;

  Inputs() = default;
  Inputs(const Inputs&) = delete;
  Inputs& operator=(const Inputs&) = delete;
  ~Inputs() {
    wipe(&password);
    cJSON_Delete(extra);
  }
};

/// Checks and stores one --server / "server" value: HOST, HOST:PORT, [V6] or [V6]:PORT.
bool parse_server(const std::string& text, Inputs* in, std::string* why) {
  in->port = 0;  // a later --server replaces an earlier one entirely
  std::string host = text;
  std::string port;
  if (!text.empty() && text[0] == '[') {
    const size_t close = text.find(']');
    if (close == std::string::npos) {
      *why = "no ']' after the IPv6 address";
      return false;
    }
    host = text.substr(1, close - 1);
    if (close + 1 < text.size()) {
      if (text[close + 1] != ':') {
        *why = "expected ':' after ']'";
        return false;
      }
      port = text.substr(close + 2);
      if (port.empty()) {
        *why = "empty port";
        return false;
      }
    }
  } else {
    const size_t colon = text.find(':');
    if (colon != std::string::npos) {
      if (text.find(':', colon + 1) != std::string::npos) {
        *why = "an IPv6 address needs brackets: [::1]:5222";
        return false;
      }
      host = text.substr(0, colon);
      port = text.substr(colon + 1);
      if (port.empty()) {
        *why = "empty port";
        return false;
      }
    }
  }
  if (const char* p = domain_problem(host.c_str())) {
    *why = p;
    return false;
  }
  if (!port.empty()) {
    long v = 0;
    for (const char c : port) {
      if (c < '0' || c > '9' || v > 65535) {
        *why = "port is not a number from 1 to 65535";
        return false;
      }
      v = v * 10 + (c - '0');
    }
    if (v < limits::kPort.lo || v > limits::kPort.hi) {
      *why = "port is not a number from 1 to 65535";
      return false;
    }
    in->port = static_cast<int>(v);
  }
  in->host = host;
  return true;
}

bool board_name_ok(const std::string& name) {
  if (name.empty() || name == "." || name == "..") return false;
  for (const char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
                    c == '_' || c == '.';
    if (!ok) return false;
  }
  return true;
}

/// A board NAME (under boards_dir) or a path (contains '/' or ends in .json,
/// relative to `base_dir`). Sets in->board to an absolute, readable path.
bool resolve_board(const std::string& value, const std::string& base_dir, Inputs* in, std::string* problem) {
  std::string path;
  const bool is_path = value.find('/') != std::string::npos ||
                       (value.size() > 5 && value.compare(value.size() - 5, 5, ".json") == 0);
  if (is_path) {
    path = absolute(base_dir, value);
  } else {
    if (!board_name_ok(value)) {
      *problem = expected(kBoardWhat, value);
      return false;
    }
    path = in->boards_dir + "/" + value + "/board.json";
  }
  char* real = ::realpath(path.c_str(), nullptr);
  if (real == nullptr) {
    const int e = errno;
    *problem = is_path ? "cannot read " + path + ": " + errno_text(e)
                       : "no board " + quoted(value) + ": cannot read " + path + ": " + errno_text(e) +
                             " (boards are looked up in " + in->boards_dir + "; see --boards-dir)";
    return false;
  }
  in->board = real;
  std::free(real);
  return true;
}

/// Reads the CA file at `path` and checks it holds a PEM certificate.
bool read_ca(const std::string& path, Inputs* in, std::string* problem) {
  std::string pem;
  const int e = read_small_file(path, kMaxCaBytes, &pem);
  if (e == EFBIG) {
    *problem = path + " is larger than 1 MiB; expected a PEM CA certificate";
    return false;
  }
  if (e != 0) {
    *problem = "cannot read " + path + ": " + errno_text(e);
    return false;
  }
  if (pem.find(kPem) == std::string::npos) {
    *problem = path + ": expected a PEM certificate (" + kPem + "), got something else";
    return false;
  }
  in->ca_pem = pem;
  in->ca_origin = path;
  return true;
}

bool take_password(std::string* secret, const std::string& where, Problem* p) {
  while (!secret->empty() && (secret->back() == '\n' || secret->back() == '\r')) secret->pop_back();
  if (secret->empty()) {
    p->text = where + ": empty; expected the device's XMPP password";
    return false;
  }
  if (secret->size() > kMaxPasswordBytes) {
    p->text = where + ": longer than " + std::to_string(kMaxPasswordBytes) + " bytes; expected the password";
    return false;
  }
  if (secret->find('\0') != std::string::npos || secret->find('\n') != std::string::npos) {
    p->text = where + ": expected one line of text, got a NUL byte or a line break inside";
    return false;
  }
  return true;
}

// ---- the provisioning file --------------------------------------------------------

const char* const kProvisioningKeys[] = {"jid",       "server",    "ca",      "board",   "owners", "operators",
                                         "viewers",   "password",  "telemetry", "journal", "log",   "reboot"};

bool read_acl(json::Value list, std::vector<std::string>* out) {
  if (!list.array("an array of bare JIDs or *@domain patterns")) return false;
  return list.each([out](json::Value it) {
    if (!it.is_string()) return it.expected(kAclWhat);
    if (const char* why = acl_entry_problem(it.c_str())) return it.expected(kAclWhat, why);
    out->push_back(it.c_str());
    return true;
  });
}

bool read_provisioning(const std::string& file, Inputs* in, Problem* p) {
  json::Reader doc(file);
  in->source = file;
  in->from_file = true;
  const std::string base = parent_of(absolute("", file));
  auto done = [&](bool ok) {
    if (!ok && p->text.empty()) p->text = doc.error();
    return ok;
  };
  if (!doc.load(kMaxProvisioningBytes, "a provisioning file", json::kAllowComments)) return done(false);
  const json::Value root = doc.root();
  if (!root.object(kProvisioningKeys)) return done(false);

  const json::Value jid = root["jid"];
  if (!jid.text(&in->jid, kJidWhat, json::kRequired | json::kEmptyOk)) return done(false);
  if (const char* why = bare_jid_problem(in->jid.c_str())) return done(jid.expected(kJidWhat, why));

  std::string server;
  const json::Value sv = root["server"];
  if (!sv.text(&server, kServerWhat)) return done(false);
  std::string why;
  if (!server.empty() && !parse_server(server, in, &why)) return done(sv.expected(kServerWhat, why.c_str()));

  std::string ca;
  const json::Value cav = root["ca"];
  if (!cav.text(&ca, "the path of a PEM CA certificate, or the PEM text itself")) return done(false);
  if (ca.find(kPem) != std::string::npos) {
    in->ca_pem = ca;
    in->ca_origin = file + " (inline)";
  } else if (!ca.empty() && !read_ca(absolute(base, ca), in, &why)) {
    return done(cav.fail(why));
  }

  std::string board;
  const json::Value bv = root["board"];
  if (!bv.text(&board, kBoardWhat, json::kRequired)) return done(false);
  if (!resolve_board(board, base, in, &why)) return done(bv.fail(why));

  if (!read_acl(root["owners"], &in->owners) || !read_acl(root["operators"], &in->operators) ||
      !read_acl(root["viewers"], &in->viewers)) {
    return done(false);
  }
  const json::Value pw = root["password"];
  if (!pw.text(&in->password, "the device's XMPP password (a non-empty string)", json::kSecret)) return done(false);
  if (!in->password.empty() && !take_password(&in->password, file + ": password", p)) return false;

  // Overrides copied as they are; the config loader checks them (and its
  // message is renamed to this file).
  for (const char* key : {"telemetry", "journal", "log", "reboot"}) {
    const json::Value v = root[key];
    if (v.absent()) continue;
    if (in->extra == nullptr) in->extra = cJSON_CreateObject();
    cJSON_AddItemToObject(in->extra, key, cJSON_Duplicate(v.raw(), 1));
  }
  return true;
}

// ---- flags --------------------------------------------------------------------------

/// True (with the message) when DIR/agent.json exists and --force is not given.
bool refuse_existing(const Inputs& in, Problem* p) {
  const std::string config = in.config_dir + "/agent.json";
  struct stat st {};
  if (in.force || ::stat(config.c_str(), &st) != 0) return false;
  p->text = config + ": exists; not overwritten (give --force to replace it, or edit it and check it with "
                     "xiot-agent --config " + config + " --check-config)";
  p->code = kExitUsage;
  return true;
}

const char* setup_usage_text() {
  return "usage: xiot-agent setup --jid JID --board NAME|PATH (--password-file FILE | --password-stdin)\n"
         "                        [--server HOST[:PORT]] [--ca FILE]\n"
         "                        [--owner JID]... [--operator JID]... [--viewer JID]...\n"
         "                        [--config-dir DIR] [--state-dir DIR] [--boards-dir DIR] [--force]\n"
         "       xiot-agent setup --from FILE [--password-file FILE | --password-stdin]\n"
         "                        [--config-dir DIR] [--state-dir DIR] [--boards-dir DIR] [--force]\n"
         "\n"
         "Writes a validated device config: DIR/agent.json (0640, root:xiot), the password in\n"
         "DIR/password (0600, xiot:xiot), the CA in DIR/ca.crt (0644); journal in STATE/journal;\n"
         "\"reboot\": \"logind\". DIR defaults to /etc/xiot, STATE to /var/lib/xiot, board names are\n"
         "looked up as /usr/share/xiot/boards/NAME/board.json. --from reads a provisioning file\n"
         "(JSON: jid, server, ca, board, owners, operators, viewers, password, and optional\n"
         "telemetry, journal, log, reboot objects; see docs/provisioning.md). Passwords are never\n"
         "taken on the command line. An existing agent.json is kept unless --force is given.\n"
         "Exit codes: 0 written, 1 system error, 2 bad arguments or a config that does not validate.\n";
}

bool parse_flags(int argc, char** argv, const SetupDefaults& defaults, int in_fd, Inputs* in, Problem* p,
                 bool* help) {
  in->config_dir = defaults.config_dir;
  in->state_dir = defaults.state_dir;
  in->boards_dir = defaults.boards_dir;
  std::string from, password_file, board, ca;
  bool password_stdin = false;
  bool direct = false;  // any of the per-device flags
  struct Acl {
    const char* flag;
    std::vector<std::string>* list;
  };
  const Acl acls[] = {{"--owner", &in->owners}, {"--operator", &in->operators}, {"--viewer", &in->viewers}};
  auto fail = [p](const std::string& t) {
    p->text = std::string(kTool) + ": " + t;
    return false;
  };
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--help" || a == "-h") {
      *help = true;
      return true;
    }
    if (a == "--force") {
      in->force = true;
      continue;
    }
    if (a == "--password-stdin") {
      password_stdin = true;
      continue;
    }
    if (a == "--password") {
      return fail("--password: not accepted (a password on the command line is visible to every user in ps and "
                  "in shell history); use --password-file FILE or --password-stdin");
    }
    const char* const kValued[] = {"--jid",    "--server",     "--ca",         "--board",     "--owner",
                                   "--operator", "--viewer",   "--password-file", "--config-dir", "--state-dir",
                                   "--boards-dir", "--from"};
    bool known = false;
    for (const char* k : kValued) known = known || a == k;
    if (!known) return fail("unknown argument " + quoted(a) + " (see xiot-agent setup --help)");
    // "--jid --board x": the flag's value is missing, not "--board".
    if (i + 1 >= argc || std::strncmp(argv[i + 1], "--", 2) == 0) return fail(a + ": needs a value");
    const std::string v = argv[++i];
    if (a == "--jid") {
      direct = true;
      if (!in->jid.empty()) return fail("--jid: given twice");
      if (const char* why = bare_jid_problem(v.c_str())) return fail("--jid: " + expected(kJidWhat, v, why));
      in->jid = v;
    } else if (a == "--server") {
      direct = true;
      std::string why;
      if (!parse_server(v, in, &why)) return fail("--server: " + expected(kServerWhat, v, why.c_str()));
    } else if (a == "--ca") {
      direct = true;
      ca = v;
    } else if (a == "--board") {
      direct = true;
      board = v;
    } else if (a == "--password-file") {
      password_file = v;
    } else if (a == "--config-dir" || a == "--state-dir" || a == "--boards-dir") {
      if (v.empty()) return fail(a + ": expected a directory, got \"\"");
      (a == "--config-dir" ? in->config_dir : a == "--state-dir" ? in->state_dir : in->boards_dir) = absolute("", v);
    } else if (a == "--from") {
      from = v;
    } else {
      for (const Acl& acl : acls) {
        if (a != acl.flag) continue;
        direct = true;
        if (const char* why = acl_entry_problem(v.c_str())) return fail(a + ": " + expected(kAclWhat, v, why));
        acl.list->push_back(v);
      }
    }
  }
  // Refuse before reading any secret when there is nothing to do.
  if (refuse_existing(*in, p)) return false;
  if (!from.empty() && direct) {
    return fail("--from: the provisioning file holds the device's settings; give either --from FILE or "
                "--jid/--server/--ca/--board/--owner/--operator/--viewer, not both");
  }
  if (!password_file.empty() && password_stdin) return fail("give one of --password-file and --password-stdin");
  if (from.empty()) {
    if (in->jid.empty()) return fail("--jid: missing; expected " + std::string(kJidWhat) + " (or --from FILE)");
    if (board.empty()) return fail("--board: missing; expected " + std::string(kBoardWhat));
    std::string why;
    if (!resolve_board(board, "", in, &why)) return fail("--board: " + why);
    if (!ca.empty() && !read_ca(absolute("", ca), in, &why)) return fail("--ca: " + why);
  } else if (!read_provisioning(from, in, p)) {
    return false;
  }
  // The password: a flag, stdin or the provisioning file (exactly one).
  const bool from_flags = !password_file.empty() || password_stdin;
  if (from_flags && !in->password.empty()) {
    return fail(std::string(password_stdin ? "--password-stdin" : "--password-file") + ": " + from +
                " already holds a password; give it in one place");
  }
  if (!password_file.empty()) {
    std::string secret;
    const int e = read_small_file(password_file, kMaxPasswordBytes + 2, &secret);
    if (e == EFBIG) return fail("--password-file: " + password_file + " is larger than 1024 bytes; expected the password");
    if (e != 0) return fail("--password-file: cannot read " + password_file + ": " + errno_text(e));
    in->password.swap(secret);
    wipe(&secret);
    if (!take_password(&in->password, std::string(kTool) + ": --password-file: " + password_file, p)) return false;
  } else if (password_stdin) {
    std::string secret;
    const int e = read_fd(in_fd, kMaxPasswordBytes, &secret);
    in->password.swap(secret);
    wipe(&secret);
    if (e == EFBIG) return fail("--password-stdin: longer than 1024 bytes; expected the password");
    if (e != 0) return fail("--password-stdin: cannot read standard input: " + errno_text(e));
    if (!take_password(&in->password, std::string(kTool) + ": --password-stdin", p)) return false;
  }
  if (in->password.empty()) {
    return fail("no password: give --password-file FILE or --password-stdin" +
                std::string(from.empty() ? "" : " (or \"password\" in " + from + ")"));
  }
  return true;
}

// ---- staging and committing ------------------------------------------------------------

/// Writes `text` to a new file `path` with exactly `mode` (umask ignored), fsynced.
int write_new_file(const std::string& path, const std::string& text, mode_t mode) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) return errno;
  int e = 0;
  if (::fchmod(fd, mode) != 0) e = errno;
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
  return e;
}

void remove_tree_flat(const std::string& dir) {
  if (DIR* d = ::opendir(dir.c_str())) {
    while (const dirent* ent = ::readdir(d)) {
      const std::string n = ent->d_name;
      if (n != "." && n != "..") ::unlink((dir + "/" + n).c_str());
    }
    ::closedir(d);
  }
  ::rmdir(dir.c_str());
}

void fsync_dir(const std::string& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0) {
    (void)::fsync(fd);
    ::close(fd);
  }
}

cJSON* string_array(const std::vector<std::string>& v) {
  cJSON* a = cJSON_CreateArray();
  for (const std::string& s : v) cJSON_AddItemToArray(a, cJSON_CreateString(s.c_str()));
  return a;
}

/// The agent.json text: comments on top, then the JSON (cJSON's layout).
std::string config_text(const Inputs& in) {
  cJSON* root = cJSON_CreateObject();
  cJSON* x = cJSON_AddObjectToObject(root, "xmpp");
  cJSON_AddStringToObject(x, "jid", in.jid.c_str());
  cJSON_AddStringToObject(x, "password_file", "password");
  if (!in.host.empty()) cJSON_AddStringToObject(x, "host", in.host.c_str());
  if (in.port != 0) cJSON_AddNumberToObject(x, "port", in.port);
  if (!in.ca_pem.empty()) cJSON_AddStringToObject(x, "ca_file", "ca.crt");
  cJSON_AddStringToObject(root, "board", in.board.c_str());
  cJSON* acl = cJSON_AddObjectToObject(root, "acl");
  cJSON_AddItemToObject(acl, "owners", string_array(in.owners));
  cJSON_AddItemToObject(acl, "operators", string_array(in.operators));
  cJSON_AddItemToObject(acl, "viewers", string_array(in.viewers));
  cJSON* journal = cJSON_AddObjectToObject(root, "journal");
  cJSON_AddStringToObject(journal, "path", (in.state_dir + "/journal").c_str());
  cJSON_AddStringToObject(root, "reboot", "logind");
  // Provisioning overrides: journal keys merge over the default path; the
  // other sections replace.
  if (in.extra != nullptr) {
    for (const cJSON* item = in.extra->child; item != nullptr; item = item->next) {
      if (std::strcmp(item->string, "journal") == 0 && cJSON_IsObject(item)) {
        for (const cJSON* k = item->child; k != nullptr; k = k->next) {
          cJSON_DeleteItemFromObjectCaseSensitive(journal, k->string);
          cJSON_AddItemToObject(journal, k->string, cJSON_Duplicate(k, 1));
        }
      } else {
        cJSON_DeleteItemFromObjectCaseSensitive(root, item->string);
        cJSON_AddItemToObject(root, item->string, cJSON_Duplicate(item, 1));
      }
    }
  }
  char* json = cJSON_Print(root);
  std::string text =
      "// xiot-agent configuration, written by `xiot-agent setup` (docs/provisioning.md).\n"
      "// Check an edited copy with: xiot-agent --config FILE --check-config\n";
  text += json != nullptr ? json : "{}";
  text += "\n";
  cJSON_free(json);
  cJSON_Delete(root);
  return text;
}

std::string owner_text(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return "?";
  char mode[8];
  std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
  const passwd* pw = ::getpwuid(st.st_uid);
  const group* gr = ::getgrgid(st.st_gid);
  std::string who = pw != nullptr ? pw->pw_name : std::to_string(st.st_uid);
  who += ":";
  who += gr != nullptr ? gr->gr_name : std::to_string(st.st_gid);
  return who + " " + mode;
}

/// Replaces every occurrence of `from` in `s` by `to`.
std::string replace_all(std::string s, const std::string& from, const std::string& to) {
  for (size_t at = s.find(from); !from.empty() && at != std::string::npos; at = s.find(from, at + to.size())) {
    s.replace(at, from.size(), to);
  }
  return s;
}

int commit(const Inputs& in, SetupOwnership& ownership, std::FILE* out, Problem* p) {
  const std::string& dir = in.config_dir;
  struct stat st {};
  if (refuse_existing(in, p)) return kExitUsage;
  // DIR itself: created (0750) when missing; a missing parent is an error.
  bool made_dir = false;
  if (::stat(dir.c_str(), &st) != 0) {
    if (::mkdir(dir.c_str(), 0750) != 0) {
      p->text = std::string(kTool) + ": --config-dir: cannot create " + dir + ": " + errno_text(errno);
      p->code = kExitFailure;
      return p->code;
    }
    made_dir = true;
    (void)::chmod(dir.c_str(), 0750);
    if (const int e = ownership.apply(dir.c_str(), SetupFile::ConfigDir)) {
      ::rmdir(dir.c_str());
      p->text = std::string(kTool) + ": cannot set the owner of " + dir + ": " + errno_text(e);
      p->code = kExitFailure;
      return p->code;
    }
  } else if (!S_ISDIR(st.st_mode)) {
    p->text = std::string(kTool) + ": --config-dir: " + dir + " is not a directory";
    return kExitUsage;
  }
  std::string stage = dir + "/.setup-XXXXXX";
  if (::mkdtemp(&stage[0]) == nullptr) {
    p->text = std::string(kTool) + ": cannot write in " + dir + ": " + errno_text(errno);
    p->code = kExitFailure;
    if (made_dir) ::rmdir(dir.c_str());
    return p->code;
  }
  auto abandon = [&](int code) {
    remove_tree_flat(stage);
    if (made_dir) ::rmdir(dir.c_str());
    p->code = code;
    return code;
  };
  struct Staged {
    const char* name;
    SetupFile kind;
    mode_t mode;
    const std::string* text;
  };
  const std::string config = config_text(in);
  std::vector<Staged> files;
  if (!in.ca_pem.empty()) files.push_back({"ca.crt", SetupFile::Ca, 0644, &in.ca_pem});
  const std::string password_line = in.password + "\n";
  files.push_back({"password", SetupFile::Password, 0600, &password_line});
  files.push_back({"agent.json", SetupFile::Config, 0640, &config});
  for (const Staged& f : files) {
    const std::string path = stage + "/" + f.name;
    int e = write_new_file(path, *f.text, f.mode);
    if (e == 0) e = ownership.apply(path.c_str(), f.kind);
    if (e != 0) {
      p->text = std::string(kTool) + ": cannot write " + dir + "/" + f.name + ": " + errno_text(e);
      return abandon(kExitFailure);
    }
  }
  // The agent's own checks on exactly what was staged.
  const std::string staged_config = stage + "/agent.json";
  AgentConfig cfg;
  std::string error;
  if (!load_config(staged_config.c_str(), &cfg, &error)) {
    // Name the file the mistake came from, not the staging copy.
    const std::string origin = in.from_file ? in.source : dir + "/agent.json";
    p->text = replace_all(replace_all(error, staged_config, origin), stage + "/", dir + "/");
    return abandon(kExitUsage);
  }
  boards::BoardSpec spec;
  if (!boards::parse_board(cfg.board.c_str(), &spec, &error)) {
    p->text = error;
    return abandon(kExitUsage);
  }
  // Into place: the files the config names first, the config last.
  for (const Staged& f : files) {
    const std::string from = stage + "/" + f.name;
    const std::string to = dir + "/" + f.name;
    if (::rename(from.c_str(), to.c_str()) != 0) {
      p->text = std::string(kTool) + ": cannot write " + to + ": " + errno_text(errno);
      return abandon(kExitFailure);
    }
  }
  ::rmdir(stage.c_str());
  fsync_dir(dir);
  for (const Staged& f : files) {
    const std::string path = dir + "/" + f.name;
    std::fprintf(out, "wrote %s (%s)\n", path.c_str(), owner_text(path).c_str());
  }
  std::fprintf(out, "device %s, server %s:%u, board %s (%s), %zu owner(s), %zu operator(s), %zu viewer(s)\n",
               cfg.xmpp.jid.c_str(), cfg.xmpp.host.c_str(), static_cast<unsigned>(cfg.xmpp.port),
               spec.name.c_str(), cfg.board.c_str(), cfg.acl.owners.size(), cfg.acl.operators.size(),
               cfg.acl.viewers.size());
  std::fprintf(out, "journal %s, reboot via %s%s\n", cfg.journal.path.c_str(), reboot_method_name(cfg.reboot),
               in.ca_pem.empty() ? ", server certificate checked against the system trust store" : "");
  std::fprintf(out, "next: systemctl restart xiot-agent\n");
  return kExitOk;
}

}  // namespace

// See app/setup.hpp.
int read_small_file(const std::string& path, size_t max, std::string* out) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return errno;
  if (S_ISDIR(st.st_mode)) return EISDIR;
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return errno;
  out->clear();
  char buf[4096];
  int result = 0;
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      result = errno;
      break;
    }
    if (n == 0) break;
    out->append(buf, static_cast<size_t>(n));
    if (out->size() > max) {
      result = EFBIG;
      break;
    }
  }
  ::close(fd);
  return result;
}


SystemOwnership::SystemOwnership() {
  root_ = ::geteuid() == 0;
  if (const passwd* pw = ::getpwnam("xiot")) {
    has_user_ = true;
    xiot_uid_ = pw->pw_uid;
    xiot_user_gid_ = pw->pw_gid;
  }
  if (const group* gr = ::getgrnam("xiot")) {
    has_group_ = true;
    xiot_gid_ = gr->gr_gid;
  }
}

int SystemOwnership::apply(const char* path, SetupFile kind) {
  if (!root_) return 0;
  switch (kind) {
    case SetupFile::ConfigDir:
    case SetupFile::Config:
      if (has_group_ && ::chown(path, 0, static_cast<gid_t>(xiot_gid_)) != 0) return errno;
      return 0;
    case SetupFile::Password:
      if (has_user_ &&
          ::chown(path, static_cast<uid_t>(xiot_uid_),
                  static_cast<gid_t>(has_group_ ? xiot_gid_ : xiot_user_gid_)) != 0) {
        return errno;
      }
      return 0;
    case SetupFile::Ca:
      return 0;
  }
  return 0;
}

const char* setup_usage() { return setup_usage_text(); }

int run_setup(int argc, char** argv, SetupOwnership& ownership, std::FILE* out, std::FILE* err, int in_fd,
              const SetupDefaults& defaults) {
  Inputs in;
  Problem problem;
  bool help = false;
  if (!parse_flags(argc, argv, defaults, in_fd, &in, &problem, &help)) {
    std::fprintf(err, "%s\n", problem.text.c_str());
    return problem.code;
  }
  if (help) {
    std::fputs(setup_usage_text(), out);
    return kExitOk;
  }
  const int rc = commit(in, ownership, out, &problem);
  if (rc != kExitOk) std::fprintf(err, "%s\n", problem.text.c_str());
  return rc;
}

}  // namespace agent

// See fleet_spec.hpp.
#include "fleet_spec.hpp"

#include <cjson/cJSON.h>
#include <limits.h>
#include <stdlib.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <memory>
#include <set>

#include "agent/jid.hpp"

namespace fleet_sim {
namespace {

constexpr size_t kMaxFleetBytes = 64u << 20;  // 64 MiB: ~500k devices
constexpr size_t kMaxDevices = 100000;

struct CJsonDeleter {
  void operator()(cJSON* j) const { cJSON_Delete(j); }
};
using JsonPtr = std::unique_ptr<cJSON, CJsonDeleter>;

std::string lower(std::string s) {
  for (char& c : s) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return s;
}

/// What a JSON value is, for "got ..." (never its text when secret).
std::string describe(const cJSON* v, bool secret = false) {
  if (v == nullptr) return "nothing";
  if (cJSON_IsString(v)) {
    if (secret) return "a string";
    std::string s = "\"";
    s.append(v->valuestring, strnlen(v->valuestring, 64));
    if (std::strlen(v->valuestring) > 64) s += "...";
    return s + "\"";
  }
  if (cJSON_IsNumber(v)) {
    char buf[40];
    std::snprintf(buf, sizeof buf, "%.15g", v->valuedouble);
    return buf;
  }
  if (cJSON_IsBool(v)) return cJSON_IsTrue(v) ? "true" : "false";
  if (cJSON_IsNull(v)) return "null";
  if (cJSON_IsArray(v)) return "an array";
  if (cJSON_IsObject(v)) return "an object";
  return "an invalid value";
}

class Parser {
 public:
  Parser(const char* path, std::string* error) : path_(path), error_(error) {
    const char* slash = std::strrchr(path, '/');
    if (slash == nullptr) {
      char cwd[PATH_MAX];
      dir_ = getcwd(cwd, sizeof cwd) != nullptr ? cwd : ".";
    } else {
      dir_.assign(path, static_cast<size_t>(slash - path));
      if (dir_.empty()) dir_ = "/";
      if (dir_[0] != '/') {
        char cwd[PATH_MAX];
        if (getcwd(cwd, sizeof cwd) != nullptr) dir_ = std::string(cwd) + "/" + dir_;
      }
    }
  }

  bool fail(const std::string& key, const std::string& what) {
    *error_ = std::string(path_) + ": " + key + ": " + what;
    return false;
  }
  bool expected(const std::string& key, const char* what, const cJSON* got, bool secret = false) {
    return fail(key, std::string("expected ") + what + ", got " + describe(got, secret));
  }

  /// Every member of `obj` must be one of `allowed`.
  template <size_t N>
  bool known_keys(const cJSON* obj, const std::string& where, const char* const (&allowed)[N]) {
    for (const cJSON* m = obj->child; m != nullptr; m = m->next) {
      bool ok = false;
      for (const char* a : allowed) ok = ok || std::strcmp(a, m->string) == 0;
      if (!ok) return fail(where.empty() ? m->string : where + "." + m->string, "unknown key");
    }
    return true;
  }

  /// Optional string member; absent or null leaves *out unchanged.
  bool opt_string(const cJSON* obj, const std::string& where, const char* key, std::string* out,
                  bool secret = false) {
    const cJSON* v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (v == nullptr || cJSON_IsNull(v)) return true;
    if (!cJSON_IsString(v) || v->valuestring[0] == '\0') return expected(where + key, "a non-empty string", v, secret);
    *out = v->valuestring;
    return true;
  }
  bool req_string(const cJSON* obj, const std::string& where, const char* key, std::string* out,
                  bool secret = false) {
    const cJSON* v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (v == nullptr || cJSON_IsNull(v)) return fail(where + key, "missing (required)");
    return opt_string(obj, where, key, out, secret);
  }
  bool opt_number(const cJSON* obj, const std::string& where, const char* key, double lo, double hi,
                  bool integer, double* out) {
    const cJSON* v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (v == nullptr || cJSON_IsNull(v)) return true;
    char what[96];
    std::snprintf(what, sizeof what, "%s from %g to %g", integer ? "an integer" : "a number", lo, hi);
    if (!cJSON_IsNumber(v)) return expected(where + key, what, v);
    const double d = v->valuedouble;
    if (!(d >= lo && d <= hi) || (integer && std::floor(d) != d)) return expected(where + key, what, v);
    *out = d;
    return true;
  }

  /// A path relative to the fleet file's directory, made absolute; must be a
  /// readable file.
  bool file_path(const std::string& key, std::string* path) {
    if ((*path)[0] != '/') *path = dir_ + "/" + *path;
    char real[PATH_MAX];
    if (realpath(path->c_str(), real) == nullptr || access(real, R_OK) != 0) {
      return fail(key, "cannot read " + *path + ": " + std::strerror(errno));
    }
    *path = real;
    return true;
  }

  bool jid_list(const cJSON* acl, const char* key, std::vector<std::string>* out) {
    const cJSON* v = cJSON_GetObjectItemCaseSensitive(acl, key);
    if (v == nullptr || cJSON_IsNull(v)) return true;
    const std::string where = std::string("acl.") + key;
    if (!cJSON_IsArray(v)) return expected(where, "an array of JIDs or \"*@domain\"", v);
    int i = 0;
    for (const cJSON* e = v->child; e != nullptr; e = e->next, ++i) {
      const std::string k = where + "[" + std::to_string(i) + "]";
      if (!cJSON_IsString(e)) return expected(k, "a bare JID or \"*@domain\"", e);
      const char* s = e->valuestring;
      const bool wildcard = std::strncmp(s, "*@", 2) == 0 && s[2] != '\0' && std::strchr(s + 2, '@') == nullptr &&
                            std::strchr(s + 2, '/') == nullptr;
      if (!wildcard && agent::bare_jid_problem(s) != nullptr) return expected(k, "a bare JID or \"*@domain\"", e);
      out->push_back(lower(s));
    }
    return true;
  }

  bool parse(const char* text, FleetSpec* out) {
    const char* end = nullptr;
    JsonPtr root(cJSON_ParseWithOpts(text, &end, 1));
    if (!root) {
      size_t line = 1;
      for (const char* p = text; end != nullptr && p < end; ++p) line += *p == '\n' ? 1 : 0;
      return fail("line " + std::to_string(line), "malformed JSON");
    }
    if (!cJSON_IsObject(root.get())) return expected("(top level)", "an object", root.get());
    static const char* const kTop[] = {"xiot_fleet", "server", "board", "telemetry", "acl", "operator", "devices"};
    if (!known_keys(root.get(), "", kTop)) return false;

    const cJSON* version = cJSON_GetObjectItemCaseSensitive(root.get(), "xiot_fleet");
    if (!cJSON_IsNumber(version) || version->valuedouble != 1) return expected("xiot_fleet", "1", version);

    // server
    const cJSON* server = cJSON_GetObjectItemCaseSensitive(root.get(), "server");
    if (!cJSON_IsObject(server)) return expected("server", "an object", server);
    static const char* const kServer[] = {"kind", "host", "port", "domain", "tls", "ca_file", "ping_interval_s",
                                          "resource", "reconnect_base_s", "reconnect_cap_s"};
    if (!known_keys(server, "server", kServer)) return false;
    agent::XmppConfig& x = out->xmpp;
    std::string domain;
    if (!opt_string(server, "server.", "kind", &out->server_kind)) return false;
    if (!req_string(server, "server.", "host", &x.host)) return false;
    if (!opt_string(server, "server.", "domain", &domain)) return false;
    double port = 5222;
    if (!opt_number(server, "server.", "port", 1, 65535, true, &port)) return false;
    x.port = static_cast<uint16_t>(port);
    std::string tls = "required";
    if (!opt_string(server, "server.", "tls", &tls)) return false;
    if (tls == "required") {
      x.tls = agent::TlsMode::Required;
    } else if (tls == "direct") {
      x.tls = agent::TlsMode::Direct;
    } else {
      return expected("server.tls", "\"required\" or \"direct\"", cJSON_GetObjectItemCaseSensitive(server, "tls"));
    }
    if (!opt_string(server, "server.", "ca_file", &x.ca_file)) return false;
    if (!x.ca_file.empty() && !file_path("server.ca_file", &x.ca_file)) return false;
    double ping = x.ping_interval_s;
    if (!opt_number(server, "server.", "ping_interval_s", 5, 3600, true, &ping)) return false;
    x.ping_interval_s = static_cast<uint32_t>(ping);
    if (!opt_string(server, "server.", "resource", &x.resource)) return false;
    if (!opt_number(server, "server.", "reconnect_base_s", 0.1, 3600, false, &x.reconnect_base_s)) return false;
    x.reconnect_cap_s = x.reconnect_base_s > 60.0 ? x.reconnect_base_s : 60.0;
    if (!opt_number(server, "server.", "reconnect_cap_s", x.reconnect_base_s, 86400, false, &x.reconnect_cap_s)) {
      return false;
    }

    // board
    if (!req_string(root.get(), "", "board", &out->board)) return false;
    if (!file_path("board", &out->board)) return false;

    // telemetry
    const cJSON* tel = cJSON_GetObjectItemCaseSensitive(root.get(), "telemetry");
    if (tel != nullptr && !cJSON_IsNull(tel)) {
      if (!cJSON_IsObject(tel)) return expected("telemetry", "an object", tel);
      static const char* const kTel[] = {"interval_s", "service", "node", "batch_max", "encoding"};
      if (!known_keys(tel, "telemetry", kTel)) return false;
      agent::TelemetryConfig& t = out->telemetry;
      if (!opt_number(tel, "telemetry.", "interval_s", 0.05, 86400, false, &t.interval_s)) return false;
      if (!opt_string(tel, "telemetry.", "service", &t.service)) return false;
      if (!opt_string(tel, "telemetry.", "node", &t.node)) return false;
      double batch = t.batch_max;
      if (!opt_number(tel, "telemetry.", "batch_max", 1, 100, true, &batch)) return false;
      t.batch_max = static_cast<uint32_t>(batch);
      std::string enc = "senml-xml";
      if (!opt_string(tel, "telemetry.", "encoding", &enc)) return false;
      if (enc == "senml-xml") {
        t.encoding = agent::Encoding::SenmlXml;
      } else if (enc == "protobuf") {
        t.encoding = agent::Encoding::Protobuf;
      } else {
        return expected("telemetry.encoding", "\"senml-xml\" or \"protobuf\"",
                        cJSON_GetObjectItemCaseSensitive(tel, "encoding"));
      }
    }

    // acl
    const cJSON* acl = cJSON_GetObjectItemCaseSensitive(root.get(), "acl");
    if (acl != nullptr && !cJSON_IsNull(acl)) {
      if (!cJSON_IsObject(acl)) return expected("acl", "an object", acl);
      static const char* const kAcl[] = {"owners", "operators", "viewers"};
      if (!known_keys(acl, "acl", kAcl)) return false;
      if (!jid_list(acl, "owners", &out->acl.owners) || !jid_list(acl, "operators", &out->acl.operators) ||
          !jid_list(acl, "viewers", &out->acl.viewers)) {
        return false;
      }
    }

    const cJSON* op = cJSON_GetObjectItemCaseSensitive(root.get(), "operator");
    if (op != nullptr && !cJSON_IsNull(op) && !cJSON_IsObject(op)) return expected("operator", "an object", op);

    // devices
    const cJSON* devices = cJSON_GetObjectItemCaseSensitive(root.get(), "devices");
    if (!cJSON_IsArray(devices) || devices->child == nullptr) {
      return expected("devices", "a non-empty array of {jid, password, seed}", devices);
    }
    std::set<std::string> seen;
    size_t i = 0;
    for (const cJSON* d = devices->child; d != nullptr; d = d->next, ++i) {
      const std::string where = "devices[" + std::to_string(i) + "]";
      if (i >= kMaxDevices) return fail("devices", "more than " + std::to_string(kMaxDevices) + " devices");
      if (!cJSON_IsObject(d)) return expected(where, "an object {jid, password, seed}", d);
      static const char* const kDev[] = {"jid", "password", "seed"};
      if (!known_keys(d, where, kDev)) return false;
      DeviceEntry e;
      if (!req_string(d, where + ".", "jid", &e.jid)) return false;
      if (agent::bare_jid_problem(e.jid.c_str()) != nullptr) {
        return expected(where + ".jid", "a bare JID local@domain", cJSON_GetObjectItemCaseSensitive(d, "jid"));
      }
      e.jid = lower(e.jid);
      if (!domain.empty() && e.jid.substr(e.jid.find('@') + 1) != lower(domain)) {
        return fail(where + ".jid", "\"" + e.jid + "\" is not in the server's domain " + domain);
      }
      if (!seen.insert(e.jid).second) return fail(where + ".jid", "\"" + e.jid + "\" appears twice");
      if (!req_string(d, where + ".", "password", &e.password, true)) return false;
      double seed = static_cast<double>(i + 1);
      if (!opt_number(d, where + ".", "seed", 0, 9007199254740991.0, true, &seed)) return false;
      e.seed = static_cast<uint64_t>(seed);
      out->devices.push_back(std::move(e));
    }
    return true;
  }

 private:
  const char* path_;
  std::string* error_;
  std::string dir_;
};

}  // namespace

bool parse_fleet_spec(const char* text, const char* path, FleetSpec* out, std::string* error) {
  *out = FleetSpec();
  out->file = path;
  Parser p(path, error);
  return p.parse(text, out);
}

bool load_fleet_spec(const char* path, FleetSpec* out, std::string* error) {
  FILE* f = std::fopen(path, "rb");
  if (f == nullptr) {
    *error = std::string(path) + ": cannot open: " + std::strerror(errno);
    return false;
  }
  std::string text;
  char buf[65536];
  size_t n = 0;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) {
    text.append(buf, n);
    if (text.size() > kMaxFleetBytes) {
      std::fclose(f);
      *error = std::string(path) + ": larger than " + std::to_string(kMaxFleetBytes >> 20) + " MiB";
      return false;
    }
  }
  const bool read_error = std::ferror(f) != 0;
  std::fclose(f);
  if (read_error) {
    *error = std::string(path) + ": read error";
    return false;
  }
  return parse_fleet_spec(text.c_str(), path, out, error);
}

agent::AgentConfig device_config(const FleetSpec& spec, size_t index) {
  const DeviceEntry& d = spec.devices[index];
  agent::AgentConfig c;
  c.file = spec.file + " devices[" + std::to_string(index) + "]";
  c.xmpp = spec.xmpp;
  c.xmpp.jid = d.jid;
  c.xmpp.password = d.password;
  c.board = spec.board;
  c.telemetry = spec.telemetry;
  if (c.telemetry.node.empty()) {
    c.telemetry.node =
        c.telemetry.service == "pep" ? "urn:xiot:telemetry:0" : "xiot/" + d.jid.substr(0, d.jid.find('@')) + "/telemetry";
  }
  c.acl = spec.acl;
  return c;
}

}  // namespace fleet_sim

// See fleet_spec.hpp.
#include "fleet_spec.hpp"

#include <limits.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <set>

#include "agent/jid.hpp"
#include "agent/limits.hpp"
#include "json/reader.hpp"

namespace fleet_sim {
namespace {

namespace limits = agent::limits;

constexpr size_t kMaxFleetBytes = 64u << 20;  // 64 MiB: ~500k devices
constexpr size_t kMaxDevices = 100000;
constexpr int64_t kMaxSeed = 9007199254740991;  // 2^53 - 1: exact in a JSON number

const json::Choice<agent::TlsMode> kTlsModes[] = {{"required", agent::TlsMode::Required},
                                                  {"direct", agent::TlsMode::Direct}};
const json::Choice<agent::Encoding> kEncodings[] = {{"senml-xml", agent::Encoding::SenmlXml},
                                                    {"protobuf", agent::Encoding::Protobuf}};

std::string lower(std::string s) {
  for (char& c : s) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return s;
}

/// One fleet file being read: each section in its own step.
class Parser {
 public:
  explicit Parser(const char* path) : json_(path) {
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

  json::Reader& reader() { return json_; }

  bool parse(FleetSpec* out) {
    const json::Value root = json_.root();
    static const char* const kTop[] = {"xiot_fleet", "server", "board", "telemetry", "acl", "operator", "devices"};
    if (!root.object(kTop)) return false;
    const json::Value version = root["xiot_fleet"];
    int64_t v = 0;
    if (!version.as_integer(&v) || v != 1) return version.expected("1");
    std::string domain;
    if (!parse_server(root["server"], out, &domain)) return false;
    if (!root["board"].text(&out->board, "a file path (non-empty string)", json::kRequired) ||
        !file_path("board", &out->board)) {
      return false;
    }
    return parse_telemetry(root["telemetry"], &out->telemetry) && parse_acl(root["acl"], &out->acl) &&
           root["operator"].object_any_keys() && parse_devices(root["devices"], domain, out);
  }

 private:
  bool parse_server(json::Value server, FleetSpec* out, std::string* domain) {
    static const char* const kServer[] = {"kind", "host", "port", "domain", "tls", "ca_file", "ping_interval_s",
                                          "resource", "reconnect_base_s", "reconnect_cap_s"};
    if (!server.object(kServer, json::kRequired)) return false;
    agent::XmppConfig& x = out->xmpp;
    if (!server["kind"].text(&out->server_kind) ||
        !server["host"].text(&x.host, "a host name or IP address", json::kRequired) ||
        !server["domain"].text(domain) || !server["port"].integer(&x.port, limits::kPort.lo, limits::kPort.hi) ||
        !server["tls"].one_of(&x.tls, kTlsModes) || !server["ca_file"].text(&x.ca_file, "a file path (non-empty string)")) {
      return false;
    }
    if (!x.ca_file.empty() && !file_path("server.ca_file", &x.ca_file)) return false;
    if (!server["ping_interval_s"].integer(&x.ping_interval_s, limits::kPingIntervalS.lo, limits::kPingIntervalS.hi) ||
        !server["resource"].text(&x.resource) ||
        !server["reconnect_base_s"].number(&x.reconnect_base_s, limits::kReconnectBaseS.lo, limits::kReconnectBaseS.hi)) {
      return false;
    }
    x.reconnect_cap_s = std::max(x.reconnect_base_s, limits::kReconnectCapDefaultS);
    return server["reconnect_cap_s"].number(&x.reconnect_cap_s, x.reconnect_base_s, limits::kReconnectCapMaxS,
                                            json::kOptional, "server.reconnect_base_s");
  }

  bool parse_telemetry(json::Value tel, agent::TelemetryConfig* t) {
    static const char* const kTel[] = {"interval_s", "sample_s", "service", "node", "batch_max", "encoding",
                                       "batch_window_s"};
    return tel.object(kTel) && tel["interval_s"].number(&t->interval_s, limits::kIntervalS.lo, limits::kIntervalS.hi) &&
           tel["sample_s"].number(&t->sample_s, limits::kSampleS.lo, limits::kSampleS.hi) &&
           tel["batch_window_s"].number(&t->batch_window_s, limits::kBatchWindowS.lo, limits::kBatchWindowS.hi) &&
           tel["service"].text(&t->service) && tel["node"].text(&t->node) &&
           tel["batch_max"].integer(&t->batch_max, limits::kBatchMax.lo, limits::kBatchMax.hi) &&
           tel["encoding"].one_of(&t->encoding, kEncodings);
  }

  /// The agent's own rule for ACL entries (agent::acl_entry_problem).
  static bool jid_list(json::Value list, std::vector<std::string>* out) {
    if (!list.array("an array of bare JIDs or *@domain patterns")) return false;
    return list.each([out](json::Value e) {
      constexpr const char* kEntry = "a bare JID (local@domain) or *@domain";
      if (!e.is_string()) return e.expected(kEntry);
      if (const char* why = agent::acl_entry_problem(e.c_str())) return e.expected(kEntry, why);
      out->push_back(lower(e.c_str()));
      return true;
    });
  }

  bool parse_acl(json::Value acl, agent::AclConfig* out) {
    static const char* const kAcl[] = {"owners", "operators", "viewers"};
    return acl.object(kAcl) && jid_list(acl["owners"], &out->owners) && jid_list(acl["operators"], &out->operators) &&
           jid_list(acl["viewers"], &out->viewers);
  }

  bool parse_devices(json::Value devices, const std::string& domain, FleetSpec* out) {
    constexpr const char* kDevices = "a non-empty array of {jid, password, seed}";
    if (!devices.array(kDevices, json::kRequired)) return false;
    if (devices.size() == 0) return devices.expected(kDevices);
    if (devices.size() > kMaxDevices) return devices.fail("more than " + std::to_string(kMaxDevices) + " devices");
    std::set<std::string> seen;
    size_t i = 0;
    return devices.each([&](json::Value d) {
      static const char* const kDev[] = {"jid", "password", "seed"};
      if (!d.is_object()) return d.expected("an object {jid, password, seed}");
      if (!d.object(kDev)) return false;
      DeviceEntry e;
      constexpr const char* kJid = "a bare JID local@domain";
      const json::Value jid = d["jid"];
      if (!jid.text(&e.jid, kJid, json::kRequired)) return false;
      if (agent::bare_jid_problem(e.jid.c_str()) != nullptr) return jid.expected(kJid);
      e.jid = lower(e.jid);
      if (!domain.empty() && e.jid.substr(e.jid.find('@') + 1) != lower(domain)) {
        return jid.fail("\"" + e.jid + "\" is not in the server's domain " + domain);
      }
      if (!seen.insert(e.jid).second) return jid.fail("\"" + e.jid + "\" appears twice");
      e.seed = ++i;  // the seed defaults to the position, from 1
      if (!d["password"].text(&e.password, "a non-empty string", json::kRequired | json::kSecret) ||
          !d["seed"].integer(&e.seed, 0, kMaxSeed)) {
        return false;
      }
      out->devices.push_back(std::move(e));
      return true;
    });
  }

  /// A path relative to the fleet file's directory, made absolute; must be a
  /// readable file.
  bool file_path(const std::string& key, std::string* path) {
    if ((*path)[0] != '/') *path = dir_ + "/" + *path;
    char real[PATH_MAX];
    if (realpath(path->c_str(), real) == nullptr || access(real, R_OK) != 0) {
      return json_.fail(key, "cannot read " + *path + ": " + std::strerror(errno));
    }
    *path = real;
    return true;
  }

  json::Reader json_;
  std::string dir_;
};

bool finish(Parser& p, bool read, FleetSpec* out, std::string* error) {
  if (read && p.parse(out)) return true;
  *error = p.reader().error();
  return false;
}

}  // namespace

bool parse_fleet_spec(const char* text, const char* path, FleetSpec* out, std::string* error) {
  *out = FleetSpec();
  out->file = path;
  Parser p(path);
  return finish(p, p.reader().parse(text, std::strlen(text)), out, error);
}

bool load_fleet_spec(const char* path, FleetSpec* out, std::string* error) {
  *out = FleetSpec();
  out->file = path;
  Parser p(path);
  return finish(p, p.reader().load(kMaxFleetBytes, "a fleet file"), out, error);
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

// The fleet file: what tools/fleet provision writes and xiot-fleet-sim reads.
// One JSON document describing the server, the settings every device shares
// and each device's account (docs/fleet.md):
//
//   {
//     "xiot_fleet": 1,
//     "server": { "kind": "prosody", "host": "127.0.0.1", "port": 15222,
//                 "domain": "localhost", "tls": "required", "ca_file": "certs/ca.crt",
//                 "ping_interval_s": 30 },
//     "board": "/abs/boards/sim/board.json",
//     "telemetry": { "interval_s": 10, "service": "pep", "node": "urn:xiot:telemetry:0",
//                    "batch_max": 1, "encoding": "senml-xml" },
//     "acl": { "owners": ["admin@localhost"], "operators": ["ops@localhost"], "viewers": [] },
//     "operator": { "jid": "ops@localhost", "password": "..." },
//     "devices": [ { "jid": "dev0001@localhost", "password": "...", "seed": 1 }, ... ]
//   }
//
// Relative paths are relative to the fleet file's directory. Every key but
// "xiot_fleet", "server.host"/"port"/"ca_file", "board" and "devices" has the
// agent's default (DESIGN.md "Agent configuration"); "operator" is for the
// operator's tools and ignored here. Unknown keys are errors, as in the
// agent's own config.
//
// Host tooling (start-up code): allocates freely, no exceptions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "agent/config.hpp"

namespace fleet_sim {

struct DeviceEntry {
  std::string jid;       ///< bare JID, lower case
  std::string password;
  uint64_t seed = 0;     ///< what makes this device's sensor values its own
};

struct FleetSpec {
  std::string file;                ///< as given (for messages)
  std::string server_kind;         ///< "prosody", "ejabberd" or "" (informational)
  agent::XmppConfig xmpp;          ///< host, port, tls, ca_file, ping, resource; jid/password empty
  std::string board;               ///< absolute path of the board file
  agent::TelemetryConfig telemetry;  ///< node "" = the agent's default for the service
  agent::AclConfig acl;
  std::vector<DeviceEntry> devices;
};

/// Reads and validates the fleet file `path`. On failure returns false and
/// sets `*error` to one line naming the file, the key and what was expected
/// ("fleet.json: devices[3].jid: expected a bare JID local@domain, got ...").
/// Passwords never appear in messages. Checks: JSON well-formed, known keys,
/// types and ranges as for the agent's config, readable board and CA files,
/// at least one device, unique device JIDs.
bool load_fleet_spec(const char* path, FleetSpec* out, std::string* error);

/// As load_fleet_spec() on text in memory; `path` names it in messages and
/// its directory resolves relative paths.
bool parse_fleet_spec(const char* text, const char* path, FleetSpec* out, std::string* error);

/// The agent configuration of device `index` (< spec.devices.size()): the
/// shared settings plus the device's account. Journal path and log level are
/// left at their defaults (the simulator keeps settings in memory).
agent::AgentConfig device_config(const FleetSpec& spec, size_t index);

}  // namespace fleet_sim

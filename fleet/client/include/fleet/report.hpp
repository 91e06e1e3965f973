// xiotctl's output: human text and the --json documents of `devices`,
// `info`, `commands` and `run` (the schemas are in docs/xiotctl.md). Pure
// functions over plain structs, so the formats are unit-tested.
//
// Text output ends with a newline; JSON documents are one line each
// (cJSON, unformatted) and end with a newline.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "fleet/adhoc.hpp"
#include "fleet/device.hpp"
#include "fleet/error.hpp"
#include "fleet/fleet_ops.hpp"

namespace fleet {

/// "0 s", "42 s", "5 min", "3 h 05 min", "2 d 04 h" (rounded down).
/// Negative ages (the device's clock is ahead) are shown as "0 s".
std::string format_age(int64_t age_us);

/// The `devices` table: a header line, one line per device, and a summary
/// line ("3 devices: 1 online, 1 degraded, 1 offline").
std::string format_devices_text(const DevicesResult& r, int64_t now_us);
/// {"operator":…, "time":…, "complete":…, "unanswered":…, "counts":{…}, "devices":[…]}
std::string format_devices_json(const DevicesResult& r, const std::string& operator_jid, int64_t now_us);

/// `info`: the description as aligned "key  value" lines and a channel table.
std::string format_info_text(const std::string& device, const DeviceDescription& d);
/// {"device":…, "board":…, "firmware":…, "boot_id":…, "health":…, "channels":[…], "problems":[…]}
std::string format_info_json(const std::string& device, const DeviceDescription& d);

/// `commands`: "node  name" lines ("" when the list is empty).
std::string format_commands_text(const std::vector<CommandItem>& items);
/// {"device":…, "jid":…, "commands":[{"node":…, "name":…, "jid":…}]}
std::string format_commands_json(const std::string& device, const std::string& jid,
                                 const std::vector<CommandItem>& items);

/// `run`, when the command ended without an error: a status line
/// ("dev1@localhost/xiot read: completed"), the result form (title,
/// instructions, "label  value" lines) and the notes ("note: …",
/// "warning: …", "error: …").
std::string format_run_text(const CommandOutcome& o);
/// {"device":…, "jid":…, "node":…, "status":…, "sessionid":…, "stages":N,
///  "notes":[…], "form":{…}|null, "values":{var: value}}
std::string format_run_json(const std::string& device, const CommandOutcome& o);

/// {"device":…, "jid":…|null, "node":…|null, "error":{"type","condition","app_condition","text"}}
/// for a device's error answer (`run`, `info`, `commands` with --json).
std::string format_error_json(const std::string& device, const std::string& jid, const std::string& node,
                              const StanzaError& e);

}  // namespace fleet

#include "fleet/report.hpp"

#include <algorithm>
#include <cinttypes>
#include <cstdio>

#include "json_util.hpp"

namespace fleet {
namespace {

using detail::add_string;
using detail::JsonPtr;

/// Left-aligned columns, two spaces apart; the last column is not padded.
std::string table(const std::vector<std::vector<std::string>>& rows, const std::string& indent = "") {
  std::vector<size_t> width;
  for (const auto& row : rows) {
    if (width.size() < row.size()) width.resize(row.size(), 0);
    for (size_t i = 0; i < row.size(); ++i) width[i] = std::max(width[i], row[i].size());
  }
  std::string out;
  for (const auto& row : rows) {
    std::string line = indent;
    for (size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line += std::string(width[i] - row[i].size() + 2, ' ');
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line + "\n";
  }
  return out;
}

const char* note_prefix(const std::string& type) {
  if (type == "warn") return "warning: ";
  if (type == "error") return "error: ";
  return "note: ";
}

/// A field's value(s) for people: booleans as true/false, several values
/// joined with ", ", none as "-".
std::string field_value_text(const FormField& f) {
  if (f.values.empty()) return "-";
  std::string out;
  for (const auto& v : f.values) {
    if (!out.empty()) out += f.type == "text-multi" ? " / " : ", ";
    if (f.type == "boolean") {
      bool ok = false;
      const bool b = form_boolean(v, &ok);
      out += ok ? (b ? "true" : "false") : v;
    } else {
      out += v;
    }
  }
  return out;
}

cJSON* description_json(const DeviceDescription& d) {
  cJSON* o = cJSON_CreateObject();
  add_string(o, "board", d.board, true);
  add_string(o, "firmware", d.firmware, true);
  add_string(o, "boot_id", d.boot_id, true);
  add_string(o, "health", d.health, true);
  if (d.has_cert) {
    add_string(o, "cert_expires", d.cert_expires, true);
    cJSON_AddNumberToObject(o, "cert_days_left", static_cast<double>(d.cert_days_left));
  }
  cJSON* chans = cJSON_AddArrayToObject(o, "channels");
  for (const auto& c : d.channels) {
    cJSON* ch = cJSON_CreateObject();
    add_string(ch, "name", c.name);
    add_string(ch, "kind", c.kind, true);
    add_string(ch, "type", c.type, true);
    add_string(ch, "unit", c.unit, true);
    add_string(ch, "report", c.report);
    if (!c.deadband.empty()) {
      // An exact decimal from the device: a JSON number, unless it is not one.
      cJSON* n = cJSON_Parse(c.deadband.c_str());
      if (n != nullptr && cJSON_IsNumber(n)) {
        cJSON_AddRawToObject(ch, "deadband", c.deadband.c_str());
      } else {
        add_string(ch, "deadband", c.deadband);
      }
      cJSON_Delete(n);
    }
    cJSON_AddItemToArray(chans, ch);
  }
  cJSON* probs = cJSON_AddArrayToObject(o, "problems");
  for (const auto& p : d.problems) cJSON_AddItemToArray(probs, cJSON_CreateString(p.c_str()));
  return o;
}

cJSON* form_json(const DataForm& f) {
  cJSON* o = cJSON_CreateObject();
  add_string(o, "type", f.type);
  add_string(o, "title", f.title, true);
  cJSON* instr = cJSON_AddArrayToObject(o, "instructions");
  for (const auto& i : f.instructions) cJSON_AddItemToArray(instr, cJSON_CreateString(i.c_str()));
  cJSON* fields = cJSON_AddArrayToObject(o, "fields");
  for (const auto& fld : f.fields) {
    cJSON* j = cJSON_CreateObject();
    add_string(j, "var", fld.var, true);
    add_string(j, "type", fld.type);
    add_string(j, "label", fld.label, true);
    add_string(j, "desc", fld.desc, true);
    cJSON_AddBoolToObject(j, "required", fld.required ? 1 : 0);
    cJSON* vals = cJSON_AddArrayToObject(j, "values");
    for (const auto& v : fld.values) cJSON_AddItemToArray(vals, cJSON_CreateString(v.c_str()));
    if (!fld.options.empty()) {
      cJSON* opts = cJSON_AddArrayToObject(j, "options");
      for (const auto& op : fld.options) {
        cJSON* oj = cJSON_CreateObject();
        add_string(oj, "value", op.value);
        add_string(oj, "label", op.label, true);
        cJSON_AddItemToArray(opts, oj);
      }
    }
    cJSON_AddItemToArray(fields, j);
  }
  return o;
}

/// var -> value: booleans as JSON booleans, multi-valued fields as arrays,
/// everything else as the string received; null when there is no value.
cJSON* values_json(const DataForm& f) {
  cJSON* o = cJSON_CreateObject();
  for (const auto& fld : f.fields) {
    if (fld.var.empty() || fld.type == "fixed" || cJSON_HasObjectItem(o, fld.var.c_str())) continue;
    if (fld.multi()) {
      cJSON* arr = cJSON_AddArrayToObject(o, fld.var.c_str());
      for (const auto& v : fld.values) cJSON_AddItemToArray(arr, cJSON_CreateString(v.c_str()));
    } else if (fld.values.empty()) {
      cJSON_AddNullToObject(o, fld.var.c_str());
    } else if (fld.type == "boolean") {
      bool ok = false;
      const bool b = form_boolean(fld.values.front(), &ok);
      if (ok) {
        cJSON_AddBoolToObject(o, fld.var.c_str(), b ? 1 : 0);
      } else {
        add_string(o, fld.var.c_str(), fld.values.front());
      }
    } else {
      add_string(o, fld.var.c_str(), fld.values.front());
    }
  }
  return o;
}

std::string bare_of(const std::string& jid) { return jid.substr(0, jid.find('/')); }

}  // namespace

std::string format_age(int64_t age_us) {
  if (age_us < 0) age_us = 0;
  const int64_t s = age_us / 1000000;
  char buf[48];
  if (s < 60) {
    std::snprintf(buf, sizeof buf, "%" PRId64 " s", s);
  } else if (s < 3600) {
    std::snprintf(buf, sizeof buf, "%" PRId64 " min", s / 60);
  } else if (s < 86400) {
    std::snprintf(buf, sizeof buf, "%" PRId64 " h %02" PRId64 " min", s / 3600, (s % 3600) / 60);
  } else {
    std::snprintf(buf, sizeof buf, "%" PRId64 " d %02" PRId64 " h", s / 86400, (s % 86400) / 3600);
  }
  return buf;
}

std::string format_devices_text(const DevicesResult& r, int64_t now_us) {
  std::vector<std::vector<std::string>> rows;
  rows.push_back({"DEVICE", "STATE", "LAST SEEN", "FIRMWARE", "CHANNELS", "LAST TELEMETRY", "NOTE"});
  size_t counts[5] = {0, 0, 0, 0, 0};
  for (const auto& d : r.devices) {
    ++counts[static_cast<int>(d.state)];
    std::string seen = "-";
    if (d.state == DeviceState::Online || d.state == DeviceState::Degraded || d.state == DeviceState::Maintenance) {
      seen = "now";
    } else if (d.last_seen_us != 0) {
      seen = format_age(now_us - d.last_seen_us) + " ago";  // "0 s ago", never "now": it is offline
    }
    std::string telemetry = "-";
    if (d.telemetry) {
      telemetry = format_time_ms(d.telemetry->time_us) + " (" + format_age(now_us - d.telemetry->time_us) + " ago)";
    }
    std::vector<std::string> notes;
    if (d.state == DeviceState::Degraded || d.state == DeviceState::Maintenance) {
      if (!d.status.empty()) notes.push_back(d.status);
    }
    if (d.state == DeviceState::Unknown) {
      notes.push_back(d.description_error.empty() ? "not subscribed to its presence" : d.description_error);
    } else {
      if (!d.description) notes.push_back("description: " + d.description_error);
      if (!d.telemetry) notes.push_back("telemetry: " + d.telemetry_error);
      if (d.description && d.description->has_cert) {
        notes.push_back(d.description->cert_days_left < 0
                            ? "certificate expired"
                            : "certificate: " + std::to_string(d.description->cert_days_left) + " days left");
      }
    }
    std::string note;
    for (const auto& n : notes) note += (note.empty() ? "" : "; ") + n;
    rows.push_back({d.jid, state_name(d.state), seen, d.description ? d.description->firmware : "-",
                    d.description ? std::to_string(d.description->channels.size()) : "-", telemetry, note});
  }
  std::string out = table(rows);
  out += std::to_string(r.devices.size()) + (r.devices.size() == 1 ? " device" : " devices");
  const char* names[5] = {"online", "degraded", "maintenance", "offline", "unknown"};
  std::string parts;
  for (int i = 0; i < 5; ++i) {
    if (counts[i] == 0 && i != 0 && i != 3) continue;  // online and offline always shown
    parts += (parts.empty() ? ": " : ", ") + std::to_string(counts[i]) + " " + names[i];
  }
  out += parts;
  if (!r.complete()) out += " (" + std::to_string(r.unanswered) + " requests unanswered)";
  return out + "\n";
}

std::string format_devices_json(const DevicesResult& r, const std::string& operator_jid, int64_t now_us) {
  JsonPtr doc = detail::json_object();
  add_string(doc.get(), "operator", operator_jid);
  add_string(doc.get(), "time", format_time_ms(now_us));
  cJSON_AddBoolToObject(doc.get(), "complete", r.complete() ? 1 : 0);
  cJSON_AddNumberToObject(doc.get(), "unanswered", static_cast<double>(r.unanswered));
  cJSON* counts = cJSON_AddObjectToObject(doc.get(), "counts");
  size_t n[5] = {0, 0, 0, 0, 0};
  for (const auto& d : r.devices) ++n[static_cast<int>(d.state)];
  cJSON_AddNumberToObject(counts, "total", static_cast<double>(r.devices.size()));
  for (int i = 0; i < 5; ++i) {
    cJSON_AddNumberToObject(counts, state_name(static_cast<DeviceState>(i)), static_cast<double>(n[i]));
  }
  cJSON* devices = cJSON_AddArrayToObject(doc.get(), "devices");
  for (const auto& d : r.devices) {
    cJSON* o = cJSON_CreateObject();
    add_string(o, "jid", d.jid);
    add_string(o, "name", d.name, true);
    add_string(o, "subscription", d.subscription);
    add_string(o, "state", state_name(d.state));
    add_string(o, "resource", d.resource, true);
    add_string(o, "show", d.show, true);
    add_string(o, "status", d.status, true);
    add_string(o, "presence_since", d.presence_since, true);
    add_string(o, "last_seen", d.last_seen_us != 0 ? format_time_ms(d.last_seen_us) : "", true);
    add_string(o, "last_seen_source", d.last_seen_source, true);
    if (d.description) {
      cJSON_AddItemToObject(o, "description", description_json(*d.description));
    } else {
      cJSON_AddNullToObject(o, "description");
    }
    add_string(o, "description_error", d.description ? "" : d.description_error, true);
    if (d.telemetry) {
      cJSON* t = cJSON_AddObjectToObject(o, "telemetry");
      add_string(t, "item", d.telemetry->item);
      add_string(t, "time", format_time_ms(d.telemetry->time_us));
      char age[32];
      std::snprintf(age, sizeof age, "%.3f", static_cast<double>(now_us - d.telemetry->time_us) / 1e6);
      cJSON_AddRawToObject(t, "age_s", age);
      cJSON* readings = cJSON_AddArrayToObject(t, "readings");
      for (const auto& rd : d.telemetry->readings) cJSON_AddItemToArray(readings, detail::reading_json(rd, false));
    } else {
      cJSON_AddNullToObject(o, "telemetry");
    }
    add_string(o, "telemetry_error", d.telemetry ? "" : d.telemetry_error, true);
    cJSON_AddItemToArray(devices, o);
  }
  return detail::json_text(doc.get()) + "\n";
}

std::string format_info_text(const std::string& device, const DeviceDescription& d) {
  auto or_dash = [](const std::string& s) { return s.empty() ? std::string("-") : s; };
  std::string out = device + "\n";
  out += table({{"board", or_dash(d.board)},
                {"firmware", or_dash(d.firmware)},
                {"boot id", or_dash(d.boot_id)},
                {"health", or_dash(d.health)},
                {"channels", std::to_string(d.channels.size())}},
               "  ");
  std::vector<std::vector<std::string>> rows;
  for (const auto& c : d.channels) {
    const std::string report = c.deadband.empty() ? c.report : c.report + " " + c.deadband;
    rows.push_back({c.name, or_dash(c.kind), or_dash(c.type), or_dash(c.unit), report});
  }
  out += table(rows, "    ");
  if (d.problems.empty()) {
    out += "  problems  none\n";
  } else {
    out += "  problems\n";
    for (const auto& p : d.problems) out += "    " + p + "\n";
  }
  return out;
}

std::string format_info_json(const std::string& device, const DeviceDescription& d) {
  JsonPtr doc(description_json(d), &cJSON_Delete);
  // "device" first, for people reading it.
  JsonPtr out = detail::json_object();
  add_string(out.get(), "device", device);
  for (cJSON* c = doc->child; c != nullptr;) {
    cJSON* next = c->next;
    cJSON_AddItemToObject(out.get(), c->string, cJSON_DetachItemViaPointer(doc.get(), c));
    c = next;
  }
  return detail::json_text(out.get()) + "\n";
}

std::string format_commands_text(const std::vector<CommandItem>& items) {
  std::vector<std::vector<std::string>> rows;
  for (const auto& i : items) rows.push_back({i.node, i.name});
  return table(rows);
}

std::string format_commands_json(const std::string& device, const std::string& jid,
                                 const std::vector<CommandItem>& items) {
  JsonPtr doc = detail::json_object();
  add_string(doc.get(), "device", device);
  add_string(doc.get(), "jid", jid);
  cJSON* arr = cJSON_AddArrayToObject(doc.get(), "commands");
  for (const auto& i : items) {
    cJSON* o = cJSON_CreateObject();
    add_string(o, "node", i.node);
    add_string(o, "name", i.name, true);
    add_string(o, "jid", i.jid.empty() ? jid : i.jid);
    cJSON_AddItemToArray(arr, o);
  }
  return detail::json_text(doc.get()) + "\n";
}

std::string format_run_text(const CommandOutcome& o) {
  std::string out = o.jid + " " + o.node + ": " + o.reply.status + "\n";
  if (o.reply.form) {
    const DataForm& f = *o.reply.form;
    if (!f.title.empty()) out += f.title + "\n";
    for (const auto& i : f.instructions) out += i + "\n";
    std::vector<std::vector<std::string>> rows;
    for (const auto& fld : f.fields) {
      if (fld.type == "hidden") continue;
      if (fld.type == "fixed") {
        for (const auto& v : fld.values) rows.push_back({v});
        continue;
      }
      std::string value = field_value_text(fld);
      if (fld.values.empty() && !fld.desc.empty()) value += "  (" + fld.desc + ")";
      rows.push_back({fld.title(), value});
    }
    out += table(rows, "  ");
  }
  for (const auto& n : o.reply.notes) out += note_prefix(n.type) + n.text + "\n";
  return out;
}

std::string format_run_json(const std::string& device, const CommandOutcome& o) {
  JsonPtr doc = detail::json_object();
  add_string(doc.get(), "device", device.empty() ? bare_of(o.jid) : device);
  add_string(doc.get(), "jid", o.jid);
  add_string(doc.get(), "node", o.node);
  add_string(doc.get(), "status", o.reply.status);
  add_string(doc.get(), "sessionid", o.reply.sessionid, true);
  cJSON_AddNumberToObject(doc.get(), "stages", static_cast<double>(o.stages.size() + 1));
  cJSON* notes = cJSON_AddArrayToObject(doc.get(), "notes");
  for (const auto& n : o.reply.notes) {
    cJSON* j = cJSON_CreateObject();
    add_string(j, "type", n.type);
    add_string(j, "text", n.text);
    cJSON_AddItemToArray(notes, j);
  }
  if (o.reply.form) {
    cJSON_AddItemToObject(doc.get(), "form", form_json(*o.reply.form));
    cJSON_AddItemToObject(doc.get(), "values", values_json(*o.reply.form));
  } else {
    cJSON_AddNullToObject(doc.get(), "form");
    cJSON_AddObjectToObject(doc.get(), "values");
  }
  return detail::json_text(doc.get()) + "\n";
}

std::string format_error_json(const std::string& device, const std::string& jid, const std::string& node,
                              const StanzaError& e) {
  JsonPtr doc = detail::json_object();
  add_string(doc.get(), "device", device);
  add_string(doc.get(), "jid", jid, true);
  add_string(doc.get(), "node", node, true);
  cJSON* err = cJSON_AddObjectToObject(doc.get(), "error");
  add_string(err, "type", e.type, true);
  add_string(err, "condition", e.condition);
  add_string(err, "app_condition", e.app_condition, true);
  add_string(err, "text", e.text, true);
  return detail::json_text(doc.get()) + "\n";
}

}  // namespace fleet

// Desired state from the operator's side (fleet/desired.hpp).
#include "fleet/desired.hpp"

#include <cstdlib>

#include "agent/forms.hpp"
#include "fleet/error.hpp"
#include "fleet/forms.hpp"
#include "json_util.hpp"

namespace fleet {

std::vector<DesiredValue> parse_desired_args(const std::vector<std::string>& args, const DeviceDescription& d) {
  std::vector<DesiredValue> out;
  for (const FieldArg& a : parse_field_args(args)) {
    DesiredValue v{a.var, "v", a.value};
    const ChannelInfo* ch = nullptr;
    for (const ChannelInfo& c : d.channels) {
      if (c.name == a.var) ch = &c;
    }
    if (ch != nullptr && ch->type == "boolean") {
      v.attr = "vb";
      // The agent's loose boolean (on/off, yes/no, 1/0): the same words `set` takes.
      const hal::Result<bool> b = agent::parse_loose_bool(a.value.c_str());
      if (b.ok()) v.text = b.value() ? "true" : "false";
    } else if (ch != nullptr && ch->type == "string") {
      v.attr = "vs";
    }
    out.push_back(v);
  }
  return out;
}

XmlElement make_desired_publish(const std::vector<DesiredValue>& values, const std::string& version) {
  XmlElement pubsub = make_element("pubsub", kPubsubNs);
  XmlElement& publish = pubsub.add("publish");
  publish.set("node", kDesiredNode);
  XmlElement& item = publish.add("item");
  item.set("id", "current");
  XmlElement& desired = item.add("desired", kDesiredNode);
  if (!version.empty()) desired.set("version", version);
  for (const DesiredValue& v : values) {
    XmlElement& value = desired.add("value");
    value.set("n", v.name);
    value.set(v.attr, v.text);
  }
  return pubsub;
}

DesiredReport parse_desired_report(const XmlElement& device) {
  DesiredReport r;
  const XmlElement* d = device.child("desired");
  if (d == nullptr) return r;
  r.present = true;
  auto get = [d](const char* key) {
    const std::string* s = d->attr(key);
    return s != nullptr ? *s : std::string();
  };
  r.item = get("item");
  r.version = get("version");
  r.publisher = get("publisher");
  r.result = get("result");
  r.applied = get("applied");
  r.of = get("of");
  r.at = get("at");
  r.omitted = get("omitted");
  for (const XmlElement& e : d->children) {
    if (e.name != "error") continue;
    const std::string* n = e.attr("n");
    if (n == nullptr) {
      r.refusal = e.text;
    } else {
      r.errors.emplace_back(*n, e.text);
    }
  }
  return r;
}

std::string format_desired_report_text(const DesiredReport& r) {
  if (!r.present) return "no desired state applied yet\n";
  std::string out = r.result + ", " + r.applied + " of " + r.of + " applied";
  std::string who;
  if (!r.version.empty()) who += "version " + r.version;
  if (!r.publisher.empty()) who += (who.empty() ? "" : ", ") + std::string("by ") + r.publisher;
  if (!who.empty()) out += " (" + who + ")";
  out += "\n";
  if (!r.refusal.empty()) out += "  refused: " + r.refusal + "\n";
  for (const auto& e : r.errors) out += "  " + e.first + ": " + e.second + "\n";
  if (!r.omitted.empty()) out += "  (" + r.omitted + " more errors not shown by the device)\n";
  return out;
}

std::string format_desired_report_json(const std::string& device, const DesiredReport& r) {
  detail::JsonPtr doc = detail::json_object();
  detail::add_string(doc.get(), "device", device);
  if (!r.present) {
    cJSON_AddNullToObject(doc.get(), "result");
    return detail::json_text(doc.get()) + "\n";
  }
  detail::add_string(doc.get(), "result", r.result);
  detail::add_string(doc.get(), "version", r.version, true);
  detail::add_string(doc.get(), "publisher", r.publisher, true);
  cJSON_AddNumberToObject(doc.get(), "applied", std::atoi(r.applied.c_str()));
  cJSON_AddNumberToObject(doc.get(), "of", std::atoi(r.of.c_str()));
  detail::add_string(doc.get(), "at", r.at);
  cJSON* errors = cJSON_AddArrayToObject(doc.get(), "errors");
  for (const auto& e : r.errors) {
    cJSON* o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "n", e.first.c_str());
    cJSON_AddStringToObject(o, "error", e.second.c_str());
    cJSON_AddItemToArray(errors, o);
  }
  detail::add_string(doc.get(), "refusal", r.refusal, true);
  return detail::json_text(doc.get()) + "\n";
}

}  // namespace fleet

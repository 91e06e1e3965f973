#include "fleet/device.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdlib>

#include "fleet/error.hpp"

namespace fleet {

DeviceDescription parse_device_description(const XmlElement& device) {
  if (device.name != "device" || device.ns != kDeviceNode) {
    throw Error(Exit::DeviceError,
                "the device node holds <" + device.name + " xmlns='" + device.ns + "'>, not a device description");
  }
  DeviceDescription d;
  auto get = [&](const char* key) {
    const std::string* v = device.attr(key);
    return v != nullptr ? *v : std::string();
  };
  d.board = get("board");
  d.firmware = get("firmware");
  d.boot_id = get("boot-id");
  d.health = get("health");
  d.cert_expires = get("cert-expires");
  if (const std::string* v = device.attr("cert-days-left")) {
    char* end = nullptr;
    const long long n = std::strtoll(v->c_str(), &end, 10);
    if (!v->empty() && end != nullptr && *end == '\0') {
      d.has_cert = true;
      d.cert_days_left = n;
    }
  }
  for (const auto& c : device.children) {
    if (c.ns != kDeviceNode) continue;
    if (c.name == "channel") {
      ChannelInfo ch;
      if (const std::string* v = c.attr("name")) ch.name = *v;
      if (ch.name.empty()) throw Error(Exit::DeviceError, "the device description has a channel without a name");
      if (const std::string* v = c.attr("kind")) ch.kind = *v;
      if (const std::string* v = c.attr("unit")) ch.unit = *v;
      if (const std::string* v = c.attr("type")) ch.type = *v;
      if (const std::string* v = c.attr("report")) ch.report = *v;
      if (const std::string* v = c.attr("deadband")) ch.deadband = *v;
      d.channels.push_back(std::move(ch));
    } else if (c.name == "problem") {
      d.problems.push_back(c.text);
    } else if (c.name == "update") {
      auto a = [&c](const char* key) {
        const std::string* v = c.attr(key);
        return v != nullptr ? *v : std::string();
      };
      d.update_state = a("state");
      d.update_version = a("version");
      d.update_progress = a("progress");
      d.update_error = a("error");
    }
  }
  return d;
}

XmlElement make_items_request(const std::string& node, const std::string& item_id, int max_items) {
  XmlElement p = make_element("pubsub", kPubsubNs);
  XmlElement& items = p.add("items");
  items.set("node", node);
  if (!item_id.empty()) {
    items.add("item").set("id", item_id);
  } else if (max_items > 0) {
    items.set("max_items", std::to_string(max_items));
  }
  return p;
}

std::vector<PubsubItem> parse_items_result(const XmlElement& pubsub, const std::string& node) {
  if (pubsub.name != "pubsub" || pubsub.ns != kPubsubNs) {
    throw Error(Exit::DeviceError, "expected a pubsub answer, got <" + pubsub.name + " xmlns='" + pubsub.ns + "'>");
  }
  std::vector<PubsubItem> out;
  for (const auto& items : pubsub.children) {
    if (items.name != "items" || items.ns != kPubsubNs) continue;
    const std::string* n = items.attr("node");
    if (n != nullptr && *n != node) continue;
    for (const auto& it : items.children) {
      if (it.name != "item" || it.ns != kPubsubNs) continue;
      PubsubItem item;
      if (const std::string* id = it.attr("id")) item.id = *id;
      if (!it.children.empty()) {
        item.payload = it.children.front();
        item.has_payload = true;
      }
      out.push_back(std::move(item));
    }
  }
  return out;
}

XmlElement make_last_activity_request() { return make_element("query", kLastActivityNs); }

int64_t parse_last_activity_seconds(const XmlElement& query) {
  if (query.name != "query" || query.ns != kLastActivityNs) return -1;
  const std::string* s = query.attr("seconds");
  if (s == nullptr || s->empty()) return -1;
  char* end = nullptr;
  errno = 0;
  const long long v = std::strtoll(s->c_str(), &end, 10);
  if (*end != '\0' || errno != 0 || v < 0) return -1;
  return v;
}

Telemetry telemetry_from_item(const PubsubItem& item, const std::string& device, int64_t now_us) {
  if (!item.has_payload) throw SenmlError("item " + item.id + " has no payload");
  Telemetry t;
  t.item = item.id;
  t.readings = parse_telemetry_payload(item.payload, now_us);
  for (auto& r : t.readings) {
    r.device = device;
    r.item = item.id;
    t.time_us = std::max(t.time_us, r.time_us);
  }
  return t;
}

const char* state_name(DeviceState s) {
  switch (s) {
    case DeviceState::Online: return "online";
    case DeviceState::Degraded: return "degraded";
    case DeviceState::Maintenance: return "maintenance";
    case DeviceState::Offline: return "offline";
    case DeviceState::Unknown: return "unknown";
  }
  return "unknown";
}

DeviceState state_from_show(const std::string& show) {
  if (show == "away" || show == "xa") return DeviceState::Degraded;
  if (show == "dnd") return DeviceState::Maintenance;
  return DeviceState::Online;
}

bool sees_presence(const std::string& subscription) { return subscription == "to" || subscription == "both"; }

}  // namespace fleet

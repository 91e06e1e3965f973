// What the operator knows about one device, without the network: the device
// description (PEP node urn:xiot:device:0, item `current`, see
// docs/wire-format.md), the last telemetry item, PubSub item lists, and the
// state derived from presence.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "fleet/senml.hpp"
#include "fleet/xml.hpp"

namespace fleet {

constexpr const char* kDeviceNode = "urn:xiot:device:0";        ///< node and payload namespace
constexpr const char* kTelemetryNode = "urn:xiot:telemetry:0";
constexpr const char* kDeviceItemId = "current";
constexpr const char* kPubsubNs = "http://jabber.org/protocol/pubsub";
constexpr const char* kLastActivityNs = "jabber:iq:last";

struct ChannelInfo {
  std::string name;  ///< "env0.temperature"
  std::string kind;  ///< sensor | actuator
  std::string unit;  ///< SenML unit, "" when none
  std::string type;  ///< numeric | boolean | string
  /// Report policy: interval (also when the node has no `report`, as before
  /// policies existed) | on_change | deadband.
  std::string report = "interval";
  std::string deadband;  ///< with deadband: the band as an exact decimal ("0.2"), else ""
};

/// The `<device xmlns='urn:xiot:device:0'/>` payload.
struct DeviceDescription {
  std::string board;
  std::string firmware;
  std::string boot_id;
  std::string health;  ///< healthy | degraded | maintenance
  /// The client certificate (a device logging in with SASL EXTERNAL):
  /// cert-expires (ISO 8601 UTC) and cert-days-left; "" / has_cert false
  /// for a password login (docs/identity.md).
  std::string cert_expires;
  bool has_cert = false;
  long long cert_days_left = 0;
  std::vector<ChannelInfo> channels;
  std::vector<std::string> problems;
  /// <update state version progress error/> (signed updates; docs/updates.md):
  /// update_state "" when the device has no update support.
  std::string update_state;
  std::string update_version;
  std::string update_progress;
  std::string update_error;
};

/// Reads a device description. Unknown attributes and children are ignored
/// (the format may grow). Throws fleet::Error(Exit::DeviceError) when `device`
/// is not a `<device xmlns='urn:xiot:device:0'/>` or a channel has no name.
DeviceDescription parse_device_description(const XmlElement& device);

/// One `<item/>` of a PubSub items result.
struct PubsubItem {
  std::string id;
  bool has_payload = false;
  XmlElement payload;  ///< the item's first child element
};

/// `<pubsub xmlns='…pubsub'><items node=… [max_items=…]>[<item id=…/>]</items></pubsub>`
/// (XEP-0060 §6.5): `item_id` "" asks for the newest `max_items` items
/// (0 = no limit), otherwise for that item.
XmlElement make_items_request(const std::string& node, const std::string& item_id, int max_items);

/// The items of an items result for `node`, in document order. Throws
/// fleet::Error(Exit::DeviceError) when `pubsub` is not a pubsub element.
std::vector<PubsubItem> parse_items_result(const XmlElement& pubsub, const std::string& node);

/// `<query xmlns='jabber:iq:last'/>` (XEP-0012).
XmlElement make_last_activity_request();
/// Seconds since the account was last online, from an XEP-0012 answer; -1
/// when the answer has no usable `seconds`.
int64_t parse_last_activity_seconds(const XmlElement& query);

/// The last telemetry item of a device.
struct Telemetry {
  std::string item;     ///< item id ("7f3a12cd-000042")
  int64_t time_us = 0;  ///< the newest reading's time
  std::vector<Reading> readings;
};

/// Decodes a telemetry item (SenML XML or <senml-pb/>) of `device` (bare JID).
/// Throws SenmlError when the payload is missing or not telemetry.
Telemetry telemetry_from_item(const PubsubItem& item, const std::string& device, int64_t now_us);

enum class DeviceState {
  Online,       ///< available, no <show/>
  Degraded,     ///< available, show away/xa (a device or sensor failed)
  Maintenance,  ///< available, show dnd (firmware update running)
  Offline,      ///< subscribed to its presence, no available resource
  Unknown,      ///< not subscribed to its presence: cannot tell
};
/// "online" | "degraded" | "maintenance" | "offline" | "unknown".
const char* state_name(DeviceState s);
/// The state an available presence with this <show/> means ("" and chat:
/// online; away, xa: degraded; dnd: maintenance).
DeviceState state_from_show(const std::string& show);

/// One row of `xiotctl devices`.
struct DeviceStatus {
  std::string jid;           ///< bare JID
  std::string name;          ///< roster name, "" if none
  std::string subscription;  ///< roster subscription: none | to | from | both
  bool ask = false;          ///< our subscription request is pending
  DeviceState state = DeviceState::Unknown;
  std::string resource;      ///< full JID of the resource chosen (online only)
  std::string show;          ///< its <show/>
  std::string status;        ///< its <status/> line
  std::string presence_since;  ///< XEP-0203 stamp: since when its presence is as it is, "" if unknown
  /// When the device was last seen: now if it is online, else from XEP-0012
  /// last activity, else the time of its last telemetry. 0 = unknown.
  int64_t last_seen_us = 0;
  std::string last_seen_source;  ///< presence | last-activity | telemetry | ""
  std::optional<DeviceDescription> description;
  std::string description_error;  ///< why there is none ("" while not asked)
  std::optional<Telemetry> telemetry;
  std::string telemetry_error;
};

/// True when our roster subscription lets us see the contact's presence
/// (and, with access_model=presence, read its PEP nodes).
bool sees_presence(const std::string& subscription);

}  // namespace fleet

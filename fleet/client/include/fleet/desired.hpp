// Desired state from the operator's side (docs/desired-state.md,
// docs/xiotctl.md "desire"): building the item xiotctl publishes to a
// device's urn:xiot:desired:0 node, and reading the device's `<desired/>`
// report back out of its device node.
#pragma once

#include <string>
#include <vector>

#include "fleet/device.hpp"
#include "fleet/xml.hpp"

namespace fleet {

constexpr const char* kDesiredNode = "urn:xiot:desired:0";  ///< node and payload namespace

/// One `<value/>`: `attr` is v, vb or vs (SenML).
struct DesiredValue {
  std::string name;
  std::string attr;
  std::string text;
};

/// "relay0.state=on" arguments typed by the device's description: a boolean
/// channel gets vb (on/off, yes/no, 1/0, true/false become true/false; other
/// text is passed on for the device to refuse), a numeric channel and a
/// `telemetry.*` setting v, a string channel vs; a name the description does
/// not list gets v (the device reports it as unknown). Throws
/// fleet::Error(Exit::Usage) for an argument without '=' or an empty name.
std::vector<DesiredValue> parse_desired_args(const std::vector<std::string>& args, const DeviceDescription& d);

/// `<pubsub><publish node='urn:xiot:desired:0'><item id='current'><desired
/// xmlns='urn:xiot:desired:0' version='…'><value …/>…</desired></item></publish></pubsub>`.
XmlElement make_desired_publish(const std::vector<DesiredValue>& values, const std::string& version);

/// The `<desired/>` child of a device description (all "" when absent).
struct DesiredReport {
  bool present = false;
  std::string item, version, publisher, result, applied, of, at, omitted, refusal;
  std::vector<std::pair<std::string, std::string>> errors;  ///< (value name, error text)
};
/// Reads it from the `<device xmlns='urn:xiot:device:0'/>` element.
DesiredReport parse_desired_report(const XmlElement& device);

/// "ok, 2 of 2 applied (version 1765015200123, by ops@localhost)" and one
/// "  relay0.state: …" line per error; "no desired state applied yet" when absent.
std::string format_desired_report_text(const DesiredReport& r);
/// One JSON object: {"device", "result", "version", "publisher", "applied", "of",
/// "at", "errors": [{"n", "error"}], "refusal"} ("result": null when absent).
std::string format_desired_report_json(const std::string& device, const DesiredReport& r);

}  // namespace fleet

// Telemetry payloads (DESIGN.md "Telemetry", docs/wire-format.md) turned into
// readings: SenML XML (RFC 8428 §7, resolved per §4) and the compact
// <senml-pb xmlns='urn:xiot:senml-pb:0'/> encoding.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "fleet/xml.hpp"

namespace fleet {

constexpr const char* kSenmlNs = "urn:ietf:params:xml:ns:senml";
constexpr const char* kSenmlPbNs = "urn:xiot:senml-pb:0";

/// One resolved SenML record, i.e. one reading of one channel.
struct Reading {
  enum class Kind { Number, Boolean, String, Data };

  std::string device;   ///< bare JID of the publisher ("dev1@localhost"); set by the caller
  std::string item;     ///< PubSub item id; set by the caller
  std::string name;     ///< channel name: the full SenML name without the device's base
                        ///< name ("env0.temperature"), or the full name for foreign bases
  std::string unit;     ///< SenML unit, "" when none
  int64_t time_us = 0;  ///< UTC microseconds since the Unix epoch
  Kind kind = Kind::Number;
  std::string number;   ///< Number: decimal text that is also a valid JSON number ("21.54")
  bool boolean = false; ///< Boolean
  std::string text;     ///< String (vs) or Data (vd, base64 as received)
};

/// Why a payload was refused; the message names the record and attribute.
class SenmlError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Resolves a `<sensml/>` element into readings (RFC 8428 §4.6: bn/bt/bu/bv/bs
/// apply to their record and every later one; name = bn + n; time = bt + t,
/// and a resolved time below 2^28 s is relative to `now_us`; value = bv + v,
/// sum = bs + s). Numbers are kept as their decimal text when it is already a
/// JSON number. A record must have a name and one of v/vs/vb/vd/s. Unknown
/// attributes are ignored unless they end in '_' (must-understand, §4.4).
/// The pack is all or nothing: throws SenmlError on the first bad record.
std::vector<Reading> parse_senml_xml(const XmlElement& sensml, int64_t now_us);

/// Same for `<senml-pb xmlns='urn:xiot:senml-pb:0'>BASE64</senml-pb>`.
/// Throws SenmlError when the bytes are not a xiot.senml.Pack.
std::vector<Reading> parse_senml_pb(const XmlElement& senml_pb, int64_t now_us);

/// Dispatches on the payload's namespace (sensml or senml-pb).
/// Throws SenmlError for anything else.
std::vector<Reading> parse_telemetry_payload(const XmlElement& payload, int64_t now_us);

/// "2026-11-23T23:40:01.250Z": UTC, millisecond precision (rounded down).
std::string format_time_ms(int64_t time_us);

/// One human-readable line without newline:
/// "2026-11-23T23:40:01.250Z dev1@localhost env0.temperature = 21.54 Cel".
/// Strings are shown JSON-quoted, booleans as true/false.
std::string format_reading_line(const Reading& r);

/// One JSON object without newline:
/// {"device":..,"item":..,"time":"<ISO 8601>","name":..,"value":<number|bool|string>,"unit":<string|null>}
std::string format_reading_json(const Reading& r);

}  // namespace fleet

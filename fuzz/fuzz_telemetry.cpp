// libFuzzer target: xiotctl's telemetry decoding — an item payload as it
// arrives from a device (SenML XML per RFC 8428 §7, or <senml-pb/> base64
// protobuf) parsed and resolved into readings, then formatted as xiotctl
// prints them. Malformed payloads must end in fleet::Error / SenmlError
// (xiotctl reports them), never in a crash.
#include <cstddef>
#include <cstdint>
#include <string>

#include "fleet/error.hpp"
#include "fleet/senml.hpp"
#include "fleet/xml.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    const fleet::XmlElement payload = fleet::parse_xml(text);
    const std::vector<fleet::Reading> readings = fleet::parse_telemetry_payload(payload, 1763900000000000LL);
    for (const fleet::Reading& r : readings) {
      (void)fleet::format_reading_line(r);
      (void)fleet::format_reading_json(r);
    }
  } catch (const fleet::Error&) {
  } catch (const fleet::SenmlError&) {
  }
  return 0;
}

// Decoding of the compact telemetry encoding (agent/proto/senml.proto), for
// xiotctl and tests. Host-side code: it allocates (std::string, std::vector)
// and is built with protobuf-lite (target xiot_agent_pb). The agent only
// encodes (agent/senml_pb.hpp).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "drv/value.hpp"
#include "hal/status.hpp"

namespace agent {

/// One SenML record with bn/bt resolved (RFC 8428 §4.6).
struct DecodedRecord {
  std::string base_name;  ///< the bn in force ("dev1_localhost:"), "" if none
  std::string name;       ///< n ("env0.temperature"); the full name is base_name + name
  std::string unit;       ///< "" if none
  int64_t time_us = 0;    ///< bt + t: microseconds since the Unix epoch
  drv::ValueType type = drv::ValueType::Numeric;
  int64_t mantissa = 0;   ///< Numeric: value = mantissa * 10^exponent
  int32_t exponent = 0;
  bool flag = false;      ///< Boolean
  std::string text;       ///< String
  bool has_value = false; ///< false when the record carried no v/vb/vs
};

/// Decodes a <senml-pb/> payload into `out` (replacing its contents): the
/// rows form and the columnar form (senml.proto) give the same records.
/// `payload` may be the whole element (`<senml-pb xmlns='urn:xiot:senml-pb:0'>
/// BASE64</senml-pb>`, any attribute quoting) or just its base64 text;
/// whitespace inside the base64 is ignored.
/// Errors: InvalidArgument (null payload, not a senml-pb element),
/// Corrupt (bad base64 or bytes that are not a xiot.senml.Pack).
hal::Err decode_senml_pb(const char* payload, size_t len, std::vector<DecodedRecord>* out);

/// Decodes raw Pack bytes (no base64). Errors: Corrupt, InvalidArgument.
hal::Err decode_senml_pb_bytes(const uint8_t* data, size_t len, std::vector<DecodedRecord>* out);

}  // namespace agent

// The compact telemetry encoding: the same SenML records as format_senml_xml(),
// as protobuf-lite bytes of agent/proto/senml.proto (message xiot.senml.Pack),
// base64 in `<senml-pb xmlns='urn:xiot:senml-pb:0'>…</senml-pb>`.
//
// The encoder is hand-written against the .proto (protobuf wire format,
// https://protobuf.dev/programming-guides/encoding/) so that the agent's
// per-item path needs neither libprotobuf nor the heap; the unit tests check
// that its bytes equal what the generated protobuf-lite code serialises and
// that the generated code parses them back. Decoding, for xiotctl, is in
// agent/senml_pb_decode.hpp (target xiot_agent_pb).
//
// Record mapping (senml.proto):
//   bn   = 1  string   base name, first record only
//   bt_us= 2  sint64   base time, microseconds since the Unix epoch, first record only
//   n    = 3  string   name
//   u    = 4  string   unit (omitted when empty)
//   v    = 5  Decimal  { sint64 mantissa = 1; sint32 exponent = 2; } exact value
//   vb   = 6  bool
//   vs   = 7  string
//   t_us = 8  sint64   time relative to bt, microseconds (omitted when 0)
//
// Columnar form (Pack fields 2..5, message Column), picked by the encoder
// when two or more non-empty snapshots all carry the same channels (same
// name and unit, same order), each numeric with one exponent throughout or
// boolean: Pack { bn = 2; bt_us = 3; packed dt_us = 4 (time deltas);
// columns = 5 { n = 1; u = 2; exponent = 3; packed mantissa = 4 (first, then
// deltas, wrapping); packed vb = 5 } }. Otherwise the rows form above.
#pragma once

#include <cstddef>
#include <cstdint>

#include "agent/senml.hpp"
#include "hal/status.hpp"

namespace agent {

/// XML namespace of the <senml-pb/> wrapper element.
constexpr const char* kSenmlPbXmlns = "urn:xiot:senml-pb:0";

/// Serialises the records (same rules as format_senml_xml: bn/bt on the first
/// record, t_us on records of later snapshots, empty snapshots skipped) as a
/// xiot.senml.Pack into `buf`, columnar when the snapshots allow it (above).
/// Returns the number of bytes.
/// Errors: Overflow, InvalidArgument (no samples, null names).
hal::Result<size_t> encode_senml_pb(uint8_t* buf, size_t cap, const char* base_name,
                                    const Snapshot* snapshots, size_t snapshot_count);

/// Writes `<senml-pb xmlns='urn:xiot:senml-pb:0'>BASE64</senml-pb>` (RFC 4648
/// base64 with padding, no line breaks), NUL-terminated. The raw protobuf
/// bytes are staged in the tail of `buf`, so no other memory is needed.
/// Returns the length. Errors: Overflow (see senml_pb_bound), InvalidArgument.
hal::Result<size_t> format_senml_pb(char* buf, size_t cap, const char* base_name,
                                    const Snapshot* snapshots, size_t snapshot_count);

/// Upper bound of format_senml_pb's output in either form, NUL included
/// (same arguments as senml_xml_bound()).
size_t senml_pb_bound(const char* base_name, const Sample* channels, size_t channel_count,
                      size_t snapshot_count);

/// RFC 4648 base64 (standard alphabet, '=' padding) of `len` bytes into
/// `out`, NUL-terminated. `in` may lie inside `out` at or after
/// out + (len + 2) / 3 (encoding is done in place, front to back).
/// Returns the length. Errors: Overflow (cap < 4 * ceil(len / 3) + 1).
hal::Result<size_t> base64_encode(char* out, size_t cap, const uint8_t* in, size_t len);

}  // namespace agent

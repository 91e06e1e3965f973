// SenML (RFC 8428) XML formatting of telemetry, straight into a caller buffer.
//
// Nothing here allocates or uses floating point: values arrive as
// mantissa * 10^exponent (drv::Value) and times as integer microseconds, and
// both are printed as exact decimals. The wire format is described in
// docs/wire-format.md.
#pragma once

#include <cstddef>
#include <cstdint>

#include "drv/value.hpp"
#include "hal/clock.hpp"
#include "hal/status.hpp"

namespace agent {

/// RFC 8428 §7 XML namespace.
constexpr const char* kSenmlXmlns = "urn:ietf:params:xml:ns:senml";

/// One reading of one channel. The strings are borrowed: they must outlive
/// every call that is given the sample.
struct Sample {
  const char* name;  ///< full channel name "env0.temperature"
  const char* unit;  ///< SenML unit or "" (omitted); nullptr is treated as ""
  drv::Value value;
};

/// One coherent snapshot: every channel read at one instant.
struct Snapshot {
  hal::WallTime time;
  const Sample* samples;
  size_t count;
};

/// Writes the exact decimal text of mantissa * 10^exponent, never using
/// floating point, and NUL-terminates it:
///   (2154, -2) -> "21.54"   (-5, -1) -> "-0.5"   (12, 2) -> "1200"
///   (0, -2) -> "0.00"       (0, 3) -> "0"        (250, -2) -> "2.50"
/// The number of fraction digits is exactly -exponent (precision is kept).
/// Exponents outside -18..18 use E notation on the integer mantissa
/// ("2154e-30", "7e40"), which is still a valid xsd:double / JSON number.
/// At most 39 characters plus the NUL. Returns the length.
/// Errors: Overflow (buf then holds a NUL-terminated prefix if cap > 0).
hal::Result<size_t> format_decimal(char* buf, size_t cap, int64_t mantissa, int8_t exponent);

/// Exact text of a value: numeric via format_decimal() ("21.54"), boolean
/// "true"/"false", string as is. Returns the length (NUL-terminated).
/// Errors: Overflow.
hal::Result<size_t> format_value_text(char* buf, size_t cap, const drv::Value& v);

/// Wall time in seconds with up to 6 fraction digits, trailing zeros dropped:
/// 1763900000250000 us -> "1763900000.25", 1763900000000000 -> "1763900000".
/// Works for negative values (relative times). Returns the length.
/// Errors: Overflow.
hal::Result<size_t> format_seconds_us(char* buf, size_t cap, int64_t microseconds);

/// Turns a JID or device id into a SenML base name (RFC 8428 §4.5.1): bytes
/// outside A-Za-z0-9-:./_ become '_', then ':' is appended
/// ("dev1@localhost" -> "dev1_localhost:"). A name must start with a letter
/// or digit, so "x" is prepended when the first byte is anything else
/// ("-dev" -> "x-dev:", "" -> "x:"). Returns the length (NUL-terminated).
/// Errors: Overflow.
hal::Result<size_t> senml_base_name(char* buf, size_t cap, const char* device_id);

/// Writes `<sensml xmlns='urn:ietf:params:xml:ns:senml'>…</sensml>` with one
/// `<senml/>` per sample, no whitespace between elements. The first record
/// carries bn and bt (seconds since the epoch, see format_seconds_us);
/// records of later snapshots carry t relative to bt (seconds, may be
/// negative if the wall clock stepped back). Numeric values use v
/// (format_decimal), booleans vb='true|false', strings vs; every attribute
/// value is XML-escaped. Attribute order: bn bt n t u v|vb|vs.
/// Snapshots with count 0 are skipped. Returns the length (the text is
/// NUL-terminated). Errors: Overflow (cap too small; see senml_xml_bound),
/// InvalidArgument (no samples at all, or a null base name / sample name).
hal::Result<size_t> format_senml_xml(char* buf, size_t cap, const char* base_name,
                                     const Snapshot* snapshots, size_t snapshot_count);

/// An upper bound of format_senml_xml's output size, NUL included, for
/// `snapshot_count` snapshots that each hold at most the channels described
/// by `channels` (only name, unit and value.type are looked at; a String
/// channel is sized for the longest drv::Value text).
size_t senml_xml_bound(const char* base_name, const Sample* channels, size_t channel_count,
                       size_t snapshot_count);

}  // namespace agent

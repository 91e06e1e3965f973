// SenML (RFC 8428) XML formatting of telemetry, straight into a caller buffer.
#pragma once

#include <cstddef>
#include <cstdint>

#include "drv/value.hpp"
#include "hal/clock.hpp"
#include "hal/status.hpp"

namespace agent {

/// One reading of one channel.
struct Sample {
  const char* name;  ///< full channel name "env0.temperature"
  const char* unit;  ///< SenML unit or "" (omitted)
  drv::Value value;
};

/// One coherent snapshot: every channel read at one instant.
struct Snapshot {
  hal::WallTime time;
  const Sample* samples;
  size_t count;
};

/// Writes "21.54" for (2154, -2), "-0.5" for (-5, -1), "1200" for (12, 2),
/// never using floating point. Returns the length. Errors: Overflow.
hal::Result<size_t> format_decimal(char* buf, size_t cap, int64_t mantissa, int8_t exponent);

/// Turns a JID or device id into a SenML base name: characters outside
/// A-Za-z0-9-:./_ become '_', then ':' is appended ("dev1@localhost" ->
/// "dev1_localhost:"). Returns the length. Errors: Overflow.
hal::Result<size_t> senml_base_name(char* buf, size_t cap, const char* device_id);

/// Writes `<sensml xmlns='urn:ietf:params:xml:ns:senml'>…</sensml>` with one
/// `<senml/>` per sample. The first record carries bn and bt (seconds since the
/// epoch, as a decimal with up to 6 fraction digits, trailing zeros dropped);
/// records of later snapshots carry t relative to bt. Numeric values use v,
/// booleans vb='true|false', strings vs (XML-escaped). Returns the length
/// (the text is NUL-terminated). Errors: Overflow, InvalidArgument (no snapshots).
hal::Result<size_t> format_senml_xml(char* buf, size_t cap, const char* base_name,
                                     const Snapshot* snapshots, size_t snapshot_count);

}  // namespace agent

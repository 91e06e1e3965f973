// The one protobuf base-128 varint (encoding guide, "Base 128 Varints"): its
// length, its writer and its reader, for the journal records
// (journal_record.cpp) and <senml-pb/> (senml_pb.cpp). Private to agent/core.
#pragma once

#include <cstddef>
#include <cstdint>

namespace agent {
namespace detail {

/// Longest varint: 64 bits in 7-bit groups.
constexpr size_t kMaxVarintBytes = 10;

/// Bytes put_varint() writes for `v` (1..kMaxVarintBytes).
inline size_t varint_len(uint64_t v) {
  size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    ++n;
  }
  return n;
}

/// Writes `v` at `p`, which must have varint_len(v) bytes; returns the byte after it.
inline uint8_t* put_varint(uint8_t* p, uint64_t v) {
  while (v >= 0x80) {
    *p++ = static_cast<uint8_t>(v | 0x80);
    v >>= 7;
  }
  *p++ = static_cast<uint8_t>(v);
  return p;
}

/// Reads a varint at *p (< end) into *out and moves *p past it. False if it
/// is truncated or longer than kMaxVarintBytes (then *p and *out are unspecified).
inline bool get_varint(const uint8_t** p, const uint8_t* end, uint64_t* out) {
  uint64_t v = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (*p >= end) return false;
    const uint8_t b = *(*p)++;
    v |= static_cast<uint64_t>(b & 0x7F) << shift;
    if ((b & 0x80) == 0) {
      *out = v;
      return true;
    }
  }
  return false;
}

}  // namespace detail
}  // namespace agent

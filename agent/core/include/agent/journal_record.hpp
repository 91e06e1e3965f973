// One journal record on storage (agent/proto/journal.proto, docs/journal.md):
//
//   [u32 LE body length][u32 LE CRC-32/IEEE of the body][body]
//
// body = protobuf wire format of xiot.journal.JournalRecord, written and read
// by hand here (no libprotobuf in the agent, no heap); the unit tests check the
// bytes against the generated protobuf-lite code. Fields are written in field
// number order, zero/empty fields omitted (as proto3's serialiser does); the
// reader accepts any order and skips unknown fields.
#pragma once

#include <cstddef>
#include <cstdint>

#include "hal/status.hpp"

namespace agent {

/// Bytes before the body: length and CRC.
constexpr size_t kJournalHeaderBytes = 8;
/// Largest body a reader accepts (a length above it is corrupt framing).
constexpr uint32_t kJournalMaxBody = 16u * 1024u * 1024u;

/// A record's fields. The pointers are borrowed (encode) or point into the
/// decoded body (decode).
struct JournalRecord {
  uint64_t seq = 0;  ///< item: >= 1; marker: 0
  const char* item_id = nullptr;
  size_t item_id_len = 0;
  uint64_t acked_through = 0;
  uint64_t last_seq = 0;
  const uint8_t* payload = nullptr;
  size_t payload_len = 0;
  /// Markers: every seq up to it may have been taken by the writing run
  /// (the seq reservation, docs/journal.md "Power cuts").
  uint64_t reserved_seq = 0;
  /// Markers: written by a clean stop (Journal::flush()).
  bool clean = false;
  /// Markers: the host's boot id (Linux: /proc/sys/kernel/random/boot_id)
  /// when written; empty when unknown.
  const char* host_boot = nullptr;
  size_t host_boot_len = 0;

  bool is_item() const { return seq != 0; }
};

/// CRC-32 as in zlib/IEEE 802.3 (reflected polynomial 0xEDB88320, initial and
/// final XOR 0xFFFFFFFF). Chain calls by passing the previous result as `crc`.
uint32_t crc32_ieee(const void* data, size_t len, uint32_t crc = 0);

/// Size of the body encode_journal_record() writes for `r`.
size_t journal_body_size(const JournalRecord& r);

/// Header + body upper bound for a record with an id of `id_len` bytes and a
/// payload of `payload_len` bytes (any seq/watermark).
size_t journal_record_bound(size_t id_len, size_t payload_len);

/// Writes header + body of `r` into `out`. Returns the total length.
/// Errors: Overflow (cap too small), InvalidArgument (body over
/// kJournalMaxBody, or null pointers with non-zero lengths).
hal::Result<size_t> encode_journal_record(uint8_t* out, size_t cap, const JournalRecord& r);

/// Reads the header at `p` (kJournalHeaderBytes bytes): body length and CRC.
void read_journal_header(const uint8_t* p, uint32_t* body_len, uint32_t* crc);

/// Parses a body (already CRC-checked). Pointers in `out` point into `body`.
/// Errors: Corrupt (truncated varint or field, wrong wire type for a known
/// field, an unsupported wire type, a value too large for its field).
hal::Err decode_journal_body(const uint8_t* body, size_t len, JournalRecord* out);

}  // namespace agent

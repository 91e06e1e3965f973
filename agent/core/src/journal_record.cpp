#include "agent/journal_record.hpp"

#include <cstring>

#include "protobuf_varint.hpp"

namespace agent {

namespace {

using detail::get_varint;
using detail::put_varint;
using detail::varint_len;

// journal.proto field numbers; wire types from the protobuf encoding guide.
constexpr uint32_t kWireVarint = 0;
constexpr uint32_t kWireFixed64 = 1;
constexpr uint32_t kWireLen = 2;
constexpr uint32_t kWireFixed32 = 5;
constexpr uint32_t kFieldSeq = 1;
constexpr uint32_t kFieldItemId = 2;
constexpr uint32_t kFieldAckedThrough = 3;
constexpr uint32_t kFieldLastSeq = 4;
constexpr uint32_t kFieldPayload = 5;
constexpr uint32_t kFieldReservedSeq = 6;
constexpr uint32_t kFieldClean = 7;
constexpr uint32_t kFieldHostBoot = 8;

// Which wire type each known field must have (unknown fields: any).
bool known_varint(uint64_t f) {
  return f == kFieldSeq || f == kFieldAckedThrough || f == kFieldLastSeq || f == kFieldReservedSeq ||
         f == kFieldClean;
}
bool known_len(uint64_t f) { return f == kFieldItemId || f == kFieldPayload || f == kFieldHostBoot; }

struct Crc32Table {
  uint32_t v[256];
  constexpr Crc32Table() : v() {
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c & 1u) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
      v[i] = c;
    }
  }
};
constexpr Crc32Table kCrcTable;

uint8_t* put_u32le(uint8_t* p, uint32_t v) {
  p[0] = static_cast<uint8_t>(v);
  p[1] = static_cast<uint8_t>(v >> 8);
  p[2] = static_cast<uint8_t>(v >> 16);
  p[3] = static_cast<uint8_t>(v >> 24);
  return p + 4;
}

uint32_t get_u32le(const uint8_t* p) {
  return static_cast<uint32_t>(p[0]) | (static_cast<uint32_t>(p[1]) << 8) | (static_cast<uint32_t>(p[2]) << 16) |
         (static_cast<uint32_t>(p[3]) << 24);
}

size_t varint_field_len(uint32_t field, uint64_t v) { return v == 0 ? 0 : varint_len(field << 3) + varint_len(v); }
size_t len_field_len(uint32_t field, size_t n) { return n == 0 ? 0 : varint_len(field << 3) + varint_len(n) + n; }

}  // namespace

uint32_t crc32_ieee(const void* data, size_t len, uint32_t crc) {
  const auto* p = static_cast<const uint8_t*>(data);
  uint32_t c = crc ^ 0xFFFFFFFFu;
  for (size_t i = 0; i < len; ++i) c = kCrcTable.v[(c ^ p[i]) & 0xFFu] ^ (c >> 8);
  return c ^ 0xFFFFFFFFu;
}

size_t journal_body_size(const JournalRecord& r) {
  return varint_field_len(kFieldSeq, r.seq) + len_field_len(kFieldItemId, r.item_id_len) +
         varint_field_len(kFieldAckedThrough, r.acked_through) + varint_field_len(kFieldLastSeq, r.last_seq) +
         len_field_len(kFieldPayload, r.payload_len) + varint_field_len(kFieldReservedSeq, r.reserved_seq) +
         varint_field_len(kFieldClean, r.clean ? 1 : 0) + len_field_len(kFieldHostBoot, r.host_boot_len);
}

size_t journal_record_bound(size_t id_len, size_t payload_len) {
  // Three varint fields of at most 1 + 10 bytes, two length-delimited fields
  // of 1 + 10 + n bytes.
  return kJournalHeaderBytes + 3 * 11 + 11 + id_len + 11 + payload_len;
}

hal::Result<size_t> encode_journal_record(uint8_t* out, size_t cap, const JournalRecord& r) {
  if ((r.item_id == nullptr && r.item_id_len > 0) || (r.payload == nullptr && r.payload_len > 0) ||
      (r.host_boot == nullptr && r.host_boot_len > 0)) {
    return hal::Err::InvalidArgument;
  }
  const size_t body = journal_body_size(r);
  if (body > kJournalMaxBody) return hal::Err::InvalidArgument;
  if (out == nullptr || cap < kJournalHeaderBytes + body) return hal::Err::Overflow;
  uint8_t* const body_start = out + kJournalHeaderBytes;
  uint8_t* p = body_start;
  if (r.seq != 0) {
    p = put_varint(p, (kFieldSeq << 3) | kWireVarint);
    p = put_varint(p, r.seq);
  }
  if (r.item_id_len != 0) {
    p = put_varint(p, (kFieldItemId << 3) | kWireLen);
    p = put_varint(p, r.item_id_len);
    std::memcpy(p, r.item_id, r.item_id_len);
    p += r.item_id_len;
  }
  if (r.acked_through != 0) {
    p = put_varint(p, (kFieldAckedThrough << 3) | kWireVarint);
    p = put_varint(p, r.acked_through);
  }
  if (r.last_seq != 0) {
    p = put_varint(p, (kFieldLastSeq << 3) | kWireVarint);
    p = put_varint(p, r.last_seq);
  }
  if (r.payload_len != 0) {
    p = put_varint(p, (kFieldPayload << 3) | kWireLen);
    p = put_varint(p, r.payload_len);
    std::memcpy(p, r.payload, r.payload_len);
    p += r.payload_len;
  }
  // Marker fields (after the payload: markers have none, and items never
  // carry these, so an item's payload stays last).
  if (r.reserved_seq != 0) {
    p = put_varint(p, (kFieldReservedSeq << 3) | kWireVarint);
    p = put_varint(p, r.reserved_seq);
  }
  if (r.clean) {
    p = put_varint(p, (kFieldClean << 3) | kWireVarint);
    p = put_varint(p, 1);
  }
  if (r.host_boot_len != 0) {
    p = put_varint(p, (kFieldHostBoot << 3) | kWireLen);
    p = put_varint(p, r.host_boot_len);
    std::memcpy(p, r.host_boot, r.host_boot_len);
    p += r.host_boot_len;
  }
  uint8_t* h = put_u32le(out, static_cast<uint32_t>(body));
  put_u32le(h, crc32_ieee(body_start, body));
  return kJournalHeaderBytes + body;
}

void read_journal_header(const uint8_t* p, uint32_t* body_len, uint32_t* crc) {
  *body_len = get_u32le(p);
  *crc = get_u32le(p + 4);
}

hal::Err decode_journal_body(const uint8_t* body, size_t len, JournalRecord* out) {
  *out = JournalRecord{};
  const uint8_t* p = body;
  const uint8_t* const end = body + len;
  while (p < end) {
    uint64_t tag = 0;
    if (!get_varint(&p, end, &tag)) return hal::Err::Corrupt;
    const uint64_t field = tag >> 3;
    const auto wire = static_cast<uint32_t>(tag & 7);
    if (field == 0) return hal::Err::Corrupt;
    if (wire == kWireVarint) {
      uint64_t v = 0;
      if (!get_varint(&p, end, &v)) return hal::Err::Corrupt;
      if (field == kFieldSeq) {
        out->seq = v;
      } else if (field == kFieldAckedThrough) {
        out->acked_through = v;
      } else if (field == kFieldLastSeq) {
        out->last_seq = v;
      } else if (field == kFieldReservedSeq) {
        out->reserved_seq = v;
      } else if (field == kFieldClean) {
        out->clean = v != 0;
      } else if (known_len(field)) {
        return hal::Err::Corrupt;
      }
    } else if (wire == kWireLen) {
      uint64_t n = 0;
      if (!get_varint(&p, end, &n) || n > static_cast<uint64_t>(end - p)) return hal::Err::Corrupt;
      if (field == kFieldItemId) {
        out->item_id = reinterpret_cast<const char*>(p);
        out->item_id_len = static_cast<size_t>(n);
      } else if (field == kFieldPayload) {
        out->payload = p;
        out->payload_len = static_cast<size_t>(n);
      } else if (field == kFieldHostBoot) {
        out->host_boot = reinterpret_cast<const char*>(p);
        out->host_boot_len = static_cast<size_t>(n);
      } else if (known_varint(field)) {
        return hal::Err::Corrupt;  // a known varint field sent as bytes
      }
      p += n;
    } else if (wire == kWireFixed64 || wire == kWireFixed32) {
      const size_t n = wire == kWireFixed64 ? 8 : 4;
      if (known_varint(field) || known_len(field) || static_cast<size_t>(end - p) < n) return hal::Err::Corrupt;
      p += n;
    } else {
      return hal::Err::Corrupt;  // groups (3, 4) and the reserved types 6, 7
    }
  }
  return hal::Err::Ok;
}

}  // namespace agent

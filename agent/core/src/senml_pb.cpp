#include "agent/senml_pb.hpp"

#include <cstring>

#include "protobuf_varint.hpp"

namespace agent {

namespace {

// Field numbers and wire types of senml.proto (see agent/proto/senml.proto).
constexpr uint32_t kWireVarint = 0;
constexpr uint32_t kWireLen = 2;
constexpr uint32_t kPackRecords = 1;
constexpr uint32_t kRecBn = 1;
constexpr uint32_t kRecBt = 2;
constexpr uint32_t kRecN = 3;
constexpr uint32_t kRecU = 4;
constexpr uint32_t kRecV = 5;
constexpr uint32_t kRecVb = 6;
constexpr uint32_t kRecVs = 7;
constexpr uint32_t kRecT = 8;
constexpr uint32_t kDecMantissa = 1;
constexpr uint32_t kDecExponent = 2;

constexpr size_t kMaxVarint = detail::kMaxVarintBytes;
constexpr size_t kValueTextMax = sizeof(drv::Value{}.text) - 1;

uint64_t zigzag64(int64_t v) {
  return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
}
uint32_t zigzag32(int32_t v) {
  return (static_cast<uint32_t>(v) << 1) ^ static_cast<uint32_t>(v >> 31);
}

using detail::varint_len;

size_t tag_len(uint32_t field) { return varint_len(static_cast<uint64_t>(field) << 3); }

size_t text_len(const char* s, size_t max = SIZE_MAX) {
  size_t n = 0;
  if (s == nullptr) return 0;
  while (n < max && s[n] != '\0') ++n;
  return n;
}

/// Bounded byte writer; latches overflow like detail::TextWriter.
class PbWriter {
 public:
  PbWriter(uint8_t* buf, size_t cap) : buf_(buf), cap_(cap) {}
  void varint(uint64_t v) {
    uint8_t tmp[detail::kMaxVarintBytes];
    bytes(tmp, static_cast<size_t>(detail::put_varint(tmp, v) - tmp));
  }
  void tag(uint32_t field, uint32_t wire) { varint((static_cast<uint64_t>(field) << 3) | wire); }
  void bytes(const void* p, size_t n) {
    if (n > cap_ - len_) {
      overflow_ = true;
      return;
    }
    if (n != 0) std::memcpy(buf_ + len_, p, n);
    len_ += n;
  }
  void string_field(uint32_t field, const char* s, size_t n) {
    tag(field, kWireLen);
    varint(n);
    bytes(s, n);
  }
  size_t length() const { return len_; }
  bool overflowed() const { return overflow_; }

 private:
  uint8_t* buf_;
  size_t cap_;
  size_t len_ = 0;
  bool overflow_ = false;
};

struct RecordFields {
  const char* bn = nullptr;  // non-null on the first record
  int64_t bt_us = 0;
  const Sample* sample = nullptr;
  int64_t t_us = 0;
};

size_t decimal_body_len(const drv::Value& v) {
  size_t n = 0;
  if (v.mantissa != 0) n += tag_len(kDecMantissa) + varint_len(zigzag64(v.mantissa));
  if (v.exponent != 0) n += tag_len(kDecExponent) + varint_len(zigzag32(v.exponent));
  return n;
}

/// Size of the Record message body; fields in field-number order, proto3
/// defaults (empty strings, zero t) left out, exactly as protobuf serialises.
size_t record_body_len(const RecordFields& r) {
  size_t n = 0;
  if (r.bn != nullptr) {
    const size_t bl = text_len(r.bn);
    n += tag_len(kRecBn) + varint_len(bl) + bl;
    n += tag_len(kRecBt) + varint_len(zigzag64(r.bt_us));
  }
  const Sample& s = *r.sample;
  const size_t nl = text_len(s.name);
  if (nl != 0) n += tag_len(kRecN) + varint_len(nl) + nl;
  const size_t ul = text_len(s.unit);
  if (ul != 0) n += tag_len(kRecU) + varint_len(ul) + ul;
  switch (s.value.type) {
    case drv::ValueType::Numeric: {
      const size_t dl = decimal_body_len(s.value);
      n += tag_len(kRecV) + varint_len(dl) + dl;
      break;
    }
    case drv::ValueType::Boolean: n += tag_len(kRecVb) + 1; break;
    case drv::ValueType::String: {
      const size_t sl = text_len(s.value.text, kValueTextMax);
      n += tag_len(kRecVs) + varint_len(sl) + sl;
      break;
    }
  }
  if (r.t_us != 0) n += tag_len(kRecT) + varint_len(zigzag64(r.t_us));
  return n;
}

void write_record(PbWriter& w, const RecordFields& r) {
  if (r.bn != nullptr) {
    w.string_field(kRecBn, r.bn, text_len(r.bn));
    w.tag(kRecBt, kWireVarint);
    w.varint(zigzag64(r.bt_us));
  }
  const Sample& s = *r.sample;
  const size_t nl = text_len(s.name);
  if (nl != 0) w.string_field(kRecN, s.name, nl);
  const size_t ul = text_len(s.unit);
  if (ul != 0) w.string_field(kRecU, s.unit, ul);
  switch (s.value.type) {
    case drv::ValueType::Numeric:
      w.tag(kRecV, kWireLen);
      w.varint(decimal_body_len(s.value));
      if (s.value.mantissa != 0) {
        w.tag(kDecMantissa, kWireVarint);
        w.varint(zigzag64(s.value.mantissa));
      }
      if (s.value.exponent != 0) {
        w.tag(kDecExponent, kWireVarint);
        w.varint(zigzag32(s.value.exponent));
      }
      break;
    case drv::ValueType::Boolean:
      w.tag(kRecVb, kWireVarint);
      w.varint(s.value.flag ? 1 : 0);
      break;
    case drv::ValueType::String:
      w.string_field(kRecVs, s.value.text, text_len(s.value.text, kValueTextMax));
      break;
  }
  if (r.t_us != 0) {
    w.tag(kRecT, kWireVarint);
    w.varint(zigzag64(r.t_us));
  }
}

/// Walks the records in order; calls fn(RecordFields) for each. Returns
/// InvalidArgument when there is nothing to encode.
template <typename Fn>
hal::Err for_each_record(const char* base_name, const Snapshot* snapshots, size_t count, Fn&& fn) {
  if (base_name == nullptr || (snapshots == nullptr && count != 0)) return hal::Err::InvalidArgument;
  const Snapshot* first = nullptr;
  for (size_t s = 0; s < count; ++s) {
    if (snapshots[s].count != 0 && snapshots[s].samples == nullptr) return hal::Err::InvalidArgument;
    for (size_t i = 0; i < snapshots[s].count; ++i) {
      if (snapshots[s].samples[i].name == nullptr) return hal::Err::InvalidArgument;
    }
    if (first == nullptr && snapshots[s].count != 0) first = &snapshots[s];
  }
  if (first == nullptr) return hal::Err::InvalidArgument;
  bool is_first = true;
  for (size_t s = 0; s < count; ++s) {
    const Snapshot& snap = snapshots[s];
    for (size_t i = 0; i < snap.count; ++i) {
      RecordFields r;
      if (is_first) {
        r.bn = base_name;
        r.bt_us = snap.time.unix_us;
      }
      r.sample = &snap.samples[i];
      r.t_us = &snap == first ? 0 : snap.time.unix_us - first->time.unix_us;
      fn(r);
      is_first = false;
    }
  }
  return hal::Err::Ok;
}

constexpr char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

constexpr const char* kOpen1 = "<senml-pb xmlns='";
constexpr const char* kOpen2 = "'>";
constexpr const char* kClose = "</senml-pb>";

}  // namespace

hal::Result<size_t> base64_encode(char* out, size_t cap, const uint8_t* in, size_t len) {
  const size_t need = 4 * ((len + 2) / 3);
  if (out == nullptr || cap < need + 1) return hal::Err::Overflow;
  size_t o = 0;
  size_t i = 0;
  // Each step reads its 3 input bytes before writing 4 output bytes, so an
  // input staged at or after out + ceil(len/3) is never overwritten unread.
  while (len - i >= 3) {
    const uint32_t b0 = in[i];
    const uint32_t b1 = in[i + 1];
    const uint32_t b2 = in[i + 2];
    i += 3;
    const uint32_t v = (b0 << 16) | (b1 << 8) | b2;
    out[o++] = kB64[(v >> 18) & 0x3F];
    out[o++] = kB64[(v >> 12) & 0x3F];
    out[o++] = kB64[(v >> 6) & 0x3F];
    out[o++] = kB64[v & 0x3F];
  }
  const size_t rest = len - i;
  if (rest != 0) {
    const uint32_t b0 = in[i];
    const uint32_t b1 = rest == 2 ? in[i + 1] : 0;
    const uint32_t v = (b0 << 16) | (b1 << 8);
    out[o++] = kB64[(v >> 18) & 0x3F];
    out[o++] = kB64[(v >> 12) & 0x3F];
    out[o++] = rest == 2 ? kB64[(v >> 6) & 0x3F] : '=';
    out[o++] = '=';
  }
  out[o] = '\0';
  return o;
}

hal::Result<size_t> encode_senml_pb(uint8_t* buf, size_t cap, const char* base_name,
                                    const Snapshot* snapshots, size_t snapshot_count) {
  PbWriter w(buf, buf == nullptr ? 0 : cap);
  const hal::Err e = for_each_record(base_name, snapshots, snapshot_count, [&w](const RecordFields& r) {
    w.tag(kPackRecords, kWireLen);
    w.varint(record_body_len(r));
    write_record(w, r);
  });
  if (e != hal::Err::Ok) return e;
  if (w.overflowed()) return hal::Err::Overflow;
  return w.length();
}

hal::Result<size_t> format_senml_pb(char* buf, size_t cap, const char* base_name,
                                    const Snapshot* snapshots, size_t snapshot_count) {
  size_t raw = 0;
  const hal::Err e = for_each_record(base_name, snapshots, snapshot_count, [&raw](const RecordFields& r) {
    const size_t body = record_body_len(r);
    raw += tag_len(kPackRecords) + varint_len(body) + body;
  });
  if (e != hal::Err::Ok) return e;
  const size_t prefix = std::strlen(kOpen1) + std::strlen(kSenmlPbXmlns) + std::strlen(kOpen2);
  const size_t b64 = 4 * ((raw + 2) / 3);
  const size_t total = prefix + b64 + std::strlen(kClose);
  if (buf == nullptr || cap < total + 1) {
    if (buf != nullptr && cap > 0) buf[0] = '\0';
    return hal::Err::Overflow;
  }
  // Stage the protobuf bytes at the very end of buf, then base64 them forward
  // into place right after the opening tag (see base64_encode on overlap).
  auto* staged = reinterpret_cast<uint8_t*>(buf + cap - raw);
  const hal::Result<size_t> enc = encode_senml_pb(staged, raw, base_name, snapshots, snapshot_count);
  if (!enc.ok()) return enc.error();
  size_t o = 0;
  std::memcpy(buf + o, kOpen1, std::strlen(kOpen1));
  o += std::strlen(kOpen1);
  std::memcpy(buf + o, kSenmlPbXmlns, std::strlen(kSenmlPbXmlns));
  o += std::strlen(kSenmlPbXmlns);
  std::memcpy(buf + o, kOpen2, std::strlen(kOpen2));
  o += std::strlen(kOpen2);
  const hal::Result<size_t> b = base64_encode(buf + o, cap - o, staged, raw);
  if (!b.ok()) return b.error();
  o += b.value();
  std::memcpy(buf + o, kClose, std::strlen(kClose));
  o += std::strlen(kClose);
  buf[o] = '\0';
  return o;
}

size_t senml_pb_bound(const char* base_name, const Sample* channels, size_t channel_count,
                      size_t snapshot_count) {
  // Per record: Pack tag + length varint + body. Body worst case: bn and bt
  // (first record only, counted once below), n, u, a value, t.
  size_t per_snapshot = 0;
  for (size_t i = 0; i < channel_count; ++i) {
    const Sample& c = channels[i];
    size_t body = 0;
    const size_t nl = text_len(c.name);
    body += 1 + kMaxVarint + nl;
    const size_t ul = text_len(c.unit);
    body += 1 + kMaxVarint + ul;
    switch (c.value.type) {
      case drv::ValueType::Numeric: body += 1 + 1 + (1 + kMaxVarint) + (1 + 5); break;
      case drv::ValueType::Boolean: body += 2; break;
      case drv::ValueType::String: body += 1 + 1 + kValueTextMax; break;
    }
    body += 1 + kMaxVarint;  // t_us
    per_snapshot += 1 + kMaxVarint + body;
  }
  const size_t bl = text_len(base_name);
  const size_t raw = per_snapshot * snapshot_count + (1 + kMaxVarint + bl) + (1 + kMaxVarint);
  const size_t b64 = 4 * ((raw + 2) / 3);
  return std::strlen(kOpen1) + std::strlen(kSenmlPbXmlns) + std::strlen(kOpen2) + b64 +
         std::strlen(kClose) + 1;
}

}  // namespace agent

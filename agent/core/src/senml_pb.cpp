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
// The columnar form (Pack fields 2..5, message Column).
constexpr uint32_t kPackBn = 2;
constexpr uint32_t kPackBt = 3;
constexpr uint32_t kPackDt = 4;
constexpr uint32_t kPackColumns = 5;
constexpr uint32_t kColN = 1;
constexpr uint32_t kColU = 2;
constexpr uint32_t kColExponent = 3;
constexpr uint32_t kColMantissa = 4;
constexpr uint32_t kColVb = 5;

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

// ---- the columnar form -------------------------------------------------------
//
// Used when a batch has two or more snapshots that all carry the same channels
// (same names and units, in the same order), each channel numeric with one
// exponent throughout, or boolean. Then names and units go once per channel,
// values as packed deltas, times as packed deltas (senml.proto, Pack fields 2..5).

/// Wrapping difference a - b (two's complement), as the decoder adds it back.
int64_t wrap_sub(int64_t a, int64_t b) {
  return static_cast<int64_t>(static_cast<uint64_t>(a) - static_cast<uint64_t>(b));
}

bool same_text(const char* a, const char* b) {
  if (a == nullptr) a = "";
  if (b == nullptr) b = "";
  return a == b || std::strcmp(a, b) == 0;
}

/// The non-empty snapshots, in order (an empty one is skipped, as in rows).
struct Batch {
  const Snapshot* snaps;
  size_t count;  // all of them, empty ones included
  size_t rows;   // non-empty ones
  const Snapshot* first;
};

bool columnar_fits(const Batch& b) {
  if (b.rows < 2) return false;
  const Snapshot& f = *b.first;
  for (size_t c = 0; c < f.count; ++c) {
    const drv::Value& v = f.samples[c].value;
    if (v.type == drv::ValueType::String) return false;
  }
  for (size_t s = 0; s < b.count; ++s) {
    const Snapshot& snap = b.snaps[s];
    if (snap.count == 0) continue;
    if (snap.count != f.count) return false;
    for (size_t c = 0; c < f.count; ++c) {
      const Sample& a = snap.samples[c];
      const Sample& z = f.samples[c];
      if (a.value.type != z.value.type || !same_text(a.name, z.name) || !same_text(a.unit, z.unit)) return false;
      if (a.value.type == drv::ValueType::Numeric && a.value.exponent != z.value.exponent) return false;
    }
  }
  return true;
}

/// Bytes of the packed dt_us payload (times after the first, each minus the one before).
size_t dt_payload_len(const Batch& b) {
  size_t n = 0;
  const Snapshot* prev = nullptr;
  for (size_t s = 0; s < b.count; ++s) {
    if (b.snaps[s].count == 0) continue;
    if (prev != nullptr) n += varint_len(zigzag64(wrap_sub(b.snaps[s].time.unix_us, prev->time.unix_us)));
    prev = &b.snaps[s];
  }
  return n;
}

/// Bytes of column c's packed values (mantissa deltas, or one byte per bool).
size_t values_payload_len(const Batch& b, size_t c) {
  if (b.first->samples[c].value.type == drv::ValueType::Boolean) return b.rows;
  size_t n = 0;
  int64_t prev = 0;
  for (size_t s = 0; s < b.count; ++s) {
    if (b.snaps[s].count == 0) continue;
    const int64_t m = b.snaps[s].samples[c].value.mantissa;
    n += varint_len(zigzag64(wrap_sub(m, prev)));
    prev = m;
  }
  return n;
}

size_t column_body_len(const Batch& b, size_t c) {
  const Sample& f = b.first->samples[c];
  size_t n = 0;
  const size_t nl = text_len(f.name);
  if (nl != 0) n += tag_len(kColN) + varint_len(nl) + nl;
  const size_t ul = text_len(f.unit);
  if (ul != 0) n += tag_len(kColU) + varint_len(ul) + ul;
  const bool numeric = f.value.type == drv::ValueType::Numeric;
  if (numeric && f.value.exponent != 0) n += tag_len(kColExponent) + varint_len(zigzag32(f.value.exponent));
  const size_t vl = values_payload_len(b, c);
  n += tag_len(numeric ? kColMantissa : kColVb) + varint_len(vl) + vl;
  return n;
}

/// Writes (w non-null) and measures the columnar Pack; fields in number order.
size_t columnar_pack(PbWriter* w, const Batch& b, const char* base_name) {
  const Snapshot& f = *b.first;
  size_t n = 0;
  const size_t bl = text_len(base_name);
  n += tag_len(kPackBn) + varint_len(bl) + bl;
  n += tag_len(kPackBt) + varint_len(zigzag64(f.time.unix_us));
  const size_t dl = dt_payload_len(b);
  n += tag_len(kPackDt) + varint_len(dl) + dl;
  for (size_t c = 0; c < f.count; ++c) {
    const size_t cl = column_body_len(b, c);
    n += tag_len(kPackColumns) + varint_len(cl) + cl;
  }
  if (w == nullptr) return n;
  w->string_field(kPackBn, base_name, bl);
  w->tag(kPackBt, kWireVarint);
  w->varint(zigzag64(f.time.unix_us));
  w->tag(kPackDt, kWireLen);
  w->varint(dl);
  const Snapshot* prev = nullptr;
  for (size_t s = 0; s < b.count; ++s) {
    if (b.snaps[s].count == 0) continue;
    if (prev != nullptr) w->varint(zigzag64(wrap_sub(b.snaps[s].time.unix_us, prev->time.unix_us)));
    prev = &b.snaps[s];
  }
  for (size_t c = 0; c < f.count; ++c) {
    const Sample& fc = f.samples[c];
    w->tag(kPackColumns, kWireLen);
    w->varint(column_body_len(b, c));
    const size_t nl = text_len(fc.name);
    if (nl != 0) w->string_field(kColN, fc.name, nl);
    const size_t ul = text_len(fc.unit);
    if (ul != 0) w->string_field(kColU, fc.unit, ul);
    const bool numeric = fc.value.type == drv::ValueType::Numeric;
    if (numeric && fc.value.exponent != 0) {
      w->tag(kColExponent, kWireVarint);
      w->varint(zigzag32(fc.value.exponent));
    }
    w->tag(numeric ? kColMantissa : kColVb, kWireLen);
    w->varint(values_payload_len(b, c));
    int64_t prev_m = 0;
    for (size_t s = 0; s < b.count; ++s) {
      if (b.snaps[s].count == 0) continue;
      const drv::Value& v = b.snaps[s].samples[c].value;
      if (numeric) {
        w->varint(zigzag64(wrap_sub(v.mantissa, prev_m)));
        prev_m = v.mantissa;
      } else {
        w->varint(v.flag ? 1 : 0);
      }
    }
  }
  return n;
}

/// Checks the arguments as for_each_record does and fills `b`.
hal::Err make_batch(const char* base_name, const Snapshot* snapshots, size_t count, Batch* b) {
  if (base_name == nullptr || (snapshots == nullptr && count != 0)) return hal::Err::InvalidArgument;
  *b = Batch{snapshots, count, 0, nullptr};
  for (size_t s = 0; s < count; ++s) {
    if (snapshots[s].count == 0) continue;
    if (snapshots[s].samples == nullptr) return hal::Err::InvalidArgument;
    for (size_t i = 0; i < snapshots[s].count; ++i) {
      if (snapshots[s].samples[i].name == nullptr) return hal::Err::InvalidArgument;
    }
    if (b->first == nullptr) b->first = &snapshots[s];
    ++b->rows;
  }
  return b->first == nullptr ? hal::Err::InvalidArgument : hal::Err::Ok;
}

/// The length of the Pack in the form encode_senml_pb() picks.
hal::Result<size_t> pack_len(const char* base_name, const Snapshot* snapshots, size_t count) {
  Batch b;
  const hal::Err e = make_batch(base_name, snapshots, count, &b);
  if (e != hal::Err::Ok) return e;
  if (columnar_fits(b)) return columnar_pack(nullptr, b, base_name);
  size_t raw = 0;
  (void)for_each_record(base_name, snapshots, count, [&raw](const RecordFields& r) {
    const size_t body = record_body_len(r);
    raw += tag_len(kPackRecords) + varint_len(body) + body;
  });
  return raw;
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
  Batch b;
  const hal::Err be = make_batch(base_name, snapshots, snapshot_count, &b);
  if (be != hal::Err::Ok) return be;
  if (columnar_fits(b)) {
    (void)columnar_pack(&w, b, base_name);
    if (w.overflowed()) return hal::Err::Overflow;
    return w.length();
  }
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
  const hal::Result<size_t> len = pack_len(base_name, snapshots, snapshot_count);
  if (!len.ok()) return len.error();
  const size_t raw = len.value();
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
  const size_t rows = per_snapshot * snapshot_count + (1 + kMaxVarint + bl) + (1 + kMaxVarint);
  // The columnar form: bn, bt, the packed times, and per channel its column
  // header (n, u, exponent) and its packed values. Never more than rows for
  // the same batch, but bounded on its own rather than by that argument.
  size_t columns = (1 + kMaxVarint + bl) + (1 + kMaxVarint) + (1 + kMaxVarint + kMaxVarint * snapshot_count);
  for (size_t i = 0; i < channel_count; ++i) {
    const Sample& c = channels[i];
    const size_t body = (1 + kMaxVarint + text_len(c.name)) + (1 + kMaxVarint + text_len(c.unit)) + (1 + 5) +
                        (1 + kMaxVarint + kMaxVarint * snapshot_count);
    columns += 1 + kMaxVarint + body;
  }
  const size_t raw = rows > columns ? rows : columns;
  const size_t b64 = 4 * ((raw + 2) / 3);
  return std::strlen(kOpen1) + std::strlen(kSenmlPbXmlns) + std::strlen(kOpen2) + b64 +
         std::strlen(kClose) + 1;
}

}  // namespace agent

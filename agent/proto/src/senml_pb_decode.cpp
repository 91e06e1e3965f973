#include "agent/senml_pb_decode.hpp"

#include <mbedtls/base64.h>

#include <cstring>

#include "senml.pb.h"

namespace agent {

namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

/// Finds the base64 text: inside <senml-pb ...>…</senml-pb> if it is an
/// element, else the whole payload.
bool extract_base64(const char* p, size_t len, std::string* b64) {
  size_t begin = 0;
  size_t end = len;
  while (begin < end && is_space(p[begin])) ++begin;
  while (end > begin && is_space(p[end - 1])) --end;
  if (begin < end && p[begin] == '<') {
    const char* kOpen = "<senml-pb";
    const size_t open_len = std::strlen(kOpen);
    // `<=`: the byte after the name is read below (a payload that ends right
    // after "<senml-pb" was read one past its end; found by fuzz_senml_pb).
    if (end - begin <= open_len || std::memcmp(p + begin, kOpen, open_len) != 0) return false;
    const char after = p[begin + open_len];
    if (after != ' ' && after != '>' && after != '\t' && after != '\n' && after != '\r' && after != '/') {
      return false;
    }
    const void* gt = std::memchr(p + begin, '>', end - begin);
    if (gt == nullptr) return false;
    const size_t content = static_cast<size_t>(static_cast<const char*>(gt) - p) + 1;
    if (p[content - 2] == '/') {  // <senml-pb .../>: empty
      b64->clear();
      return true;
    }
    const char* kClose = "</senml-pb>";
    const size_t close_len = std::strlen(kClose);
    if (end - content < close_len || std::memcmp(p + end - close_len, kClose, close_len) != 0) return false;
    begin = content;
    end -= close_len;
  }
  b64->clear();
  for (size_t i = begin; i < end; ++i) {
    if (!is_space(p[i])) b64->push_back(p[i]);
  }
  return true;
}

/// The columnar form (senml.proto, Pack fields 2..5) as the records it means.
hal::Err decode_columnar(const xiot::senml::Pack& pack, std::vector<DecodedRecord>* out) {
  if (pack.records_size() != 0) return hal::Err::Corrupt;  // one form or the other
  const size_t snaps = static_cast<size_t>(pack.dt_us_size()) + 1;
  for (const xiot::senml::Column& c : pack.columns()) {
    const size_t m = static_cast<size_t>(c.mantissa_size());
    const size_t b = static_cast<size_t>(c.vb_size());
    if (!((m == snaps && b == 0) || (b == snaps && m == 0))) return hal::Err::Corrupt;
  }
  const size_t ncols = static_cast<size_t>(pack.columns_size());
  out->reserve(snaps * ncols);
  std::vector<int64_t> mantissa(ncols, 0);
  uint64_t time = static_cast<uint64_t>(pack.bt_us());
  for (size_t s = 0; s < snaps; ++s) {
    if (s > 0) time += static_cast<uint64_t>(pack.dt_us(static_cast<int>(s - 1)));  // wrapping, as encoded
    for (size_t k = 0; k < ncols; ++k) {
      const xiot::senml::Column& c = pack.columns(static_cast<int>(k));
      DecodedRecord d;
      d.base_name = pack.bn();
      d.name = c.n();
      d.unit = c.u();
      d.time_us = static_cast<int64_t>(time);
      d.has_value = true;
      if (c.mantissa_size() != 0) {
        mantissa[k] = static_cast<int64_t>(static_cast<uint64_t>(mantissa[k]) +
                                           static_cast<uint64_t>(c.mantissa(static_cast<int>(s))));
        d.type = drv::ValueType::Numeric;
        d.mantissa = mantissa[k];
        d.exponent = c.exponent();
      } else {
        d.type = drv::ValueType::Boolean;
        d.flag = c.vb(static_cast<int>(s));
      }
      out->push_back(std::move(d));
    }
  }
  return hal::Err::Ok;
}

}  // namespace

hal::Err decode_senml_pb_bytes(const uint8_t* data, size_t len, std::vector<DecodedRecord>* out) {
  if (out == nullptr || (data == nullptr && len != 0)) return hal::Err::InvalidArgument;
  out->clear();
  xiot::senml::Pack pack;
  if (!pack.ParseFromArray(data, static_cast<int>(len))) return hal::Err::Corrupt;
  if (pack.columns_size() != 0 || pack.has_bn() || pack.has_bt_us() || pack.dt_us_size() != 0) {
    return decode_columnar(pack, out);
  }
  std::string bn;
  int64_t bt = 0;
  out->reserve(static_cast<size_t>(pack.records_size()));
  for (const xiot::senml::Record& r : pack.records()) {
    if (r.has_bn()) bn = r.bn();
    if (r.has_bt_us()) bt = r.bt_us();
    DecodedRecord d;
    d.base_name = bn;
    d.name = r.n();
    d.unit = r.u();
    d.time_us = bt + r.t_us();
    switch (r.value_case()) {
      case xiot::senml::Record::kV:
        d.type = drv::ValueType::Numeric;
        d.mantissa = r.v().mantissa();
        d.exponent = r.v().exponent();
        d.has_value = true;
        break;
      case xiot::senml::Record::kVb:
        d.type = drv::ValueType::Boolean;
        d.flag = r.vb();
        d.has_value = true;
        break;
      case xiot::senml::Record::kVs:
        d.type = drv::ValueType::String;
        d.text = r.vs();
        d.has_value = true;
        break;
      case xiot::senml::Record::VALUE_NOT_SET: break;
    }
    out->push_back(std::move(d));
  }
  return hal::Err::Ok;
}

hal::Err decode_senml_pb(const char* payload, size_t len, std::vector<DecodedRecord>* out) {
  if (payload == nullptr || out == nullptr) return hal::Err::InvalidArgument;
  out->clear();
  std::string b64;
  if (!extract_base64(payload, len, &b64)) return hal::Err::InvalidArgument;
  std::vector<uint8_t> raw(b64.size() / 4 * 3 + 3);
  size_t n = 0;
  if (mbedtls_base64_decode(raw.data(), raw.size(), &n, reinterpret_cast<const unsigned char*>(b64.data()),
                            b64.size()) != 0) {
    return hal::Err::Corrupt;
  }
  return decode_senml_pb_bytes(raw.data(), n, out);
}

}  // namespace agent

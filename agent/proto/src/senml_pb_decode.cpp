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

}  // namespace

hal::Err decode_senml_pb_bytes(const uint8_t* data, size_t len, std::vector<DecodedRecord>* out) {
  if (out == nullptr || (data == nullptr && len != 0)) return hal::Err::InvalidArgument;
  out->clear();
  xiot::senml::Pack pack;
  if (!pack.ParseFromArray(data, static_cast<int>(len))) return hal::Err::Corrupt;
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

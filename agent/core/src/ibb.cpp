#include "agent/ibb.hpp"

#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "agent/update_manifest.hpp"

namespace agent {
namespace {

void copy_text(char* dst, size_t cap, const char* src) { std::snprintf(dst, cap, "%s", src != nullptr ? src : ""); }

/// A decimal in [0, max], the whole string.
bool parse_uint(const char* s, uint32_t max, uint32_t* out) {
  if (s == nullptr || *s == '\0') return false;
  uint64_t v = 0;
  for (const char* p = s; *p != '\0'; ++p) {
    if (*p < '0' || *p > '9') return false;
    v = v * 10 + static_cast<uint64_t>(*p - '0');
    if (v > max) return false;
  }
  *out = static_cast<uint32_t>(v);
  return true;
}

}  // namespace

const char* ibb_condition(IbbReply r) {
  switch (r) {
    case IbbReply::Ok: return "";
    case IbbReply::ItemNotFound: return "item-not-found";
    case IbbReply::NotAcceptable: return "not-acceptable";
    case IbbReply::BadRequest: return "bad-request";
    case IbbReply::UnexpectedRequest: return "unexpected-request";
    case IbbReply::ResourceConstraint: return "resource-constraint";
    case IbbReply::InternalServerError: return "internal-server-error";
  }
  return "undefined-condition";
}

void IbbReceiver::arm(const char* owner, const char* sid, ByteSink* sink) {
  copy_text(owner_, sizeof owner_, owner);
  copy_text(sid_, sizeof sid_, sid);
  sink_ = sink;
  open_ = false;
  closed_by_sender_ = false;
  next_seq_ = 0;
  error_[0] = '\0';
}

void IbbReceiver::disarm() {
  sink_ = nullptr;
  open_ = false;
  closed_by_sender_ = false;
  sid_[0] = '\0';
}

IbbReply IbbReceiver::refuse(IbbReply r, const char* why) {
  copy_text(error_, sizeof error_, why);
  return r;
}

IbbReply IbbReceiver::check(const char* from, const char* sid) {
  if (sid == nullptr || sid[0] == '\0') return refuse(IbbReply::BadRequest, "no sid");
  if (sink_ == nullptr || std::strcmp(sid, sid_) != 0) return refuse(IbbReply::ItemNotFound, "no such stream");
  if (from == nullptr || std::strcmp(from, owner_) != 0) {
    return refuse(IbbReply::NotAcceptable, "stream belongs to the JID that ran firmware-update");
  }
  return IbbReply::Ok;
}

IbbReply IbbReceiver::on_open(const char* from, const char* sid, const char* block_size, const char* stanza_attr) {
  const IbbReply c = check(from, sid);
  if (c != IbbReply::Ok) return c;
  uint32_t bs = 0;
  if (!parse_uint(block_size, 65535, &bs) || bs == 0) return refuse(IbbReply::BadRequest, "bad block-size");
  if (bs > kMaxBlock) return refuse(IbbReply::ResourceConstraint, "block-size above 16384");
  if (stanza_attr != nullptr && std::strcmp(stanza_attr, "iq") != 0) {
    return refuse(IbbReply::ResourceConstraint, "only stanza='iq' is accepted");
  }
  open_ = true;
  closed_by_sender_ = false;
  block_size_ = bs;
  next_seq_ = 0;
  error_[0] = '\0';
  return IbbReply::Ok;
}

IbbReply IbbReceiver::on_data(const char* from, const char* sid, const char* seq, size_t len) {
  const IbbReply c = check(from, sid);
  if (c != IbbReply::Ok) return c;
  if (!open_) return refuse(IbbReply::ItemNotFound, "stream not open");
  uint32_t s = 0;
  if (!parse_uint(seq, 65535, &s)) return refuse(IbbReply::BadRequest, "bad seq");
  if (s != next_seq_) {
    open_ = false;  // XEP-0047 §2.2: an unexpected seq closes the stream
    return refuse(IbbReply::UnexpectedRequest, "seq out of order: stream closed");
  }
  if (len >= kTextCap) return refuse(IbbReply::BadRequest, "block larger than the block-size");
  size_t n = 0;
  if (len > 0) {
    const hal::Result<size_t> d = base64_decode(text_, len, block_, sizeof block_);
    if (!d.ok()) return refuse(IbbReply::BadRequest, "data is not base64");
    n = d.value();
  }
  if (n > block_size_) return refuse(IbbReply::BadRequest, "block larger than the block-size");
  const hal::Err e = sink_->write(sink_->received(), block_, n);
  if (e == hal::Err::NoSpace) return refuse(IbbReply::NotAcceptable, "more bytes than the manifest's size");
  if (e != hal::Err::Ok) return refuse(IbbReply::InternalServerError, "cannot store the image");
  next_seq_ = static_cast<uint16_t>(next_seq_ + 1);
  ++blocks_;
  error_[0] = '\0';
  return IbbReply::Ok;
}

IbbReply IbbReceiver::on_close(const char* from, const char* sid) {
  const IbbReply c = check(from, sid);
  if (c != IbbReply::Ok) return c;
  open_ = false;
  closed_by_sender_ = true;
  return IbbReply::Ok;
}

}  // namespace agent

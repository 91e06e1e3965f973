// Receiving an update image over XEP-0047 In-Band Bytestreams: the protocol
// logic, without libstrophe (agent/xmpp's Session feeds it the <open/>,
// <data/> and <close/> IQs and answers with what it returns).
//
// Only the stream the firmware-update command armed is accepted: its sid,
// from the owner's full JID that ran the command. Blocks must arrive in
// order (seq 0, 1, ... wrapping at 65536, starting at 0 on every <open/>);
// each is base64-decoded into a fixed buffer and written at the sink's
// received() offset, so a stream opened again after a lost link continues
// where the staged bytes end (the command told the sender that offset).
#pragma once

#include <cstddef>
#include <cstdint>

#include "agent/byte_sink.hpp"

namespace agent {

constexpr const char* kIbbXmlns = "http://jabber.org/protocol/ibb";

/// The stanza error an IBB request is answered with (Ok = an empty result).
enum class IbbReply : uint8_t {
  Ok = 0,
  ItemNotFound,        ///< no such stream (unknown sid, or not armed)
  NotAcceptable,       ///< from another JID than the command's sender, or beyond the image size
  BadRequest,          ///< malformed (no sid, bad base64, bad seq/block-size attribute)
  UnexpectedRequest,   ///< seq out of order: the stream is closed
  ResourceConstraint,  ///< block-size above kMaxBlock, or stanza transport wanted
  InternalServerError, ///< the sink failed (storage)
};
/// The RFC 6120 condition element name ("item-not-found", ...), "" for Ok.
const char* ibb_condition(IbbReply r);

class IbbReceiver {
 public:
  static constexpr size_t kMaxBlock = 16384;
  /// Base64 of kMaxBlock bytes, plus slack for a NUL.
  static constexpr size_t kTextCap = (kMaxBlock + 2) / 3 * 4 + 8;
  static constexpr size_t kSidMax = 64;
  static constexpr size_t kJidMax = 3072;

  /// Arms the receiver for stream `sid` from `owner` (a full JID) writing
  /// into `sink` (borrowed until disarm()). A stream already open is closed.
  void arm(const char* owner, const char* sid, ByteSink* sink);
  void disarm();
  bool armed() const { return sink_ != nullptr; }
  bool open() const { return open_; }
  /// The sender closed the stream (<close/>) since it was armed or last
  /// opened: it has nothing more to send.
  bool closed_by_sender() const { return closed_by_sender_; }
  const char* sid() const { return sid_; }

  /// <open sid block-size stanza?>. `stanza_attr` may be null ("iq" default).
  IbbReply on_open(const char* from, const char* sid, const char* block_size, const char* stanza_attr);
  /// <data sid seq>TEXT</data>: TEXT was copied by the caller into
  /// text_buffer() (NUL-terminated, `len` bytes; longer than kTextCap - 1 is
  /// BadRequest: pass len = kTextCap to say so).
  IbbReply on_data(const char* from, const char* sid, const char* seq, size_t len);
  /// <close sid>.
  IbbReply on_close(const char* from, const char* sid);

  char* text_buffer() { return text_; }
  uint64_t blocks() const { return blocks_; }
  /// Why the last request was refused, one line ("" after an Ok).
  const char* error() const { return error_; }

 private:
  IbbReply check(const char* from, const char* sid);
  IbbReply refuse(IbbReply r, const char* why);

  ByteSink* sink_ = nullptr;
  char owner_[kJidMax] = {};
  char sid_[kSidMax + 1] = {};
  bool open_ = false;
  bool closed_by_sender_ = false;
  uint32_t block_size_ = 0;
  uint16_t next_seq_ = 0;
  uint64_t blocks_ = 0;
  char error_[128] = {};
  char text_[kTextCap] = {};
  uint8_t block_[kMaxBlock + 3] = {};
};

}  // namespace agent

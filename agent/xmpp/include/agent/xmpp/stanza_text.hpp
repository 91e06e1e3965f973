// The text of the stanzas the session sends as it formats them
// (xmpp_send_raw(): no libstrophe tree, no second serialisation; see
// src/session.cpp for why stream management still counts them). Every value
// that comes from outside is escaped here; payloads passed in are XML the
// agent/core formatters made (and escaped) themselves. Nothing parses this
// text before it leaves, so tests/unit/test_raw_stanzas.cpp parses it.
// Appends to a caller's reused buffer: no allocation once it has grown.
#pragma once

#include <cstddef>
#include <string>

namespace agent {

/// A pubsub publish IQ of one item, with <publish-options/> (persist_items,
/// and access_model=presence on PEP) when `options`. `to` nullptr = our own
/// PEP service (no 'to'). `payload` (`len` bytes) is the item's XML child.
/// `out` is cleared first.
void publish_iq_text(std::string& out, const char* iq_id, const char* to, const char* node, const char* item_id,
                     const char* payload, size_t len, bool options);

/// Opens an IQ of `type` ("result"/"error") answering a request with `id` and
/// sender `to` (either nullptr = left out: a server-originated request has no
/// 'from'): "<iq type='..' id='..' to='..'>". `out` is cleared first. The
/// caller appends the payload and "</iq>".
void reply_open_text(std::string& out, const char* type, const char* id, const char* to);

/// XEP-0045 §7.2: the presence that joins a room as `occupant`
/// ("room@service/nick"), asking for no history:
/// "<presence to='..'><x xmlns='http://jabber.org/protocol/muc'><history maxstanzas='0'/></x></presence>".
/// `out` is cleared first.
void muc_join_text(std::string& out, const char* occupant);

/// XEP-0045 §7.14: leaving the room (unavailable presence to `occupant`).
void muc_leave_text(std::string& out, const char* occupant);

/// XEP-0045 §10.1.2: accepting the default configuration of a room we just
/// created (an instant room), so others can join it: an owner IQ set with an
/// empty submit form, id `id`, to `room`.
void muc_instant_room_text(std::string& out, const char* room, const char* id);

/// A groupchat message to `room` with id `id` whose children are `payload`
/// (XML the agent/core formatters made and escaped, e.g. an alert).
void groupchat_text(std::string& out, const char* room, const char* id, const char* payload);

}  // namespace agent

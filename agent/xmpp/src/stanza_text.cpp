#include "agent/xmpp/stanza_text.hpp"

#include "agent/xml_text.hpp"

namespace agent {

void publish_iq_text(std::string& b, const char* iq_id, const char* to, const char* node, const char* item_id,
                     const char* payload, size_t len, bool options) {
  // PEP nodes get access_model=presence; a pubsub component refuses that
  // option (precondition-not-met), so it gets persistence only.
  const bool pep = to == nullptr;
  b.clear();
  b += "<iq type='set' id='";
  xml_escape_append(b, iq_id);
  b += "'";
  if (!pep) {
    b += " to='";
    xml_escape_append(b, to);
    b += "'";
  }
  b += "><pubsub xmlns='http://jabber.org/protocol/pubsub'><publish node='";
  xml_escape_append(b, node);
  b += "'><item id='";
  xml_escape_append(b, item_id);
  b += "'>";
  b.append(payload, len);
  b += "</item></publish>";
  if (options) {
    // Only when the node may have to be created or its configuration checked
    // (Prosody re-checks the options on every publish that carries them).
    b += "<publish-options><x xmlns='jabber:x:data' type='submit'>"
         "<field var='FORM_TYPE' type='hidden'><value>http://jabber.org/protocol/pubsub#publish-options</value></field>"
         "<field var='pubsub#persist_items'><value>true</value></field>";
    if (pep) b += "<field var='pubsub#access_model'><value>presence</value></field>";
    b += "</x></publish-options>";
  }
  b += "</pubsub></iq>";
}

void reply_open_text(std::string& b, const char* type, const char* id, const char* to) {
  b.clear();
  b += "<iq type='";
  b += type;
  b += "'";
  if (id != nullptr) {
    b += " id='";
    xml_escape_append(b, id);
    b += "'";
  }
  if (to != nullptr) {
    b += " to='";
    xml_escape_append(b, to);
    b += "'";
  }
  b += ">";
}

namespace {
void open_to(std::string& b, const char* element, const char* to) {
  b.clear();
  b += "<";
  b += element;
  b += " to='";
  xml_escape_append(b, to);
  b += "'";
}
}  // namespace

void muc_join_text(std::string& b, const char* occupant) {
  open_to(b, "presence", occupant);
  b += "><x xmlns='http://jabber.org/protocol/muc'><history maxstanzas='0'/></x></presence>";
}

void muc_leave_text(std::string& b, const char* occupant) {
  open_to(b, "presence", occupant);
  b += " type='unavailable'/>";
}

void muc_instant_room_text(std::string& b, const char* room, const char* id) {
  open_to(b, "iq", room);
  b += " type='set' id='";
  xml_escape_append(b, id);
  b += "'><query xmlns='http://jabber.org/protocol/muc#owner'><x xmlns='jabber:x:data' type='submit'/></query></iq>";
}

void groupchat_text(std::string& b, const char* room, const char* id, const char* payload) {
  open_to(b, "message", room);
  b += " type='groupchat' id='";
  xml_escape_append(b, id);
  b += "'>";
  b += payload;
  b += "</message>";
}

}  // namespace agent

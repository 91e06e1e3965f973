// The stanza text the session sends raw (agent/xmpp/stanza_text.hpp): nothing
// parses it before it leaves, so these tests do. Values with every XML special
// character round-trip through libstrophe's parser unchanged; publish-options
// are there only when asked for; a command answer inside a reply envelope is
// one well-formed IQ. (fuzz_command parses the envelope around fuzzed answers.)
#include "agent/xmpp/stanza_text.hpp"

#include <gtest/gtest.h>
#include <strophe.h>

#include <cstring>
#include <string>

#include "agent/command_response.hpp"
#include "alloc_counter.hpp"

namespace {

constexpr const char* kHostile = "a'b\"c<d>e&f;&amp;]]>";

class RawStanzas : public ::testing::Test {
 protected:
  RawStanzas() {
    xmpp_initialize();
    ctx_ = xmpp_ctx_new(nullptr, nullptr);
  }
  ~RawStanzas() override { xmpp_ctx_free(ctx_); }
  /// The parsed stanza (the caller releases it), or nullptr when not well-formed.
  xmpp_stanza_t* parse(const std::string& text) { return xmpp_stanza_new_from_string(ctx_, text.c_str()); }
  static std::string attr(xmpp_stanza_t* s, const char* name) {
    const char* v = s != nullptr ? xmpp_stanza_get_attribute(s, name) : nullptr;
    return v != nullptr ? v : "(none)";
  }
  xmpp_ctx_t* ctx_ = nullptr;
};

TEST_F(RawStanzas, APublishIqParsesAndKeepsEveryValue) {
  const std::string payload =
      "<senml xmlns='urn:ietf:params:xml:ns:senml'><r bn='dev&amp;1/' n='t&lt;1' v='21.5'/></senml>";
  for (const bool options : {false, true}) {
    for (const char* to : {static_cast<const char*>(nullptr), kHostile}) {
      std::string b;
      agent::publish_iq_text(b, kHostile, to, kHostile, kHostile, payload.data(), payload.size(), options);
      xmpp_stanza_t* iq = parse(b);
      ASSERT_NE(iq, nullptr) << b;
      EXPECT_STREQ(xmpp_stanza_get_name(iq), "iq");
      EXPECT_EQ(attr(iq, "type"), "set");
      EXPECT_EQ(attr(iq, "id"), kHostile);
      EXPECT_EQ(attr(iq, "to"), to != nullptr ? kHostile : "(none)");
      xmpp_stanza_t* pubsub = xmpp_stanza_get_child_by_name_and_ns(iq, "pubsub", "http://jabber.org/protocol/pubsub");
      ASSERT_NE(pubsub, nullptr) << b;
      xmpp_stanza_t* publish = xmpp_stanza_get_child_by_name(pubsub, "publish");
      EXPECT_EQ(attr(publish, "node"), kHostile);
      xmpp_stanza_t* item = publish != nullptr ? xmpp_stanza_get_child_by_name(publish, "item") : nullptr;
      EXPECT_EQ(attr(item, "id"), kHostile);
      xmpp_stanza_t* senml = item != nullptr ? xmpp_stanza_get_child_by_name(item, "senml") : nullptr;
      xmpp_stanza_t* r = senml != nullptr ? xmpp_stanza_get_child_by_name(senml, "r") : nullptr;
      EXPECT_EQ(attr(r, "n"), "t<1");
      xmpp_stanza_t* po = xmpp_stanza_get_child_by_name(pubsub, "publish-options");
      EXPECT_EQ(po != nullptr, options) << b;
      if (po != nullptr) {
        // access_model only on PEP (a pubsub component refuses it).
        EXPECT_EQ(b.find("pubsub#access_model") != std::string::npos, to == nullptr) << b;
        EXPECT_NE(b.find("pubsub#persist_items"), std::string::npos) << b;
      }
      xmpp_stanza_release(iq);
    }
  }
}

TEST_F(RawStanzas, ACommandAnswerInItsReplyEnvelopeIsOneWellFormedIq) {
  agent::CommandResponse r;
  r.reset();
  r.node = "set";
  std::snprintf(r.sessionid, sizeof r.sessionid, "1-x'y");
  r.status = agent::CommandStatus::Completed;
  r.add_note(agent::NoteType::Info, "%s", kHostile);
  char xml[2048];
  ASSERT_TRUE(agent::format_command_xml(xml, sizeof xml, r).ok());
  std::string b;
  agent::reply_open_text(b, "result", kHostile, "ops@localhost/a'&<");
  b += xml;
  b += "</iq>";
  xmpp_stanza_t* iq = parse(b);
  ASSERT_NE(iq, nullptr) << b;
  EXPECT_EQ(attr(iq, "type"), "result");
  EXPECT_EQ(attr(iq, "id"), kHostile);
  EXPECT_EQ(attr(iq, "to"), "ops@localhost/a'&<");
  xmpp_stanza_t* command = xmpp_stanza_get_child_by_name_and_ns(iq, "command", "http://jabber.org/protocol/commands");
  ASSERT_NE(command, nullptr) << b;
  EXPECT_EQ(attr(command, "sessionid"), "1-x'y");
  xmpp_stanza_t* note = xmpp_stanza_get_child_by_name(command, "note");
  ASSERT_NE(note, nullptr);
  char* text = xmpp_stanza_get_text(note);
  EXPECT_STREQ(text, kHostile);
  xmpp_free(ctx_, text);
  xmpp_stanza_release(iq);

  // An error answer, from a request that had neither id nor from.
  agent::CommandError e;
  e.condition = agent::StanzaCondition::BadRequest;
  std::snprintf(e.text, sizeof e.text, "%s", kHostile);
  ASSERT_TRUE(agent::format_command_error_xml(xml, sizeof xml, e).ok());
  agent::reply_open_text(b, "error", nullptr, nullptr);
  b += xml;
  b += "</iq>";
  iq = parse(b);
  ASSERT_NE(iq, nullptr) << b;
  EXPECT_EQ(attr(iq, "id"), "(none)");
  EXPECT_EQ(attr(iq, "to"), "(none)");
  EXPECT_NE(xmpp_stanza_get_child_by_name(iq, "error"), nullptr) << b;
  xmpp_stanza_release(iq);
}

TEST_F(RawStanzas, RoomJoinLeaveConfigureAndAlertMessagesParse) {
  std::string b;
  agent::muc_join_text(b, kHostile);
  xmpp_stanza_t* p = parse(b);
  ASSERT_NE(p, nullptr) << b;
  EXPECT_STREQ(xmpp_stanza_get_name(p), "presence");
  EXPECT_EQ(attr(p, "to"), kHostile);
  EXPECT_EQ(attr(p, "type"), "(none)");
  xmpp_stanza_t* x = xmpp_stanza_get_child_by_name_and_ns(p, "x", "http://jabber.org/protocol/muc");
  ASSERT_NE(x, nullptr) << b;
  EXPECT_EQ(attr(xmpp_stanza_get_child_by_name(x, "history"), "maxstanzas"), "0");
  xmpp_stanza_release(p);

  agent::muc_leave_text(b, kHostile);
  p = parse(b);
  ASSERT_NE(p, nullptr) << b;
  EXPECT_EQ(attr(p, "type"), "unavailable");
  EXPECT_EQ(attr(p, "to"), kHostile);
  xmpp_stanza_release(p);

  agent::muc_instant_room_text(b, kHostile, kHostile);
  p = parse(b);
  ASSERT_NE(p, nullptr) << b;
  EXPECT_STREQ(xmpp_stanza_get_name(p), "iq");
  EXPECT_EQ(attr(p, "type"), "set");
  EXPECT_EQ(attr(p, "id"), kHostile);
  xmpp_stanza_t* q = xmpp_stanza_get_child_by_name_and_ns(p, "query", "http://jabber.org/protocol/muc#owner");
  ASSERT_NE(q, nullptr) << b;
  EXPECT_EQ(attr(xmpp_stanza_get_child_by_name_and_ns(q, "x", "jabber:x:data"), "type"), "submit");
  xmpp_stanza_release(p);

  // The alert payload as agent/core formats it (AlertEngine::format_message).
  const std::string payload =
      "<body>ALARM d&lt;1&gt;@x env0.temperature 31.2 Cel above 30 for 10 s</body>"
      "<alert xmlns='urn:xiot:alert:0' device='d&lt;1&gt;@x' channel='env0.temperature' state='alarm' "
      "comparison='above' threshold='30' value='31.2' unit='Cel' at='2026-12-06T10:00:00Z'/>";
  agent::groupchat_text(b, kHostile, kHostile, payload.c_str());
  p = parse(b);
  ASSERT_NE(p, nullptr) << b;
  EXPECT_STREQ(xmpp_stanza_get_name(p), "message");
  EXPECT_EQ(attr(p, "type"), "groupchat");
  EXPECT_EQ(attr(p, "to"), kHostile);
  EXPECT_EQ(attr(p, "id"), kHostile);
  xmpp_stanza_t* alert = xmpp_stanza_get_child_by_name_and_ns(p, "alert", "urn:xiot:alert:0");
  EXPECT_EQ(attr(alert, "device"), "d<1>@x");
  EXPECT_EQ(attr(alert, "state"), "alarm");
  char* body = xmpp_message_get_body(p);
  ASSERT_NE(body, nullptr);
  EXPECT_STREQ(body, "ALARM d<1>@x env0.temperature 31.2 Cel above 30 for 10 s");
  xmpp_free(ctx_, body);
  xmpp_stanza_release(p);
}

TEST_F(RawStanzas, AReusedBufferFormatsWithoutAllocating) {
  std::string b;
  b.reserve(4096);  // as the session does once
  const std::string payload(600, 'x');
  agent::publish_iq_text(b, "pub-0ldb0071-000001", nullptr, "urn:xiot:telemetry:0", "0ldb0071-000001",
                         payload.data(), payload.size(), true);
  const long before = xiot_test::allocation_count();
  for (int i = 0; i < 100; ++i) {
    agent::publish_iq_text(b, "pub-0ldb0071-000002", nullptr, "urn:xiot:telemetry:0", "0ldb0071-000002",
                           payload.data(), payload.size(), i % 2 == 0);
    agent::reply_open_text(b, "result", "abc", "ops@localhost/x");
  }
  EXPECT_EQ(xiot_test::allocation_count() - before, 0);
}

}  // namespace

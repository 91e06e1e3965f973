// agent/xmpp/stanza_form: XEP-0004 forms read out of libstrophe stanzas (parsed
// from text, no connection) into the fixed-capacity Form.
#include "agent/xmpp/stanza_form.hpp"

#include <gtest/gtest.h>
#include <strophe.h>

#include <string>

namespace {

class StanzaForm : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { xmpp_initialize(); }
  void SetUp() override { ctx_ = xmpp_ctx_new(nullptr, nullptr); }
  void TearDown() override {
    if (stanza_ != nullptr) xmpp_stanza_release(stanza_);
    xmpp_ctx_free(ctx_);
  }
  /// Parses `xml` and builds form_ from it.
  void read(const std::string& xml) {
    stanza_ = xmpp_stanza_new_from_string(ctx_, xml.c_str());
    ASSERT_NE(stanza_, nullptr) << xml;
    agent::form_from_stanza(stanza_, &form_);
  }
  xmpp_ctx_t* ctx_ = nullptr;
  xmpp_stanza_t* stanza_ = nullptr;
  agent::Form form_;
};

TEST_F(StanzaForm, ReadsEveryPartOfASubmittedForm) {
  read("<x xmlns='jabber:x:data' type='submit'><title>T</title><instructions>I</instructions>"
       "<field var='channel' type='list-single' label='Channel'><desc>pick</desc><required/>"
       "<option label='Relay'><value>relay0.state</value></option><value>relay0.state</value></field>"
       "<field var='value'><value>tr&amp;ue</value></field>"
       "<field var='many' type='text-multi'><value>a</value><value>b</value></field>"
       "<unknown xmlns='urn:x'/></x>");
  ASSERT_EQ(form_.build_error(), hal::Err::Ok) << form_.build_error_text();
  EXPECT_EQ(form_.type(), agent::FormType::Submit);
  EXPECT_STREQ(form_.title(), "T");
  EXPECT_STREQ(form_.instructions(), "I");
  ASSERT_EQ(form_.field_count(), 3u);
  const agent::FormField& ch = form_.field(0);
  EXPECT_EQ(ch.type(), agent::FieldType::ListSingle);
  EXPECT_STREQ(ch.label(), "Channel");
  EXPECT_STREQ(ch.desc(), "pick");
  EXPECT_TRUE(ch.required());
  ASSERT_EQ(ch.option_count(), 1u);
  EXPECT_STREQ(ch.option(0).label, "Relay");
  EXPECT_STREQ(ch.option(0).value, "relay0.state");
  EXPECT_STREQ(form_.value_of("value"), "tr&ue");  // entities decoded, type defaults to text-single
  EXPECT_EQ(form_.field(1).type(), agent::FieldType::TextSingle);
  ASSERT_EQ(form_.field(2).value_count(), 2u);
  EXPECT_STREQ(form_.field(2).value(1), "b");
}

// XEP-0004 §3.2: a submitted field need not repeat its type. Several values
// then answer a multi field (slixmpp sends the alerts command's rules so);
// in a form of another type a typeless field stays text-single.
TEST_F(StanzaForm, ATypelessSubmittedFieldMayCarrySeveralValues) {
  read("<x xmlns='jabber:x:data' type='submit'><field var='rules'><value>a</value><value>b</value></field>"
       "<field var='room'><value>r@c</value></field></x>");
  ASSERT_EQ(form_.build_error(), hal::Err::Ok) << form_.build_error_text();
  EXPECT_EQ(form_.field(0).type(), agent::FieldType::TextMulti);
  ASSERT_EQ(form_.field(0).value_count(), 2u);
  EXPECT_STREQ(form_.field(0).value(1), "b");
  EXPECT_EQ(form_.field(1).type(), agent::FieldType::TextSingle);
  if (stanza_ != nullptr) xmpp_stanza_release(stanza_);
  stanza_ = nullptr;
  read("<x xmlns='jabber:x:data' type='form'><field var='rules'><value>a</value><value>b</value></field></x>");
  EXPECT_EQ(form_.build_error(), hal::Err::InvalidArgument);
}

TEST_F(StanzaForm, AMissingOrUnknownFormTypeIsMalformed) {
  read("<x xmlns='jabber:x:data'><field var='a'><value>1</value></field></x>");
  EXPECT_EQ(form_.build_error(), hal::Err::InvalidArgument);
  EXPECT_NE(std::string(form_.build_error_text()).find("type"), std::string::npos);
}

TEST_F(StanzaForm, UnknownFieldTypeIsMalformed) {
  read("<x xmlns='jabber:x:data' type='submit'><field var='a' type='bogus'/></x>");
  EXPECT_EQ(form_.build_error(), hal::Err::InvalidArgument);
  EXPECT_NE(std::string(form_.build_error_text()).find("field type"), std::string::npos);
}

TEST_F(StanzaForm, TooManyFieldsIsLatchedNotTruncated) {
  std::string xml = "<x xmlns='jabber:x:data' type='submit'>";
  for (size_t i = 0; i <= agent::kFormMaxFields; ++i) xml += "<field var='f" + std::to_string(i) + "'/>";
  read(xml + "</x>");
  EXPECT_EQ(form_.build_error(), hal::Err::NoSpace);
  EXPECT_NE(std::string(form_.build_error_text()).find("32"), std::string::npos) << form_.build_error_text();
}

TEST_F(StanzaForm, AnOverLongValueIsAnOverflowNamingTheField) {
  read("<x xmlns='jabber:x:data' type='submit'><field var='value'><value>" + std::string(agent::kFormTextMax + 1, 'v') +
       "</value></field></x>");
  EXPECT_EQ(form_.build_error(), hal::Err::Overflow);
  EXPECT_NE(std::string(form_.build_error_text()).find("'value'"), std::string::npos) << form_.build_error_text();
  // Exactly at the limit is fine.
  xmpp_stanza_release(stanza_);
  stanza_ = nullptr;
  read("<x xmlns='jabber:x:data' type='submit'><field var='value'><value>" + std::string(agent::kFormTextMax, 'v') +
       "</value></field></x>");
  EXPECT_EQ(form_.build_error(), hal::Err::Ok) << form_.build_error_text();
}

TEST_F(StanzaForm, ElementTextReportsTheFullLengthWhenCut) {
  stanza_ = xmpp_stanza_new_from_string(ctx_, "<body>hello world</body>");
  ASSERT_NE(stanza_, nullptr);
  char buf[6];
  EXPECT_EQ(agent::element_text(stanza_, buf, sizeof buf), 11u);
  EXPECT_STREQ(buf, "hello");
  char big[32];
  EXPECT_EQ(agent::element_text(stanza_, big, sizeof big), 11u);
  EXPECT_STREQ(big, "hello world");
  EXPECT_EQ(agent::element_text(nullptr, big, sizeof big), 0u);
  EXPECT_STREQ(big, "");
}

TEST_F(StanzaForm, FindChildMatchesNameAndNamespace) {
  stanza_ = xmpp_stanza_new_from_string(
      ctx_, "<command xmlns='http://jabber.org/protocol/commands'>text<x xmlns='urn:other'/><x xmlns='jabber:x:data'/></command>");
  ASSERT_NE(stanza_, nullptr);
  xmpp_stanza_t* x = agent::find_child(stanza_, "x", "jabber:x:data");
  ASSERT_NE(x, nullptr);
  EXPECT_STREQ(xmpp_stanza_get_ns(x), "jabber:x:data");
  EXPECT_EQ(agent::find_child(stanza_, "y", nullptr), nullptr);
  EXPECT_NE(agent::find_child(stanza_, nullptr, "urn:other"), nullptr);
}

}  // namespace

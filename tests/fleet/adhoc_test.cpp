// XEP-0050 on the operator side without a network: command lists, command
// answers as the agent formats them (docs/commands.md), requests, and the
// choice of the submit action.
#include "fleet/adhoc.hpp"

#include <gtest/gtest.h>

#include "fleet/error.hpp"
#include "fleet/xml.hpp"

namespace fleet {
namespace {

CommandReply reply(const std::string& xml) { return parse_command_reply(parse_xml(xml)); }

TEST(Adhoc, CommandListFromDiscoItems) {
  const auto items = parse_command_list(parse_xml(
      "<query xmlns='http://jabber.org/protocol/disco#items' node='http://jabber.org/protocol/commands'>"
      "<item jid='dev1@localhost/xiot' node='read' name='Read sensors'/>"
      "<item jid='dev1@localhost/xiot' node='set' name='Set an actuator'/>"
      "<item jid='dev1@localhost/xiot'/></query>"));
  ASSERT_EQ(items.size(), 2u);  // an item without node is not a command
  EXPECT_EQ(items[0].node, "read");
  EXPECT_EQ(items[0].name, "Read sensors");
  EXPECT_EQ(items[1].jid, "dev1@localhost/xiot");
  EXPECT_TRUE(parse_command_list(parse_xml("<query xmlns='http://jabber.org/protocol/disco#items'/>")).empty());
  EXPECT_EQ(to_string(make_command_list_request()),
            "<query xmlns='http://jabber.org/protocol/disco#items' node='http://jabber.org/protocol/commands'/>");
}

TEST(Adhoc, CompletedReadWithResultFormAndNotes) {
  const CommandReply r = reply(
      "<command xmlns='http://jabber.org/protocol/commands' node='read' sessionid='3-9f2c4b1a7d3e5f60' "
      "status='completed'><note type='warn'>sys0.load: read failed: not supported</note>"
      "<x xmlns='jabber:x:data' type='result'><title>Readings</title>"
      "<field var='env0.temperature' type='text-single' label='env0.temperature (Cel)'><value>21.54</value></field>"
      "<field var='relay0.state' type='boolean' label='relay0.state'><value>false</value></field>"
      "<field var='sys0.load' type='text-single' label='sys0.load (/)'><desc>read failed: not supported</desc>"
      "</field></x></command>");
  EXPECT_EQ(r.node, "read");
  EXPECT_EQ(r.status, "completed");
  EXPECT_EQ(r.sessionid, "3-9f2c4b1a7d3e5f60");
  EXPECT_FALSE(r.has_actions);
  ASSERT_EQ(r.notes.size(), 1u);
  EXPECT_EQ(r.notes[0].type, "warn");
  ASSERT_TRUE(r.form.has_value());
  EXPECT_EQ(r.form->type, "result");
  ASSERT_EQ(r.form->fields.size(), 3u);
  EXPECT_EQ(r.form->fields[2].desc, "read failed: not supported");
  EXPECT_TRUE(r.form->fields[2].values.empty());
}

TEST(Adhoc, ExecutingStageWithActions) {
  const CommandReply r = reply(
      "<command xmlns='http://jabber.org/protocol/commands' node='set' sessionid='1-aa' status='executing'>"
      "<actions execute='complete'><next/><complete/></actions>"
      "<x xmlns='jabber:x:data' type='form'><field var='channel' type='list-single'><required/></field></x>"
      "</command>");
  EXPECT_TRUE(r.has_actions);
  EXPECT_EQ(r.actions, (std::vector<std::string>{"next", "complete"}));
  EXPECT_EQ(r.default_action, "complete");
  EXPECT_TRUE(r.allows("next"));
  EXPECT_FALSE(r.allows("prev"));
  ASSERT_TRUE(r.form.has_value());
  // A note without a type is info (XEP-0050 §3.5).
  EXPECT_EQ(reply("<command xmlns='http://jabber.org/protocol/commands' node='x' status='completed'>"
                  "<note>done</note></command>")
                .notes[0]
                .type,
            "info");
}

TEST(Adhoc, MalformedAnswersAreDeviceErrors) {
  for (const char* xml : {"<command xmlns='http://jabber.org/protocol/commands' node='x'/>",
                          "<command xmlns='http://jabber.org/protocol/commands' node='x' status='done'/>",
                          "<command xmlns='urn:example' node='x' status='completed'/>"}) {
    try {
      (void)reply(xml);
      ADD_FAILURE() << xml;
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), Exit::DeviceError) << xml;
    }
  }
}

TEST(Adhoc, Requests) {
  EXPECT_EQ(to_string(make_command_request("read", "", "execute", nullptr)),
            "<command xmlns='http://jabber.org/protocol/commands' node='read' action='execute'/>");
  DataForm f;
  f.type = "submit";
  FormField fld;
  fld.var = "confirm";
  fld.type = "boolean";
  fld.values = {"true"};
  f.fields.push_back(fld);
  EXPECT_EQ(to_string(make_command_request("reboot", "7-ab", "complete", &f)),
            "<command xmlns='http://jabber.org/protocol/commands' node='reboot' sessionid='7-ab' action='complete'>"
            "<x xmlns='jabber:x:data' type='submit'><field var='confirm' type='boolean'><value>true</value>"
            "</field></x></command>");
  EXPECT_EQ(to_string(make_command_request("a&b", "", "", nullptr)),
            "<command xmlns='http://jabber.org/protocol/commands' node='a&amp;b'/>");
}

TEST(Adhoc, SubmitActionFollowsTheStage) {
  auto with = [](const char* actions) {
    return reply(std::string("<command xmlns='http://jabber.org/protocol/commands' node='n' sessionid='s' "
                             "status='executing'>") +
                 actions + "</command>");
  };
  // The agent's set stage 1: complete is the default; next only when a later
  // stage must take arguments this one does not have.
  const CommandReply set1 = with("<actions execute='complete'><next/><complete/></actions>");
  EXPECT_EQ(choose_submit_action(set1, false), "complete");
  EXPECT_EQ(choose_submit_action(set1, true), "next");
  // A device whose default is next (XEP-0050 §3.4), explicitly or by omission.
  EXPECT_EQ(choose_submit_action(with("<actions execute='next'><next/><complete/></actions>"), false), "next");
  EXPECT_EQ(choose_submit_action(with("<actions><next/><complete/></actions>"), false), "next");
  // Only complete / only next / prev+complete (set stage 2).
  EXPECT_EQ(choose_submit_action(with("<actions execute='complete'><complete/></actions>"), true), "complete");
  EXPECT_EQ(choose_submit_action(with("<actions><next/></actions>"), false), "next");
  EXPECT_EQ(choose_submit_action(with("<actions execute='complete'><prev/><complete/></actions>"), false),
            "complete");
  // No <actions/>: a single stage, completed by submitting.
  EXPECT_EQ(choose_submit_action(with(""), false), "complete");
}

}  // namespace
}  // namespace fleet

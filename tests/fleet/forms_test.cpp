// XEP-0004 forms on the operator side: parsing what devices send, filling
// from field=value arguments, validation messages, and the submit form.
#include "fleet/forms.hpp"

#include <gtest/gtest.h>

#include "fleet/error.hpp"
#include "fleet/xml.hpp"

namespace fleet {
namespace {

// The agent's `set` stage 1 (docs/commands.md), as it puts it on the wire.
constexpr const char* kSetForm =
    "<x xmlns='jabber:x:data' type='form'><title>Set an actuator</title>"
    "<instructions>Choose a channel and a value (true/false, on/off or a number), then complete.</instructions>"
    "<field var='channel' type='list-single' label='Channel'><required/>"
    "<option label='relay0.state (boolean)'><value>relay0.state</value></option>"
    "<option label='dim0.level (numeric)'><value>dim0.level</value></option></field>"
    "<field var='value' type='text-single' label='Value'/></x>";

constexpr const char* kRebootForm =
    "<x xmlns='jabber:x:data' type='form'><title>Reboot the device</title>"
    "<field var='confirm' type='boolean' label='Reboot now?'><required/><value>0</value></field>"
    "<field var='reason' type='text-single' label='Reason (optional, logged)'/></x>";

DataForm form(const char* xml) { return parse_form(parse_xml(xml)); }

/// The Error(Usage) message fill_form() throws, or "" when it does not.
std::string fill_error(const DataForm& f, const std::vector<std::string>& args,
                       std::vector<FieldArg>* unused = nullptr) {
  try {
    (void)fill_form(f, parse_field_args(args), unused);
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Exit::Usage);
    return e.what();
  }
  return "";
}

TEST(Forms, ParsesFieldsTypesOptionsAndDefaults) {
  const DataForm f = form(kSetForm);
  EXPECT_EQ(f.type, "form");
  EXPECT_EQ(f.title, "Set an actuator");
  ASSERT_EQ(f.instructions.size(), 1u);
  ASSERT_EQ(f.fields.size(), 2u);
  const FormField* ch = f.find("channel");
  ASSERT_NE(ch, nullptr);
  EXPECT_EQ(ch->type, "list-single");
  EXPECT_TRUE(ch->required);
  EXPECT_EQ(ch->label, "Channel");
  ASSERT_EQ(ch->options.size(), 2u);
  EXPECT_EQ(ch->options[0].value, "relay0.state");
  EXPECT_EQ(ch->options[0].label, "relay0.state (boolean)");
  EXPECT_FALSE(f.find("value")->required);
  EXPECT_EQ(f.find("nope"), nullptr);
}

TEST(Forms, AFieldWithoutTypeIsTextSingle) {
  const DataForm f = form("<x xmlns='jabber:x:data' type='form'><field var='a'><value>1</value></field></x>");
  EXPECT_EQ(f.fields[0].type, "text-single");
  EXPECT_EQ(f.fields[0].values, std::vector<std::string>{"1"});
}

TEST(Forms, NotAFormIsRefused) {
  try {
    (void)parse_form(parse_xml("<query xmlns='jabber:iq:version'/>"));
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Exit::DeviceError);
  }
}

TEST(Forms, FillsASubmitFormFromArguments) {
  const DataForm s = fill_form(form(kSetForm), parse_field_args({"channel=relay0.state", "value=on"}), nullptr);
  EXPECT_EQ(s.type, "submit");
  ASSERT_EQ(s.fields.size(), 2u);
  EXPECT_EQ(s.fields[0].var, "channel");
  EXPECT_EQ(s.fields[0].values, std::vector<std::string>{"relay0.state"});
  // text-single: passed through for the device to interpret (it knows "on").
  EXPECT_EQ(s.fields[1].values, std::vector<std::string>{"on"});
  EXPECT_EQ(to_string(form_to_xml(s)),
            "<x xmlns='jabber:x:data' type='submit'>"
            "<field var='channel' type='list-single'><value>relay0.state</value></field>"
            "<field var='value' type='text-single'><value>on</value></field></x>");
}

TEST(Forms, BooleansAcceptFriendlyWordsAndAreSentCanonically) {
  for (const char* yes : {"1", "true", "TRUE", "yes", "On"}) {
    const DataForm s = fill_form(form(kRebootForm), parse_field_args({std::string("confirm=") + yes}), nullptr);
    ASSERT_EQ(s.fields.size(), 1u) << yes;  // reason has no value: left out
    EXPECT_EQ(s.fields[0].values, std::vector<std::string>{"true"}) << yes;
  }
  for (const char* no : {"0", "false", "No", "off"}) {
    const DataForm s = fill_form(form(kRebootForm), parse_field_args({std::string("confirm=") + no}), nullptr);
    EXPECT_EQ(s.fields[0].values, std::vector<std::string>{"false"}) << no;
  }
  EXPECT_EQ(fill_error(form(kRebootForm), {"confirm=maybe"}).rfind(
                "confirm: 'maybe' is not a boolean (use true/false, 1/0, yes/no or on/off)\n", 0),
            0u);
}

TEST(Forms, PrefilledDefaultsAreSubmittedWhenNotGiven) {
  const DataForm s = fill_form(form(kRebootForm), {}, nullptr);
  ASSERT_EQ(s.fields.size(), 1u);
  EXPECT_EQ(s.fields[0].var, "confirm");
  EXPECT_EQ(s.fields[0].values, std::vector<std::string>{"0"});
  // An optional field given a value is sent; given empty, it is left out.
  const DataForm r = fill_form(form(kRebootForm), parse_field_args({"confirm=1", "reason=new fw"}), nullptr);
  ASSERT_EQ(r.fields.size(), 2u);
  EXPECT_EQ(r.fields[1].values, std::vector<std::string>{"new fw"});
  EXPECT_EQ(fill_form(form(kRebootForm), parse_field_args({"confirm=1", "reason="}), nullptr).fields.size(), 1u);
}

TEST(Forms, ListSingleValueMustBeAnOption) {
  const std::string e = fill_error(form(kSetForm), {"channel=env0.temperature", "value=1"});
  EXPECT_EQ(e.rfind("channel: 'env0.temperature' is not one of: relay0.state (relay0.state (boolean)), "
                    "dim0.level (dim0.level (numeric))\n",
                    0),
            0u)
      << e;
}

TEST(Forms, MissingRequiredFieldListsTheFormsFields) {
  const std::string e = fill_error(form(kSetForm), {"value=1"});
  EXPECT_EQ(e,
            "missing required field 'channel'\n"
            "fields of the form 'Set an actuator':\n"
            "  channel  \"Channel\", list-single, required, one of: relay0.state (relay0.state (boolean)), "
            "dim0.level (dim0.level (numeric))\n"
            "  value    \"Value\", text-single");
}

TEST(Forms, UnknownFieldsAreReturnedForALaterStageOrRefused) {
  std::vector<FieldArg> unused;
  const DataForm s =
      fill_form(form(kRebootForm), parse_field_args({"confirm=1", "colour=red", "size=2"}), &unused);
  EXPECT_EQ(s.fields.size(), 1u);
  ASSERT_EQ(unused.size(), 2u);
  EXPECT_EQ(unused[0].var, "colour");
  EXPECT_EQ(unused[1].value, "2");
  const std::string e = fill_error(form(kRebootForm), {"colour=red"});
  EXPECT_EQ(e.rfind("the form has no field 'colour'\nfields of the form 'Reboot the device':\n"
                    "  confirm  \"Reboot now?\", boolean, required (true/false), default 0\n",
                    0),
            0u)
      << e;
}

TEST(Forms, SingleValuedFieldsTakeOneValueMultiFieldsSeveral) {
  EXPECT_EQ(fill_error(form(kSetForm), {"channel=relay0.state", "channel=dim0.level"})
                .rfind("channel: takes one value, got 2\n", 0),
            0u);
  const DataForm multi = form(
      "<x xmlns='jabber:x:data' type='form'>"
      "<field var='chans' type='list-multi'><option><value>a</value></option><option><value>b</value></option>"
      "</field><field var='notes' type='text-multi'/><field var='peers' type='jid-multi'/></x>");
  const DataForm s =
      fill_form(multi, parse_field_args({"chans=a", "chans=b", "notes=x", "notes=y", "peers=ops@localhost"}),
                nullptr);
  ASSERT_EQ(s.fields.size(), 3u);
  EXPECT_EQ(s.fields[0].values, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(s.fields[1].values, (std::vector<std::string>{"x", "y"}));
  EXPECT_EQ(fill_error(multi, {"chans=c"}).rfind("chans: 'c' is not one of: a, b\n", 0), 0u);
  EXPECT_EQ(fill_error(multi, {"peers=not a jid"}).rfind("peers: 'not a jid' is not a JID\n", 0), 0u);
}

TEST(Forms, HiddenFieldsAreReturnedFixedFieldsAreNot) {
  const DataForm f = form(
      "<x xmlns='jabber:x:data' type='form'>"
      "<field type='fixed'><value>relay0.state is now false</value></field>"
      "<field var='FORM_TYPE' type='hidden'><value>urn:xiot:set</value></field>"
      "<field var='value' type='boolean' label='relay0.state'><required/><value>0</value></field></x>");
  const DataForm s = fill_form(f, parse_field_args({"value=on"}), nullptr);
  EXPECT_EQ(to_string(form_to_xml(s)),
            "<x xmlns='jabber:x:data' type='submit'>"
            "<field var='FORM_TYPE' type='hidden'><value>urn:xiot:set</value></field>"
            "<field var='value' type='boolean'><value>true</value></field></x>");
  // The fixed line and the hidden field are not offered to people.
  EXPECT_EQ(describe_fields(f), "fields of the form:\n  value  \"relay0.state\", boolean, required (true/false), default 0");
}

TEST(Forms, Xep0122DatatypesAndRangesAreChecked) {
  const DataForm f = form(
      "<x xmlns='jabber:x:data' type='form'>"
      "<field var='n' type='text-single'><validate xmlns='http://jabber.org/protocol/xdata-validate' "
      "datatype='xs:integer'><range min='1' max='100'/></validate></field>"
      "<field var='d' type='text-single'><validate xmlns='http://jabber.org/protocol/xdata-validate' "
      "datatype='xs:decimal'/></field></x>");
  EXPECT_EQ(fill_error(f, {"n=5", "d=-2.5"}), "");
  EXPECT_EQ(fill_error(f, {"n=5.5"}).rfind("n: '5.5' is not an integer\n", 0), 0u);
  EXPECT_EQ(fill_error(f, {"n=0"}).rfind("n: '0' is below the minimum 1\n", 0), 0u);
  EXPECT_EQ(fill_error(f, {"n=101"}).rfind("n: '101' is above the maximum 100\n", 0), 0u);
  EXPECT_EQ(fill_error(f, {"d=1e3"}).rfind("d: '1e3' is not a decimal number\n", 0), 0u);
  EXPECT_NE(describe_fields(f).find("  n  text-single, xs:integer >= 1 <= 100"), std::string::npos)
      << describe_fields(f);
}

TEST(Forms, FixedFieldsCannotBeFilled) {
  const DataForm f = form("<x xmlns='jabber:x:data' type='form'><field var='info' type='fixed'><value>hi</value>"
                          "</field></x>");
  EXPECT_EQ(fill_error(f, {"info=x"}).rfind("info: is a fixed text, not something to fill in\n", 0), 0u);
}

TEST(Forms, FieldArgumentsSplitAtTheFirstEquals) {
  const auto a = parse_field_args({"value=a=b", "reason="});
  EXPECT_EQ(a[0].var, "value");
  EXPECT_EQ(a[0].value, "a=b");
  EXPECT_EQ(a[1].value, "");
  for (const char* bad : {"novalue", "=x"}) {
    try {
      (void)parse_field_args({bad});
      ADD_FAILURE() << bad;
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), Exit::Usage);
    }
  }
}

TEST(Forms, XepBooleans) {
  bool ok = false;
  EXPECT_TRUE(form_boolean("1", &ok));
  EXPECT_TRUE(ok);
  EXPECT_FALSE(form_boolean("false", &ok));
  EXPECT_TRUE(ok);
  EXPECT_FALSE(form_boolean("on", &ok));  // not an XEP-0004 boolean
  EXPECT_FALSE(ok);
}

}  // namespace
}  // namespace fleet

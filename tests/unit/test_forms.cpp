// agent/forms: the fixed-capacity XEP-0004 model (limits are explicit errors,
// latched), value parsing (booleans, exact decimals) and XML serialisation.
#include "agent/forms.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace {

using agent::FieldType;
using agent::Form;
using agent::FormType;

std::string xml_of(const Form& f) {
  std::vector<char> buf(agent::form_xml_len(f) + 1);
  const hal::Result<size_t> r = agent::format_form_xml(buf.data(), buf.size(), f);
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.value(), agent::form_xml_len(f));
  return std::string(buf.data(), r.value_or(0));
}

TEST(FormsNames, TypesRoundTrip) {
  for (FormType t : {FormType::Form, FormType::Submit, FormType::Cancel, FormType::Result}) {
    FormType back = FormType::Form;
    ASSERT_TRUE(agent::parse_form_type(agent::form_type_name(t), &back)) << agent::form_type_name(t);
    EXPECT_EQ(back, t);
  }
  FormType keep = FormType::Result;
  EXPECT_FALSE(agent::parse_form_type("Submit", &keep));
  EXPECT_FALSE(agent::parse_form_type(nullptr, &keep));
  EXPECT_EQ(keep, FormType::Result);

  for (const char* name : {"boolean", "fixed", "hidden", "jid-multi", "jid-single", "list-multi", "list-single",
                           "text-multi", "text-private", "text-single"}) {
    FieldType t = FieldType::Fixed;
    ASSERT_TRUE(agent::parse_field_type(name, &t)) << name;
    EXPECT_STREQ(agent::field_type_name(t), name);
  }
  FieldType t = FieldType::Boolean;
  ASSERT_TRUE(agent::parse_field_type(nullptr, &t));  // XEP-0004 §3.3: default text-single
  EXPECT_EQ(t, FieldType::TextSingle);
  t = FieldType::Boolean;
  ASSERT_TRUE(agent::parse_field_type("", &t));
  EXPECT_EQ(t, FieldType::TextSingle);
  EXPECT_FALSE(agent::parse_field_type("text", &t));
}

TEST(FormsModel, BuildAndFind) {
  Form f;
  f.reset(FormType::Submit);
  EXPECT_EQ(f.type(), FormType::Submit);
  ASSERT_EQ(f.set_title("Set"), hal::Err::Ok);
  ASSERT_EQ(f.set_instructions("Pick one"), hal::Err::Ok);
  hal::Result<size_t> i = f.add_field(FieldType::ListSingle, "channel", "Channel", true);
  ASSERT_TRUE(i.ok());
  EXPECT_EQ(i.value(), 0u);
  ASSERT_EQ(f.add_option("Relay", "relay0.state"), hal::Err::Ok);
  ASSERT_EQ(f.add_option(nullptr, "relay1.state"), hal::Err::Ok);
  ASSERT_EQ(f.add_value("relay0.state"), hal::Err::Ok);
  ASSERT_EQ(f.add_field(FieldType::TextMulti, "notes").value_or(99), 1u);
  ASSERT_EQ(f.add_value("line 1"), hal::Err::Ok);
  ASSERT_EQ(f.add_value("line 2"), hal::Err::Ok);
  ASSERT_EQ(f.set_desc("free text"), hal::Err::Ok);

  EXPECT_EQ(f.field_count(), 2u);
  const agent::FormField* ch = f.find("channel");
  ASSERT_NE(ch, nullptr);
  EXPECT_EQ(ch->type(), FieldType::ListSingle);
  EXPECT_STREQ(ch->label(), "Channel");
  EXPECT_TRUE(ch->required());
  ASSERT_EQ(ch->option_count(), 2u);
  EXPECT_STREQ(ch->option(0).label, "Relay");
  EXPECT_STREQ(ch->option(1).label, "");
  EXPECT_STREQ(ch->option(1).value, "relay1.state");
  EXPECT_STREQ(f.value_of("channel"), "relay0.state");
  EXPECT_TRUE(agent::list_allows(*ch, "relay1.state"));
  EXPECT_FALSE(agent::list_allows(*ch, "env0.temperature"));
  EXPECT_FALSE(agent::list_allows(*ch, nullptr));
  const agent::FormField* notes = f.find("notes");
  ASSERT_NE(notes, nullptr);
  ASSERT_EQ(notes->value_count(), 2u);
  EXPECT_STREQ(notes->value(1), "line 2");
  EXPECT_STREQ(notes->desc(), "free text");
  EXPECT_EQ(f.find("nope"), nullptr);
  EXPECT_EQ(f.value_of("nope"), nullptr);
  EXPECT_EQ(f.find(""), nullptr);
  EXPECT_EQ(f.build_error(), hal::Err::Ok);
  EXPECT_STREQ(f.build_error_text(), "");

  // reset() empties it for reuse.
  f.reset(FormType::Result);
  EXPECT_EQ(f.field_count(), 0u);
  EXPECT_EQ(f.arena_used(), 0u);
  EXPECT_STREQ(f.title(), "");
  EXPECT_EQ(f.find("channel"), nullptr);
}

TEST(FormsModel, FixedFieldNeedsNoVarOthersDo) {
  Form f;
  f.reset();
  EXPECT_TRUE(f.add_field(FieldType::Fixed, nullptr).ok());
  EXPECT_EQ(f.add_value("a"), hal::Err::Ok);
  EXPECT_EQ(f.add_value("b"), hal::Err::Ok);  // fixed may hold several lines
  hal::Result<size_t> r = f.add_field(FieldType::TextSingle, "");
  EXPECT_EQ(r.error(), hal::Err::InvalidArgument);
  EXPECT_EQ(f.build_error(), hal::Err::InvalidArgument);
  EXPECT_STREQ(f.build_error_text(), "a text-single field without var");
}

TEST(FormsLimits, TooManyFieldsIsNoSpaceAndLatched) {
  Form f;
  f.reset(FormType::Submit);
  char var[16];
  for (size_t i = 0; i < agent::kFormMaxFields; ++i) {
    std::snprintf(var, sizeof var, "f%zu", i);
    ASSERT_TRUE(f.add_field(FieldType::TextSingle, var).ok()) << i;
  }
  EXPECT_EQ(f.add_field(FieldType::TextSingle, "one-too-many").error(), hal::Err::NoSpace);
  EXPECT_EQ(f.build_error(), hal::Err::NoSpace);
  EXPECT_STREQ(f.build_error_text(), "more than 32 fields");
  // Latched: a value can no longer land on the previous field.
  EXPECT_EQ(f.add_value("x"), hal::Err::NoSpace);
  EXPECT_EQ(f.find("f31")->value_count(), 0u);
  EXPECT_EQ(f.field_count(), agent::kFormMaxFields);
}

TEST(FormsLimits, ValueLengthBoundaryIsExact) {
  Form f;
  f.reset(FormType::Submit);
  ASSERT_TRUE(f.add_field(FieldType::TextMulti, "t").ok());
  const std::string ok(agent::kFormTextMax, 'a');
  EXPECT_EQ(f.add_value(ok.c_str()), hal::Err::Ok);
  EXPECT_EQ(f.find("t")->value(0), ok);  // kept whole, not truncated
  const std::string too_long(agent::kFormTextMax + 1, 'b');
  EXPECT_EQ(f.add_value(too_long.c_str()), hal::Err::Overflow);
  EXPECT_STREQ(f.build_error_text(), "value of field 't' longer than 256 bytes");
  EXPECT_EQ(f.find("t")->value_count(), 1u);
}

TEST(FormsLimits, VarAndLabelLength) {
  Form f;
  f.reset();
  const std::string var(agent::kFormVarMax + 1, 'v');
  EXPECT_EQ(f.add_field(FieldType::TextSingle, var.c_str()).error(), hal::Err::Overflow);
  EXPECT_STREQ(f.build_error_text(), "field var longer than 64 bytes");
  f.reset();
  const std::string label(agent::kFormTextMax + 1, 'l');
  EXPECT_EQ(f.add_field(FieldType::TextSingle, "x", label.c_str()).error(), hal::Err::Overflow);
  f.reset();
  EXPECT_EQ(f.set_title(label.c_str()), hal::Err::Overflow);
  EXPECT_STREQ(f.build_error_text(), "title longer than 256 bytes");
}

TEST(FormsLimits, ArenaFullIsNoSpace) {
  Form f;
  f.reset(FormType::Submit);
  const std::string v(agent::kFormTextMax, 'x');
  hal::Err last = hal::Err::Ok;
  char var[16];
  size_t n = 0;
  for (; n < agent::kFormMaxFields && last == hal::Err::Ok; ++n) {
    std::snprintf(var, sizeof var, "f%zu", n);
    last = f.add_field(FieldType::TextSingle, var).error();
    if (last == hal::Err::Ok) last = f.add_value(v.c_str());
  }
  EXPECT_EQ(last, hal::Err::NoSpace);
  EXPECT_STREQ(f.build_error_text(), "more than 4096 bytes of text");
  EXPECT_LE(f.arena_used(), agent::kFormArenaBytes);
  EXPECT_LT(n, agent::kFormMaxFields);
}

TEST(FormsLimits, ValuesAndOptionsPerField) {
  Form f;
  f.reset(FormType::Submit);
  ASSERT_TRUE(f.add_field(FieldType::ListMulti, "m").ok());
  for (size_t i = 0; i < agent::kFieldMaxValues; ++i) ASSERT_EQ(f.add_value("v"), hal::Err::Ok) << i;
  EXPECT_EQ(f.add_value("v"), hal::Err::NoSpace);
  EXPECT_STREQ(f.build_error_text(), "more than 8 values in field 'm'");

  f.reset(FormType::Form);
  ASSERT_TRUE(f.add_field(FieldType::ListSingle, "l").ok());
  for (size_t i = 0; i < agent::kFieldMaxOptions; ++i) ASSERT_EQ(f.add_option("o", "v"), hal::Err::Ok) << i;
  EXPECT_EQ(f.add_option("o", "v"), hal::Err::NoSpace);
  EXPECT_STREQ(f.build_error_text(), "more than 16 options in field 'l'");

  // Form-wide option table: 3 fields of 16 fill it; the next one overflows.
  f.reset(FormType::Form);
  hal::Err e = hal::Err::Ok;
  for (int fld = 0; fld < 4 && e == hal::Err::Ok; ++fld) {
    char var[16];  // "l" and any int: -O1 (the sanitized pass) checks the bound
    std::snprintf(var, sizeof var, "l%d", fld);
    e = f.add_field(FieldType::ListSingle, var).error();
    for (size_t i = 0; i < agent::kFieldMaxOptions && e == hal::Err::Ok; ++i) e = f.add_option(nullptr, "v");
  }
  EXPECT_EQ(e, hal::Err::NoSpace);
  EXPECT_STREQ(f.build_error_text(), "more than 48 options in the form");
}

TEST(FormsLimits, StructuralErrors) {
  Form f;
  f.reset(FormType::Submit);
  EXPECT_EQ(f.add_value("orphan"), hal::Err::InvalidArgument);
  EXPECT_STREQ(f.build_error_text(), "value outside a field");

  f.reset(FormType::Submit);
  ASSERT_TRUE(f.add_field(FieldType::TextSingle, "a").ok());
  EXPECT_EQ(f.add_field(FieldType::Boolean, "a").error(), hal::Err::InvalidArgument);
  EXPECT_STREQ(f.build_error_text(), "duplicate field 'a'");

  f.reset(FormType::Submit);
  ASSERT_TRUE(f.add_field(FieldType::Boolean, "b").ok());
  ASSERT_EQ(f.add_value("1"), hal::Err::Ok);
  EXPECT_EQ(f.add_value("0"), hal::Err::InvalidArgument);
  EXPECT_STREQ(f.build_error_text(), "more than one value in boolean field 'b'");

  f.reset(FormType::Submit);
  ASSERT_TRUE(f.add_field(FieldType::TextSingle, "t").ok());
  EXPECT_EQ(f.add_option("x", "y"), hal::Err::InvalidArgument);
  EXPECT_STREQ(f.build_error_text(), "option in text-single field 't'");

  f.reset(FormType::Submit);
  ASSERT_TRUE(f.add_field(FieldType::TextSingle, "t").ok());
  EXPECT_EQ(f.add_value("a\0b", 3), hal::Err::InvalidArgument);
  EXPECT_STREQ(f.build_error_text(), "value of field 't' contains a NUL byte");

  f.reset(FormType::Submit);
  f.mark_malformed("field without var");
  f.mark_malformed("second problem");  // only the first is kept
  EXPECT_EQ(f.build_error(), hal::Err::InvalidArgument);
  EXPECT_STREQ(f.build_error_text(), "field without var");
  EXPECT_EQ(f.add_field(FieldType::TextSingle, "x").error(), hal::Err::InvalidArgument);
}

TEST(FormsValues, XepBooleanIsStrict) {
  struct Case {
    const char* in;
    bool ok;
    bool value;
  };
  const Case cases[] = {{"1", true, true},      {"true", true, true},   {"0", true, false},
                        {"false", true, false}, {"TRUE", false, false}, {"yes", false, false},
                        {"", false, false},     {" 1", false, false},   {"10", false, false}};
  for (const Case& c : cases) {
    hal::Result<bool> r = agent::parse_form_bool(c.in);
    EXPECT_EQ(r.ok(), c.ok) << c.in;
    if (c.ok) {
      EXPECT_EQ(r.value(), c.value) << c.in;
    }
  }
  EXPECT_FALSE(agent::parse_form_bool(nullptr).ok());
}

TEST(FormsValues, LooseBooleanForPeople) {
  for (const char* t : {"1", "true", "TRUE", "On", "yes", "YES"}) {
    ASSERT_TRUE(agent::parse_loose_bool(t).ok()) << t;
    EXPECT_TRUE(agent::parse_loose_bool(t).value()) << t;
  }
  for (const char* t : {"0", "false", "Off", "no", "NO"}) {
    ASSERT_TRUE(agent::parse_loose_bool(t).ok()) << t;
    EXPECT_FALSE(agent::parse_loose_bool(t).value()) << t;
  }
  for (const char* t : {"", "2", "onn", "of", "y"}) EXPECT_FALSE(agent::parse_loose_bool(t).ok()) << t;
  EXPECT_FALSE(agent::parse_loose_bool(nullptr).ok());
}

TEST(FormsValues, DecimalTable) {
  struct Case {
    const char* in;
    int64_t mantissa;
    int exponent;
  };
  const Case good[] = {
      {"21.5", 215, -1},  {"-3", -3, 0},      {"1e3", 1, 3},       {"2.50", 250, -2},
      {".5", 5, -1},      {"1.", 1, 0},       {"+7", 7, 0},        {"0.05", 5, -2},
      {"  42 ", 42, 0},   {"\t-0.125", -125, -3}, {"1.5E-2", 15, -3}, {"0", 0, 0},
      {"-0.0", 0, -1},    {"007", 7, 0},      {"9223372036854775807", INT64_MAX, 0},
      {"12e+2", 12, 2},
  };
  for (const Case& c : good) {
    hal::Result<drv::Value> r = agent::parse_decimal(c.in);
    ASSERT_TRUE(r.ok()) << c.in;
    EXPECT_EQ(r.value().type, drv::ValueType::Numeric) << c.in;
    EXPECT_EQ(r.value().mantissa, c.mantissa) << c.in;
    EXPECT_EQ(r.value().exponent, c.exponent) << c.in;
  }
  for (const char* bad : {"", " ", ".", "-", "+", "1e", "1e+", "abc", "1,5", "0x10", "inf", "nan", "1.2.3",
                          "--1", "1 2", "e3", "12a"}) {
    EXPECT_EQ(agent::parse_decimal(bad).error(), hal::Err::InvalidArgument) << "'" << bad << "'";
  }
  EXPECT_EQ(agent::parse_decimal(nullptr).error(), hal::Err::InvalidArgument);
  // Out of range: too many significant digits, exponent beyond int8.
  EXPECT_EQ(agent::parse_decimal("9223372036854775808").error(), hal::Err::Overflow);
  EXPECT_EQ(agent::parse_decimal("1e200").error(), hal::Err::Overflow);
  EXPECT_EQ(agent::parse_decimal("1e-200").error(), hal::Err::Overflow);
  EXPECT_EQ(agent::parse_decimal("1e99999999999").error(), hal::Err::Overflow);
}

TEST(FormsValues, ScaledDecimals) {
  auto scaled = [](const char* text, int scale) { return agent::decimal_to_scaled(agent::parse_decimal(text).value(), scale); };
  EXPECT_EQ(scaled("0.05", 3).value(), 50);
  EXPECT_EQ(scaled("10", 3).value(), 10000);
  EXPECT_EQ(scaled("1.5", 3).value(), 1500);
  EXPECT_EQ(scaled("1e2", 0).value(), 100);
  EXPECT_EQ(scaled("2.000", 0).value(), 2);  // trailing zeros are not extra precision
  EXPECT_EQ(scaled("0", 3).value(), 0);
  EXPECT_EQ(scaled("0.0005", 3).error(), hal::Err::InvalidArgument);
  EXPECT_EQ(scaled("2.5", 0).error(), hal::Err::InvalidArgument);
  EXPECT_EQ(scaled("1e20", 3).error(), hal::Err::Overflow);
  EXPECT_EQ(agent::decimal_to_scaled(drv::Value::boolean(true), 0).error(), hal::Err::InvalidArgument);
}

TEST(FormsXml, ExactSerialisation) {
  Form f;
  f.reset(FormType::Form);
  ASSERT_EQ(f.set_title("Set an actuator"), hal::Err::Ok);
  ASSERT_TRUE(f.add_field(FieldType::ListSingle, "channel", "Channel", true).ok());
  ASSERT_EQ(f.add_option("relay0.state (boolean)", "relay0.state"), hal::Err::Ok);
  ASSERT_EQ(f.add_value("relay0.state"), hal::Err::Ok);
  ASSERT_TRUE(f.add_field(FieldType::Fixed, nullptr).ok());
  ASSERT_EQ(f.add_value("note"), hal::Err::Ok);
  ASSERT_TRUE(f.add_field(FieldType::Boolean, "confirm").ok());
  EXPECT_EQ(xml_of(f),
            "<x xmlns='jabber:x:data' type='form'><title>Set an actuator</title>"
            "<field var='channel' type='list-single' label='Channel'><required/><value>relay0.state</value>"
            "<option label='relay0.state (boolean)'><value>relay0.state</value></option></field>"
            "<field type='fixed'><value>note</value></field>"
            "<field var='confirm' type='boolean'></field></x>");
}

TEST(FormsXml, EverythingIsEscaped) {
  Form f;
  f.reset(FormType::Result);
  const char* nasty = "a'b\"c<d>e&f\ng";
  ASSERT_EQ(f.set_title(nasty), hal::Err::Ok);
  ASSERT_EQ(f.set_instructions("</x><evil/>"), hal::Err::Ok);
  ASSERT_TRUE(f.add_field(FieldType::ListMulti, "v'ar", nasty).ok());
  ASSERT_EQ(f.set_desc("<desc>"), hal::Err::Ok);
  ASSERT_EQ(f.add_value(nasty), hal::Err::Ok);
  ASSERT_EQ(f.add_option(nasty, "o&v"), hal::Err::Ok);
  const std::string esc = "a&apos;b&quot;c&lt;d&gt;e&amp;f&#10;g";
  EXPECT_EQ(xml_of(f), "<x xmlns='jabber:x:data' type='result'><title>" + esc +
                           "</title><instructions>&lt;/x&gt;&lt;evil/&gt;</instructions>"
                           "<field var='v&apos;ar' type='list-multi' label='" + esc +
                           "'><desc>&lt;desc&gt;</desc><value>" + esc + "</value><option label='" + esc +
                           "'><value>o&amp;v</value></option></field></x>");
}

TEST(FormsXml, SmallBufferIsOverflowNotATruncatedSuccess) {
  Form f;
  f.reset(FormType::Submit);
  ASSERT_TRUE(f.add_field(FieldType::TextSingle, "value").ok());
  ASSERT_EQ(f.add_value("1"), hal::Err::Ok);
  const size_t len = agent::form_xml_len(f);
  std::vector<char> buf(len);  // one byte short (no room for the NUL)
  EXPECT_EQ(agent::format_form_xml(buf.data(), buf.size(), f).error(), hal::Err::Overflow);
  EXPECT_EQ(buf[buf.size() - 1], '\0');
  buf.resize(len + 1);
  EXPECT_EQ(agent::format_form_xml(buf.data(), buf.size(), f).value_or(0), len);
  EXPECT_EQ(xml_of(f), "<x xmlns='jabber:x:data' type='submit'><field var='value' type='text-single'>"
                       "<value>1</value></field></x>");
}

}  // namespace

// agent/senml + agent/xml_text: exact decimal text, base names, SenML XML
// records and batches, escaping, buffer bounds.
#include "agent/senml.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <climits>
#include <cstring>
#include <string>
#include <vector>

#include "agent/xml_text.hpp"

namespace {

using agent::Sample;
using agent::Snapshot;
using drv::Value;

struct DecimalCase {
  int64_t mantissa;
  int8_t exponent;
  const char* text;
};

class FormatDecimal : public ::testing::TestWithParam<DecimalCase> {};

TEST_P(FormatDecimal, ExactText) {
  const DecimalCase& c = GetParam();
  char buf[64];
  const hal::Result<size_t> r = agent::format_decimal(buf, sizeof buf, c.mantissa, c.exponent);
  ASSERT_TRUE(r.ok());
  EXPECT_STREQ(buf, c.text);
  EXPECT_EQ(r.value(), std::strlen(c.text));
  EXPECT_LE(r.value(), 39u);
  // Exactly enough room works; one byte less overflows.
  std::vector<char> exact(r.value() + 1);
  EXPECT_TRUE(agent::format_decimal(exact.data(), exact.size(), c.mantissa, c.exponent).ok());
  EXPECT_EQ(agent::format_decimal(exact.data(), exact.size() - 1, c.mantissa, c.exponent).error(),
            hal::Err::Overflow);
}

INSTANTIATE_TEST_SUITE_P(
    Table, FormatDecimal,
    ::testing::Values(DecimalCase{2154, -2, "21.54"}, DecimalCase{-5, -1, "-0.5"}, DecimalCase{12, 2, "1200"},
                      DecimalCase{401, -1, "40.1"}, DecimalCase{0, 0, "0"}, DecimalCase{0, -2, "0.00"},
                      DecimalCase{0, 5, "0"}, DecimalCase{250, -2, "2.50"}, DecimalCase{-2154, -2, "-21.54"},
                      DecimalCase{5, -3, "0.005"}, DecimalCase{-5, -3, "-0.005"}, DecimalCase{123, 0, "123"},
                      DecimalCase{-1, 0, "-1"}, DecimalCase{9999, -4, "0.9999"}, DecimalCase{10000, -4, "1.0000"},
                      DecimalCase{101325, 0, "101325"}, DecimalCase{1, 18, "1000000000000000000"},
                      DecimalCase{1, -18, "0.000000000000000001"}, DecimalCase{1, 19, "1e19"},
                      DecimalCase{2154, -30, "2154e-30"}, DecimalCase{-7, 127, "-7e127"},
                      DecimalCase{-7, -128, "-7e-128"}, DecimalCase{0, -30, "0"},
                      DecimalCase{INT64_MAX, 0, "9223372036854775807"},
                      DecimalCase{INT64_MIN, 0, "-9223372036854775808"},
                      DecimalCase{INT64_MIN, -18, "-9.223372036854775808"},
                      DecimalCase{INT64_MIN, -19, "-9223372036854775808e-19"},
                      DecimalCase{INT64_MIN, 18, "-9223372036854775808000000000000000000"}));

TEST(FormatSeconds, DropsTrailingZeros) {
  const struct {
    int64_t us;
    const char* text;
  } cases[] = {{1763900000250000, "1763900000.25"}, {1763900000000000, "1763900000"},
               {1763900000000001, "1763900000.000001"}, {1, "0.000001"}, {0, "0"},
               {-1500000, "-1.5"}, {123456, "0.123456"}, {10000000, "10"}, {-10, "-0.00001"}};
  for (const auto& c : cases) {
    char buf[32];
    ASSERT_TRUE(agent::format_seconds_us(buf, sizeof buf, c.us).ok()) << c.us;
    EXPECT_STREQ(buf, c.text) << c.us;
  }
}

TEST(SenmlBaseName, Sanitises) {
  const struct {
    const char* id;
    const char* bn;
  } cases[] = {{"dev1@localhost", "dev1_localhost:"},
               {"dev1", "dev1:"},
               {"a b/c", "a_b/c:"},
               {"d\xC3\xA9v@x", "d__v_x:"},
               {"-dev@x", "x-dev_x:"},
               {"_dev", "x_dev:"},
               {"", "x:"},
               {"Dev-1.2:3_4", "Dev-1.2:3_4:"}};
  for (const auto& c : cases) {
    char buf[64];
    ASSERT_TRUE(agent::senml_base_name(buf, sizeof buf, c.id).ok()) << c.id;
    EXPECT_STREQ(buf, c.bn) << c.id;
  }
  char small[5];
  EXPECT_EQ(agent::senml_base_name(small, sizeof small, "dev1@x").error(), hal::Err::Overflow);
}

TEST(XmlEscape, Table) {
  const struct {
    const char* in;
    const char* out;
  } cases[] = {
      {"plain", "plain"},
      {"a<b>&'\"", "a&lt;b&gt;&amp;&apos;&quot;"},
      {"tab\tnl\ncr\r", "tab&#9;nl&#10;cr&#13;"},
      {"bell\x07", "bell?"},
      {"\x7f", "\x7f"},
      {"caf\xC3\xA9", "caf\xC3\xA9"},
      {"\xE2\x82\xAC euro", "\xE2\x82\xAC euro"},
      {"\xF0\x9F\x98\x80", "\xF0\x9F\x98\x80"},
      {"bad \xC3", "bad ?"},
      {"overlong \xC0\x80", "overlong ??"},
      {"surrogate \xED\xA0\x80", "surrogate ???"},
      {"too big \xF4\x90\x80\x80", "too big ????"},
      {"lone \x80 cont", "lone ? cont"},
  };
  for (const auto& c : cases) {
    char buf[64];
    const hal::Result<size_t> r = agent::xml_escape(buf, sizeof buf, c.in);
    ASSERT_TRUE(r.ok()) << c.in;
    EXPECT_STREQ(buf, c.out) << c.in;
    EXPECT_EQ(agent::xml_escaped_len(c.in), std::strlen(c.out)) << c.in;
  }
  char small[6];
  EXPECT_EQ(agent::xml_escape(small, sizeof small, "a&b").error(), hal::Err::Overflow);
  EXPECT_STREQ(small, "a");  // truncated, still terminated
  char limited[16];
  ASSERT_TRUE(agent::xml_escape(limited, sizeof limited, "abcdef", 3).ok());
  EXPECT_STREQ(limited, "abc");
}

Value num(int64_t m, int8_t e) { return Value::numeric(m, e); }
Value text(const char* s) {
  Value v;
  v.type = drv::ValueType::String;
  const size_t n = std::min(std::strlen(s), sizeof v.text - 1);
  std::memcpy(v.text, s, n);
  v.text[n] = '\0';
  return v;
}

std::string xml(const char* bn, const std::vector<Snapshot>& snaps, size_t cap = 4096) {
  std::vector<char> buf(cap);
  const hal::Result<size_t> r = agent::format_senml_xml(buf.data(), buf.size(), bn, snaps.data(), snaps.size());
  if (!r.ok()) return std::string("error: ") + hal::err_name(r.error());
  EXPECT_EQ(r.value(), std::strlen(buf.data()));
  return std::string(buf.data(), r.value());
}

TEST(SenmlXml, DesignExample) {
  const Sample s[] = {{"env0.temperature", "Cel", num(2154, -2)},
                      {"env0.humidity", "%RH", num(401, -1)},
                      {"relay0.state", "", Value::boolean(true)}};
  const std::vector<Snapshot> snaps = {{hal::WallTime{1763900000250000}, s, 3}};
  EXPECT_EQ(xml("dev1:", snaps),
            "<sensml xmlns='urn:ietf:params:xml:ns:senml'>"
            "<senml bn='dev1:' bt='1763900000.25' n='env0.temperature' u='Cel' v='21.54'/>"
            "<senml n='env0.humidity' u='%RH' v='40.1'/>"
            "<senml n='relay0.state' vb='true'/>"
            "</sensml>");
}

TEST(SenmlXml, ValueKindsAndEscaping) {
  const Sample s[] = {{"a.neg", "Cel", num(-273, 0)},
                      {"a.zero", "W", num(0, -1)},
                      {"a.big", "Pa", num(5, 40)},
                      {"a.off", nullptr, Value::boolean(false)},
                      {"a.txt", "", text("<ok & 'fine'>")},
                      {"a<b", "u&v", num(1, 0)}};
  const std::vector<Snapshot> snaps = {{hal::WallTime{1000000}, s, 6}};
  EXPECT_EQ(xml("d:", snaps),
            "<sensml xmlns='urn:ietf:params:xml:ns:senml'>"
            "<senml bn='d:' bt='1' n='a.neg' u='Cel' v='-273'/>"
            "<senml n='a.zero' u='W' v='0.0'/>"
            "<senml n='a.big' u='Pa' v='5e40'/>"
            "<senml n='a.off' vb='false'/>"
            "<senml n='a.txt' vs='&lt;ok &amp; &apos;fine&apos;&gt;'/>"
            "<senml n='a&lt;b' u='u&amp;v' v='1'/>"
            "</sensml>");
}

TEST(SenmlXml, BatchUsesRelativeTime) {
  const Sample a[] = {{"env0.temperature", "Cel", num(2154, -2)}, {"relay0.state", "", Value::boolean(false)}};
  const Sample b[] = {{"env0.temperature", "Cel", num(2160, -2)}, {"relay0.state", "", Value::boolean(true)}};
  const Sample c[] = {{"env0.temperature", "Cel", num(2171, -2)}};
  const Sample d[] = {{"env0.temperature", "Cel", num(2100, -2)}};
  const std::vector<Snapshot> snaps = {{hal::WallTime{1763900000250000}, a, 2},
                                       {hal::WallTime{1763900010750000}, b, 2},
                                       {hal::WallTime{1763900020250000}, c, 1},
                                       {hal::WallTime{1763900000150000}, d, 1}};  // clock stepped back
  EXPECT_EQ(xml("dev1_localhost:", snaps),
            "<sensml xmlns='urn:ietf:params:xml:ns:senml'>"
            "<senml bn='dev1_localhost:' bt='1763900000.25' n='env0.temperature' u='Cel' v='21.54'/>"
            "<senml n='relay0.state' vb='false'/>"
            "<senml n='env0.temperature' t='10.5' u='Cel' v='21.60'/>"
            "<senml n='relay0.state' t='10.5' vb='true'/>"
            "<senml n='env0.temperature' t='20' u='Cel' v='21.71'/>"
            "<senml n='env0.temperature' t='-0.1' u='Cel' v='21.00'/>"
            "</sensml>");
}

TEST(SenmlXml, EmptySnapshotsSkipped) {
  const Sample b[] = {{"x.y", "", num(1, 0)}};
  const std::vector<Snapshot> snaps = {{hal::WallTime{5000000}, nullptr, 0}, {hal::WallTime{7000000}, b, 1}};
  EXPECT_EQ(xml("d:", snaps),
            "<sensml xmlns='urn:ietf:params:xml:ns:senml'><senml bn='d:' bt='7' n='x.y' v='1'/></sensml>");
}

TEST(SenmlXml, InvalidArguments) {
  char buf[256];
  EXPECT_EQ(agent::format_senml_xml(buf, sizeof buf, "d:", nullptr, 0).error(), hal::Err::InvalidArgument);
  const Snapshot empty[] = {{hal::WallTime{1}, nullptr, 0}};
  EXPECT_EQ(agent::format_senml_xml(buf, sizeof buf, "d:", empty, 1).error(), hal::Err::InvalidArgument);
  const Sample s[] = {{nullptr, "", num(1, 0)}};
  const Snapshot bad[] = {{hal::WallTime{1}, s, 1}};
  EXPECT_EQ(agent::format_senml_xml(buf, sizeof buf, "d:", bad, 1).error(), hal::Err::InvalidArgument);
  const Sample ok[] = {{"a.b", "", num(1, 0)}};
  const Snapshot good[] = {{hal::WallTime{1}, ok, 1}};
  EXPECT_EQ(agent::format_senml_xml(buf, sizeof buf, nullptr, good, 1).error(), hal::Err::InvalidArgument);
}

TEST(SenmlXml, OverflowAtEveryShortCapacity) {
  const Sample s[] = {{"env0.temperature", "Cel", num(2154, -2)}, {"relay0.state", "", Value::boolean(true)}};
  const Snapshot snaps[] = {{hal::WallTime{1763900000250000}, s, 2}, {hal::WallTime{1763900001250000}, s, 2}};
  char full[512];
  const hal::Result<size_t> r = agent::format_senml_xml(full, sizeof full, "dev1:", snaps, 2);
  ASSERT_TRUE(r.ok());
  for (size_t cap = 0; cap <= r.value(); ++cap) {
    std::vector<char> buf(cap + 1, '#');
    EXPECT_EQ(agent::format_senml_xml(cap == 0 ? nullptr : buf.data(), cap, "dev1:", snaps, 2).error(),
              hal::Err::Overflow)
        << cap;
    EXPECT_EQ(buf[cap], '#') << "wrote past cap " << cap;
  }
  std::vector<char> exact(r.value() + 1);
  EXPECT_TRUE(agent::format_senml_xml(exact.data(), exact.size(), "dev1:", snaps, 2).ok());
}

TEST(SenmlXml, BoundCoversWorstCaseValues) {
  Value worst_text = text("\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"");
  ASSERT_EQ(std::strlen(worst_text.text), 23u);
  const Sample shape[] = {{"env0.temperature", "Cel", num(0, 0)},
                          {"relay0.state", "", Value::boolean(false)},
                          {"sys0.name", "", text("")}};
  const Sample worst[] = {{"env0.temperature", "Cel", num(INT64_MIN, 18)},
                          {"relay0.state", "", Value::boolean(false)},
                          {"sys0.name", "", worst_text}};
  const char* bn = "a_very_long_device_name_localhost:";
  std::vector<Snapshot> snaps;
  for (int i = 0; i < 5; ++i) snaps.push_back(Snapshot{hal::WallTime{INT64_MIN / 2 + i * 999999}, worst, 3});
  const size_t bound = agent::senml_xml_bound(bn, shape, 3, snaps.size());
  std::vector<char> buf(bound);
  const hal::Result<size_t> r = agent::format_senml_xml(buf.data(), buf.size(), bn, snaps.data(), snaps.size());
  ASSERT_TRUE(r.ok());
  EXPECT_LT(r.value(), bound);
}

}  // namespace

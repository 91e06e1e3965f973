// SenML resolution (RFC 8428 §4) and the watch output formats.
#include "fleet/senml.hpp"

#include <gtest/gtest.h>

#include "fleet/error.hpp"
#include "fleet/xml.hpp"

namespace fleet {
namespace {

constexpr int64_t kNow = 1763900100000000;  // 2025-11-23T12:15:00Z

std::vector<Reading> parse(const std::string& xml) { return parse_telemetry_payload(parse_xml(xml), kNow); }

TEST(SenmlXml, DesignExampleResolvesBaseNameTimeAndValues) {
  auto rs = parse(
      "<sensml xmlns='urn:ietf:params:xml:ns:senml'>"
      "<senml bn='dev1_localhost:' bt='1763900000.25' n='env0.temperature' u='Cel' v='21.54'/>"
      "<senml n='env0.humidity' u='%RH' v='40.1'/>"
      "<senml n='relay0.state' vb='true'/>"
      "<senml n='sys0.host' vs='board &amp; co'/>"
      "</sensml>");
  ASSERT_EQ(rs.size(), 4u);
  EXPECT_EQ(rs[0].name, "env0.temperature");
  EXPECT_EQ(rs[0].unit, "Cel");
  EXPECT_EQ(rs[0].number, "21.54");
  EXPECT_EQ(rs[0].time_us, 1763900000250000);
  EXPECT_EQ(rs[1].name, "env0.humidity");
  EXPECT_EQ(rs[1].number, "40.1");
  EXPECT_EQ(rs[1].time_us, 1763900000250000);  // bt applies to later records
  EXPECT_EQ(rs[2].kind, Reading::Kind::Boolean);
  EXPECT_TRUE(rs[2].boolean);
  EXPECT_EQ(rs[2].unit, "");
  EXPECT_EQ(rs[3].kind, Reading::Kind::String);
  EXPECT_EQ(rs[3].text, "board & co");
}

TEST(SenmlXml, RelativeTimesInABatch) {
  auto rs = parse(
      "<sensml xmlns='urn:ietf:params:xml:ns:senml'>"
      "<senml bn='dev1:' bt='1763900000.25' n='a' v='1'/>"
      "<senml n='a' t='10' v='2'/>"
      "<senml n='a' t='-0.5' v='3'/>"
      "</sensml>");
  ASSERT_EQ(rs.size(), 3u);
  EXPECT_EQ(rs[1].time_us, 1763900010250000);
  EXPECT_EQ(rs[2].time_us, 1763899999750000);
}

TEST(SenmlXml, TimeBelow2To28IsRelativeToNow) {
  auto rs = parse("<sensml xmlns='urn:ietf:params:xml:ns:senml'><senml n='a' v='1'/>"
                  "<senml n='b' t='-5' v='1'/></sensml>");
  EXPECT_EQ(rs[0].time_us, kNow);
  EXPECT_EQ(rs[1].time_us, kNow - 5000000);
}

TEST(SenmlXml, ForeignBaseNamesStayPartOfTheName) {
  auto rs = parse("<sensml xmlns='urn:ietf:params:xml:ns:senml'>"
                  "<senml bn='urn:dev:ow:10e2073a01080063:' n='temp' v='1'/></sensml>");
  EXPECT_EQ(rs[0].name, "urn:dev:ow:10e2073a01080063:temp");
  auto only_bn = parse("<sensml xmlns='urn:ietf:params:xml:ns:senml'><senml bn='dev1:' v='1'/></sensml>");
  EXPECT_EQ(only_bn[0].name, "dev1:");
}

TEST(SenmlXml, BaseValueBaseUnitAndSum) {
  auto rs = parse("<sensml xmlns='urn:ietf:params:xml:ns:senml'>"
                  "<senml bn='d:' bu='W' bv='100' n='p' v='0.5'/>"
                  "<senml n='q' u='V' v='-1'/>"
                  "<senml n='e' s='42'/></sensml>");
  EXPECT_EQ(rs[0].number, "100.5");
  EXPECT_EQ(rs[0].unit, "W");
  EXPECT_EQ(rs[1].number, "99");
  EXPECT_EQ(rs[1].unit, "V");
  EXPECT_EQ(rs[2].number, "42");
}

TEST(SenmlXml, KeepsExactDecimalsAndNormalisesNonJsonNumbers) {
  auto rs = parse("<sensml xmlns='urn:ietf:params:xml:ns:senml'>"
                  "<senml n='a' v='2.50'/><senml n='b' v='2154e-30'/><senml n='c' v='+5'/>"
                  "<senml n='d' v='.5'/><senml n='e' v=' 7 '/></sensml>");
  EXPECT_EQ(rs[0].number, "2.50");
  EXPECT_EQ(rs[1].number, "2154e-30");
  EXPECT_EQ(rs[2].number, "5");
  EXPECT_EQ(rs[3].number, "0.5");
  EXPECT_EQ(rs[4].number, "7");
}

TEST(SenmlXml, RefusesBadPacksWithTheRecordNamed) {
  const char* bad[] = {
      "<sensml xmlns='urn:ietf:params:xml:ns:senml'><senml n='a' v='abc'/></sensml>",
      "<sensml xmlns='urn:ietf:params:xml:ns:senml'><senml n='a' v='INF'/></sensml>",
      "<sensml xmlns='urn:ietf:params:xml:ns:senml'><senml n='a'/></sensml>",
      "<sensml xmlns='urn:ietf:params:xml:ns:senml'><senml n='a' v='1' vb='true'/></sensml>",
      "<sensml xmlns='urn:ietf:params:xml:ns:senml'><senml n='a' vb='maybe'/></sensml>",
      "<sensml xmlns='urn:ietf:params:xml:ns:senml'><senml v='1'/></sensml>",
      "<sensml xmlns='urn:ietf:params:xml:ns:senml'><senml n='bad name' v='1'/></sensml>",
      "<sensml xmlns='urn:ietf:params:xml:ns:senml'><senml n='a' bt='x' v='1'/></sensml>",
      "<sensml xmlns='urn:ietf:params:xml:ns:senml'><senml n='a' v='1' foo_='1'/></sensml>",
      "<sensml xmlns='urn:ietf:params:xml:ns:senml'></sensml>",
      "<sensml xmlns='urn:example:other'><senml n='a' v='1'/></sensml>",
      "<senml-pb xmlns='urn:xiot:senml-pb:0'>!!!notbase64</senml-pb>",
  };
  for (const char* xml : bad) {
    EXPECT_THROW(parse(xml), SenmlError) << xml;
  }
  try {
    parse("<sensml xmlns='urn:ietf:params:xml:ns:senml'><senml n='a' v='1'/><senml n='b' v='x'/></sensml>");
    FAIL();
  } catch (const SenmlError& e) {
    EXPECT_STREQ(e.what(), "record 2: v='x' is not a number");
  }
}

TEST(SenmlPb, DecodesTheWireFormatExample) {
  // docs/wire-format.md: the first SenML XML example as <senml-pb/>.
  auto rs = parse(
      "<senml-pb xmlns='urn:xiot:senml-pb:0'>CjgKD2RldjFfbG9jYWxob3N0OhCgovmOv5CiBhoQZW52MC50ZW1wZXJh"
      "dHVyZSIDQ2VsKgUI1CEQAwobGg1lbnYwLmh1bWlkaXR5IgMlUkgqBQiiBhABChAaDHJlbGF5MC5zdGF0ZTAB</senml-pb>");
  ASSERT_EQ(rs.size(), 3u);
  EXPECT_EQ(rs[0].name, "env0.temperature");
  EXPECT_EQ(rs[0].number, "21.54");
  EXPECT_EQ(rs[0].unit, "Cel");
  EXPECT_EQ(rs[0].time_us, 1763900000250000);
  EXPECT_EQ(rs[1].number, "40.1");
  EXPECT_EQ(rs[2].kind, Reading::Kind::Boolean);
  EXPECT_TRUE(rs[2].boolean);
}

TEST(SenmlPb, ColumnarFormReadsLikeTheXmlBatch) {
  // docs/wire-format.md "Two forms of a Pack": the three-snapshot batch,
  // columnar, gives xiotctl exactly the readings of its SenML XML.
  const auto pb = parse(
      "<senml-pb xmlns='urn:xiot:senml-pb:0'>Eg9kZXYxX2xvY2FsaG9zdDoYoKL5jr+QogYiCIDaxAmA2sQJKh8KEGVudjAudGVt"
      "cGVyYXR1cmUSA0NlbBgDIgTUIQwAKhMKDHJlbGF5MC5zdGF0ZSoDAQEA</senml-pb>");
  const auto xml = parse(
      "<sensml xmlns='urn:ietf:params:xml:ns:senml'>"
      "<senml bn='dev1_localhost:' bt='1763900000.25' n='env0.temperature' u='Cel' v='21.54'/>"
      "<senml n='relay0.state' vb='true'/>"
      "<senml n='env0.temperature' t='10' u='Cel' v='21.60'/>"
      "<senml n='relay0.state' t='10' vb='true'/>"
      "<senml n='env0.temperature' t='20' u='Cel' v='21.60'/>"
      "<senml n='relay0.state' t='20' vb='false'/>"
      "</sensml>");
  ASSERT_EQ(pb.size(), 6u);
  ASSERT_EQ(xml.size(), 6u);
  for (size_t i = 0; i < pb.size(); ++i) {
    EXPECT_EQ(format_reading_line(pb[i]), format_reading_line(xml[i])) << i;
    EXPECT_EQ(format_reading_json(pb[i]), format_reading_json(xml[i])) << i;
  }
  EXPECT_EQ(pb[4].number, "21.60");
  EXPECT_EQ(pb[4].time_us, 1763900020250000);
  EXPECT_FALSE(pb[5].boolean);
}

TEST(Format, TimeIsUtcWithMilliseconds) {
  EXPECT_EQ(format_time_ms(1763900000250000), "2025-11-23T12:13:20.250Z");
  EXPECT_EQ(format_time_ms(1763900000250999), "2025-11-23T12:13:20.250Z");
  EXPECT_EQ(format_time_ms(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(format_time_ms(-1), "1969-12-31T23:59:59.999Z");
}

TEST(Format, HumanLine) {
  Reading r;
  r.device = "dev1@localhost";
  r.item = "7f3a12cd-000042";
  r.name = "env0.temperature";
  r.unit = "Cel";
  r.time_us = 1763900000250000;
  r.number = "21.54";
  EXPECT_EQ(format_reading_line(r), "2025-11-23T12:13:20.250Z dev1@localhost env0.temperature = 21.54 Cel");
  r.kind = Reading::Kind::Boolean;
  r.boolean = false;
  r.unit = "";
  EXPECT_EQ(format_reading_line(r), "2025-11-23T12:13:20.250Z dev1@localhost env0.temperature = false");
  r.kind = Reading::Kind::String;
  r.text = "a \"b\"";
  EXPECT_EQ(format_reading_line(r), "2025-11-23T12:13:20.250Z dev1@localhost env0.temperature = \"a \\\"b\\\"\"");
}

TEST(Format, JsonLine) {
  Reading r;
  r.device = "dev1@localhost";
  r.item = "7f3a12cd-000042";
  r.name = "env0.temperature";
  r.unit = "Cel";
  r.time_us = 1763900000250000;
  r.number = "2.50";
  EXPECT_EQ(format_reading_json(r),
            "{\"device\":\"dev1@localhost\",\"item\":\"7f3a12cd-000042\",\"time\":\"2025-11-23T12:13:20.250Z\","
            "\"name\":\"env0.temperature\",\"value\":2.50,\"unit\":\"Cel\"}");
  r.kind = Reading::Kind::Boolean;
  r.boolean = true;
  r.unit = "";
  EXPECT_EQ(format_reading_json(r),
            "{\"device\":\"dev1@localhost\",\"item\":\"7f3a12cd-000042\",\"time\":\"2025-11-23T12:13:20.250Z\","
            "\"name\":\"env0.temperature\",\"value\":true,\"unit\":null}");
}

TEST(Xml, ParseErrorsAreUsageErrors) { EXPECT_THROW(parse_xml("<a><b></a>"), Error); }

}  // namespace
}  // namespace fleet

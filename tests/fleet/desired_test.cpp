// xiotctl's side of desired state (fleet/desired.hpp): arguments typed by the
// device's channels, the publish payload, the device's report read back and
// printed as text and JSON.
#include "fleet/desired.hpp"

#include <cjson/cJSON.h>
#include <gtest/gtest.h>

#include <memory>
#include <tuple>

#include "fleet/error.hpp"
#include "fleet/xml.hpp"

namespace fleet {
namespace {

DeviceDescription sim() {
  DeviceDescription d;
  for (const auto& [name, kind, type] : {std::tuple<const char*, const char*, const char*>{"env0.temperature", "sensor", "numeric"},
                                         {"relay0.state", "actuator", "boolean"},
                                         {"lcd0.text", "actuator", "string"}}) {
    ChannelInfo c;
    c.name = name;
    c.kind = kind;
    c.type = type;
    d.channels.push_back(c);
  }
  return d;
}

TEST(FleetDesired, ArgumentsAreTypedByTheDevicesChannels) {
  const auto v = parse_desired_args({"relay0.state=on", "relay0.state=maybe", "telemetry.interval_s=5",
                                     "lcd0.text=a=b", "nope0.x=1"},
                                    sim());
  ASSERT_EQ(v.size(), 5u);
  EXPECT_EQ(v[0].attr, "vb");
  EXPECT_EQ(v[0].text, "true");
  EXPECT_EQ(v[1].attr, "vb");
  EXPECT_EQ(v[1].text, "maybe");  // passed on: the device refuses it with set's words
  EXPECT_EQ(v[2].attr, "v");
  EXPECT_EQ(v[3].attr, "vs");
  EXPECT_EQ(v[3].text, "a=b");
  EXPECT_EQ(v[4].attr, "v");
  EXPECT_THROW(parse_desired_args({"relay0.state"}, sim()), Error);
}

TEST(FleetDesired, ThePublishCarriesTheItemTheDeviceReads) {
  const XmlElement p = make_desired_publish({{"relay0.state", "vb", "true"}, {"telemetry.interval_s", "v", "5"}}, "42");
  EXPECT_EQ(to_string(p),
            "<pubsub xmlns='http://jabber.org/protocol/pubsub'><publish node='urn:xiot:desired:0'><item id='current'>"
            "<desired xmlns='urn:xiot:desired:0' version='42'><value n='relay0.state' vb='true'/>"
            "<value n='telemetry.interval_s' v='5'/></desired></item></publish></pubsub>");
}

TEST(FleetDesired, TheReportIsReadAndPrinted) {
  const XmlElement device = parse_xml(
      "<device xmlns='urn:xiot:device:0' board='sim' firmware='0.1.0' boot-id='1' health='healthy'>"
      "<desired item='current' version='42' publisher='ops@localhost' result='partial' applied='1' of='2' "
      "at='1765015200.25'><error n='telemetry.interval_s'>configure needs the owner role (you are operator)</error>"
      "</desired></device>");
  const DesiredReport r = parse_desired_report(device);
  ASSERT_TRUE(r.present);
  EXPECT_EQ(r.result, "partial");
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(format_desired_report_text(r),
            "partial, 1 of 2 applied (version 42, by ops@localhost)\n"
            "  telemetry.interval_s: configure needs the owner role (you are operator)\n");
  const std::string json = format_desired_report_json("dev1@localhost", r);
  std::unique_ptr<cJSON, decltype(&cJSON_Delete)> doc(cJSON_Parse(json.c_str()), &cJSON_Delete);
  ASSERT_TRUE(doc) << json;
  EXPECT_STREQ(cJSON_GetObjectItem(doc.get(), "result")->valuestring, "partial");
  EXPECT_EQ(cJSON_GetObjectItem(doc.get(), "applied")->valueint, 1);
  EXPECT_EQ(cJSON_GetArraySize(cJSON_GetObjectItem(doc.get(), "errors")), 1);

  const DesiredReport none = parse_desired_report(parse_xml("<device xmlns='urn:xiot:device:0'/>"));
  EXPECT_FALSE(none.present);
  EXPECT_EQ(format_desired_report_text(none), "no desired state applied yet\n");
  EXPECT_NE(format_desired_report_json("dev1@localhost", none).find("\"result\":null"), std::string::npos);
}

}  // namespace
}  // namespace fleet

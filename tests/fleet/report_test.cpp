// Device descriptions, PubSub items, and xiotctl's output for devices, info,
// commands and run: human text and --json documents (parsed back with cJSON).
#include "fleet/report.hpp"

#include <cjson/cJSON.h>
#include <gtest/gtest.h>

#include <memory>

#include "fleet/device.hpp"
#include "fleet/error.hpp"
#include "fleet/xml.hpp"

namespace fleet {
namespace {

constexpr int64_t kNow = 1763900100000000;  // 2025-11-23T12:15:00Z

using Json = std::unique_ptr<cJSON, decltype(&cJSON_Delete)>;
Json json(const std::string& text) {
  EXPECT_FALSE(text.empty());
  EXPECT_EQ(text.back(), '\n');
  EXPECT_EQ(text.find('\n'), text.size() - 1) << "one line";
  Json j(cJSON_Parse(text.c_str()), &cJSON_Delete);
  EXPECT_TRUE(j) << text;
  return j;
}
const cJSON* at(const cJSON* o, const char* key) {
  const cJSON* v = cJSON_GetObjectItemCaseSensitive(o, key);
  EXPECT_NE(v, nullptr) << key;
  return v;
}
std::string str(const cJSON* o, const char* key) {
  const cJSON* v = at(o, key);
  return cJSON_IsString(v) ? v->valuestring : "<not a string>";
}

constexpr const char* kDescription =
    "<device xmlns='urn:xiot:device:0' board='sim' firmware='0.1.0' boot-id='7f3a12cd' health='degraded'>"
    "<channel name='env0.temperature' kind='sensor' unit='Cel' type='numeric'/>"
    "<channel name='relay0.state' kind='actuator' type='boolean'/>"
    "<problem>env1 failed: no acknowledge</problem></device>";

TEST(Device, ParsesTheDescription) {
  const DeviceDescription d = parse_device_description(parse_xml(kDescription));
  EXPECT_EQ(d.board, "sim");
  EXPECT_EQ(d.firmware, "0.1.0");
  EXPECT_EQ(d.boot_id, "7f3a12cd");
  EXPECT_EQ(d.health, "degraded");
  ASSERT_EQ(d.channels.size(), 2u);
  EXPECT_EQ(d.channels[0].unit, "Cel");
  EXPECT_EQ(d.channels[1].kind, "actuator");
  EXPECT_EQ(d.channels[1].unit, "");
  EXPECT_EQ(d.problems, std::vector<std::string>{"env1 failed: no acknowledge"});
  EXPECT_THROW(parse_device_description(parse_xml("<device xmlns='urn:other'/>")), Error);
  EXPECT_THROW(parse_device_description(parse_xml("<device xmlns='urn:xiot:device:0'><channel/></device>")), Error);
}

TEST(Device, ItemsRequestsAndResults) {
  EXPECT_EQ(to_string(make_items_request(kDeviceNode, kDeviceItemId, 0)),
            "<pubsub xmlns='http://jabber.org/protocol/pubsub'><items node='urn:xiot:device:0'>"
            "<item id='current'/></items></pubsub>");
  EXPECT_EQ(to_string(make_items_request(kTelemetryNode, "", 1)),
            "<pubsub xmlns='http://jabber.org/protocol/pubsub'><items node='urn:xiot:telemetry:0' max_items='1'/>"
            "</pubsub>");
  const auto items = parse_items_result(
      parse_xml("<pubsub xmlns='http://jabber.org/protocol/pubsub'><items node='urn:xiot:telemetry:0'>"
                "<item id='b1-000002'><sensml xmlns='urn:ietf:params:xml:ns:senml'>"
                "<senml bn='dev1_localhost:' bt='1763900000.25' n='env0.temperature' u='Cel' v='21.54'/>"
                "<senml n='relay0.state' t='10' vb='true'/></sensml></item></items></pubsub>"),
      kTelemetryNode);
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(items[0].id, "b1-000002");
  const Telemetry t = telemetry_from_item(items[0], "dev1@localhost", kNow);
  EXPECT_EQ(t.item, "b1-000002");
  ASSERT_EQ(t.readings.size(), 2u);
  EXPECT_EQ(t.time_us, 1763900010250000);  // the newest reading
  EXPECT_EQ(t.readings[0].device, "dev1@localhost");
  EXPECT_TRUE(parse_items_result(parse_xml("<pubsub xmlns='http://jabber.org/protocol/pubsub'>"
                                           "<items node='other'><item id='x'/></items></pubsub>"),
                                 kTelemetryNode)
                  .empty());
}

TEST(Device, LastActivityAndStates) {
  EXPECT_EQ(parse_last_activity_seconds(parse_xml("<query xmlns='jabber:iq:last' seconds='903'/>")), 903);
  EXPECT_EQ(parse_last_activity_seconds(parse_xml("<query xmlns='jabber:iq:last'/>")), -1);
  EXPECT_EQ(parse_last_activity_seconds(parse_xml("<query xmlns='jabber:iq:last' seconds='x'/>")), -1);
  EXPECT_EQ(state_from_show(""), DeviceState::Online);
  EXPECT_EQ(state_from_show("chat"), DeviceState::Online);
  EXPECT_EQ(state_from_show("away"), DeviceState::Degraded);
  EXPECT_EQ(state_from_show("xa"), DeviceState::Degraded);
  EXPECT_EQ(state_from_show("dnd"), DeviceState::Maintenance);
  EXPECT_STREQ(state_name(DeviceState::Unknown), "unknown");
}

TEST(Report, Ages) {
  EXPECT_EQ(format_age(0), "0 s");
  EXPECT_EQ(format_age(999999), "0 s");
  EXPECT_EQ(format_age(-5000000), "0 s");
  EXPECT_EQ(format_age(42500000), "42 s");
  EXPECT_EQ(format_age(300000000), "5 min");
  EXPECT_EQ(format_age(int64_t{3} * 3600000000 + 300000000), "3 h 05 min");
  EXPECT_EQ(format_age(int64_t{2} * 86400000000 + int64_t{4} * 3600000000), "2 d 04 h");
}

DevicesResult sample_fleet() {
  DevicesResult r;
  DeviceStatus on;
  on.jid = "dev1@localhost";
  on.subscription = "both";
  on.state = DeviceState::Online;
  on.resource = "dev1@localhost/xiot";
  on.status = "sim board, xiot 0.1.0, 9 channels";
  on.last_seen_us = kNow;
  on.last_seen_source = "presence";
  on.description = parse_device_description(parse_xml(kDescription));
  PubsubItem item;
  item.id = "b1-000002";
  item.payload = parse_xml(
      "<sensml xmlns='urn:ietf:params:xml:ns:senml'>"
      "<senml bn='dev1_localhost:' bt='1763900097' n='env0.temperature' u='Cel' v='2.50'/></sensml>");
  item.has_payload = true;
  on.telemetry = telemetry_from_item(item, on.jid, kNow);
  r.devices.push_back(on);

  DeviceStatus deg = on;
  deg.jid = "dev2@localhost";
  deg.state = DeviceState::Degraded;
  deg.resource = "dev2@localhost/xiot";
  deg.show = "away";
  deg.status = "sim board, xiot 0.1.0, 6 channels, degraded: env0 failed: no acknowledge";
  r.devices.push_back(deg);

  DeviceStatus off;
  off.jid = "dev3@localhost";
  off.subscription = "both";
  off.state = DeviceState::Offline;
  off.last_seen_us = kNow - 300000000;
  off.last_seen_source = "telemetry";
  off.description_error = "item-not-found";
  off.telemetry = on.telemetry;
  off.telemetry->time_us = kNow - 300000000;
  r.devices.push_back(off);

  DeviceStatus unk;
  unk.jid = "dev4@localhost";
  unk.subscription = "none";
  unk.ask = true;
  unk.state = DeviceState::Unknown;
  unk.description_error = "our presence subscription is not approved yet";
  unk.telemetry_error = unk.description_error;
  r.devices.push_back(unk);
  return r;
}

TEST(Report, DevicesTable) {
  EXPECT_EQ(format_devices_text(sample_fleet(), kNow),
            "DEVICE          STATE     LAST SEEN  FIRMWARE  CHANNELS  LAST TELEMETRY                        NOTE\n"
            "dev1@localhost  online    now        0.1.0     2         2025-11-23T12:14:57.000Z (3 s ago)\n"
            "dev2@localhost  degraded  now        0.1.0     2         2025-11-23T12:14:57.000Z (3 s ago)    "
            "sim board, xiot 0.1.0, 6 channels, degraded: env0 failed: no acknowledge\n"
            "dev3@localhost  offline   5 min ago  -         -         2025-11-23T12:10:00.000Z (5 min ago)  "
            "description: item-not-found\n"
            "dev4@localhost  unknown   -          -         -         -                                     "
            "our presence subscription is not approved yet\n"
            "4 devices: 1 online, 1 degraded, 1 offline, 1 unknown\n");
  DevicesResult partial = sample_fleet();
  partial.unanswered = 3;
  const std::string text = format_devices_text(partial, kNow);
  EXPECT_NE(text.find("(3 requests unanswered)\n"), std::string::npos) << text;
  EXPECT_EQ(format_devices_text(DevicesResult{}, kNow),
            "DEVICE  STATE  LAST SEEN  FIRMWARE  CHANNELS  LAST TELEMETRY  NOTE\n0 devices: 0 online, 0 offline\n");
}

TEST(Report, AnOfflineDeviceSeenThisSecondIsNotShownAsNow) {
  DevicesResult r;
  DeviceStatus off;
  off.jid = "dev3@localhost";
  off.subscription = "both";
  off.state = DeviceState::Offline;
  off.last_seen_us = kNow - 200000;
  off.last_seen_source = "telemetry";
  off.description_error = "item-not-found";
  off.telemetry_error = "item-not-found";
  r.devices.push_back(off);
  const std::string text = format_devices_text(r, kNow);
  EXPECT_NE(text.find("\ndev3@localhost  offline  0 s ago  "), std::string::npos) << text;
}

TEST(Report, DevicesJson) {
  Json doc = json(format_devices_json(sample_fleet(), "ops@localhost", kNow));
  EXPECT_EQ(str(doc.get(), "operator"), "ops@localhost");
  EXPECT_EQ(str(doc.get(), "time"), "2025-11-23T12:15:00.000Z");
  EXPECT_TRUE(cJSON_IsTrue(at(doc.get(), "complete")));
  const cJSON* counts = at(doc.get(), "counts");
  EXPECT_EQ(at(counts, "total")->valueint, 4);
  EXPECT_EQ(at(counts, "online")->valueint, 1);
  EXPECT_EQ(at(counts, "degraded")->valueint, 1);
  EXPECT_EQ(at(counts, "maintenance")->valueint, 0);
  EXPECT_EQ(at(counts, "offline")->valueint, 1);
  EXPECT_EQ(at(counts, "unknown")->valueint, 1);
  const cJSON* devices = at(doc.get(), "devices");
  ASSERT_EQ(cJSON_GetArraySize(devices), 4);

  const cJSON* d1 = cJSON_GetArrayItem(devices, 0);
  EXPECT_EQ(str(d1, "jid"), "dev1@localhost");
  EXPECT_EQ(str(d1, "state"), "online");
  EXPECT_EQ(str(d1, "resource"), "dev1@localhost/xiot");
  EXPECT_TRUE(cJSON_IsNull(at(d1, "show")));
  EXPECT_TRUE(cJSON_IsNull(at(d1, "name")));
  EXPECT_EQ(str(d1, "last_seen"), "2025-11-23T12:15:00.000Z");
  EXPECT_EQ(str(d1, "last_seen_source"), "presence");
  const cJSON* desc = at(d1, "description");
  EXPECT_EQ(str(desc, "firmware"), "0.1.0");
  EXPECT_EQ(str(desc, "boot_id"), "7f3a12cd");
  EXPECT_EQ(cJSON_GetArraySize(at(desc, "channels")), 2);
  EXPECT_TRUE(cJSON_IsNull(at(cJSON_GetArrayItem(at(desc, "channels"), 1), "unit")));
  EXPECT_TRUE(cJSON_IsNull(at(d1, "description_error")));
  const cJSON* tel = at(d1, "telemetry");
  EXPECT_EQ(str(tel, "item"), "b1-000002");
  EXPECT_EQ(str(tel, "time"), "2025-11-23T12:14:57.000Z");
  EXPECT_DOUBLE_EQ(at(tel, "age_s")->valuedouble, 3.0);
  const cJSON* reading = cJSON_GetArrayItem(at(tel, "readings"), 0);
  EXPECT_EQ(str(reading, "name"), "env0.temperature");
  EXPECT_EQ(str(reading, "unit"), "Cel");
  EXPECT_EQ(cJSON_GetObjectItem(reading, "device"), nullptr);
  EXPECT_NE(format_devices_json(sample_fleet(), "ops@localhost", kNow).find("\"value\":2.50"), std::string::npos)
      << "exact decimal";

  const cJSON* d3 = cJSON_GetArrayItem(devices, 2);
  EXPECT_EQ(str(d3, "state"), "offline");
  EXPECT_TRUE(cJSON_IsNull(at(d3, "resource")));
  EXPECT_TRUE(cJSON_IsNull(at(d3, "description")));
  EXPECT_EQ(str(d3, "description_error"), "item-not-found");
  EXPECT_EQ(str(d3, "last_seen_source"), "telemetry");
  const cJSON* d4 = cJSON_GetArrayItem(devices, 3);
  EXPECT_EQ(str(d4, "state"), "unknown");
  EXPECT_EQ(str(d4, "subscription"), "none");
  EXPECT_TRUE(cJSON_IsNull(at(d4, "telemetry")));
  EXPECT_TRUE(cJSON_IsNull(at(d4, "last_seen")));
}

TEST(Report, Info) {
  const DeviceDescription d = parse_device_description(parse_xml(kDescription));
  EXPECT_EQ(format_info_text("dev1@localhost", d),
            "dev1@localhost\n"
            "  board     sim\n"
            "  firmware  0.1.0\n"
            "  boot id   7f3a12cd\n"
            "  health    degraded\n"
            "  channels  2\n"
            "    env0.temperature  sensor    numeric  Cel  interval\n"
            "    relay0.state      actuator  boolean  -    interval\n"
            "  problems\n"
            "    env1 failed: no acknowledge\n");
  Json doc = json(format_info_json("dev1@localhost", d));
  EXPECT_EQ(doc->child->string, std::string("device"));
  EXPECT_EQ(str(doc.get(), "device"), "dev1@localhost");
  EXPECT_EQ(str(doc.get(), "board"), "sim");
  EXPECT_EQ(str(doc.get(), "health"), "degraded");
  const cJSON* ch = cJSON_GetArrayItem(at(doc.get(), "channels"), 0);
  EXPECT_EQ(str(ch, "name"), "env0.temperature");
  EXPECT_EQ(str(ch, "kind"), "sensor");
  EXPECT_EQ(str(ch, "type"), "numeric");
  EXPECT_EQ(str(ch, "unit"), "Cel");
  EXPECT_STREQ(cJSON_GetArrayItem(at(doc.get(), "problems"), 0)->valuestring, "env1 failed: no acknowledge");
}

TEST(Report, InfoShowsReportPolicies) {
  // A node from before policies existed has no `report`: "interval" (above).
  const DeviceDescription d = parse_device_description(parse_xml(
      "<device xmlns='urn:xiot:device:0' board='sim' firmware='0.1.0' boot-id='7f3a12cd' health='healthy'>"
      "<channel name='env0.temperature' kind='sensor' unit='Cel' type='numeric' report='deadband' deadband='0.2'/>"
      "<channel name='button0.state' kind='sensor' type='boolean' report='on_change'/>"
      "<channel name='env0.humidity' kind='sensor' unit='%RH' type='numeric'/></device>"));
  ASSERT_EQ(d.channels.size(), 3u);
  EXPECT_EQ(d.channels[0].report, "deadband");
  EXPECT_EQ(d.channels[0].deadband, "0.2");
  EXPECT_EQ(d.channels[1].report, "on_change");
  EXPECT_EQ(d.channels[2].report, "interval");
  const std::string text = format_info_text("dev1@localhost", d);
  EXPECT_NE(text.find("    env0.temperature  sensor  numeric  Cel  deadband 0.2\n"), std::string::npos) << text;
  EXPECT_NE(text.find("    button0.state     sensor  boolean  -    on_change\n"), std::string::npos) << text;
  EXPECT_NE(text.find("    env0.humidity     sensor  numeric  %RH  interval\n"), std::string::npos) << text;
  Json doc = json(format_info_json("dev1@localhost", d));
  const cJSON* t = cJSON_GetArrayItem(at(doc.get(), "channels"), 0);
  EXPECT_EQ(str(t, "report"), "deadband");
  EXPECT_DOUBLE_EQ(cJSON_GetNumberValue(at(t, "deadband")), 0.2);
  EXPECT_EQ(str(cJSON_GetArrayItem(at(doc.get(), "channels"), 1), "report"), "on_change");
  EXPECT_EQ(cJSON_GetObjectItem(cJSON_GetArrayItem(at(doc.get(), "channels"), 1), "deadband"), nullptr);
}

TEST(Report, Commands) {
  const std::vector<CommandItem> items = {{"dev1@localhost/xiot", "read", "Read sensors"},
                                          {"dev1@localhost/xiot", "diagnostics", "Diagnostics"}};
  EXPECT_EQ(format_commands_text(items), "read         Read sensors\ndiagnostics  Diagnostics\n");
  EXPECT_EQ(format_commands_text({}), "");
  Json doc = json(format_commands_json("dev1@localhost", "dev1@localhost/xiot", items));
  EXPECT_EQ(str(doc.get(), "jid"), "dev1@localhost/xiot");
  const cJSON* cmds = at(doc.get(), "commands");
  ASSERT_EQ(cJSON_GetArraySize(cmds), 2);
  EXPECT_EQ(str(cJSON_GetArrayItem(cmds, 1), "node"), "diagnostics");
  EXPECT_EQ(str(cJSON_GetArrayItem(cmds, 1), "name"), "Diagnostics");
}

CommandOutcome read_outcome() {
  CommandOutcome o;
  o.jid = "dev1@localhost/xiot";
  o.node = "read";
  o.ok = true;
  o.reply = parse_command_reply(parse_xml(
      "<command xmlns='http://jabber.org/protocol/commands' node='read' sessionid='3-9f' status='completed'>"
      "<note type='warn'>sys0.load: read failed: not supported</note>"
      "<x xmlns='jabber:x:data' type='result'><title>Readings</title>"
      "<field var='env0.temperature' type='text-single' label='env0.temperature (Cel)'><value>21.54</value></field>"
      "<field var='relay0.state' type='boolean' label='relay0.state'><value>0</value></field>"
      "<field var='sys0.load' type='text-single' label='sys0.load (/)'><desc>read failed: not supported</desc>"
      "</field></x></command>"));
  return o;
}

TEST(Report, RunText) {
  EXPECT_EQ(format_run_text(read_outcome()),
            "dev1@localhost/xiot read: completed\n"
            "Readings\n"
            "  env0.temperature (Cel)  21.54\n"
            "  relay0.state            false\n"
            "  sys0.load (/)           -  (read failed: not supported)\n"
            "warning: sys0.load: read failed: not supported\n");
  CommandOutcome set;
  set.jid = "dev1@localhost/xiot";
  set.node = "set";
  set.ok = true;
  set.reply = parse_command_reply(parse_xml("<command xmlns='http://jabber.org/protocol/commands' node='set' "
                                            "sessionid='4-1' status='completed'><note type='info'>relay0.state "
                                            "set to true</note></command>"));
  EXPECT_EQ(format_run_text(set), "dev1@localhost/xiot set: completed\nnote: relay0.state set to true\n");
}

TEST(Report, RunJson) {
  CommandOutcome o = read_outcome();
  o.stages.resize(1);
  Json doc = json(format_run_json("dev1@localhost", o));
  EXPECT_EQ(str(doc.get(), "device"), "dev1@localhost");
  EXPECT_EQ(str(doc.get(), "jid"), "dev1@localhost/xiot");
  EXPECT_EQ(str(doc.get(), "node"), "read");
  EXPECT_EQ(str(doc.get(), "status"), "completed");
  EXPECT_EQ(str(doc.get(), "sessionid"), "3-9f");
  EXPECT_EQ(at(doc.get(), "stages")->valueint, 2);
  EXPECT_EQ(str(cJSON_GetArrayItem(at(doc.get(), "notes"), 0), "type"), "warn");
  const cJSON* values = at(doc.get(), "values");
  EXPECT_EQ(str(values, "env0.temperature"), "21.54");
  EXPECT_TRUE(cJSON_IsFalse(at(values, "relay0.state")));
  EXPECT_TRUE(cJSON_IsNull(at(values, "sys0.load")));
  const cJSON* form = at(doc.get(), "form");
  EXPECT_EQ(str(form, "type"), "result");
  EXPECT_EQ(str(form, "title"), "Readings");
  const cJSON* f0 = cJSON_GetArrayItem(at(form, "fields"), 0);
  EXPECT_EQ(str(f0, "var"), "env0.temperature");
  EXPECT_EQ(str(f0, "label"), "env0.temperature (Cel)");
  EXPECT_STREQ(cJSON_GetArrayItem(at(f0, "values"), 0)->valuestring, "21.54");
  EXPECT_TRUE(cJSON_IsFalse(at(f0, "required")));
  EXPECT_EQ(str(cJSON_GetArrayItem(at(form, "fields"), 2), "desc"), "read failed: not supported");
}

TEST(Report, ErrorJson) {
  StanzaError e;
  e.type = "modify";
  e.condition = "bad-request";
  e.app_condition = "bad-payload";
  e.text = "value: 'maybe' is not a boolean for relay0.state (use true/false, 1/0 or on/off)";
  EXPECT_EQ(e.describe(),
            "bad-request (bad-payload): value: 'maybe' is not a boolean for relay0.state (use true/false, 1/0 or "
            "on/off)");
  Json doc = json(format_error_json("dev1@localhost", "dev1@localhost/xiot", "set", e));
  EXPECT_EQ(str(doc.get(), "node"), "set");
  const cJSON* err = at(doc.get(), "error");
  EXPECT_EQ(str(err, "type"), "modify");
  EXPECT_EQ(str(err, "condition"), "bad-request");
  EXPECT_EQ(str(err, "app_condition"), "bad-payload");
  EXPECT_EQ(str(err, "text"), e.text);
  StanzaError bare;
  bare.condition = "item-not-found";
  EXPECT_EQ(bare.describe(), "item-not-found");
  Json d2 = json(format_error_json("dev1@localhost", "", "", bare));
  EXPECT_TRUE(cJSON_IsNull(at(at(d2.get(), "error"), "app_condition")));
  EXPECT_TRUE(cJSON_IsNull(at(d2.get(), "jid")));
}

}  // namespace
}  // namespace fleet

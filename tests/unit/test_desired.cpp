// Desired state (agent/desired.hpp, agent/xmpp/stanza_desired.hpp): items read
// out of libstrophe stanzas parsed from text (limits and hostile input), and
// applied to the real sim board through the command router: the publisher's
// role, set's validation per value, settings for owners only, idempotence,
// the report. No network, no sleeps.
#include "agent/desired.hpp"

#include <gtest/gtest.h>
#include <strophe.h>

#include <memory>
#include <string>

#include "agent/commands.hpp"
#include "agent/description.hpp"
#include "agent/log.hpp"
#include "agent/xmpp/stanza_desired.hpp"
#include "boards/board.hpp"
#include "hal/sim/manual_clock.hpp"

namespace {

using agent::DesiredItem;
using agent::DesiredResult;
using agent::DesiredType;

const std::string kSimBoard = std::string(XIOT_BOARDS_DIR) + "/sim/board.json";
constexpr hal::WallTime kNow{1765015200250000};  // 1765015200.25

void quiet(void*, agent::LogLevel, const char*, size_t) {}

// ---- reading items --------------------------------------------------------------
class DesiredParse : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { xmpp_initialize(); }
  void SetUp() override { ctx_ = xmpp_ctx_new(nullptr, nullptr); }
  void TearDown() override {
    if (stanza_ != nullptr) xmpp_stanza_release(stanza_);
    xmpp_ctx_free(ctx_);
  }
  void read(const std::string& xml) {
    if (stanza_ != nullptr) xmpp_stanza_release(stanza_);
    stanza_ = xmpp_stanza_new_from_string(ctx_, xml.c_str());
    ASSERT_NE(stanza_, nullptr) << xml;
    agent::desired_from_item(stanza_, &item_);
  }
  static std::string item(const std::string& desired_children, const std::string& attrs = " version='7'",
                          const std::string& publisher = " publisher='ops@localhost'") {
    return "<item xmlns='http://jabber.org/protocol/pubsub#event' id='current'" + publisher +
           "><desired xmlns='urn:xiot:desired:0'" + attrs + ">" + desired_children + "</desired></item>";
  }
  xmpp_ctx_t* ctx_ = nullptr;
  xmpp_stanza_t* stanza_ = nullptr;
  DesiredItem item_;
};

TEST_F(DesiredParse, ReadsIdVersionPublisherAndEveryValueInOrder) {
  read(item("<value n='relay0.state' vb='true'/><other xmlns='urn:x'/><value n='telemetry.interval_s' v='5'/>"
            "<value n='lcd0.text' vs='a&amp;b'/>"));
  EXPECT_STREQ(item_.error, "");
  EXPECT_STREQ(item_.item_id, "current");
  EXPECT_STREQ(item_.version, "7");
  EXPECT_STREQ(item_.publisher, "ops@localhost");
  ASSERT_EQ(item_.count, 3u);
  EXPECT_STREQ(item_.values[0].name, "relay0.state");
  EXPECT_EQ(item_.values[0].type, DesiredType::Boolean);
  EXPECT_STREQ(item_.values[0].text, "true");
  EXPECT_EQ(item_.values[1].type, DesiredType::Numeric);
  EXPECT_STREQ(item_.values[1].text, "5");
  EXPECT_EQ(item_.values[2].type, DesiredType::String);
  EXPECT_STREQ(item_.values[2].text, "a&b");
}

TEST_F(DesiredParse, AFullJidPublisherIsKeptBare) {
  // ejabberd stamps the publisher's full JID.
  read(item("<value n='relay0.state' vb='true'/>", "", " publisher='ops@localhost/commander'"));
  EXPECT_STREQ(item_.error, "");
  EXPECT_STREQ(item_.publisher, "ops@localhost");
}

TEST_F(DesiredParse, NoPublisherLeavesItEmpty) {
  read(item("<value n='relay0.state' vb='true'/>", "", ""));
  EXPECT_STREQ(item_.error, "");
  EXPECT_STREQ(item_.publisher, "");
  EXPECT_STREQ(item_.version, "");
}

TEST_F(DesiredParse, StructuralProblemsRefuseTheWholeItem) {
  read("<item id='current' publisher='ops@localhost'><other xmlns='urn:x'/></item>");
  EXPECT_STREQ(item_.error, "no <desired xmlns='urn:xiot:desired:0'/> in the item");
  read(item("<value vb='true'/>"));
  EXPECT_STREQ(item_.error, "value 1: n required");
  read(item("<value n='relay0.state' vb='true'/><value n='relay0.state'/>"));
  EXPECT_STREQ(item_.error, "value 2 (relay0.state): exactly one of v, vb, vs required");
  read(item("<value n='relay0.state' vb='true' v='1'/>"));
  EXPECT_STREQ(item_.error, "value 1 (relay0.state): exactly one of v, vb, vs required");
  read(item("<value n='relay0.state' vb='true'/>", " version='" + std::string(64, 'x') + "'"));
  EXPECT_STREQ(item_.error, "version longer than 63 bytes");
}

TEST_F(DesiredParse, LimitsOnCountAndSizesAreLatched) {
  std::string many;
  for (size_t i = 0; i <= agent::kDesiredValuesMax; ++i) many += "<value n='relay0.state' vb='true'/>";
  read(item(many));
  EXPECT_STREQ(item_.error, "too many values (at most 32)");
  read(item("<value n='" + std::string(200, 'n') + "' v='1'/>"));
  EXPECT_STREQ(item_.error, "value 1: n longer than 63 bytes");
  // A huge payload: one string value of 100 kB.
  read(item("<value n='lcd0.text' vs='" + std::string(100000, 's') + "'/>"));
  EXPECT_STREQ(item_.error, "lcd0.text: vs longer than 47 bytes");
  read(item("<value n='relay0.state' vb='true'/>", "", " publisher='" + std::string(300, 'p') + "@x'"));
  EXPECT_STREQ(item_.error, "publisher longer than 255 bytes");
  EXPECT_STREQ(item_.publisher, "");
}

// ---- applying items ---------------------------------------------------------------
class Host : public agent::CommandHost {
 public:
  void publish_telemetry_now(const drv::Device&, size_t) override { ++publishes; }
  agent::TelemetrySettings telemetry_settings() override { return settings; }
  hal::Err reconfigure_telemetry(const agent::TelemetrySettings& s) override {
    ++reconfigures;
    settings = s;
    return hal::Err::Ok;
  }
  hal::Err request_reboot(const char*) override { return hal::Err::Ok; }
  void diagnostics(agent::DiagnosticsInfo*) override {}
  int publishes = 0;
  int reconfigures = 0;
  agent::TelemetrySettings settings;
};

class DesiredApply : public ::testing::Test {
 protected:
  void SetUp() override {
    agent::log_set_sink(quiet, nullptr);
    acl_.owners = {"admin@localhost"};
    acl_.operators = {"ops@localhost"};
    acl_.viewers = {"guest@localhost"};
    std::string error;
    board_ = boards::Board::open(kSimBoard.c_str(), clock_, clock_, &error);
    ASSERT_NE(board_, nullptr) << error;
    router_ = std::make_unique<agent::CommandRouter>(acl_, board_->registry(), clock_, rng_, host_, nullptr);
    state_ = std::make_unique<agent::DesiredState>(*router_);
  }
  void TearDown() override { agent::log_set_sink(nullptr, nullptr); }

  DesiredItem& make(const char* publisher, const char* version = "1") {
    item_.reset();
    std::snprintf(item_.item_id, sizeof item_.item_id, "current");
    std::snprintf(item_.version, sizeof item_.version, "%s", version);
    std::snprintf(item_.publisher, sizeof item_.publisher, "%s", publisher);
    return item_;
  }
  bool relay() {
    const hal::Result<drv::ChannelRef> ref = board_->registry().find("relay0.state");
    EXPECT_TRUE(ref.ok());
    return ref.value().device->get(ref.value().index).value().flag;
  }
  std::string report() const { return state_->report_xml(); }

  agent::AclConfig acl_;
  hal::sim::ManualClock clock_;
  agent::Rng rng_{0x5EED};
  Host host_;
  std::unique_ptr<boards::Board> board_;
  std::unique_ptr<agent::CommandRouter> router_;
  std::unique_ptr<agent::DesiredState> state_;
  DesiredItem item_;
};

TEST_F(DesiredApply, OperatorSetsTheRelayAndTheReportSaysOk) {
  ASSERT_FALSE(relay());
  EXPECT_STREQ(state_->report_xml(), "");
  make("ops@localhost").add("relay0.state", DesiredType::Boolean, "true");
  EXPECT_TRUE(state_->apply(item_, kNow));
  EXPECT_TRUE(relay());
  EXPECT_EQ(host_.publishes, 1);
  EXPECT_EQ(state_->last_result(), DesiredResult::Ok);
  EXPECT_EQ(state_->last_changes(), 1u);
  EXPECT_EQ(report(),
            "<desired item='current' version='1' publisher='ops@localhost' result='ok' applied='1' of='1' "
            "at='1765015200.25'></desired>");
}

TEST_F(DesiredApply, ReapplyingTheSameStateTogglesNothingAndReportsNothingNew) {
  make("ops@localhost").add("relay0.state", DesiredType::Boolean, "true");
  ASSERT_TRUE(state_->apply(item_, kNow));
  ASSERT_EQ(host_.publishes, 1);
  // The same item again (every fresh login delivers it), later.
  EXPECT_FALSE(state_->apply(item_, hal::WallTime{kNow.unix_us + 60000000}));
  EXPECT_TRUE(relay());
  EXPECT_EQ(host_.publishes, 1);  // no Device::set, nothing published
  EXPECT_EQ(state_->last_changes(), 0u);
  EXPECT_NE(report().find("at='1765015200.25'"), std::string::npos) << report();
  // Someone switched it off with `set` meanwhile: the desired state wins again,
  // and the report is the same (nothing new to publish for it).
  drv::Value applied;
  agent::CommandError err;
  ASSERT_TRUE(router_->set_channel("ops@localhost", "relay0.state", "false", &applied, &err)) << err.text;
  EXPECT_FALSE(state_->apply(item_, kNow));
  EXPECT_TRUE(relay());
  EXPECT_EQ(state_->last_changes(), 1u);
  // A new version is a new report even when nothing moves.
  make("ops@localhost", "2").add("relay0.state", DesiredType::Boolean, "1");
  EXPECT_TRUE(state_->apply(item_, kNow));
  EXPECT_EQ(state_->last_changes(), 0u);
}

TEST_F(DesiredApply, ARepeatedNameCountsOnlyWithItsLastValue) {
  // Found by fuzz_desired: applying both values in turn moved the setting
  // twice on every re-apply.
  make("admin@localhost");
  item_.add("telemetry.interval_s", DesiredType::Numeric, "2");
  item_.add("relay0.state", DesiredType::Boolean, "true");
  item_.add("telemetry.interval_s", DesiredType::Numeric, "1");
  ASSERT_TRUE(state_->apply(item_, kNow));
  EXPECT_EQ(host_.settings.interval_ms, 1000u);
  EXPECT_NE(report().find("result='ok' applied='2' of='2'"), std::string::npos) << report();
  const int reconfigures = host_.reconfigures;
  EXPECT_FALSE(state_->apply(item_, kNow));
  EXPECT_EQ(state_->last_changes(), 0u);
  EXPECT_EQ(host_.reconfigures, reconfigures);
}

TEST_F(DesiredApply, NumericValuesCompareAsExactDecimals) {
  make("admin@localhost").add("telemetry.interval_s", DesiredType::Numeric, "5");
  ASSERT_TRUE(state_->apply(item_, kNow));
  EXPECT_EQ(host_.settings.interval_ms, 5000u);
  EXPECT_EQ(host_.reconfigures, 1);
  make("admin@localhost", "2").add("telemetry.interval_s", DesiredType::Numeric, "5.000");
  ASSERT_TRUE(state_->apply(item_, kNow));
  EXPECT_EQ(host_.reconfigures, 1);  // already in force
  EXPECT_EQ(state_->last_result(), DesiredResult::Ok);
}

TEST_F(DesiredApply, ViewerStrangerAndUnknownPublisherAreRefusedAsAWhole) {
  for (const char* who : {"guest@localhost", "eve@evil.example", ""}) {
    make(who, who).add("relay0.state", DesiredType::Boolean, "true");
    EXPECT_TRUE(state_->apply(item_, kNow)) << who;
    EXPECT_EQ(state_->last_result(), DesiredResult::Refused) << who;
    EXPECT_FALSE(relay()) << who;
  }
  EXPECT_EQ(host_.publishes, 0);
  EXPECT_NE(report().find("<error>publisher unknown: the server did not say who published the item</error>"),
            std::string::npos)
      << report();
  make("guest@localhost", "v").add("relay0.state", DesiredType::Boolean, "true");
  ASSERT_TRUE(state_->apply(item_, kNow));
  EXPECT_NE(report().find("result='refused' applied='0' of='1'"), std::string::npos) << report();
  EXPECT_NE(report().find("<error>guest@localhost may not publish desired state (viewer)</error>"), std::string::npos)
      << report();
}

TEST_F(DesiredApply, OperatorMayNotChangeSettingsOwnerMay) {
  make("ops@localhost");
  item_.add("relay0.state", DesiredType::Boolean, "true");
  item_.add("telemetry.interval_s", DesiredType::Numeric, "5");
  ASSERT_TRUE(state_->apply(item_, kNow));
  EXPECT_EQ(state_->last_result(), DesiredResult::Partial);
  EXPECT_TRUE(relay());
  EXPECT_EQ(host_.reconfigures, 0);
  EXPECT_NE(report().find("result='partial' applied='1' of='2'"), std::string::npos) << report();
  EXPECT_NE(report().find("<error n='telemetry.interval_s'>configure needs the owner role (you are operator)</error>"),
            std::string::npos)
      << report();
  make("admin@localhost", "2");
  item_.add("relay0.state", DesiredType::Boolean, "false");
  item_.add("telemetry.interval_s", DesiredType::Numeric, "5");
  ASSERT_TRUE(state_->apply(item_, kNow));
  EXPECT_EQ(state_->last_result(), DesiredResult::Ok);
  EXPECT_FALSE(relay());
  EXPECT_EQ(host_.reconfigures, 1);
}

TEST_F(DesiredApply, BadValuesAreReportedPerValueWithSetsOwnWording) {
  make("admin@localhost");
  item_.add("nope0.state", DesiredType::Boolean, "true");          // unknown channel
  item_.add("env0.temperature", DesiredType::Numeric, "20");       // a sensor
  item_.add("telemetry.interval_s", DesiredType::Numeric, "0");    // configure's range
  item_.add("telemetry.colour", DesiredType::Numeric, "1");        // no such setting
  item_.add("telemetry.batch_max", DesiredType::Boolean, "true");  // a setting is a number
  item_.add("relay0.on", DesiredType::Boolean, "on");              // unknown too
  item_.add("relay0.state", DesiredType::Boolean, "on");           // the one that works
  ASSERT_TRUE(state_->apply(item_, kNow));
  EXPECT_EQ(state_->last_result(), DesiredResult::Partial);
  EXPECT_TRUE(relay());
  std::string r = report();
  for (const char* want : {
           "<error n='nope0.state'>channel: unknown channel &apos;nope0.state&apos;</error>",
           "<error n='env0.temperature'>channel: env0.temperature is a sensor and cannot be set</error>",
           "<error n='telemetry.interval_s'>telemetry.interval_s: &apos;0&apos; is out of range",
           "<error n='telemetry.colour'>telemetry.colour: unknown setting</error>",
           "<error n='telemetry.batch_max'>telemetry.batch_max: a setting takes v (a number), not vb</error>",
       }) {
    EXPECT_NE(r.find(want), std::string::npos) << want << "\n" << r;
  }
  EXPECT_NE(r.find("applied='1' of='7'"), std::string::npos) << r;
  // The SenML type must be the channel's; the text is set's to judge.
  make("admin@localhost", "2").add("relay0.state", DesiredType::Numeric, "0");
  ASSERT_TRUE(state_->apply(item_, kNow));
  EXPECT_EQ(state_->last_result(), DesiredResult::Refused);
  EXPECT_NE(report().find("<error n='relay0.state'>relay0.state: v given for a boolean channel</error>"),
            std::string::npos)
      << report();
  make("admin@localhost", "3").add("relay0.state", DesiredType::Boolean, "maybe");
  ASSERT_TRUE(state_->apply(item_, kNow));
  EXPECT_NE(report().find("<error n='relay0.state'>value: &apos;maybe&apos; is not a boolean for relay0.state"),
            std::string::npos)
      << report();
  EXPECT_TRUE(relay());  // neither moved it
}

TEST_F(DesiredApply, AMalformedItemIsRefusedAndNothingApplied) {
  make("admin@localhost");
  item_.add("relay0.state", DesiredType::Boolean, "true");
  item_.fail("too many values (at most %zu)", agent::kDesiredValuesMax);
  ASSERT_TRUE(state_->apply(item_, kNow));
  EXPECT_EQ(state_->last_result(), DesiredResult::Refused);
  EXPECT_FALSE(relay());
  EXPECT_NE(report().find("<error>too many values (at most 32)</error>"), std::string::npos) << report();
}

TEST(DesiredReport, ErrorsThatDoNotFitAreCountedNotCut) {
  agent::DesiredValueError errors[20];
  const std::string text(100, 'e');
  for (auto& e : errors) e = {"relay0.state", text.c_str()};
  agent::DesiredReport rep;
  rep.item_id = "current";
  rep.result = DesiredResult::Refused;
  rep.total = 20;
  rep.at = kNow;
  rep.errors = errors;
  rep.error_count = 20;
  char buf[1024];
  const hal::Result<size_t> n = agent::format_desired_report(buf, sizeof buf, rep);
  ASSERT_TRUE(n.ok());
  const std::string r(buf, n.value());
  EXPECT_NE(r.find(" omitted='"), std::string::npos) << r;
  EXPECT_EQ(r.substr(r.size() - 10), "</desired>");
  char tiny[16];
  EXPECT_EQ(agent::format_desired_report(tiny, sizeof tiny, rep).error(), hal::Err::Overflow);
}

TEST(DesiredReport, TheDeviceNodeCarriesTheReport) {
  agent::DeviceFacts f{};
  f.board = "sim";
  f.firmware = "0.1.0";
  f.boot_id = "7f3a12cd";
  f.desired_report = "<desired item='current' result='ok' applied='1' of='1' at='1'></desired>";
  std::string buf(agent::device_description_bound(f), '\0');
  const agent::HealthReport h = agent::assess_health(f);
  const hal::Result<size_t> n = agent::format_device_description(&buf[0], buf.size(), f, h);
  ASSERT_TRUE(n.ok());
  buf.resize(n.value());
  EXPECT_NE(buf.find("<desired item='current' result='ok' applied='1' of='1' at='1'></desired></device>"),
            std::string::npos)
      << buf;
}

}  // namespace

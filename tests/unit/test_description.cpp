// agent/description: health, status line, device description XML.
#include "agent/description.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "fakes.hpp"

namespace {

using xiot_test::FakeDevice;

class Description : public ::testing::Test {
 protected:
  void SetUp() override {
    auto env = std::make_unique<FakeDevice>(
        "env0", std::vector<drv::ChannelSpec>{xiot_test::sensor("temperature", "Cel"),
                                              xiot_test::sensor("humidity", "%RH"),
                                              xiot_test::sensor("pressure", "Pa")});
    auto relay = std::make_unique<FakeDevice>("relay0",
                                              std::vector<drv::ChannelSpec>{xiot_test::actuator("state", "")});
    env_ = env.get();
    ASSERT_EQ(reg_.add(std::move(env)), hal::Err::Ok);
    ASSERT_EQ(reg_.add(std::move(relay)), hal::Err::Ok);
  }
  agent::DeviceFacts facts(const agent::FailedDevice* failed = nullptr, size_t n = 0) {
    return agent::DeviceFacts{"sim", "0.1.0", "7f3a12cd", &reg_, failed, n};
  }
  std::string status(const agent::DeviceFacts& f) {
    char buf[256];
    const hal::Result<size_t> r = agent::format_status_line(buf, sizeof buf, f, agent::assess_health(f));
    return r.ok() ? std::string(buf) : std::string("error");
  }
  std::string describe(const agent::DeviceFacts& f) {
    std::vector<char> buf(agent::device_description_bound(f));
    const hal::Result<size_t> r =
        agent::format_device_description(buf.data(), buf.size(), f, agent::assess_health(f));
    return r.ok() ? std::string(buf.data(), r.value()) : std::string("error");
  }
  drv::Registry reg_;
  FakeDevice* env_ = nullptr;
};

TEST_F(Description, HealthyStatusAndDescription) {
  const agent::DeviceFacts f = facts();
  const agent::HealthReport h = agent::assess_health(f);
  EXPECT_EQ(h.health, agent::Health::Healthy);
  EXPECT_STREQ(h.problem, "");
  EXPECT_EQ(h.problem_count, 0u);
  EXPECT_EQ(status(f), "sim board, xiot 0.1.0, 4 channels");
  EXPECT_EQ(describe(f),
            "<device xmlns='urn:xiot:device:0' board='sim' firmware='0.1.0' boot-id='7f3a12cd' health='healthy'>"
            "<channel name='env0.temperature' kind='sensor' unit='Cel' type='numeric'/>"
            "<channel name='env0.humidity' kind='sensor' unit='%RH' type='numeric'/>"
            "<channel name='env0.pressure' kind='sensor' unit='Pa' type='numeric'/>"
            "<channel name='relay0.state' kind='actuator' type='boolean'/>"
            "</device>");
}

TEST_F(Description, ActuatorsReportTheirCurrentValue) {
  // Reported state: after a sample an actuator carries what it is set to, so
  // a `set` shows in the device node; sensors carry no value (telemetry does).
  (void)reg_.sample_all();
  auto* relay = static_cast<FakeDevice*>(&reg_.device(1));
  relay->set_value(0, drv::Value::boolean(true));
  const std::string d = describe(facts());
  EXPECT_NE(d.find("<channel name='relay0.state' kind='actuator' type='boolean' value='true'/>"), std::string::npos)
      << d;
  EXPECT_NE(d.find("<channel name='env0.temperature' kind='sensor' unit='Cel' type='numeric'/>"), std::string::npos)
      << d;
}

TEST_F(Description, ChannelsDescribeTheirReportPolicy) {
  // Registry order: temperature humidity pressure, state. "interval" is the
  // default and leaves the attribute out (the node reads as it did before).
  const drv::ReportPolicy policies[] = {drv::ReportPolicy::deadband(2, -1), drv::ReportPolicy::interval(),
                                        drv::ReportPolicy::deadband(50, 0), drv::ReportPolicy::on_change()};
  agent::DeviceFacts f = facts();
  f.report_policies = policies;
  (void)reg_.sample_all();
  const std::string d = describe(f);
  EXPECT_NE(d.find("<channel name='env0.temperature' kind='sensor' unit='Cel' type='numeric' report='deadband' "
                   "deadband='0.2'/>"),
            std::string::npos)
      << d;
  EXPECT_NE(d.find("<channel name='env0.humidity' kind='sensor' unit='%RH' type='numeric'/>"), std::string::npos) << d;
  EXPECT_NE(d.find("<channel name='env0.pressure' kind='sensor' unit='Pa' type='numeric' report='deadband' "
                   "deadband='50'/>"),
            std::string::npos)
      << d;
  EXPECT_NE(d.find("<channel name='relay0.state' kind='actuator' type='boolean' report='on_change' value='false'/>"),
            std::string::npos)
      << d;
  EXPECT_LT(d.size() + 1, agent::device_description_bound(f));
}

TEST_F(Description, FailedInitDegrades) {
  const agent::FailedDevice failed[] = {{"env1", hal::Err::Nack}};
  const agent::DeviceFacts f = facts(failed, 1);
  const agent::HealthReport h = agent::assess_health(f);
  EXPECT_EQ(h.health, agent::Health::Degraded);
  EXPECT_STREQ(h.problem, "env1 failed: no acknowledge");
  EXPECT_EQ(status(f), "sim board, xiot 0.1.0, 4 channels, degraded: env1 failed: no acknowledge");
  const std::string d = describe(f);
  EXPECT_NE(d.find("health='degraded'"), std::string::npos);
  EXPECT_NE(d.find("<problem>env1 failed: no acknowledge</problem></device>"), std::string::npos);
}

TEST_F(Description, ReadFailureDegradesAndRecovers) {
  env_->sample_error = hal::Err::Timeout;
  (void)reg_.sample_all();
  agent::HealthReport h = agent::assess_health(facts());
  EXPECT_EQ(h.health, agent::Health::Degraded);
  EXPECT_STREQ(h.problem, "env0 read failed: timeout");
  EXPECT_EQ(status(facts()), "sim board, xiot 0.1.0, 4 channels, degraded: env0 read failed: timeout");
  env_->sample_error = hal::Err::Ok;
  (void)reg_.sample_all();
  h = agent::assess_health(facts());
  EXPECT_EQ(h.health, agent::Health::Healthy);
}

TEST_F(Description, SeveralProblemsCounted) {
  const agent::FailedDevice failed[] = {{"env1", hal::Err::Nack}, {"adc0", hal::Err::BadChipId}};
  env_->sample_error = hal::Err::Io;
  (void)reg_.sample_all();
  const agent::DeviceFacts f = facts(failed, 2);
  const agent::HealthReport h = agent::assess_health(f);
  EXPECT_EQ(h.problem_count, 3u);
  EXPECT_STREQ(h.problem, "env1 failed: no acknowledge (+2 more)");
  const std::string d = describe(f);
  EXPECT_NE(d.find("<problem>env1 failed: no acknowledge</problem><problem>adc0 failed: wrong chip id</problem>"
                   "<problem>env0 read failed: i/o error</problem></device>"),
            std::string::npos);
}

TEST_F(Description, LongProblemKeepsCountSuffix) {
  const std::string name(200, 'n');
  const agent::FailedDevice failed[] = {{name.c_str(), hal::Err::Nack}, {"b", hal::Err::Nack}};
  const agent::HealthReport h = agent::assess_health(facts(failed, 2));
  const std::string p = h.problem;
  EXPECT_EQ(p.size(), sizeof h.problem - 1);
  EXPECT_EQ(p.substr(p.size() - 10), " (+1 more)");
}

TEST_F(Description, MaintenanceWins) {
  const agent::FailedDevice failed[] = {{"env1", hal::Err::Nack}};
  agent::DeviceFacts f = facts(failed, 1);
  f.maintenance = "firmware update running";
  const agent::HealthReport h = agent::assess_health(f);
  EXPECT_EQ(h.health, agent::Health::Maintenance);
  EXPECT_STREQ(h.problem, "firmware update running (+1 more)");
  agent::DeviceFacts only = facts();
  only.maintenance = "firmware update running";
  EXPECT_EQ(status(only), "sim board, xiot 0.1.0, 4 channels, maintenance: firmware update running");
  EXPECT_NE(describe(f).find("health='maintenance'"), std::string::npos);
}

TEST_F(Description, StorageProblemDegradesAndDropsShowInTheStatusLine) {
  agent::DeviceFacts f = facts();
  f.storage_problem = "journal append failed: no space";
  f.dropped_readings = 12;
  const agent::HealthReport h = agent::assess_health(f);
  EXPECT_EQ(h.health, agent::Health::Degraded);
  EXPECT_STREQ(h.problem, "journal append failed: no space");
  EXPECT_EQ(status(f),
            "sim board, xiot 0.1.0, 4 channels, 12 readings dropped, degraded: journal append failed: no space");
  EXPECT_NE(describe(f).find("<problem>journal append failed: no space</problem></device>"), std::string::npos)
      << describe(f);
  // With a failed device first, the storage problem is counted after it.
  const agent::FailedDevice failed[] = {{"env1", hal::Err::Nack}};
  agent::DeviceFacts both = facts(failed, 1);
  both.storage_problem = "journal unavailable: i/o error";
  EXPECT_STREQ(agent::assess_health(both).problem, "env1 failed: no acknowledge (+1 more)");
  // Drops alone do not degrade: the policy worked as documented.
  agent::DeviceFacts drops = facts();
  drops.dropped_readings = 1;
  EXPECT_EQ(agent::assess_health(drops).health, agent::Health::Healthy);
  EXPECT_EQ(status(drops), "sim board, xiot 0.1.0, 4 channels, 1 reading dropped");
  // The bound made at start-up holds when a storage problem appears later.
  const agent::DeviceFacts at_start = facts();
  agent::DeviceFacts later = facts();
  later.storage_problem = "journal append failed: no space, and a little longer than usual too";
  std::vector<char> buf(agent::device_description_bound(at_start));
  EXPECT_TRUE(agent::format_device_description(buf.data(), buf.size(), later, agent::assess_health(later)).ok());
}

TEST_F(Description, APowerCutCountShowsInTheStatusLineAndTheDeviceElementWithoutDegrading) {
  agent::DeviceFacts f = facts();
  f.power_cut_lost = 23;
  f.dropped_readings = 2;
  EXPECT_EQ(agent::assess_health(f).health, agent::Health::Healthy);
  EXPECT_EQ(status(f), "sim board, xiot 0.1.0, 4 channels, 2 readings dropped, up to 23 readings lost in a power cut");
  EXPECT_NE(describe(f).find("health='healthy' power-cut-lost='23'>"), std::string::npos) << describe(f);
  // The start-up bound holds the attribute's largest value.
  const agent::DeviceFacts at_start = facts();
  f.power_cut_lost = UINT64_MAX;
  std::vector<char> buf(agent::device_description_bound(at_start));
  EXPECT_TRUE(agent::format_device_description(buf.data(), buf.size(), f, agent::assess_health(f)).ok());
  // 0: neither (a node from before the attribute reads the same).
  EXPECT_EQ(describe(facts()).find("power-cut-lost"), std::string::npos);
}

TEST_F(Description, SingularChannelAndEscaping) {
  drv::Registry one;
  ASSERT_EQ(one.add(std::make_unique<FakeDevice>("b0", std::vector<drv::ChannelSpec>{xiot_test::sensor(
                                                           "state", "", drv::ValueType::String)})),
            hal::Err::Ok);
  const agent::DeviceFacts f{"o'brien & <co>", "1.0-\"rc\"", "00000000", &one, nullptr, 0};
  EXPECT_EQ(status(f), "o'brien & <co> board, xiot 1.0-\"rc\", 1 channel");
  EXPECT_EQ(describe(f),
            "<device xmlns='urn:xiot:device:0' board='o&apos;brien &amp; &lt;co&gt;' firmware='1.0-&quot;rc&quot;' "
            "boot-id='00000000' health='healthy'><channel name='b0.state' kind='sensor' type='string'/></device>");
}

TEST_F(Description, NoRegistry) {
  const agent::DeviceFacts f{"sim", "0.1.0", "x", nullptr, nullptr, 0};
  EXPECT_EQ(status(f), "sim board, xiot 0.1.0, 0 channels");
  EXPECT_EQ(describe(f),
            "<device xmlns='urn:xiot:device:0' board='sim' firmware='0.1.0' boot-id='x' health='healthy'></device>");
}

TEST_F(Description, OverflowAndInvalid) {
  const agent::DeviceFacts f = facts();
  const agent::HealthReport h = agent::assess_health(f);
  char small[40];
  EXPECT_EQ(agent::format_device_description(small, sizeof small, f, h).error(), hal::Err::Overflow);
  EXPECT_EQ(agent::format_status_line(small, 10, f, h).error(), hal::Err::Overflow);
  agent::DeviceFacts bad = f;
  bad.board = nullptr;
  char buf[1024];
  EXPECT_EQ(agent::format_device_description(buf, sizeof buf, bad, h).error(), hal::Err::InvalidArgument);
}

TEST(Health, Names) {
  EXPECT_STREQ(agent::health_name(agent::Health::Healthy), "healthy");
  EXPECT_STREQ(agent::health_name(agent::Health::Degraded), "degraded");
  EXPECT_STREQ(agent::health_name(agent::Health::Maintenance), "maintenance");
}

}  // namespace

namespace {

TEST_F(Description, ClientCertificateExpiryShowsInTheDeviceElementAndWarnsInTheStatusLine) {
  agent::DeviceFacts f = facts();
  f.cert_not_after = 2147483648LL;  // 2038-01-19T03:14:08Z
  f.cert_days_left = 200;
  f.cert_warn_days = 30;
  EXPECT_EQ(status(f), "sim board, xiot 0.1.0, 4 channels");
  EXPECT_NE(describe(f).find("health='healthy' cert-expires='2038-01-19T03:14:08Z' cert-days-left='200'>"),
            std::string::npos)
      << describe(f);
  f.cert_days_left = 12;
  EXPECT_EQ(status(f), "sim board, xiot 0.1.0, 4 channels, certificate expires in 12 days");
  EXPECT_EQ(agent::assess_health(f).health, agent::Health::Healthy);
  f.cert_days_left = 1;
  EXPECT_EQ(status(f), "sim board, xiot 0.1.0, 4 channels, certificate expires in 1 day");
  f.cert_days_left = -3;
  EXPECT_EQ(status(f), "sim board, xiot 0.1.0, 4 channels, certificate expired");
  EXPECT_NE(describe(f).find("cert-days-left='-3'"), std::string::npos) << describe(f);
  // No certificate (a password login): neither attribute.
  EXPECT_EQ(describe(facts()).find("cert-"), std::string::npos);
}

}  // namespace

// Unit tests of the fleet simulator's parts (no server): the fleet file
// (every key, every error named), per-device configurations, the seeded
// environment, the in-memory "flash", and the engine's start schedule
// (jittered slots over the ramp, the cap on concurrent first logins) on a
// manual clock. Connection attempts go to a closed loopback port and are
// never serviced (the context never runs).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <set>
#include <string>

#include "agent/log.hpp"
#include "boards/board.hpp"
#include "fleet_sim.hpp"
#include "fleet_spec.hpp"
#include "hal/sim/manual_clock.hpp"
#include "memory_storage.hpp"
#include "sim_device.hpp"

namespace {

const std::string kBoard = std::string(XIOT_BOARDS_DIR) + "/sim/board.json";

std::string fleet_json(const std::string& devices = R"([{"jid":"dev0001@localhost","password":"p1","seed":1},
                                                        {"jid":"dev0002@localhost","password":"p2","seed":2}])",
                       const std::string& extra = "") {
  return R"({"xiot_fleet":1,"server":{"kind":"prosody","host":"127.0.0.1","port":1,"domain":"localhost"},)"
         R"("board":")" + kBoard + R"(",)" + extra + R"("devices":)" + devices + "}";
}

bool parse(const std::string& text, fleet_sim::FleetSpec* spec, std::string* error) {
  return fleet_sim::parse_fleet_spec(text.c_str(), "/tmp/fleet.json", spec, error);
}

std::string error_of(const std::string& text) {
  fleet_sim::FleetSpec spec;
  std::string error;
  EXPECT_FALSE(parse(text, &spec, &error)) << text;
  return error;
}

TEST(FleetSpec, MinimalFileGetsTheAgentDefaults) {
  fleet_sim::FleetSpec spec;
  std::string error;
  ASSERT_TRUE(parse(fleet_json(), &spec, &error)) << error;
  EXPECT_EQ(spec.server_kind, "prosody");
  EXPECT_EQ(spec.xmpp.host, "127.0.0.1");
  EXPECT_EQ(spec.xmpp.port, 1);
  EXPECT_EQ(spec.xmpp.tls, agent::TlsMode::Required);
  EXPECT_EQ(spec.xmpp.ping_interval_s, 30u);
  EXPECT_EQ(spec.xmpp.resource, "xiot");
  EXPECT_TRUE(spec.xmpp.ca_file.empty());
  EXPECT_DOUBLE_EQ(spec.telemetry.interval_s, 10.0);
  EXPECT_EQ(spec.telemetry.service, "pep");
  ASSERT_EQ(spec.devices.size(), 2u);
  EXPECT_EQ(spec.devices[1].jid, "dev0002@localhost");
  EXPECT_EQ(spec.devices[1].password, "p2");
  EXPECT_EQ(spec.devices[1].seed, 2u);
}

TEST(FleetSpec, EveryKeyIsRead) {
  const std::string extra =
      R"("telemetry":{"interval_s":0.5,"service":"pubsub.localhost","batch_max":4,"encoding":"protobuf"},)"
      R"("acl":{"owners":["Admin@localhost"],"operators":["ops@localhost"],"viewers":["*@localhost"]},)"
      R"("operator":{"jid":"ops@localhost","password":"x"},)";
  const std::string text = R"({"xiot_fleet":1,"server":{"host":"::1","port":5223,"tls":"direct",)"
                           R"("ping_interval_s":60,"resource":"sim","reconnect_base_s":0.5,"reconnect_cap_s":9},)"
                           R"("board":")" + kBoard + R"(",)" + extra +
                           R"("devices":[{"jid":"Dev7@Example.org","password":"p"}]})";
  fleet_sim::FleetSpec spec;
  std::string error;
  ASSERT_TRUE(parse(text, &spec, &error)) << error;
  EXPECT_EQ(spec.xmpp.tls, agent::TlsMode::Direct);
  EXPECT_EQ(spec.xmpp.port, 5223);
  EXPECT_EQ(spec.xmpp.ping_interval_s, 60u);
  EXPECT_EQ(spec.xmpp.resource, "sim");
  EXPECT_DOUBLE_EQ(spec.xmpp.reconnect_base_s, 0.5);
  EXPECT_DOUBLE_EQ(spec.xmpp.reconnect_cap_s, 9);
  EXPECT_EQ(spec.telemetry.encoding, agent::Encoding::Protobuf);
  EXPECT_EQ(spec.telemetry.batch_max, 4u);
  EXPECT_EQ(spec.acl.owners[0], "admin@localhost");
  EXPECT_EQ(spec.acl.viewers[0], "*@localhost");
  EXPECT_EQ(spec.devices[0].jid, "dev7@example.org");
  EXPECT_EQ(spec.devices[0].seed, 1u) << "the seed defaults to the position, from 1";

  // The per-device configuration: shared settings plus the account; the
  // node of a pubsub service is the device's own.
  const agent::AgentConfig c = fleet_sim::device_config(spec, 0);
  EXPECT_EQ(c.xmpp.jid, "dev7@example.org");
  EXPECT_EQ(c.xmpp.password, "p");
  EXPECT_EQ(c.xmpp.host, "::1");
  EXPECT_EQ(c.telemetry.node, "xiot/dev7/telemetry");
  EXPECT_EQ(c.telemetry.service, "pubsub.localhost");
  EXPECT_EQ(c.board, kBoard);
  EXPECT_EQ(c.acl.operators[0], "ops@localhost");
}

TEST(FleetSpec, PepNodeDefault) {
  fleet_sim::FleetSpec spec;
  std::string error;
  ASSERT_TRUE(parse(fleet_json(), &spec, &error)) << error;
  EXPECT_EQ(fleet_sim::device_config(spec, 1).telemetry.node, "urn:xiot:telemetry:0");
}

TEST(FleetSpec, ErrorsNameTheFileTheKeyAndWhatWasExpected) {
  struct Case {
    std::string text;
    std::string want;
  };
  const Case cases[] = {
      {"{", "/tmp/fleet.json:1:2: malformed JSON at end of file"},
      {"[]", "/tmp/fleet.json: expected a JSON object at the top level, got an array"},
      {R"({"xiot_fleet":2})", "xiot_fleet: expected 1, got 2"},
      {fleet_json("[]"), "devices: expected a non-empty array"},
      {fleet_json(R"([{"jid":"nope","password":"p"}])"), "devices[0].jid: expected a bare JID local@domain, got \"nope\""},
      {fleet_json(R"([{"jid":"a@other","password":"p"}])"), "devices[0].jid: \"a@other\" is not in the server's domain localhost"},
      {fleet_json(R"([{"jid":"a@localhost","password":"p"},{"jid":"A@localhost","password":"q"}])"),
       "devices[1].jid: \"a@localhost\" appears twice"},
      {fleet_json(R"([{"jid":"a@localhost"}])"), "devices[0].password: missing; expected a non-empty string"},
      {fleet_json(R"([{"jid":"a@localhost","password":7}])"), "devices[0].password: expected a non-empty string, got a number"},
      {fleet_json(R"([{"jid":"a@localhost","password":"p","colour":1}])"), "devices[0].colour: unknown key"},
      {fleet_json(R"([{"jid":"a@localhost","password":"p","seed":-1}])"), "devices[0].seed: expected an integer"},
      {fleet_json("[1]"), "devices[0]: expected an object"},
      {fleet_json(R"([{"jid":"a@localhost","password":"p"}])", R"("telemetry":{"interval_s":0},)"),
       "telemetry.interval_s: expected a number from 0.05 to 86400, got 0"},
      {fleet_json(R"([{"jid":"a@localhost","password":"p"}])", R"("telemetry":{"encoding":"cbor"},)"),
       "telemetry.encoding: expected \"senml-xml\" or \"protobuf\", got \"cbor\""},
      {fleet_json(R"([{"jid":"a@localhost","password":"p"}])", R"("telemetry":{"batch":2},)"),
       "telemetry.batch: unknown key"},
      {fleet_json(R"([{"jid":"a@localhost","password":"p"}])", R"("acl":{"operators":["*"]},)"),
       "acl.operators[0]: expected a bare JID (local@domain) or *@domain, got \"*\" (no '@')"},
      {fleet_json(R"([{"jid":"a@localhost","password":"p"}])", R"("extra":1,)"), "extra: unknown key"},
      {R"({"xiot_fleet":1,"server":{"port":5222},"board":"x","devices":[]})", "server.host: missing; expected a host name or IP address"},
      {R"({"xiot_fleet":1,"server":{"host":"h","port":70000},"board":"x","devices":[]})",
       "server.port: expected an integer from 1 to 65535, got 70000"},
      {R"({"xiot_fleet":1,"server":{"host":"h","tls":"none"},"board":"x","devices":[]})",
       "server.tls: expected \"required\" or \"direct\", got \"none\""},
      {R"({"xiot_fleet":1,"server":{"host":"h","ca_file":"/nonexistent/ca.crt"},"board":"x","devices":[]})",
       "server.ca_file: cannot read /nonexistent/ca.crt"},
      {R"({"xiot_fleet":1,"server":{"host":"h"},"board":"no-such-board.json","devices":[]})",
       "board: cannot read /tmp/no-such-board.json"},
  };
  for (const Case& c : cases) {
    const std::string e = error_of(c.text);
    EXPECT_NE(e.find(c.want), std::string::npos) << "got: " << e << "\nwant: " << c.want;
    EXPECT_EQ(e.rfind("/tmp/fleet.json:", 0), 0u) << e;
  }
}

TEST(FleetSpec, PasswordsNeverAppearInMessages) {
  const std::string e = error_of(fleet_json(R"([{"jid":"a@localhost","password":["s3cret"]}])"));
  EXPECT_EQ(e.find("s3cret"), std::string::npos) << e;
}

TEST(FleetSpec, LoadNamesAMissingFile) {
  fleet_sim::FleetSpec spec;
  std::string error;
  EXPECT_FALSE(fleet_sim::load_fleet_spec("/nonexistent/fleet.json", &spec, &error));
  EXPECT_EQ(error, "/nonexistent/fleet.json: cannot read: No such file or directory");
}

TEST(Environment, SeedsGiveDistinctTemperaturesAndTheDriftStaysInsideTheStep) {
  std::set<long> at_zero;
  for (uint64_t seed = 0; seed < 100; ++seed) {
    const fleet_sim::Environment e = fleet_sim::Environment::from_seed(seed);
    EXPECT_NEAR(e.temperature_c, 18.0 + 0.1 * static_cast<double>(seed), 1e-9);
    EXPECT_EQ(e.button_pressed, (seed & 1u) == 1u);
    for (double t = 0; t < fleet_sim::Environment::kDriftPeriodS; t += 7.5) {
      EXPECT_LE(std::fabs(e.temperature_at(t) - e.temperature_c), fleet_sim::Environment::kTemperatureDrift + 1e-12);
      EXPECT_LE(std::fabs(e.humidity_at(t) - e.humidity_pct), fleet_sim::Environment::kHumidityDrift + 1e-12);
      EXPECT_LE(std::fabs(e.pressure_at(t) - e.pressure_pa), fleet_sim::Environment::kPressureDrift + 1e-12);
    }
    at_zero.insert(std::lround(e.temperature_at(0) * 100));
  }
  // Two drifts at most 2 * 0.03 apart, seeds 0.1 apart: never the same reading.
  EXPECT_LT(2 * fleet_sim::Environment::kTemperatureDrift + 0.01, 0.1);
  EXPECT_EQ(at_zero.size(), 100u);
  // Phases differ, so the fleet does not drift in lockstep.
  EXPECT_NE(fleet_sim::Environment::from_seed(1).phase_rad, fleet_sim::Environment::from_seed(2).phase_rad);
}

TEST(MemoryStorage, ReadReplaceRemoveAndLimits) {
  fleet_sim::MemoryStorage s;
  uint8_t buf[8] = {};
  EXPECT_EQ(s.read("settings", buf, sizeof buf).error(), hal::Err::NotFound);
  const uint8_t a[] = {1, 2, 3};
  ASSERT_EQ(s.replace("settings", a, sizeof a), hal::Err::Ok);
  auto r = s.read("settings", buf, sizeof buf);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.value(), 3u);
  EXPECT_EQ(buf[2], 3);
  EXPECT_EQ(s.read("settings", buf, 2).error(), hal::Err::Overflow);
  const uint8_t b[] = {9};
  ASSERT_EQ(s.replace("settings", b, sizeof b), hal::Err::Ok);
  EXPECT_EQ(s.read("settings", buf, sizeof buf).value(), 1u);
  EXPECT_EQ(s.remove("settings"), hal::Err::Ok);
  EXPECT_EQ(s.remove("settings"), hal::Err::Ok);
  EXPECT_EQ(s.read("settings", buf, sizeof buf).error(), hal::Err::NotFound);
  EXPECT_EQ(s.replace("bad/key", a, 1), hal::Err::InvalidArgument);
  EXPECT_EQ(s.replace("", a, 1), hal::Err::InvalidArgument);
  EXPECT_EQ(s.read(std::string(64, 'k').c_str(), buf, 1).error(), hal::Err::InvalidArgument);
  std::string big(fleet_sim::MemoryStorage::kMaxBlobBytes + 1, 'x');
  EXPECT_EQ(s.replace("big", reinterpret_cast<const uint8_t*>(big.data()), big.size()), hal::Err::NoSpace);
  for (size_t i = 0; i < fleet_sim::MemoryStorage::kMaxKeys; ++i) {
    ASSERT_EQ(s.replace(("k" + std::to_string(i)).c_str(), a, 1), hal::Err::Ok);
  }
  EXPECT_EQ(s.replace("one-too-many", a, 1), hal::Err::NoSpace);
}

class FleetSimSchedule : public ::testing::Test {
 protected:
  void SetUp() override {
    agent::log_set_level(agent::LogLevel::Error);
    std::string devices = "[";
    for (int i = 1; i <= 20; ++i) {
      char buf[96];
      std::snprintf(buf, sizeof buf, R"(%s{"jid":"dev%04d@localhost","password":"p"})", i > 1 ? "," : "", i);
      devices += buf;
    }
    devices += "]";
    std::string error;
    ASSERT_TRUE(parse(fleet_json(devices), &spec_, &error)) << error;
    ASSERT_TRUE(boards::parse_board(kBoard.c_str(), &board_, &error)) << error;
  }
  void TearDown() override { agent::log_set_level(agent::LogLevel::Info); }

  fleet_sim::FleetSpec spec_;
  boards::BoardSpec board_;
  hal::sim::ManualClock clock_;
};

TEST_F(FleetSimSchedule, StartsAreJitteredInsideTheirSlotsOverTheRamp) {
  agent::Context ctx;
  fleet_sim::SimOptions o;
  o.count = 10;
  o.ramp_s = 5.0;
  o.run_seed = 42;
  fleet_sim::FleetSim sim(spec_, board_, o, ctx, clock_, clock_);
  ASSERT_EQ(sim.size(), 10u);
  sim.begin();
  double prev = -1;
  std::set<double> fractions;
  for (size_t i = 0; i < sim.size(); ++i) {
    const double at = sim.start_offset_s(i);
    EXPECT_GE(at, 0.5 * static_cast<double>(i)) << i;
    EXPECT_LT(at, 0.5 * static_cast<double>(i + 1)) << i;
    EXPECT_GT(at, prev);
    prev = at;
    fractions.insert(std::fmod(at, 0.5));
  }
  EXPECT_GT(fractions.size(), 8u) << "jittered, not in lockstep";

  EXPECT_EQ(sim.stats().started, 0u);
  (void)sim.tick();
  const size_t at_zero = sim.stats().started;
  EXPECT_LE(at_zero, 1u);
  clock_.advance_ms(2600);  // slots 0..4 have begun; slot 5 begins at 2.5 s
  (void)sim.tick();
  const size_t mid = sim.stats().started;
  EXPECT_GE(mid, 5u);
  EXPECT_LE(mid, 6u);
  clock_.advance_ms(2500);
  const uint32_t wait = sim.tick();
  EXPECT_EQ(sim.stats().started, 10u);
  EXPECT_GE(wait, 1u);
  EXPECT_EQ(sim.stats().online, 0u) << "the context never ran";

  // The same seed lays out the same schedule.
  fleet_sim::FleetSim again(spec_, board_, o, ctx, clock_, clock_);
  again.begin();
  for (size_t i = 0; i < sim.size(); ++i) EXPECT_DOUBLE_EQ(again.start_offset_s(i), sim.start_offset_s(i));
  sim.stop("test over", 0);
}

TEST_F(FleetSimSchedule, AutoRampIsFiftyLoginsPerSecondAndCountDefaultsToAll) {
  agent::Context ctx;
  fleet_sim::SimOptions o;
  fleet_sim::FleetSim sim(spec_, board_, o, ctx, clock_, clock_);
  EXPECT_EQ(sim.size(), 20u);
  EXPECT_DOUBLE_EQ(sim.ramp_s(), 20.0 / fleet_sim::SimOptions::kAutoRampPerSecond);
  o.count = 500;  // more than the file has: all of them
  fleet_sim::FleetSim all(spec_, board_, o, ctx, clock_, clock_);
  EXPECT_EQ(all.size(), 20u);
}

TEST_F(FleetSimSchedule, FirstAndCountPickASliceOfTheFleet) {
  agent::Context ctx;
  fleet_sim::SimOptions o;
  o.first = 5;
  o.count = 3;
  fleet_sim::FleetSim sim(spec_, board_, o, ctx, clock_, clock_);
  ASSERT_EQ(sim.size(), 3u);
  EXPECT_EQ(sim.device(0).config().xmpp.jid, "dev0006@localhost");
  EXPECT_EQ(sim.device(2).config().xmpp.jid, "dev0008@localhost");
  EXPECT_NEAR(sim.device(0).environment().temperature_c, 18.6, 1e-9) << "seed 6 (the position, from 1)";
  o.first = 18;
  o.count = 0;  // the rest
  fleet_sim::FleetSim rest(spec_, board_, o, ctx, clock_, clock_);
  EXPECT_EQ(rest.size(), 2u);
}

TEST_F(FleetSimSchedule, OneProcessRunsAtMostKMaxDevices) {
  std::string devices = "[";
  for (size_t i = 1; i <= fleet_sim::SimOptions::kMaxDevices + 5; ++i) {
    devices += (i > 1 ? ",{\"jid\":\"d" : "{\"jid\":\"d") + std::to_string(i) + "@localhost\",\"password\":\"p\"}";
  }
  devices += "]";
  fleet_sim::FleetSpec big;
  std::string error;
  ASSERT_TRUE(parse(fleet_json(devices), &big, &error)) << error;
  agent::Context ctx;
  fleet_sim::FleetSim sim(big, board_, fleet_sim::SimOptions(), ctx, clock_, clock_);
  EXPECT_EQ(sim.size(), fleet_sim::SimOptions::kMaxDevices);
}

TEST_F(FleetSimSchedule, ConcurrentFirstLoginsAreCapped) {
  agent::Context ctx;
  fleet_sim::SimOptions o;
  o.ramp_s = 0;  // all due at once
  o.max_logins = 3;
  fleet_sim::FleetSim sim(spec_, board_, o, ctx, clock_, clock_);
  sim.begin();
  (void)sim.tick();
  EXPECT_EQ(sim.stats().started, 3u);
  clock_.advance_ms(10000);
  (void)sim.tick();
  EXPECT_EQ(sim.stats().started, 3u) << "none came online, so no slot freed";
  sim.stop("test over", 0);

  o.max_logins = 0;  // no cap
  fleet_sim::FleetSim uncapped(spec_, board_, o, ctx, clock_, clock_);
  uncapped.begin();
  (void)uncapped.tick();
  EXPECT_EQ(uncapped.stats().started, 20u);
  uncapped.stop("test over", 0);
}

TEST_F(FleetSimSchedule, DevicesGetTheirOwnConfigAndEnvironment) {
  agent::Context ctx;
  fleet_sim::SimOptions o;
  o.ramp_s = 0;
  o.interval_s = 2.5;
  fleet_sim::FleetSim sim(spec_, board_, o, ctx, clock_, clock_);
  sim.begin();
  (void)sim.tick();
  std::set<std::string> jids;
  for (size_t i = 0; i < sim.size(); ++i) {
    fleet_sim::SimDevice& d = sim.device(i);
    jids.insert(d.config().xmpp.jid);
    EXPECT_DOUBLE_EQ(d.config().telemetry.interval_s, 2.5);
    ASSERT_NE(d.board(), nullptr);
    ASSERT_NE(d.runtime(), nullptr);
    EXPECT_STREQ(d.runtime()->session().log_tag(), d.config().xmpp.jid.c_str());
    // The simulated sensor reads this device's temperature.
    auto ch = d.board()->registry().find("env0.temperature");
    ASSERT_TRUE(ch.ok());
    EXPECT_NEAR(d.environment().temperature_c, 18.0 + 0.1 * static_cast<double>(i + 1), 1e-9);
  }
  EXPECT_EQ(jids.size(), sim.size());
  EXPECT_EQ(sim.stop("test over", 0), 0u) << "no stream was open";
}

}  // namespace

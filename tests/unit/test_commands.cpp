// agent/commands: the XEP-0050 router over the real sim board (and fake
// devices where a fault is easier to script): ACL matrix, every flow and
// stage, sessions (expiry on a manual clock, hijack, flood bound), every
// error condition, XML output, persisted settings. No sleeps, no network.
#include "agent/commands.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "agent/log.hpp"
#include "alloc_counter.hpp"
#include "boards/board.hpp"
#include "fakes.hpp"
#include "hal/sim/manual_clock.hpp"
#include "hal/sim/sim_gpio.hpp"

namespace {

using agent::CommandAction;
using agent::CommandCondition;
using agent::CommandResponse;
using agent::CommandStatus;
using agent::FieldType;
using agent::Form;
using agent::FormType;
using agent::StanzaCondition;

const std::string kSimBoard = std::string(XIOT_BOARDS_DIR) + "/sim/board.json";
constexpr uint32_t kRelayPin = 17;  // boards/sim/board.json

constexpr const char* kOwner = "admin@localhost/laptop";
constexpr const char* kOperator = "ops@localhost/phone";
constexpr const char* kViewer = "guest@localhost/tablet";
constexpr const char* kStranger = "eve@evil.example/x";

void quiet(void*, agent::LogLevel, const char*, size_t) {}

class FakeHost : public agent::CommandHost {
 public:
  void publish_telemetry_now(const drv::Device&, size_t) override { ++publishes; }
  agent::TelemetrySettings telemetry_settings() override { return settings; }
  hal::Err reconfigure_telemetry(const agent::TelemetrySettings& s) override {
    ++reconfigures;
    if (reconfigure_result == hal::Err::Ok) settings = s;
    return reconfigure_result;
  }
  hal::Err request_reboot(const char* reason) override {
    ++reboots;
    reboot_reason = reason;
    return reboot_result;
  }
  void firmware_update(const agent::FirmwareUpdateRequest& req, agent::FirmwareUpdateAnswer* out) override {
    fw_manifest = req.manifest_b64;
    fw_signature = req.signature_b64;
    fw_url = req.url;
    out->kind = fw_kind;
    std::snprintf(out->text, sizeof out->text, "%s", fw_text.c_str());
    std::snprintf(out->sid, sizeof out->sid, "fw-1");
    out->offset = 8192;
  }
  void diagnostics(agent::DiagnosticsInfo* out) override {
    out->uptime_s = 3600;
    std::snprintf(out->firmware, sizeof out->firmware, "0.1.0");
    std::snprintf(out->board, sizeof out->board, "sim");
    std::snprintf(out->boot_id, sizeof out->boot_id, "7f3a12cd");
    std::snprintf(out->health, sizeof out->health, "%s", health.c_str());
    std::snprintf(out->problem, sizeof out->problem, "%s", problem.c_str());
    out->reconnects = 2;
    out->journal_depth = 5;
    out->dropped_readings = 1;
    out->journal_bytes = 4096;
    out->journal_corrupt = 2;
    out->power_cut_lost = 23;
    out->replayed = 7;
    out->errors = 3;
    std::snprintf(out->last_error, sizeof out->last_error, "env0 read failed: timeout");
  }

  void rotate_identity_begin(char* csr_b64, size_t cap, agent::IdentityRotationAnswer* out) override {
    ++rot_begins;
    std::snprintf(csr_b64, cap, "%s", rot_csr.c_str());
    out->kind = rot_kind;
    std::snprintf(out->text, sizeof out->text, "%s", rot_text.c_str());
  }
  void rotate_identity_install(const char* cert_b64, agent::IdentityRotationAnswer* out) override {
    rot_cert = cert_b64;
    out->kind = rot_kind;
    std::snprintf(out->text, sizeof out->text, "%s", rot_text.c_str());
  }

  void alert_settings(agent::AlertSettings* out) override { *out = alerts; }
  hal::Err apply_alert_settings(const agent::AlertSettings& s) override {
    ++alert_applies;
    if (alert_result == hal::Err::Ok) alerts = s;
    return alert_result;
  }
  agent::AlertSettings alerts;
  int alert_applies = 0;
  hal::Err alert_result = hal::Err::Ok;

  agent::IdentityRotationAnswer::Kind rot_kind = agent::IdentityRotationAnswer::Kind::Ok;
  std::string rot_text = "installed pending.crt";
  std::string rot_csr = std::string(500, 'A') + "=";
  std::string rot_cert;
  int rot_begins = 0;
  agent::FirmwareUpdateAnswer::Kind fw_kind = agent::FirmwareUpdateAnswer::Kind::Accepted;
  std::string fw_text = "update to 1.1.0: send 100 bytes from offset 8192";
  std::string fw_manifest, fw_signature;
  bool fw_url = false;
  int publishes = 0;
  int reconfigures = 0;
  int reboots = 0;
  agent::TelemetrySettings settings{10000, 1};
  hal::Err reconfigure_result = hal::Err::Ok;
  hal::Err reboot_result = hal::Err::Ok;
  std::string reboot_reason;
  std::string health = "healthy";
  std::string problem;
};

class FakeStorage : public hal::Storage {
 public:
  hal::Result<size_t> read(const char* key, uint8_t* buf, size_t cap) override {
    auto it = blobs.find(key);
    if (it == blobs.end()) return hal::Err::NotFound;
    if (it->second.size() > cap) return hal::Err::Overflow;
    std::memcpy(buf, it->second.data(), it->second.size());
    return it->second.size();
  }
  hal::Err replace(const char* key, const uint8_t* data, size_t len) override {
    ++writes;
    if (replace_result != hal::Err::Ok) return replace_result;
    blobs[key] = std::string(reinterpret_cast<const char*>(data), len);
    return hal::Err::Ok;
  }
  hal::Err remove(const char* key) override {
    blobs.erase(key);
    return hal::Err::Ok;
  }
  std::map<std::string, std::string> blobs;
  hal::Err replace_result = hal::Err::Ok;
  int writes = 0;
};

/// A numeric actuator (a dimmer, 0..100 %) that records what it was given.
class FakeDimmer : public drv::Device {
 public:
  FakeDimmer() : drv::Device("dim0", "test,dimmer") {}
  size_t channel_count() const override { return 1; }
  const drv::ChannelSpec& channel(size_t) const override { return spec_; }
  hal::Err init() override { return hal::Err::Ok; }
  hal::Err sample() override { return hal::Err::Ok; }
  hal::Result<drv::Value> get(size_t) const override { return value; }
  hal::Err set(size_t, const drv::Value& v) override {
    ++sets;
    // 0..100 exactly, compared without floating point: m * 10^e <= 100.
    int64_t m = v.mantissa;
    int e = v.exponent;
    for (; e > 0; --e) m *= 10;
    for (; e < 0; ++e) m /= 10;
    if (v.mantissa < 0 || m > 100) return hal::Err::InvalidArgument;
    value = v;
    return hal::Err::Ok;
  }
  drv::Value value = drv::Value::numeric(0, 0);
  int sets = 0;

 private:
  drv::ChannelSpec spec_{"level", "%", drv::ChannelKind::Actuator, drv::ValueType::Numeric};
};

::testing::AssertionResult IsError(const CommandResponse& r, StanzaCondition c, CommandCondition app) {
  if (!r.is_error) return ::testing::AssertionFailure() << "not an error (status " << command_status_name(r.status) << ")";
  if (r.err.condition != c || r.err.app != app) {
    return ::testing::AssertionFailure() << "got " << agent::stanza_condition_name(r.err.condition) << "+"
                                         << agent::command_condition_name(r.err.app) << " (" << r.err.text << ")";
  }
  if (r.err.type != agent::default_error_type(c)) return ::testing::AssertionFailure() << "wrong error type";
  if (r.sessionid[0] != '\0' || r.has_form) return ::testing::AssertionFailure() << "error carries payload";
  return ::testing::AssertionSuccess();
}

/// Common parts: request helpers and a response/form pair.
class CmdHarness : public ::testing::Test {
 protected:
  void SetUp() override {
    agent::log_set_sink(quiet, nullptr);
    acl_.owners = {"admin@localhost", "root@localhost"};
    acl_.operators = {"ops@localhost"};
    acl_.viewers = {"*@localhost"};
  }
  void TearDown() override { agent::log_set_sink(nullptr, nullptr); }

  const CommandResponse& run(const char* from, const char* node, const char* sid = nullptr,
                             CommandAction action = CommandAction::Execute, const Form* form = nullptr) {
    agent::CommandRequest req;
    req.from = from;
    req.node = node;
    req.sessionid = sid;
    req.action = action;
    req.form = form;
    router_->handle(req, &resp_);
    return resp_;
  }
  /// Continues the session of the last response.
  const CommandResponse& again(const char* from, const char* node, CommandAction action,
                               const Form* form = nullptr) {
    const std::string sid = last_sid_;
    return run(from, node, sid.c_str(), action, form);
  }
  const CommandResponse& begin(const char* from, const char* node) {
    run(from, node);
    last_sid_ = resp_.sessionid;
    return resp_;
  }
  /// A submit form of text-single fields; a null value means "no <value/>".
  const Form* submit(std::vector<std::pair<const char*, const char*>> fields, FormType type = FormType::Submit) {
    form_.reset(type);
    for (const auto& f : fields) {
      EXPECT_TRUE(form_.add_field(FieldType::TextSingle, f.first).ok());
      if (f.second != nullptr) {
        EXPECT_EQ(form_.add_value(f.second), hal::Err::Ok);
      }
    }
    return &form_;
  }

  agent::AclConfig acl_;
  hal::sim::ManualClock clock_;
  agent::Rng rng_{0x5EED};
  FakeHost host_;
  FakeStorage storage_;
  std::unique_ptr<agent::CommandRouter> router_;
  CommandResponse resp_;
  Form form_;
  std::string last_sid_;
};

/// The router over the shipped sim board.
class CmdSim : public CmdHarness {
 protected:
  void SetUp() override {
    CmdHarness::SetUp();
    std::string error;
    board_ = boards::Board::open(kSimBoard.c_str(), clock_, clock_, &error);
    ASSERT_NE(board_, nullptr) << error;
    router_ = std::make_unique<agent::CommandRouter>(acl_, board_->registry(), clock_, rng_, host_, &storage_);
  }
  bool relay() {
    hal::Result<drv::ChannelRef> ref = board_->registry().find("relay0.state");
    EXPECT_TRUE(ref.ok());
    return ref.value().device->get(ref.value().index).value().flag;
  }
  std::unique_ptr<boards::Board> board_;
};

/// The router over scriptable fake devices.
class CmdFake : public CmdHarness {
 protected:
  void SetUp() override {
    CmdHarness::SetUp();
    auto env = std::make_unique<xiot_test::FakeDevice>(
        "env0", std::vector<drv::ChannelSpec>{xiot_test::sensor("temperature", "Cel"),
                                              xiot_test::sensor("humidity", "%RH")});
    env_ = env.get();
    env_->set_value(0, drv::Value::numeric(2154, -2));
    env_->set_value(1, drv::Value::numeric(401, -1));
    auto dim = std::make_unique<FakeDimmer>();
    dim_ = dim.get();
    ASSERT_EQ(reg_.add(std::move(env)), hal::Err::Ok);
    ASSERT_EQ(reg_.add(std::move(dim)), hal::Err::Ok);
    router_ = std::make_unique<agent::CommandRouter>(acl_, reg_, clock_, rng_, host_, &storage_);
  }
  drv::Registry reg_;
  xiot_test::FakeDevice* env_ = nullptr;
  FakeDimmer* dim_ = nullptr;
};

std::vector<std::string> listed(agent::CommandRouter& r, const char* from) {
  const agent::CommandInfo* out[8];
  const size_t n = r.list_commands(from, out, 8);
  std::vector<std::string> v;
  for (size_t i = 0; i < n; ++i) v.push_back(out[i]->node);
  return v;
}

// ---------------------------------------------------------------------------
// ACL

TEST_F(CmdSim, AclListFiltersByRole) {
  using V = std::vector<std::string>;
  EXPECT_EQ(listed(*router_, kOwner), (V{"read", "set", "diagnostics", "configure", "alerts", "reboot", "firmware-update", "rotate-identity"}));
  EXPECT_EQ(listed(*router_, kOperator), (V{"read", "set", "diagnostics"}));
  EXPECT_EQ(listed(*router_, kViewer), (V{"read"}));
  EXPECT_EQ(listed(*router_, kStranger), V{});
  EXPECT_EQ(listed(*router_, nullptr), V{});
  EXPECT_EQ(listed(*router_, "localhost"), V{});  // a server/component JID
  EXPECT_EQ(listed(*router_, "ADMIN@LocalHost/x"),
            (V{"read", "set", "diagnostics", "configure", "alerts", "reboot", "firmware-update", "rotate-identity"}));
  const agent::CommandInfo* two[2];
  EXPECT_EQ(router_->list_commands(kOwner, two, 2), 2u);
  EXPECT_STREQ(two[1]->name, "Set an actuator");
}

TEST_F(CmdSim, AclMatrixEveryRoleTimesEveryNode) {
  const char* nodes[] = {"read", "set", "diagnostics", "configure", "alerts", "reboot"};
  struct Who {
    const char* jid;
    int allowed;  // how many of `nodes`, in order, this role may run
  };
  const Who who[] = {{kOwner, 6}, {kOperator, 3}, {kViewer, 1}, {kStranger, 0}};
  for (const Who& w : who) {
    for (int i = 0; i < 6; ++i) {
      const CommandResponse& r = run(w.jid, nodes[i]);
      if (i < w.allowed) {
        EXPECT_FALSE(r.is_error) << w.jid << " " << nodes[i] << ": " << r.err.text;
        EXPECT_STREQ(r.node, nodes[i]);
      } else {
        EXPECT_TRUE(IsError(r, StanzaCondition::Forbidden, CommandCondition::None)) << w.jid << " " << nodes[i];
        EXPECT_EQ(r.err.type, agent::ErrorType::Auth);
      }
    }
  }
  EXPECT_STREQ(run(kViewer, "set").err.text, "'set' needs the operator role (you are viewer)");
  EXPECT_STREQ(run(kStranger, "read").err.text, "not authorised");
}

TEST_F(CmdSim, AclStrangerLearnsNothingAboutNodes) {
  EXPECT_TRUE(IsError(run(kStranger, "no-such-node"), StanzaCondition::Forbidden, CommandCondition::None));
  EXPECT_TRUE(IsError(run(nullptr, "read"), StanzaCondition::Forbidden, CommandCondition::None));
  EXPECT_TRUE(IsError(run("not a jid", "read"), StanzaCondition::Forbidden, CommandCondition::None));
  EXPECT_TRUE(IsError(run(kViewer, "no-such-node"), StanzaCondition::ItemNotFound, CommandCondition::None));
  EXPECT_STREQ(resp_.err.text, "no command 'no-such-node'");
  EXPECT_TRUE(IsError(run(kViewer, nullptr), StanzaCondition::ItemNotFound, CommandCondition::None));
  // firmware-update is owner-only (docs/updates.md).
  EXPECT_TRUE(IsError(run(kOperator, "firmware-update"), StanzaCondition::Forbidden, CommandCondition::None));
  EXPECT_STREQ(resp_.err.text, "'firmware-update' needs the owner role (you are operator)");
  EXPECT_FALSE(run(kOwner, "firmware-update").is_error);
}

TEST_F(CmdFake, AclIsCheckedBeforeAnyHardwareOrHostEffect) {
  // A stranger: nothing sampled, nothing set, no host call, whatever it sends.
  run(kStranger, "read");
  run(kStranger, "set", nullptr, CommandAction::Execute, submit({{"channel", "dim0.level"}, {"value", "50"}}));
  run(kStranger, "reboot", nullptr, CommandAction::Execute, submit({{"confirm", "1"}}));
  run(kStranger, "configure", nullptr, CommandAction::Execute, submit({{"batch_max", "5"}}));
  run(kStranger, "read", nullptr, CommandAction::Malformed);
  EXPECT_TRUE(IsError(resp_, StanzaCondition::Forbidden, CommandCondition::None));
  // Role too low: same.
  run(kViewer, "set", nullptr, CommandAction::Execute, submit({{"channel", "dim0.level"}, {"value", "50"}}));
  EXPECT_TRUE(IsError(resp_, StanzaCondition::Forbidden, CommandCondition::None));
  run(kOperator, "reboot", nullptr, CommandAction::Execute, submit({{"confirm", "1"}}));
  EXPECT_TRUE(IsError(resp_, StanzaCondition::Forbidden, CommandCondition::None));
  EXPECT_EQ(env_->sample_calls, 0);
  EXPECT_EQ(dim_->sets, 0);
  EXPECT_EQ(host_.publishes, 0);
  EXPECT_EQ(host_.reboots, 0);
  EXPECT_EQ(host_.reconfigures, 0);
  EXPECT_EQ(router_->live_sessions(), 0u);
}

TEST_F(CmdFake, AclBeforeFormLimits) {
  // An oversized form from a stranger is forbidden, not bad-request: the
  // ACL runs before anything looks at the payload.
  form_.reset(FormType::Submit);
  for (int i = 0; i < 40; ++i) (void)form_.add_field(FieldType::TextSingle, ("f" + std::to_string(i)).c_str());
  ASSERT_EQ(form_.build_error(), hal::Err::NoSpace);
  EXPECT_TRUE(IsError(run(kStranger, "set", nullptr, CommandAction::Execute, &form_), StanzaCondition::Forbidden,
                      CommandCondition::None));
  EXPECT_TRUE(IsError(run(kOperator, "set", nullptr, CommandAction::Execute, &form_), StanzaCondition::BadRequest,
                      CommandCondition::BadPayload));
  EXPECT_STREQ(resp_.err.text, "form rejected: more than 32 fields");
  // A value over the limit is refused, not cut to fit.
  form_.reset(FormType::Submit);
  ASSERT_TRUE(form_.add_field(FieldType::TextSingle, "channel").ok());
  ASSERT_EQ(form_.add_value("dim0.level"), hal::Err::Ok);
  ASSERT_TRUE(form_.add_field(FieldType::TextSingle, "value").ok());
  EXPECT_EQ(form_.add_value(("5" + std::string(300, '0')).c_str()), hal::Err::Overflow);
  EXPECT_TRUE(IsError(run(kOperator, "set", nullptr, CommandAction::Execute, &form_), StanzaCondition::BadRequest,
                      CommandCondition::BadPayload));
  EXPECT_STREQ(resp_.err.text, "form rejected: value of field 'value' longer than 256 bytes");
  EXPECT_EQ(dim_->sets, 0);
}

// ---------------------------------------------------------------------------
// read

TEST_F(CmdSim, ReadCompletesWithOneResultFieldPerChannel) {
  clock_.advance_ms(42000);
  const CommandResponse& r = run(kViewer, "read");
  ASSERT_FALSE(r.is_error) << r.err.text;
  EXPECT_EQ(r.status, CommandStatus::Completed);
  EXPECT_NE(r.sessionid[0], '\0');
  EXPECT_EQ(r.actions, 0);
  ASSERT_TRUE(r.has_form);
  EXPECT_EQ(r.form.type(), FormType::Result);
  EXPECT_EQ(r.form.field_count(), board_->registry().channel_count());
  const agent::FormField* t = r.form.find("env0.temperature");
  ASSERT_NE(t, nullptr);
  EXPECT_STREQ(t->label(), "env0.temperature (Cel)");
  EXPECT_EQ(t->type(), FieldType::TextSingle);
  EXPECT_STREQ(t->first_value(), "21.54");
  EXPECT_STREQ(r.form.value_of("env0.humidity"), "40.1");
  EXPECT_STREQ(r.form.value_of("env0.pressure"), "101325");
  const agent::FormField* relay = r.form.find("relay0.state");
  ASSERT_NE(relay, nullptr);
  EXPECT_EQ(relay->type(), FieldType::Boolean);
  EXPECT_STREQ(relay->label(), "relay0.state");
  EXPECT_STREQ(relay->first_value(), "false");
  EXPECT_STREQ(r.form.value_of("sys0.uptime"), "42");
  EXPECT_EQ(r.note_count, 0u);
  // Single-stage: no session is kept.
  EXPECT_EQ(router_->live_sessions(), 0u);
  EXPECT_TRUE(IsError(run(kViewer, "read", r.sessionid, CommandAction::Complete), StanzaCondition::BadRequest,
                      CommandCondition::BadSessionid));
}

TEST_F(CmdFake, ReadFailedDeviceSaysSoInTheFieldAndOneNote) {
  env_->sample_error = hal::Err::Timeout;
  const CommandResponse& r = run(kViewer, "read");
  ASSERT_FALSE(r.is_error) << r.err.text;
  EXPECT_EQ(r.status, CommandStatus::Completed);
  const agent::FormField* t = r.form.find("env0.temperature");
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->value_count(), 0u);
  EXPECT_STREQ(t->desc(), "read failed: timeout");
  EXPECT_STREQ(r.form.find("env0.humidity")->desc(), "read failed: timeout");
  EXPECT_STREQ(r.form.value_of("dim0.level"), "0");
  ASSERT_EQ(r.note_count, 1u);  // one per device, not per channel
  EXPECT_EQ(r.notes[0].type, agent::NoteType::Warn);
  EXPECT_STREQ(r.notes[0].text, "env0: read failed: timeout");
}

TEST_F(CmdFake, ReadChannelFailureNamesTheChannel) {
  env_->get_error = hal::Err::NotSupported;
  env_->get_error_channel = 1;
  const CommandResponse& r = run(kViewer, "read");
  ASSERT_FALSE(r.is_error);
  EXPECT_STREQ(r.form.value_of("env0.temperature"), "21.54");
  EXPECT_STREQ(r.form.find("env0.humidity")->desc(), "read failed: not supported");
  ASSERT_EQ(r.note_count, 1u);
  EXPECT_STREQ(r.notes[0].text, "env0.humidity: read failed: not supported");
}

TEST_F(CmdSim, ReadWhenEveryChannelFailsIsInternalServerError) {
  drv::Registry reg;
  auto dev = std::make_unique<xiot_test::FakeDevice>(
      "env9", std::vector<drv::ChannelSpec>{xiot_test::sensor("temperature", "Cel")});
  dev->sample_error = hal::Err::Nack;
  ASSERT_EQ(reg.add(std::move(dev)), hal::Err::Ok);
  agent::CommandRouter router(acl_, reg, clock_, rng_, host_, &storage_);
  agent::CommandRequest req;
  req.from = kViewer;
  req.node = "read";
  router.handle(req, &resp_);
  EXPECT_TRUE(IsError(resp_, StanzaCondition::InternalServerError, CommandCondition::None));
  EXPECT_STREQ(resp_.err.text, "no channel could be read (env9.temperature: no acknowledge)");
}

// ---------------------------------------------------------------------------
// diagnostics

TEST_F(CmdSim, DiagnosticsCompletesWithTheHostFacts) {
  host_.health = "degraded";
  host_.problem = "env0 read failed: timeout";
  const CommandResponse& r = run(kOperator, "diagnostics");
  ASSERT_FALSE(r.is_error) << r.err.text;
  EXPECT_EQ(r.status, CommandStatus::Completed);
  ASSERT_TRUE(r.has_form);
  EXPECT_EQ(r.form.type(), FormType::Result);
  const std::map<std::string, std::string> want = {
      {"uptime_s", "3600"},       {"firmware", "0.1.0"},        {"board", "sim"},
      {"boot_id", "7f3a12cd"},    {"health", "degraded"},       {"problem", "env0 read failed: timeout"},
      {"channels", std::to_string(board_->registry().channel_count())}, {"reconnects", "2"},          {"journal_depth", "5"},
      {"dropped_readings", "1"},  {"errors", "3"},              {"last_error", "env0 read failed: timeout"},
      {"journal_bytes", "4096"},  {"journal_corrupt", "2"},     {"replayed", "7"},
      {"power_cut_lost", "23"},   {"command_sessions", "0"},
  };
  for (const auto& kv : want) {
    const char* v = r.form.value_of(kv.first.c_str());
    ASSERT_NE(v, nullptr) << kv.first;
    EXPECT_EQ(kv.second, v) << kv.first;
  }
  EXPECT_EQ(r.form.field_count(), want.size());
}

// ---------------------------------------------------------------------------
// set

TEST_F(CmdSim, SetTwoStagesDrivesTheRelayAndPublishesNow) {
  const CommandResponse& first = begin(kOperator, "set");
  ASSERT_FALSE(first.is_error) << first.err.text;
  EXPECT_EQ(first.status, CommandStatus::Executing);
  EXPECT_FALSE(last_sid_.empty());
  EXPECT_EQ(first.actions, agent::kActionNext | agent::kActionComplete);
  EXPECT_EQ(first.default_action, CommandAction::Complete);
  ASSERT_TRUE(first.has_form);
  EXPECT_EQ(first.form.type(), FormType::Form);
  const agent::FormField* ch = first.form.find("channel");
  ASSERT_NE(ch, nullptr);
  EXPECT_EQ(ch->type(), FieldType::ListSingle);
  EXPECT_TRUE(ch->required());
  ASSERT_EQ(ch->option_count(), 1u);  // only actuators: not button0.state or the sensors
  EXPECT_STREQ(ch->option(0).value, "relay0.state");
  EXPECT_STREQ(ch->option(0).label, "relay0.state (boolean)");
  ASSERT_NE(first.form.find("value"), nullptr);
  EXPECT_EQ(router_->live_sessions(), 1u);
  EXPECT_FALSE(relay());

  const CommandResponse& done =
      again(kOperator, "set", CommandAction::Complete, submit({{"channel", "relay0.state"}, {"value", "on"}}));
  ASSERT_FALSE(done.is_error) << done.err.text;
  EXPECT_EQ(done.status, CommandStatus::Completed);
  EXPECT_EQ(last_sid_, done.sessionid);
  ASSERT_EQ(done.note_count, 1u);
  EXPECT_STREQ(done.notes[0].text, "relay0.state set to true");
  EXPECT_TRUE(relay());                                   // read back through the registry
  EXPECT_TRUE(board_->sim_gpio()->level(kRelayPin));      // and on the (simulated) pin
  EXPECT_EQ(host_.publishes, 1);
  EXPECT_EQ(router_->live_sessions(), 0u);
  // The session is over.
  EXPECT_TRUE(IsError(again(kOperator, "set", CommandAction::Complete,
                            submit({{"channel", "relay0.state"}, {"value", "off"}})),
                      StanzaCondition::BadRequest, CommandCondition::BadSessionid));
  EXPECT_TRUE(relay());
}

TEST_F(CmdSim, SetNextShowsTheCurrentValueAndPrevGoesBack) {
  begin(kOperator, "set");
  const CommandResponse& second = again(kOperator, "set", CommandAction::Next, submit({{"channel", "relay0.state"}}));
  ASSERT_FALSE(second.is_error) << second.err.text;
  EXPECT_EQ(second.status, CommandStatus::Executing);
  EXPECT_EQ(second.actions, agent::kActionPrev | agent::kActionComplete);
  EXPECT_STREQ(second.form.title(), "Set relay0.state");
  ASSERT_GE(second.form.field_count(), 2u);
  EXPECT_EQ(second.form.field(0).type(), FieldType::Fixed);
  EXPECT_STREQ(second.form.field(0).first_value(), "relay0.state is now false");
  const agent::FormField* v = second.form.find("value");
  ASSERT_NE(v, nullptr);
  EXPECT_EQ(v->type(), FieldType::Boolean);
  EXPECT_TRUE(v->required());
  EXPECT_STREQ(v->first_value(), "0");
  EXPECT_EQ(host_.publishes, 0);

  const CommandResponse& back = again(kOperator, "set", CommandAction::Prev);
  ASSERT_FALSE(back.is_error) << back.err.text;
  EXPECT_EQ(back.status, CommandStatus::Executing);
  EXPECT_EQ(back.actions, agent::kActionNext | agent::kActionComplete);
  EXPECT_STREQ(back.form.value_of("channel"), "relay0.state");  // preselected

  again(kOperator, "set", CommandAction::Next, submit({{"channel", "relay0.state"}}));
  ASSERT_FALSE(resp_.is_error);
  // execute on an open session is the stage's default action (complete).
  form_.reset(FormType::Submit);
  ASSERT_TRUE(form_.add_field(FieldType::Boolean, "value").ok());
  ASSERT_EQ(form_.add_value("1"), hal::Err::Ok);
  const CommandResponse& done = again(kOperator, "set", CommandAction::Execute, &form_);
  ASSERT_FALSE(done.is_error) << done.err.text;
  EXPECT_EQ(done.status, CommandStatus::Completed);
  EXPECT_TRUE(relay());
  EXPECT_EQ(host_.publishes, 1);
}

TEST_F(CmdSim, SetCancelAtEveryStage) {
  begin(kOperator, "set");
  const CommandResponse& c1 = again(kOperator, "set", CommandAction::Cancel);
  ASSERT_FALSE(c1.is_error);
  EXPECT_EQ(c1.status, CommandStatus::Canceled);
  EXPECT_EQ(last_sid_, c1.sessionid);
  EXPECT_EQ(router_->live_sessions(), 0u);

  begin(kOperator, "set");
  again(kOperator, "set", CommandAction::Next, submit({{"channel", "relay0.state"}}));
  const CommandResponse& c2 = again(kOperator, "set", CommandAction::Cancel);
  EXPECT_EQ(c2.status, CommandStatus::Canceled);
  EXPECT_TRUE(IsError(again(kOperator, "set", CommandAction::Complete, submit({{"value", "1"}})),
                      StanzaCondition::BadRequest, CommandCondition::BadSessionid));

  // XEP-0004 §3.1: a submitted form of type cancel cancels too.
  begin(kOperator, "set");
  const CommandResponse& c3 =
      again(kOperator, "set", CommandAction::Complete, submit({{"channel", "relay0.state"}}, FormType::Cancel));
  EXPECT_EQ(c3.status, CommandStatus::Canceled);
  EXPECT_FALSE(relay());
  EXPECT_EQ(host_.publishes, 0);
  EXPECT_EQ(router_->live_sessions(), 0u);
}

TEST_F(CmdSim, SetOneShotExecuteWithASubmitForm) {
  const CommandResponse& r = run(kOperator, "set", nullptr, CommandAction::Execute,
                                 submit({{"channel", "relay0.state"}, {"value", "true"}}));
  ASSERT_FALSE(r.is_error) << r.err.text;
  EXPECT_EQ(r.status, CommandStatus::Completed);
  EXPECT_NE(r.sessionid[0], '\0');
  EXPECT_TRUE(relay());
  EXPECT_EQ(host_.publishes, 1);
  EXPECT_EQ(router_->live_sessions(), 0u);
  // A form that is not a submission is refused on execute.
  EXPECT_TRUE(IsError(run(kOperator, "set", nullptr, CommandAction::Execute,
                          submit({{"channel", "relay0.state"}}, FormType::Result)),
                      StanzaCondition::BadRequest, CommandCondition::BadPayload));
  EXPECT_STREQ(resp_.err.text, "expected a submit form, got 'result'");
}

TEST_F(CmdSim, SetBadPayloadsNameTheFieldAndKeepTheSession) {
  struct Case {
    const char* channel;
    const char* value;
    const char* text;
  };
  const Case cases[] = {
      {nullptr, "1", "channel: required"},
      {"", "1", "channel: required"},
      {"nope.x", "1", "channel: unknown channel 'nope.x'"},
      {"env0.temperature", "1", "channel: env0.temperature is a sensor and cannot be set"},
      {"button0.state", "1", "channel: button0.state is a sensor and cannot be set"},
      {"relay0.state", nullptr, "value: required"},
      {"relay0.state", "maybe", "value: 'maybe' is not a boolean for relay0.state (use true/false, 1/0 or on/off)"},
      {"relay0.state", "2", "value: '2' is not a boolean for relay0.state (use true/false, 1/0 or on/off)"},
  };
  begin(kOperator, "set");
  for (const Case& c : cases) {
    std::vector<std::pair<const char*, const char*>> fields;
    if (c.channel != nullptr) fields.emplace_back("channel", c.channel);
    fields.emplace_back("value", c.value);
    const CommandResponse& r = again(kOperator, "set", CommandAction::Complete, submit(fields));
    EXPECT_TRUE(IsError(r, StanzaCondition::BadRequest, CommandCondition::BadPayload)) << c.text;
    EXPECT_EQ(r.err.type, agent::ErrorType::Modify);
    EXPECT_STREQ(r.err.text, c.text);
  }
  EXPECT_FALSE(relay());
  EXPECT_EQ(host_.publishes, 0);
  // The session survived every bad submission; a good one completes it.
  EXPECT_EQ(router_->live_sessions(), 1u);
  const CommandResponse& ok =
      again(kOperator, "set", CommandAction::Complete, submit({{"channel", "relay0.state"}, {"value", "1"}}));
  EXPECT_EQ(ok.status, CommandStatus::Completed) << ok.err.text;
  EXPECT_TRUE(relay());
  // next with a bad channel: bad-payload as well.
  begin(kOperator, "set");
  EXPECT_TRUE(IsError(again(kOperator, "set", CommandAction::Next, submit({{"channel", "env0.pressure"}})),
                      StanzaCondition::BadRequest, CommandCondition::BadPayload));
}

TEST_F(CmdSim, SetMissingOrWrongForm) {
  begin(kOperator, "set");
  EXPECT_TRUE(IsError(again(kOperator, "set", CommandAction::Complete), StanzaCondition::BadRequest,
                      CommandCondition::BadPayload));
  EXPECT_STREQ(resp_.err.text, "missing form (expected a submit data form)");
  EXPECT_TRUE(IsError(again(kOperator, "set", CommandAction::Next, submit({{"channel", "relay0.state"}}, FormType::Form)),
                      StanzaCondition::BadRequest, CommandCondition::BadPayload));
  EXPECT_STREQ(resp_.err.text, "expected a submit form, got 'form'");
}

TEST_F(CmdSim, SetHardwareFailureIsInternalServerError) {
  board_->sim_gpio()->fail_next(kRelayPin, hal::Err::Io);
  begin(kOperator, "set");
  const CommandResponse& r =
      again(kOperator, "set", CommandAction::Complete, submit({{"channel", "relay0.state"}, {"value", "on"}}));
  EXPECT_TRUE(IsError(r, StanzaCondition::InternalServerError, CommandCondition::None));
  EXPECT_EQ(r.err.type, agent::ErrorType::Cancel);
  EXPECT_STREQ(r.err.text, "relay0.state: set failed: i/o error");
  EXPECT_FALSE(relay());
  EXPECT_EQ(host_.publishes, 0);
}

TEST_F(CmdSim, SetActionsTheStageDoesNotAllowAreBadAction) {
  begin(kOperator, "set");
  EXPECT_TRUE(IsError(again(kOperator, "set", CommandAction::Prev), StanzaCondition::BadRequest,
                      CommandCondition::BadAction));
  EXPECT_STREQ(resp_.err.text, "no previous stage");
  again(kOperator, "set", CommandAction::Next, submit({{"channel", "relay0.state"}}));
  ASSERT_FALSE(resp_.is_error);
  EXPECT_TRUE(IsError(again(kOperator, "set", CommandAction::Next, submit({{"channel", "relay0.state"}})),
                      StanzaCondition::BadRequest, CommandCondition::BadAction));
  EXPECT_STREQ(resp_.err.text, "no next stage");
  begin(kOwner, "configure");
  EXPECT_TRUE(IsError(again(kOwner, "configure", CommandAction::Next, submit({{"batch_max", "2"}})),
                      StanzaCondition::BadRequest, CommandCondition::BadAction));
  EXPECT_TRUE(IsError(again(kOwner, "configure", CommandAction::Prev), StanzaCondition::BadRequest,
                      CommandCondition::BadAction));
}

TEST_F(CmdFake, SetNumericActuatorParsesExactDecimals) {
  struct Case {
    const char* value;
    bool ok;
    const char* text;
  };
  const Case cases[] = {
      {"abc", false, "value: 'abc' is not a number (for dim0.level)"},
      {"1e300", false, "value: '1e300' is out of range for dim0.level"},
      {"150", false, "value: '150' is out of range for dim0.level"},  // the device says InvalidArgument
      {"-1", false, "value: '-1' is out of range for dim0.level"},
      {"42.5", true, "dim0.level set to 42.5"},
  };
  for (const Case& c : cases) {
    const CommandResponse& r = run(kOperator, "set", nullptr, CommandAction::Execute,
                                   submit({{"channel", "dim0.level"}, {"value", c.value}}));
    if (c.ok) {
      ASSERT_FALSE(r.is_error) << r.err.text;
      ASSERT_EQ(r.note_count, 1u);
      EXPECT_STREQ(r.notes[0].text, c.text);
    } else {
      EXPECT_TRUE(IsError(r, StanzaCondition::BadRequest, CommandCondition::BadPayload)) << c.value;
      EXPECT_STREQ(r.err.text, c.text);
    }
  }
  EXPECT_EQ(dim_->value.mantissa, 425);
  EXPECT_EQ(dim_->value.exponent, -1);
  EXPECT_EQ(host_.publishes, 1);
  // The value stage of a numeric actuator is text-single, prefilled.
  begin(kOperator, "set");
  const CommandResponse& r = again(kOperator, "set", CommandAction::Next, submit({{"channel", "dim0.level"}}));
  ASSERT_FALSE(r.is_error) << r.err.text;
  const agent::FormField* v = r.form.find("value");
  ASSERT_NE(v, nullptr);
  EXPECT_EQ(v->type(), FieldType::TextSingle);
  EXPECT_STREQ(v->label(), "dim0.level (%)");
  EXPECT_STREQ(v->first_value(), "42.5");
  EXPECT_STREQ(r.form.field(0).first_value(), "dim0.level is now 42.5 %");
}

TEST_F(CmdSim, SetWithoutActuatorsSaysSo) {
  drv::Registry reg;
  ASSERT_EQ(reg.add(std::make_unique<xiot_test::FakeDevice>(
                "env9", std::vector<drv::ChannelSpec>{xiot_test::sensor("temperature", "Cel")})),
            hal::Err::Ok);
  agent::CommandRouter router(acl_, reg, clock_, rng_, host_, &storage_);
  agent::CommandRequest req;
  req.from = kOperator;
  req.node = "set";
  router.handle(req, &resp_);
  ASSERT_FALSE(resp_.is_error);
  EXPECT_EQ(resp_.status, CommandStatus::Completed);
  ASSERT_EQ(resp_.note_count, 1u);
  EXPECT_STREQ(resp_.notes[0].text, "this device has no actuator channels");
  EXPECT_EQ(router.live_sessions(), 0u);
}

// ---------------------------------------------------------------------------
// configure

TEST_F(CmdSim, ConfigurePrefillsThenReconfiguresAndPersists) {
  host_.settings = {10000, 1};
  const CommandResponse& form = begin(kOwner, "configure");
  ASSERT_FALSE(form.is_error) << form.err.text;
  EXPECT_EQ(form.status, CommandStatus::Executing);
  EXPECT_EQ(form.actions, agent::kActionComplete);
  EXPECT_STREQ(form.form.value_of("interval_s"), "10");
  EXPECT_STREQ(form.form.value_of("batch_max"), "1");
  EXPECT_TRUE(form.form.find("interval_s")->required());
  EXPECT_TRUE(form.form.find("batch_max")->required());
  EXPECT_STREQ(form.form.value_of("sample_s"), "1");
  EXPECT_STREQ(form.form.value_of("batch_window_s"), "1");

  const CommandResponse& done = again(kOwner, "configure", CommandAction::Complete,
                                      submit({{"interval_s", "0.05"}, {"batch_max", "5"}, {"sample_s", "0.25"}}));
  ASSERT_FALSE(done.is_error) << done.err.text;
  EXPECT_EQ(done.status, CommandStatus::Completed);
  EXPECT_EQ(host_.reconfigures, 1);
  EXPECT_EQ(host_.settings.interval_ms, 50u);
  EXPECT_EQ(host_.settings.batch_max, 5u);
  EXPECT_EQ(host_.settings.sample_ms, 250u);
  ASSERT_EQ(done.note_count, 1u);
  EXPECT_STREQ(done.notes[0].text,
               "telemetry every 0.05 s, 5 readings per item, on-change sampling every 0.25 s");
  ASSERT_EQ(storage_.blobs.count(agent::kSettingsKey), 1u);
  EXPECT_EQ(storage_.blobs[agent::kSettingsKey],
            R"({"version":1,"telemetry":{"interval_ms":50,"batch_max":5,"sample_ms":250,"batch_window_ms":1000}})");
  agent::TelemetrySettings back;
  ASSERT_EQ(agent::load_settings(storage_, agent::kSettingsKey, &back), hal::Err::Ok);
  EXPECT_EQ(back.interval_ms, 50u);
  EXPECT_EQ(back.batch_max, 5u);
  EXPECT_EQ(back.sample_ms, 250u);
  EXPECT_EQ(back.batch_window_ms, 1000u);
  // A blob from before sample_ms existed still loads, with the default; one
  // from before batch_window_ms keeps the window it was given (the config's).
  storage_.blobs[agent::kSettingsKey] = R"({"version":1,"telemetry":{"interval_ms":50,"batch_max":5}})";
  back.batch_window_ms = 250;
  ASSERT_EQ(agent::load_settings(storage_, agent::kSettingsKey, &back), hal::Err::Ok);
  EXPECT_EQ(back.sample_ms, 1000u);
  EXPECT_EQ(back.batch_window_ms, 250u);

  // The next form shows the new values.
  begin(kOwner, "configure");
  EXPECT_STREQ(resp_.form.value_of("interval_s"), "0.05");
  EXPECT_STREQ(resp_.form.value_of("batch_max"), "5");
  EXPECT_STREQ(resp_.form.value_of("sample_s"), "0.25");
}

TEST_F(CmdSim, ConfigureOmittedFieldKeepsItsValue) {
  host_.settings = {1500, 1};
  begin(kOwner, "configure");
  EXPECT_STREQ(resp_.form.value_of("interval_s"), "1.5");
  again(kOwner, "configure", CommandAction::Complete, submit({{"batch_max", "3"}}));
  ASSERT_FALSE(resp_.is_error) << resp_.err.text;
  EXPECT_EQ(host_.settings.interval_ms, 1500u);
  EXPECT_EQ(host_.settings.batch_max, 3u);
  EXPECT_EQ(host_.settings.batch_window_ms, 1000u);
}

TEST_F(CmdSim, ConfigureTheBatchingWindow) {
  host_.settings = {50, 1};
  begin(kOwner, "configure");
  again(kOwner, "configure", CommandAction::Complete, submit({{"batch_window_s", "0"}}));
  ASSERT_FALSE(resp_.is_error) << resp_.err.text;
  EXPECT_EQ(host_.settings.batch_window_ms, 0u);
  EXPECT_EQ(storage_.blobs[agent::kSettingsKey],
            R"({"version":1,"telemetry":{"interval_ms":50,"batch_max":1,"sample_ms":1000,"batch_window_ms":0}})");
  begin(kOwner, "configure");
  EXPECT_STREQ(resp_.form.value_of("batch_window_s"), "0");
  again(kOwner, "configure", CommandAction::Complete, submit({{"batch_window_s", "2.5"}}));
  ASSERT_FALSE(resp_.is_error) << resp_.err.text;
  EXPECT_EQ(host_.settings.batch_window_ms, 2500u);
}

TEST_F(CmdSim, ConfigureBadValues) {
  struct Case {
    const char* var;
    const char* value;
    const char* text;
  };
  const Case cases[] = {
      {"interval_s", "abc", "interval_s: 'abc' is not a number"},
      {"interval_s", "", "interval_s: required"},
      {"interval_s", nullptr, "interval_s: required"},
      {"interval_s", "0.0005", "interval_s: '0.0005' is finer than a millisecond"},
      {"interval_s", "0.01", "interval_s: '0.01' is out of range (0.05 to 86400)"},
      {"interval_s", "86400.001", "interval_s: '86400.001' is out of range (0.05 to 86400)"},
      {"interval_s", "-5", "interval_s: '-5' is out of range (0.05 to 86400)"},
      {"interval_s", "1e100", "interval_s: '1e100' is out of range (0.05 to 86400)"},
      {"batch_max", "2.5", "batch_max: '2.5' is not a whole number"},
      {"batch_max", "0", "batch_max: '0' is out of range (1 to 100)"},
      {"batch_max", "101", "batch_max: '101' is out of range (1 to 100)"},
      {"sample_s", "0.01", "sample_s: '0.01' is out of range (0.05 to 86400)"},
      {"sample_s", "x", "sample_s: 'x' is not a number"},
      {"batch_window_s", "-1", "batch_window_s: '-1' is out of range (0 to 60)"},
      {"batch_window_s", "60.001", "batch_window_s: '60.001' is out of range (0 to 60)"},
      {"batch_window_s", "soon", "batch_window_s: 'soon' is not a number"},
  };
  begin(kOwner, "configure");
  for (const Case& c : cases) {
    const CommandResponse& r = again(kOwner, "configure", CommandAction::Complete, submit({{c.var, c.value}}));
    EXPECT_TRUE(IsError(r, StanzaCondition::BadRequest, CommandCondition::BadPayload)) << c.text;
    EXPECT_STREQ(r.err.text, c.text);
  }
  EXPECT_EQ(host_.reconfigures, 0);
  EXPECT_EQ(storage_.writes, 0);
  // Edges are accepted.
  again(kOwner, "configure", CommandAction::Complete, submit({{"interval_s", "86400"}, {"batch_max", "100"}}));
  ASSERT_FALSE(resp_.is_error) << resp_.err.text;
  EXPECT_EQ(host_.settings.interval_ms, 86400000u);
  EXPECT_EQ(host_.settings.batch_max, 100u);
}

TEST_F(CmdSim, ConfigureHostErrors) {
  const auto attempt = [this](hal::Err e) -> const CommandResponse& {
    host_.reconfigure_result = e;
    return run(kOwner, "configure", nullptr, CommandAction::Execute, submit({{"batch_max", "7"}}));
  };
  EXPECT_TRUE(IsError(attempt(hal::Err::NoSpace), StanzaCondition::ResourceConstraint, CommandCondition::None));
  EXPECT_EQ(resp_.err.type, agent::ErrorType::Wait);
  EXPECT_STREQ(resp_.err.text, "not enough memory for batch_max 7");
  EXPECT_TRUE(IsError(attempt(hal::Err::InvalidArgument), StanzaCondition::BadRequest, CommandCondition::BadPayload));
  EXPECT_TRUE(IsError(attempt(hal::Err::Io), StanzaCondition::InternalServerError, CommandCondition::None));
  EXPECT_STREQ(resp_.err.text, "reconfigure failed: i/o error");
  EXPECT_EQ(storage_.writes, 0);  // nothing applied, nothing persisted
}

TEST_F(CmdSim, ConfigurePersistFailureIsReportedNotHidden) {
  storage_.replace_result = hal::Err::NoSpace;
  const CommandResponse& r = run(kOwner, "configure", nullptr, CommandAction::Execute, submit({{"batch_max", "4"}}));
  ASSERT_FALSE(r.is_error) << r.err.text;
  EXPECT_EQ(r.status, CommandStatus::Completed);
  EXPECT_EQ(host_.settings.batch_max, 4u);
  ASSERT_EQ(r.note_count, 2u);
  EXPECT_EQ(r.notes[1].type, agent::NoteType::Error);
  EXPECT_STREQ(r.notes[1].text, "applied, but not persisted: no space");

  agent::CommandRouter no_storage(acl_, board_->registry(), clock_, rng_, host_, nullptr);
  agent::CommandRequest req;
  req.from = kOwner;
  req.node = "configure";
  req.form = submit({{"batch_max", "2"}});
  no_storage.handle(req, &resp_);
  ASSERT_FALSE(resp_.is_error) << resp_.err.text;
  ASSERT_EQ(resp_.note_count, 2u);
  EXPECT_EQ(resp_.notes[1].type, agent::NoteType::Warn);
  EXPECT_STREQ(resp_.notes[1].text, "applied, but not persisted (no storage on this device)");
}

// ---------------------------------------------------------------------------
// reboot

// ---------------------------------------------------------------------------
// alerts (docs/alerts.md)

/// A submit form for `alerts`: room (jid-single), and the rules as the values
/// of one text-multi field (absent when `rules` is null).
const Form* alerts_form(Form& f, const char* room, std::vector<const char*>* rules) {
  f.reset(FormType::Submit);
  if (room != nullptr) {
    EXPECT_TRUE(f.add_field(FieldType::JidSingle, "room").ok());
    EXPECT_EQ(f.add_value(room), hal::Err::Ok);
  }
  if (rules != nullptr) {
    EXPECT_TRUE(f.add_field(FieldType::TextMulti, "rules").ok());
    for (const char* r : *rules) EXPECT_EQ(f.add_value(r), hal::Err::Ok);
  }
  return &f;
}

TEST_F(CmdSim, AlertsShowsTheRulesAppliesAndPersistsThem) {
  std::snprintf(host_.alerts.room, sizeof host_.alerts.room, "old@conference.localhost");
  char why[96];
  ASSERT_TRUE(agent::parse_alert_rule("env0.humidity below 10 for 5", &host_.alerts.rules[0], why, sizeof why));
  host_.alerts.count = 1;
  const CommandResponse& form = begin(kOwner, "alerts");
  ASSERT_FALSE(form.is_error) << form.err.text;
  EXPECT_EQ(form.status, CommandStatus::Executing);
  EXPECT_EQ(form.actions, agent::kActionComplete);
  ASSERT_NE(form.form.find("room"), nullptr);
  EXPECT_EQ(form.form.find("room")->type(), FieldType::JidSingle);
  EXPECT_STREQ(form.form.value_of("room"), "old@conference.localhost");
  const agent::FormField* rules = form.form.find("rules");
  ASSERT_NE(rules, nullptr);
  EXPECT_EQ(rules->type(), FieldType::TextMulti);
  ASSERT_EQ(rules->value_count(), 1u);
  EXPECT_STREQ(rules->value(0), "env0.humidity below 10 for 5");

  std::vector<const char*> lines = {"env0.temperature above 30 hysteresis 0.5 for 10", "",
                                    "  climate0.humidity below 20  "};
  Form f;
  const CommandResponse& done =
      again(kOwner, "alerts", CommandAction::Complete, alerts_form(f, "alarms@conference.localhost", &lines));
  ASSERT_FALSE(done.is_error) << done.err.text;
  EXPECT_EQ(done.status, CommandStatus::Completed);
  EXPECT_EQ(host_.alert_applies, 1);
  EXPECT_STREQ(host_.alerts.room, "alarms@conference.localhost");
  ASSERT_EQ(host_.alerts.count, 2u);
  ASSERT_EQ(done.note_count, 1u);
  EXPECT_STREQ(done.notes[0].text, "2 alert rules, alarms to alarms@conference.localhost");
  EXPECT_EQ(storage_.blobs[agent::kAlertsKey],
            R"({"version":1,"room":"alarms@conference.localhost","nick":"","rules":)"
            R"(["env0.temperature above 30 hysteresis 0.5 for 10","climate0.humidity below 20"]})");
  // One value holding several lines (a client that joins them) reads the same.
  std::vector<const char*> joined = {"env0.temperature above 31\nenv0.pressure below 90000"};
  run(kOwner, "alerts", nullptr, CommandAction::Execute, alerts_form(f, nullptr, &joined));
  ASSERT_FALSE(resp_.is_error) << resp_.err.text;
  ASSERT_EQ(host_.alerts.count, 2u);
  EXPECT_STREQ(host_.alerts.rules[1].channel, "env0.pressure");
  EXPECT_STREQ(host_.alerts.room, "alarms@conference.localhost");  // absent field: unchanged
  // No rules and no room: alerts off.
  std::vector<const char*> none;
  run(kOwner, "alerts", nullptr, CommandAction::Execute, alerts_form(f, "", &none));
  ASSERT_FALSE(resp_.is_error) << resp_.err.text;
  EXPECT_EQ(host_.alerts.count, 0u);
  EXPECT_STREQ(resp_.notes[0].text, "no alert rules");
}

TEST_F(CmdSim, AlertsOnlyForOwners) {
  EXPECT_TRUE(IsError(run(kOperator, "alerts"), StanzaCondition::Forbidden, CommandCondition::None));
  EXPECT_STREQ(resp_.err.text, "'alerts' needs the owner role (you are operator)");
  EXPECT_TRUE(IsError(run(kViewer, "alerts"), StanzaCondition::Forbidden, CommandCondition::None));
  EXPECT_TRUE(IsError(run(kStranger, "alerts"), StanzaCondition::Forbidden, CommandCondition::None));
  Form f;
  std::vector<const char*> lines = {"env0.temperature above 1"};
  run(kOperator, "alerts", nullptr, CommandAction::Execute, alerts_form(f, "a@conference.localhost", &lines));
  EXPECT_TRUE(IsError(resp_, StanzaCondition::Forbidden, CommandCondition::None));
  EXPECT_EQ(host_.alert_applies, 0);
  EXPECT_EQ(storage_.writes, 0);
}

TEST_F(CmdSim, AlertsBadLinesNameTheLine) {
  struct Case {
    std::vector<const char*> lines;
    const char* room;
    const char* error;
  };
  const Case cases[] = {
      {{"env0.temperature above 30", "env0.temperature over 30"}, "a@conference.localhost",
       "rules line 2 'env0.temperature over 30': expected 'above' or 'below' after the channel, got 'over'"},
      {{"env9.temperature above 30"}, "a@conference.localhost",
       "rules line 1 'env9.temperature above 30': env9.temperature: no such channel on this board"},
      {{"relay0.state above 0"}, "a@conference.localhost",
       "rules line 1 'relay0.state above 0': relay0.state: not a numeric channel"},
      {{"env0.temperature above 30 for 99999"}, "a@conference.localhost",
       "rules line 1 'env0.temperature above 30 for 99999': for: '99999' is not a whole number of seconds from 0 "
       "to 86400"},
      {{"env0.temperature above 30"}, "", "room: required when there are rules (the room the alarms go to)"},
      {{"env0.temperature above 30"}, "conference.localhost",
       "room: 'conference.localhost' is not a bare JID of a room (no '@')"},
      {{"env0.temperature above 1", "env0.temperature above 2", "env0.temperature above 3", "env0.temperature above 4",
        "env0.temperature above 5", "env0.temperature above 6", "env0.temperature above 7",
        "env0.temperature above 8\nenv0.temperature above 9"},
       "a@conference.localhost", "rules line 9: more than 8 rules"},
  };
  for (const Case& c : cases) {
    Form f;
    std::vector<const char*> lines = c.lines;
    run(kOwner, "alerts", nullptr, CommandAction::Execute, alerts_form(f, c.room, &lines));
    EXPECT_TRUE(IsError(resp_, StanzaCondition::BadRequest, CommandCondition::BadPayload)) << c.error;
    EXPECT_STREQ(resp_.err.text, c.error);
  }
  EXPECT_EQ(host_.alert_applies, 0);
  EXPECT_EQ(storage_.writes, 0);
  // Host failures are reported.
  Form f;
  std::vector<const char*> ok = {"env0.temperature above 30"};
  host_.alert_result = hal::Err::NotSupported;
  run(kOwner, "alerts", nullptr, CommandAction::Execute, alerts_form(f, "a@conference.localhost", &ok));
  EXPECT_TRUE(IsError(resp_, StanzaCondition::FeatureNotImplemented, CommandCondition::None));
  host_.alert_result = hal::Err::Ok;
  storage_.replace_result = hal::Err::NoSpace;
  run(kOwner, "alerts", nullptr, CommandAction::Execute, alerts_form(f, "a@conference.localhost", &ok));
  ASSERT_FALSE(resp_.is_error);
  ASSERT_EQ(resp_.note_count, 2u);
  EXPECT_STREQ(resp_.notes[1].text, "applied, but not persisted: no space");
}

TEST_F(CmdSim, RebootNeedsConfirmation) {
  const CommandResponse& form = begin(kOwner, "reboot");
  ASSERT_FALSE(form.is_error) << form.err.text;
  EXPECT_EQ(form.status, CommandStatus::Executing);
  const agent::FormField* confirm = form.form.find("confirm");
  ASSERT_NE(confirm, nullptr);
  EXPECT_EQ(confirm->type(), FieldType::Boolean);
  EXPECT_TRUE(confirm->required());
  EXPECT_STREQ(confirm->first_value(), "0");
  ASSERT_NE(form.form.find("reason"), nullptr);

  // Not confirmed: canceled, no reboot.
  const CommandResponse& no = again(kOwner, "reboot", CommandAction::Complete, submit({{"confirm", "false"}}));
  ASSERT_FALSE(no.is_error) << no.err.text;
  EXPECT_EQ(no.status, CommandStatus::Canceled);
  ASSERT_EQ(no.note_count, 1u);
  EXPECT_STREQ(no.notes[0].text, "reboot not confirmed");
  EXPECT_EQ(host_.reboots, 0);
  EXPECT_EQ(router_->live_sessions(), 0u);

  // Malformed confirmations keep the session open.
  begin(kOwner, "reboot");
  EXPECT_TRUE(IsError(again(kOwner, "reboot", CommandAction::Complete, submit({{"reason", "x"}})),
                      StanzaCondition::BadRequest, CommandCondition::BadPayload));
  EXPECT_STREQ(resp_.err.text, "confirm: required");
  EXPECT_TRUE(IsError(again(kOwner, "reboot", CommandAction::Complete, submit({{"confirm", "yes"}})),
                      StanzaCondition::BadRequest, CommandCondition::BadPayload));
  EXPECT_STREQ(resp_.err.text, "confirm: 'yes' is not a boolean (1, 0, true or false)");
  EXPECT_EQ(host_.reboots, 0);

  const CommandResponse& yes =
      again(kOwner, "reboot", CommandAction::Complete, submit({{"confirm", "1"}, {"reason", "kernel update"}}));
  ASSERT_FALSE(yes.is_error) << yes.err.text;
  EXPECT_EQ(yes.status, CommandStatus::Completed);
  EXPECT_EQ(host_.reboots, 1);
  EXPECT_EQ(host_.reboot_reason, "reboot requested by admin@localhost/laptop: kernel update");

  // Cancel at the form stage.
  begin(kOwner, "reboot");
  EXPECT_EQ(again(kOwner, "reboot", CommandAction::Cancel).status, CommandStatus::Canceled);
  EXPECT_EQ(host_.reboots, 1);
}

TEST_F(CmdSim, RebootHostFailureIsInternalServerError) {
  host_.reboot_result = hal::Err::NotSupported;
  EXPECT_TRUE(IsError(run(kOwner, "reboot", nullptr, CommandAction::Execute, submit({{"confirm", "true"}})),
                      StanzaCondition::InternalServerError, CommandCondition::None));
  EXPECT_STREQ(resp_.err.text, "reboot failed: not supported");
  EXPECT_EQ(host_.reboot_reason, "reboot requested by admin@localhost/laptop");
}

// ---------------------------------------------------------------------------
// sessions

TEST_F(CmdSim, SessionUnknownOrMissing) {
  EXPECT_TRUE(IsError(run(kOperator, "set", "no-such-session", CommandAction::Complete, submit({{"value", "1"}})),
                      StanzaCondition::BadRequest, CommandCondition::BadSessionid));
  EXPECT_STREQ(resp_.err.text, "unknown session");
  const std::string huge(1000, 'a');
  EXPECT_TRUE(IsError(run(kOperator, "set", huge.c_str(), CommandAction::Cancel), StanzaCondition::BadRequest,
                      CommandCondition::BadSessionid));
  for (CommandAction a : {CommandAction::Next, CommandAction::Prev, CommandAction::Complete, CommandAction::Cancel}) {
    EXPECT_TRUE(IsError(run(kOperator, "set", nullptr, a), StanzaCondition::BadRequest, CommandCondition::BadSessionid))
        << agent::command_action_name(a);
  }
  EXPECT_STREQ(resp_.err.text, "'cancel' needs a sessionid");
  EXPECT_TRUE(IsError(run(kOperator, "set", "", CommandAction::Complete), StanzaCondition::BadRequest,
                      CommandCondition::BadSessionid));
}

TEST_F(CmdSim, SessionMalformedAction) {
  EXPECT_TRUE(IsError(run(kViewer, "read", nullptr, CommandAction::Malformed), StanzaCondition::BadRequest,
                      CommandCondition::MalformedAction));
  EXPECT_EQ(agent::parse_command_action(nullptr), CommandAction::Execute);
  EXPECT_EQ(agent::parse_command_action(""), CommandAction::Execute);
  EXPECT_EQ(agent::parse_command_action("execute"), CommandAction::Execute);
  EXPECT_EQ(agent::parse_command_action("next"), CommandAction::Next);
  EXPECT_EQ(agent::parse_command_action("prev"), CommandAction::Prev);
  EXPECT_EQ(agent::parse_command_action("complete"), CommandAction::Complete);
  EXPECT_EQ(agent::parse_command_action("cancel"), CommandAction::Cancel);
  EXPECT_EQ(agent::parse_command_action("Cancel"), CommandAction::Malformed);
  EXPECT_EQ(agent::parse_command_action("finish"), CommandAction::Malformed);
}

TEST_F(CmdSim, SessionHijackByAnotherJidIsBadSessionid) {
  begin(kOwner, "configure");
  // Another resource of the same account, another owner: both refused.
  for (const char* other : {"admin@localhost/phone", "admin@localhost/Laptop", "root@localhost/laptop",
                            "admin@localhost"}) {
    EXPECT_TRUE(IsError(again(other, "configure", CommandAction::Complete, submit({{"batch_max", "9"}})),
                        StanzaCondition::BadRequest, CommandCondition::BadSessionid))
        << other;
    EXPECT_STREQ(resp_.err.text, "unknown session");  // does not confirm the session exists
  }
  // An operator trying an owner's session is stopped by the role check first.
  EXPECT_TRUE(IsError(again(kOperator, "configure", CommandAction::Complete, submit({{"batch_max", "9"}})),
                      StanzaCondition::Forbidden, CommandCondition::None));
  EXPECT_EQ(host_.reconfigures, 0);
  // The bare JID compares case-insensitively, as the ACL does: same entity.
  again("ADMIN@LOCALHOST/laptop", "configure", CommandAction::Complete, submit({{"batch_max", "9"}}));
  ASSERT_FALSE(resp_.is_error) << resp_.err.text;
  EXPECT_EQ(host_.settings.batch_max, 9u);
}

TEST_F(CmdSim, SessionOfAnotherNodeIsBadSessionid) {
  begin(kOwner, "configure");
  EXPECT_TRUE(IsError(again(kOwner, "reboot", CommandAction::Complete, submit({{"confirm", "1"}})),
                      StanzaCondition::BadRequest, CommandCondition::BadSessionid));
  EXPECT_STREQ(resp_.err.text, "session belongs to another command");
  EXPECT_EQ(host_.reboots, 0);
}

TEST_F(CmdSim, SessionExpiresAfterIdleTimeoutOnTheMonotonicClock) {
  begin(kOperator, "set");
  clock_.advance_ms(119000);
  again(kOperator, "set", CommandAction::Next, submit({{"channel", "relay0.state"}}));
  ASSERT_FALSE(resp_.is_error) << resp_.err.text;  // activity refreshes the session
  clock_.advance_ms(119000);
  again(kOperator, "set", CommandAction::Prev);
  ASSERT_FALSE(resp_.is_error) << resp_.err.text;
  clock_.advance_ms(120001);
  const CommandResponse& r = again(kOperator, "set", CommandAction::Complete,
                                   submit({{"channel", "relay0.state"}, {"value", "1"}}));
  EXPECT_TRUE(IsError(r, StanzaCondition::NotAllowed, CommandCondition::SessionExpired));
  EXPECT_EQ(r.err.type, agent::ErrorType::Cancel);
  EXPECT_STREQ(r.err.text, "session expired after 120 s idle");
  EXPECT_FALSE(relay());
  EXPECT_EQ(router_->live_sessions(), 0u);
  // Still expired on a retry; another JID still gets bad-sessionid.
  EXPECT_TRUE(IsError(again(kOperator, "set", CommandAction::Cancel), StanzaCondition::NotAllowed,
                      CommandCondition::SessionExpired));
  EXPECT_TRUE(IsError(again("ops@localhost/other", "set", CommandAction::Cancel), StanzaCondition::BadRequest,
                      CommandCondition::BadSessionid));
}

TEST_F(CmdSim, SessionIdleTimeoutIsConfigurableAndSweepable) {
  agent::CommandRouterOptions opt;
  opt.session_idle_ms = 5000;
  agent::CommandRouter router(acl_, board_->registry(), clock_, rng_, host_, &storage_, opt);
  agent::CommandRequest req;
  req.from = kOperator;
  req.node = "set";
  router.handle(req, &resp_);
  ASSERT_EQ(router.live_sessions(), 1u);
  clock_.advance_ms(5000);
  EXPECT_EQ(router.expire_sessions(), 0u);
  clock_.advance_ms(1);
  EXPECT_EQ(router.expire_sessions(), 1u);
  EXPECT_EQ(router.live_sessions(), 0u);
}

TEST_F(CmdSim, SessionTableIsBoundedUnderAFlood) {
  acl_.operators = {"*@localhost"};  // every flooder may run set
  std::vector<std::string> sids;
  for (int i = 0; i < 200; ++i) {
    const std::string from = "user" + std::to_string(i) + "@localhost/r";
    run(from.c_str(), "set");
    ASSERT_FALSE(resp_.is_error) << resp_.err.text;
    ASSERT_EQ(resp_.status, CommandStatus::Executing);
    sids.push_back(resp_.sessionid);
    ASSERT_LE(router_->live_sessions(), agent::kCommandSessions);
    clock_.advance_ms(10);
  }
  EXPECT_EQ(router_->live_sessions(), agent::kCommandSessions);
  // The newest sessions survive; the oldest were recycled.
  for (int i = 0; i < 200; ++i) {
    const std::string from = "user" + std::to_string(i) + "@localhost/r";
    run(from.c_str(), "set", sids[i].c_str(), CommandAction::Cancel);
    if (i >= 200 - static_cast<int>(agent::kCommandSessions)) {
      EXPECT_EQ(resp_.status, CommandStatus::Canceled) << i << ": " << resp_.err.text;
      EXPECT_FALSE(resp_.is_error) << i;
    } else {
      EXPECT_TRUE(IsError(resp_, StanzaCondition::BadRequest, CommandCondition::BadSessionid)) << i;
    }
  }
}

TEST_F(CmdSim, SessionFloodFromOneAccountRecyclesOnlyItsOwn) {
  acl_.operators = {"ops@localhost", "other@localhost"};
  begin("other@localhost/desk", "set");
  const std::string victim = last_sid_;
  std::vector<std::string> mine;
  for (int i = 0; i < 40; ++i) {
    const std::string from = "ops@localhost/r" + std::to_string(i);  // many resources, one account
    run(from.c_str(), "set");
    ASSERT_FALSE(resp_.is_error);
    mine.push_back(resp_.sessionid);
  }
  EXPECT_EQ(router_->live_sessions(), 1 + agent::kCommandSessionsPerJid);
  run("other@localhost/desk", "set", victim.c_str(), CommandAction::Complete,
      submit({{"channel", "relay0.state"}, {"value", "on"}}));
  EXPECT_EQ(resp_.status, CommandStatus::Completed) << resp_.err.text;
  EXPECT_TRUE(relay());
  const std::string last_from = "ops@localhost/r39";
  run(last_from.c_str(), "set", mine.back().c_str(), CommandAction::Cancel);
  EXPECT_EQ(resp_.status, CommandStatus::Canceled) << resp_.err.text;
  run("ops@localhost/r0", "set", mine.front().c_str(), CommandAction::Cancel);
  EXPECT_TRUE(IsError(resp_, StanzaCondition::BadRequest, CommandCondition::BadSessionid));
}

TEST_F(CmdSim, SessionIdsAreUniqueAndNotSequential) {
  std::set<std::string> ids;
  for (int i = 0; i < 64; ++i) {
    run(kViewer, "read");
    ASSERT_LE(std::strlen(resp_.sessionid), agent::kSessionIdMax);
    ids.insert(resp_.sessionid);
  }
  EXPECT_EQ(ids.size(), 64u);
  // The random part differs between routers seeded differently.
  agent::Rng other_rng(0xD1FF);
  agent::CommandRouter other(acl_, board_->registry(), clock_, other_rng, host_, &storage_);
  agent::CommandRequest req;
  req.from = kViewer;
  req.node = "read";
  router_ = std::make_unique<agent::CommandRouter>(acl_, board_->registry(), clock_, rng_, host_, &storage_);
  router_->handle(req, &resp_);
  const std::string a = resp_.sessionid;
  other.handle(req, &resp_);
  EXPECT_NE(a, resp_.sessionid);
  EXPECT_EQ(a.substr(0, 2), "1-");  // serial prefix keeps them unique...
  EXPECT_EQ(a.size(), 2u + 16u);    // ...and 64 random bits make them unguessable
}

TEST_F(CmdSim, FirmwareUpdateJoinsTheManifestLinesAndMapsEveryAnswer) {
  Form f;
  auto fill = [&f](const char* transport) {
    f.reset(FormType::Submit);
    ASSERT_TRUE(f.add_field(FieldType::TextMulti, "manifest").ok());
    ASSERT_EQ(f.add_value("eyJ2ZXJzaW9u"), hal::Err::Ok);
    ASSERT_EQ(f.add_value("IjoiMSJ9"), hal::Err::Ok);
    ASSERT_TRUE(f.add_field(FieldType::TextSingle, "signature").ok());
    ASSERT_EQ(f.add_value("MEUCIQ=="), hal::Err::Ok);
    ASSERT_TRUE(f.add_field(FieldType::ListSingle, "transport").ok());
    ASSERT_EQ(f.add_value(transport), hal::Err::Ok);
  };
  fill("ibb");
  const CommandResponse& ok = run(kOwner, "firmware-update", nullptr, CommandAction::Execute, &f);
  ASSERT_FALSE(ok.is_error) << ok.err.text << " " << agent::stanza_condition_name(ok.err.condition);
  EXPECT_EQ(ok.status, CommandStatus::Completed);
  EXPECT_EQ(host_.fw_manifest, "eyJ2ZXJzaW9uIjoiMSJ9");
  EXPECT_EQ(host_.fw_signature, "MEUCIQ==");
  EXPECT_STREQ(ok.form.value_of("sid"), "fw-1");
  EXPECT_STREQ(ok.form.value_of("offset"), "8192");
  using Kind = agent::FirmwareUpdateAnswer::Kind;
  host_.fw_kind = Kind::Refused;
  host_.fw_text = "signature: not made by any of the 1 trusted update key(s) for these manifest bytes";
  EXPECT_TRUE(IsError(run(kOwner, "firmware-update", nullptr, CommandAction::Execute, &f),
                      StanzaCondition::BadRequest, CommandCondition::BadPayload));
  EXPECT_EQ(std::string(resp_.err.text), host_.fw_text);
  host_.fw_kind = Kind::Busy;
  EXPECT_TRUE(IsError(run(kOwner, "firmware-update", nullptr, CommandAction::Execute, &f),
                      StanzaCondition::Conflict, CommandCondition::None));
  host_.fw_kind = Kind::NotConfigured;
  EXPECT_TRUE(IsError(run(kOwner, "firmware-update", nullptr, CommandAction::Execute, &f),
                      StanzaCondition::FeatureNotImplemented, CommandCondition::None));
  fill("ftp");
  EXPECT_TRUE(IsError(run(kOwner, "firmware-update", nullptr, CommandAction::Execute, &f),
                      StanzaCondition::BadRequest, CommandCondition::BadPayload));
  EXPECT_STREQ(resp_.err.text, "transport: 'ftp' is not \"ibb\" or \"url\"");
  fill("url");
  EXPECT_TRUE(IsError(run(kOwner, "firmware-update", nullptr, CommandAction::Execute, &f),
                      StanzaCondition::BadRequest, CommandCondition::BadPayload));
  EXPECT_STREQ(resp_.err.text, "url: required with transport url");
}

TEST_F(CmdSim, RotateIdentityShowsTheCsrThenInstallsTheSignedCertificate) {
  // Owner only; an operator learns nothing else and the host is not called.
  EXPECT_TRUE(IsError(run(kOperator, "rotate-identity"), StanzaCondition::Forbidden, CommandCondition::None));
  EXPECT_EQ(host_.rot_begins, 0);
  // Stage 1: the CSR's base64 in lines of at most 240 characters, and an empty certificate field.
  const CommandResponse& s1 = begin(kOwner, "rotate-identity");
  ASSERT_FALSE(s1.is_error) << s1.err.text;
  EXPECT_EQ(s1.status, CommandStatus::Executing);
  ASSERT_NE(s1.form.find("csr"), nullptr);
  const agent::FormField* csr = s1.form.find("csr");
  ASSERT_EQ(csr->value_count(), 3u);
  EXPECT_EQ(std::strlen(csr->value(0)), 240u);
  EXPECT_EQ(std::string(csr->value(0)) + csr->value(1) + csr->value(2), host_.rot_csr);
  ASSERT_NE(s1.form.find("certificate"), nullptr);
  // Complete: the lines joined (PEM armour lines skipped) reach the host.
  form_.reset(FormType::Submit);
  ASSERT_TRUE(form_.add_field(FieldType::TextMulti, "certificate").ok());
  ASSERT_EQ(form_.add_value("-----BEGIN CERTIFICATE-----"), hal::Err::Ok);
  ASSERT_EQ(form_.add_value("TUlJQ"), hal::Err::Ok);
  ASSERT_EQ(form_.add_value("mFrZQ=="), hal::Err::Ok);
  ASSERT_EQ(form_.add_value("-----END CERTIFICATE-----"), hal::Err::Ok);
  const CommandResponse& done = again(kOwner, "rotate-identity", CommandAction::Complete, &form_);
  ASSERT_FALSE(done.is_error) << done.err.text;
  EXPECT_EQ(done.status, CommandStatus::Completed);
  EXPECT_EQ(host_.rot_cert, "TUlJQmFrZQ==");
  ASSERT_EQ(done.note_count, 1u);
  EXPECT_NE(std::string(done.notes[0].text).find("installed; switching at the next login"), std::string::npos);
  // A certificate the host refuses: bad-request with its reason.
  host_.rot_kind = agent::IdentityRotationAnswer::Kind::Refused;
  host_.rot_text = "not signed for pending.key (another key)";
  EXPECT_TRUE(IsError(run(kOwner, "rotate-identity", nullptr, CommandAction::Execute, &form_),
                      StanzaCondition::BadRequest, CommandCondition::BadPayload));
  EXPECT_STREQ(resp_.err.text, "not signed for pending.key (another key)");
  // No certificate at all.
  form_.reset(FormType::Submit);
  ASSERT_TRUE(form_.add_field(FieldType::TextMulti, "certificate").ok());
  EXPECT_TRUE(IsError(run(kOwner, "rotate-identity", nullptr, CommandAction::Execute, &form_),
                      StanzaCondition::BadRequest, CommandCondition::BadPayload));
  EXPECT_STREQ(resp_.err.text, "certificate: required");
  // A device that logs in with a password: not-allowed, saying so.
  host_.rot_kind = agent::IdentityRotationAnswer::Kind::PasswordLogin;
  host_.rot_text = "device logs in with a password (no xmpp.client_cert)";
  EXPECT_TRUE(IsError(run(kOwner, "rotate-identity"), StanzaCondition::NotAllowed, CommandCondition::None));
  EXPECT_STREQ(resp_.err.text, "device logs in with a password (no xmpp.client_cert)");
}

TEST_F(CmdSim, NoHeapAllocationPerRequest) {
  // Warm up every path once (gtest and the board may allocate lazily).
  begin(kOperator, "set");
  again(kOperator, "set", CommandAction::Cancel);
  run(kViewer, "read");
  Form submit_form;
  submit_form.reset(FormType::Submit);
  ASSERT_TRUE(submit_form.add_field(FieldType::TextSingle, "channel").ok());
  ASSERT_EQ(submit_form.add_value("relay0.state"), hal::Err::Ok);
  ASSERT_TRUE(submit_form.add_field(FieldType::TextSingle, "value").ok());
  ASSERT_EQ(submit_form.add_value("on"), hal::Err::Ok);
  char xml[8192];

  const long before = xiot_test::allocation_count();
  agent::CommandRequest req;
  req.from = kOperator;
  req.node = "set";
  router_->handle(req, &resp_);
  char sid[agent::kSessionIdMax + 1];
  std::memcpy(sid, resp_.sessionid, sizeof sid);
  const bool xml_ok = agent::format_command_xml(xml, sizeof xml, resp_).ok();
  req.sessionid = sid;
  req.action = CommandAction::Complete;
  req.form = &submit_form;
  router_->handle(req, &resp_);
  const CommandStatus set_status = resp_.status;
  agent::CommandRequest read;
  read.from = kViewer;
  read.node = "read";
  router_->handle(read, &resp_);
  agent::CommandRequest bad;
  bad.from = kStranger;
  bad.node = "reboot";
  router_->handle(bad, &resp_);
  const long after = xiot_test::allocation_count();

  EXPECT_EQ(after - before, 0);
  EXPECT_TRUE(xml_ok);
  EXPECT_EQ(set_status, CommandStatus::Completed);
  EXPECT_TRUE(relay());
}

// ---------------------------------------------------------------------------
// XML

TEST_F(CmdSim, XmlExecutingResponseCarriesActionsAndForm) {
  begin(kOwner, "reboot");
  std::vector<char> buf(agent::command_xml_len(resp_) + 1);
  hal::Result<size_t> n = agent::format_command_xml(buf.data(), buf.size(), resp_);
  ASSERT_TRUE(n.ok());
  const std::string xml(buf.data(), n.value());
  EXPECT_EQ(n.value(), agent::command_xml_len(resp_));
  EXPECT_EQ(xml,
            "<command xmlns='http://jabber.org/protocol/commands' node='reboot' sessionid='" + last_sid_ +
                "' status='executing'><actions execute='complete'><complete/></actions>"
                "<x xmlns='jabber:x:data' type='form'><title>Reboot the device</title>"
                "<instructions>The device goes offline and restarts. Confirm to proceed.</instructions>"
                "<field var='confirm' type='boolean' label='Reboot now?'><required/><value>0</value></field>"
                "<field var='reason' type='text-single' label='Reason (optional, logged)'></field></x></command>");
  // One byte short: Overflow, never a truncated success.
  std::vector<char> small(agent::command_xml_len(resp_));
  EXPECT_EQ(agent::format_command_xml(small.data(), small.size(), resp_).error(), hal::Err::Overflow);
  std::vector<char> tiny(20);
  EXPECT_EQ(agent::format_command_xml(tiny.data(), tiny.size(), resp_).error(), hal::Err::Overflow);
}

TEST(CmdXml, CompletedResponseEscapesNotes) {
  CommandResponse r;
  r.reset();
  r.node = "set";
  std::snprintf(r.sessionid, sizeof r.sessionid, "1-ab'cd");
  r.status = CommandStatus::Completed;
  r.actions = agent::kActionComplete;  // ignored unless executing
  r.add_note(agent::NoteType::Warn, "a<b & '%s'", "c");
  char buf[512];
  hal::Result<size_t> n = agent::format_command_xml(buf, sizeof buf, r);
  ASSERT_TRUE(n.ok());
  EXPECT_STREQ(buf,
               "<command xmlns='http://jabber.org/protocol/commands' node='set' sessionid='1-ab&apos;cd' "
               "status='completed'><note type='warn'>a&lt;b &amp; &apos;c&apos;</note></command>");
  EXPECT_EQ(n.value(), agent::command_xml_len(r));
  r.is_error = true;
  EXPECT_EQ(agent::format_command_xml(buf, sizeof buf, r).error(), hal::Err::InvalidArgument);
}

TEST(CmdXml, NotesAreBoundedAndCut) {
  CommandResponse r;
  r.reset();
  for (int i = 0; i < 10; ++i) r.add_note(agent::NoteType::Info, "note %d", i);
  EXPECT_EQ(r.note_count, agent::kCommandNotesMax);
  EXPECT_STREQ(r.notes[agent::kCommandNotesMax - 1].text, "(more notes omitted)");
  r.reset();
  const std::string long_text(500, 'x');
  r.add_note(agent::NoteType::Info, "%s", long_text.c_str());
  const std::string cut = r.notes[0].text;
  EXPECT_EQ(cut.size(), agent::kCommandTextMax - 1);
  EXPECT_EQ(cut.substr(cut.size() - 3), "...");
}

TEST(CmdXml, ErrorElementFollowsRfc6120Order) {
  agent::CommandError e;
  e.type = agent::ErrorType::Modify;
  e.condition = StanzaCondition::BadRequest;
  e.app = CommandCondition::BadPayload;
  std::snprintf(e.text, sizeof e.text, "value: 'x' <bad>");
  char buf[512];
  ASSERT_TRUE(agent::format_command_error_xml(buf, sizeof buf, e).ok());
  EXPECT_STREQ(buf,
               "<error type='modify'><bad-request xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>"
               "<text xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'>value: &apos;x&apos; &lt;bad&gt;</text>"
               "<bad-payload xmlns='http://jabber.org/protocol/commands'/></error>");
  agent::CommandError f;
  f.type = agent::ErrorType::Auth;
  f.condition = StanzaCondition::Forbidden;
  ASSERT_TRUE(agent::format_command_error_xml(buf, sizeof buf, f).ok());
  EXPECT_STREQ(buf, "<error type='auth'><forbidden xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error>");
  agent::CommandError g;
  g.condition = StanzaCondition::NotAllowed;
  g.app = CommandCondition::SessionExpired;
  ASSERT_TRUE(agent::format_command_error_xml(buf, sizeof buf, g).ok());
  EXPECT_STREQ(buf,
               "<error type='cancel'><not-allowed xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>"
               "<session-expired xmlns='http://jabber.org/protocol/commands'/></error>");
  char tiny[16];
  EXPECT_EQ(agent::format_command_error_xml(tiny, sizeof tiny, e).error(), hal::Err::Overflow);
}

TEST(CmdXml, ConditionNamesAndTypes) {
  EXPECT_STREQ(agent::stanza_condition_name(StanzaCondition::ResourceConstraint), "resource-constraint");
  EXPECT_STREQ(agent::stanza_condition_name(StanzaCondition::InternalServerError), "internal-server-error");
  EXPECT_STREQ(agent::stanza_condition_name(StanzaCondition::ItemNotFound), "item-not-found");
  EXPECT_STREQ(agent::command_condition_name(CommandCondition::BadSessionid), "bad-sessionid");
  EXPECT_STREQ(agent::command_condition_name(CommandCondition::MalformedAction), "malformed-action");
  EXPECT_STREQ(agent::command_condition_name(CommandCondition::BadAction), "bad-action");
  EXPECT_STREQ(agent::command_condition_name(CommandCondition::None), "");
  EXPECT_EQ(agent::default_error_type(StanzaCondition::BadRequest), agent::ErrorType::Modify);
  EXPECT_EQ(agent::default_error_type(StanzaCondition::Forbidden), agent::ErrorType::Auth);
  EXPECT_EQ(agent::default_error_type(StanzaCondition::ItemNotFound), agent::ErrorType::Cancel);
  EXPECT_EQ(agent::default_error_type(StanzaCondition::InternalServerError), agent::ErrorType::Cancel);
  EXPECT_EQ(agent::default_error_type(StanzaCondition::NotAllowed), agent::ErrorType::Cancel);
  EXPECT_EQ(agent::default_error_type(StanzaCondition::ResourceConstraint), agent::ErrorType::Wait);
  size_t n = 0;
  const agent::CommandInfo* table = agent::command_table(&n);
  ASSERT_EQ(n, 8u);
  EXPECT_EQ(agent::find_command("configure"), &table[3]);
  EXPECT_EQ(agent::find_command("alerts"), &table[4]);
  EXPECT_EQ(agent::find_command("firmware-update"), &table[6]);
  EXPECT_STREQ(agent::stanza_condition_name(StanzaCondition::Conflict), "conflict");
  EXPECT_STREQ(agent::stanza_condition_name(StanzaCondition::FeatureNotImplemented), "feature-not-implemented");
  EXPECT_EQ(agent::default_error_type(StanzaCondition::Conflict), agent::ErrorType::Cancel);
  EXPECT_EQ(agent::find_command("Configure"), nullptr);
  EXPECT_EQ(agent::find_command(nullptr), nullptr);
}

// ---------------------------------------------------------------------------
// persisted settings

TEST(CmdSettings, SaveLoadRoundTripAndErrors) {
  FakeStorage st;
  agent::TelemetrySettings s;
  EXPECT_EQ(agent::load_settings(st, "settings.json", &s), hal::Err::NotFound);
  ASSERT_EQ(agent::save_settings(st, "settings.json", {2500, 10}), hal::Err::Ok);
  ASSERT_EQ(agent::load_settings(st, "settings.json", &s), hal::Err::Ok);
  EXPECT_EQ(s.interval_ms, 2500u);
  EXPECT_EQ(s.batch_max, 10u);
  EXPECT_EQ(agent::save_settings(st, "settings.json", {49, 1}), hal::Err::InvalidArgument);
  EXPECT_EQ(agent::save_settings(st, "settings.json", {50, 101}), hal::Err::InvalidArgument);
  st.replace_result = hal::Err::Io;
  EXPECT_EQ(agent::save_settings(st, "settings.json", {50, 1}), hal::Err::Io);

  const char* corrupt[] = {
      "not json",
      "[]",
      R"({"version":2,"telemetry":{"interval_ms":50,"batch_max":1}})",
      R"({"version":1,"telemetry":{"interval_ms":49,"batch_max":1}})",
      R"({"version":1,"telemetry":{"interval_ms":50.5,"batch_max":1}})",
      R"({"version":1,"telemetry":{"interval_ms":50,"batch_max":0}})",
      R"({"version":1,"telemetry":{"interval_ms":"50","batch_max":1}})",
      R"({"version":1})",
  };
  for (const char* blob : corrupt) {
    st.blobs["k"] = blob;
    agent::TelemetrySettings keep{1234, 7};
    EXPECT_EQ(agent::load_settings(st, "k", &keep), hal::Err::Corrupt) << blob;
    EXPECT_EQ(keep.interval_ms, 1234u);
  }
  st.blobs["big"] = std::string(600, ' ');
  EXPECT_EQ(agent::load_settings(st, "big", &s), hal::Err::Overflow);
}

TEST(CmdFormat, ValuesAndNames) {
  char buf[48];
  ASSERT_TRUE(agent::format_value_text(buf, sizeof buf, drv::Value::numeric(2154, -2)).ok());
  EXPECT_STREQ(buf, "21.54");
  ASSERT_TRUE(agent::format_value_text(buf, sizeof buf, drv::Value::boolean(true)).ok());
  EXPECT_STREQ(buf, "true");
  drv::Value s;
  s.type = drv::ValueType::String;
  std::snprintf(s.text, sizeof s.text, "hello");
  ASSERT_TRUE(agent::format_value_text(buf, sizeof buf, s).ok());
  EXPECT_STREQ(buf, "hello");
  char small[3];
  EXPECT_EQ(agent::format_value_text(small, sizeof small, drv::Value::boolean(false)).error(), hal::Err::Overflow);
}

}  // namespace

// agent::Session's reconnect policy (issue 13), driven by hand: a manual
// clock, a fixed-seed Rng, and the libstrophe connection events fed straight
// to on_conn_event()/on_sm() (the session's real attempts go to a closed local
// port and the context is never run, so nothing but these events happens).
//  - the first attempt after a lost link goes out within a small jitter
//    (uniform 0..min(250 ms, base)), the next ones follow the full-jitter backoff;
//  - when the server's stream-management session is known to be gone (stream
//    error, refused connect, resumption window passed) the next attempt starts
//    on a fresh connection object (no resumption tried: one login);
//  - a plain link drop keeps the connection object, so resumption is tried;
//  - publish-options go with the first telemetry publish after a fresh login
//    and after a precondition-not-met (last test).
#include <gtest/gtest.h>
#include <strophe.h>

#include <cerrno>  // ETIMEDOUT
#include <string>
#include <vector>

#include "agent/backoff.hpp"
#include "agent/config.hpp"
#include "agent/outbox.hpp"
#include "agent/xmpp/session.hpp"
#include "hal/sim/manual_clock.hpp"

namespace {

class SessionReconnect : public ::testing::Test {
 protected:
  SessionReconnect() : rng_(11) {
    cfg_.xmpp.jid = "dev1@localhost";
    cfg_.xmpp.password = "unused";
    cfg_.xmpp.host = "127.0.0.1";
    cfg_.xmpp.port = 9;  // discard: closed; the attempts never get anywhere
    cfg_.xmpp.reconnect_base_s = 1;
    cfg_.xmpp.reconnect_cap_s = 60;
  }

  /// Logged in, stream management enabled with resumption window `max` ("" = not said).
  void online(agent::Session& s, const char* max) {
    s.on_conn_event(XMPP_CONN_CONNECT, 0, nullptr);
    xmpp_stanza_t* enabled = xmpp_stanza_new(ctx_.raw());
    xmpp_stanza_set_name(enabled, "enabled");
    xmpp_stanza_set_ns(enabled, "urn:xmpp:sm:3");
    xmpp_stanza_set_attribute(enabled, "resume", "true");
    if (max[0] != '\0') xmpp_stanza_set_attribute(enabled, "max", max);
    s.on_sm(enabled);
    xmpp_stanza_release(enabled);
    ASSERT_TRUE(s.online());
  }

  /// Advances the clock until the session makes its next attempt; returns the wait in ms.
  int64_t wait_for_attempt(agent::Session& s) {
    const uint32_t before = s.stats().connect_attempts;
    int64_t waited = 0;
    for (int i = 0; i < 10000 && s.stats().connect_attempts == before; ++i) {
      (void)s.tick();
      if (s.stats().connect_attempts != before) break;
      clock_.advance_ms(1);
      ++waited;
    }
    EXPECT_EQ(s.stats().connect_attempts, before + 1);
    return waited;
  }

  /// Services the context (real time, at most 5 s) until `s` gets its next DISCONNECT.
  bool run_until_disconnected(agent::Session& s) {
    const uint32_t before = s.stats().disconnects;
    for (int i = 0; i < 500 && s.stats().disconnects == before; ++i) ctx_.run_once(10);
    return s.stats().disconnects > before;
  }

  hal::sim::ManualClock clock_;
  agent::AgentConfig cfg_;
  agent::Rng rng_;
  agent::Context ctx_;
};

TEST_F(SessionReconnect, FirstAttemptAfterALostLinkIsQuickThenFullJitter) {
  for (int round = 0; round < 20; ++round) {
    agent::Session s(ctx_, cfg_, clock_, rng_);
    ASSERT_EQ(s.start(), hal::Err::Ok);
    online(s, "600");
    s.on_conn_event(XMPP_CONN_DISCONNECT, 0, nullptr);  // connection closed, no stream error
    EXPECT_LE(wait_for_attempt(s), 250) << "round " << round;
    EXPECT_EQ(s.stats().fresh_starts, 0u) << "a plain drop tries to resume";
    // That attempt does not get through (here libstrophe refuses to start it:
    // the object is still busy with start()'s attempt, never serviced). The
    // next one waits a full draw: never below base/10, at most base.
    const int64_t second = wait_for_attempt(s);
    EXPECT_GE(second, 100) << "round " << round;
    EXPECT_LE(second, 1000) << "round " << round;
  }
}

TEST_F(SessionReconnect, QuickAttemptsSpreadOverTheirWindow) {
  int64_t lo = 1000;
  int64_t hi = -1;
  for (int round = 0; round < 60; ++round) {
    agent::Session s(ctx_, cfg_, clock_, rng_);
    ASSERT_EQ(s.start(), hal::Err::Ok);
    online(s, "600");
    s.on_conn_event(XMPP_CONN_DISCONNECT, 0, nullptr);
    const int64_t w = wait_for_attempt(s);
    lo = w < lo ? w : lo;
    hi = w > hi ? w : hi;
  }
  EXPECT_LT(lo, 60);  // not a fixed delay: a fleet that lost its link together does not come back in step
  EXPECT_GT(hi, 190);
  EXPECT_LE(hi, 250);
}

TEST_F(SessionReconnect, AStreamErrorMeansAFreshStartWithoutResuming) {
  agent::Session s(ctx_, cfg_, clock_, rng_);
  ASSERT_EQ(s.start(), hal::Err::Ok);
  online(s, "600");
  s.on_conn_event(XMPP_CONN_DISCONNECT, 0, "system-shutdown");
  (void)wait_for_attempt(s);
  EXPECT_EQ(s.stats().fresh_starts, 1u);
  // That login is new: no second login on top of it.
  s.on_conn_event(XMPP_CONN_CONNECT, 0, nullptr);
  EXPECT_EQ(s.stats().fresh_reconnects, 0u);
  EXPECT_EQ(s.stats().logins, 2u);
}

TEST_F(SessionReconnect, ARefusedConnectMeansAFreshStart) {
  // libstrophe itself this time: the attempts really meet the closed port, and
  // its "connection failed, error 111" line (the DISCONNECT it raises says 0)
  // tells the session that no server process is there.
  agent::Session s(ctx_, cfg_, clock_, rng_);
  ASSERT_EQ(s.start(), hal::Err::Ok);
  ASSERT_TRUE(run_until_disconnected(s));
  online(s, "600");
  s.on_conn_event(XMPP_CONN_DISCONNECT, 0, nullptr);  // the link dies without a word
  (void)wait_for_attempt(s);
  EXPECT_EQ(s.stats().fresh_starts, 0u);  // the server may hold the session: resume
  ASSERT_TRUE(run_until_disconnected(s));  // refused
  (void)wait_for_attempt(s);
  EXPECT_EQ(s.stats().fresh_starts, 1u);
}

TEST_F(SessionReconnect, PastTheResumptionWindowMeansAFreshStart) {
  agent::Session s(ctx_, cfg_, clock_, rng_);
  ASSERT_EQ(s.start(), hal::Err::Ok);
  online(s, "5");  // the server keeps the session 5 s
  s.on_conn_event(XMPP_CONN_DISCONNECT, 0, nullptr);
  (void)wait_for_attempt(s);
  EXPECT_EQ(s.stats().fresh_starts, 0u);
  for (int i = 0; i < 20 && s.stats().fresh_starts == 0; ++i) {
    s.on_conn_event(XMPP_CONN_DISCONNECT, ETIMEDOUT, nullptr);
    (void)wait_for_attempt(s);
  }
  EXPECT_EQ(s.stats().fresh_starts, 1u);
}

TEST_F(SessionReconnect, WithoutStreamManagementNothingIsDecided) {
  agent::Session s(ctx_, cfg_, clock_, rng_);
  ASSERT_EQ(s.start(), hal::Err::Ok);
  s.on_conn_event(XMPP_CONN_CONNECT, 0, nullptr);
  clock_.advance_ms(3001);  // no <enabled/> or <failed/>: online after the settle deadline
  (void)s.tick();
  ASSERT_TRUE(s.online());
  s.on_conn_event(XMPP_CONN_DISCONNECT, 0, "system-shutdown");
  EXPECT_LE(wait_for_attempt(s), 250);
  EXPECT_EQ(s.stats().fresh_starts, 0u);  // nothing to resume: the same object logs in once anyway
}

// Publish-options (issue 13): only the first publish to the telemetry node
// after a fresh login carries them, and an item published without them that
// is answered precondition-not-met is wanted again at once (ResendNow), then
// with them; refused with them too, it is reported as any refusal.
class Outcomes : public agent::PublishListener {
 public:
  void on_publish_result(const char* item_id, agent::PublishOutcome outcome, const char* condition) override {
    seen.push_back(std::string(item_id) + " " + std::to_string(static_cast<int>(outcome)) + " " + condition);
  }
  std::vector<std::string> seen;
};

xmpp_stanza_t* publish_error(xmpp_ctx_t* ctx, const char* id, const char* type, const char* condition) {
  xmpp_stanza_t* iq = xmpp_iq_new(ctx, "error", id);
  xmpp_stanza_t* err = xmpp_stanza_new(ctx);
  xmpp_stanza_set_name(err, "error");
  xmpp_stanza_set_type(err, type);
  xmpp_stanza_t* c = xmpp_stanza_new(ctx);
  xmpp_stanza_set_name(c, condition);
  xmpp_stanza_set_ns(c, "urn:ietf:params:xml:ns:xmpp-stanzas");
  xmpp_stanza_add_child_ex(err, c, 0);
  xmpp_stanza_add_child_ex(iq, err, 0);
  return iq;
}

TEST_F(SessionReconnect, PublishOptionsOnlyFirstAndAfterPreconditionNotMet) {
  agent::Session s(ctx_, cfg_, clock_, rng_);
  Outcomes outcomes;
  s.set_publish_listener(&outcomes);
  ASSERT_EQ(s.start(), hal::Err::Ok);
  online(s, "600");
  const char payload[] = "<x/>";
  for (const char* id : {"b-000001", "b-000002", "b-000003"}) ASSERT_EQ(s.publish(id, payload, 4), hal::Err::Ok);
  EXPECT_EQ(s.stats().publish_options_sent, 1u);  // the first one only

  // b-000002 went without them: precondition-not-met -> wanted again now, then with them.
  xmpp_stanza_t* e = publish_error(ctx_.raw(), "pub-b-000002", "cancel", "precondition-not-met");
  s.on_stanza(e);
  xmpp_stanza_release(e);
  ASSERT_EQ(outcomes.seen.size(), 1u);
  EXPECT_EQ(outcomes.seen[0], "b-000002 3 precondition-not-met");  // ResendNow
  ASSERT_EQ(s.publish("b-000002", payload, 4), hal::Err::Ok);
  EXPECT_EQ(s.stats().publish_options_sent, 2u);
  ASSERT_EQ(s.publish("b-000004", payload, 4), hal::Err::Ok);
  EXPECT_EQ(s.stats().publish_options_sent, 2u);

  // Refused with them as well: reported as any refusal.
  e = publish_error(ctx_.raw(), "pbo-b-000002", "cancel", "precondition-not-met");
  s.on_stanza(e);
  xmpp_stanza_release(e);
  ASSERT_EQ(outcomes.seen.size(), 2u);
  EXPECT_EQ(outcomes.seen[1], "b-000002 2 precondition-not-met");  // Rejected

  // A resumed stream keeps the settled state; a fresh login wants them again.
  s.on_conn_event(XMPP_CONN_DISCONNECT, 0, "system-shutdown");
  (void)wait_for_attempt(s);
  s.on_conn_event(XMPP_CONN_CONNECT, 0, nullptr);
  clock_.advance_ms(3001);
  (void)s.tick();
  ASSERT_TRUE(s.online());
  ASSERT_EQ(s.publish("b-000005", payload, 4), hal::Err::Ok);
  EXPECT_EQ(s.stats().publish_options_sent, 3u);
}

// A node that is missing (item-not-found) is not a verdict on the reading
// (fleet-scale runs on ejabberd: the node-creating transaction aborted under
// a login storm): without publish-options the item goes again at once with
// them; refused with them too, it waits and is tried again (Retry), never
// dropped, and the next publish carries publish-options once more.
TEST_F(SessionReconnect, AMissingNodeIsRetriedNotDropped) {
  agent::Session s(ctx_, cfg_, clock_, rng_);
  Outcomes outcomes;
  s.set_publish_listener(&outcomes);
  ASSERT_EQ(s.start(), hal::Err::Ok);
  online(s, "600");
  const char payload[] = "<x/>";
  ASSERT_EQ(s.publish("b-000001", payload, 4), hal::Err::Ok);  // with publish-options
  ASSERT_EQ(s.publish("b-000002", payload, 4), hal::Err::Ok);  // without
  ASSERT_EQ(s.stats().publish_options_sent, 1u);

  xmpp_stanza_t* e = publish_error(ctx_.raw(), "pbo-b-000001", "cancel", "item-not-found");
  s.on_stanza(e);
  xmpp_stanza_release(e);
  e = publish_error(ctx_.raw(), "pub-b-000002", "cancel", "item-not-found");
  s.on_stanza(e);
  xmpp_stanza_release(e);
  ASSERT_EQ(outcomes.seen.size(), 2u);
  EXPECT_EQ(outcomes.seen[0], "b-000001 1 item-not-found");  // Retry
  EXPECT_EQ(outcomes.seen[1], "b-000002 3 item-not-found");  // ResendNow
  ASSERT_EQ(s.publish("b-000002", payload, 4), hal::Err::Ok);
  EXPECT_EQ(s.stats().publish_options_sent, 2u);
}

}  // namespace

// The alert room (XEP-0045, docs/alerts.md): joined after login, a refusal
// (nick conflict) or an eviction tried again kMucRetryMs later, kept over a
// resumed stream, joined again after a fresh login; groupchat only while in.
TEST_F(SessionReconnect, AlertRoomJoinRetryAndRejoin) {
  cfg_.xmpp.ping_interval_s = 3600;  // no ping (unanswered here) ends the link meanwhile
  agent::Session s(ctx_, cfg_, clock_, rng_);
  s.set_muc_room("alarms@conference.localhost", nullptr);
  ASSERT_EQ(s.start(), hal::Err::Ok);
  EXPECT_EQ(s.send_groupchat("<body>x</body>"), hal::Err::NotReady);
  online(s, "600");
  EXPECT_EQ(s.stats().muc_joins, 1u);
  EXPECT_FALSE(s.muc_joined());
  EXPECT_EQ(s.send_groupchat("<body>x</body>"), hal::Err::NotReady);
  auto feed = [&](const char* xml) {
    xmpp_stanza_t* p = xmpp_stanza_new_from_string(ctx_.raw(), xml);
    ASSERT_NE(p, nullptr) << xml;
    s.on_stanza(p);
    xmpp_stanza_release(p);
  };
  const char* self =
      "<presence from='alarms@conference.localhost/dev1@localhost'>"
      "<x xmlns='http://jabber.org/protocol/muc#user'><status code='110'/></x></presence>";
  // Another occupant's presence is not ours (and no subscription request).
  feed("<presence from='alarms@conference.localhost/watcher'/>");
  EXPECT_FALSE(s.muc_joined());
  feed(self);
  EXPECT_TRUE(s.muc_joined());
  EXPECT_EQ(s.send_groupchat("<body>ALARM</body>"), hal::Err::Ok);
  EXPECT_EQ(s.stats().groupchats, 1u);

  // Evicted (kicked, the room gone): out, and in again 30 s later.
  feed("<presence type='unavailable' from='alarms@conference.localhost/dev1@localhost'>"
       "<x xmlns='http://jabber.org/protocol/muc#user'><status code='307'/><status code='110'/></x></presence>");
  EXPECT_FALSE(s.muc_joined());
  clock_.advance_ms(agent::Session::kMucRetryMs - 1);
  (void)s.tick();
  EXPECT_EQ(s.stats().muc_joins, 1u);
  clock_.advance_ms(1);
  (void)s.tick();
  EXPECT_EQ(s.stats().muc_joins, 2u);
  // The nick is taken: refused, tried again later.
  feed("<presence type='error' from='alarms@conference.localhost/dev1@localhost'>"
       "<error type='cancel'><conflict xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></presence>");
  EXPECT_FALSE(s.muc_joined());
  clock_.advance_ms(agent::Session::kMucRetryMs);
  (void)s.tick();
  EXPECT_EQ(s.stats().muc_joins, 3u);
  // No answer at all: asked again after the same wait.
  clock_.advance_ms(agent::Session::kMucRetryMs);
  (void)s.tick();
  EXPECT_EQ(s.stats().muc_joins, 4u);
  feed(self);
  ASSERT_TRUE(s.muc_joined());

  // A resumed stream is still in the room: no new join.
  s.on_conn_event(XMPP_CONN_DISCONNECT, 0, nullptr);
  EXPECT_FALSE(s.muc_joined());
  (void)wait_for_attempt(s);
  s.on_log("xmpp", "Session resumed successfully.");
  s.on_conn_event(XMPP_CONN_CONNECT, 0, nullptr);
  ASSERT_TRUE(s.online());
  EXPECT_TRUE(s.muc_joined());
  EXPECT_EQ(s.stats().muc_joins, 4u);
  // A fresh login (the server's session gone) joins again.
  s.on_conn_event(XMPP_CONN_DISCONNECT, 0, "system-shutdown");
  (void)wait_for_attempt(s);
  s.on_conn_event(XMPP_CONN_CONNECT, 0, nullptr);
  clock_.advance_ms(3001);
  (void)s.tick();
  ASSERT_TRUE(s.online());
  EXPECT_FALSE(s.muc_joined());
  EXPECT_EQ(s.stats().muc_joins, 5u);
  feed(self);
  EXPECT_TRUE(s.muc_joined());
  // No room any more: left, and nothing is sent.
  s.set_muc_room("", nullptr);
  EXPECT_FALSE(s.muc_joined());
  EXPECT_EQ(s.send_groupchat("<body>x</body>"), hal::Err::NotReady);
}

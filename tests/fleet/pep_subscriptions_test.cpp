// watch's explicit PEP subscriptions without a server: the requests on the
// wire, the order subscribe -> last item, retries with backoff on a manual
// clock, the window, refusals, and the removal at the end (also of a
// subscription still in flight).
#include "fleet/pep_subscriptions.hpp"

#include <gtest/gtest.h>

#include <deque>
#include <string>
#include <vector>

#include "fleet/device.hpp"
#include "fleet/xml.hpp"

namespace fleet {
namespace {

using namespace std::chrono_literals;

constexpr const char* kMe = "ops@localhost/xiotctl-watch-0000abcd";

/// The requests PepSubscriptions sent, answered by hand.
struct FakeServer {
  struct Request {
    std::string to;
    std::string type;
    std::string xml;
    std::function<void(const IqReply&)> on_reply;
  };
  std::deque<Request> open;
  std::vector<std::string> log;  // "to type xml" of every request, in order

  PepSubscriptions::SendIq sender() {
    return [this](const std::string& to, const char* type, const XmlElement& payload,
                  std::function<void(const IqReply&)> on_reply) {
      log.push_back(to + " " + type + " " + to_string(payload));
      open.push_back(Request{to, type, to_string(payload), std::move(on_reply)});
    };
  }
  /// Answers the oldest open request.
  void answer(const IqReply& r) {
    ASSERT_FALSE(open.empty());
    Request q = std::move(open.front());
    open.pop_front();
    q.on_reply(r);
  }
  void answer_ok(const std::string& payload_xml = "") {
    IqReply r;
    r.ok = true;
    if (!payload_xml.empty()) {
      r.payload = parse_xml(payload_xml);
      r.has_payload = true;
    }
    answer(r);
  }
  void answer_error(const std::string& condition, const std::string& type = "cancel") {
    IqReply r;
    r.error.condition = condition;
    r.error.type = type;
    answer(r);
  }
};

std::string subscribed(const std::string& subid = "") {
  return "<pubsub xmlns='http://jabber.org/protocol/pubsub'><subscription node='urn:xiot:telemetry:0' jid='" +
         std::string(kMe) + "' subscription='subscribed'" + (subid.empty() ? "" : " subid='" + subid + "'") +
         "/></pubsub>";
}

std::string one_item(const std::string& id) {
  return "<pubsub xmlns='http://jabber.org/protocol/pubsub'><items node='urn:xiot:telemetry:0'><item id='" + id +
         "'><sensml xmlns='urn:ietf:params:xml:ns:senml'><senml n='a' v='1'/></sensml></item></items></pubsub>";
}

class PepSubscriptionsTest : public ::testing::Test {
 protected:
  PepSubscriptions make(PepSubscriptions::Settings s = {}) {
    PepSubscriptions::Hooks h;
    h.send_iq = server.sender();
    h.on_last_item = [this](const ItemEvent& ev) { items.push_back(ev); };
    h.on_refused = [this](const std::string& c, const std::string& why) { refused.push_back(c + ": " + why); };
    h.clock = [this] { return now; };
    return PepSubscriptions(kTelemetryNode, kMe, std::move(h), s);
  }

  FakeServer server;
  std::vector<ItemEvent> items;
  std::vector<std::string> refused;
  Clock::time_point now{std::chrono::seconds(1000)};
};

TEST(PepRequests, SubscribeUnsubscribeAndTheirResults) {
  EXPECT_EQ(to_string(make_subscribe_request(kTelemetryNode, kMe)),
            "<pubsub xmlns='http://jabber.org/protocol/pubsub'><subscribe node='urn:xiot:telemetry:0' "
            "jid='ops@localhost/xiotctl-watch-0000abcd'/></pubsub>");
  EXPECT_EQ(to_string(make_unsubscribe_request(kTelemetryNode, kMe, "")),
            "<pubsub xmlns='http://jabber.org/protocol/pubsub'><unsubscribe node='urn:xiot:telemetry:0' "
            "jid='ops@localhost/xiotctl-watch-0000abcd'/></pubsub>");
  EXPECT_EQ(to_string(make_unsubscribe_request(kTelemetryNode, kMe, "5f2a")),
            "<pubsub xmlns='http://jabber.org/protocol/pubsub'><unsubscribe node='urn:xiot:telemetry:0' "
            "jid='ops@localhost/xiotctl-watch-0000abcd' subid='5f2a'/></pubsub>");

  const auto s = parse_subscription_result(parse_xml(subscribed("5f2a")));
  ASSERT_TRUE(s);
  EXPECT_EQ(s->node, "urn:xiot:telemetry:0");
  EXPECT_EQ(s->jid, kMe);
  EXPECT_EQ(s->subid, "5f2a");
  EXPECT_EQ(s->state, "subscribed");
  const auto bare = parse_subscription_result(
      parse_xml("<pubsub xmlns='http://jabber.org/protocol/pubsub'><subscription node='n' jid='a@b'/></pubsub>"));
  ASSERT_TRUE(bare);
  EXPECT_EQ(bare->state, "subscribed") << "a success without the attribute";
  EXPECT_FALSE(parse_subscription_result(parse_xml("<pubsub xmlns='http://jabber.org/protocol/pubsub'/>")));
  EXPECT_FALSE(parse_subscription_result(parse_xml("<query xmlns='jabber:iq:roster'/>")));
}

TEST_F(PepSubscriptionsTest, SubscribesThenFetchesTheLastItemThenUnsubscribesAtTheEnd) {
  auto subs = make();
  subs.add("dev1@localhost");
  subs.add("dev1@localhost");  // once is enough
  ASSERT_EQ(server.open.size(), 1u);
  EXPECT_EQ(server.log[0],
            "dev1@localhost set <pubsub xmlns='http://jabber.org/protocol/pubsub'><subscribe "
            "node='urn:xiot:telemetry:0' jid='ops@localhost/xiotctl-watch-0000abcd'/></pubsub>");
  EXPECT_FALSE(subs.is_subscribed("dev1@localhost"));
  server.answer_ok(subscribed("5f2a"));
  EXPECT_TRUE(subs.is_subscribed("dev1@localhost"));
  // Only once the subscription is in place: the last item.
  ASSERT_EQ(server.open.size(), 1u);
  EXPECT_EQ(server.log[1],
            "dev1@localhost get <pubsub xmlns='http://jabber.org/protocol/pubsub'><items "
            "node='urn:xiot:telemetry:0' max_items='1'/></pubsub>");
  server.answer_ok(one_item("b-7"));
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(items[0].from, "dev1@localhost");
  EXPECT_EQ(items[0].node, "urn:xiot:telemetry:0");
  EXPECT_EQ(items[0].id, "b-7");
  ASSERT_TRUE(items[0].has_payload);
  EXPECT_EQ(items[0].payload.name, "sensml");

  EXPECT_EQ(subs.remove_all(), 1u);
  EXPECT_EQ(subs.removals_open(), 1u);
  EXPECT_EQ(server.log[2],
            "dev1@localhost set <pubsub xmlns='http://jabber.org/protocol/pubsub'><unsubscribe "
            "node='urn:xiot:telemetry:0' jid='ops@localhost/xiotctl-watch-0000abcd' subid='5f2a'/></pubsub>");
  server.answer_ok();
  EXPECT_EQ(subs.removals_open(), 0u);
  EXPECT_EQ(subs.subscribed(), 0u);
  subs.add("dev2@localhost");  // nothing new once removing
  EXPECT_TRUE(server.open.empty());
}

TEST_F(PepSubscriptionsTest, AnEmptyNodeOrAFailedFetchGivesNoItem) {
  auto subs = make();
  subs.add("dev1@localhost");
  subs.add("dev2@localhost");
  server.answer_ok();  // dev1: a result without payload is a subscription too
  server.answer_ok(subscribed());
  ASSERT_EQ(server.open.size(), 2u);
  server.answer_ok("<pubsub xmlns='http://jabber.org/protocol/pubsub'><items node='urn:xiot:telemetry:0'/></pubsub>");
  server.answer_error("forbidden");
  EXPECT_TRUE(items.empty());
  EXPECT_EQ(subs.subscribed(), 2u);
  EXPECT_TRUE(refused.empty());
}

TEST_F(PepSubscriptionsTest, ANodeNotCreatedYetIsRetriedWithBackoffOrAtOnceWhenItShowsUp) {
  PepSubscriptions::Settings s;
  s.retry_first = 1000ms;
  s.retry_cap = 4000ms;
  auto subs = make(s);
  subs.add("dev1@localhost");
  server.answer_error("item-not-found");
  EXPECT_TRUE(server.open.empty()) << "no fetch from a node that does not exist";
  EXPECT_EQ(subs.next_due(), now + 1000ms);
  now += 999ms;
  subs.tick();
  EXPECT_TRUE(server.open.empty());
  now += 1ms;
  subs.tick();
  ASSERT_EQ(server.open.size(), 1u);
  server.answer_error("item-not-found");
  EXPECT_EQ(subs.next_due(), now + 2000ms);
  now += 2000ms;
  subs.tick();
  server.answer_error("not-authorized", "auth");  // presence subscription not through yet
  EXPECT_EQ(subs.next_due(), now + 4000ms);
  now += 4000ms;
  subs.tick();
  server.answer_error("item-not-found");
  EXPECT_EQ(subs.next_due(), now + 4000ms) << "capped";

  // The device came online: the wait starts over.
  subs.contact_online("dev1@localhost");
  EXPECT_EQ(subs.next_due(), now + 1000ms);
  // A notification from it: the node exists, subscribe now.
  subs.node_seen("dev1@localhost");
  ASSERT_EQ(server.open.size(), 1u);
  server.answer_ok(subscribed());
  EXPECT_TRUE(subs.is_subscribed("dev1@localhost"));
  EXPECT_EQ(subs.next_due(), Clock::time_point::max());
  server.answer_ok(one_item("x-1"));
  ASSERT_EQ(items.size(), 1u);
  // Notifications of a subscribed contact change nothing.
  subs.node_seen("dev1@localhost");
  EXPECT_TRUE(server.open.empty());
}

TEST_F(PepSubscriptionsTest, ARefusalIsReportedAndTheLastItemIsStillFetched) {
  auto subs = make();
  subs.add("dev1@localhost");
  server.answer_error("feature-not-implemented");
  ASSERT_EQ(refused.size(), 1u);
  EXPECT_EQ(refused[0], "dev1@localhost: feature-not-implemented");
  ASSERT_EQ(server.open.size(), 1u);
  EXPECT_EQ(server.open.front().type, "get");
  server.answer_ok(one_item("r-1"));
  EXPECT_EQ(items.size(), 1u);
  EXPECT_EQ(subs.next_due(), Clock::time_point::max()) << "never retried";
  EXPECT_EQ(subs.remove_all(), 0u) << "nothing to remove";
}

TEST_F(PepSubscriptionsTest, AtMostWindowRequestsAreInFlight) {
  PepSubscriptions::Settings s;
  s.window = 2;
  auto subs = make(s);
  for (int i = 1; i <= 5; ++i) subs.add("dev" + std::to_string(i) + "@localhost");
  EXPECT_EQ(server.open.size(), 2u);
  server.answer_ok(subscribed());  // dev1 -> its fetch takes the slot
  EXPECT_EQ(server.open.size(), 2u);
  server.answer_ok(subscribed());  // dev2 -> fetch
  server.answer_ok(one_item("1"));  // dev1's fetch -> dev3's subscribe
  EXPECT_EQ(server.open.size(), 2u);
  while (!server.open.empty()) {
    const bool subscribe = server.open.front().xml.find("<subscribe") != std::string::npos;
    if (subscribe) {
      server.answer_ok(subscribed());
    } else {
      server.answer_ok(one_item("i"));
    }
    EXPECT_LE(server.open.size(), 2u);
  }
  EXPECT_EQ(subs.subscribed(), 5u);
  EXPECT_EQ(items.size(), 5u);
}

TEST_F(PepSubscriptionsTest, ASubscribeStillInFlightAtTheEndIsUndoneAndItsAnswerIgnored) {
  auto subs = make();
  subs.add("dev1@localhost");
  subs.add("dev2@localhost");
  server.answer_error("item-not-found");  // dev1 waits for a retry: nothing to undo
  ASSERT_EQ(server.open.size(), 1u);      // dev2's subscribe, unanswered
  EXPECT_EQ(subs.remove_all(), 1u);
  ASSERT_EQ(server.open.size(), 2u);
  EXPECT_NE(server.open.back().xml.find("<unsubscribe"), std::string::npos);
  EXPECT_EQ(server.open.back().to, "dev2@localhost");
  server.answer_ok(subscribed());  // the late subscribe result: no fetch now
  EXPECT_EQ(server.open.size(), 1u);
  server.answer_ok();
  EXPECT_EQ(subs.removals_open(), 0u);
  now += 1h;
  subs.tick();
  EXPECT_TRUE(server.open.empty()) << "no retries after the end";
}

TEST_F(PepSubscriptionsTest, AnswersAfterTheObjectIsGoneAreIgnored) {
  {
    auto subs = make();
    subs.add("dev1@localhost");
  }
  server.answer_ok(subscribed());  // must not touch the destroyed object
  EXPECT_TRUE(items.empty());
}

}  // namespace
}  // namespace fleet

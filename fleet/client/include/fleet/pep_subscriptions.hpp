// Explicit XEP-0060 subscriptions of one login to one PEP node of several
// contacts (xiotctl watch: urn:xiot:telemetry:0 of every watched device),
// each followed by a fetch of the node's last item, and their removal at the
// end. No libstrophe here: requests go out through an injected IQ sender and
// time comes from an injected clock, so the unit tests drive it by hand.
//
// Why, next to the implicit +notify subscriptions of XEP-0163 §4 (the caps
// feature "<node>+notify"):
//  - ejabberd 23.01 filters PEP notifications by the receiver's caps as known
//    on the *publisher's* cluster node; a node that never resolved our caps
//    hash drops them. An explicit subscription is a row in the replicated
//    PubSub tables and is delivered from any node.
//  - ejabberd records a local contact's caps too late to send it the last
//    item of a node published before the presence subscription went through.
//    The fetch after subscribing (<items max_items='1'/>) gets it anyway.
// Items therefore often arrive twice (notification by both routes, the last
// item pushed on subscribe and fetched): the caller de-duplicates by item id.
//
// The subscriber is a full JID (ours): notifications to a bare JID go only to
// resources of non-negative priority (RFC 6121 §8.5.2.1.1), and xiotctl's
// is -1. Neither Prosody 0.12 nor ejabberd 23.01 honours XEP-0060's temporary
// subscriptions on PEP (both accept pubsub#expire=presence and keep the
// subscription after the subscriber logs out), so remove_all() must run at the
// end; a process killed before that leaves its subscriptions behind (see
// docs/xiotctl.md).
#pragma once

#include <chrono>
#include <cstddef>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "fleet/client.hpp"
#include "fleet/xml.hpp"

namespace fleet {

/// `<pubsub xmlns='…pubsub'><subscribe node=… jid=…/></pubsub>` (XEP-0060 §6.1.1).
XmlElement make_subscribe_request(const std::string& node, const std::string& jid);
/// `<pubsub xmlns='…pubsub'><unsubscribe node=… jid=… [subid=…]/></pubsub>`
/// (XEP-0060 §6.2.1); `subid` "" leaves the attribute out.
XmlElement make_unsubscribe_request(const std::string& node, const std::string& jid, const std::string& subid);

/// The `<subscription/>` of a subscribe result (XEP-0060 §6.1.2).
struct PubsubSubscription {
  std::string node;
  std::string jid;
  std::string subid;  ///< "" when the service gives none (Prosody)
  std::string state;  ///< subscribed | pending | unconfigured | none
};
/// Reads a subscribe result. std::nullopt when `pubsub` is not a pubsub
/// element with a `<subscription/>` child.
std::optional<PubsubSubscription> parse_subscription_result(const XmlElement& pubsub);

class PepSubscriptions {
 public:
  using TimePoint = Clock::time_point;
  /// Sends an IQ (`type` "get" or "set") and calls `on_reply` with its answer;
  /// never calls it when the answer does not come (Client::send_iq()).
  using SendIq = std::function<void(const std::string& to, const char* type, const XmlElement& payload,
                                    std::function<void(const IqReply&)> on_reply)>;

  struct Hooks {
    SendIq send_iq;
    /// The newest item of a contact's node, fetched after subscribing.
    std::function<void(const ItemEvent&)> on_last_item;
    /// A subscription the service refused for good ("forbidden", …); the
    /// +notify route may still deliver. Optional.
    std::function<void(const std::string& contact, const std::string& why)> on_refused;
    /// One line per request and answer, for -v. Optional.
    std::function<void(const std::string& line)> trace;
    /// Monotonic time; default Clock::now.
    std::function<TimePoint()> clock;
  };

  struct Settings {
    /// Requests in flight at most (a fleet of hundreds subscribes in windows).
    size_t window = 64;
    /// First retry after "item-not-found" (the contact has not published yet)
    /// or "not-authorized" (our presence subscription is not through yet);
    /// doubled each time up to retry_cap.
    std::chrono::milliseconds retry_first{1000};
    std::chrono::milliseconds retry_cap{30000};
  };

  /// `node`: the PEP node; `subscriber`: our full JID.
  PepSubscriptions(std::string node, std::string subscriber, Hooks hooks, Settings settings);
  PepSubscriptions(std::string node, std::string subscriber, Hooks hooks)
      : PepSubscriptions(std::move(node), std::move(subscriber), std::move(hooks), Settings()) {}
  ~PepSubscriptions();
  PepSubscriptions(const PepSubscriptions&) = delete;
  PepSubscriptions& operator=(const PepSubscriptions&) = delete;

  /// Subscribes to `contact`'s node (bare JID) and then fetches its last item.
  /// Call it once we see the contact's presence (the node's access model is
  /// presence). A contact already added is left as it is.
  void add(const std::string& contact);
  /// Evidence that `contact`'s node exists now (a notification came from it):
  /// a subscription waiting for its next retry is tried at once.
  void node_seen(const std::string& contact);
  /// `contact` came online (it will publish soon): a waiting retry starts
  /// over from retry_first.
  void contact_online(const std::string& contact);

  /// Sends what is due: queued requests within the window, retries whose time
  /// has come.
  void tick();
  /// When tick() has something to do next (TimePoint::max() for nothing).
  TimePoint next_due() const;

  /// Sends an unsubscribe for every subscription made or being made (a
  /// subscribe still in flight is answered first: the service handles one
  /// sender's requests in order) and stops everything else. Returns how many
  /// were sent; removals_open() counts those not answered yet.
  size_t remove_all();
  size_t removals_open() const { return removals_open_; }

  /// Contacts whose subscription the service confirmed.
  size_t subscribed() const;
  bool is_subscribed(const std::string& contact) const;

 private:
  enum class State { Queued, Subscribing, Subscribed, Waiting, Refused, Removed };
  struct Entry {
    State state = State::Queued;
    std::string subid;
    std::chrono::milliseconds backoff{0};
    TimePoint retry_at{};
  };

  void send_subscribe(const std::string& contact);
  void on_subscribe_reply(const std::string& contact, const IqReply& r);
  void send_fetch(const std::string& contact);
  void on_fetch_reply(const std::string& contact, const IqReply& r);
  void wait_and_retry(const std::string& contact, Entry& e, const std::string& why);
  void log(const std::string& line) const;

  std::string node_;
  std::string subscriber_;
  Hooks hooks_;
  Settings settings_;
  std::map<std::string, Entry> entries_;
  std::deque<std::string> queue_;  // contacts Queued, oldest first
  size_t in_flight_ = 0;
  size_t removals_open_ = 0;
  bool removing_ = false;
  // The callbacks handed to send_iq hold a weak_ptr to this: an answer that
  // arrives after this object is gone is ignored.
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace fleet

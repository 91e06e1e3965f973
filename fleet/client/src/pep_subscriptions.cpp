#include "fleet/pep_subscriptions.hpp"

#include <algorithm>
#include <utility>

#include "fleet/device.hpp"

namespace fleet {
namespace {

/// Errors after which the subscription may work later: the node does not
/// exist yet (the contact has not published since its account was made), our
/// presence subscription is not effective yet (XEP-0060 §6.1.3.3:
/// not-authorized + presence-subscription-required), or the service asks us
/// to wait (RFC 6120 §8.3.2 type='wait').
bool retry_later(const StanzaError& e) {
  return e.condition == "item-not-found" || e.condition == "not-authorized" || e.type == "wait";
}

}  // namespace

XmlElement make_subscribe_request(const std::string& node, const std::string& jid) {
  XmlElement p = make_element("pubsub", kPubsubNs);
  p.add("subscribe").set("node", node).set("jid", jid);
  return p;
}

XmlElement make_unsubscribe_request(const std::string& node, const std::string& jid, const std::string& subid) {
  XmlElement p = make_element("pubsub", kPubsubNs);
  XmlElement& u = p.add("unsubscribe");
  u.set("node", node).set("jid", jid);
  if (!subid.empty()) u.set("subid", subid);
  return p;
}

std::optional<PubsubSubscription> parse_subscription_result(const XmlElement& pubsub) {
  if (pubsub.name != "pubsub" || pubsub.ns != kPubsubNs) return std::nullopt;
  const XmlElement* s = pubsub.child("subscription", kPubsubNs);
  if (s == nullptr) return std::nullopt;
  PubsubSubscription out;
  if (const std::string* v = s->attr("node")) out.node = *v;
  if (const std::string* v = s->attr("jid")) out.jid = *v;
  if (const std::string* v = s->attr("subid")) out.subid = *v;
  // XEP-0060 §6.1.2: the attribute is REQUIRED; a service leaving it out
  // answered a subscribe with success, which means subscribed.
  const std::string* st = s->attr("subscription");
  out.state = st != nullptr ? *st : "subscribed";
  return out;
}

PepSubscriptions::PepSubscriptions(std::string node, std::string subscriber, Hooks hooks, Settings settings)
    : node_(std::move(node)), subscriber_(std::move(subscriber)), hooks_(std::move(hooks)), settings_(settings) {
  if (!hooks_.clock) hooks_.clock = [] { return Clock::now(); };
  if (settings_.window == 0) settings_.window = 1;
}

PepSubscriptions::~PepSubscriptions() = default;

void PepSubscriptions::log(const std::string& line) const {
  if (hooks_.trace) hooks_.trace(line);
}

void PepSubscriptions::add(const std::string& contact) {
  if (removing_ || entries_.count(contact) > 0) return;
  entries_[contact] = Entry{};
  queue_.push_back(contact);
  tick();
}

void PepSubscriptions::node_seen(const std::string& contact) {
  auto it = entries_.find(contact);
  if (it == entries_.end() || it->second.state != State::Waiting) return;
  it->second.retry_at = hooks_.clock();
  tick();
}

void PepSubscriptions::contact_online(const std::string& contact) {
  auto it = entries_.find(contact);
  if (it == entries_.end() || it->second.state != State::Waiting) return;
  it->second.backoff = settings_.retry_first;
  it->second.retry_at = std::min(it->second.retry_at, hooks_.clock() + settings_.retry_first);
}

void PepSubscriptions::tick() {
  if (removing_) return;
  const TimePoint now = hooks_.clock();
  for (auto& kv : entries_) {
    if (kv.second.state == State::Waiting && kv.second.retry_at <= now) {
      kv.second.state = State::Queued;
      queue_.push_back(kv.first);
    }
  }
  while (in_flight_ < settings_.window && !queue_.empty()) {
    const std::string contact = queue_.front();
    queue_.pop_front();
    send_subscribe(contact);
  }
}

PepSubscriptions::TimePoint PepSubscriptions::next_due() const {
  if (removing_) return TimePoint::max();
  TimePoint due = TimePoint::max();
  for (const auto& kv : entries_) {
    if (kv.second.state == State::Waiting) due = std::min(due, kv.second.retry_at);
  }
  // Queued contacts go out as soon as answers free the window; answers wake
  // the loop anyway.
  return due;
}

void PepSubscriptions::send_subscribe(const std::string& contact) {
  entries_[contact].state = State::Subscribing;
  ++in_flight_;
  log("subscribing to " + contact + "'s " + node_ + " as " + subscriber_);
  std::weak_ptr<bool> alive = alive_;
  hooks_.send_iq(contact, "set", make_subscribe_request(node_, subscriber_), [this, alive, contact](const IqReply& r) {
    if (alive.expired()) return;
    on_subscribe_reply(contact, r);
  });
}

void PepSubscriptions::on_subscribe_reply(const std::string& contact, const IqReply& r) {
  --in_flight_;
  Entry& e = entries_[contact];
  if (removing_ || e.state != State::Subscribing) {  // remove_all() took over: its unsubscribe follows
    log(contact + "'s " + node_ + ": " + (r.ok ? std::string("subscribed") : r.error.describe()) +
        " (an unsubscribe is on its way)");
    return;
  }
  if (r.ok) {
    const auto sub = r.has_payload ? parse_subscription_result(r.payload) : std::nullopt;
    e.state = State::Subscribed;
    e.backoff = std::chrono::milliseconds(0);
    if (sub) e.subid = sub->subid;
    log(contact + "'s " + node_ + ": " + (sub ? sub->state : std::string("subscribed")) +
        (e.subid.empty() ? "" : " (subid " + e.subid + ")"));
    send_fetch(contact);
  } else if (retry_later(r.error)) {
    wait_and_retry(contact, e, r.error.describe());
  } else {
    // Refused for good; the node's last item may still be readable.
    e.state = State::Refused;
    log(contact + "'s " + node_ + ": subscription refused: " + r.error.describe());
    if (hooks_.on_refused) hooks_.on_refused(contact, r.error.describe());
    send_fetch(contact);
  }
  tick();
}

void PepSubscriptions::wait_and_retry(const std::string& contact, Entry& e, const std::string& why) {
  e.state = State::Waiting;
  e.backoff = e.backoff.count() == 0 ? settings_.retry_first : std::min(e.backoff * 2, settings_.retry_cap);
  e.retry_at = hooks_.clock() + e.backoff;
  log(contact + "'s " + node_ + ": " + why + "; retrying in " + std::to_string(e.backoff.count()) + " ms");
}

void PepSubscriptions::send_fetch(const std::string& contact) {
  ++in_flight_;
  std::weak_ptr<bool> alive = alive_;
  hooks_.send_iq(contact, "get", make_items_request(node_, "", 1), [this, alive, contact](const IqReply& r) {
    if (alive.expired()) return;
    on_fetch_reply(contact, r);
  });
}

void PepSubscriptions::on_fetch_reply(const std::string& contact, const IqReply& r) {
  --in_flight_;
  if (removing_) return;
  if (!r.ok) {
    log(contact + "'s " + node_ + ": last item: " + r.error.describe());
  } else if (r.has_payload) {
    std::vector<PubsubItem> items;
    try {
      items = parse_items_result(r.payload, node_);
    } catch (const Error& e) {
      log(contact + "'s " + node_ + ": last item: " + e.what());
    }
    if (!items.empty() && hooks_.on_last_item) {
      // The newest is the last one (XEP-0060 §6.5.7: max_items returns the
      // most recent items); a service keeping one item sends just that.
      ItemEvent ev;
      ev.from = contact;
      ev.node = node_;
      ev.id = items.back().id;
      ev.has_payload = items.back().has_payload;
      ev.payload = std::move(items.back().payload);
      hooks_.on_last_item(ev);
    }
  }
  tick();
}

size_t PepSubscriptions::remove_all() {
  removing_ = true;
  queue_.clear();
  size_t sent = 0;
  std::weak_ptr<bool> alive = alive_;
  for (auto& kv : entries_) {
    Entry& e = kv.second;
    if (e.state != State::Subscribed && e.state != State::Subscribing) {
      e.state = State::Removed;
      continue;
    }
    e.state = State::Removed;
    ++removals_open_;
    ++sent;
    log("unsubscribing from " + kv.first + "'s " + node_);
    const std::string contact = kv.first;
    hooks_.send_iq(contact, "set", make_unsubscribe_request(node_, subscriber_, e.subid),
                   [this, alive, contact](const IqReply& r) {
                     if (alive.expired()) return;
                     --removals_open_;
                     log(contact + "'s " + node_ + ": " + (r.ok ? "unsubscribed" : r.error.describe()));
                   });
  }
  return sent;
}

size_t PepSubscriptions::subscribed() const {
  return static_cast<size_t>(std::count_if(entries_.begin(), entries_.end(),
                                           [](const auto& kv) { return kv.second.state == State::Subscribed; }));
}

bool PepSubscriptions::is_subscribed(const std::string& contact) const {
  auto it = entries_.find(contact);
  return it != entries_.end() && it->second.state == State::Subscribed;
}

}  // namespace fleet

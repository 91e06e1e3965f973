#include "fleet/fleet_ops.hpp"

#include <algorithm>
#include <deque>
#include <map>
#include <set>

namespace fleet {
namespace {

using std::chrono::milliseconds;

constexpr size_t kMaxStages = 16;
constexpr milliseconds kCancelLimit{2000};
// How long `devices` waits, after its requests are answered, for contacts
// whose presence (available or unavailable) has not arrived yet.
constexpr milliseconds kPresenceGrace{2000};

int show_rank(const std::string& show) {
  switch (state_from_show(show)) {
    case DeviceState::Online: return 0;
    case DeviceState::Degraded: return 1;
    default: return 2;
  }
}

std::string no_answer() { return "no answer"; }

/// One request of query_devices(), waiting for its turn in the window.
struct Job {
  size_t device;  // index in the result
  enum Kind { Description, Telemetry, LastActivity } kind;
};

}  // namespace

const PresenceEvent* best_presence(const Client& client, const std::string& bare) {
  const PresenceEvent* best = nullptr;
  const auto& online = client.online();
  // Full JIDs of one bare JID sort together, right after the bare JID itself.
  for (auto it = online.lower_bound(bare); it != online.end(); ++it) {
    const PresenceEvent& p = it->second;
    if (p.bare != bare) {
      if (it->first.compare(0, bare.size(), bare) != 0) break;
      continue;
    }
    if (best == nullptr || p.priority > best->priority ||
        (p.priority == best->priority && show_rank(p.show) < show_rank(best->show))) {
      best = &p;
    }
  }
  return best;
}

DevicesResult query_devices(Client& client, Deadline deadline, const std::function<int64_t()>& wall_now_us,
                            size_t window) {
  DevicesResult result;
  const std::string me = client.bare();
  for (const auto& kv : client.roster()) {
    if (kv.first == me) continue;
    DeviceStatus d;
    d.jid = kv.first;
    d.name = kv.second.name;
    d.subscription = kv.second.subscription;
    d.ask = kv.second.ask_subscribe;
    result.devices.push_back(std::move(d));
  }
  if (window == 0) window = 1;

  std::deque<Job> queue;
  for (size_t i = 0; i < result.devices.size(); ++i) {
    DeviceStatus& d = result.devices[i];
    if (!sees_presence(d.subscription)) {
      const std::string why = d.ask ? "our presence subscription is not approved yet"
                                    : "not subscribed to its presence";
      d.description_error = why;
      d.telemetry_error = why;
      continue;
    }
    queue.push_back(Job{i, Job::Description});
    queue.push_back(Job{i, Job::Telemetry});
  }

  size_t in_flight = 0;
  const int64_t now_us = wall_now_us();
  auto pump = [&] {
    while (in_flight < window && !queue.empty()) {
      const Job job = queue.front();
      queue.pop_front();
      DeviceStatus* d = &result.devices[job.device];
      ++in_flight;
      switch (job.kind) {
        case Job::Description:
          client.send_iq(d->jid, "get", make_items_request(kDeviceNode, kDeviceItemId, 0),
                         [&, d](const IqReply& r) {
                           --in_flight;
                           if (!r.ok) {
                             d->description_error = r.error.describe();
                             return;
                           }
                           try {
                             const auto items =
                                 r.has_payload ? parse_items_result(r.payload, kDeviceNode) : std::vector<PubsubItem>{};
                             if (items.empty() || !items.front().has_payload) {
                               d->description_error = "no device description published";
                             } else {
                               d->description = parse_device_description(items.front().payload);
                             }
                           } catch (const Error& e) {
                             d->description_error = e.what();
                           }
                         });
          break;
        case Job::Telemetry:
          client.send_iq(d->jid, "get", make_items_request(kTelemetryNode, "", 1), [&, d](const IqReply& r) {
            --in_flight;
            if (!r.ok) {
              d->telemetry_error = r.error.describe();
              return;
            }
            try {
              const auto items =
                  r.has_payload ? parse_items_result(r.payload, kTelemetryNode) : std::vector<PubsubItem>{};
              if (items.empty()) {
                d->telemetry_error = "no telemetry published";
              } else {
                d->telemetry = telemetry_from_item(items.back(), d->jid, now_us);
              }
            } catch (const SenmlError& e) {
              d->telemetry_error = std::string("unreadable item: ") + e.what();
            } catch (const Error& e) {
              d->telemetry_error = e.what();
            }
          });
          break;
        case Job::LastActivity:
          client.send_iq(d->jid, "get", make_last_activity_request(), [&, d](const IqReply& r) {
            --in_flight;
            if (!r.ok || !r.has_payload) return;  // many servers do not offer it
            const int64_t secs = parse_last_activity_seconds(r.payload);
            // Prosody answers 0 for an account it has not seen log out since it
            // started: that says nothing.
            if (secs > 0) {
              d->last_seen_us = now_us - secs * 1000000;
              d->last_seen_source = "last-activity";
            }
          });
          break;
      }
    }
  };
  auto drained = [&] {
    pump();
    return in_flight == 0 && queue.empty();
  };

  // State from presence (best available resource; none = offline).
  auto settle_states = [&] {
    for (auto& d : result.devices) {
      if (!sees_presence(d.subscription)) {
        d.state = DeviceState::Unknown;
        continue;
      }
      const PresenceEvent* p = best_presence(client, d.jid);
      if (p == nullptr) {
        d.state = DeviceState::Offline;
        d.resource.clear();
        continue;
      }
      d.state = state_from_show(p->show);
      d.resource = p->from;
      d.show = p->show;
      d.status = p->status;
      d.presence_since = p->delay_stamp;
      d.last_seen_us = now_us;
      d.last_seen_source = "presence";
    }
  };

  bool finished = false;
  try {
    finished = client.run_until(drained, deadline);
    // Every contact's presence answer (available, or unavailable when it has
    // no resource online) is usually in by now; on a cluster it may be relayed
    // a little later. Wait for the missing ones, briefly: a server that does
    // not answer probes for offline contacts costs kPresenceGrace once.
    if (finished) {
      const Deadline grace = std::min(deadline, Clock::now() + kPresenceGrace);
      client.run_until(
          [&] {
            for (const auto& d : result.devices) {
              if (sees_presence(d.subscription) && !client.presence_heard(d.jid)) return false;
            }
            return true;
          },
          grace);
    }
    // Phase 2: when were the offline ones last seen?
    if (finished) {
      settle_states();
      for (size_t i = 0; i < result.devices.size(); ++i) {
        if (result.devices[i].state == DeviceState::Offline) queue.push_back(Job{i, Job::LastActivity});
      }
      finished = client.run_until(drained, deadline);
    }
  } catch (...) {
    client.forget_pending_iqs();  // their callbacks refer to this frame
    throw;
  }
  settle_states();

  result.unanswered = in_flight + queue.size();
  if (!finished) {
    client.forget_pending_iqs();  // their callbacks refer to this frame
    for (auto& d : result.devices) {
      if (!sees_presence(d.subscription)) continue;
      if (!d.description && d.description_error.empty()) d.description_error = no_answer();
      if (!d.telemetry && d.telemetry_error.empty()) d.telemetry_error = no_answer();
    }
  }
  for (auto& d : result.devices) {
    if (d.last_seen_us == 0 && d.telemetry) {
      d.last_seen_us = d.telemetry->time_us;
      d.last_seen_source = "telemetry";
    }
  }
  return result;
}

DeviceDescription fetch_description(Client& client, const std::string& bare, Deadline deadline) {
  const IqReply r = client.request(bare, "get", make_items_request(kDeviceNode, kDeviceItemId, 0), deadline,
                                   "the device description");
  if (!r.ok) {
    throw RemoteError(bare + " (" + kDeviceNode + "): " + r.error.describe(), r.error);
  }
  const auto items = r.has_payload ? parse_items_result(r.payload, kDeviceNode) : std::vector<PubsubItem>{};
  if (items.empty() || !items.front().has_payload) {
    throw Error(Exit::DeviceError, bare + " has not published a device description (" + kDeviceNode + ")");
  }
  return parse_device_description(items.front().payload);
}

const RosterItem& require_contact(const Client& client, const std::string& bare) {
  const auto& roster = client.roster();
  auto it = roster.find(bare);
  if (it != roster.end() && bare != client.bare()) return it->second;
  std::string known;
  size_t n = 0;
  for (const auto& kv : roster) {
    if (kv.first == client.bare()) continue;
    if (n++ < 5) known += (known.empty() ? "" : ", ") + kv.first;
  }
  if (n > 5) known += ", ...";
  throw Error(Exit::Usage, "unknown device " + bare + ": not in " + client.bare() + "'s roster" +
                               (known.empty() ? " (the roster is empty)" : " (known: " + known + ")"));
}

std::string resolve_online_device(Client& client, const std::string& bare, Deadline deadline,
                                  std::chrono::milliseconds grace) {
  const RosterItem& item = require_contact(client, bare);
  if (!sees_presence(item.subscription)) {
    throw Error(Exit::DeviceError,
                bare + (item.ask_subscribe ? " has not approved our presence subscription yet"
                                                 : ": not subscribed to its presence") +
                    " (is " + client.bare() + " in its ACL?)");
  }
  // The answer to our initial presence's probe: its available presence, or an
  // unavailable one (RFC 6121 §4.3.2); `grace` bounds the wait for servers
  // that send nothing for an offline contact.
  const Deadline until = std::min(deadline, Clock::now() + grace);
  client.run_until([&] { return client.presence_heard(bare) || best_presence(client, bare) != nullptr; }, until);
  if (const PresenceEvent* p = best_presence(client, bare)) return p->from;
  if (!client.presence_heard(bare) && Clock::now() >= deadline) {
    throw Error(Exit::Timeout, "timed out waiting for the presence of " + bare, true);
  }
  throw Error(Exit::DeviceError, bare + " is offline");
}

std::vector<CommandItem> fetch_commands(Client& client, const std::string& full_jid, Deadline deadline) {
  const IqReply r = client.request(full_jid, "get", make_command_list_request(), deadline, "the command list");
  if (!r.ok) throw RemoteError(full_jid + ": " + r.error.describe(), r.error);
  if (!r.has_payload) return {};
  return parse_command_list(r.payload);
}

CommandOutcome run_command(Client& client, const std::string& full_jid, const std::string& node,
                           const std::vector<FieldArg>& args, Deadline deadline,
                           const std::function<void(const std::string&)>& trace) {
  CommandOutcome out;
  out.jid = full_jid;
  out.node = node;
  const std::string what = "the answer to command '" + node + "'";

  auto send = [&](const XmlElement& payload) {
    if (trace) trace("-> " + to_string(payload));
    IqReply r = client.request(full_jid, "set", payload, deadline, what);
    if (trace) {
      trace("<- " + (r.ok ? (r.has_payload ? to_string(r.payload) : std::string("(empty result)"))
                          : "error " + r.error.describe()));
    }
    return r;
  };
  // Politely ends an open session on the device; failures do not matter.
  auto cancel = [&](const std::string& sessionid) {
    if (sessionid.empty()) return;
    try {
      const Deadline until = std::min(deadline, Clock::now() + kCancelLimit);
      (void)client.request(full_jid, "set", make_command_request(node, sessionid, "cancel", nullptr), until,
                           "the cancel of command '" + node + "'");
    } catch (const Error&) {
    }
  };
  auto parse = [&](const IqReply& r) {
    if (!r.has_payload) throw Error(Exit::DeviceError, full_jid + " answered command '" + node + "' with nothing");
    return parse_command_reply(r.payload);
  };

  IqReply r = send(make_command_request(node, "", "execute", nullptr));
  if (!r.ok) {
    out.error = r.error;
    return out;
  }
  CommandReply reply = parse(r);
  // Every stage fills its form from all the arguments (a var asked again in a
  // later stage gets the same value); an argument no stage has asked for yet
  // may be for a later one.
  std::set<std::string> used;
  std::vector<FieldArg> remaining = args;
  for (size_t stage = 0; reply.status == "executing"; ++stage) {
    if (stage >= kMaxStages) {
      cancel(reply.sessionid);
      throw Error(Exit::DeviceError, "command '" + node + "' still executing after " + std::to_string(kMaxStages) +
                                         " stages; canceled");
    }
    DataForm filled;
    bool has_form = false;
    std::string action;
    try {
      if (reply.form) {
        std::vector<FieldArg> not_here;
        filled = fill_form(*reply.form, args, &not_here);
        has_form = true;
        for (const auto& a : args) {
          if (reply.form->find(a.var) != nullptr) used.insert(a.var);
        }
      }
      remaining.clear();
      for (const auto& a : args) {
        if (used.count(a.var) == 0) remaining.push_back(a);
      }
      action = choose_submit_action(reply, !remaining.empty());
      if (!remaining.empty() && action != "next") {
        std::string names;
        for (const auto& a : remaining) names += (names.empty() ? "'" : ", '") + a.var + "'";
        std::string forms;
        for (const auto& st : out.stages) {
          if (st.form) forms += "\n" + describe_fields(*st.form);
        }
        if (reply.form) forms += "\n" + describe_fields(*reply.form);
        throw Error(Exit::Usage, "command '" + node + "' has no field " + names + forms);
      }
    } catch (const Error&) {
      cancel(reply.sessionid);
      throw;
    }
    const std::string sessionid = reply.sessionid;
    out.stages.push_back(std::move(reply));
    r = send(make_command_request(node, sessionid, action, has_form ? &filled : nullptr));
    if (!r.ok) {
      out.error = r.error;
      cancel(sessionid);  // after bad-payload the device keeps the session open
      return out;
    }
    reply = parse(r);
  }
  if (out.stages.empty()) remaining = args;  // completed at once: nothing was asked
  out.reply = std::move(reply);
  out.unused = std::move(remaining);
  out.ok = true;
  return out;
}

}  // namespace fleet

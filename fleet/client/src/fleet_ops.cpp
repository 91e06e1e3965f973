#include "fleet/fleet_ops.hpp"

#include <algorithm>
#include <deque>
#include <map>
#include <optional>
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

/// query_devices() in steps. The state of the pipelined requests lives here;
/// the IQ callbacks refer to this object, so every way out of run() that
/// leaves requests open forgets them first (Client::forget_pending_iqs()).
class DevicesQuery {
 public:
  DevicesQuery(Client& client, int64_t now_us, size_t window)
      : client_(client), now_us_(now_us), window_(window == 0 ? 1 : window) {}

  DevicesResult run(Deadline deadline) {
    list_contacts();
    queue_status_requests();
    bool finished = false;
    try {
      finished = run_requests(deadline);
      if (finished) {
        wait_for_presences(deadline);
        settle_states();
        queue_last_activity_requests();  // phase 2: when were the offline ones last seen?
        finished = run_requests(deadline);
      }
    } catch (...) {
      client_.forget_pending_iqs();  // their callbacks refer to this object; the error goes on
      throw;
    }
    settle_states();
    result_.unanswered = in_flight_ + queue_.size();
    if (!finished) {
      client_.forget_pending_iqs();  // their callbacks refer to this object
      mark_unanswered();
    }
    fill_last_seen_from_telemetry();
    return std::move(result_);
  }

 private:
  /// One request, waiting for its turn in the window.
  struct Job {
    size_t device;  // index in result_.devices
    enum Kind { Description, Telemetry, LastActivity } kind;
  };

  /// Every roster contact but ourselves, in roster order.
  void list_contacts() {
    const std::string me = client_.bare();
    for (const auto& kv : client_.roster()) {
      if (kv.first == me) continue;
      DeviceStatus d;
      d.jid = kv.first;
      d.name = kv.second.name;
      d.subscription = kv.second.subscription;
      d.ask = kv.second.ask_subscribe;
      result_.devices.push_back(std::move(d));
    }
  }

  /// The description and the newest telemetry item of every contact whose
  /// presence we see; the others are not asked (their PEP nodes are closed to us).
  void queue_status_requests() {
    for (size_t i = 0; i < result_.devices.size(); ++i) {
      DeviceStatus& d = result_.devices[i];
      if (!sees_presence(d.subscription)) {
        const std::string why = d.ask ? "our presence subscription is not approved yet"
                                      : "not subscribed to its presence";
        d.description_error = why;
        d.telemetry_error = why;
        continue;
      }
      queue_.push_back(Job{i, Job::Description});
      queue_.push_back(Job{i, Job::Telemetry});
    }
  }

  void queue_last_activity_requests() {
    for (size_t i = 0; i < result_.devices.size(); ++i) {
      if (result_.devices[i].state == DeviceState::Offline) queue_.push_back(Job{i, Job::LastActivity});
    }
  }

  /// Sends the queued requests (at most window_ in flight) until every one is
  /// answered; false when the deadline came first.
  bool run_requests(Deadline deadline) {
    return client_.run_until(
        [this] {
          send_queued();
          return in_flight_ == 0 && queue_.empty();
        },
        deadline);
  }

  void send_queued() {
    while (in_flight_ < window_ && !queue_.empty()) {
      const Job job = queue_.front();
      queue_.pop_front();
      send(job);
    }
  }

  void send(const Job& job) {
    ++in_flight_;
    client_.send_iq(result_.devices[job.device].jid, "get", request_for(job.kind), [this, job](const IqReply& r) {
      --in_flight_;
      DeviceStatus& d = result_.devices[job.device];
      switch (job.kind) {
        case Job::Description: on_description(d, r); break;
        case Job::Telemetry: on_telemetry(d, r); break;
        case Job::LastActivity: on_last_activity(d, r); break;
      }
    });
  }

  static XmlElement request_for(Job::Kind kind) {
    switch (kind) {
      case Job::Description: return make_items_request(kDeviceNode, kDeviceItemId, 0);
      case Job::Telemetry: return make_items_request(kTelemetryNode, "", 1);
      case Job::LastActivity: break;
    }
    return make_last_activity_request();
  }

  void on_description(DeviceStatus& d, const IqReply& r) {
    if (!r.ok) {
      d.description_error = r.error.describe();
      return;
    }
    try {
      const auto items = r.has_payload ? parse_items_result(r.payload, kDeviceNode) : std::vector<PubsubItem>{};
      if (items.empty() || !items.front().has_payload) {
        d.description_error = "no device description published";
      } else {
        d.description = parse_device_description(items.front().payload);
      }
    } catch (const Error& e) {
      d.description_error = e.what();  // reported in the device's row
    }
  }

  void on_telemetry(DeviceStatus& d, const IqReply& r) {
    if (!r.ok) {
      d.telemetry_error = r.error.describe();
      return;
    }
    try {
      const auto items = r.has_payload ? parse_items_result(r.payload, kTelemetryNode) : std::vector<PubsubItem>{};
      if (items.empty()) {
        d.telemetry_error = "no telemetry published";
      } else {
        d.telemetry = telemetry_from_item(items.back(), d.jid, now_us_);
      }
    } catch (const SenmlError& e) {
      d.telemetry_error = std::string("unreadable item: ") + e.what();  // reported in the device's row
    } catch (const Error& e) {
      d.telemetry_error = e.what();  // reported in the device's row
    }
  }

  void on_last_activity(DeviceStatus& d, const IqReply& r) {
    if (!r.ok || !r.has_payload) return;  // many servers do not offer it
    const int64_t secs = parse_last_activity_seconds(r.payload);
    // Prosody answers 0 for an account it has not seen log out since it
    // started: that says nothing.
    if (secs > 0) {
      d.last_seen_us = now_us_ - secs * 1000000;
      d.last_seen_source = "last-activity";
    }
  }

  /// Every contact's presence answer (available, or unavailable when it has
  /// no resource online) is usually in by now; on a cluster it may be relayed
  /// a little later. Waits for the missing ones, briefly: a server that does
  /// not answer probes for offline contacts costs kPresenceGrace once.
  void wait_for_presences(Deadline deadline) {
    const Deadline grace = std::min(deadline, Clock::now() + kPresenceGrace);
    client_.run_until(
        [this] {
          for (const auto& d : result_.devices) {
            if (sees_presence(d.subscription) && !client_.presence_heard(d.jid)) return false;
          }
          return true;
        },
        grace);
  }

  /// State from presence (best available resource; none = offline).
  void settle_states() {
    for (auto& d : result_.devices) {
      if (!sees_presence(d.subscription)) {
        d.state = DeviceState::Unknown;
        continue;
      }
      const PresenceEvent* p = best_presence(client_, d.jid);
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
      d.last_seen_us = now_us_;
      d.last_seen_source = "presence";
    }
  }

  /// After the deadline: what did not come says so.
  void mark_unanswered() {
    for (auto& d : result_.devices) {
      if (!sees_presence(d.subscription)) continue;
      if (!d.description && d.description_error.empty()) d.description_error = no_answer();
      if (!d.telemetry && d.telemetry_error.empty()) d.telemetry_error = no_answer();
    }
  }

  /// Neither presence nor last activity: the newest reading is the last sign of life.
  void fill_last_seen_from_telemetry() {
    for (auto& d : result_.devices) {
      if (d.last_seen_us == 0 && d.telemetry) {
        d.last_seen_us = d.telemetry->time_us;
        d.last_seen_source = "telemetry";
      }
    }
  }

  Client& client_;
  const int64_t now_us_;
  const size_t window_;
  DevicesResult result_;
  std::deque<Job> queue_;
  size_t in_flight_ = 0;
};

/// run_command() in steps: one object per run, so that every step sees the
/// device, the node, the deadline and what the stages so far have used.
class CommandRun {
 public:
  CommandRun(Client& client, const std::string& full_jid, const std::string& node, const std::vector<FieldArg>& args,
             Deadline deadline, const std::function<void(const std::string&)>& trace)
      : client_(client), node_(node), args_(args), deadline_(deadline), trace_(trace), remaining_(args) {
    out_.jid = full_jid;
    out_.node = node;
  }

  CommandOutcome run() {
    IqReply r = send(make_command_request(node_, "", "execute", nullptr));
    if (!r.ok) return failed(r);
    CommandReply reply = parse(r);
    for (size_t stage = 0; reply.status == "executing"; ++stage) {
      if (stage >= kMaxStages) {
        cancel(reply.sessionid);
        throw Error(Exit::DeviceError, "command '" + node_ + "' still executing after " +
                                           std::to_string(kMaxStages) + " stages; canceled");
      }
      const Submission next = submission_for(reply);
      const std::string sessionid = reply.sessionid;
      out_.stages.push_back(std::move(reply));
      r = send(make_command_request(node_, sessionid, next.action, next.form ? &*next.form : nullptr));
      if (!r.ok) {
        cancel(sessionid);  // after bad-payload the device keeps the session open
        return failed(r);
      }
      reply = parse(r);
    }
    out_.reply = std::move(reply);
    out_.unused = std::move(remaining_);  // all of them when it completed at once: nothing was asked
    out_.ok = true;
    return std::move(out_);
  }

 private:
  /// What the next request of an executing command carries.
  struct Submission {
    std::optional<DataForm> form;  // filled from the arguments; none when the stage has no form
    std::string action;
  };

  IqReply send(const XmlElement& payload) {
    if (trace_) trace_("-> " + to_string(payload));
    IqReply r = client_.request(out_.jid, "set", payload, deadline_, "the answer to command '" + node_ + "'");
    if (trace_) {
      trace_("<- " + (r.ok ? (r.has_payload ? to_string(r.payload) : std::string("(empty result)"))
                           : "error " + r.error.describe()));
    }
    return r;
  }

  CommandReply parse(const IqReply& r) const {
    if (!r.has_payload) throw Error(Exit::DeviceError, out_.jid + " answered command '" + node_ + "' with nothing");
    return parse_command_reply(r.payload);
  }

  CommandOutcome failed(const IqReply& r) {
    out_.error = r.error;
    return std::move(out_);
  }

  /// Politely ends an open session on the device. A failure (timeout, lost
  /// connection) is only traced: the caller reports the run's own outcome,
  /// and the device expires an idle session by itself.
  void cancel(const std::string& sessionid) {
    if (sessionid.empty()) return;
    try {
      const Deadline until = std::min(deadline_, Clock::now() + kCancelLimit);
      (void)client_.request(out_.jid, "set", make_command_request(node_, sessionid, "cancel", nullptr), until,
                            "the cancel of command '" + node_ + "'");
    } catch (const Error& e) {
      if (trace_) trace_(std::string("cancel not confirmed: ") + e.what());
    }
  }

  /// The stage's form filled and the action chosen; on arguments the form
  /// refuses, the device's session is canceled before the error goes on.
  Submission submission_for(const CommandReply& reply) {
    try {
      return fill_stage(reply);
    } catch (const Error&) {
      cancel(reply.sessionid);
      throw;
    }
  }

  /// Every stage fills its form from all the arguments (a var asked again in a
  /// later stage gets the same value); an argument no stage has asked for yet
  /// may be for a later one.
  Submission fill_stage(const CommandReply& reply) {
    Submission next;
    if (reply.form) {
      std::vector<FieldArg> not_here;
      next.form = fill_form(*reply.form, args_, &not_here);
      for (const auto& a : args_) {
        if (reply.form->find(a.var) != nullptr) used_.insert(a.var);
      }
    }
    remaining_.clear();
    for (const auto& a : args_) {
      if (used_.count(a.var) == 0) remaining_.push_back(a);
    }
    next.action = choose_submit_action(reply, !remaining_.empty());
    if (!remaining_.empty() && next.action != "next") throw no_such_field(reply);
    return next;
  }

  /// "command 'set' has no field 'x'", then the fields of every stage seen.
  Error no_such_field(const CommandReply& reply) const {
    std::string names;
    for (const auto& a : remaining_) names += (names.empty() ? "'" : ", '") + a.var + "'";
    std::string forms;
    for (const auto& st : out_.stages) {
      if (st.form) forms += "\n" + describe_fields(*st.form);
    }
    if (reply.form) forms += "\n" + describe_fields(*reply.form);
    return Error(Exit::Usage, "command '" + node_ + "' has no field " + names + forms);
  }

  Client& client_;
  const std::string node_;
  const std::vector<FieldArg>& args_;
  const Deadline deadline_;
  const std::function<void(const std::string&)>& trace_;
  std::set<std::string> used_;        // vars some stage's form had
  std::vector<FieldArg> remaining_;   // arguments no stage has asked for yet
  CommandOutcome out_;
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
  DevicesQuery query(client, wall_now_us(), window);
  return query.run(deadline);
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
  CommandRun run(client, full_jid, node, args, deadline, trace);
  return run.run();
}

}  // namespace fleet

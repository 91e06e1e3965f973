// What xiotctl asks of a fleet, over a connected fleet::Client: the status of
// every device in the roster (pipelined), one device's description, its
// command list, and an ad-hoc command driven to its end. No libstrophe here.
//
// Every function takes one deadline for the whole operation and never waits
// past it.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "fleet/adhoc.hpp"
#include "fleet/client.hpp"
#include "fleet/device.hpp"
#include "fleet/error.hpp"
#include "fleet/forms.hpp"

namespace fleet {

/// The presence of the contact's best available resource (highest priority,
/// then the healthiest show, then the smallest full JID), or nullptr when
/// none is available.
const PresenceEvent* best_presence(const Client& client, const std::string& bare);

struct DevicesResult {
  std::vector<DeviceStatus> devices;  ///< roster order (sorted by JID); ourselves left out
  size_t unanswered = 0;              ///< requests still open at the deadline
  bool complete() const { return unanswered == 0; }
};

/// Status of every contact in the roster (a "device" is any roster contact
/// other than ourselves; contacts without a device description are listed
/// with description_error set).
///
/// For every contact whose presence we see it sends, all at once (at most
/// `window` in flight; answers are collected in any order), a PubSub items
/// request for `urn:xiot:device:0` item `current` and one for the newest
/// item of `urn:xiot:telemetry:0` (max_items=1: the PEP service keeps it
/// while the device is offline); then, for the contacts still offline, an
/// XEP-0012 last-activity request. Contacts whose presence we do not see
/// (subscription none/from) are listed as unknown without asking. The state
/// comes from presence once every contact's answer to our probe is in (at
/// most 2 s more after the requests, for a server that sends none).
///
/// At the deadline it stops waiting: unanswered parts say "no answer" and
/// `unanswered` counts them. Throws what Client::run_once() throws (lost
/// connection).
/// `wall_now_us` is the wall clock (µs since the epoch), for ages.
DevicesResult query_devices(Client& client, Deadline deadline, const std::function<int64_t()>& wall_now_us,
                            size_t window = 256);

/// The device description of `bare` (PEP node urn:xiot:device:0, item
/// current). Throws RemoteError when the server or device answers with an
/// error ("dev1@localhost: item-not-found …"), Error(DeviceError) when
/// there is no such item or it is not a description, Error(Timeout).
DeviceDescription fetch_description(Client& client, const std::string& bare, Deadline deadline);

/// The roster item of `bare`. Throws Error(Usage) "unknown device <bare>: not
/// in <us>'s roster (known: …)" when there is none (we are not a device of ours).
const RosterItem& require_contact(const Client& client, const std::string& bare);

/// The full JID to send commands to: the best available resource of `bare`.
/// Waits for the contact's answer to the probe our initial presence caused
/// (Client::presence_heard(): available, or unavailable when it is offline),
/// at most `grace`.
/// Throws Error(Usage) when `bare` is not in the roster ("unknown device"),
/// Error(DeviceError) when we do not see its presence (subscription not
/// approved) or it is offline, Error(Timeout) when the deadline passed first.
std::string resolve_online_device(Client& client, const std::string& bare, Deadline deadline,
                                  std::chrono::milliseconds grace = std::chrono::milliseconds(2000));

/// disco#items on the commands node of `full_jid` (XEP-0050 §2.2).
/// Throws RemoteError, Error(DeviceError) for a malformed answer, Error(Timeout).
std::vector<CommandItem> fetch_commands(Client& client, const std::string& full_jid, Deadline deadline);

/// The end of an ad-hoc command run.
struct CommandOutcome {
  std::string jid;   ///< who ran it
  std::string node;
  /// Answers before the last one (executing stages), in order.
  std::vector<CommandReply> stages;
  CommandReply reply;  ///< the final answer (completed or canceled); see ok
  bool ok = false;     ///< false: the device answered with `error` (at any stage)
  StanzaError error;
  /// field=value arguments no stage asked for (the command completed before
  /// they could be used).
  std::vector<FieldArg> unused;
};

/// Runs `node` on `full_jid` (XEP-0050 §3): execute; while the answer is
/// executing, fill its form from `args` (fill_form(): checked against the
/// field types and options; every stage takes the arguments for the fields
/// it has, so a var asked again later gets the same value) and submit it
/// with choose_submit_action(), which goes `next` while some argument has not
/// been asked for yet; at most 16 stages. An argument no stage asked for is
/// a usage error listing the fields of every stage seen. A device error at any stage ends the run (ok false;
/// an open session is canceled first).
/// Throws Error(Usage) for arguments the form refuses (after canceling the
/// device's session), Error(DeviceError) for answers that are not XEP-0050,
/// Error(Timeout).
/// `trace`, if set, is told each request and answer in one line (for -v).
CommandOutcome run_command(Client& client, const std::string& full_jid, const std::string& node,
                           const std::vector<FieldArg>& args, Deadline deadline,
                           const std::function<void(const std::string&)>& trace = nullptr);

}  // namespace fleet

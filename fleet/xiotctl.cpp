// xiotctl: the operator's fleet tool (DESIGN.md "xiotctl").
//
//   xiotctl [--config ops.json | --jid J --password P --host H --port N --ca-file F] COMMAND
//
// Exit codes: 0 ok, 1 the device answered with an error, 2 usage/config,
// 3 connect/auth failure, 4 timeout.
#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <unordered_set>
#include <vector>

#include <sys/stat.h>
#include <unistd.h>

#include "fleet/adhoc.hpp"
#include "fleet/desired.hpp"
#include "fleet/ca.hpp"
#include "fleet/client.hpp"
#include "fleet/device.hpp"
#include "fleet/error.hpp"
#include "fleet/firmware.hpp"
#include "fleet/fleet_ops.hpp"
#include "fleet/forms.hpp"
#include "fleet/http_upload.hpp"
#include "fleet/options.hpp"
#include "fleet/pep_subscriptions.hpp"
#include "fleet/report.hpp"
#include "fleet/senml.hpp"
#include "agent/identity.hpp"
#include "xiot/version.hpp"

namespace {

using fleet::Error;
using fleet::Exit;

using fleet::kDeviceNode;
using fleet::kTelemetryNode;
// Connecting never waits longer than this, even without --timeout.
constexpr std::chrono::seconds kConnectLimit{30};
// devices, info, commands and run: the whole operation (login included)
// unless --timeout says otherwise.
constexpr double kQueryTimeoutS = 15;
constexpr std::chrono::seconds kDisconnectLimit{2};
// watch, on its way out: how long it waits for its unsubscriptions to be confirmed.
constexpr std::chrono::seconds kUnsubscribeLimit{2};
// Reconnect backoff after a lost connection (watch keeps going).
constexpr std::chrono::milliseconds kReconnectFirst{250};
constexpr std::chrono::milliseconds kReconnectCap{8000};

constexpr const char* kUsage =
    "usage: xiotctl [--config ops.json | --jid J --password P --host H --port N --ca-file F]\n"
    "               [-v] COMMAND [ARGS]\n"
    "\n"
    "DEVICE is a JID (dev1@localhost) or a local part (dev1: same domain as the\n"
    "operator). info, commands and run need it in the operator's roster (else:\n"
    "unknown device, exit 2); commands and run need it online (else exit 1).\n"
    "\n"
    "commands:\n"
    "  ca init DIR [--days N] [--name NAME]\n"
    "        a fleet CA in DIR: ca.key (EC P-256, 0600) and a self-signed ca.crt (default 3650 days).\n"
    "  ca sign DIR CSR [--days N] [--out CERT] [--jid J] [--start YYYYMMDDhhmmss|UNIX]\n"
    "        verifies a device CSR (xiot-agent identity new) and issues its client certificate\n"
    "        (CN and xmppAddr = the CSR's JID, EKU serverAuth+clientAuth; default 365 days from now).\n"
    "        --jid: refuse a CSR for another JID. No connection is made. docs/identity.md.\n"
    "  devices [--json] [--timeout S]\n"
    "        every contact in the roster: online/degraded/maintenance/offline/unknown,\n"
    "        last seen, firmware and channel count (device node urn:xiot:device:0),\n"
    "        the last telemetry item and its age (also for offline devices).\n"
    "  watch [DEVICE...] [--json] [--count N] [--timeout S]\n"
    "        live telemetry, one line per reading, de-duplicated by item id.\n"
    "        none = every contact in the roster. xiotctl asks for their presence\n"
    "        (devices approve operators in their ACL) and approves theirs.\n"
    "        --count N: exit 0 after N readings; --timeout S: stop after S seconds\n"
    "        (exit 4 if N readings did not arrive by then). A lost connection is\n"
    "        re-established (with backoff) once watching has started.\n"
    "        Besides PEP +notify it subscribes to each device's telemetry node\n"
    "        (XEP-0060: what an ejabberd cluster delivers across its nodes) and\n"
    "        fetches the node's last item; it removes those subscriptions when it\n"
    "        stops (--count, --timeout, SIGINT/SIGTERM/SIGHUP), not when killed.\n"
    "  commands DEVICE [--json] [--timeout S]\n"
    "        the ad-hoc commands this operator may run on DEVICE.\n"
    "  run DEVICE NODE [field=value ...] [--json] [--timeout S]\n"
    "        execute ad-hoc command NODE (read, set, diagnostics, configure, reboot):\n"
    "        the form the device returns is filled from the field=value arguments,\n"
    "        checked against its field types and options (a bad or missing field:\n"
    "        exit 2 with the form's fields listed), submitted, and the result printed.\n"
    "        e.g. run dev1 set channel=relay0.state value=on\n"
    "             run dev1 configure interval_s=5      run dev1 reboot confirm=true\n"
    "        A device error (condition, app condition, text) or a canceled command\n"
    "        exits 1.\n"
    "  info DEVICE [--json] [--timeout S]\n"
    "        the device description node: board, firmware, boot id, health,\n"
    "        channels and problems.\n"
    "  desire DEVICE name=value ... [--json] [--timeout S]\n"
    "        publishes the desired state (node urn:xiot:desired:0, docs/desired-state.md):\n"
    "        actuators (relay0.state=on) and, for owners, telemetry.* settings. Waits for\n"
    "        the device's report when it is online (exit 1 unless every value was applied);\n"
    "        an offline device applies it when it next logs in (exit 0).\n"
    "  desired DEVICE [--json] [--timeout S]\n"
    "        the desired state published and the device's report of what it applied.\n"
    "  upload FILE [--json] [--timeout S] [--upload-service JID] [--content-type T]\n"
    "        XEP-0363: asks the upload service (found by disco, or JID) for a slot,\n"
    "        PUTs FILE over HTTPS (certificate verified with --ca-file) and prints\n"
    "        the GET URL (--json: url, service, size, put_seconds, mib_per_s).\n"
    "  firmware keygen DIR\n"
    "        a new update signing key: DIR/update-key.pem (private, 0600) and\n"
    "        DIR/update-key.pub.pem (what devices list in update.public_keys).\n"
    "  firmware sign --key K --version V --compatible C [--min-version M]\n"
    "                [--notes T] IMAGE --out DIR\n"
    "        DIR/manifest.json (version, compatible, size, sha256, min_version,\n"
    "        notes) and DIR/manifest.sig (ECDSA P-256 over the manifest bytes, DER,\n"
    "        base64). Connection flags go before 'firmware'. docs/updates.md\n"
    "  firmware push DEVICE --manifest DIR|manifest.json [--signature F] --image IMG\n"
    "                [--timeout S (300)] [--window N (4)] [--json]\n"
    "                [--via ibb|http] [--upload-service JID] [--url URL]\n"
    "        runs firmware-update, sends the image over IBB (4096-byte blocks, N\n"
    "        in flight; resumes where the device's staged bytes end), then waits\n"
    "        on the device node until committed (exit 0), rolled-back or failed\n"
    "        (exit 1). Prints throughput and the push-to-outcome time on stderr.\n"
    "        --via http: PUTs the image to an XEP-0363 upload slot first and the\n"
    "        device fetches it over HTTPS (resuming with a Range request); --url:\n"
    "        the device fetches that URL (no upload).\n"
    "  firmware status DEVICE [--json]\n"
    "        the device's firmware version and its last update (state, version,\n"
    "        progress, error).\n"
    "  rotate DEVICE --ca DIR [--days N (365)] [--timeout S (60)]\n"
    "        rotates the device's certificate remotely (owner; docs/identity.md):\n"
    "        rotate-identity makes a new key + CSR on the device, the CSR is signed\n"
    "        with the fleet CA in DIR for DEVICE's JID, the certificate sent back;\n"
    "        the device logs in again with it. Waits until its node shows the new\n"
    "        expiry and prints old -> new.\n"
    "  --json      one JSON document on stdout (watch: one per line); a device's\n"
    "              error answer is a document with \"error\" too (exit 1)\n"
    "  --timeout S the whole operation, login included, in seconds (default 15;\n"
    "              watch: none); when it passes: exit 4\n"
    "\n"
    "connection (flags override the config file):\n"
    "  --config FILE     JSON: {\"jid\", \"password\" | \"password_file\", \"host\", \"port\", \"ca_file\"}\n"
    "                    (relative paths are relative to the file)\n"
    "  --jid JID         operator account, e.g. ops@localhost\n"
    "  --password PW     its password\n"
    "  --host HOST       server address (default: the JID's domain)\n"
    "  --port N          server port (default 5222)\n"
    "  --ca-file FILE    the only CA trusted for the server certificate (default: system store)\n"
    "  -v, --verbose     log the XMPP session on stderr\n"
    "  -h, --help        this text;  --version  the version\n"
    "\n"
    "TLS is mandatory (STARTTLS, certificate and host name verified); login is SCRAM.\n"
    "exit codes: 0 ok, 1 the device answered with an error (or is offline, or\n"
    "canceled the command), 2 usage/config (also: unknown device, bad field),\n"
    "3 connect/auth failure, 4 timeout. Details: docs/xiotctl.md\n";

volatile std::sig_atomic_t g_stop = 0;

void on_signal(int) {
  if (g_stop != 0) _exit(130);  // a second Ctrl-C does not wait for anything
  g_stop = 1;
}

[[noreturn]] void usage_error(const std::string& msg) {
  throw Error(Exit::Usage, msg + "\n(see 'xiotctl --help')");
}

bool take_value(const std::vector<std::string>& args, size_t* i, const std::string& name,
                std::string* out) {
  const std::string& a = args[*i];
  if (a == name) {
    if (*i + 1 >= args.size()) usage_error(name + " needs a value");
    *out = args[++*i];
    return true;
  }
  if (a.compare(0, name.size() + 1, name + "=") == 0) {
    *out = a.substr(name.size() + 1);
    return true;
  }
  return false;
}

long parse_long(const std::string& what, const std::string& text, long lo, long hi) {
  char* end = nullptr;
  errno = 0;
  const long v = std::strtol(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0' || errno != 0 || v < lo || v > hi) {
    usage_error(what + " must be an integer in " + std::to_string(lo) + "-" + std::to_string(hi) +
                ", not '" + text + "'");
  }
  return v;
}

double parse_seconds(const std::string& what, const std::string& text) {
  char* end = nullptr;
  errno = 0;
  const double v = std::strtod(text.c_str(), &end);
  if (text.empty() || *end != '\0' || errno != 0 || !(v > 0) || v > 1e7) {
    usage_error(what + " must be a positive number of seconds, not '" + text + "'");
  }
  return v;
}

int64_t wall_now_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

/// The steady-clock deadline `seconds` from now.
fleet::Deadline deadline_in(double seconds) {
  return fleet::Clock::now() +
         std::chrono::duration_cast<fleet::Clock::duration>(std::chrono::duration<double>(seconds));
}

/// Remembers the last `capacity` keys (a bounded de-duplication window).
class RecentKeys {
 public:
  explicit RecentKeys(size_t capacity) : capacity_(capacity) {}
  /// True when `key` is new (and remembers it).
  bool insert(const std::string& key) {
    if (!set_.insert(key).second) return false;
    order_.push_back(key);
    if (order_.size() > capacity_) {
      set_.erase(order_.front());
      order_.pop_front();
    }
    return true;
  }

 private:
  size_t capacity_;
  std::unordered_set<std::string> set_;
  std::deque<std::string> order_;
};

std::string normalize_device(const std::string& arg, const std::string& operator_jid) {
  std::string jid = fleet::bare_jid(arg);
  if (jid.empty() || jid.find_first_of(" \t\"'<>&") != std::string::npos) {
    usage_error("'" + arg + "' is not a device JID");
  }
  if (jid.find('@') == std::string::npos) jid += "@" + fleet::jid_domain(operator_jid);
  return jid;
}

/// True for a contact whose presence we receive or asked for: a device that
/// subscribes back after approving us (the agent does) is approved in turn.
bool asked_for(const fleet::Client& client, const std::string& jid) {
  auto it = client.roster().find(jid);
  return it != client.roster().end() && (fleet::sees_presence(it->second.subscription) || it->second.ask_subscribe);
}

// --- watch ------------------------------------------------------------------------------

struct WatchArgs {
  std::vector<std::string> devices;
  bool json = false;
  long count = 0;          // 0 = unlimited
  double timeout_s = 0;    // 0 = none
};

WatchArgs parse_watch(const std::vector<std::string>& args) {
  WatchArgs w;
  for (size_t i = 0; i < args.size(); ++i) {
    std::string v;
    if (args[i] == "--json") {
      w.json = true;
    } else if (take_value(args, &i, "--count", &v)) {
      w.count = parse_long("--count", v, 1, 1000000000L);
    } else if (take_value(args, &i, "--timeout", &v)) {
      w.timeout_s = parse_seconds("--timeout", v);
    } else if (args[i].size() > 1 && args[i][0] == '-') {
      usage_error("watch: unknown option '" + args[i] + "'");
    } else {
      w.devices.push_back(args[i]);
    }
  }
  return w;
}

// What survives a reconnection: the de-duplication window (the last item of
// every node comes again after each login), the newest reading shown per
// device, and the counters.
struct WatchState {
  RecentKeys seen{4096};
  std::map<std::string, int64_t> newest_shown_us;  // device -> newest reading time printed
  long printed = 0;
  bool output_broken = false;
  std::set<std::string> refused;
};

/// One login of watch: subscribe, print readings until done or the deadline,
/// then remove the explicit subscriptions. run() returns normally when
/// finished; it throws Error (transient for a lost connection).
///
/// Items come by up to three routes, each de-duplicated by item id:
///  - PEP +notify (XEP-0163 §4): our caps list "<node>+notify", so the
///    server sends the owner's items to us as a presence subscriber (and
///    Prosody also the node's last item when it learns our caps);
///  - an explicit XEP-0060 subscription of our full JID to each device's
///    telemetry node: what an ejabberd cluster delivers across its nodes,
///    where the +notify filtering happens on the publisher's node, which
///    never resolved our caps (docs/servers.md);
///  - the node's last item, fetched right after subscribing: ejabberd 23.01
///    sends a local contact no last item when it learns its caps after the
///    presence subscription, so an item published before we were subscribed
///    would otherwise be missed.
class WatchSession {
 public:
  /// `devices`: the bare JIDs to watch (none: every contact). `st` outlives
  /// the session: it carries what a reconnection must remember.
  WatchSession(const fleet::ConnectionOptions& opts, const WatchArgs& w, const std::set<std::string>& devices,
               WatchState& st)
      : opts_(opts), w_(w), devices_(devices), st_(st), client_(opts) {
    install_handlers();
  }

  /// `on_online` is called once logged in.
  void run(fleet::Deadline overall, const std::function<void()>& on_online) {
    client_.connect(std::min(overall, fleet::Clock::now() + kConnectLimit));
    if (opts_.verbose) std::fprintf(stderr, "xiotctl: logged in as %s\n", client_.bound_jid().c_str());
    on_online();
    start_subscriptions();
    subscribe_devices();
    try {
      print_until(overall);
    } catch (...) {
      client_.disconnect(fleet::Clock::now());  // the connection is gone or broken: leave at once, then report
      throw;
    }
    remove_subscriptions();
    client_.disconnect(fleet::Clock::now() + kDisconnectLimit);
  }

 private:
  void install_handlers() {
    // XEP-0163 §4 filtered notifications: the server sends the items of these
    // nodes (and, on Prosody, the last one when it learns our caps) to contacts
    // whose caps list "<node>+notify" and who are subscribed to the owner's presence.
    client_.add_feature(std::string(kTelemetryNode) + "+notify");
    client_.add_feature(std::string(kDeviceNode) + "+notify");
    client_.set_auto_approve([this](const std::string& jid) {
      if (!devices_.empty()) return devices_.count(jid) > 0;
      return asked_for(client_, jid);
    });
    client_.on_item([this](const fleet::ItemEvent& ev) { on_item(ev, false); });
    client_.on_presence([this](const fleet::PresenceEvent& ev) {
      if (ev.available && subs_ && watched(ev.bare)) subs_->contact_online(ev.bare);
    });
    client_.on_subscription([this](const fleet::SubscriptionEvent& ev) { on_subscription(ev); });
  }

  bool watched(const std::string& jid) const { return devices_.empty() || devices_.count(jid) > 0; }

  /// A telemetry item of a watched device, by any route. `last_item`: fetched
  /// after subscribing, not notified.
  void on_item(const fleet::ItemEvent& ev, bool last_item) {
    if (ev.node != kTelemetryNode || !watched(ev.from)) return;
    if (!last_item && subs_) subs_->node_seen(ev.from);  // it exists now: subscribe if waiting for it
    if (!st_.seen.insert(ev.from + '\n' + ev.node + '\n' + ev.id)) return;
    std::vector<fleet::Reading> readings;
    if (!parse_item(ev, &readings)) return;
    if (!note_newest(ev, readings, last_item)) return;
    print(ev, &readings);
  }

  /// False (and says so on stderr) for an item without readable SenML.
  static bool parse_item(const fleet::ItemEvent& ev, std::vector<fleet::Reading>* readings) {
    if (!ev.has_payload) {
      std::fprintf(stderr, "xiotctl: skipping item %s from %s: no payload\n", ev.id.c_str(), ev.from.c_str());
      return false;
    }
    try {
      *readings = fleet::parse_telemetry_payload(ev.payload, wall_now_us());
    } catch (const fleet::SenmlError& e) {
      std::fprintf(stderr, "xiotctl: skipping item %s from %s: %s\n", ev.id.c_str(), ev.from.c_str(), e.what());
      return false;
    }
    return true;
  }

  /// Records the item's newest reading time for its device. False for a
  /// fetched last item older than a reading shown already (a live
  /// notification may overtake the fetch's answer): it is not shown.
  bool note_newest(const fleet::ItemEvent& ev, const std::vector<fleet::Reading>& readings, bool last_item) {
    int64_t newest = 0;
    for (const auto& r : readings) newest = std::max(newest, r.time_us);
    auto shown = st_.newest_shown_us.find(ev.from);
    if (last_item && shown != st_.newest_shown_us.end() && newest < shown->second) {
      if (opts_.verbose) {
        std::fprintf(stderr, "xiotctl: not showing %s's last item %s: a newer reading is shown already\n",
                     ev.from.c_str(), ev.id.c_str());
      }
      return false;
    }
    if (shown == st_.newest_shown_us.end()) {
      st_.newest_shown_us[ev.from] = newest;
    } else {
      shown->second = std::max(shown->second, newest);
    }
    return true;
  }

  /// One line per reading, up to --count; a closed stdout ends the watch.
  void print(const fleet::ItemEvent& ev, std::vector<fleet::Reading>* readings) {
    for (auto& r : *readings) {
      if (w_.count > 0 && st_.printed >= w_.count) break;
      r.device = ev.from;
      r.item = ev.id;
      const std::string line = (w_.json ? fleet::format_reading_json(r) : fleet::format_reading_line(r)) + "\n";
      if (std::fputs(line.c_str(), stdout) < 0) st_.output_broken = true;
      ++st_.printed;
    }
    if (std::fflush(stdout) != 0) st_.output_broken = true;
  }

  void on_subscription(const fleet::SubscriptionEvent& ev) {
    if (ev.type == fleet::SubscriptionEvent::Type::Approved) {
      // Now that we may see its presence, tell its PEP service our interests
      // and subscribe to its telemetry node (access model: presence).
      client_.send_directed_presence(ev.from);
      if (subs_ && watched(ev.from)) subs_->add(ev.from);
      if (opts_.verbose) std::fprintf(stderr, "xiotctl: %s approved our subscription\n", ev.from.c_str());
    } else if (ev.type == fleet::SubscriptionEvent::Type::Refused && devices_.count(ev.from) > 0) {
      std::fprintf(stderr, "xiotctl: %s refused the presence subscription (is %s in its ACL?)\n",
                   ev.from.c_str(), fleet::bare_jid(opts_.jid).c_str());
      st_.refused.insert(ev.from);
    }
  }

  /// The explicit subscriptions, once logged in (they need our full JID).
  void start_subscriptions() {
    fleet::PepSubscriptions::Hooks hooks;
    hooks.send_iq = [this](const std::string& to, const char* type, const fleet::XmlElement& payload,
                           std::function<void(const fleet::IqReply&)> on_reply) {
      client_.send_iq(to, type, payload, std::move(on_reply));
    };
    hooks.on_last_item = [this](const fleet::ItemEvent& ev) { on_item(ev, true); };
    hooks.on_refused = [](const std::string& contact, const std::string& why) {
      std::fprintf(stderr, "xiotctl: %s refused a subscription to its %s (%s); watching by +notify only\n",
                   contact.c_str(), kTelemetryNode, why.c_str());
    };
    if (opts_.verbose) {
      hooks.trace = [](const std::string& line) { std::fprintf(stderr, "xiotctl: %s\n", line.c_str()); };
    }
    subs_ = std::make_unique<fleet::PepSubscriptions>(kTelemetryNode, client_.bound_jid(), std::move(hooks));
  }

  /// Asks the named devices for their presence (and subscribes to those that
  /// granted it already), or subscribes to every contact whose presence we see.
  void subscribe_devices() {
    if (devices_.empty()) {
      subscribe_roster();
      return;
    }
    for (const auto& d : devices_) {
      client_.subscribe(d);
      client_.send_directed_presence(d);
      auto it = client_.roster().find(d);
      if (it != client_.roster().end() && fleet::sees_presence(it->second.subscription)) subs_->add(d);
    }
  }

  void subscribe_roster() {
    size_t contacts = 0;
    for (const auto& kv : client_.roster()) {
      if (kv.first == client_.bare() || !fleet::sees_presence(kv.second.subscription)) continue;
      client_.send_directed_presence(kv.first);
      subs_->add(kv.first);
      ++contacts;
    }
    if (contacts == 0) {
      std::fprintf(stderr, "xiotctl: no device in %s's roster yet; name one: xiotctl watch dev1@%s\n",
                   fleet::bare_jid(opts_.jid).c_str(), fleet::jid_domain(opts_.jid).c_str());
    }
  }

  bool finished() const {
    return g_stop != 0 || st_.output_broken || (w_.count > 0 && st_.printed >= w_.count) ||
           (!devices_.empty() && st_.refused.size() == devices_.size());
  }

  /// The loop: items are printed from the client's callbacks.
  void print_until(fleet::Deadline overall) {
    while (!finished()) {
      const auto now = fleet::Clock::now();
      if (now >= overall) break;
      subs_->tick();
      const auto until = std::min({overall, subs_->next_due(), now + std::chrono::milliseconds(100)});
      client_.run_once(std::chrono::duration_cast<std::chrono::milliseconds>(until - now) +
                       std::chrono::milliseconds(1));
    }
  }

  /// Explicit subscriptions do not expire (docs/xiotctl.md): remove them.
  void remove_subscriptions() {
    try {
      if (subs_->remove_all() == 0) return;
      client_.run_until([this] { return subs_->removals_open() == 0; }, fleet::Clock::now() + kUnsubscribeLimit);
      if (subs_->removals_open() > 0) {
        std::fprintf(stderr, "xiotctl: %zu subscriptions not confirmed removed\n", subs_->removals_open());
      }
    } catch (const Error& e) {
      // The connection was lost meanwhile: leaving is all that is left, but
      // the operator learns that subscriptions stay behind on the devices.
      std::fprintf(stderr, "xiotctl: subscriptions not removed: %s\n", e.what());
    }
  }

  const fleet::ConnectionOptions& opts_;
  const WatchArgs& w_;
  const std::set<std::string>& devices_;
  WatchState& st_;
  fleet::Client client_;
  std::unique_ptr<fleet::PepSubscriptions> subs_;
};

/// Waits until `until` or a signal, whichever is first.
void pause_until(fleet::Deadline until) {
  while (g_stop == 0 && fleet::Clock::now() < until) {
    const auto left = until - fleet::Clock::now();
    std::this_thread::sleep_for(std::min<fleet::Clock::duration>(left, std::chrono::milliseconds(100)));
  }
}

/// "xiotctl-watch-" and 8 random hex digits: the resource of one watch
/// process, kept across its reconnections.
std::string watch_resource() {
  std::random_device rd;
  char hex[16];
  std::snprintf(hex, sizeof hex, "%08x", static_cast<unsigned>(rd()));
  return std::string("xiotctl-watch-") + hex;
}

/// Watch sessions until one finishes: the first login fails loudly; once
/// watching, a lost or refused connection (a server restart) is retried with
/// backoff until the deadline. Wrong credentials and untrusted certificates
/// never are.
void watch_with_reconnects(const fleet::ConnectionOptions& opts, const WatchArgs& w,
                           const std::set<std::string>& devices, WatchState& st, fleet::Deadline overall) {
  bool ever_online = false;
  bool reconnecting = false;
  auto backoff = kReconnectFirst;
  for (;;) {
    try {
      WatchSession(opts, w, devices, st).run(overall, [&] {
        if (reconnecting) std::fprintf(stderr, "xiotctl: reconnected\n");
        ever_online = true;
        reconnecting = false;
        backoff = kReconnectFirst;
      });
      return;
    } catch (const Error& e) {
      if (!ever_online || !e.transient() || g_stop != 0) throw;
      if (!reconnecting) std::fprintf(stderr, "xiotctl: %s; reconnecting\n", e.what());  // once per outage
      reconnecting = true;
      const auto retry_at = fleet::Clock::now() + backoff;
      if (retry_at >= overall) return;
      pause_until(retry_at);
      backoff = std::min(backoff * 2, kReconnectCap);
      if (g_stop != 0) return;
    }
  }
}

/// The exit code of a watch that has ended: 0, or Error(DeviceError) when
/// every named device refused, Error(Timeout) when --count was not reached.
int watch_outcome(const WatchArgs& w, const std::set<std::string>& devices, const WatchState& st) {
  if (g_stop != 0 || st.output_broken) return 0;
  if (w.count > 0 && st.printed >= w.count) return 0;
  if (!devices.empty() && st.refused.size() == devices.size()) {
    throw Error(Exit::DeviceError, "no device accepted the subscription");
  }
  if (w.count > 0) {
    char secs[32];
    std::snprintf(secs, sizeof secs, "%g", w.timeout_s);
    throw Error(Exit::Timeout, std::string("timed out after ") + secs + " s: " + std::to_string(st.printed) +
                                   " of " + std::to_string(w.count) + " readings");
  }
  return 0;  // --timeout without --count: watched for that long
}

int cmd_watch(fleet::ConnectionOptions opts, const std::vector<std::string>& args) {
  const WatchArgs w = parse_watch(args);
  fleet::validate_options(opts);
  // One resource for the whole run, unless the operator chose one: the
  // explicit subscriptions are to this full JID, so a reconnection finds its
  // own subscriptions again instead of leaving the previous session's behind.
  if (opts.jid.find('/') == std::string::npos) opts.jid += "/" + watch_resource();
  // A closed terminal stops watch as cleanly as Ctrl-C (subscriptions removed).
  struct sigaction sa{};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGHUP, &sa, nullptr);
  std::set<std::string> devices;
  for (const auto& d : w.devices) devices.insert(normalize_device(d, opts.jid));

  const fleet::Deadline overall = w.timeout_s > 0 ? deadline_in(w.timeout_s) : fleet::Deadline::max();
  WatchState st;
  watch_with_reconnects(opts, w, devices, st, overall);
  return watch_outcome(w, devices, st);
}

// --- devices, info, commands, run ---------------------------------------------------------

struct QueryArgs {
  bool json = false;
  double timeout_s = kQueryTimeoutS;
  std::vector<std::string> positional;  // DEVICE, NODE, field=value...
};

QueryArgs parse_query(const std::string& command, const std::vector<std::string>& args) {
  QueryArgs q;
  for (size_t i = 0; i < args.size(); ++i) {
    std::string v;
    if (args[i] == "--json") {
      q.json = true;
    } else if (take_value(args, &i, "--timeout", &v)) {
      q.timeout_s = parse_seconds("--timeout", v);
    } else if (args[i] == "--") {
      q.positional.insert(q.positional.end(), args.begin() + static_cast<long>(i) + 1, args.end());
      break;
    } else if (args[i].size() > 1 && args[i][0] == '-' && args[i].find('=') == std::string::npos) {
      usage_error(command + ": unknown option '" + args[i] + "'");
    } else {
      q.positional.push_back(args[i]);
    }
  }
  const size_t n = q.positional.size();
  if (command == "devices" && n != 0) usage_error("devices takes no arguments, not '" + q.positional[0] + "'");
  if ((command == "info" || command == "commands" || command == "desired") && n != 1) {
    usage_error(command + (n == 0 ? " needs a DEVICE" : " takes one DEVICE"));
  }
  if (command == "desire") {
    if (n < 2) usage_error(n == 0 ? "desire needs a DEVICE and name=value ..." : "desire needs name=value ...");
    (void)fleet::parse_field_args({q.positional.begin() + 1, q.positional.end()});  // checked early
  }
  if (command == "run") {
    if (n < 2) usage_error(n == 0 ? "run needs a DEVICE and a command NODE" : "run needs a command NODE");
    (void)fleet::parse_field_args({q.positional.begin() + 2, q.positional.end()});  // checked early
  }
  return q;
}

/// Logs in for a one-shot query. The operator's presence goes out, so the
/// server replays the presence of every contact we are subscribed to.
std::unique_ptr<fleet::Client> connect_for_query(const fleet::ConnectionOptions& opts, fleet::Deadline deadline) {
  auto client = std::make_unique<fleet::Client>(opts);
  fleet::Client* c = client.get();
  client->set_auto_approve([c](const std::string& jid) { return asked_for(*c, jid); });
  client->connect(std::min(deadline, fleet::Clock::now() + kConnectLimit));
  if (opts.verbose) std::fprintf(stderr, "xiotctl: logged in as %s\n", client->bound_jid().c_str());
  return client;
}

void put(const std::string& text) {
  std::fputs(text.c_str(), stdout);
  std::fflush(stdout);
}

std::string timed_out(double seconds) {
  char secs[32];
  std::snprintf(secs, sizeof secs, "%g", seconds);
  return std::string("timed out after ") + secs + " s";
}

// --- upload (XEP-0363) ------------------------------------------------------------------

std::string json_quote(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char esc[8];
      std::snprintf(esc, sizeof esc, "\\u%04x", static_cast<unsigned>(c));
      out += esc;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

struct UploadArgs {
  bool json = false;
  double timeout_s = 300;
  std::string content_type = "application/octet-stream";
  fleet::UploadOptions up;
  std::vector<std::string> files;
};

UploadArgs parse_upload(const std::vector<std::string>& args) {
  UploadArgs a;
  bool& json = a.json;
  double& timeout_s = a.timeout_s;
  std::string& content_type = a.content_type;
  fleet::UploadOptions& up = a.up;
  std::vector<std::string>& files = a.files;
  for (size_t i = 0; i < args.size(); ++i) {
    std::string v;
    if (args[i] == "--json") {
      json = true;
    } else if (take_value(args, &i, "--timeout", &v)) {
      timeout_s = parse_seconds("--timeout", v);
    } else if (take_value(args, &i, "--upload-service", &v)) {
      up.service = v;
    } else if (take_value(args, &i, "--content-type", &v)) {
      content_type = v;
    } else if (args[i].size() > 1 && args[i][0] == '-') {
      usage_error("upload: unknown option '" + args[i] + "'");
    } else {
      files.push_back(args[i]);
    }
  }
  if (files.size() != 1) usage_error(files.empty() ? "upload needs a FILE" : "upload takes one FILE");
  return a;
}

int cmd_upload(fleet::ConnectionOptions opts, UploadArgs a) {
  const bool json = a.json;
  fleet::UploadOptions& up = a.up;
  opts.stream_management = false;
  fleet::validate_options(opts);
  up.ca_file = opts.ca_file;
  const fleet::Deadline deadline = deadline_in(a.timeout_s);
  auto client = connect_for_query(opts, deadline);
  const fleet::UploadResult r = fleet::upload_file(*client, a.files[0], a.content_type, up, deadline);
  client->disconnect(fleet::Clock::now() + kDisconnectLimit);
  const double mib_s = r.put_seconds > 0 ? static_cast<double>(r.size) / (1024.0 * 1024.0) / r.put_seconds : 0;
  if (json) {
    char nums[160];
    std::snprintf(nums, sizeof nums, "\"size\": %llu, \"put_seconds\": %.3f, \"mib_per_s\": %.2f",
                  static_cast<unsigned long long>(r.size), r.put_seconds, mib_s);
    put("{\"url\": " + json_quote(r.get_url) + ", \"service\": " + json_quote(r.service) + ", " + nums + "}\n");
  } else {
    put(r.get_url + "\n");
    if (opts.verbose) {
      std::fprintf(stderr, "xiotctl: %llu bytes to %s in %.3f s (%.2f MiB/s)\n",
                   static_cast<unsigned long long>(r.size), r.service.c_str(), r.put_seconds, mib_s);
    }
  }
  return 0;
}

int cmd_devices(const fleet::ConnectionOptions& opts, const QueryArgs& q) {
  const fleet::Deadline deadline = deadline_in(q.timeout_s);
  auto client = connect_for_query(opts, deadline);
  const fleet::DevicesResult r = fleet::query_devices(*client, deadline, wall_now_us);
  const int64_t now = wall_now_us();
  put(q.json ? fleet::format_devices_json(r, client->bare(), now) : fleet::format_devices_text(r, now));
  client->disconnect(fleet::Clock::now() + kDisconnectLimit);
  if (!r.complete()) {
    throw Error(Exit::Timeout, timed_out(q.timeout_s) + ": " + std::to_string(r.unanswered) +
                                   " requests unanswered (the listing is incomplete)");
  }
  return 0;
}

/// info, commands and run: one device, one connection, one step per command.
class DeviceCommand {
 public:
  DeviceCommand(const fleet::ConnectionOptions& opts, const std::string& command, const QueryArgs& q)
      : opts_(opts),
        command_(command),
        q_(q),
        deadline_(deadline_in(q.timeout_s)),
        device_(normalize_device(q.positional[0], opts.jid)),
        node_(command == "run" ? q.positional[1] : "") {}

  int run() {
    client_ = connect_for_query(opts_, deadline_);
    try {
      if (command_ == "info") {
        show_info();
      } else if (command_ == "desire") {
        desire();
      } else if (command_ == "desired") {
        show_desired();
      } else if (command_ == "commands") {
        show_commands();
      } else {
        run_node();
      }
    } catch (const fleet::RemoteError& e) {
      // The device's error answer is the document (--json); main() prints the message (exit 1).
      if (q_.json) put(fleet::format_error_json(device_, full_, command_ == "info" ? kDeviceNode : node_, e.stanza()));
      client_->disconnect(fleet::Clock::now() + kDisconnectLimit);
      throw;
    } catch (const Error& e) {
      // Leave politely (also after a timeout, a refused field or a canceled command).
      if (e.code() != Exit::Connect) client_->disconnect(fleet::Clock::now() + kDisconnectLimit);
      throw;
    }
    client_->disconnect(fleet::Clock::now() + kDisconnectLimit);
    return 0;
  }

 private:
  /// info: the device description node.
  void show_info() {
    (void)fleet::require_contact(*client_, device_);
    const fleet::DeviceDescription d = fleet::fetch_description(*client_, device_, deadline_);
    put(q_.json ? fleet::format_info_json(device_, d) : fleet::format_info_text(device_, d));
  }

  /// desire: publish the desired state, then wait for the report of an
  /// online device (docs/desired-state.md).
  void desire() {
    (void)fleet::require_contact(*client_, device_);
    const fleet::DeviceDescription d = fleet::fetch_description(*client_, device_, deadline_);
    const auto values = fleet::parse_desired_args({q_.positional.begin() + 1, q_.positional.end()}, d);
    // The version the report echoes: this publish's wall-clock milliseconds.
    const std::string version = std::to_string(wall_now_us() / 1000);
    const fleet::IqReply r = client_->request(device_, "set", fleet::make_desired_publish(values, version), deadline_,
                                              "the desired-state publish");
    if (!r.ok) {
      throw fleet::RemoteError(device_ + " (" + fleet::kDesiredNode + "): " + r.error.describe(), r.error);
    }
    client_->run_until([&] { return client_->presence_heard(device_) || fleet::best_presence(*client_, device_); },
                       std::min(deadline_, fleet::Clock::now() + std::chrono::seconds(2)));
    if (fleet::best_presence(*client_, device_) == nullptr) {
      std::fprintf(stderr, "xiotctl: published version %s; %s is offline and applies it when it next logs in\n",
                   version.c_str(), device_.c_str());
      return;
    }
    // The device node's report with our version (it replaces the item).
    fleet::DesiredReport rep;
    while (true) {
      const fleet::IqReply got = client_->request(
          device_, "get", fleet::make_items_request(kDeviceNode, fleet::kDeviceItemId, 0), deadline_, "the device node");
      if (got.ok && got.has_payload) {
        const auto items = fleet::parse_items_result(got.payload, kDeviceNode);
        if (!items.empty() && items.front().has_payload) rep = fleet::parse_desired_report(items.front().payload);
      }
      if (rep.present && rep.version == version) break;
      if (fleet::Clock::now() + std::chrono::milliseconds(200) >= deadline_) {
        throw Error(Exit::Timeout, timed_out(q_.timeout_s) + " waiting for " + device_ + " to report version " + version);
      }
      client_->run_once(std::chrono::milliseconds(200));
    }
    put(q_.json ? fleet::format_desired_report_json(device_, rep) : fleet::format_desired_report_text(rep));
    if (rep.result != "ok") throw Error(Exit::DeviceError, device_ + " did not apply every value (" + rep.result + ")");
  }

  /// desired: what was published and what the device reported.
  void show_desired() {
    (void)fleet::require_contact(*client_, device_);
    const fleet::IqReply r = client_->request(device_, "get", fleet::make_items_request(fleet::kDesiredNode, "current", 0),
                                              deadline_, "the desired state");
    std::string published;
    if (r.ok && r.has_payload) {
      const auto items = fleet::parse_items_result(r.payload, fleet::kDesiredNode);
      if (!items.empty() && items.front().has_payload) published = fleet::to_string(items.front().payload);
    } else if (!r.ok && r.error.condition != "item-not-found") {
      throw fleet::RemoteError(device_ + " (" + fleet::kDesiredNode + "): " + r.error.describe(), r.error);
    }
    const fleet::IqReply got = client_->request(
        device_, "get", fleet::make_items_request(kDeviceNode, fleet::kDeviceItemId, 0), deadline_, "the device node");
    fleet::DesiredReport rep;
    if (got.ok && got.has_payload) {
      const auto items = fleet::parse_items_result(got.payload, kDeviceNode);
      if (!items.empty() && items.front().has_payload) rep = fleet::parse_desired_report(items.front().payload);
    }
    if (q_.json) {
      put(fleet::format_desired_report_json(device_, rep));
    } else {
      put("published: " + (published.empty() ? std::string("(nothing)") : published) + "\nreported: " +
          fleet::format_desired_report_text(rep));
    }
  }

  /// commands: what the device offers this operator.
  void show_commands() {
    full_ = fleet::resolve_online_device(*client_, device_, deadline_);
    const auto items = fleet::fetch_commands(*client_, full_, deadline_);
    if (q_.json) {
      put(fleet::format_commands_json(device_, full_, items));
    } else if (items.empty()) {
      std::fprintf(stderr, "xiotctl: %s offers no commands to %s\n", full_.c_str(), client_->bare().c_str());
    } else {
      put(fleet::format_commands_text(items));
    }
  }

  /// run: the command driven to its end and its result printed; a device
  /// error or a canceled command is an error (exit 1).
  void run_node() {
    full_ = fleet::resolve_online_device(*client_, device_, deadline_);
    const auto args = fleet::parse_field_args({q_.positional.begin() + 2, q_.positional.end()});
    std::function<void(const std::string&)> trace;
    if (opts_.verbose) trace = [](const std::string& line) { std::fprintf(stderr, "xiotctl: %s\n", line.c_str()); };
    const fleet::CommandOutcome o = fleet::run_command(*client_, full_, node_, args, deadline_, trace);
    if (!o.ok) {
      throw fleet::RemoteError(full_ + " answered '" + node_ + "' with " + o.error.describe(), o.error);
    }
    put(q_.json ? fleet::format_run_json(device_, o) : fleet::format_run_text(o));
    for (const auto& a : o.unused) {
      std::fprintf(stderr, "xiotctl: ignored %s=%s: '%s' %s without asking for it\n", a.var.c_str(),
                   a.value.c_str(), node_.c_str(), o.reply.status.c_str());
    }
    if (o.reply.status == "canceled") {
      std::string why;
      for (const auto& n : o.reply.notes) why += (why.empty() ? ": " : "; ") + n.text;
      throw Error(Exit::DeviceError, "command '" + node_ + "' was canceled by " + full_ + why);
    }
  }

  const fleet::ConnectionOptions& opts_;
  const std::string command_;
  const QueryArgs& q_;
  const fleet::Deadline deadline_;
  const std::string device_;  // bare JID
  const std::string node_;    // run only
  std::unique_ptr<fleet::Client> client_;
  std::string full_;  // the resource that answers (commands, run), once resolved
};

// --- main -----------------------------------------------------------------------------------

/// The connection flags of the command line; they override the config file.
struct ConnectionFlags {
  std::string config_path;
  fleet::ConnectionOptions given;
  bool jid = false, password = false, host = false, port = false, ca_file = false;

  /// The config file's options (if any) with the flags given over them.
  fleet::ConnectionOptions resolve() const {
    fleet::ConnectionOptions opts;
    if (!config_path.empty()) fleet::load_operator_config(config_path, &opts);
    if (jid) opts.jid = given.jid;
    if (password) opts.password = given.password;
    if (host) opts.host = given.host;
    if (port) opts.port = given.port;
    if (ca_file) opts.ca_file = given.ca_file;
    opts.verbose = given.verbose;
    return opts;
  }
};

// ---- ca init|sign (no connection) -------------------------------------------

/// "YYYYMMDDhhmmss" (UTC) or Unix seconds.
int64_t parse_start(const std::string& v) {
  if (v.size() == 14 && v.find_first_not_of("0123456789") == std::string::npos) {
    auto num = [&](size_t at, size_t n) { return std::atoi(v.substr(at, n).c_str()); };
    return agent::identity::unix_time(num(0, 4), num(4, 2), num(6, 2), num(8, 2), num(10, 2), num(12, 2));
  }
  return parse_long("--start", v, 0, 253402300799L);
}

int cmd_ca(const std::vector<std::string>& args) {
  if (args.empty() || (args[0] != "init" && args[0] != "sign")) usage_error("ca: expected 'init' or 'sign'");
  const std::string sub = args[0];
  std::vector<std::string> pos;
  long days = sub == "init" ? 3650 : 365;
  std::string out, name = "xiot fleet CA", jid;
  int64_t start = static_cast<int64_t>(std::time(nullptr));
  for (size_t i = 1; i < args.size(); ++i) {
    std::string v;
    if (take_value(args, &i, "--days", &v)) {
      days = parse_long("--days", v, 1, 36500);
    } else if (sub == "sign" && take_value(args, &i, "--out", &v)) {
      out = v;
    } else if (sub == "sign" && take_value(args, &i, "--jid", &v)) {
      jid = v;
    } else if (sub == "sign" && take_value(args, &i, "--start", &v)) {
      start = parse_start(v);
    } else if (sub == "init" && take_value(args, &i, "--name", &v)) {
      name = v;
    } else if (!args[i].empty() && args[i][0] == '-') {
      usage_error("ca " + sub + ": unknown option '" + args[i] + "'");
    } else {
      pos.push_back(args[i]);
    }
  }
  if (sub == "init") {
    if (pos.size() != 1) usage_error("ca init DIR [--days N] [--name NAME]");
    fleet::ca::init(pos[0], static_cast<int>(days), static_cast<int64_t>(std::time(nullptr)), name);
    std::fprintf(stderr, "xiotctl: fleet CA in %s (ca.key 0600, ca.crt), valid %ld days\n", pos[0].c_str(), days);
    return 0;
  }
  if (pos.size() != 2) usage_error("ca sign DIR CSR [--days N] [--out CERT] [--jid J] [--start WHEN]");
  const std::string csr = fleet::ca::read_file(pos[1]);
  const fleet::ca::Issued cert = fleet::ca::sign(pos[0], csr, static_cast<int>(days), start, jid);
  if (out.empty()) {
    std::fputs(cert.cert_pem.c_str(), stdout);
  } else {
    fleet::ca::write_file(out, cert.cert_pem, 0644);
  }
  std::fprintf(stderr, "xiotctl: signed %s serial %s valid %s .. %s\n", cert.jid.c_str(), cert.serial.c_str(),
               agent::identity::iso8601(cert.not_before).c_str(), agent::identity::iso8601(cert.not_after).c_str());
  return 0;
}

/// Takes the connection flags (and -v) out of `args`, leaving COMMAND ARGS in
/// `rest`. False after --help or --version (printed: nothing else to do).
bool parse_flags(const std::vector<std::string>& args, ConnectionFlags* f, std::vector<std::string>* rest) {
  for (size_t i = 0; i < args.size(); ++i) {
    std::string v;
    const std::string& a = args[i];
    if (a == "firmware" && rest->empty()) {
      // Its own options (sign --version V) are not connection flags: they
      // follow the command verbatim; connection flags go before it.
      rest->insert(rest->end(), args.begin() + static_cast<std::ptrdiff_t>(i), args.end());
      return true;
    }
    if (a == "-h" || a == "--help") {
      std::fputs(kUsage, stdout);
      return false;
    } else if (a == "--version") {
      std::printf("xiotctl %s\n", XIOT_VERSION);
      return false;
    } else if (a == "-v" || a == "--verbose") {
      f->given.verbose = true;
    } else if (take_value(args, &i, "--config", &v)) {
      f->config_path = v;
    } else if (take_value(args, &i, "--jid", &v)) {
      f->given.jid = v;
      f->jid = true;
    } else if (take_value(args, &i, "--password", &v)) {
      f->given.password = v;
      f->password = true;
    } else if (take_value(args, &i, "--host", &v)) {
      f->given.host = v;
      f->host = true;
    } else if (take_value(args, &i, "--port", &v)) {
      f->given.port = static_cast<int>(parse_long("--port", v, 1, 65535));
      f->port = true;
    } else if (take_value(args, &i, "--ca-file", &v)) {
      f->given.ca_file = v;
      f->ca_file = true;
    } else {
      rest->push_back(a);
    }
  }
  return true;
}

/// `firmware keygen|sign` (no server needed): the exit code, or -1 for the
/// subcommands that talk to a device.
int cmd_firmware_offline(const std::vector<std::string>& args) {
  if (args.empty()) usage_error("firmware needs keygen, sign, push or status");
  const std::string& sub = args[0];
  if (sub == "keygen") {
    if (args.size() != 2) usage_error("firmware keygen needs one DIR");
    fleet::firmware_keygen(args[1]);
    std::printf("wrote %s/update-key.pem (private, 0600) and %s/update-key.pub.pem (for update.public_keys)\n",
                args[1].c_str(), args[1].c_str());
    return 0;
  }
  if (sub == "sign") {
    fleet::SignRequest r;
    for (size_t i = 1; i < args.size(); ++i) {
      std::string v;
      if (take_value(args, &i, "--key", &v)) {
        r.key_file = v;
      } else if (take_value(args, &i, "--version", &v)) {
        r.version = v;
      } else if (take_value(args, &i, "--compatible", &v)) {
        r.compatible = v;
      } else if (take_value(args, &i, "--min-version", &v)) {
        r.min_version = v;
      } else if (take_value(args, &i, "--notes", &v)) {
        r.notes = v;
      } else if (take_value(args, &i, "--out", &v)) {
        r.out_dir = v;
      } else if (!args[i].empty() && args[i][0] == '-') {
        usage_error("firmware sign: unknown option '" + args[i] + "'");
      } else if (r.image.empty()) {
        r.image = args[i];
      } else {
        usage_error("firmware sign takes one IMAGE, not also '" + args[i] + "'");
      }
    }
    if (r.key_file.empty()) usage_error("firmware sign needs --key FILE");
    if (r.version.empty()) usage_error("firmware sign needs --version V");
    if (r.compatible.empty()) usage_error("firmware sign needs --compatible C");
    if (r.out_dir.empty()) usage_error("firmware sign needs --out DIR");
    if (r.image.empty()) usage_error("firmware sign needs an IMAGE");
    try {
      const std::string manifest = fleet::firmware_sign(r);
      std::printf("%s", manifest.c_str());
      std::printf("wrote %s/manifest.json and %s/manifest.sig\n", r.out_dir.c_str(), r.out_dir.c_str());
    } catch (const Error& e) {
      usage_error(std::string("firmware sign: ") + e.what());
    }
    return 0;
  }
  if (sub == "push" || sub == "status") return -1;
  usage_error("firmware: unknown subcommand '" + sub + "' (keygen, sign, push, status)");
}

std::string read_file_or_fail(const std::string& path, const char* what) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) usage_error(std::string("cannot read ") + what + " " + path + ": " + std::strerror(errno));
  std::string out;
  char buf[65536];
  size_t n = 0;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) out.append(buf, n);
  std::fclose(f);
  return out;
}

/// `firmware push` and `firmware status`: the signed update over XMPP
/// (docs/updates.md): the command, the image in IBB blocks, then the device
/// node watched until the update committed, rolled back or failed.
class FirmwareCommand {
 public:
  FirmwareCommand(const fleet::ConnectionOptions& opts, const std::vector<std::string>& args) : opts_(opts) {
    sub_ = args[0];
    for (size_t i = 1; i < args.size(); ++i) {
      std::string v;
      if (take_value(args, &i, "--manifest", &v)) {
        manifest_path_ = v;
      } else if (take_value(args, &i, "--signature", &v)) {
        sig_path_ = v;
      } else if (take_value(args, &i, "--image", &v)) {
        image_path_ = v;
      } else if (take_value(args, &i, "--timeout", &v)) {
        timeout_s_ = parse_seconds("--timeout", v);
      } else if (take_value(args, &i, "--window", &v)) {
        window_ = static_cast<size_t>(parse_long("--window", v, 1, 64));
      } else if (take_value(args, &i, "--via", &v)) {
        if (v != "ibb" && v != "http") usage_error("firmware push: --via takes ibb or http, not '" + v + "'");
        via_http_ = v == "http";
      } else if (take_value(args, &i, "--upload-service", &v)) {
        upload_service_ = v;
      } else if (take_value(args, &i, "--url", &v)) {
        url_ = v;
        via_http_ = true;
      } else if (args[i] == "--json") {
        json_ = true;
      } else if (!args[i].empty() && args[i][0] == '-') {
        usage_error("firmware " + sub_ + ": unknown option '" + args[i] + "'");
      } else if (device_.empty()) {
        device_ = normalize_device(args[i], opts.jid);
      } else {
        usage_error("firmware " + sub_ + " takes one DEVICE, not also '" + args[i] + "'");
      }
    }
    if (device_.empty()) usage_error("firmware " + sub_ + " needs a DEVICE");
    if (sub_ == "push") {
      if (manifest_path_.empty()) usage_error("firmware push needs --manifest DIR (or manifest.json)");
      if (image_path_.empty()) usage_error("firmware push needs --image FILE");
      struct stat st {};
      if (::stat(manifest_path_.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
        if (sig_path_.empty()) sig_path_ = manifest_path_ + "/manifest.sig";
        manifest_path_ += "/manifest.json";
      } else if (sig_path_.empty()) {
        const size_t dot = manifest_path_.rfind(".json");
        sig_path_ = (dot == std::string::npos ? manifest_path_ : manifest_path_.substr(0, dot)) + ".sig";
      }
      manifest_ = read_file_or_fail(manifest_path_, "manifest");
      signature_ = read_file_or_fail(sig_path_, "signature");
      while (!signature_.empty() && std::isspace(static_cast<unsigned char>(signature_.back()))) signature_.pop_back();
      image_ = read_file_or_fail(image_path_, "image");
    }
  }

  int run() {
    const fleet::Deadline deadline = deadline_in(timeout_s_);
    client_ = connect_for_query(opts_, deadline);
    try {
      const int rc = sub_ == "push" ? push(deadline) : status(deadline);
      client_->disconnect(fleet::Clock::now() + kDisconnectLimit);
      return rc;
    } catch (const Error& e) {
      if (e.code() != Exit::Connect) client_->disconnect(fleet::Clock::now() + kDisconnectLimit);
      throw;
    }
  }

 private:
  static bool terminal(const std::string& state) {
    return state == "committed" || state == "rolled-back" || state == "failed";
  }

  void print_status(const fleet::DeviceDescription& d) {
    if (json_) {
      put("{\"device\":\"" + device_ + "\",\"firmware\":\"" + d.firmware + "\",\"state\":\"" + d.update_state +
          "\",\"version\":\"" + d.update_version + "\",\"progress\":\"" + d.update_progress +
          "\",\"error\":\"" + d.update_error + "\"}\n");
      return;
    }
    put(device_ + ": firmware " + d.firmware + "; update " + (d.update_state.empty() ? "none" : d.update_state) +
        (d.update_version.empty() ? "" : " " + d.update_version) +
        (d.update_progress.empty() || d.update_progress == "0" ? "" : " " + d.update_progress + "%") +
        (d.update_error.empty() ? "" : " (" + d.update_error + ")") + "\n");
  }

  int status(fleet::Deadline deadline) {
    (void)fleet::require_contact(*client_, device_);
    const fleet::DeviceDescription d = fleet::fetch_description(*client_, device_, deadline);
    print_status(d);
    return 0;
  }

  int push(fleet::Deadline deadline) {
    const auto t0 = fleet::Clock::now();
    const std::string full = fleet::resolve_online_device(*client_, device_, deadline);
    // The manifest in base64 lines of at most 255 characters (the device's form value limit).
    const std::string m64 = fleet::base64(manifest_);
    std::vector<fleet::FieldArg> args;
    for (size_t at = 0; at < m64.size(); at += 240) args.push_back({"manifest", m64.substr(at, 240)});
    args.push_back({"signature", signature_});
    std::string url = url_;
    if (via_http_ && url.empty()) {
      fleet::UploadOptions up;
      up.service = upload_service_;
      up.ca_file = opts_.ca_file;
      const fleet::UploadResult r = fleet::upload_file(*client_, image_path_, "application/octet-stream", up, deadline);
      url = r.get_url;
      std::fprintf(stderr, "xiotctl: uploaded %llu bytes to %s in %.2f s: %.0f bytes/s over HTTP\n",
                   static_cast<unsigned long long>(r.size), r.service.c_str(), r.put_seconds,
                   r.put_seconds > 0 ? static_cast<double>(r.size) / r.put_seconds : 0.0);
    }
    args.push_back({"transport", via_http_ ? "url" : "ibb"});
    if (via_http_) args.push_back({"url", url});
    const fleet::CommandOutcome o = fleet::run_command(*client_, full, "firmware-update", args, deadline);
    if (!o.ok) throw fleet::RemoteError(full + " refused the update: " + o.error.describe(), o.error);
    if (!o.reply.form) throw Error(Exit::DeviceError, full + " accepted the update without a transfer form");
    auto value = [&o](const char* var) {
      const fleet::FormField* f = o.reply.form->find(var);
      return f != nullptr && !f->values.empty() ? f->values[0] : std::string();
    };
    const std::string sid = value("sid");
    const uint64_t offset = std::strtoull(value("offset").c_str(), nullptr, 10);
    if ((sid.empty() && !via_http_) || offset > image_.size()) {
      throw Error(Exit::DeviceError, full + " answered without a usable sid/offset");
    }
    const auto t_transfer = fleet::Clock::now();
    if (via_http_) {
      std::fprintf(stderr, "xiotctl: %s accepted the update; it fetches %zu bytes from offset %llu over HTTPS (%s)\n",
                   full.c_str(), image_.size(), static_cast<unsigned long long>(offset), url.c_str());
    } else {
      std::fprintf(stderr, "xiotctl: %s accepted the update; sending %zu bytes from offset %llu over IBB (sid %s)\n",
                   full.c_str(), image_.size(), static_cast<unsigned long long>(offset), sid.c_str());
      send_ibb(full, sid, offset, deadline);
      const double secs = std::chrono::duration<double>(fleet::Clock::now() - t_transfer).count();
      const double sent = static_cast<double>(image_.size() - offset);
      std::fprintf(stderr, "xiotctl: sent %.0f bytes in %.2f s: %.0f bytes/s over IBB\n", sent, secs,
                   secs > 0 ? sent / secs : 0.0);
    }
    bool downloaded = !via_http_;
    // Now the device verifies, installs, reboots and runs its health gate.
    fleet::DeviceDescription d;
    std::string last;
    for (;;) {
      try {
        d = fleet::fetch_description(*client_, device_, std::min(deadline, fleet::Clock::now() + std::chrono::seconds(5)));
      } catch (const Error& e) {
        if (e.code() != Exit::Timeout || fleet::Clock::now() >= deadline) throw;
      }
      const std::string line = d.update_state + " " + d.update_version;
      if (line != last) {
        std::fprintf(stderr, "xiotctl: %s: update %s%s%s\n", device_.c_str(), line.c_str(),
                     d.update_error.empty() ? "" : ": ", d.update_error.c_str());
        last = line;
      }
      if (!downloaded && d.update_version == manifest_version() && !d.update_state.empty() &&
          d.update_state != "downloading" && d.update_state != "received") {
        // The device node says the download ended (seen within ~250 ms).
        downloaded = true;
        const double secs = std::chrono::duration<double>(fleet::Clock::now() - t_transfer).count();
        const double got = static_cast<double>(image_.size() - offset);
        std::fprintf(stderr, "xiotctl: the device fetched %.0f bytes in %.2f s: %.0f bytes/s over HTTPS\n", got,
                     secs, secs > 0 ? got / secs : 0.0);
      }
      if (terminal(d.update_state) && d.update_version == manifest_version()) break;
      if (fleet::Clock::now() >= deadline) throw Error(Exit::Timeout, "timed out waiting for the update to finish (" + line + ")");
      client_->run_once(std::chrono::milliseconds(250));
    }
    const double total = std::chrono::duration<double>(fleet::Clock::now() - t0).count();
    print_status(d);
    std::fprintf(stderr, "xiotctl: push to %s took %.2f s\n", d.update_state.c_str(), total);
    if (d.update_state != "committed") {
      throw Error(Exit::DeviceError, "update " + d.update_state + (d.update_error.empty() ? "" : ": " + d.update_error));
    }
    return 0;
  }

  std::string manifest_version() const {
    const size_t at = manifest_.find("\"version\":\"");
    if (at == std::string::npos) return "";
    const size_t start = at + 11;
    return manifest_.substr(start, manifest_.find('"', start) - start);
  }

  /// XEP-0047: <open/>, <data/> blocks (block-size 4096; up to window_ IQs in
  /// flight, each answered before the window moves on), <close/>.
  void send_ibb(const std::string& full, const std::string& sid, uint64_t offset, fleet::Deadline deadline) {
    constexpr size_t kBlock = 4096;
    fleet::XmlElement open = fleet::make_element("open", "http://jabber.org/protocol/ibb");
    open.set("sid", sid).set("block-size", std::to_string(kBlock)).set("stanza", "iq");
    const fleet::IqReply r = client_->request(full, "set", open, deadline, "the IBB open");
    if (!r.ok) throw fleet::RemoteError(full + " refused the IBB stream: " + r.error.describe(), r.error);
    size_t in_flight = 0;
    bool failed = false;
    fleet::StanzaError error;
    uint16_t seq = 0;
    uint64_t at = offset;
    uint64_t acked = offset;
    int last_pct = -1;
    while (acked < image_.size()) {
      while (!failed && in_flight < window_ && at < image_.size()) {
        const size_t n = static_cast<size_t>(std::min<uint64_t>(kBlock, image_.size() - at));
        fleet::XmlElement data = fleet::make_element("data", "http://jabber.org/protocol/ibb");
        data.set("sid", sid).set("seq", std::to_string(seq));
        data.text = fleet::base64(image_.substr(static_cast<size_t>(at), n));
        ++seq;
        at += n;
        ++in_flight;
        client_->send_iq(full, "set", data, [&, n](const fleet::IqReply& reply) {
          --in_flight;
          if (!reply.ok) {
            failed = true;
            error = reply.error;
          } else {
            acked += n;
          }
        });
      }
      if (failed) throw fleet::RemoteError(full + " refused an IBB block: " + error.describe(), error);
      if (!client_->connected()) throw Error(Exit::Connect, "link lost during the transfer (push again to resume)", true);
      if (fleet::Clock::now() >= deadline) throw Error(Exit::Timeout, "timed out during the transfer");
      client_->run_once(std::chrono::milliseconds(100));
      const int pct = static_cast<int>(acked * 100 / image_.size());
      if (pct / 10 != last_pct / 10) {
        std::fprintf(stderr, "xiotctl: %d%% (%llu/%zu bytes)\n", pct, static_cast<unsigned long long>(acked),
                     image_.size());
        last_pct = pct;
      }
    }
    fleet::XmlElement close = fleet::make_element("close", "http://jabber.org/protocol/ibb");
    close.set("sid", sid);
    (void)client_->request(full, "set", close, deadline, "the IBB close");
  }

  const fleet::ConnectionOptions& opts_;
  std::string sub_;
  std::string device_;
  std::string manifest_path_, sig_path_, image_path_;
  std::string manifest_, signature_, image_;
  double timeout_s_ = 300;
  size_t window_ = 4;
  bool json_ = false;
  bool via_http_ = false;
  std::string upload_service_, url_;
  std::unique_ptr<fleet::Client> client_;
};

/// `rotate DEVICE --ca DIR`: the device's certificate rotated remotely
/// (docs/identity.md "Rotation"): rotate-identity stage 1 (the device's new
/// CSR), signed with the fleet CA for DEVICE's bare JID, stage 2 (the
/// certificate), then the device node watched until the device logged in
/// again with the new certificate (its cert-expires changed).
class RotateCommand {
 public:
  RotateCommand(const fleet::ConnectionOptions& opts, const std::vector<std::string>& args) : opts_(opts) {
    for (size_t i = 0; i < args.size(); ++i) {
      std::string v;
      if (take_value(args, &i, "--ca", &v)) {
        ca_dir_ = v;
      } else if (take_value(args, &i, "--days", &v)) {
        days_ = static_cast<int>(parse_long("--days", v, 1, 36500));
      } else if (take_value(args, &i, "--timeout", &v)) {
        timeout_s_ = parse_seconds("--timeout", v);
      } else if (!args[i].empty() && args[i][0] == '-') {
        usage_error("rotate: unknown option '" + args[i] + "'");
      } else if (device_.empty()) {
        device_ = normalize_device(args[i], opts.jid);
      } else {
        usage_error("rotate takes one DEVICE, not also '" + args[i] + "'");
      }
    }
    if (device_.empty()) usage_error("rotate needs a DEVICE");
    if (ca_dir_.empty()) usage_error("rotate needs --ca DIR (the fleet CA: ca.key, ca.crt)");
  }

  int run() {
    const fleet::Deadline deadline = deadline_in(timeout_s_);
    client_ = connect_for_query(opts_, deadline);
    try {
      const int rc = rotate(deadline);
      client_->disconnect(fleet::Clock::now() + kDisconnectLimit);
      return rc;
    } catch (const Error& e) {
      if (e.code() != Exit::Connect) client_->disconnect(fleet::Clock::now() + kDisconnectLimit);
      throw;
    }
  }

 private:
  fleet::CommandReply command(const std::string& full, const std::string& sessionid, const std::string& action,
                              const fleet::DataForm* form, fleet::Deadline deadline, const char* what) {
    const fleet::IqReply r = client_->request(
        full, "set", fleet::make_command_request("rotate-identity", sessionid, action, form), deadline, what);
    if (!r.ok) throw fleet::RemoteError(full + " refused rotate-identity: " + r.error.describe(), r.error);
    if (!r.has_payload) throw Error(Exit::DeviceError, full + " answered rotate-identity without a <command/>");
    return fleet::parse_command_reply(r.payload);
  }

  int rotate(fleet::Deadline deadline) {
    const auto t0 = fleet::Clock::now();
    const std::string full = fleet::resolve_online_device(*client_, device_, deadline);
    // Its node as it is now (the old expiry); not fatal: the command decides who may rotate.
    fleet::DeviceDescription before;
    try {
      before = fleet::fetch_description(*client_, device_,
                                        std::min(deadline, fleet::Clock::now() + std::chrono::seconds(5)));
    } catch (const Error& e) {
      if (e.code() == Exit::Connect) throw;
    }
    // Stage 1: the device makes its new key and shows the CSR.
    const fleet::CommandReply stage1 = command(full, "", "execute", nullptr, deadline, "rotate-identity");
    const fleet::FormField* csr_field = stage1.form ? stage1.form->find("csr") : nullptr;
    if (stage1.status != "executing" || csr_field == nullptr || csr_field->values.empty()) {
      throw Error(Exit::DeviceError, full + " answered rotate-identity without a CSR");
    }
    std::string b64;
    for (const std::string& v : csr_field->values) b64 += v;
    std::string csr = "-----BEGIN CERTIFICATE REQUEST-----\n";
    for (size_t at = 0; at < b64.size(); at += 64) csr += b64.substr(at, 64) + "\n";
    csr += "-----END CERTIFICATE REQUEST-----\n";
    fleet::ca::Issued cert;
    try {
      cert = fleet::ca::sign(ca_dir_, csr, days_, static_cast<int64_t>(std::time(nullptr)), device_);
    } catch (const Error&) {
      cancel(full, stage1.sessionid, deadline);
      throw;
    }
    std::fprintf(stderr, "xiotctl: signed %s serial %s valid until %s\n", cert.jid.c_str(), cert.serial.c_str(),
                 agent::identity::iso8601(cert.not_after).c_str());
    // Stage 2: the certificate, as the base64 of its DER in lines.
    std::string body;
    for (size_t at = 0; at < cert.cert_pem.size();) {
      size_t end = cert.cert_pem.find('\n', at);
      if (end == std::string::npos) end = cert.cert_pem.size();
      const std::string line = cert.cert_pem.substr(at, end - at);
      if (line.compare(0, 5, "-----") != 0) body += line;
      at = end + 1;
    }
    fleet::DataForm submit;
    submit.type = "submit";
    fleet::FormField field;
    field.var = "certificate";
    field.type = "text-multi";
    for (size_t at = 0; at < body.size(); at += 240) field.values.push_back(body.substr(at, 240));
    submit.fields.push_back(field);
    const fleet::CommandReply done = command(full, stage1.sessionid, "complete", &submit, deadline, "rotate-identity");
    for (const fleet::CommandNote& n : done.notes) std::fprintf(stderr, "xiotctl: %s: %s\n", full.c_str(), n.text.c_str());
    if (done.status != "completed") throw Error(Exit::DeviceError, full + ": rotate-identity " + done.status);
    // The device logs in again with the new identity and publishes its node.
    const std::string want = agent::identity::iso8601(cert.not_after);
    fleet::DeviceDescription d;
    for (;;) {
      try {
        d = fleet::fetch_description(*client_, device_,
                                     std::min(deadline, fleet::Clock::now() + std::chrono::seconds(5)));
      } catch (const Error& e) {
        if (e.code() != Exit::Timeout || fleet::Clock::now() >= deadline) throw;
      }
      if (d.has_cert && d.cert_expires == want) break;
      if (fleet::Clock::now() >= deadline) {
        throw Error(Exit::Timeout, "timed out waiting for " + device_ + " to log in with the new certificate (its "
                                   "node says cert-expires " + (d.cert_expires.empty() ? "none" : d.cert_expires) +
                                   "; refused? see the device's log)");
      }
      client_->run_once(std::chrono::milliseconds(250));
    }
    const double secs = std::chrono::duration<double>(fleet::Clock::now() - t0).count();
    std::printf("%s: certificate %s -> %s (serial %s, %lld days left)\n", device_.c_str(),
                before.cert_expires.empty() ? "none" : before.cert_expires.c_str(), d.cert_expires.c_str(),
                cert.serial.c_str(), d.cert_days_left);
    std::fprintf(stderr, "xiotctl: rotation took %.2f s\n", secs);
    return 0;
  }

  void cancel(const std::string& full, const std::string& sessionid, fleet::Deadline deadline) {
    try {
      (void)client_->request(full, "set", fleet::make_command_request("rotate-identity", sessionid, "cancel", nullptr),
                             deadline, "rotate-identity cancel");
    } catch (const Error&) {
    }
  }

  const fleet::ConnectionOptions& opts_;
  std::string device_;
  std::string ca_dir_;
  int days_ = 365;
  double timeout_s_ = 60;
  std::unique_ptr<fleet::Client> client_;
};

int run(int argc, char** argv) {
  ConnectionFlags flags;
  std::vector<std::string> rest;
  if (!parse_flags(std::vector<std::string>(argv + 1, argv + argc), &flags, &rest)) return 0;
  if (rest.empty()) usage_error("missing COMMAND");
  const std::string command = rest.front();
  rest.erase(rest.begin());

  if (command == "upload") {
    UploadArgs a = parse_upload(rest);  // a usage error needs no config file
    return cmd_upload(flags.resolve(), a);
  }
  if (command == "firmware") {
    const int done = cmd_firmware_offline(rest);
    if (done >= 0) return done;
  }
  if (command == "ca") return cmd_ca(rest);
  if (command != "watch" && command != "devices" && command != "commands" && command != "run" &&
      command != "info" && command != "firmware" && command != "rotate" && command != "desire" &&
      command != "desired") {
    usage_error("unknown command '" + command + "'");
  }
  // Arguments first: a usage error needs no config file.
  QueryArgs query;
  if (command != "watch" && command != "firmware" && command != "rotate") query = parse_query(command, rest);

  fleet::ConnectionOptions opts = flags.resolve();
  if (command == "watch") return cmd_watch(opts, rest);
  if (command == "firmware") {
    FirmwareCommand fw(opts, rest);
    opts.stream_management = false;
    fleet::validate_options(opts);
    return fw.run();
  }
  if (command == "rotate") {
    RotateCommand rot(opts, rest);
    opts.stream_management = false;
    fleet::validate_options(opts);
    return rot.run();
  }
  opts.stream_management = false;  // one-shot: no <r/> after every request
  fleet::validate_options(opts);
  if (command == "devices") return cmd_devices(opts, query);
  return DeviceCommand(opts, command, query).run();
}

}  // namespace

int main(int argc, char** argv) {
  std::signal(SIGPIPE, SIG_IGN);
  struct sigaction sa{};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  try {
    return run(argc, argv);
  } catch (const Error& e) {
    std::fprintf(stderr, "xiotctl: %s\n", e.what());
    return static_cast<int>(e.code());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "xiotctl: internal error: %s\n", e.what());
    return static_cast<int>(Exit::DeviceError);
  }
}

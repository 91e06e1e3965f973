// XEP-0050 Ad-Hoc Commands on the operator side, without the network: the
// command list (disco#items), the <command/> request and response, and the
// choice of the next action in a multi-stage flow. The network part is
// fleet/fleet_ops.hpp (run_command()).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "fleet/forms.hpp"
#include "fleet/xml.hpp"

namespace fleet {

constexpr const char* kCommandsNs = "http://jabber.org/protocol/commands";
constexpr const char* kDiscoItemsNs = "http://jabber.org/protocol/disco#items";

/// One entry of the commands list (XEP-0050 §2.2).
struct CommandItem {
  std::string jid;   ///< who runs it (usually the device's full JID)
  std::string node;  ///< "read"
  std::string name;  ///< "Read sensors" ("" if none)
};

/// `<query xmlns='…disco#items' node='http://jabber.org/protocol/commands'/>`.
XmlElement make_command_list_request();
/// Reads a disco#items result. Throws fleet::Error(Exit::DeviceError) when it
/// is not a disco#items query.
std::vector<CommandItem> parse_command_list(const XmlElement& query);

struct CommandNote {
  std::string type;  ///< info | warn | error (XEP-0050 §3.5; "info" when absent)
  std::string text;
};

/// A `<command/>` answer (XEP-0050 §3).
struct CommandReply {
  std::string node;
  std::string sessionid;
  std::string status;  ///< executing | completed | canceled
  /// While executing: the actions offered (prev/next/complete, in document
  /// order) and the default one (the execute attribute; "" when absent).
  std::vector<std::string> actions;
  std::string default_action;
  bool has_actions = false;  ///< an <actions/> element was present
  std::vector<CommandNote> notes;
  std::optional<DataForm> form;

  bool allows(const std::string& action) const;
};

/// Reads a `<command xmlns='http://jabber.org/protocol/commands'/>` result.
/// Throws fleet::Error(Exit::DeviceError) when it is not one, or its status
/// is missing or unknown.
CommandReply parse_command_reply(const XmlElement& command);

/// `<command xmlns=… node=… [sessionid=…] [action=…]>[form]</command>`.
/// `action` "" = no attribute (execute); `form` may be null.
XmlElement make_command_request(const std::string& node, const std::string& sessionid, const std::string& action,
                                const DataForm* form);

/// The action with which to submit the filled form of `reply` (executing):
///   - "next" when arguments are left for a later stage and next is offered,
///     or when next is the stage's default (XEP-0050 §3.4: execute='next',
///     or an <actions/> without 'execute');
///   - else "complete" when offered;
///   - else "next" when offered (a stage that only goes on);
///   - else "complete": with no <actions/> at all, XEP-0050 §3.4 says the
///     only action is to complete (execute = complete).
std::string choose_submit_action(const CommandReply& reply, bool args_left);

}  // namespace fleet

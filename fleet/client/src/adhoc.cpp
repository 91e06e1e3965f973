#include "fleet/adhoc.hpp"

#include <algorithm>

#include "fleet/error.hpp"

namespace fleet {

XmlElement make_command_list_request() {
  XmlElement q = make_element("query", kDiscoItemsNs);
  q.set("node", kCommandsNs);
  return q;
}

std::vector<CommandItem> parse_command_list(const XmlElement& query) {
  if (query.name != "query" || query.ns != kDiscoItemsNs) {
    throw Error(Exit::DeviceError, "expected a disco#items answer, got <" + query.name + " xmlns='" + query.ns + "'>");
  }
  std::vector<CommandItem> out;
  for (const auto& c : query.children) {
    if (c.name != "item" || c.ns != kDiscoItemsNs) continue;
    CommandItem item;
    if (const std::string* j = c.attr("jid")) item.jid = *j;
    if (const std::string* n = c.attr("node")) item.node = *n;
    if (const std::string* n = c.attr("name")) item.name = *n;
    if (item.node.empty()) continue;  // not a command
    out.push_back(std::move(item));
  }
  return out;
}

bool CommandReply::allows(const std::string& action) const {
  return std::find(actions.begin(), actions.end(), action) != actions.end();
}

CommandReply parse_command_reply(const XmlElement& command) {
  if (command.name != "command" || command.ns != kCommandsNs) {
    throw Error(Exit::DeviceError,
                "expected an ad-hoc command answer, got <" + command.name + " xmlns='" + command.ns + "'>");
  }
  CommandReply r;
  if (const std::string* v = command.attr("node")) r.node = *v;
  if (const std::string* v = command.attr("sessionid")) r.sessionid = *v;
  if (const std::string* v = command.attr("status")) r.status = *v;
  if (r.status != "executing" && r.status != "completed" && r.status != "canceled") {
    throw Error(Exit::DeviceError, r.status.empty() ? std::string("the command answer has no status")
                                                    : "unknown command status '" + r.status + "'");
  }
  for (const auto& c : command.children) {
    if (c.ns == kCommandsNs && c.name == "actions") {
      r.has_actions = true;
      if (const std::string* e = c.attr("execute")) r.default_action = *e;
      for (const auto& a : c.children) {
        if (a.ns == kCommandsNs && (a.name == "prev" || a.name == "next" || a.name == "complete")) {
          r.actions.push_back(a.name);
        }
      }
    } else if (c.ns == kCommandsNs && c.name == "note") {
      CommandNote n;
      const std::string* t = c.attr("type");
      n.type = t != nullptr && !t->empty() ? *t : "info";
      n.text = c.text;
      r.notes.push_back(std::move(n));
    } else if (c.ns == kDataFormsNs && c.name == "x" && !r.form) {
      r.form = parse_form(c);
    }
  }
  return r;
}

XmlElement make_command_request(const std::string& node, const std::string& sessionid, const std::string& action,
                                const DataForm* form) {
  XmlElement c = make_element("command", kCommandsNs);
  c.set("node", node);
  if (!sessionid.empty()) c.set("sessionid", sessionid);
  if (!action.empty()) c.set("action", action);
  if (form != nullptr) c.children.push_back(form_to_xml(*form));
  return c;
}

std::string choose_submit_action(const CommandReply& reply, bool args_left) {
  const bool next = reply.allows("next");
  // XEP-0050 §3.4: an <actions/> without 'execute' defaults to next.
  const std::string def = reply.has_actions && reply.default_action.empty() ? "next" : reply.default_action;
  if (next && (args_left || def == "next")) return "next";
  if (reply.allows("complete")) return "complete";
  if (next) return "next";
  return "complete";
}

}  // namespace fleet

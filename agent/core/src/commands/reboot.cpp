// `reboot` (owner): one form (confirm, reason); a confirmed complete asks the
// host to reboot after the answer is sent (docs/commands.md "reboot").
#include <cstdio>

#include "agent/commands.hpp"
#include "agent/log.hpp"
#include "stage.hpp"

namespace agent {
namespace cmd {

namespace {

void execute(const CommandCall&, CommandResponse* out) {
  Form& f = out->form;
  f.reset(FormType::Form);
  (void)f.set_title("Reboot the device");
  (void)f.set_instructions("The device goes offline and restarts. Confirm to proceed.");
  (void)f.add_field(FieldType::Boolean, "confirm", "Reboot now?", true);
  (void)f.add_value("0");
  (void)f.add_field(FieldType::TextSingle, "reason", "Reason (optional, logged)");
  show_form(out, kActionComplete);
}

void complete(const CommandCall& call, CommandResponse* out) {
  const char* confirm = call.form->value_of("confirm");
  if (confirm == nullptr || confirm[0] == '\0') {
    fail(out, StanzaCondition::BadRequest, CommandCondition::BadPayload, "confirm: required");
    return;
  }
  const hal::Result<bool> yes = parse_form_bool(confirm);
  if (!yes.ok()) {
    fail(out, StanzaCondition::BadRequest, CommandCondition::BadPayload,
         "confirm: '%.32s' is not a boolean (1, 0, true or false)", confirm);
    return;
  }
  if (!yes.value()) {
    out->status = CommandStatus::Canceled;
    out->add_note(NoteType::Info, "reboot not confirmed");
    return;
  }
  const char* reason = call.form->value_of("reason");
  char why[kCommandTextMax + 64];
  if (reason != nullptr && reason[0] != '\0') {
    std::snprintf(why, sizeof why, "reboot requested by %.60s: %.120s", call.from, reason);
  } else {
    std::snprintf(why, sizeof why, "reboot requested by %.60s", call.from);
  }
  XLOG_INFO(kArea, "%s", why);
  const hal::Err e = call.host.request_reboot(why);
  if (e != hal::Err::Ok) {
    fail(out, StanzaCondition::InternalServerError, CommandCondition::None, "reboot failed: %s", hal::err_name(e));
    return;
  }
  out->status = CommandStatus::Completed;
  out->add_note(NoteType::Info, "rebooting");
}

}  // namespace

extern const CommandInfo kRebootCommand;  // listed in table.cpp
const CommandInfo kRebootCommand = {
    "reboot", "Reboot", Role::Owner,
    /*stages=*/1, execute, /*precheck=*/nullptr, /*next=*/nullptr, /*prev=*/nullptr, complete,
};

}  // namespace cmd
}  // namespace agent

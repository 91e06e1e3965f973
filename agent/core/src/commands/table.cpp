// The agent's commands, in the order disco#items lists them. A new command is
// one file beside this one (its handler, see agent/command_handler.hpp) and
// one line here (its declaration and its row). Nothing else counts or names
// the commands: the router, the listing and the lookups all read this table.
#include <cstring>
#include <iterator>

#include "agent/command_handler.hpp"

namespace agent {

namespace cmd {
extern const CommandInfo kReadCommand;         // read.cpp
extern const CommandInfo kSetCommand;          // set.cpp
extern const CommandInfo kDiagnosticsCommand;  // diagnostics.cpp
extern const CommandInfo kConfigureCommand;    // configure.cpp
extern const CommandInfo kAlertsCommand;       // alerts.cpp
extern const CommandInfo kRebootCommand;       // reboot.cpp
extern const CommandInfo kFirmwareUpdateCommand;  // firmware_update.cpp
extern const CommandInfo kRotateIdentityCommand;  // rotate_identity.cpp
}  // namespace cmd

namespace {

// Copies of the handlers, filled before main(): each handler is an aggregate
// of constants, so it is constant-initialized, which C++ guarantees happens
// before any dynamic initialization such as this one.
const CommandInfo kCommands[] = {
    cmd::kReadCommand,
    cmd::kSetCommand,
    cmd::kDiagnosticsCommand,
    cmd::kConfigureCommand,
    cmd::kAlertsCommand,
    cmd::kRebootCommand,
    cmd::kFirmwareUpdateCommand,
    cmd::kRotateIdentityCommand,
};
constexpr size_t kCommandCount = std::size(kCommands);

}  // namespace

const CommandInfo* command_table(size_t* count) {
  if (count != nullptr) *count = kCommandCount;
  return kCommands;
}

CommandTable agent_command_table() { return CommandTable{kCommands, kCommandCount}; }

const CommandInfo* find_command(const char* node) { return find_command(agent_command_table(), node); }

const CommandInfo* find_command(const CommandTable& table, const char* node) {
  if (node == nullptr) return nullptr;
  for (size_t i = 0; i < table.count; ++i) {
    if (std::strcmp(table.entries[i].node, node) == 0) return &table.entries[i];
  }
  return nullptr;
}

}  // namespace agent

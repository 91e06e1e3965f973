// Which hal::Restart the `reboot` command ends in, picked by the config's
// "reboot" key (docs/config.md): "exec" re-executes the agent
// (hal::linux_::ExecRestart), "logind" asks systemd-logind over the system
// D-Bus to reboot the machine (hal::linux_::LogindRestart).
#pragma once

#include <memory>

#include "agent/config.hpp"
#include "hal/restart.hpp"

namespace agent {

/// The backend for `method`. `argv` (main's, NULL-terminated) is borrowed by
/// the exec backend and must outlive the object. Never nullptr.
std::unique_ptr<hal::Restart> make_reboot_backend(RebootMethod method, char* const* argv);

}  // namespace agent

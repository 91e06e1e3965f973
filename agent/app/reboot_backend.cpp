// See app/reboot_backend.hpp.
#include "app/reboot_backend.hpp"

#include "hal/linux/exec_restart.hpp"
#include "hal/linux/logind_restart.hpp"

namespace agent {

std::unique_ptr<hal::Restart> make_reboot_backend(RebootMethod method, char* const* argv) {
  switch (method) {
    case RebootMethod::Logind: return std::make_unique<hal::linux_::LogindRestart>();
    case RebootMethod::Exec: break;
  }
  return std::make_unique<hal::linux_::ExecRestart>(argv);
}

}  // namespace agent

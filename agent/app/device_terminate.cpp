// The device release's std::terminate handler (cmake/XiotDevice.cmake,
// docs/footprint.md). With libstdc++ linked statically, its default handler
// (__gnu_cxx::__verbose_terminate_handler) pulls in the C++ demangler to print
// the uncaught exception's type: ~48 KB of the agent's ~420 KB. The agent is
// built without exceptions; the only way to get here is libstdc++ itself
// throwing (std::bad_alloc, std::length_error), which ends the process either
// way. This one says so in one line and aborts (core dump, systemd restart).
#include <unistd.h>

#include <cstdlib>

namespace __gnu_cxx {

void __verbose_terminate_handler() {
  static const char kMsg[] = "xiot-agent: std::terminate (an exception from the C++ runtime, e.g. out of memory)\n";
  (void)!::write(STDERR_FILENO, kMsg, sizeof kMsg - 1);
  std::abort();
}

}  // namespace __gnu_cxx

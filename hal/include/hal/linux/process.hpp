// Process-level helpers shared by the Linux programs (xiot-agent,
// xiot-fleet-sim): the stop signals and a seed from the kernel's entropy.
#pragma once

#include <cstdint>

namespace hal {
namespace linux_ {

/// SIGINT and SIGTERM set the flag stop_signal() reads (no SA_RESTART, so a
/// blocking poll returns and the loop sees it); SIGPIPE is ignored (a peer
/// closing a socket must not kill the process).
void install_stop_signals();
/// The signal that asked to stop (SIGINT or SIGTERM), or 0.
int stop_signal();

/// 64 bits from getrandom(); time and pid mixed if that fails (seeds for
/// boot ids, backoff jitter and session ids, not for keys).
uint64_t random_u64();

}  // namespace linux_
}  // namespace hal

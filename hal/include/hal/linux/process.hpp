// Process-level helpers shared by the Linux programs (xiot-agent,
// xiot-fleet-sim): the stop signals, a seed from the kernel's entropy and
// whether stderr goes to the journal.
#pragma once

#include <cstddef>
#include <cstdint>

namespace hal {
namespace linux_ {

/// SIGINT and SIGTERM set the flag stop_signal() reads (no SA_RESTART, so a
/// blocking poll returns and the loop sees it); SIGPIPE is ignored (a peer
/// closing a socket must not kill the process).
void install_stop_signals();
/// The signal that asked to stop (SIGINT or SIGTERM), or 0.
int stop_signal();

/// True when `fd` is the stream systemd connected to the journal: systemd sets
/// $JOURNAL_STREAM to "<device>:<inode>" (decimal) of the stdout/stderr it
/// hands a service, and that pair matches fstat(fd). False when the variable
/// is unset or malformed, the descriptor differs (a shell redirected it) or
/// fstat fails. The logger then writes syslog priority prefixes instead of
/// timestamps (agent::log_set_journal).
bool is_journal_stream(int fd);

/// 64 bits from getrandom(); time and pid mixed if that fails (seeds for
/// boot ids, backoff jitter and session ids, not for keys).
uint64_t random_u64();

/// The kernel's boot id (/proc/sys/kernel/random/boot_id, a UUID that changes
/// at every boot) into `out`, NUL-terminated; "" when unreadable. The journal
/// tells a power cut or reset (new id) from an agent crash (same id).
void host_boot_id(char* out, size_t cap);

}  // namespace linux_
}  // namespace hal

// See hal/linux/process.hpp.
#include "hal/linux/process.hpp"

#include <signal.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>

namespace hal {
namespace linux_ {
namespace {

volatile sig_atomic_t g_stop_signal = 0;

void on_stop_signal(int sig) { g_stop_signal = sig; }

}  // namespace

void install_stop_signals() {
  struct sigaction sa {};
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;  // no SA_RESTART: let poll() return so the loop sees the flag
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  signal(SIGPIPE, SIG_IGN);
}

int stop_signal() { return g_stop_signal; }

bool is_journal_stream(int fd) {
  // systemd.exec(5) "$JOURNAL_STREAM": "<st_dev>:<st_ino>", both decimal.
  const char* env = std::getenv("JOURNAL_STREAM");
  if (env == nullptr) return false;
  uintmax_t dev = 0;
  uintmax_t ino = 0;
  int used = 0;
  if (std::sscanf(env, "%" SCNuMAX ":%" SCNuMAX "%n", &dev, &ino, &used) != 2 || env[used] != '\0') return false;
  struct stat st {};
  if (::fstat(fd, &st) != 0) return false;
  return static_cast<uintmax_t>(st.st_dev) == dev && static_cast<uintmax_t>(st.st_ino) == ino;
}

uint64_t random_u64() {
  uint64_t v = 0;
  if (getrandom(&v, sizeof(v), 0) != static_cast<ssize_t>(sizeof(v))) {
    v = static_cast<uint64_t>(std::time(nullptr)) ^ (static_cast<uint64_t>(getpid()) << 32);
  }
  return v;
}

void host_boot_id(char* out, size_t cap) {
  if (out == nullptr || cap == 0) return;
  out[0] = '\0';
  std::FILE* f = std::fopen("/proc/sys/kernel/random/boot_id", "re");
  if (f == nullptr) return;
  if (std::fgets(out, static_cast<int>(cap), f) == nullptr) out[0] = '\0';
  std::fclose(f);
  out[std::strcspn(out, "\n")] = '\0';
}

}  // namespace linux_
}  // namespace hal

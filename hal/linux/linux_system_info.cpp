#include "hal/linux/linux_system_info.hpp"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>

namespace hal {
namespace linux_ {

namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }

const char* skip_spaces(const char* p) {
  while (*p == ' ' || *p == '\t') ++p;
  return p;
}

/// Parses "123" or "123.45" (procfs never writes exponents or signs) into the
/// value times 10^`decimals`, truncating further digits. Returns the position
/// after the number, or nullptr if there is none or it overflows.
const char* parse_fixed(const char* p, unsigned decimals, uint64_t* out) {
  p = skip_spaces(p);
  if (!is_digit(*p)) return nullptr;
  uint64_t v = 0;
  while (is_digit(*p)) {
    if (v > (UINT64_MAX - 9) / 10) return nullptr;
    v = v * 10 + static_cast<uint64_t>(*p++ - '0');
  }
  unsigned got = 0;
  if (*p == '.') {
    ++p;
    while (is_digit(*p)) {
      if (got < decimals) {
        if (v > (UINT64_MAX - 9) / 10) return nullptr;
        v = v * 10 + static_cast<uint64_t>(*p - '0');
        ++got;
      }
      ++p;
    }
  }
  for (; got < decimals; ++got) {
    if (v > UINT64_MAX / 10) return nullptr;
    v *= 10;
  }
  *out = v;
  return p;
}

/// Finds "Key:" at a line start in /proc/meminfo and parses "<n> kB" as bytes.
bool meminfo_field(const char* text, const char* key, uint64_t* bytes) {
  const size_t klen = std::strlen(key);
  for (const char* line = text; *line != '\0';) {
    if (std::strncmp(line, key, klen) == 0 && line[klen] == ':') {
      uint64_t kb = 0;
      const char* p = parse_fixed(line + klen + 1, 0, &kb);
      if (p == nullptr) return false;
      p = skip_spaces(p);
      if (std::strncmp(p, "kB", 2) != 0 || kb > UINT64_MAX / 1024) return false;
      *bytes = kb * 1024;
      return true;
    }
    const char* nl = std::strchr(line, '\n');
    if (nl == nullptr) break;
    line = nl + 1;
  }
  return false;
}

}  // namespace

LinuxSystemInfo::LinuxSystemInfo(const char* proc_root) {
  if (proc_root == nullptr) return;
  const size_t n = std::strlen(proc_root);
  if (n > kMaxRootLen) return;  // root_ stays empty: every read fails with Io
  std::memcpy(root_, proc_root, n + 1);
}

Result<size_t> LinuxSystemInfo::slurp(const char* name, char* buf, size_t cap) const {
  if (root_[0] == '\0') return Err::Io;
  char path[kMaxRootLen + 16];
  const int pn = std::snprintf(path, sizeof path, "%s/%s", root_, name);
  if (pn < 0 || static_cast<size_t>(pn) >= sizeof path) return Err::Io;
  const int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Err::Io;
  size_t got = 0;
  while (got + 1 < cap) {
    const ssize_t r = ::read(fd, buf + got, cap - 1 - got);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) {
      ::close(fd);
      return Err::Io;
    }
    if (r == 0) break;
    got += static_cast<size_t>(r);
  }
  ::close(fd);
  buf[got] = '\0';
  return got;
}

Result<uint64_t> LinuxSystemInfo::uptime_ms() {
  // /proc/uptime: "<seconds since boot> <idle seconds>", two decimals.
  char buf[128];
  Result<size_t> n = slurp("uptime", buf, sizeof buf);
  if (!n.ok()) return n.error();
  uint64_t ms = 0;
  if (parse_fixed(buf, 3, &ms) == nullptr) return Err::Io;
  return ms;
}

Result<LoadAverage> LinuxSystemInfo::load() {
  // /proc/loadavg: "0.52 0.58 0.59 1/389 12345".
  char buf[128];
  Result<size_t> n = slurp("loadavg", buf, sizeof buf);
  if (!n.ok()) return n.error();
  uint64_t v[3] = {};
  const char* p = buf;
  for (uint64_t& x : v) {
    p = parse_fixed(p, 3, &x);
    if (p == nullptr || (*p != ' ' && *p != '\n' && *p != '\0') || x > UINT32_MAX) return Err::Io;
  }
  return LoadAverage{static_cast<uint32_t>(v[0]), static_cast<uint32_t>(v[1]),
                     static_cast<uint32_t>(v[2])};
}

Result<MemoryInfo> LinuxSystemInfo::memory() {
  // The fields we need are in the first few lines; 4 KiB holds all of it.
  char buf[4096];
  Result<size_t> n = slurp("meminfo", buf, sizeof buf);
  if (!n.ok()) return n.error();
  MemoryInfo m;
  if (!meminfo_field(buf, "MemTotal", &m.total_bytes) ||
      !meminfo_field(buf, "MemAvailable", &m.available_bytes) ||
      m.available_bytes > m.total_bytes) {
    return Err::Io;
  }
  return m;
}

}  // namespace linux_
}  // namespace hal

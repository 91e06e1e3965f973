// libFuzzer target: the agent's config loader (agent/config.hpp) on arbitrary
// file contents. load_config() reads a file and may create the journal's
// directory: this target writes each input to a scratch file and interposes
// mkdir() so that nothing is ever created on the machine running the fuzzer
// (the loader then reports the directory as missing, a normal error path).
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>

#include "agent/config.hpp"

extern "C" int mkdir(const char* /*path*/, mode_t /*mode*/) {
  errno = EROFS;
  return -1;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string path = [] {
    char dir[] = "/tmp/xiot-fuzz-config-XXXXXX";
    const char* d = mkdtemp(dir);
    return std::string(d != nullptr ? d : "/tmp") + "/agent.json";
  }();
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) return 0;
  std::fwrite(data, 1, size, f);
  std::fclose(f);
  agent::AgentConfig cfg;
  std::string error;
  // Every rejection names what is wrong.
  if (!agent::load_config(path.c_str(), &cfg, &error) && error.empty()) __builtin_trap();
  return 0;
}

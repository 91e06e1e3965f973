// hal::Storage in memory: the simulated device's "flash". Persisted settings
// (the `configure` command) survive a simulated reboot (the device's runtime
// is rebuilt, its MemoryStorage kept) but not the simulator process.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "hal/storage.hpp"

namespace fleet_sim {

class MemoryStorage final : public hal::Storage {
 public:
  /// At most kMaxKeys blobs of at most kMaxBlobBytes each (a device keeps one
  /// small settings blob; the limits only bound a misbehaving caller).
  static constexpr size_t kMaxKeys = 8;
  static constexpr size_t kMaxBlobBytes = 4096;

  /// Errors: NotFound, Overflow (cap < the blob's size), InvalidArgument (bad key).
  hal::Result<size_t> read(const char* key, uint8_t* buf, size_t cap) override;
  /// Errors: InvalidArgument (bad key), NoSpace (too many keys or too large).
  hal::Err replace(const char* key, const uint8_t* data, size_t len) override;
  /// Errors: InvalidArgument (bad key).
  hal::Err remove(const char* key) override;

 private:
  std::vector<std::pair<std::string, std::vector<uint8_t>>> blobs_;
};

}  // namespace fleet_sim

// Where a transfer (IBB blocks, an HTTP body) writes what it receives.
//
// One interface for every transport of an update image, so the update code
// stages, hashes and resumes the same way whichever way the bytes came.
#pragma once

#include <cstddef>
#include <cstdint>

#include "hal/status.hpp"

namespace agent {

class ByteSink {
 public:
  virtual ~ByteSink() = default;
  /// Appends `len` bytes that belong at `offset`. A transport must deliver in
  /// order: offset == received(), else InvalidArgument. NoSpace beyond the
  /// announced size; Io when storage fails.
  virtual hal::Err write(uint64_t offset, const uint8_t* data, size_t len) = 0;
  /// Bytes safely stored so far: where a resumed transfer starts.
  virtual uint64_t received() const = 0;
};

}  // namespace agent

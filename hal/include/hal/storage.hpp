// Small persistent key/value blobs (persisted settings, journal segments).
#pragma once

#include <cstddef>
#include <cstdint>

#include "hal/status.hpp"

namespace hal {

/// Keys are short relative names of [A-Za-z0-9._-] (no '/'), at most 63 chars.
class Storage {
 public:
  virtual ~Storage() = default;
  /// Reads the whole blob `key` into `buf`. Returns its length.
  /// Errors: NotFound, Overflow (cap too small; nothing useful in buf),
  /// InvalidArgument (bad key), Io.
  virtual Result<size_t> read(const char* key, uint8_t* buf, size_t cap) = 0;
  /// Atomically replaces `key` with `data`: after a crash a reader sees either
  /// the old blob or the new one, never a mix. Durable on return.
  /// Errors: NoSpace, InvalidArgument, Io.
  virtual Err replace(const char* key, const uint8_t* data, size_t len) = 0;
  /// Removes `key`; removing a missing key is Ok. Errors: InvalidArgument, Io.
  virtual Err remove(const char* key) = 0;
};

}  // namespace hal

// XEP-0115 entity capabilities: the verification string and its hash.
#pragma once

#include <cstddef>

#include "hal/status.hpp"

namespace agent {

struct Identity {
  const char* category;  ///< "client"
  const char* type;      ///< "bot"
  const char* lang;      ///< "" if none
  const char* name;      ///< "xiot"
};

/// XEP-0115 §5.1: sorts identities and features, builds the S string, hashes it
/// with SHA-1 (mbedTLS) and writes the base64 into `out` (28 chars + NUL).
/// Returns the length. Errors: Overflow (cap < 29), InvalidArgument (no identity).
hal::Result<size_t> caps_ver(char* out, size_t cap, const Identity* identities, size_t identity_count,
                             const char* const* features, size_t feature_count);

}  // namespace agent

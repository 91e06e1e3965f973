// XEP-0115 entity capabilities: the verification string and its hash.
#pragma once

#include <cstddef>

#include "hal/status.hpp"

namespace agent {

struct Identity {
  const char* category;  ///< "client"
  const char* type;      ///< "bot"
  const char* lang;      ///< "" (or nullptr) if none
  const char* name;      ///< "xiot" ("" or nullptr if none)
};

/// Length of a ver string: base64 of a 20-byte SHA-1 digest.
constexpr size_t kCapsVerLen = 28;

/// XEP-0115 §5.1: sorts identities (category, type, xml:lang, then name) and
/// features by octet value, drops exact duplicates, builds the S string
/// "category/type/lang/name<" ... "feature<", hashes it with SHA-1 (mbedTLS,
/// streamed: S is never materialised) and writes the base64 into `out`
/// (28 chars + NUL). The `hash` attribute to send with it is "sha-1".
/// The arrays are borrowed for the call only. Returns the length (28).
/// Errors: Overflow (cap < 29), InvalidArgument (no identity, a null
/// category/type/feature, or a null array with a non-zero count), Io (the
/// hash backend failed).
hal::Result<size_t> caps_ver(char* out, size_t cap, const Identity* identities, size_t identity_count,
                             const char* const* features, size_t feature_count);

}  // namespace agent

// JID parsing and validation (RFC 7622), without allocation.
#pragma once

#include <cstddef>

#include "hal/status.hpp"

namespace agent {

/// RFC 7622 §3.2-3.4: each part is at most 1023 bytes.
constexpr size_t kJidPartMax = 1023;

/// Views into a JID string (not NUL-terminated individually). The pointers
/// borrow the string given to split_jid() and live as long as it does.
struct JidParts {
  const char* local = nullptr;  ///< nullptr (and length 0) when there is no '@'
  size_t local_len = 0;
  const char* domain = nullptr;  ///< never empty on success; a trailing '.' is not included
  size_t domain_len = 0;
  const char* resource = nullptr;  ///< nullptr when there is no '/'
  size_t resource_len = 0;
};

/// Splits "local@domain/resource" (RFC 7622 §3.1: the first '/' starts the
/// resource; the first '@' before it ends the local part). Checks the parts:
/// lengths 1..1023, no whitespace or control characters in local/domain, none
/// of "&'/:<>@ in the local part, none of "&'<>@ in the domain, no control
/// characters in the resource. Case is kept.
/// Errors: InvalidArgument (null, empty or malformed).
hal::Result<JidParts> split_jid(const char* jid);

/// nullptr when `jid` is a valid bare JID "local@domain" (no resource, non-empty
/// local part); otherwise a short reason for messages ("has a resource",
/// "no '@'", "empty local part", ...). The reason is a static string.
const char* bare_jid_problem(const char* jid);

/// nullptr when `domain` is a valid domainpart on its own (a pubsub service
/// such as "pubsub.example.com"); otherwise a short static reason.
const char* domain_problem(const char* domain);

/// ASCII case-insensitive equality of two byte ranges.
bool equal_ci(const char* a, size_t a_len, const char* b, size_t b_len);

}  // namespace agent

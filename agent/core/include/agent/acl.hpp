// Access control: owner ⊃ operator ⊃ viewer, matched on the sender's bare JID.
#pragma once

#include <cstdint>

#include "agent/config.hpp"

namespace agent {

enum class Role : uint8_t { Stranger = 0, Viewer = 1, Operator = 2, Owner = 3 };

const char* role_name(Role r);  ///< "stranger" | "viewer" | "operator" | "owner"

/// The highest role `jid` holds. `jid` may be full or bare; the resource is
/// ignored; local part and domain compare ASCII case-insensitively (patterns
/// need not be lower-cased) and a trailing '.' on a domain is ignored. A
/// pattern is a bare JID or "*@domain" (any local part at exactly that domain,
/// not its subdomains); malformed patterns match nothing. A JID with no local
/// part (a server or component), an empty string, nullptr or a malformed JID
/// (see split_jid()) is a Stranger. Default deny. Never allocates.
Role role_of(const AclConfig& acl, const char* jid);

/// True when `held` is at least `needed`.
inline bool role_allows(Role held, Role needed) {
  return static_cast<uint8_t>(held) >= static_cast<uint8_t>(needed);
}

}  // namespace agent

// Access control: owner ⊃ operator ⊃ viewer, matched on the sender's bare JID.
#pragma once

#include <cstdint>

#include "agent/config.hpp"

namespace agent {

enum class Role : uint8_t { Stranger = 0, Viewer = 1, Operator = 2, Owner = 3 };

const char* role_name(Role r);  ///< "stranger" | "viewer" | "operator" | "owner"

/// The highest role `jid` holds. `jid` may be full or bare; the resource is
/// ignored; local part and domain compare case-insensitively. A pattern is a
/// bare JID or "*@domain" (any local part at exactly that domain). A JID with no
/// local part, an empty string or a malformed JID is a Stranger. Default deny.
Role role_of(const AclConfig& acl, const char* jid);

/// True when `held` is at least `needed`.
inline bool role_allows(Role held, Role needed) {
  return static_cast<uint8_t>(held) >= static_cast<uint8_t>(needed);
}

}  // namespace agent

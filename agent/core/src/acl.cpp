#include "agent/acl.hpp"

#include <cstring>

#include "agent/jid.hpp"

namespace agent {

namespace {

/// Does the bare JID in `who` match `pattern` ("local@domain" or "*@domain")?
bool matches(const std::string& pattern, const JidParts& who) {
  const char* pat = pattern.c_str();
  if (pat[0] == '*' && pat[1] == '@') {
    const char* dom = pat + 2;
    size_t n = std::strlen(dom);
    if (n > 1 && dom[n - 1] == '.') --n;
    return n != 0 && equal_ci(dom, n, who.domain, who.domain_len);
  }
  const hal::Result<JidParts> p = split_jid(pat);
  if (!p.ok() || p.value().local == nullptr || p.value().resource != nullptr) return false;
  return equal_ci(p.value().local, p.value().local_len, who.local, who.local_len) &&
         equal_ci(p.value().domain, p.value().domain_len, who.domain, who.domain_len);
}

bool any_matches(const std::vector<std::string>& patterns, const JidParts& who) {
  for (const std::string& pat : patterns) {
    if (matches(pat, who)) return true;
  }
  return false;
}

}  // namespace

const char* role_name(Role r) {
  switch (r) {
    case Role::Owner: return "owner";
    case Role::Operator: return "operator";
    case Role::Viewer: return "viewer";
    case Role::Stranger: break;
  }
  return "stranger";
}

Role role_of(const AclConfig& acl, const char* jid) {
  const hal::Result<JidParts> who = split_jid(jid);
  if (!who.ok() || who.value().local == nullptr) return Role::Stranger;
  if (any_matches(acl.owners, who.value())) return Role::Owner;
  if (any_matches(acl.operators, who.value())) return Role::Operator;
  if (any_matches(acl.viewers, who.value())) return Role::Viewer;
  return Role::Stranger;
}

}  // namespace agent

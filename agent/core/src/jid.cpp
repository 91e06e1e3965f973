#include "agent/jid.hpp"

#include <cstring>

namespace agent {

namespace {

bool is_space_or_control(unsigned char c) { return c <= 0x20 || c == 0x7F; }

/// RFC 7622 §3.3.1: characters the localpart may not contain.
bool forbidden_in_local(unsigned char c) {
  return c == '"' || c == '&' || c == '\'' || c == '/' || c == ':' || c == '<' || c == '>' || c == '@';
}

/// Never valid in a DNS name or an IP literal, and hostile to XML.
bool forbidden_in_domain(unsigned char c) {
  return c == '"' || c == '&' || c == '\'' || c == '<' || c == '>' || c == '@' || c == '/';
}

const char* check_local(const char* p, size_t n) {
  if (n == 0) return "empty local part";
  if (n > kJidPartMax) return "local part longer than 1023 bytes";
  for (size_t i = 0; i < n; ++i) {
    const auto c = static_cast<unsigned char>(p[i]);
    if (is_space_or_control(c)) return "contains whitespace or control characters";
    if (forbidden_in_local(c)) return "local part contains one of \"&'/:<>@";
  }
  return nullptr;
}

const char* check_domain(const char* p, size_t n) {
  if (n == 0) return "empty domain";
  if (n > kJidPartMax) return "domain longer than 1023 bytes";
  for (size_t i = 0; i < n; ++i) {
    const auto c = static_cast<unsigned char>(p[i]);
    if (is_space_or_control(c)) return "contains whitespace or control characters";
    if (forbidden_in_domain(c)) return "domain contains one of \"&'<>@/";
  }
  if (p[0] == '.') return "domain starts with '.'";
  return nullptr;
}

/// Splits without validating; returns the reason for a structural problem.
const char* split_raw(const char* jid, JidParts* out) {
  if (jid == nullptr || *jid == '\0') return "empty";
  const char* slash = std::strchr(jid, '/');
  const char* end_bare = slash != nullptr ? slash : jid + std::strlen(jid);
  const char* at = static_cast<const char*>(std::memchr(jid, '@', static_cast<size_t>(end_bare - jid)));
  JidParts p;
  const char* dom = jid;
  if (at != nullptr) {
    p.local = jid;
    p.local_len = static_cast<size_t>(at - jid);
    dom = at + 1;
  }
  p.domain = dom;
  p.domain_len = static_cast<size_t>(end_bare - dom);
  // RFC 7622 §3.2: a trailing dot on the domain is ignored for comparison.
  if (p.domain_len > 1 && dom[p.domain_len - 1] == '.') --p.domain_len;
  if (slash != nullptr) {
    p.resource = slash + 1;
    p.resource_len = std::strlen(slash + 1);
  }
  *out = p;
  return nullptr;
}

}  // namespace

bool equal_ci(const char* a, size_t a_len, const char* b, size_t b_len) {
  if (a_len != b_len) return false;
  for (size_t i = 0; i < a_len; ++i) {
    char x = a[i];
    char y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

hal::Result<JidParts> split_jid(const char* jid) {
  JidParts p;
  if (split_raw(jid, &p) != nullptr) return hal::Err::InvalidArgument;
  if (p.local != nullptr && check_local(p.local, p.local_len) != nullptr) return hal::Err::InvalidArgument;
  if (check_domain(p.domain, p.domain_len) != nullptr) return hal::Err::InvalidArgument;
  if (p.resource != nullptr) {
    if (p.resource_len == 0 || p.resource_len > kJidPartMax) return hal::Err::InvalidArgument;
    for (size_t i = 0; i < p.resource_len; ++i) {
      const auto c = static_cast<unsigned char>(p.resource[i]);
      if (c < 0x20 || c == 0x7F) return hal::Err::InvalidArgument;
    }
  }
  return p;
}

const char* bare_jid_problem(const char* jid) {
  JidParts p;
  if (const char* why = split_raw(jid, &p)) return why;
  if (p.resource != nullptr) return "has a resource";
  if (p.local == nullptr) return "no '@'";
  if (const char* why = check_local(p.local, p.local_len)) return why;
  return check_domain(p.domain, p.domain_len);
}

const char* domain_problem(const char* domain) {
  if (domain == nullptr || *domain == '\0') return "empty";
  const size_t n = std::strlen(domain);
  return check_domain(domain, n);
}

}  // namespace agent

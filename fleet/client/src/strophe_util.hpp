// Internal: small RAII and conversion helpers over libstrophe stanzas.
// Only the fleet client's .cpp files include this (and so <strophe.h>).
#pragma once

#include <strophe.h>

#include <string>

#include "fleet/xml.hpp"

namespace fleet::detail {

/// Owns one stanza reference.
class Stanza {
 public:
  explicit Stanza(xmpp_stanza_t* s = nullptr) : s_(s) {}
  ~Stanza() {
    if (s_ != nullptr) xmpp_stanza_release(s_);
  }
  Stanza(const Stanza&) = delete;
  Stanza& operator=(const Stanza&) = delete;
  xmpp_stanza_t* get() const { return s_; }

 private:
  xmpp_stanza_t* s_;
};

/// A new element `<name xmlns='ns'/>` (ns may be null). Caller owns it.
xmpp_stanza_t* new_element(xmpp_ctx_t* ctx, const char* name, const char* ns = nullptr);
/// Adds `child` to `parent` and drops the caller's reference to it.
void adopt_child(xmpp_stanza_t* parent, xmpp_stanza_t* child);
/// Adds a text node.
void add_text(xmpp_stanza_t* parent, const std::string& text);

/// Attribute or "" when absent.
std::string attr_or_empty(xmpp_stanza_t* s, const char* name);

/// A new libstrophe element tree from an owned one (xmlns set where it
/// differs from `parent_ns`; text before the children). Caller owns it.
xmpp_stanza_t* from_xml(xmpp_ctx_t* ctx, const XmlElement& e, const std::string& parent_ns = "");

/// Deep copy of a libstrophe element into an owned tree. Children without an
/// own namespace inherit `parent_ns`.
XmlElement to_xml(xmpp_stanza_t* s, const std::string& parent_ns = "");

}  // namespace fleet::detail

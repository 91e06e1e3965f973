#include "fleet/xml.hpp"

#include <memory>

#include "agent/xml_text.hpp"
#include "fleet/error.hpp"
#include "strophe_util.hpp"

namespace fleet {

const std::string* XmlElement::attr(const std::string& key) const {
  for (const auto& kv : attrs) {
    if (kv.first == key) return &kv.second;
  }
  return nullptr;
}

const XmlElement* XmlElement::child(const std::string& name_, const std::string& ns_) const {
  for (const auto& c : children) {
    if (c.name == name_ && (ns_.empty() || c.ns == ns_)) return &c;
  }
  return nullptr;
}

std::string XmlElement::child_text(const std::string& name_, const std::string& ns_) const {
  const XmlElement* c = child(name_, ns_);
  return c != nullptr ? c->text : std::string();
}

XmlElement& XmlElement::set(const std::string& key, const std::string& value) {
  for (auto& kv : attrs) {
    if (kv.first == key) {
      kv.second = value;
      return *this;
    }
  }
  attrs.emplace_back(key, value);
  return *this;
}

XmlElement& XmlElement::add(const std::string& name_, const std::string& ns_) {
  children.emplace_back();
  XmlElement& c = children.back();
  c.name = name_;
  c.ns = ns_.empty() ? ns : ns_;
  return c;
}

XmlElement make_element(const std::string& name, const std::string& ns) {
  XmlElement e;
  e.name = name;
  e.ns = ns;
  return e;
}

namespace {

// The agent's escaper: also control characters and invalid UTF-8 come out
// as well-formed XML.
void escape_into(std::string* out, const std::string& s) { agent::xml_escape_append(*out, s.c_str(), s.size()); }

void serialise(std::string* out, const XmlElement& e, const std::string& parent_ns) {
  *out += '<';
  *out += e.name;
  if (e.ns != parent_ns) {
    *out += " xmlns='";
    escape_into(out, e.ns);
    *out += '\'';
  }
  for (const auto& kv : e.attrs) {
    *out += ' ';
    *out += kv.first;
    *out += "='";
    escape_into(out, kv.second);
    *out += '\'';
  }
  if (e.children.empty() && e.text.empty()) {
    *out += "/>";
    return;
  }
  *out += '>';
  escape_into(out, e.text);
  for (const auto& c : e.children) serialise(out, c, e.ns);
  *out += "</";
  *out += e.name;
  *out += '>';
}

}  // namespace

std::string to_string(const XmlElement& e) {
  std::string out;
  serialise(&out, e, "");
  return out;
}

XmlElement parse_xml(const std::string& text) {
  std::unique_ptr<xmpp_ctx_t, decltype(&xmpp_ctx_free)> ctx(xmpp_ctx_new(nullptr, nullptr),
                                                            &xmpp_ctx_free);
  if (!ctx) throw Error(Exit::Usage, "out of memory");
  detail::Stanza s(xmpp_stanza_new_from_string(ctx.get(), text.c_str()));
  if (s.get() == nullptr || !xmpp_stanza_is_tag(s.get())) {
    throw Error(Exit::Usage, "not a well-formed XML element: " + text.substr(0, 80));
  }
  return detail::to_xml(s.get());
}

namespace detail {

xmpp_stanza_t* new_element(xmpp_ctx_t* ctx, const char* name, const char* ns) {
  xmpp_stanza_t* s = xmpp_stanza_new(ctx);
  xmpp_stanza_set_name(s, name);
  if (ns != nullptr) xmpp_stanza_set_ns(s, ns);
  return s;
}

void adopt_child(xmpp_stanza_t* parent, xmpp_stanza_t* child) {
  xmpp_stanza_add_child(parent, child);
  xmpp_stanza_release(child);  // add_child took its own reference
}

void add_text(xmpp_stanza_t* parent, const std::string& text) {
  xmpp_stanza_t* t = xmpp_stanza_new(xmpp_stanza_get_context(parent));
  xmpp_stanza_set_text(t, text.c_str());
  adopt_child(parent, t);
}

std::string attr_or_empty(xmpp_stanza_t* s, const char* name) {
  const char* v = xmpp_stanza_get_attribute(s, name);
  return v != nullptr ? v : "";
}

xmpp_stanza_t* from_xml(xmpp_ctx_t* ctx, const XmlElement& e, const std::string& parent_ns) {
  xmpp_stanza_t* s = new_element(ctx, e.name.c_str(), e.ns != parent_ns ? e.ns.c_str() : nullptr);
  for (const auto& kv : e.attrs) xmpp_stanza_set_attribute(s, kv.first.c_str(), kv.second.c_str());
  if (!e.text.empty()) add_text(s, e.text);
  for (const auto& c : e.children) adopt_child(s, from_xml(ctx, c, e.ns));
  return s;
}

XmlElement to_xml(xmpp_stanza_t* s, const std::string& parent_ns) {
  XmlElement e;
  const char* name = xmpp_stanza_get_name(s);
  e.name = name != nullptr ? name : "";
  const char* ns = xmpp_stanza_get_ns(s);
  e.ns = ns != nullptr ? ns : parent_ns;
  const int count = xmpp_stanza_get_attribute_count(s);
  if (count > 0) {
    std::unique_ptr<const char*[]> kv(new const char*[static_cast<size_t>(count) * 2]);
    const int n = xmpp_stanza_get_attributes(s, kv.get(), count * 2);
    for (int i = 0; i + 1 < n; i += 2) {
      const std::string key = kv[i];
      if (key == "xmlns" || key.rfind("xmlns:", 0) == 0) continue;
      e.attrs.emplace_back(key, kv[i + 1] != nullptr ? kv[i + 1] : "");
    }
  }
  for (xmpp_stanza_t* c = xmpp_stanza_get_children(s); c != nullptr; c = xmpp_stanza_get_next(c)) {
    if (xmpp_stanza_is_text(c)) {
      const char* t = xmpp_stanza_get_text_ptr(c);
      if (t != nullptr) e.text += t;
    } else if (xmpp_stanza_is_tag(c)) {
      e.children.push_back(to_xml(c, e.ns));
    }
  }
  return e;
}

}  // namespace detail
}  // namespace fleet

// A small owned XML tree: what the client hands out instead of libstrophe
// stanzas, so consumers (and their tests) never include <strophe.h>.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace fleet {

struct XmlElement {
  std::string name;  ///< local name ("senml")
  std::string ns;    ///< namespace in force, inherited from the parent if not declared
  std::vector<std::pair<std::string, std::string>> attrs;  ///< in document order, no xmlns
  std::vector<XmlElement> children;                        ///< element children only
  std::string text;  ///< concatenated character data of this element

  /// The attribute's value, or nullptr when absent. The pointer lives as long as the element.
  const std::string* attr(const std::string& key) const;
  /// First child element with this name (and namespace, if `ns_` is not empty), or nullptr.
  const XmlElement* child(const std::string& name_, const std::string& ns_ = "") const;
  /// The text of the first child with this name, or "" when there is none.
  std::string child_text(const std::string& name_, const std::string& ns_ = "") const;

  // --- building (requests) ---
  /// Sets (or replaces) an attribute; returns *this.
  XmlElement& set(const std::string& key, const std::string& value);
  /// Appends a child `<name_/>` in namespace `ns_` ("" = this element's) and
  /// returns it. The reference is valid until the next child is added.
  XmlElement& add(const std::string& name_, const std::string& ns_ = "");
};

/// `<name xmlns='ns'/>`: the root of a request payload.
XmlElement make_element(const std::string& name, const std::string& ns);

/// Serialises the tree (xmlns written where it differs from the parent's,
/// text and attributes escaped, no whitespace added). For logs and tests.
std::string to_string(const XmlElement& e);

/// Parses one XML element from text (via libstrophe's parser).
/// Throws fleet::Error(Exit::Usage) with the reason when the text is not one
/// well-formed element. Meant for tests and tools; the client itself converts
/// received stanzas directly.
XmlElement parse_xml(const std::string& text);

}  // namespace fleet

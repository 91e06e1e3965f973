// Desired-state items out of libstrophe stanzas (agent/xmpp/stanza_desired.hpp).
#include "agent/xmpp/stanza_desired.hpp"

#include <strophe.h>

#include <cstring>

#include "agent/xmpp/stanza_form.hpp"

namespace agent {

namespace {

bool copy_attr(char* dst, size_t cap, const char* src) {
  if (src == nullptr) {
    dst[0] = '\0';
    return true;
  }
  const size_t n = std::strlen(src);
  if (n >= cap) return false;
  std::memcpy(dst, src, n + 1);
  return true;
}

}  // namespace

void desired_from_item(xmpp_stanza_t* item, DesiredItem* out) {
  out->reset();
  if (item == nullptr) {
    out->fail("no item");
    return;
  }
  if (!copy_attr(out->item_id, sizeof out->item_id, xmpp_stanza_get_attribute(item, "id"))) {
    out->fail("item id longer than %zu bytes", sizeof out->item_id - 1);
  }
  if (!copy_attr(out->publisher, sizeof out->publisher, xmpp_stanza_get_attribute(item, "publisher"))) {
    out->publisher[0] = '\0';
    out->fail("publisher longer than %zu bytes", sizeof out->publisher - 1);
  }
  // Prosody stamps the bare JID, ejabberd the publisher's full JID: the ACL
  // and the report need the bare one.
  if (char* slash = std::strchr(out->publisher, '/')) *slash = '\0';
  xmpp_stanza_t* desired = find_child(item, "desired", kDesiredXmlns);
  if (desired == nullptr) {
    out->fail("no <desired xmlns='%s'/> in the item", kDesiredXmlns);
    return;
  }
  if (!copy_attr(out->version, sizeof out->version, xmpp_stanza_get_attribute(desired, "version"))) {
    out->version[0] = '\0';
    out->fail("version longer than %zu bytes", sizeof out->version - 1);
  }
  size_t index = 0;
  for (xmpp_stanza_t* c = xmpp_stanza_get_children(desired); c != nullptr && out->error[0] == '\0';
       c = xmpp_stanza_get_next(c)) {
    if (!xmpp_stanza_is_tag(c)) continue;
    const char* name = xmpp_stanza_get_name(c);
    if (name == nullptr || std::strcmp(name, "value") != 0) continue;
    ++index;
    const char* n = xmpp_stanza_get_attribute(c, "n");
    const char* v = xmpp_stanza_get_attribute(c, "v");
    const char* vb = xmpp_stanza_get_attribute(c, "vb");
    const char* vs = xmpp_stanza_get_attribute(c, "vs");
    const int given = (v != nullptr) + (vb != nullptr) + (vs != nullptr);
    if (n == nullptr || n[0] == '\0') {
      out->fail("value %zu: n required", index);
    } else if (given != 1) {
      out->fail("value %zu (%.64s): exactly one of v, vb, vs required", index, n);
    } else if (v != nullptr) {
      (void)out->add(n, DesiredType::Numeric, v);
    } else if (vb != nullptr) {
      (void)out->add(n, DesiredType::Boolean, vb);
    } else {
      (void)out->add(n, DesiredType::String, vs);
    }
  }
}

}  // namespace agent

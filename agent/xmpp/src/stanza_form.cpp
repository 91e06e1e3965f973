// See agent/xmpp/stanza_form.hpp.
#include "agent/xmpp/stanza_form.hpp"

#include <strophe.h>

#include <cstring>

namespace agent {
namespace {

bool name_is(xmpp_stanza_t* el, const char* name) {
  const char* n = xmpp_stanza_get_name(el);
  return n != nullptr && std::strcmp(n, name) == 0;
}

// One text value read into a buffer one byte longer than the Form accepts, so
// an over-long value reaches Form::add_value() still over-long and the form
// latches its own, precise error ("value of field 'x' longer than 256 bytes").
struct TextBuf {
  char text[kFormTextMax + 2];
  size_t len;
  explicit TextBuf(xmpp_stanza_t* el) {
    const size_t full = element_text(el, text, sizeof text);
    len = full < sizeof text ? full : sizeof text - 1;
  }
};

void read_field(xmpp_stanza_t* f, Form* form) {
  FieldType type = FieldType::TextSingle;
  const char* type_attr = xmpp_stanza_get_attribute(f, "type");
  if (!parse_field_type(type_attr, &type)) {
    form->mark_malformed("unknown field type");
    return;
  }
  if (type_attr == nullptr && form->type() == FormType::Submit) {
    // XEP-0004 §3.2: a submitted field need not repeat its type; one with
    // several values answers a multi field of the form (alerts' rules).
    size_t values = 0;
    for (xmpp_stanza_t* c = xmpp_stanza_get_children(f); c != nullptr; c = xmpp_stanza_get_next(c)) {
      if (xmpp_stanza_is_tag(c) && name_is(c, "value")) ++values;
    }
    if (values > 1) type = FieldType::TextMulti;
  }
  if (!form->add_field(type, xmpp_stanza_get_attribute(f, "var"), xmpp_stanza_get_attribute(f, "label"))
           .ok()) {
    return;  // latched by the form
  }
  for (xmpp_stanza_t* c = xmpp_stanza_get_children(f); c != nullptr; c = xmpp_stanza_get_next(c)) {
    if (!xmpp_stanza_is_tag(c)) continue;
    if (name_is(c, "value")) {
      const TextBuf v(c);
      (void)form->add_value(v.text, v.len);
    } else if (name_is(c, "required")) {
      (void)form->set_required(true);
    } else if (name_is(c, "desc")) {
      const TextBuf d(c);
      (void)form->set_desc(d.text);
    } else if (name_is(c, "option")) {
      const TextBuf v(find_child(c, "value", nullptr));
      (void)form->add_option(xmpp_stanza_get_attribute(c, "label"), v.text);
    }
    if (form->build_error() != hal::Err::Ok) return;
  }
}

}  // namespace

xmpp_stanza_t* find_child(xmpp_stanza_t* parent, const char* name, const char* ns) {
  if (parent == nullptr) return nullptr;
  for (xmpp_stanza_t* c = xmpp_stanza_get_children(parent); c != nullptr; c = xmpp_stanza_get_next(c)) {
    if (!xmpp_stanza_is_tag(c)) continue;
    if (name != nullptr && !name_is(c, name)) continue;
    if (ns != nullptr) {
      const char* cns = xmpp_stanza_get_ns(c);
      if (cns == nullptr || std::strcmp(cns, ns) != 0) continue;
    }
    return c;
  }
  return nullptr;
}

size_t element_text(xmpp_stanza_t* el, char* buf, size_t cap) {
  size_t total = 0;
  if (cap != 0) buf[0] = '\0';
  if (el == nullptr) return 0;
  for (xmpp_stanza_t* c = xmpp_stanza_get_children(el); c != nullptr; c = xmpp_stanza_get_next(c)) {
    if (!xmpp_stanza_is_text(c)) continue;
    const char* t = xmpp_stanza_get_text_ptr(c);
    if (t == nullptr) continue;
    const size_t n = std::strlen(t);
    if (cap != 0 && total < cap - 1) {
      const size_t room = cap - 1 - total;
      const size_t take = n < room ? n : room;
      std::memcpy(buf + total, t, take);
      buf[total + take] = '\0';
    }
    total += n;
  }
  return total;
}

void form_from_stanza(xmpp_stanza_t* x, Form* form) {
  FormType type = FormType::Submit;
  const char* type_attr = xmpp_stanza_get_attribute(x, "type");
  if (!parse_form_type(type_attr, &type)) {
    form->reset(FormType::Submit);
    form->mark_malformed(type_attr == nullptr ? "form without a type" : "unknown form type");
    return;
  }
  form->reset(type);
  for (xmpp_stanza_t* c = xmpp_stanza_get_children(x); c != nullptr; c = xmpp_stanza_get_next(c)) {
    if (!xmpp_stanza_is_tag(c)) continue;
    if (name_is(c, "field")) {
      read_field(c, form);
    } else if (name_is(c, "title")) {
      const TextBuf t(c);
      (void)form->set_title(t.text);
    } else if (name_is(c, "instructions")) {
      const TextBuf t(c);
      (void)form->set_instructions(t.text);
    }
    if (form->build_error() != hal::Err::Ok) return;
  }
}

}  // namespace agent

// Reading XEP-0004 forms and element text out of libstrophe stanzas, into the
// agent's fixed-capacity structures (agent/forms.hpp). Separate from the
// session so the unit tests and the fuzz targets can drive it with stanzas
// parsed from text, with no connection.
//
// Nothing here allocates: text is read in place (xmpp_stanza_get_text_ptr)
// and copied into caller buffers; a Form never grows past its capacity.
#pragma once

#include <cstddef>

#include "agent/forms.hpp"

struct _xmpp_stanza_t;

namespace agent {

/// The first child *element* of `parent` named `name` (nullptr = any name)
/// whose namespace is `ns` (nullptr = any), or nullptr.
_xmpp_stanza_t* find_child(_xmpp_stanza_t* parent, const char* name, const char* ns);

/// Concatenates the text children of `el` into `buf` (NUL-terminated),
/// copying at most cap-1 bytes. Returns the full text length, which is
/// >= cap when the text was cut, so a caller can tell "too long". An empty
/// element (or nullptr) gives 0 and "".
size_t element_text(_xmpp_stanza_t* el, char* buf, size_t cap);

/// Builds `form` from an `<x xmlns='jabber:x:data'/>` element (XEP-0004):
/// the type attribute, <title/>, <instructions/>, and every <field/> with its
/// var, type, label, <desc/>, <required/>, <value/>s and <option/>s.
/// Unknown child elements are ignored (extensibility). Structural problems
/// (a missing or unknown form type, an unknown field type) are latched with
/// Form::mark_malformed(); limits (too many fields or values, texts over
/// kFormTextMax) are latched by the Form itself. Either way the caller checks
/// form->build_error() once at the end (the command router does).
void form_from_stanza(_xmpp_stanza_t* x, Form* form);

}  // namespace agent

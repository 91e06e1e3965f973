// Reading a desired-state item (docs/desired-state.md) out of a libstrophe
// stanza into the agent's fixed-capacity DesiredItem (agent/desired.hpp).
// Separate from the session so the unit tests drive it with stanzas parsed
// from text, with no connection. Nothing here allocates.
#pragma once

#include "agent/desired.hpp"

struct _xmpp_stanza_t;

namespace agent {

/// Fills `out` from a PubSub `<item id='current' publisher='ops@localhost'>`
/// element (XEP-0060 §7.1.2.1, the publisher attribute as the server stamps
/// it: kept as a bare JID, the resource ejabberd adds is dropped) holding `<desired xmlns='urn:xiot:desired:0' version='…'>` with
/// `<value n='…' v|vb|vs='…'/>` children. `out` is reset first. Structural
/// problems and limits are latched in out->error (the item is then refused
/// as a whole): no `<desired/>` payload, a `<value/>` without `n` or without
/// exactly one of v/vb/vs, more than kDesiredValuesMax values, texts over
/// their capacity. Other child elements are ignored (extensibility).
void desired_from_item(_xmpp_stanza_t* item, DesiredItem* out);

}  // namespace agent

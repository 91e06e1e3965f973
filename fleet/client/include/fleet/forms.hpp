// XEP-0004 data forms on the operator side: read the form a device sends,
// fill it from `field=value` arguments (checked against each field's type and
// options, and XEP-0122 validation where the form carries it), and write the
// submit form back. No libstrophe here: forms are XmlElement trees.
#pragma once

#include <string>
#include <vector>

#include "fleet/xml.hpp"

namespace fleet {

constexpr const char* kDataFormsNs = "jabber:x:data";
constexpr const char* kXdataValidateNs = "http://jabber.org/protocol/xdata-validate";

struct FormOption {
  std::string label;  ///< "" when the option has none
  std::string value;
};

struct FormField {
  std::string var;    ///< "" only for fixed fields
  std::string type;   ///< XEP-0004 §3.3 type; "text-single" when the form gives none
  std::string label;  ///< "" if none
  std::string desc;   ///< "" if none
  bool required = false;
  std::vector<std::string> values;  ///< as received (prefilled defaults in a form)
  std::vector<FormOption> options;  ///< list-single / list-multi
  /// XEP-0122: `datatype` ("xs:integer", …; "" = none) and `<range min max/>`
  /// ("" = unbounded). Other validation methods (regex, list-range) are not
  /// checked here; the device still validates.
  std::string datatype;
  std::string range_min;
  std::string range_max;

  /// Whether several values are allowed (list-multi, text-multi, jid-multi).
  bool multi() const;
  /// The label if there is one, else the var.
  const std::string& title() const { return label.empty() ? var : label; }
};

struct DataForm {
  std::string type;  ///< form | submit | cancel | result
  std::string title;
  std::vector<std::string> instructions;
  std::vector<FormField> fields;

  /// The field with this var, or nullptr.
  const FormField* find(const std::string& var) const;
};

/// Reads `<x xmlns='jabber:x:data'/>`. A field without a type is text-single
/// (XEP-0004 §3.3). `<reported/>`/`<item/>` tables are not supported and are
/// skipped. Throws fleet::Error(Exit::DeviceError) when `x` is not a data form.
DataForm parse_form(const XmlElement& x);

/// Writes a form as `<x xmlns='jabber:x:data' type=…>`. For a submit form
/// only var, type and values are written (XEP-0004 §3.2).
XmlElement form_to_xml(const DataForm& form);

/// One `var=value` command-line argument.
struct FieldArg {
  std::string var;
  std::string value;
};

/// Splits "var=value" arguments ("value" may be empty and may contain '=').
/// Throws fleet::Error(Exit::Usage) for an argument without '=' or with an
/// empty var.
std::vector<FieldArg> parse_field_args(const std::vector<std::string>& args);

/// Turns a received form (type form) into the submit form, taking a value
/// for each of its fields from `args` (several args with the same var for the
/// multi-valued types), else the field's prefilled value(s). Hidden fields
/// keep their value (XEP-0004 §3.3); fixed fields are not submitted; a field
/// without any value is left out.
///
/// Values are checked against the field type: boolean accepts
/// 1/0/true/false/yes/no/on/off in any case and is sent as "true"/"false";
/// list-single/list-multi must be one of the options' values; jid-* must look
/// like a JID; single-valued fields take one value; XEP-0122 xs:integer,
/// xs:int, xs:long, xs:short, xs:byte, xs:decimal, xs:double, xs:boolean with
/// an optional range are checked too.
///
/// Arguments naming a var this form does not have are moved to `*unused`
/// (a later stage may have it); `unused` may be null, then they are errors.
/// Throws fleet::Error(Exit::Usage) with a message naming the field and the
/// problem, e.g. "value: 'maybe' is not a boolean (use true/false, 1/0,
/// yes/no or on/off)", "channel: 'x' is not one of: relay0.state", or for
/// required fields left without a value "missing required field 'channel'",
/// followed in every case by describe_fields(form).
DataForm fill_form(const DataForm& form, const std::vector<FieldArg>& args, std::vector<FieldArg>* unused);

/// The form's fields after a heading line, one per line, for error
/// messages (no trailing newline):
///   fields of the form 'Set an actuator':
///     channel  "Channel", list-single, required, one of: relay0.state (relay0.state (boolean))
///     value    "Value", text-single
/// with ", default X" for prefilled values and XEP-0122 datatypes/ranges
/// (fixed and hidden fields are not listed).
std::string describe_fields(const DataForm& form);

/// XEP-0004 boolean text ("1"/"true"/"0"/"false") → true/false; anything
/// else → false with *ok false (ok may be null).
bool form_boolean(const std::string& text, bool* ok = nullptr);

}  // namespace fleet

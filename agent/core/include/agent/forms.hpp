// XEP-0004 data forms: a fixed-capacity form model, value parsing helpers and
// serialisation to `<x xmlns='jabber:x:data'/>` text.
//
// A Form owns all of its text in one internal arena and all of its fields,
// values and options in fixed tables, so a hostile or giant form cannot grow
// memory: the first add that does not fit fails with an explicit error, which
// is also *latched* (build_error(), build_error_text()) so a caller that
// walks a whole stanza can check once at the end. After the first error every
// further add/set call fails with that same error (so a value can never land
// on the wrong field after a failed add_field()). Nothing is ever truncated
// silently. Nothing here allocates or uses floating point.
//
// The XMPP session builds a Form from an incoming `<x/>` element by walking
// the stanza: reset(), set_type(), set_title()/set_instructions(), and per
// `<field/>` one add_field() followed by its add_value()/add_option() calls.
// Values and options can only be added to the most recently added field
// (the order in which a stanza is walked anyway).
//
// Lifetimes: every `const char*` and `const FormField&` obtained from a Form
// points into that Form and stays valid until its next reset() (or its
// destruction). A Form is neither copyable nor movable for that reason.
#pragma once

#include <cstddef>
#include <cstdint>

#include "drv/value.hpp"
#include "hal/status.hpp"

namespace agent {

/// XEP-0004 namespace.
constexpr const char* kDataFormsXmlns = "jabber:x:data";

// --- capacities (per Form) ---
constexpr size_t kFormMaxFields = 32;      ///< fields per form
constexpr size_t kFormMaxValues = 48;      ///< values across all fields
constexpr size_t kFieldMaxValues = 8;      ///< values of one field (the *-multi types)
constexpr size_t kFormMaxOptions = 48;     ///< options across all fields
constexpr size_t kFieldMaxOptions = 16;    ///< options of one list field
constexpr size_t kFormVarMax = 64;         ///< bytes of a field's var
constexpr size_t kFormTextMax = 256;       ///< bytes of a value, label, desc, title or instructions
constexpr size_t kFormArenaBytes = 4096;   ///< all text of a form together, NULs included

/// XEP-0004 §3.1 form types.
enum class FormType : uint8_t { Form, Submit, Cancel, Result };

/// XEP-0004 §3.3 field types.
enum class FieldType : uint8_t {
  Boolean,
  Fixed,
  Hidden,
  JidMulti,
  JidSingle,
  ListMulti,
  ListSingle,
  TextMulti,
  TextPrivate,
  TextSingle,
};

/// "form" | "submit" | "cancel" | "result".
const char* form_type_name(FormType t);
/// Parses a form type attribute (exact, lower case). Returns false for
/// anything else (nullptr included) and leaves *out unchanged then.
bool parse_form_type(const char* text, FormType* out);

/// "boolean" | "fixed" | "hidden" | "jid-multi" | ... | "text-single".
const char* field_type_name(FieldType t);
/// Parses a field type attribute. A missing attribute (nullptr or "") is
/// TextSingle, as XEP-0004 §3.3 prescribes. Returns false for an unknown
/// type and leaves *out unchanged then.
bool parse_field_type(const char* text, FieldType* out);
/// True for the types that may carry more than one <value/>:
/// jid-multi, list-multi, text-multi (and fixed, for multi-line text).
bool field_type_is_multi(FieldType t);

/// One <option/> of a list field. Both strings are never null ("" if absent).
struct FormOption {
  const char* label;
  const char* value;
};

/// One <field/>. Read-only view; built through Form::add_field() & co.
class FormField {
 public:
  FieldType type() const { return type_; }
  /// The var attribute; "" only for a fixed field without one.
  const char* var() const { return var_; }
  /// "" when there is none.
  const char* label() const { return label_; }
  /// The <desc/> text; "" when there is none.
  const char* desc() const { return desc_; }
  bool required() const { return required_; }
  size_t value_count() const { return value_count_; }
  /// Precondition: i < value_count().
  const char* value(size_t i) const;
  /// The first value, or nullptr when the field has none.
  const char* first_value() const { return value_count_ != 0 ? value(0) : nullptr; }
  size_t option_count() const { return option_count_; }
  /// Precondition: i < option_count().
  const FormOption& option(size_t i) const;

 private:
  friend class Form;
  const char* var_ = "";
  const char* label_ = "";
  const char* desc_ = "";
  const char* const* values_ = nullptr;  // into the form's value table
  const FormOption* options_ = nullptr;  // into the form's option table
  uint8_t value_count_ = 0;
  uint8_t option_count_ = 0;
  FieldType type_ = FieldType::TextSingle;
  bool required_ = false;
};

/// A data form with fixed capacity (see the k* constants above).
class Form {
 public:
  Form() = default;
  Form(const Form&) = delete;
  Form& operator=(const Form&) = delete;

  /// Empties the form and sets its type. Invalidates every pointer obtained
  /// from it. O(1): the tables are not cleared.
  void reset(FormType type = FormType::Form);

  FormType type() const { return type_; }
  void set_type(FormType t) { type_ = t; }

  /// Sets the <title/> (replacing an earlier one; its text stays in the arena).
  /// Errors: Overflow (longer than kFormTextMax), NoSpace (arena full).
  hal::Err set_title(const char* text);
  /// Sets the <instructions/> text. Errors: as set_title().
  hal::Err set_instructions(const char* text);
  const char* title() const { return title_; }
  const char* instructions() const { return instructions_; }

  /// Appends a field and returns its index. `var` may be null or "" only for
  /// a Fixed field; `label` may be null (none).
  /// Errors: NoSpace (kFormMaxFields fields already, or the arena is full),
  /// Overflow (var longer than kFormVarMax, label longer than kFormTextMax),
  /// InvalidArgument (missing var, or a var that an earlier field already
  /// has: XEP-0004 §3.2 requires vars to be unique within a form).
  hal::Result<size_t> add_field(FieldType type, const char* var, const char* label = nullptr,
                                bool required = false);
  /// Sets the <desc/> of the last field. Errors: InvalidArgument (no field),
  /// Overflow, NoSpace.
  hal::Err set_desc(const char* text);
  /// Marks the last field <required/>. Errors: InvalidArgument (no field).
  hal::Err set_required(bool required = true);
  /// Appends a <value/> to the last field (`len` bytes of `text`, or up to
  /// its NUL). Embedded NULs are not allowed.
  /// Errors: InvalidArgument (no field yet, null text, a second value for a
  /// single-valued field type, an embedded NUL), NoSpace (kFieldMaxValues or
  /// kFormMaxValues reached, arena full), Overflow (longer than kFormTextMax).
  hal::Err add_value(const char* text);
  hal::Err add_value(const char* text, size_t len);
  /// Appends an <option/> to the last field (list-single or list-multi).
  /// `label` may be null (none). Errors: InvalidArgument (no field, not a
  /// list field, null value), NoSpace (kFieldMaxOptions or kFormMaxOptions
  /// reached, arena full), Overflow (label or value longer than kFormTextMax).
  hal::Err add_option(const char* label, const char* value);

  /// Latches a structural problem found by the caller while walking a stanza
  /// (e.g. "field without var", "unknown field type 'x'"). `reason` must be a
  /// string that outlives the form (a literal). Only the first problem is
  /// kept. Sets build_error() to InvalidArgument.
  void mark_malformed(const char* reason);

  /// The first error any add/set call (or mark_malformed) returned since
  /// reset(); Ok if none. Once set, the form is incomplete and must not be
  /// acted on.
  hal::Err build_error() const { return build_error_; }
  /// One line describing build_error() ("more than 32 fields", "value of
  /// field 'x' longer than 256 bytes"); "" when Ok. Lives as long as the form
  /// is not reset.
  const char* build_error_text() const { return build_error_text_; }

  size_t field_count() const { return field_count_; }
  /// Precondition: i < field_count().
  const FormField& field(size_t i) const { return fields_[i]; }
  /// The field whose var is `var` (exact match), or nullptr.
  const FormField* find(const char* var) const;
  /// The first value of field `var`, or nullptr (no such field, or no value).
  const char* value_of(const char* var) const;

  /// Bytes of the arena in use (tests, sizing).
  size_t arena_used() const { return arena_used_; }

 private:
  /// Copies `len` bytes + NUL into the arena. Returns nullptr (and latches,
  /// naming `what` and the field `var`) when it is too long, holds a NUL or
  /// does not fit.
  const char* store(const char* text, size_t len, size_t max, const char* what, const char* var,
                    hal::Err* err);
  /// Records the first error and its text; returns the latched error.
  hal::Err latch(hal::Err e, const char* fmt, ...) __attribute__((format(printf, 3, 4)));

  FormType type_ = FormType::Form;
  const char* title_ = "";
  const char* instructions_ = "";
  FormField fields_[kFormMaxFields];
  size_t field_count_ = 0;
  const char* values_[kFormMaxValues] = {};
  size_t value_count_ = 0;
  FormOption options_[kFormMaxOptions] = {};
  size_t option_count_ = 0;
  char arena_[kFormArenaBytes];
  size_t arena_used_ = 0;
  hal::Err build_error_ = hal::Err::Ok;
  char build_error_text_[96] = {};
};

// --- value helpers ---

/// XEP-0004 §3.3 boolean: "1" or "true" -> true, "0" or "false" -> false
/// (exact, as xs:boolean is case-sensitive). Errors: InvalidArgument.
hal::Result<bool> parse_form_bool(const char* text);

/// A more forgiving boolean for values typed by people (the `set` command's
/// value field and chat): the XEP-0004 words plus "on"/"off" and "yes"/"no",
/// ASCII case-insensitive. Errors: InvalidArgument.
hal::Result<bool> parse_loose_bool(const char* text);

/// Parses a decimal number into an exact drv::Value (Numeric), never through
/// floating point. Grammar (xs:decimal plus an optional exponent):
///   [+-]? ( digits [ '.' digits* ] | '.' digits ) ( [eE] [+-]? digits )?
/// "21.5" -> (215, -1), "-3" -> (-3, 0), "1e3" -> (1, 3), "2.50" -> (250, -2),
/// ".5" -> (5, -1), "1." -> (1, 0). The number of fraction digits given is
/// kept (precision is information). Surrounding ASCII spaces and tabs are
/// ignored. "inf", "nan", hex, "1,5", "", "." and "1e" are not numbers.
/// Errors: InvalidArgument (not a number), Overflow (more significant digits
/// than an int64 mantissa holds, or a resulting exponent outside -128..127).
hal::Result<drv::Value> parse_decimal(const char* text);

/// Converts an exact decimal to an integer of `scale` decimal places
/// (value * 10^scale), e.g. (215, -1) at scale 3 -> 21500. Used to turn
/// "0.05" seconds into 50 ms without floating point.
/// Errors: InvalidArgument (not Numeric, or more precision than `scale`
/// holds, e.g. "0.0005" s at scale 3), Overflow (does not fit int64).
hal::Result<int64_t> decimal_to_scaled(const drv::Value& v, int scale);

/// True when `value` is the value of one of the field's options (XEP-0004
/// list-single/list-multi membership). False for a null value.
bool list_allows(const FormField& field, const char* value);

// --- serialisation ---

/// Writes the form as `<x xmlns='jabber:x:data' type='...'>` with <title/>,
/// <instructions/> and one <field/> per field (attributes var, type, label;
/// children <desc/>, <required/>, <value/>..., <option label=...><value/>
/// </option>...), in XEP-0004 order, no whitespace between elements. Every
/// attribute value and text is XML-escaped (agent/xml_text.hpp), so the
/// output is always well-formed and can be parsed with
/// xmpp_stanza_new_from_string(). Empty title/instructions/label/desc are
/// omitted. Returns the length (the text is NUL-terminated).
/// Errors: Overflow (cap too small; buf holds a NUL-terminated prefix; see
/// form_xml_len()).
hal::Result<size_t> format_form_xml(char* buf, size_t cap, const Form& form);

/// The exact length format_form_xml() produces for `form` (without the NUL).
size_t form_xml_len(const Form& form);

}  // namespace agent

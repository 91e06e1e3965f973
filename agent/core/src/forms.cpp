#include "agent/forms.hpp"

#include <cstdarg>
#include <cstdio>
#include <cstring>

#include "agent/xml_text.hpp"
#include "text_writer.hpp"

namespace agent {

namespace {

const char* nz(const char* s) { return s != nullptr ? s : ""; }

struct FieldTypeName {
  FieldType type;
  const char* name;
};

// XEP-0004 §3.3, in the order of the enum.
constexpr FieldTypeName kFieldTypes[] = {
    {FieldType::Boolean, "boolean"},       {FieldType::Fixed, "fixed"},
    {FieldType::Hidden, "hidden"},         {FieldType::JidMulti, "jid-multi"},
    {FieldType::JidSingle, "jid-single"},  {FieldType::ListMulti, "list-multi"},
    {FieldType::ListSingle, "list-single"}, {FieldType::TextMulti, "text-multi"},
    {FieldType::TextPrivate, "text-private"}, {FieldType::TextSingle, "text-single"},
};

bool is_list(FieldType t) { return t == FieldType::ListSingle || t == FieldType::ListMulti; }

bool is_space(char c) { return c == ' ' || c == '\t'; }

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool equal_nocase(const char* a, const char* b) {
  while (*a != '\0' && *b != '\0') {
    if (lower(*a) != lower(*b)) return false;
    ++a;
    ++b;
  }
  return *a == *b;
}

template <typename W>
void put_attr(W& w, const char* name, const char* value) {
  w.put(" ");
  w.put(name);
  w.put("='");
  w.put_escaped(value);
  w.put("'");
}

template <typename W>
void put_element(W& w, const char* name, const char* text) {
  w.put("<");
  w.put(name);
  w.put(">");
  w.put_escaped(text);
  w.put("</");
  w.put(name);
  w.put(">");
}

/// XEP-0004 §3.2 element order: desc, required, value*, option*.
template <typename W>
void write_form(W& w, const Form& f) {
  w.put("<x xmlns='");
  w.put(kDataFormsXmlns);
  w.put("' type='");
  w.put(form_type_name(f.type()));
  w.put("'>");
  if (*f.title() != '\0') put_element(w, "title", f.title());
  if (*f.instructions() != '\0') put_element(w, "instructions", f.instructions());
  for (size_t i = 0; i < f.field_count(); ++i) {
    const FormField& fd = f.field(i);
    w.put("<field");
    if (*fd.var() != '\0') put_attr(w, "var", fd.var());
    put_attr(w, "type", field_type_name(fd.type()));
    if (*fd.label() != '\0') put_attr(w, "label", fd.label());
    w.put(">");
    if (*fd.desc() != '\0') put_element(w, "desc", fd.desc());
    if (fd.required()) w.put("<required/>");
    for (size_t v = 0; v < fd.value_count(); ++v) put_element(w, "value", fd.value(v));
    for (size_t o = 0; o < fd.option_count(); ++o) {
      const FormOption& opt = fd.option(o);
      w.put("<option");
      if (*opt.label != '\0') put_attr(w, "label", opt.label);
      w.put(">");
      put_element(w, "value", opt.value);
      w.put("</option>");
    }
    w.put("</field>");
  }
  w.put("</x>");
}

}  // namespace

// --- names ---

const char* form_type_name(FormType t) {
  switch (t) {
    case FormType::Submit: return "submit";
    case FormType::Cancel: return "cancel";
    case FormType::Result: return "result";
    case FormType::Form: break;
  }
  return "form";
}

bool parse_form_type(const char* text, FormType* out) {
  if (text == nullptr) return false;
  static constexpr FormType kTypes[] = {FormType::Form, FormType::Submit, FormType::Cancel,
                                        FormType::Result};
  for (FormType t : kTypes) {
    if (std::strcmp(text, form_type_name(t)) == 0) {
      *out = t;
      return true;
    }
  }
  return false;
}

const char* field_type_name(FieldType t) {
  for (const FieldTypeName& n : kFieldTypes) {
    if (n.type == t) return n.name;
  }
  return "text-single";
}

bool parse_field_type(const char* text, FieldType* out) {
  if (text == nullptr || *text == '\0') {
    *out = FieldType::TextSingle;
    return true;
  }
  for (const FieldTypeName& n : kFieldTypes) {
    if (std::strcmp(text, n.name) == 0) {
      *out = n.type;
      return true;
    }
  }
  return false;
}

bool field_type_is_multi(FieldType t) {
  return t == FieldType::JidMulti || t == FieldType::ListMulti || t == FieldType::TextMulti ||
         t == FieldType::Fixed;
}

// --- FormField ---

const char* FormField::value(size_t i) const { return values_[i]; }

const FormOption& FormField::option(size_t i) const { return options_[i]; }

// --- Form ---

void Form::reset(FormType type) {
  type_ = type;
  title_ = "";
  instructions_ = "";
  field_count_ = 0;
  value_count_ = 0;
  option_count_ = 0;
  arena_used_ = 0;
  build_error_ = hal::Err::Ok;
  build_error_text_[0] = '\0';
}

hal::Err Form::latch(hal::Err e, const char* fmt, ...) {
  if (build_error_ != hal::Err::Ok) return build_error_;
  build_error_ = e;
  va_list ap;
  va_start(ap, fmt);
  std::vsnprintf(build_error_text_, sizeof build_error_text_, fmt, ap);
  va_end(ap);
  return e;
}

void Form::mark_malformed(const char* reason) {
  (void)latch(hal::Err::InvalidArgument, "%s", nz(reason));
}

const char* Form::store(const char* text, size_t len, size_t max, const char* what,
                        const char* var, hal::Err* err) {
  if (std::memchr(text, '\0', len) != nullptr) {
    *err = latch(hal::Err::InvalidArgument, "%s%s%.40s%s contains a NUL byte", what,
                 *var != '\0' ? " of field '" : "", var, *var != '\0' ? "'" : "");
    return nullptr;
  }
  if (len > max) {
    *err = latch(hal::Err::Overflow, "%s%s%.40s%s longer than %zu bytes", what,
                 *var != '\0' ? " of field '" : "", var, *var != '\0' ? "'" : "", max);
    return nullptr;
  }
  if (len + 1 > kFormArenaBytes - arena_used_) {
    *err = latch(hal::Err::NoSpace, "more than %zu bytes of text", kFormArenaBytes);
    return nullptr;
  }
  char* p = arena_ + arena_used_;
  std::memcpy(p, text, len);
  p[len] = '\0';
  arena_used_ += len + 1;
  *err = hal::Err::Ok;
  return p;
}

hal::Err Form::set_title(const char* text) {
  if (build_error_ != hal::Err::Ok) return build_error_;
  hal::Err e = hal::Err::Ok;
  const char* t = nz(text);
  const char* p = store(t, std::strlen(t), kFormTextMax, "title", "", &e);
  if (p != nullptr) title_ = p;
  return e;
}

hal::Err Form::set_instructions(const char* text) {
  if (build_error_ != hal::Err::Ok) return build_error_;
  hal::Err e = hal::Err::Ok;
  const char* t = nz(text);
  const char* p = store(t, std::strlen(t), kFormTextMax, "instructions", "", &e);
  if (p != nullptr) instructions_ = p;
  return e;
}

hal::Result<size_t> Form::add_field(FieldType type, const char* var, const char* label,
                                    bool required) {
  if (build_error_ != hal::Err::Ok) return build_error_;
  const char* v = nz(var);
  if (*v == '\0' && type != FieldType::Fixed) {
    return latch(hal::Err::InvalidArgument, "a %s field without var", field_type_name(type));
  }
  if (field_count_ == kFormMaxFields) {
    return latch(hal::Err::NoSpace, "more than %zu fields", kFormMaxFields);
  }
  const size_t var_len = std::strlen(v);
  if (var_len > kFormVarMax) {
    return latch(hal::Err::Overflow, "field var longer than %zu bytes", kFormVarMax);
  }
  if (*v != '\0' && find(v) != nullptr) {
    return latch(hal::Err::InvalidArgument, "duplicate field '%.40s'", v);
  }
  hal::Err e = hal::Err::Ok;
  const char* stored_var = "";
  if (*v != '\0') {
    stored_var = store(v, var_len, kFormVarMax, "var", "", &e);
    if (stored_var == nullptr) return e;
  }
  const char* stored_label = "";
  if (label != nullptr && *label != '\0') {
    stored_label = store(label, std::strlen(label), kFormTextMax, "label", stored_var, &e);
    if (stored_label == nullptr) return e;
  }
  FormField& f = fields_[field_count_];
  f.type_ = type;
  f.var_ = stored_var;
  f.label_ = stored_label;
  f.desc_ = "";
  f.required_ = required;
  f.values_ = values_ + value_count_;
  f.value_count_ = 0;
  f.options_ = options_ + option_count_;
  f.option_count_ = 0;
  return field_count_++;
}

hal::Err Form::set_desc(const char* text) {
  if (build_error_ != hal::Err::Ok) return build_error_;
  if (field_count_ == 0) return latch(hal::Err::InvalidArgument, "desc outside a field");
  FormField& f = fields_[field_count_ - 1];
  hal::Err e = hal::Err::Ok;
  const char* t = nz(text);
  const char* p = store(t, std::strlen(t), kFormTextMax, "desc", f.var_, &e);
  if (p != nullptr) f.desc_ = p;
  return e;
}

hal::Err Form::set_required(bool required) {
  if (build_error_ != hal::Err::Ok) return build_error_;
  if (field_count_ == 0) return latch(hal::Err::InvalidArgument, "required outside a field");
  fields_[field_count_ - 1].required_ = required;
  return hal::Err::Ok;
}

hal::Err Form::add_value(const char* text) {
  return add_value(text, text != nullptr ? std::strlen(text) : 0);
}

hal::Err Form::add_value(const char* text, size_t len) {
  if (build_error_ != hal::Err::Ok) return build_error_;
  if (field_count_ == 0) return latch(hal::Err::InvalidArgument, "value outside a field");
  FormField& f = fields_[field_count_ - 1];
  if (text == nullptr) return latch(hal::Err::InvalidArgument, "null value in field '%.40s'", f.var_);
  if (f.value_count_ >= 1 && !field_type_is_multi(f.type_)) {
    return latch(hal::Err::InvalidArgument, "more than one value in %s field '%.40s'",
                 field_type_name(f.type_), f.var_);
  }
  if (f.value_count_ == kFieldMaxValues) {
    return latch(hal::Err::NoSpace, "more than %zu values in field '%.40s'", kFieldMaxValues, f.var_);
  }
  if (value_count_ == kFormMaxValues) {
    return latch(hal::Err::NoSpace, "more than %zu values in the form", kFormMaxValues);
  }
  hal::Err e = hal::Err::Ok;
  const char* p = store(text, len, kFormTextMax, "value", f.var_, &e);
  if (p == nullptr) return e;
  values_[value_count_++] = p;
  ++f.value_count_;
  return hal::Err::Ok;
}

hal::Err Form::add_option(const char* label, const char* value) {
  if (build_error_ != hal::Err::Ok) return build_error_;
  if (field_count_ == 0) return latch(hal::Err::InvalidArgument, "option outside a field");
  FormField& f = fields_[field_count_ - 1];
  if (!is_list(f.type_)) {
    return latch(hal::Err::InvalidArgument, "option in %s field '%.40s'", field_type_name(f.type_),
                 f.var_);
  }
  if (value == nullptr) return latch(hal::Err::InvalidArgument, "option without value in field '%.40s'", f.var_);
  if (f.option_count_ == kFieldMaxOptions) {
    return latch(hal::Err::NoSpace, "more than %zu options in field '%.40s'", kFieldMaxOptions, f.var_);
  }
  if (option_count_ == kFormMaxOptions) {
    return latch(hal::Err::NoSpace, "more than %zu options in the form", kFormMaxOptions);
  }
  hal::Err e = hal::Err::Ok;
  const char* stored_label = "";
  if (label != nullptr && *label != '\0') {
    stored_label = store(label, std::strlen(label), kFormTextMax, "option label", f.var_, &e);
    if (stored_label == nullptr) return e;
  }
  const char* stored_value = store(value, std::strlen(value), kFormTextMax, "option value", f.var_, &e);
  if (stored_value == nullptr) return e;
  options_[option_count_++] = FormOption{stored_label, stored_value};
  ++f.option_count_;
  return hal::Err::Ok;
}

const FormField* Form::find(const char* var) const {
  if (var == nullptr || *var == '\0') return nullptr;
  for (size_t i = 0; i < field_count_; ++i) {
    if (std::strcmp(fields_[i].var_, var) == 0) return &fields_[i];
  }
  return nullptr;
}

const char* Form::value_of(const char* var) const {
  const FormField* f = find(var);
  return f != nullptr ? f->first_value() : nullptr;
}

// --- value helpers ---

namespace {

// The one boolean grammar of xiot (agent and fleet tools): the XEP-0004 §3.3
// words, exact (xs:boolean is case-sensitive), and for values people type
// the same words plus on/off and yes/no in any ASCII case.
struct BoolWord {
  const char* word;
  bool value;
  bool xep0004;  // also accepted by the strict XEP-0004 parser
};
constexpr BoolWord kBoolWords[] = {{"1", true, true},   {"true", true, true},   {"0", false, true},
                                   {"false", false, true}, {"on", true, false},  {"yes", true, false},
                                   {"off", false, false},  {"no", false, false}};

hal::Result<bool> parse_bool_word(const char* text, bool loose) {
  if (text == nullptr) return hal::Err::InvalidArgument;
  for (const BoolWord& w : kBoolWords) {
    if (loose ? equal_nocase(text, w.word) : w.xep0004 && std::strcmp(text, w.word) == 0) return w.value;
  }
  return hal::Err::InvalidArgument;
}

}  // namespace

hal::Result<bool> parse_form_bool(const char* text) { return parse_bool_word(text, false); }

hal::Result<bool> parse_loose_bool(const char* text) { return parse_bool_word(text, true); }

hal::Result<drv::Value> parse_decimal(const char* text) {
  if (text == nullptr) return hal::Err::InvalidArgument;
  const char* p = text;
  while (is_space(*p)) ++p;
  bool negative = false;
  if (*p == '+' || *p == '-') {
    negative = *p == '-';
    ++p;
  }
  int64_t mantissa = 0;
  int64_t frac_digits = 0;
  size_t digits = 0;
  bool overflow = false;
  auto take_digit = [&](char c) {
    const int d = c - '0';
    if (mantissa > (INT64_MAX - d) / 10) {
      overflow = true;
    } else {
      mantissa = mantissa * 10 + d;
    }
  };
  while (*p >= '0' && *p <= '9') {
    take_digit(*p++);
    ++digits;
  }
  if (*p == '.') {
    ++p;
    while (*p >= '0' && *p <= '9') {
      take_digit(*p++);
      ++digits;
      ++frac_digits;
    }
  }
  if (digits == 0) return hal::Err::InvalidArgument;
  int64_t exp = 0;
  if (*p == 'e' || *p == 'E') {
    ++p;
    bool exp_negative = false;
    if (*p == '+' || *p == '-') {
      exp_negative = *p == '-';
      ++p;
    }
    size_t exp_digits = 0;
    while (*p >= '0' && *p <= '9') {
      if (exp < 100000) exp = exp * 10 + (*p - '0');  // clamp: far outside int8 anyway
      ++p;
      ++exp_digits;
    }
    if (exp_digits == 0) return hal::Err::InvalidArgument;
    if (exp_negative) exp = -exp;
  }
  while (is_space(*p)) ++p;
  if (*p != '\0') return hal::Err::InvalidArgument;
  if (overflow) return hal::Err::Overflow;
  const int64_t exponent = exp - frac_digits;
  if (exponent < INT8_MIN || exponent > INT8_MAX) return hal::Err::Overflow;
  return drv::Value::numeric(negative ? -mantissa : mantissa, static_cast<int8_t>(exponent));
}

hal::Result<int64_t> decimal_to_scaled(const drv::Value& v, int scale) {
  if (v.type != drv::ValueType::Numeric) return hal::Err::InvalidArgument;
  int64_t m = v.mantissa;
  int k = v.exponent + scale;
  if (m == 0) return int64_t{0};
  for (; k < 0; ++k) {
    if (m % 10 != 0) return hal::Err::InvalidArgument;
    m /= 10;
  }
  for (; k > 0; --k) {
    if (m > INT64_MAX / 10 || m < INT64_MIN / 10) return hal::Err::Overflow;
    m *= 10;
  }
  return m;
}

bool list_allows(const FormField& field, const char* value) {
  if (value == nullptr) return false;
  for (size_t i = 0; i < field.option_count(); ++i) {
    if (std::strcmp(field.option(i).value, value) == 0) return true;
  }
  return false;
}

// --- serialisation ---

hal::Result<size_t> format_form_xml(char* buf, size_t cap, const Form& form) {
  detail::TextWriter w(buf, cap);
  write_form(w, form);
  return w.finish();
}

size_t form_xml_len(const Form& form) {
  detail::LengthCounter c;
  write_form(c, form);
  return c.length();
}

}  // namespace agent

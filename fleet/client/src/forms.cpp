#include "fleet/forms.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <map>

#include "agent/forms.hpp"
#include "fleet/error.hpp"

namespace fleet {
namespace {

std::string quoted(const std::string& v) { return "'" + v + "'"; }

// The friendlier boolean words people type (1/0, true/false, yes/no, on/off in
// any case): the agent's own loose parser, so both sides accept the same words.
bool parse_bool_word(const std::string& text, bool* out) {
  const hal::Result<bool> b = agent::parse_loose_bool(text.c_str());
  if (b.ok()) *out = b.value();
  return b.ok();
}

bool looks_like_jid(const std::string& v) {
  if (v.empty() || v.front() == '@' || v.front() == '/') return false;
  for (char c : v) {
    if (std::isspace(static_cast<unsigned char>(c)) || c == '<' || c == '>' || c == '"' || c == '\'' || c == '&') {
      return false;
    }
  }
  const size_t at = v.find('@');
  const size_t slash = v.find('/');
  if (at != std::string::npos && (at + 1 == v.size() || (slash != std::string::npos && slash < at))) return false;
  return true;
}

// An integer or decimal in XML Schema lexical form: [+-]? digits [. digits].
bool is_xs_decimal(const std::string& v, bool integer_only) {
  size_t i = 0;
  if (i < v.size() && (v[i] == '+' || v[i] == '-')) ++i;
  size_t digits = 0;
  while (i < v.size() && std::isdigit(static_cast<unsigned char>(v[i]))) ++i, ++digits;
  if (i < v.size() && v[i] == '.' && !integer_only) {
    ++i;
    while (i < v.size() && std::isdigit(static_cast<unsigned char>(v[i]))) ++i, ++digits;
  }
  return digits > 0 && i == v.size();
}

bool to_double(const std::string& v, double* out) {
  if (v.empty()) return false;
  char* end = nullptr;
  errno = 0;
  const double d = std::strtod(v.c_str(), &end);
  if (*end != '\0' || errno == ERANGE || !std::isfinite(d)) return false;
  *out = d;
  return true;
}

// XEP-0122 §3 datatypes we can check; unknown ones (and x: extensions) pass.
void check_datatype(const FormField& f, const std::string& v, const DataForm& form) {
  if (f.datatype.empty() || f.datatype == "xs:string") return;
  auto fail = [&](const std::string& why) {
    throw Error(Exit::Usage, f.var + ": " + quoted(v) + " " + why + "\n" + describe_fields(form));
  };
  const std::string& t = f.datatype;
  const bool integer = t == "xs:integer" || t == "xs:int" || t == "xs:long" || t == "xs:short" || t == "xs:byte";
  if (integer || t == "xs:decimal") {
    if (!is_xs_decimal(v, integer)) fail(integer ? "is not an integer" : "is not a decimal number");
  } else if (t == "xs:double") {
    double d = 0;
    if (!to_double(v, &d)) fail("is not a number");
  } else if (t == "xs:boolean") {
    bool b = false;
    if (!parse_bool_word(v, &b)) fail("is not a boolean");
  } else {
    return;
  }
  if (t == "xs:boolean" || (f.range_min.empty() && f.range_max.empty())) return;
  double d = 0, lo = 0, hi = 0;
  if (!to_double(v, &d)) return;
  if (!f.range_min.empty() && to_double(f.range_min, &lo) && d < lo) {
    fail("is below the minimum " + f.range_min);
  }
  if (!f.range_max.empty() && to_double(f.range_max, &hi) && d > hi) {
    fail("is above the maximum " + f.range_max);
  }
}

std::string option_list(const FormField& f) {
  std::string out;
  for (const auto& o : f.options) {
    if (!out.empty()) out += ", ";
    out += o.value;
    if (!o.label.empty() && o.label != o.value) out += " (" + o.label + ")";
  }
  return out.empty() ? "(no options)" : out;
}

/// Checks one value and returns what is submitted.
std::string check_value(const FormField& f, const std::string& v, const DataForm& form) {
  auto fail = [&](const std::string& why) {
    throw Error(Exit::Usage, f.var + ": " + why + "\n" + describe_fields(form));
  };
  if (f.type == "boolean") {
    bool b = false;
    if (!parse_bool_word(v, &b)) fail(quoted(v) + " is not a boolean (use true/false, 1/0, yes/no or on/off)");
    return b ? "true" : "false";
  }
  if (f.type == "list-single" || f.type == "list-multi") {
    const bool known = std::any_of(f.options.begin(), f.options.end(),
                                   [&](const FormOption& o) { return o.value == v; });
    if (!known) fail(quoted(v) + " is not one of: " + option_list(f));
  } else if (f.type == "jid-single" || f.type == "jid-multi") {
    if (!looks_like_jid(v)) fail(quoted(v) + " is not a JID");
  } else if (f.type == "fixed") {
    fail("is a fixed text, not something to fill in");
  } else if ((f.type == "text-single" || f.type == "text-private" || f.type == "hidden") &&
             v.find('\n') != std::string::npos) {
    fail("takes a single line");
  }
  check_datatype(f, v, form);
  return v;
}

}  // namespace

bool FormField::multi() const { return type == "list-multi" || type == "text-multi" || type == "jid-multi"; }

const FormField* DataForm::find(const std::string& var) const {
  for (const auto& f : fields) {
    if (!f.var.empty() && f.var == var) return &f;
  }
  return nullptr;
}

bool form_boolean(const std::string& text, bool* ok) {
  const hal::Result<bool> b = agent::parse_form_bool(text.c_str());  // XEP-0004 §3.3, exact
  if (ok != nullptr) *ok = b.ok();
  return b.ok() && b.value();
}

DataForm parse_form(const XmlElement& x) {
  if (x.name != "x" || x.ns != kDataFormsNs) {
    throw Error(Exit::DeviceError, "expected a data form, got <" + x.name + " xmlns='" + x.ns + "'>");
  }
  DataForm form;
  if (const std::string* t = x.attr("type")) form.type = *t;
  for (const auto& c : x.children) {
    if (c.ns != kDataFormsNs) continue;
    if (c.name == "title") {
      form.title = c.text;
    } else if (c.name == "instructions") {
      form.instructions.push_back(c.text);
    } else if (c.name == "field") {
      FormField f;
      if (const std::string* v = c.attr("var")) f.var = *v;
      if (const std::string* t = c.attr("type")) f.type = *t;
      if (f.type.empty()) f.type = "text-single";
      if (const std::string* l = c.attr("label")) f.label = *l;
      for (const auto& fc : c.children) {
        if (fc.ns == kXdataValidateNs && fc.name == "validate") {
          if (const std::string* dt = fc.attr("datatype")) f.datatype = *dt;
          if (const XmlElement* range = fc.child("range", kXdataValidateNs)) {
            if (const std::string* lo = range->attr("min")) f.range_min = *lo;
            if (const std::string* hi = range->attr("max")) f.range_max = *hi;
          }
          continue;
        }
        if (fc.ns != kDataFormsNs) continue;
        if (fc.name == "value") {
          f.values.push_back(fc.text);
        } else if (fc.name == "required") {
          f.required = true;
        } else if (fc.name == "desc") {
          f.desc = fc.text;
        } else if (fc.name == "option") {
          FormOption o;
          if (const std::string* l = fc.attr("label")) o.label = *l;
          o.value = fc.child_text("value", kDataFormsNs);
          f.options.push_back(o);
        }
      }
      form.fields.push_back(std::move(f));
    }
  }
  return form;
}

XmlElement form_to_xml(const DataForm& form) {
  XmlElement x = make_element("x", kDataFormsNs);
  x.set("type", form.type);
  const bool submit = form.type == "submit";
  if (!submit && !form.title.empty()) x.add("title").text = form.title;
  if (!submit) {
    for (const auto& i : form.instructions) x.add("instructions").text = i;
  }
  for (const auto& f : form.fields) {
    XmlElement& fe = x.add("field");
    if (!f.var.empty()) fe.set("var", f.var);
    fe.set("type", f.type);
    if (!submit) {
      if (!f.label.empty()) fe.set("label", f.label);
      if (!f.desc.empty()) fe.add("desc").text = f.desc;
      if (f.required) fe.add("required");
    }
    for (const auto& v : f.values) fe.add("value").text = v;
    if (!submit) {
      for (const auto& o : f.options) {
        XmlElement& oe = fe.add("option");
        if (!o.label.empty()) oe.set("label", o.label);
        oe.add("value").text = o.value;
      }
    }
  }
  return x;
}

std::vector<FieldArg> parse_field_args(const std::vector<std::string>& args) {
  std::vector<FieldArg> out;
  for (const auto& a : args) {
    const size_t eq = a.find('=');
    if (eq == std::string::npos) {
      throw Error(Exit::Usage, "'" + a + "' is not a field=value argument");
    }
    if (eq == 0) throw Error(Exit::Usage, "'" + a + "': the field name is missing before '='");
    out.push_back(FieldArg{a.substr(0, eq), a.substr(eq + 1)});
  }
  return out;
}

DataForm fill_form(const DataForm& form, const std::vector<FieldArg>& args, std::vector<FieldArg>* unused) {
  // Group the arguments by var, keeping their order.
  std::map<std::string, std::vector<std::string>> given;
  for (const auto& a : args) {
    const FormField* f = form.find(a.var);
    if (f == nullptr) {
      if (unused != nullptr) {
        unused->push_back(a);
        continue;
      }
      throw Error(Exit::Usage, "the form has no field '" + a.var + "'\n" + describe_fields(form));
    }
    if (f->type == "fixed") {
      throw Error(Exit::Usage, a.var + ": is a fixed text, not something to fill in\n" + describe_fields(form));
    }
    given[a.var].push_back(a.value);
  }

  DataForm out;
  out.type = "submit";
  for (const auto& f : form.fields) {
    if (f.type == "fixed" || f.var.empty()) continue;
    FormField s;
    s.var = f.var;
    s.type = f.type;
    auto it = given.find(f.var);
    if (it != given.end()) {
      if (!f.multi() && it->second.size() > 1) {
        throw Error(Exit::Usage, f.var + ": takes one value, got " + std::to_string(it->second.size()) + "\n" +
                                     describe_fields(form));
      }
      for (const auto& v : it->second) {
        // An empty argument ("reason=") clears an optional field.
        if (v.empty() && !f.required && f.type != "boolean") continue;
        s.values.push_back(check_value(f, v, form));
      }
    } else {
      s.values = f.values;  // the prefilled default (hidden fields: returned as they came)
    }
    const bool empty = s.values.empty() || (s.values.size() == 1 && s.values[0].empty());
    if (empty) {
      if (f.required) {
        throw Error(Exit::Usage, "missing required field '" + f.var + "'\n" + describe_fields(form));
      }
      continue;  // nothing to say about it: leave it out
    }
    out.fields.push_back(std::move(s));
  }
  return out;
}

std::string describe_fields(const DataForm& form) {
  size_t width = 0;
  for (const auto& f : form.fields) {
    if (f.type != "fixed" && f.type != "hidden" && !f.var.empty()) width = std::max(width, f.var.size());
  }
  std::string out = "fields of the form";
  out += form.title.empty() ? ":" : " '" + form.title + "':";
  out += "\n";
  for (const auto& f : form.fields) {
    if (f.type == "fixed" || f.type == "hidden" || f.var.empty()) continue;
    std::string line = "  " + f.var + std::string(width - f.var.size() + 2, ' ');
    if (!f.label.empty() && f.label != f.var) line += "\"" + f.label + "\", ";
    line += f.type;
    if (f.required) line += ", required";
    if (f.type == "boolean") line += " (true/false)";
    if (f.type == "list-single" || f.type == "list-multi") line += ", one of: " + option_list(f);
    if (!f.datatype.empty()) {
      line += ", " + f.datatype;
      if (!f.range_min.empty()) line += " >= " + f.range_min;
      if (!f.range_max.empty()) line += " <= " + f.range_max;
    }
    if (!f.values.empty() && !f.values[0].empty()) {
      std::string vals;
      for (const auto& v : f.values) vals += (vals.empty() ? "" : ", ") + v;
      line += ", default " + vals;
    }
    out += line + "\n";
  }
  if (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

}  // namespace fleet

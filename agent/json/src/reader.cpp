// See json/reader.hpp. The wording of every message is fixed here, once.
#include "json/reader.hpp"

#include <cjson/cJSON.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

namespace json {

namespace {

std::string join_key(const std::string& path, const char* key) {
  return path.empty() ? std::string(key) : path + "." + key;
}

size_t edit_distance(const char* a, const char* b) {
  const size_t n = std::strlen(a);
  const size_t m = std::strlen(b);
  std::vector<size_t> prev(m + 1);
  std::vector<size_t> cur(m + 1);
  for (size_t j = 0; j <= m; ++j) prev[j] = j;
  for (size_t i = 1; i <= n; ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= m; ++j) {
      const size_t sub = prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
      cur[j] = std::min(std::min(prev[j] + 1, cur[j - 1] + 1), sub);
    }
    prev.swap(cur);
  }
  return prev[m];
}

std::string lower_ascii(const char* s) {
  std::string out = s;
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

/// "unknown key (did you mean \"x\"?)" when an allowed name is within two
/// edits (case-insensitively), else the list of allowed names.
std::string unknown_key(const char* key, const char* const* allowed, size_t n) {
  if (n == 0) return "unknown key (none allowed here)";
  size_t best = SIZE_MAX;
  const char* suggestion = nullptr;
  const std::string lower = lower_ascii(key);
  for (size_t i = 0; i < n; ++i) {
    const size_t d = edit_distance(lower.c_str(), allowed[i]);
    if (d < best) {
      best = d;
      suggestion = allowed[i];
    }
  }
  if (suggestion != nullptr && best <= 2 && best < std::strlen(suggestion)) {
    return "unknown key (did you mean \"" + std::string(suggestion) + "\"?)";
  }
  std::string what = "unknown key (expected one of:";
  for (size_t i = 0; i < n; ++i) what += std::string(" ") + allowed[i];
  return what + ")";
}

/// "1 MiB", "256 KiB", "1000 bytes".
std::string format_size(size_t bytes) {
  if (bytes >= (1u << 20) && bytes % (1u << 20) == 0) return std::to_string(bytes >> 20) + " MiB";
  if (bytes >= (1u << 10) && bytes % (1u << 10) == 0) return std::to_string(bytes >> 10) + " KiB";
  return std::to_string(bytes) + " bytes";
}

/// "<line>:<col>: " of byte `pos` in `text` (1-based; columns in bytes).
std::string line_col(const std::string& text, size_t pos) {
  size_t line = 1;
  size_t col = 1;
  for (size_t i = 0; i < pos && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++line;
      col = 1;
    } else {
      ++col;
    }
  }
  return std::to_string(line) + ":" + std::to_string(col) + ": ";
}

/// Replaces // and /* */ comments outside strings with spaces (newlines
/// kept), so the text parses as plain JSON and every byte keeps its line and
/// column. Returns npos, or the offset of a block comment never closed.
size_t blank_comments(std::string* text) {
  std::string& s = *text;
  bool in_string = false;
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (in_string) {
      if (c == '\\') {
        ++i;  // the escaped character, whatever it is
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '/' && i + 1 < s.size() && s[i + 1] == '/') {
      for (; i < s.size() && s[i] != '\n'; ++i) s[i] = ' ';
    } else if (c == '/' && i + 1 < s.size() && s[i + 1] == '*') {
      const size_t close = s.find("*/", i + 2);
      if (close == std::string::npos) return i;
      for (size_t j = i; j < close + 2; ++j) {
        if (s[j] != '\n') s[j] = ' ';
      }
      i = close + 1;
    }
  }
  return std::string::npos;
}

}  // namespace

// ---- formatting -------------------------------------------------------------

std::string format_number(double d) {
  if (std::isnan(d)) return "nan";
  if (std::isinf(d)) return d < 0 ? "-inf" : "inf";
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.15g", d);
  if (std::strtod(buf, nullptr) != d) std::snprintf(buf, sizeof buf, "%.17g", d);
  return buf;
}

std::string quote(const char* s) {
  std::string out = "\"";
  size_t n = 0;
  for (const char* p = s; *p != '\0'; ++p, ++n) {
    if (n == 64) {
      out += "...";
      break;
    }
    const auto c = static_cast<unsigned char>(*p);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20 || c == 0x7F) {
      char esc[8];
      std::snprintf(esc, sizeof esc, "\\u%04x", c);
      out += esc;
    } else {
      out += static_cast<char>(c);
    }
  }
  out += '"';
  return out;
}

std::string list_choices(const char* const* names, size_t n) {
  std::string out;
  for (size_t i = 0; i < n; ++i) {
    if (i > 0) out += i + 1 == n ? " or " : ", ";
    out += '"';
    out += names[i];
    out += '"';
  }
  return out;
}

// ---- Value --------------------------------------------------------------------

bool Value::absent() const { return node_ == nullptr || cJSON_IsNull(node_); }
bool Value::is_object() const { return cJSON_IsObject(node_) != 0; }
bool Value::is_array() const { return cJSON_IsArray(node_) != 0; }
bool Value::is_string() const { return cJSON_IsString(node_) != 0; }
bool Value::is_bool() const { return cJSON_IsBool(node_) != 0; }
bool Value::is_number() const { return cJSON_IsNumber(node_) != 0; }
const char* Value::c_str() const { return is_string() ? node_->valuestring : nullptr; }
bool Value::is_true() const { return cJSON_IsTrue(node_) != 0; }

bool Value::as_integer(int64_t* out) const {
  if (!is_number()) return false;
  const double d = node_->valuedouble;
  if (!std::isfinite(d) || std::floor(d) != d || std::fabs(d) > 9007199254740992.0) return false;  // 2^53
  *out = static_cast<int64_t>(d);
  return true;
}

const char* Value::key() const { return node_ != nullptr && node_->string != nullptr ? node_->string : ""; }

Value Value::operator[](const char* key) const {
  const cJSON* v = is_object() ? cJSON_GetObjectItemCaseSensitive(node_, key) : nullptr;
  return Value(reader_, v, join_key(path_, key));
}

const cJSON* Value::first_child() const {
  return is_object() || is_array() ? node_->child : nullptr;
}

const cJSON* Value::next_child(const cJSON* c) { return c->next; }

Value Value::child(const cJSON* c, size_t index) const {
  if (is_object()) return Value(reader_, c, join_key(path_, c->string != nullptr ? c->string : ""));
  return Value(reader_, c, path_ + "[" + std::to_string(index) + "]");
}

size_t Value::size() const {
  size_t n = 0;
  for (const cJSON* c = first_child(); c != nullptr; c = c->next) ++n;
  return n;
}

std::string Value::describe(unsigned flags) const {
  const bool secret = (flags & kSecret) != 0;
  const cJSON* v = node_;
  if (v == nullptr) return "nothing";
  if (cJSON_IsNull(v)) return "null";
  if (cJSON_IsTrue(v)) return secret ? "a boolean" : "true";
  if (cJSON_IsFalse(v)) return secret ? "a boolean" : "false";
  if (cJSON_IsNumber(v)) return secret ? "a number" : format_number(v->valuedouble);
  if (cJSON_IsString(v)) {
    if (secret) return v->valuestring[0] == '\0' ? "\"\"" : "a string";
    return quote(v->valuestring);
  }
  if (cJSON_IsArray(v)) return "an array";
  if (cJSON_IsObject(v)) return "an object";
  return "an unknown value";
}

bool Value::fail(const std::string& what) const {
  if (reader_ == nullptr) return false;
  return reader_->fail(path_, what);
}

bool Value::expected(const std::string& what, const char* note, unsigned flags) const {
  std::string msg = "expected " + what + ", got " + describe(flags);
  if (note != nullptr) msg += std::string(" (") + note + ")";
  return fail(msg);
}

/// Common start of every getter: false (with the error) when a required key is
/// missing; *present false when an optional one is absent or null.
bool Value::check_present(const char* expected, unsigned flags, bool* present) const {
  *present = false;
  if (reader_ != nullptr && reader_->failed()) return false;
  if ((flags & kRequired) != 0) {
    if (node_ == nullptr) return fail(std::string("missing; expected ") + expected);
  } else if (absent()) {
    return true;
  }
  *present = true;
  return true;
}

bool Value::text(std::string* out, const char* expected, unsigned flags) const {
  bool present = false;
  if (!check_present(expected, flags, &present)) return false;
  if (!present) return true;
  if (!is_string() || (node_->valuestring[0] == '\0' && (flags & kEmptyOk) == 0)) {
    return this->expected(expected, nullptr, flags);
  }
  *out = node_->valuestring;
  return true;
}

bool Value::boolean(bool* out, unsigned flags) const {
  constexpr const char* kWhat = "true or false";
  bool present = false;
  if (!check_present(kWhat, flags, &present)) return false;
  if (!present) return true;
  if (!is_bool()) return expected(kWhat, nullptr, flags);
  *out = cJSON_IsTrue(node_) != 0;
  return true;
}

bool Value::integer(int64_t* out, int64_t lo, int64_t hi, unsigned flags) const {
  const std::string what = "an integer from " + std::to_string(lo) + " to " + std::to_string(hi);
  bool present = false;
  if (!check_present(what.c_str(), flags, &present)) return false;
  if (!present) return true;
  const bool ok = is_number() && std::isfinite(node_->valuedouble) &&
                  node_->valuedouble == std::floor(node_->valuedouble) &&
                  node_->valuedouble >= static_cast<double>(lo) && node_->valuedouble <= static_cast<double>(hi);
  if (!ok) return expected(what, nullptr, flags);
  *out = static_cast<int64_t>(node_->valuedouble);
  return true;
}

bool Value::number(double* out, double lo, double hi, unsigned flags, const char* lo_name) const {
  std::string what = "a number from " + format_number(lo);
  if (lo_name != nullptr) what += std::string(" (") + lo_name + ")";
  what += " to " + format_number(hi);
  bool present = false;
  if (!check_present(what.c_str(), flags, &present)) return false;
  if (!present) return true;
  const bool ok = is_number() && std::isfinite(node_->valuedouble) && node_->valuedouble >= lo &&
                  node_->valuedouble <= hi;
  if (!ok) return expected(what, nullptr, flags);
  *out = node_->valuedouble;
  return true;
}

bool Value::one_of_index(const char* const* names, size_t n, size_t* index, unsigned flags) const {
  const std::string what = list_choices(names, n);
  bool present = false;
  if (!check_present(what.c_str(), flags, &present)) return false;
  if (!present) return true;
  if (is_string()) {
    for (size_t i = 0; i < n; ++i) {
      if (std::strcmp(node_->valuestring, names[i]) == 0) {
        *index = i;
        return true;
      }
    }
  }
  return expected(what, nullptr, flags);
}

bool Value::object_any_keys(unsigned flags) const {
  bool present = false;
  if (!check_present("an object", flags, &present)) return false;
  if (!present) return true;
  if (!is_object()) return expected("an object", nullptr, flags);
  for (const cJSON* it = node_->child; it != nullptr; it = it->next) {
    const char* key = it->string != nullptr ? it->string : "";
    for (const cJSON* prev = node_->child; prev != it; prev = prev->next) {
      if (prev->string != nullptr && std::strcmp(prev->string, key) == 0) {
        return reader_->fail(join_key(path_, key), "duplicate key");
      }
    }
  }
  return true;
}

bool Value::object(const char* const* allowed, size_t n, unsigned flags) const {
  if (!object_any_keys(flags)) return false;
  if (absent()) return true;
  for (const cJSON* it = node_->child; it != nullptr; it = it->next) {
    const char* key = it->string != nullptr ? it->string : "";
    bool known = false;
    for (size_t i = 0; i < n && !known; ++i) known = std::strcmp(key, allowed[i]) == 0;
    if (!known) return reader_->fail(join_key(path_, key), unknown_key(key, allowed, n));
  }
  return true;
}

bool Value::array(const char* expected, unsigned flags) const {
  bool present = false;
  if (!check_present(expected, flags, &present)) return false;
  if (!present) return true;
  if (!is_array()) return this->expected(expected, nullptr, flags);
  return true;
}

// ---- Reader -------------------------------------------------------------------

Reader::Reader(std::string file) : file_(std::move(file)) {}

Reader::~Reader() { cJSON_Delete(root_); }

Value Reader::root() const { return Value(this, root_, ""); }

bool Reader::fail_file(const std::string& what) const {
  if (error_.empty()) error_ = file_ + ": " + what;
  return false;
}

bool Reader::fail(const std::string& key, const std::string& what) const {
  if (key.empty()) return fail_file(what);
  return fail_file(key + ": " + what);
}

bool Reader::load(size_t max_bytes, const char* what_file, unsigned options) {
  struct stat st {};
  if (::stat(file_.c_str(), &st) != 0) return fail_file(std::string("cannot read: ") + std::strerror(errno));
  if (S_ISDIR(st.st_mode)) return fail_file(std::string("cannot read: ") + std::strerror(EISDIR));
  std::FILE* f = std::fopen(file_.c_str(), "rb");
  if (f == nullptr) return fail_file(std::string("cannot read: ") + std::strerror(errno));
  std::string text;
  char buf[4096];
  bool too_big = false;
  for (;;) {
    const size_t n = std::fread(buf, 1, sizeof buf, f);
    text.append(buf, n);
    if (text.size() > max_bytes) {
      too_big = true;
      break;
    }
    if (n < sizeof buf) break;
  }
  const bool read_error = std::ferror(f) != 0;
  std::fclose(f);
  if (too_big) return fail_file("larger than " + format_size(max_bytes) + "; expected " + what_file);
  if (read_error) return fail_file(std::string("cannot read: ") + std::strerror(EIO));
  return parse(text.data(), text.size(), options);
}

bool Reader::parse(const char* text, size_t size, unsigned options) {
  cJSON_Delete(root_);
  root_ = nullptr;
  size_t skip = 0;
  if (size >= 3 && std::memcmp(text, "\xEF\xBB\xBF", 3) == 0) skip = 3;  // UTF-8 BOM
  if (std::memchr(text, '\0', size) != nullptr) return fail_file("contains a NUL byte; expected a JSON text");
  // cJSON needs a terminated string; the text has no NUL inside (checked above).
  std::string copy(text + skip, size - skip);
  if ((options & kAllowComments) != 0) {
    const size_t open = blank_comments(&copy);
    if (open != std::string::npos) {
      if (error_.empty()) error_ = file_ + ":" + line_col(copy, open) + "unterminated /* comment";
      return false;
    }
  }
  bool blank = true;
  for (size_t i = 0; i < copy.size() && blank; ++i) {
    blank = copy[i] == ' ' || copy[i] == '\t' || copy[i] == '\n' || copy[i] == '\r';
  }
  if (blank) return fail_file("empty file; expected a JSON object");
  const char* end = nullptr;
  root_ = cJSON_ParseWithOpts(copy.c_str(), &end, 1);
  if (root_ != nullptr) {
    if (!cJSON_IsObject(root_)) return fail_file("expected a JSON object at the top level, got " + root().describe());
    return true;
  }
  // cJSON reports where it stopped; turn that into line:column (1-based, bytes).
  size_t pos = end != nullptr && end >= copy.c_str() ? static_cast<size_t>(end - copy.c_str()) : 0;
  if (pos > copy.size()) pos = copy.size();
  std::string near;
  for (size_t i = pos; i < copy.size() && copy[i] != '\n' && near.size() < 24; ++i) near += copy[i];
  while (!near.empty() && (near.back() == '\r' || near.back() == ' ')) near.pop_back();
  const std::string where = near.empty() ? (pos >= copy.size() ? "at end of file" : "at end of line")
                                         : "near " + quote(near.c_str());
  if (error_.empty()) {
    error_ = file_ + ":" + line_col(copy, pos) + "malformed JSON " + where;
  }
  return false;
}

}  // namespace json

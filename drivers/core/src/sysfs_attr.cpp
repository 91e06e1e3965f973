// See drv/sysfs_attr.hpp.
#include "drv/sysfs_attr.hpp"

#include <cstdio>
#include <cstring>

namespace drv {

namespace {

constexpr int kMaxDigits = 18;      // 10^18 < 2^63
constexpr int kMinExponent = -12;   // finer than any sensor's resolution

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_space(char c) { return c == ' ' || c == '\n' || c == '\t' || c == '\r'; }

/// Divides by 10, rounding half away from zero.
int64_t div10_round(int64_t v) {
  const int64_t q = v / 10;
  const int64_t r = v % 10;
  if (r >= 5) return q + 1;
  if (r <= -5) return q - 1;
  return q;
}

/// Drops trailing zeros; drops digits below kMinExponent.
Decimal normalize(Decimal d) {
  while (d.exponent < kMinExponent) {
    d.mantissa = div10_round(d.mantissa);
    ++d.exponent;
  }
  if (d.mantissa == 0) return Decimal{0, 0};
  while (d.mantissa % 10 == 0 && d.exponent < 100) {
    d.mantissa /= 10;
    ++d.exponent;
  }
  return d;
}

/// a * 10^(a.exp - exp) for exp <= a.exp. False on overflow.
bool rescale(Decimal a, int exp, int64_t* out) {
  int64_t m = a.mantissa;
  for (int e = a.exponent; e > exp; --e) {
    if (__builtin_mul_overflow(m, 10, &m)) return false;
  }
  *out = m;
  return true;
}

}  // namespace

hal::Result<Decimal> parse_decimal(const char* text) {
  if (text == nullptr) return hal::Err::Io;
  const char* p = text;
  while (is_space(*p)) ++p;
  bool negative = false;
  if (*p == '-' || *p == '+') negative = *p++ == '-';
  if (!is_digit(*p)) return hal::Err::Io;
  int64_t m = 0;
  int digits = 0;  // significant digits kept
  int exponent = 0;
  for (; is_digit(*p); ++p) {
    if (digits == 0 && *p == '0') continue;  // leading zeros
    if (digits == kMaxDigits) return hal::Err::Io;  // integer part too long
    m = m * 10 + (*p - '0');
    ++digits;
  }
  if (*p == '.') {
    ++p;
    if (!is_digit(*p)) return hal::Err::Io;
    for (; is_digit(*p); ++p) {
      if (digits == kMaxDigits) continue;  // truncate the rest of the fraction
      if (exponent <= -60) return hal::Err::Io;  // sysfs prints at most 9 decimals
      m = m * 10 + (*p - '0');
      --exponent;
      if (digits > 0 || *p != '0') ++digits;
    }
  }
  while (is_space(*p)) ++p;
  if (*p != '\0') return hal::Err::Io;
  return Decimal{negative ? -m : m, static_cast<int8_t>(exponent)};
}

hal::Result<int64_t> parse_integer(const char* text) {
  hal::Result<Decimal> d = parse_decimal(text);
  if (!d.ok()) return d.error();
  if (d.value().exponent != 0) {
    // "12.0" is not what these attributes print; only an integer is valid.
    return hal::Err::Io;
  }
  return d.value().mantissa;
}

hal::Result<Decimal> scale_value(Decimal raw, Decimal offset, Decimal scale, int shift) {
  // raw + offset at the finer exponent of the two.
  const int sum_exp = raw.exponent < offset.exponent ? raw.exponent : offset.exponent;
  int64_t a = 0;
  int64_t b = 0;
  int64_t sum = 0;
  if (!rescale(raw, sum_exp, &a) || !rescale(offset, sum_exp, &b) || __builtin_add_overflow(a, b, &sum)) {
    return hal::Err::Io;
  }
  // * scale: drop the scale's least significant digits until the product
  // fits (the scale carries 9 fraction digits, far more than the sensor).
  int64_t s = scale.mantissa;
  int exp = sum_exp + scale.exponent + shift;
  int64_t product = 0;
  while (__builtin_mul_overflow(sum, s, &product)) {
    if (s > -10 && s < 10) return hal::Err::Io;
    s = div10_round(s);
    ++exp;
  }
  // Bring the product back within 18 digits and the exponent within int8.
  while (product > 999999999999999999LL || product < -999999999999999999LL) {
    product = div10_round(product);
    ++exp;
  }
  if (exp > 100 || exp < -100) return hal::Err::Io;
  return normalize(Decimal{product, static_cast<int8_t>(exp)});
}

Value to_value(Decimal d) { return Value::numeric(d.mantissa, d.exponent); }

hal::Err read_line(hal::SysfsTree& tree, const char* path, char* buf, size_t cap) {
  hal::Result<size_t> n = tree.read(path, buf, cap);
  if (!n.ok()) return n.error();
  size_t len = n.value();
  while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r')) buf[--len] = '\0';
  return hal::Err::Ok;
}

hal::Result<Decimal> read_decimal(hal::SysfsTree& tree, const char* path) {
  char buf[48];
  if (hal::Err e = read_line(tree, path, buf, sizeof buf); e != hal::Err::Ok) return e == hal::Err::Overflow ? hal::Err::Io : e;
  return parse_decimal(buf);
}

hal::Result<int64_t> read_integer(hal::SysfsTree& tree, const char* path) {
  char buf[48];
  if (hal::Err e = read_line(tree, path, buf, sizeof buf); e != hal::Err::Ok) return e == hal::Err::Overflow ? hal::Err::Io : e;
  return parse_integer(buf);
}

namespace {

struct FindContext {
  hal::SysfsTree* tree;
  const char* dir;
  const char* prefix;
  const char* key_attr;
  const char* key;
  uint32_t index;
  bool found = false;
  uint32_t best = 0;
  char name[hal::SysfsTree::kMaxNameLen + 1] = {};
  hal::Err err = hal::Err::Ok;
};

/// N from "<prefix>N", or false.
bool entry_number(const char* name, const char* prefix, uint32_t* n) {
  const size_t plen = std::strlen(prefix);
  if (std::strncmp(name, prefix, plen) != 0 || !is_digit(name[plen])) return false;
  uint64_t v = 0;
  for (const char* p = name + plen; *p != '\0'; ++p) {
    if (!is_digit(*p)) return false;
    v = v * 10 + static_cast<uint64_t>(*p - '0');
    if (v > 0xffffffffu) return false;
  }
  *n = static_cast<uint32_t>(v);
  return true;
}

bool visit_entry(void* context, const char* name) {
  FindContext& c = *static_cast<FindContext*>(context);
  uint32_t n = 0;
  if (!entry_number(name, c.prefix, &n)) return true;
  if (c.found && n >= c.best) return true;
  if (c.key == nullptr) {
    if (n != c.index) return true;
  } else {
    char path[hal::SysfsTree::kMaxPathLen + 1];
    char value[64];
    const int len = std::snprintf(path, sizeof path, "%s/%s/%s", c.dir, name, c.key_attr);
    if (len < 0 || static_cast<size_t>(len) >= sizeof path) return true;
    const hal::Err e = read_line(*c.tree, path, value, sizeof value);
    if (e != hal::Err::Ok || std::strcmp(value, c.key) != 0) return true;  // unreadable: not it
  }
  c.found = true;
  c.best = n;
  std::snprintf(c.name, sizeof c.name, "%s", name);
  return true;
}

}  // namespace

hal::Err find_numbered_entry(hal::SysfsTree& tree, const char* dir, const char* prefix, const char* key_attr,
                             const char* key, uint32_t index, char* out, size_t cap) {
  FindContext c{&tree, dir, prefix, key_attr, key, index};
  const hal::Err e = tree.list(dir, &visit_entry, &c);
  if (e != hal::Err::Ok) return e;
  if (!c.found) return hal::Err::NotFound;
  if (std::strlen(c.name) >= cap) return hal::Err::Overflow;
  std::memcpy(out, c.name, std::strlen(c.name) + 1);
  return hal::Err::Ok;
}

namespace {

bool name_char(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-'; }

/// Token `i` of `list`: its start and length. False when out of range.
bool token(const char* list, size_t i, const char** start, size_t* len) {
  const char* p = list;
  if (*p == '\0') return false;
  for (size_t k = 0;; ++k) {
    const char* comma = std::strchr(p, ',');
    const size_t n = comma != nullptr ? static_cast<size_t>(comma - p) : std::strlen(p);
    if (k == i) {
      *start = p;
      *len = n;
      return true;
    }
    if (comma == nullptr) return false;
    p = comma + 1;
  }
}

}  // namespace

size_t channel_list_count(const char* list) {
  size_t n = 0;
  const char* s = nullptr;
  size_t len = 0;
  while (list != nullptr && token(list, n, &s, &len)) ++n;
  return n;
}

int channel_list_index(const char* list, const char* quantity) {
  const char* s = nullptr;
  size_t len = 0;
  const size_t qlen = std::strlen(quantity);
  for (size_t i = 0; list != nullptr && token(list, i, &s, &len); ++i) {
    if (len == qlen && std::memcmp(s, quantity, len) == 0) return static_cast<int>(i);
  }
  return -1;
}

void channel_list_name(const char* list, size_t i, char* out, size_t cap) {
  const char* s = nullptr;
  size_t len = 0;
  if (cap == 0) return;
  out[0] = '\0';
  if (list != nullptr && token(list, i, &s, &len)) std::snprintf(out, cap, "%.*s", static_cast<int>(len), s);
}

bool param_device_selector(const DeviceConfig& config, const char* key, const char* what_name,
                           const char* what_number, size_t max_len, const char** name, uint32_t* index,
                           DriverError* error) {
  *name = nullptr;
  *index = 0;
  const Param* p = config.find_param(key);
  if (p == nullptr) {
    error->set("params.%s: missing; expected the %s or N of %s", key, what_name, what_number);
    return false;
  }
  if (p->is_text) {
    const char* t = p->text != nullptr ? p->text : "";
    if (t[0] == '\0' || std::strlen(t) > max_len || std::strchr(t, '/') != nullptr) {
      error->set("params.%s: expected the %s (1..%zu characters, no '/') or N of %s, got \"%s\"", key, what_name,
                 max_len, what_number, t);
      return false;
    }
    *name = t;
    return true;
  }
  if (p->number < 0 || p->number > 65535) {
    error->set("params.%s: expected the %s or N of %s (0..65535), got %lld", key, what_name, what_number,
               static_cast<long long>(p->number));
    return false;
  }
  *index = static_cast<uint32_t>(p->number);
  return true;
}

bool param_channel_list(const DeviceConfig& config, size_t max_count, size_t max_name_len, char* out, size_t cap,
                        DriverError* error) {
  out[0] = '\0';
  const Param* p = config.find_param("channels");
  if (p == nullptr) return true;
  const char* t = p->is_text && p->text != nullptr ? p->text : "";
  bool ok = p->is_text && t[0] != '\0' && std::strlen(t) < cap;
  const size_t count = ok ? channel_list_count(t) : 0;
  ok = ok && count <= max_count;
  for (size_t i = 0; ok && i < count; ++i) {
    const char* s = nullptr;
    size_t len = 0;
    (void)token(t, i, &s, &len);
    ok = len > 0 && len <= max_name_len;
    for (size_t k = 0; ok && k < len; ++k) ok = name_char(s[k]);
    for (size_t j = 0; ok && j < i; ++j) {  // distinct
      const char* o = nullptr;
      size_t olen = 0;
      (void)token(t, j, &o, &olen);
      ok = !(olen == len && std::memcmp(o, s, len) == 0);
    }
  }
  if (!ok) {
    if (error != nullptr) {
      error->set("params.channels: expected distinct channel names separated by commas (at most %zu), got %s%s%s",
                 max_count, p->is_text ? "\"" : "", p->is_text ? t : "a number", p->is_text ? "\"" : "");
    }
    return false;
  }
  std::snprintf(out, cap, "%s", t);
  return true;
}

}  // namespace drv

#include "agent/xml_text.hpp"

#include <cstring>

#include "agent/senml.hpp"
#include "text_writer.hpp"

namespace agent {
namespace detail {

size_t utf8_sequence_len(const unsigned char* s, size_t avail) {
  const unsigned char c = s[0];
  if (c < 0x80) return 1;
  size_t n = 0;
  unsigned char lo = 0x80;
  unsigned char hi = 0xBF;
  // RFC 3629 §4 table: restrict the second byte to rule out overlong forms,
  // surrogates (U+D800..U+DFFF) and code points above U+10FFFF.
  if (c >= 0xC2 && c <= 0xDF) {
    n = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 3;
    if (c == 0xE0) lo = 0xA0;
    if (c == 0xED) hi = 0x9F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4;
    if (c == 0xF0) lo = 0x90;
    if (c == 0xF4) hi = 0x8F;
  } else {
    return 0;
  }
  if (n > avail) return 0;
  if (s[1] < lo || s[1] > hi) return 0;
  for (size_t i = 2; i < n; ++i) {
    if (s[i] < 0x80 || s[i] > 0xBF) return 0;
  }
  return n;
}

namespace {

/// Calls emit(ptr, len) for each output piece of the escaped text.
template <typename Emit>
void escape_pieces(const char* text, size_t max_in, Emit&& emit) {
  if (text == nullptr) return;
  size_t avail = 0;
  while (avail < max_in && text[avail] != '\0') ++avail;
  const auto* s = reinterpret_cast<const unsigned char*>(text);
  size_t i = 0;
  while (i < avail) {
    const unsigned char c = s[i];
    const char* rep = nullptr;
    switch (c) {
      case '&': rep = "&amp;"; break;
      case '<': rep = "&lt;"; break;
      case '>': rep = "&gt;"; break;
      case '\'': rep = "&apos;"; break;
      case '"': rep = "&quot;"; break;
      case '\t': rep = "&#9;"; break;
      case '\n': rep = "&#10;"; break;
      case '\r': rep = "&#13;"; break;
      default: break;
    }
    if (rep != nullptr) {
      emit(rep, std::strlen(rep));
      ++i;
      continue;
    }
    if (c < 0x20) {  // XML 1.0 §2.2: other C0 controls are not allowed at all
      emit("?", 1);
      ++i;
      continue;
    }
    // Copy the longest run of plain bytes in one go.
    size_t j = i;
    while (j < avail) {
      const unsigned char d = s[j];
      if (d < 0x20 || d == '&' || d == '<' || d == '>' || d == '\'' || d == '"') break;
      const size_t n = utf8_sequence_len(s + j, avail - j);
      if (n == 0) break;
      j += n;
    }
    if (j > i) {
      emit(text + i, j - i);
      i = j;
    } else {  // an invalid UTF-8 byte
      emit("?", 1);
      ++i;
    }
  }
}

}  // namespace

void TextWriter::put_escaped(const char* s, size_t max_in) {
  escape_pieces(s, max_in, [this](const char* p, size_t n) { put(p, n); });
}

void TextWriter::put_decimal(int64_t mantissa, int8_t exponent) {
  if (overflow_) return;
  char tmp[48];
  const hal::Result<size_t> r = format_decimal(tmp, sizeof tmp, mantissa, exponent);
  if (!r.ok()) {
    overflow_ = true;
    return;
  }
  put(tmp, r.value());
}

void TextWriter::put_uint(uint64_t v, unsigned min_digits) {
  char tmp[24];
  size_t n = 0;
  do {
    tmp[n++] = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v != 0 && n < sizeof tmp);
  while (n < min_digits && n < sizeof tmp) tmp[n++] = '0';
  char out[24];
  for (size_t i = 0; i < n; ++i) out[i] = tmp[n - 1 - i];
  put(out, n);
}

}  // namespace detail

size_t xml_escaped_len(const char* text, size_t max_in) {
  size_t total = 0;
  detail::escape_pieces(text, max_in, [&total](const char*, size_t n) { total += n; });
  return total;
}

void detail::LengthCounter::put_escaped(const char* s) { n_ += xml_escaped_len(s, SIZE_MAX); }

hal::Result<size_t> xml_escape(char* buf, size_t cap, const char* text, size_t max_in) {
  detail::TextWriter w(buf, cap);
  w.put_escaped(text, max_in);
  return w.finish();
}

void xml_escape_append(std::string& out, const char* text, size_t max_in) {
  detail::escape_pieces(text, max_in, [&out](const char* p, size_t n) { out.append(p, n); });
}

}  // namespace agent

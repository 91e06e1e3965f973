// Internal: a bounded append-only writer over a caller buffer. Every put is
// checked; the first write that does not fit latches the overflow flag and
// finish() reports Overflow. Never allocates.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "hal/status.hpp"

namespace agent {
namespace detail {

class TextWriter {
 public:
  TextWriter(char* buf, size_t cap) : buf_(buf), cap_(cap) {
    if (buf_ != nullptr && cap_ > 0) buf_[0] = '\0';
  }

  void put(const char* s) { put(s, std::strlen(s)); }
  void put(const char* s, size_t n) {
    if (overflow_ || n == 0) return;
    // Keep one byte for the terminating NUL.
    if (buf_ == nullptr || cap_ == 0 || n > cap_ - 1 - len_) {
      overflow_ = true;
      return;
    }
    std::memcpy(buf_ + len_, s, n);
    len_ += n;
  }
  void put_char(char c) { put(&c, 1); }
  /// XML-escaped text (see agent/xml_text.hpp).
  void put_escaped(const char* s, size_t max_in = SIZE_MAX);
  /// Exact decimal of mantissa * 10^exponent (see format_decimal()).
  void put_decimal(int64_t mantissa, int8_t exponent);
  /// Unsigned integer, left-padded with zeros to at least `min_digits`.
  void put_uint(uint64_t v, unsigned min_digits = 1);

  size_t length() const { return len_; }
  bool overflowed() const { return overflow_; }
  /// NUL-terminates and returns the length. Errors: Overflow.
  /// On Overflow the buffer still holds a NUL-terminated prefix.
  hal::Result<size_t> finish() {
    if (buf_ == nullptr || cap_ == 0) return hal::Err::Overflow;
    buf_[len_] = '\0';
    if (overflow_) return hal::Err::Overflow;
    return len_;
  }

 private:
  char* buf_;
  size_t cap_;
  size_t len_ = 0;
  bool overflow_ = false;
};

/// Counts what a TextWriter would write for the same puts, so a template
/// writer function can report the exact length (form_xml_len(), command_xml_len()).
class LengthCounter {
 public:
  void put(const char* s) { n_ += std::strlen(s); }
  void put(const char*, size_t n) { n_ += n; }
  void put_escaped(const char* s);  // xml_escaped_len(s); defined in xml_text.cpp
  size_t length() const { return n_; }

 private:
  size_t n_ = 0;
};

/// Length of the UTF-8 sequence starting at `s` (1..4), or 0 if it is not a
/// valid, shortest-form, non-surrogate sequence within `avail` bytes.
size_t utf8_sequence_len(const unsigned char* s, size_t avail);

}  // namespace detail
}  // namespace agent
